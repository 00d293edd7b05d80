defmodule VintageNetCellular.Monitor do
  @moduledoc """
  Keeps an interface's modem facts live in VintageNet's property table.

  ## Keys this process owns

  Under `["interface", ifname, "mobile", key]`, written only here (through
  `VintageNetCellular.PropertyWriter`, so a value that did not change sends
  no event):

  * identity: `manufacturer`, `model`, `revision`, `imei`;
  * registration: `registration`, `roaming`;
  * network: `mcc`, `mnc`, `provider`, `network`, `access_technology`, `radio`;
  * cell: `lac`, `tac`, `cid`, `band`, `channel`;
  * signal: `signal_asu`, `signal_dbm`, `signal_4bars`, `signal_rsrp`,
    `signal_rsrq`, `signal_sinr`;
  * network time: `network_datetime`, `utc_offset`, `std_offset`;
  * `sim_rej_info`.

  The connection manager (`VintageNetCellular.Connection`) owns `state`,
  `reason`, `sim`, `iccid`, `imsi` and `apn`. `VintageNetCellular.Monitor.Facts`
  says what each key holds, when it is absent and when it is nil;
  `VintageNetCellular.Monitor.SignalRules` how the signal keys are chosen.

  ## How it keeps them live

  Event-driven first. On start (and after a modem reset, seen as a
  `+CPIN: READY` URC) it turns on registration URCs with location
  (`AT+CREG=2`, `AT+CGREG=2`, `AT+CEREG=2`) and the profile's signal URCs
  (`c:VintageNetCellular.ModemProfile.signal_urc_commands/0`: Quectel
  `AT+QINDCFG="csq",1,0`, SIMCom `AT+AUTOCSQ=1,1`) and network time URCs
  (`c:VintageNetCellular.ModemProfile.network_time_urc_commands/0`, 27.007
  `AT+CTZR=2` by default), then reads registration, `+CSQ` and the profile's
  signal commands, and the profile's network time
  (`c:VintageNetCellular.ModemProfile.network_time_commands/0`: Quectel
  `AT+QLTS`) once, all in one compound line (one by one when the modem
  refuses the line, which finds the command it doesn't have). The identity
  goes out as a second compound line. From then on it subscribes to `+CREG`, `+CGREG`,
  `+CEREG`, `+C5GREG`, `+CSQ`, `+CPIN`, `+CTZV` and `+CTZE` URCs on the AT
  port, plus the profile's own (`c:VintageNetCellular.ModemProfile.urc_prefixes/0`:
  Quectel `+QIND`, SIMCom `+SIMCARD` ...), and each URC updates the
  properties at once.
  A registration change (a new state, cell or area) makes it read the
  cell and signal details shortly after, and the operator too when the
  registration state or the radio changed. Cell changes in the same network
  are read at most once per `refresh_min_interval_ms` (10 s), so a storm of
  handovers doesn't become a storm of commands. Properties a URC changed are
  written at once, unless the last write was less than 20 ms ago: then
  20 ms after it, with every URC of the meantime (a storm of 1,000 a second
  costs the property table and its subscribers at most 50 writes a second,
  ending on the last value).

  ## The registration and the identity are its facts

  It is the one owner of the registration: the connection manager, which
  decides when to dial on it, starts the monitor with `notify: pid` and gets
  `{VintageNetCellular.Monitor, monitor_pid, {:registration, reg}}` at each
  change (`reg` as `VintageNetCellular.Connection.Registration.evaluate/2`
  takes it), and asks for a new read with `refresh_registration/1`. Others
  get the identity with `identity/3` instead of asking the modem again.
  Started with `hold: true`, it sends nothing until `modem_initialized/1`
  (the manager's set-up line, `ATE0;+CMEE=2;...`, is done) or `hold_ms`
  (10 s) has passed.

  The registration URCs stay at `n=2` (what the connection manager and
  every modem support), which carries no reject cause. When a domain is
  denied without one, the monitor switches that domain to `n=3` for one read
  (`AT+CEREG=3`, `AT+CEREG?`, `AT+CEREG=2`) to learn the cause behind
  `sim_rej_info`; a modem that refuses `n=3` is not asked again.

  What can't be pushed is polled, on the timetable of
  `VintageNetCellular.Monitor.Schedule` (`signal_poll_ms`, `cell_poll_ms`, ...).
  Polling goes on while PPP is up: the AT port is not the PPP tty. A poll
  command the modem answers with "operation not supported", or with ERROR
  three times in a row, is not sent again to this modem. A timeout keeps the
  last values (no flapping) but is not a sign of life. Identity is read once per modem appearance (one monitor per
  AT port) and retried with backoff until every value is read.

  When the modem is healthy (registered, with signal) each fresh signal
  reading (a poll the modem answered, or a signal URC) pets
  `VintageNet.PowerManager.PMControl.pet_watchdog(ifname)`, so a power manager
  can reset a modem that stops working.

  When the AT port reports the tty closed, every key is deleted and polling
  pauses; when it reopens, everything (identity included) is read again.

  When its AT port process goes away (the modem vanished or re-enumerated)
  the monitor deletes its keys and stops normally; the connection manager
  starts a new one with the new AT port, which reads everything again.

  ## Starting it

  One per interface, started by the connection manager once the AT port is
  up (a `:temporary` child, e.g. under the interface's worker supervisor):

      VintageNetCellular.Monitor.start_link(
        ifname: "ppp0",
        at_port: VintageNetCellular.Interface.at_port("ppp0"),
        profile: VintageNetCellular.Modem.EC25,
        config: [signal_poll_ms: 30_000, cell_poll_ms: 60_000],
        command_timeout: 5_000
      )

  Options: `:ifname` and `:at_port` (a pid or name) are required; `:profile`
  (a `VintageNetCellular.ModemProfile` module, nil for plain 3GPP); `:config`
  (the keys of `VintageNetCellular.Monitor.Schedule.config!/1`);
  `:command_timeout` (ms, 5_000); `:notify` (a pid that gets the
  registration changes); `:hold` (false) and `:hold_ms` (10_000); `:name`.
  """
  use GenServer

  alias VintageNetCellular.AT
  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Connection.Compound
  alias VintageNetCellular.Connection.Registration
  alias VintageNetCellular.Monitor.Facts
  alias VintageNetCellular.ModemProfile
  alias VintageNetCellular.Monitor.Identity
  alias VintageNetCellular.Monitor.Schedule
  alias VintageNetCellular.PropertyWriter

  require Logger

  # PMControl comes with vintage_net, a peer dependency.
  @compile {:no_warn_undefined, VintageNet.PowerManager.PMControl}
  @pm_control VintageNet.PowerManager.PMControl

  # 27.007's; a profile adds its own (`c:VintageNetCellular.ModemProfile.urc_prefixes/0`).
  @urc_prefixes ["+CREG", "+CGREG", "+CEREG", "+C5GREG", "+CSQ", "+CPIN", "+CTZV", "+CTZE"]

  @doc """
  The URC prefixes the monitor listens to on every modem (27.007's); it adds
  the profile's own.

      iex> "+CEREG" in VintageNetCellular.Monitor.urc_prefixes()
      true
  """
  @spec urc_prefixes() :: [String.t()]
  def urc_prefixes(), do: @urc_prefixes
  @reg_kinds [:creg, :cgreg, :cereg, :c5greg]
  # URC kinds of which only the latest of a burst matters, and how many
  # waiting URCs are taken at once.
  @collapsed_kinds @reg_kinds ++ [:csq]
  @urc_batch 200
  # The least time between two publishes caused by URCs (publish_soon/1).
  @publish_min_ms 20
  @operator_commands ["AT+COPS=3,2", "AT+COPS?", "AT+COPS=3,0", "AT+COPS?"]
  @default_signal_commands ["AT+CESQ"]
  @default_time_urc_commands ["AT+CTZR=2"]

  @typedoc "What `stats/1` returns."
  @type stats :: %{
          commands: non_neg_integer(),
          urcs: non_neg_integer(),
          by_command: %{String.t() => non_neg_integer()},
          unsupported: [String.t()]
        }

  @doc false
  @spec child_spec(keyword()) :: Supervisor.child_spec()
  def child_spec(opts) do
    %{
      id: {__MODULE__, Keyword.fetch!(opts, :ifname)},
      start: {__MODULE__, :start_link, [opts]},
      restart: :temporary
    }
  end

  @doc "Starts the monitor (see the moduledoc for the options)."
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts) do
    {name, opts} = Keyword.pop(opts, :name)
    GenServer.start_link(__MODULE__, opts, if(name, do: [name: name], else: []))
  end

  @doc """
  What the monitor has sent and received since it started: AT commands in
  total and per command, URCs handled, and commands given up as unsupported.
  """
  @spec stats(GenServer.server()) :: stats()
  def stats(server), do: GenServer.call(server, :stats)

  @doc """
  The connection manager's set-up line (echo off, verbose errors, the
  profile's init commands) is done: a monitor started with `hold: true`
  sends its first commands now, not before (they would race the set-up).
  """
  @spec modem_initialized(GenServer.server()) :: :ok
  def modem_initialized(server), do: GenServer.cast(server, :modem_initialized)

  @doc """
  Reads the registration again (and turns its URCs on again): for a
  connection manager that has heard nothing for a while.
  """
  @spec refresh_registration(GenServer.server()) :: :ok
  def refresh_registration(server), do: GenServer.cast(server, :refresh_registration)

  @doc """
  One identity value (`:imei`, `:manufacturer`, `:model`, `:revision`) of
  the modem: at once when it was read already, otherwise once the monitor's
  identity read has answered (`{:error, :unknown}` when it failed). The
  monitor owns the identity; this is how others get it without asking the
  modem again. Exits when the monitor doesn't answer within `timeout` (ms).
  """
  @spec identity(GenServer.server(), :imei | :manufacturer | :model | :revision, timeout()) ::
          {:ok, String.t()} | {:error, :unknown}
  def identity(server, key, timeout) when key in [:imei, :manufacturer, :model, :revision],
    do: GenServer.call(server, {:identity, Atom.to_string(key)}, timeout)

  @doc "Stops the monitor; its keys are deleted."
  @spec stop(GenServer.server()) :: :ok
  def stop(server), do: GenServer.stop(server)

  @impl GenServer
  def init(opts) do
    ifname = Keyword.fetch!(opts, :ifname)
    at_port = Keyword.fetch!(opts, :at_port)
    schedule = Schedule.new(Keyword.get(opts, :config, []), now())

    case GenServer.whereis(at_port) do
      pid when is_pid(pid) ->
        # No trap_exit: killed (or its task crashing), it ends without a
        # crash report and the connection manager starts it again.
        port_ref = Process.monitor(pid)

        state = %{
          ifname: ifname,
          at_port: at_port,
          port_ref: port_ref,
          profile: Keyword.get(opts, :profile),
          command_timeout: Keyword.get(opts, :command_timeout, 5_000),
          facts: Facts.new(),
          schedule: schedule,
          worker: nil,
          timer: nil,
          timer_at: nil,
          # The profile's translate_urc/1 (its URCs in their 27.007 form) and
          # report_facts/1, looked up once.
          translate: ModemProfile.callback(Keyword.get(opts, :profile), :translate_urc, 1, &Function.identity/1),
          report_facts: ModemProfile.callback(Keyword.get(opts, :profile), :report_facts, 1, fn _parsed -> nil end),
          signal_pushed?: false,
          cell_refresh?: false,
          # Asked in handle_continue/2, with the subscriptions.
          port_open?: false,
          unsupported: MapSet.new(),
          errors: %{},
          stats: %{commands: 0, urcs: 0, by_command: %{}},
          # The properties as last written (publish/1), when, and the timer of
          # a publish put off (publish_soon/1).
          published: nil,
          published_at: nil,
          publish_timer: nil,
          # Where registration changes go (the connection manager), and what
          # it was sent last.
          notify: Keyword.get(opts, :notify),
          reg_sent: nil,
          # Callers of identity/3 waiting for the identity read.
          identity_waiters: [],
          # hold: true waits for modem_initialized/1 (or hold_ms) before the
          # first command.
          held?: Keyword.get(opts, :hold, false)
        }

        _ = if state.held?, do: Process.send_after(self(), :release, Keyword.get(opts, :hold_ms, 10_000))
        # The port is called after init returns: it may be busy spawning its
        # program, and whoever starts this process must not wait for that.
        {:ok, state, {:continue, {:attach, @urc_prefixes ++ profile_urcs(state.profile)}}}

      _ ->
        {:stop, {:no_at_port, at_port}}
    end
  end

  @impl GenServer
  def handle_continue({:attach, prefixes}, state) do
    if subscribe_all(state.at_port, prefixes) == :ok,
      do: {:noreply, run_due(%{state | port_open?: port_open?(state.at_port)})},
      # The port died meanwhile: its :DOWN (monitored in init/1) follows.
      else: {:noreply, state}
  end

  @impl GenServer
  def handle_call(:stats, _from, state) do
    stats = Map.put(state.stats, :unsupported, Enum.sort(state.unsupported))
    {:reply, stats, state}
  end

  def handle_call({:identity, key}, from, state) do
    case Map.fetch(state.facts.identity, key) do
      {:ok, value} -> {:reply, {:ok, value}, state}
      :error -> {:noreply, %{state | identity_waiters: [{from, key} | state.identity_waiters]}}
    end
  end

  @impl GenServer
  def handle_cast(:modem_initialized, state), do: {:noreply, run_due(%{state | held?: false})}

  def handle_cast(:refresh_registration, state),
    do: {:noreply, state |> reschedule(&Schedule.trigger(&1, :recheck, now())) |> run_due()}

  @impl GenServer
  # URCs arrive parsed by the port program (see VintageNetCellular.ATPort).
  # The URCs already waiting in the mailbox are taken with this one (up to
  # @urc_batch): of a burst of registration or signal URCs of one kind only
  # the last says what holds now, so each kind's last is handled; every other
  # URC is handled, in order.
  def handle_info({ATPort, _server, {:urc, _line, parsed}}, state) do
    urcs = take_waiting_urcs([parsed], @urc_batch)
    state = update_in(state.stats.urcs, &(&1 + length(urcs)))

    state =
      urcs
      |> Enum.flat_map(fn
        {:ok, parsed} -> [state.translate.(parsed)]
        {:error, _reason} -> []
      end)
      |> latest_of_each_kind()
      |> Enum.reduce(state, &handle_urc/2)

    {:noreply, run_due(state)}
  end

  def handle_info({ATPort, _server, :closed}, state) do
    # The modem vanished (or the port program restarts): nothing known about
    # it holds any more. Polling pauses until the port opens again.
    state = %{cancel_timer(state) | port_open?: false, facts: Facts.new(), signal_pushed?: false}
    {:noreply, publish(state)}
  end

  def handle_info({ATPort, _server, :opened}, %{port_open?: true} = state), do: {:noreply, state}

  def handle_info({ATPort, _server, :opened}, state) do
    # Back (a USB reset, a re-enumeration under the same name): read
    # everything again, identity included.
    state = reschedule(%{state | port_open?: true}, &Schedule.trigger(&1, :modem_reset, now(), identity_missing?: true))
    {:noreply, run_due(state)}
  end

  def handle_info(:tick, state), do: {:noreply, run_due(%{state | timer: nil})}
  def handle_info(:publish, state), do: {:noreply, publish(%{state | publish_timer: nil})}
  def handle_info(:release, state), do: {:noreply, run_due(%{state | held?: false})}

  def handle_info({ref, {task, results}}, %{worker: {ref, task}} = state) do
    Process.demonitor(ref, [:flush])
    state = %{state | worker: nil}

    if state.port_open? do
      {:noreply, state |> absorb(task, results) |> run_due()}
    else
      # The port closed while the task ran: its answers describe a modem that
      # is gone. Run the task again once the port is back.
      {:noreply, reschedule(state, &Schedule.done(&1, task, :error, now()))}
    end
  end

  def handle_info({:DOWN, ref, :process, _pid, reason}, %{worker: {ref, task}} = state) do
    Logger.warning("VintageNetCellular.Monitor(#{state.ifname}): #{task} failed: #{inspect(reason)}")
    state = %{state | worker: nil, schedule: Schedule.done(state.schedule, task, :error, now())}
    {:noreply, run_due(state)}
  end

  def handle_info({:DOWN, ref, :process, _pid, _reason}, %{port_ref: ref} = state) do
    # The AT port is gone: the modem vanished or re-enumerated.
    {:stop, :normal, state}
  end

  def handle_info({:EXIT, _pid, _reason}, state), do: {:noreply, state}
  def handle_info(_other, state), do: {:noreply, state}

  @impl GenServer
  def terminate(_reason, state) do
    Enum.each(Facts.owned_keys(), &PropertyWriter.delete(state.ifname, &1))
  end

  ## URCs

  # Oldest first.
  defp take_waiting_urcs(acc, 0), do: Enum.reverse(acc)

  defp take_waiting_urcs(acc, left) do
    receive do
      {ATPort, _server, {:urc, _line, parsed}} -> take_waiting_urcs([parsed | acc], left - 1)
    after
      0 -> Enum.reverse(acc)
    end
  end

  defp latest_of_each_kind([_] = one), do: one

  defp latest_of_each_kind(urcs) do
    last = urcs |> Enum.with_index() |> Map.new(fn {{kind, _}, i} -> {kind, i} end)

    for {{kind, _} = urc, i} <- Enum.with_index(urcs),
        kind not in @collapsed_kinds or last[kind] == i,
        do: urc
  end

  defp handle_urc({kind, _} = parsed, state) when kind in @reg_kinds do
    before = state.facts.reg[kind]
    # The manager hears of a registration change at once, even when the
    # properties wait (publish_soon/1): it may be waiting to dial.
    state = state |> observe([parsed]) |> notify_registration() |> publish_soon()

    state =
      if changed_location?(before, state.facts.reg[kind]) and Facts.registered?(state.facts),
        do: registration_changed(state, same_network?(before, state.facts.reg[kind])),
        else: state

    if newly_denied?(before, state.facts.reg[kind]), do: maybe_read_reject_cause(state), else: state
  end

  defp handle_urc({:cpin, %{state: :ready}} = parsed, state) do
    # A modem reset or a SIM inserted: URC settings may be lost, and
    # registration starts over. Turn the URCs on and read everything again.
    identity_missing? = Facts.missing_identity(state.facts) != []
    state = state |> observe([parsed]) |> publish_soon()
    reschedule(state, &Schedule.trigger(&1, :modem_reset, now(), identity_missing?: identity_missing?))
  end

  defp handle_urc({kind, _} = parsed, state) when kind in [:csq, :unknown, :cpin] do
    state |> observe([parsed]) |> publish_soon() |> pet()
  end

  # Network time: not a signal reading, so no watchdog pet.
  defp handle_urc({kind, _} = parsed, state) when kind in [:ctzv, :ctze] do
    state |> observe([parsed]) |> publish_soon()
  end

  # One of the profile's own reports pushed as a URC (SIMCom +CPSI with
  # AT+CPSI=<n>): its neutral facts.
  defp handle_urc(parsed, state) do
    case state.report_facts.(parsed) do
      nil -> state
      _facts -> state |> observe([parsed]) |> publish_soon() |> pet()
    end
  end

  defp newly_denied?(before, %{stat: :denied}), do: not match?(%{stat: :denied}, before)
  defp newly_denied?(_before, _new), do: false

  # A denial without its cause (the n=2 URC has none): read it with n=3.
  defp maybe_read_reject_cause(state) do
    if Facts.denied_without_cause(state.facts) != [],
      do: reschedule(state, &Schedule.trigger(&1, :denied, now())),
      else: state
  end

  # A new cell or area in the same registration state and radio: the
  # operator stays (the cell read notices a new PLMN).
  defp same_network?(nil, _new), do: false
  defp same_network?(old, new), do: Map.take(old, [:stat, :act]) == Map.take(new, [:stat, :act])

  defp changed_location?(nil, _new), do: true

  defp changed_location?(old, new) do
    Map.take(old, [:stat, :lac, :ci, :act]) != Map.take(new, [:stat, :lac, :ci, :act])
  end

  ## Tasks

  defp run_due(%{port_open?: false} = state), do: state
  defp run_due(%{held?: true} = state), do: state

  defp run_due(%{worker: nil} = state) do
    {due, schedule} = Schedule.take_due(state.schedule, now())
    state = %{state | schedule: schedule}

    case due do
      [] ->
        arm_timer(state)

      [task | rest] ->
        # Run one at a time; the others go back to being due now.
        schedule = Enum.reduce(rest, state.schedule, &put_due(&2, &1, now()))
        start_worker(%{state | schedule: schedule}, task)
    end
  end

  defp run_due(state), do: state

  defp put_due(schedule, task, at), do: %{schedule | due: Map.put(schedule.due, task, at)}

  defp start_worker(state, task) do
    case plan(task, state) do
      [] ->
        schedule = Schedule.done(state.schedule, task, :ok, now())
        state |> Map.put(:schedule, schedule) |> run_due()

      plan ->
        state = cancel_timer(state)
        state = if task == :cell, do: %{state | cell_refresh?: false}, else: state
        at_port = state.at_port
        timeout = state.command_timeout
        %Task{ref: ref} = Task.async(fn -> {task, run_task(task, at_port, plan, timeout)} end)
        count(%{state | worker: {ref, task}}, plan)
    end
  end

  # The set-up and the identity go out as one compound line each
  # (`AT+CREG=2;+CGREG=2;...`): one round trip instead of ten. When the
  # modem refuses the line (a command it doesn't have), the commands go one
  # by one, which finds out which (it is then left out of the next line).
  defp run_task(task, at_port, [_, _ | _] = plan, timeout) when task in [:setup, :identity, :operator] do
    line = Compound.line(Enum.map(plan, &elem(&1, 1)))

    case send_command(at_port, line, timeout) do
      {:ok, lines} ->
        compound_results(task, plan, line, lines) || run_plan(at_port, plan, timeout)

      {:error, reason} when reason in [:timeout, :closed] or (is_tuple(reason) and elem(reason, 0) == :exit) ->
        Enum.map(plan, fn {tag, command} -> {tag, command, {:error, reason}} end)

      {:error, _refused} ->
        run_plan(at_port, plan, timeout)
    end
  end

  defp run_task(_task, at_port, plan, timeout), do: run_plan(at_port, plan, timeout)

  # The reads' lines carry their own prefixes (+CREG:, +CSQ: ...): observed
  # together. The settings answered OK.
  defp compound_results(:setup, plan, line, lines) do
    for({tag, command} <- plan, tag != :observe, do: {tag, command, {:ok, []}}) ++ [{:observe, line, {:ok, lines}}]
  end

  # Identity answers carry no prefix on most modems: taken in order when
  # each command gave exactly one line, otherwise read again one by one.
  defp compound_results(:identity, plan, _line, lines) when length(lines) == length(plan) do
    Enum.zip_with(plan, lines, fn {tag, command}, line -> {tag, command, {:ok, [line]}} end)
  end

  defp compound_results(:identity, _plan, _line, _lines), do: nil

  # +COPS numeric, then long name: their lines in order, as the reads'.
  defp compound_results(:operator, plan, _line, lines) do
    for({tag, command} <- plan, command != "AT+COPS?", do: {tag, command, {:ok, []}}) ++
      [{:observe, "AT+COPS?", {:ok, lines}}]
  end

  defp run_plan(at_port, plan, timeout) do
    Enum.map(plan, fn {tag, command} -> {tag, command, send_command(at_port, command, timeout)} end)
  end

  defp send_command(at_port, command, timeout) do
    ATPort.command(at_port, command, timeout)
  catch
    :exit, reason -> {:error, {:exit, reason}}
  end

  defp count(state, plan) do
    Enum.reduce(plan, state, fn {_tag, command}, state ->
      stats = state.stats

      %{
        state
        | stats: %{
            stats
            | commands: stats.commands + 1,
              by_command: Map.update(stats.by_command, command, 1, &(&1 + 1))
          }
      }
    end)
  end

  # [{tag, command}] for a task. Tags: :urc_setup, :signal_urc, :observe,
  # :cops_check, {:identity, key}.
  defp plan(:setup, state) do
    reg_urcs = Registration.urc_commands()
    signal_urcs = profile_commands(state.profile, :signal_urc_commands, [])
    time_urcs = profile_commands(state.profile, :network_time_urc_commands, @default_time_urc_commands)
    time_reads = profile_commands(state.profile, :network_time_commands, [])

    Enum.map(reg_urcs, &{:urc_setup, &1}) ++
      Enum.map(signal_urcs, &{:signal_urc, &1}) ++
      supported(time_urcs, state) ++
      Enum.map(Registration.read_commands(), fn {_domain, command} -> {:observe, command} end) ++
      [{:observe, "AT+CSQ"}] ++ supported(signal_commands(state) -- ["AT+CSQ"], state) ++ supported(time_reads, state)
  end

  defp plan(:identity, state) do
    for key <- Facts.missing_identity(state.facts), do: {{:identity, key}, Identity.command(key)}
  end

  defp plan(:signal, state) do
    vendor = signal_commands(state)
    # +CSQ is read when the modem doesn't push it, and always when there is
    # nothing else to read: each poll is also the health check behind the
    # watchdog, so it must ask the modem something.
    csq = if state.signal_pushed? and vendor != [], do: [], else: ["AT+CSQ"]

    case supported(csq ++ vendor, state) do
      [] -> [{:observe, "AT+CSQ"}]
      plan -> plan
    end
  end

  defp plan(:cell, state) do
    case {Facts.registered?(state.facts), profile_commands(state.profile, :cell_info_commands, [])} do
      {false, _} ->
        []

      {true, []} ->
        # No vendor cell report to notice a new PLMN by: one +COPS read
        # (format as left, long name by default) checks the operator.
        [{:cops_check, "AT+COPS?"}]

      {true, cell} ->
        # The periodic read skips what the signal poll reads every signal_poll_ms anyway.
        cell = if state.cell_refresh?, do: cell, else: cell -- signal_commands(state)
        supported(cell, state)
    end
  end

  # The reject cause is reported only with n=3, so each denied domain is
  # switched to n=3 for one read and back to the n=2 the rest of the code
  # expects. A modem that refuses n=3 (three ERRORs, or "not supported")
  # is not asked again.
  defp plan(:reject, state) do
    for domain <- Facts.denied_without_cause(state.facts),
        {set3, read, set2} = reject_commands(domain),
        not MapSet.member?(state.unsupported, set3),
        tagged <- [{:observe, set3}, {:observe, read}, {:urc_setup, set2}],
        do: tagged
  end

  defp plan(:operator, state) do
    if Facts.registered?(state.facts), do: Enum.map(@operator_commands, &{:observe, &1}), else: []
  end

  defp reject_commands(:creg), do: {"AT+CREG=3", "AT+CREG?", "AT+CREG=2"}
  defp reject_commands(:cgreg), do: {"AT+CGREG=3", "AT+CGREG?", "AT+CGREG=2"}
  defp reject_commands(:cereg), do: {"AT+CEREG=3", "AT+CEREG?", "AT+CEREG=2"}
  defp reject_commands(:c5greg), do: {"AT+C5GREG=3", "AT+C5GREG?", "AT+C5GREG=2"}

  defp signal_commands(state), do: profile_commands(state.profile, :signal_commands, @default_signal_commands)

  defp supported(commands, state) do
    for c <- Enum.uniq(commands), not MapSet.member?(state.unsupported, c), do: {:observe, c}
  end

  defp profile_commands(profile, callback, default), do: ModemProfile.call(profile, callback, [], default)

  ## Results

  defp absorb(state, task, results) do
    state = Enum.reduce(results, state, &absorb_one(&2, task, &1))
    result = task_result(task, results, state)
    state = reschedule(state, &Schedule.done(&1, task, result, now()))
    state = if task == :setup, do: after_setup(state, results), else: state
    state = if task == :identity, do: answer_identity_waiters(state), else: state
    state = if task == :cell and Facts.operator_stale?(state.facts), do: operator_stale(state), else: state
    state = publish(state)

    # Only fresh answers count as a sign of life.
    if task in [:signal, :setup] and Enum.any?(results, &match?({_tag, _c, {:ok, _}}, &1)),
      do: pet(state),
      else: state
  end

  defp absorb_one(state, _task, {{:identity, key}, _command, {:ok, lines}}) do
    case Identity.parse(key, lines) do
      {:ok, value} -> %{state | facts: Facts.put_identity(state.facts, key, value)}
      {:error, _why} -> state
    end
  end

  defp absorb_one(state, task, {:observe, command, {:ok, lines}}) do
    parsed = for line <- lines, {:ok, p} <- [AT.parse(line)], do: p
    state = %{observe(state, parsed) | errors: Map.delete(state.errors, command)}

    setup_reg? = task == :setup and Enum.any?(parsed, fn {kind, _} -> kind in @reg_kinds end)

    cond do
      # The set-up read the signal already: operator and cell only.
      setup_reg? and Facts.registered?(state.facts) -> registration_changed(state, false, signal?: false)
      setup_reg? -> maybe_read_reject_cause(state)
      true -> maybe_forget_silent(state, command, parsed)
    end
  end

  # A timeout (or a closed port) says nothing about the value: keep the last
  # one rather than flap. An error answer means the source has nothing now.
  defp absorb_one(state, _task, {:observe, _command, {:error, reason}}) when reason in [:timeout, :closed],
    do: state

  defp absorb_one(state, _task, {:observe, _command, {:error, {:exit, _}}}), do: state

  defp absorb_one(state, _task, {:observe, command, {:error, reason}}) do
    state = forget_source(state, command)
    errors = Map.update(state.errors, command, 1, &(&1 + 1))
    state = %{state | errors: errors}

    # "operation not supported" is final; a bare ERROR (what a modem says
    # before AT+CMEE=2, also for passing trouble) only after three in a row.
    if unsupported?(reason, errors[command]),
      do: %{state | unsupported: MapSet.put(state.unsupported, command)},
      else: state
  end

  defp absorb_one(state, _task, {:cops_check, _command, {:ok, lines}}) do
    differs? =
      Enum.any?(lines, fn line ->
        case AT.parse(line) do
          {:ok, {:cops, cops}} -> Facts.cops_differs?(state.facts, cops)
          _ -> false
        end
      end)

    if differs?, do: operator_stale(state), else: state
  end

  defp absorb_one(state, _task, _other), do: state

  # A read that answered OK without its line: the source has nothing now.
  defp maybe_forget_silent(state, command, []), do: forget_source(state, command)
  defp maybe_forget_silent(state, _command, _parsed), do: state

  defp forget_source(state, command) do
    facts = Enum.reduce(sources_of(command, state.profile), state.facts, &Facts.forget(&2, &1))
    %{state | facts: facts}
  end

  # 27.007's reads; the profile says what its own stand for.
  defp sources_of("AT+CSQ", _profile), do: [:csq]
  defp sources_of("AT+CESQ", _profile), do: [:cesq]
  defp sources_of("AT+COPS?", _profile), do: [:operator]
  defp sources_of(command, profile), do: ModemProfile.call(profile, :read_sources, [command], [])

  @errors_before_giving_up 3

  defp unsupported?(:error, count), do: count >= @errors_before_giving_up
  defp unsupported?({:cme_error, 4}, _count), do: true

  defp unsupported?({:cme_error, text}, _count) when is_binary(text),
    do: String.downcase(text) == "operation not supported"

  defp unsupported?(_reason, _count), do: false

  defp task_result(:identity, _results, state),
    do: if(Facts.missing_identity(state.facts) == [], do: :ok, else: :error)

  defp task_result(_task, results, _state) do
    if Enum.any?(results, fn {_tag, _c, r} -> failed?(r) end),
      do: :error,
      else: :ok
  end

  defp failed?({:error, reason}), do: reason in [:timeout, :closed] or match?({:exit, _}, reason)
  defp failed?(_result), do: false

  defp after_setup(state, results) do
    signal_urcs = for {:signal_urc, _c, r} <- results, do: r
    pushed? = signal_urcs != [] and Enum.all?(signal_urcs, &match?({:ok, _}, &1))
    %{state | signal_pushed?: pushed?}
  end

  defp operator_stale(state), do: reschedule(state, &Schedule.trigger(&1, :operator_stale, now()))

  # The next :cell run reads every cell command, also those the signal poll
  # reads anyway (SIMCom's AT+CPSI?), since the cell just changed.
  defp registration_changed(state, same_network?, opts \\ []) do
    reschedule(
      %{state | cell_refresh?: true},
      &Schedule.trigger(&1, :registration_changed, now(), [same_network?: same_network?] ++ opts)
    )
  end

  ## Facts and properties

  # The profile's own reports (Quectel +QCSQ, SIMCom +CPSI ...) go in as the
  # neutral facts it makes of them; 27.007 lines as they are.
  defp observe(state, parsed) do
    neutral = Enum.flat_map(parsed, fn p -> state.report_facts.(p) || [p] end)
    %{state | facts: Facts.observe_all(state.facts, neutral)}
  end

  # A URC's facts are published at once, unless the last publish was less
  # than @publish_min_ms ago: then once that time is up, with whatever came
  # meanwhile. A storm of URCs (1,000 cell changes a second) thus costs
  # the property table, and its subscribers, at most 1000/@publish_min_ms
  # writes a second; one URC on its own is not delayed.
  defp publish_soon(%{publish_timer: ref} = state) when ref != nil, do: state

  defp publish_soon(%{published_at: at} = state) when is_integer(at) do
    wait = at + @publish_min_ms - now()

    if wait > 0,
      do: %{state | publish_timer: Process.send_after(self(), :publish, wait)},
      else: publish(state)
  end

  defp publish_soon(state), do: publish(state)

  # Only what changed since the last publish goes to the table: this
  # process is the one writer of its keys, so a key it left alone still
  # holds what it wrote (nil: nothing published yet, everything is checked).
  defp publish(state) do
    props = Facts.properties(state.facts)
    last = state.published

    changed =
      if last == nil,
        do: props,
        else: for({key, value} <- props, Map.get(last, key, :__absent__) !== value, do: {key, value})

    if changed != [] and changed != %{}, do: PropertyWriter.put_many(state.ifname, changed)

    gone =
      if last == nil,
        do: Enum.reject(Facts.owned_keys(), &Map.has_key?(props, &1)),
        else: for({key, _} <- last, not Map.has_key?(props, key), do: key)

    Enum.each(gone, &PropertyWriter.delete(state.ifname, &1))
    _ = if state.publish_timer, do: Process.cancel_timer(state.publish_timer)
    notify_registration(%{state | published: props, published_at: now(), publish_timer: nil})
  end

  # The registration is this process's fact; the connection manager, which
  # decides when to dial on it, gets each change.
  defp notify_registration(%{notify: pid, reg_sent: sent, facts: %{reg: reg}} = state)
       when is_pid(pid) and reg != sent do
    send(pid, {__MODULE__, self(), {:registration, reg}})
    %{state | reg_sent: reg}
  end

  defp notify_registration(state), do: state

  defp answer_identity_waiters(%{identity_waiters: []} = state), do: state

  defp answer_identity_waiters(state) do
    Enum.each(state.identity_waiters, fn {from, key} ->
      case Map.fetch(state.facts.identity, key) do
        {:ok, value} -> GenServer.reply(from, {:ok, value})
        :error -> GenServer.reply(from, {:error, :unknown})
      end
    end)

    %{state | identity_waiters: []}
  end

  defp pet(state) do
    if Facts.healthy?(state.facts), do: pet_watchdog(state.ifname)
    state
  end

  defp pet_watchdog(ifname) do
    @pm_control.pet_watchdog(ifname)
  catch
    _kind, _reason -> :ok
  end

  ## Timers

  # Only updates the timetable; callers end with run_due/1.
  defp reschedule(state, fun), do: %{state | schedule: fun.(state.schedule)}

  # The timer runs for the next due task; armed again only when that moved
  # (a URC storm re-plans the same instant over and over).
  defp arm_timer(state) do
    case Schedule.next_at(state.schedule) do
      at when state.timer != nil and at == state.timer_at ->
        state

      nil ->
        cancel_timer(state)

      at ->
        state = cancel_timer(state)
        %{state | timer: Process.send_after(self(), :tick, max(at - now(), 0)), timer_at: at}
    end
  end

  defp cancel_timer(%{timer: nil} = state), do: state

  defp cancel_timer(state) do
    _ = Process.cancel_timer(state.timer)
    %{state | timer: nil}
  end

  defp subscribe_all(at_port, prefixes) do
    Enum.each(prefixes, &ATPort.subscribe(at_port, &1))
  catch
    :exit, _ -> :gone
  end

  defp port_open?(at_port) do
    ATPort.status(at_port) == :opened
  catch
    :exit, _ -> false
  end

  defp now, do: System.monotonic_time(:millisecond)

  # The profile's own URC prefixes, as subscription prefixes (no colon).
  defp profile_urcs(profile) do
    profile |> ModemProfile.call(:urc_prefixes, [], []) |> Enum.map(&String.trim_trailing(&1, ":"))
  end
end
