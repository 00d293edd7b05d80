defmodule VintageNetCellular.Connection do
  @moduledoc """
  The connection manager: one `:gen_statem` per cellular interface that takes
  a modem from "plugged in" to "the data path is up", and back again whenever
  something goes wrong.

  It only decides. What it decides with lives beside it:

  * `VintageNetCellular.Connection.ModemSelect`: which modem, and the claim;
  * `VintageNetCellular.Connection.BringUp`: the AT bring-up plan (set-up
    line, SIM, ICCID, provider, PDP context, radio settings);
  * `VintageNetCellular.Connection.Registration`: can the modem carry data?
  * `VintageNetCellular.DataPath` (`VintageNetCellular.DataPath.PPP`): the
    data path (pppd and its dialer);
  * `VintageNetCellular.Connection.Link`: routes, DNS, the internet check;
  * `VintageNetCellular.Connection.Backoff`: how long to wait.

  ## Nothing blocks it

  Everything that waits on the modem runs elsewhere: the bring-up runs as a
  step (a task under the interface's workers, on a snapshot of the data) and
  sends its result back; the port probe likewise; the escape guard time,
  retries and rechecks are state timeouts. `status/1` is answered at once in
  every state, also while a modem takes its full command timeout to not
  answer. No `Process.sleep`, no process dictionary.

  ## One owner per fact

  The registration belongs to `VintageNetCellular.Monitor`, which this
  process starts beside each AT port: it turns the registration URCs on,
  reads the registration once, keeps it from the URCs, publishes it and
  sends each change here (`{VintageNetCellular.Monitor, pid, {:registration, reg}}`).
  This process decides on it and never asks the modem itself. The identity
  (IMEI included, for the `imei` pin) is the monitor's too. The SIM, ICCID,
  IMSI and APN are this process's (the bring-up's).

  ## Round trips

  Each AT command is a round trip to the modem, so the checks go out as
  compound command lines (`VintageNetCellular.Connection.Compound`): one line
  sets the modem up (`ATE0;+CMEE=2;` and the profile's init commands), one
  checks the SIM and reads the ICCID, the IMSI, the PDP contexts and which
  are active (`AT+CPIN?;+QCCID;+CIMI;+CGDCONT?;+CGACT?;+CGAUTH?`). The
  monitor, released once the set-up line is done, sends one line that turns
  its URCs on and reads registration, signal and network time, and one that
  reads the identity. With the dialer's `AT` and `ATD*99***<cid>#` on the PPP
  port, an already-provisioned modem hears six lines from port open to
  `CONNECT`. When a compound line fails (no SIM, a locked SIM, a command the
  modem doesn't know) its answer is not interpreted: the same commands are
  sent one by one, and each failure is reported as before.

  ## States

  Each state is published as `["interface", ifname, "mobile", "state"]`,
  with a sentence in `["interface", ifname, "mobile", "reason"]`:

  | state | what happens | leaves for |
  |---|---|---|
  | `:searching_modem` | scan sysfs every `scan_interval` for a modem this interface may claim | `:initializing` once claimed and its AT port started |
  | `:initializing` | `ATE0`, `AT+CMEE=2`, the profile's init commands (a single-port modem that doesn't answer gets the `+++` escape after the guard time, then `ATH`: it may be in data mode with a call left up); IMEI check when pinned; SIM, ICCID, IMSI and the PDP contexts; provider; a data call left up on the context to dial is ended (the profile's `end_call/1`); PDP compare-write; roaming and radio settings | `:registering`, `:sim_locked`, `:retrying` |
  | `:sim_locked` | the SIM needs a PIN that isn't configured or was rejected, a PUK, or a network unlock code; checked again every `sim_poll_interval` and on `+CPIN: READY` | `:initializing` |
  | `:registering` | the monitor's registration (it turned the URCs on and read it once) is judged at once and at each change it sends; after `registration_timeout` without one the monitor reads it again; denied/searching is reported with the reason | `:dialing` |
  | `:dialing` | pppd runs under `MuonTrap.Daemon` on the PPP tty and dials the context with the dialer (`cellular_port dial`) | `:connected` on ip-up, `:retrying` if pppd exits or times out |
  | `:connected` | route, DNS, connection `:lan`, InternetChecker, `statistics` polling (`VintageNetCellular.Statistics`) | `:dialing` on ip-down (pppd redials), `:retrying` if pppd exits |
  | `:retrying` | waits (exponential backoff), then checks the modem is still there | `:initializing` or `:searching_modem` |

  Every AT command has a timeout (`command_timeout`), every wait has a limit,
  and every failure ends in `:retrying`, `:sim_locked` or
  `:searching_modem` with a reason: a missing SIM, a denied registration or
  an unplugged modem never crash anything.

  While a modem is claimed, its presence is checked in sysfs every
  `modem_check_interval`: when it disappears or re-enumerates under new tty
  numbers, everything on it is stopped, the claim released, and the search
  starts again.

  ## Modems set aside

  A modem whose AT port doesn't open or doesn't answer the set-up
  `bring_up_attempts` times in a row (default 3, a setting of
  `VintageNetCellular.Interface`) is set aside: its claim is released, the
  reason is published in `["interface", ifname, "mobile", "set_aside"]`
  (`%{usb_path => reason}`), and the next candidate is tried. A candidate
  whose ports must be probed (`VintageNetCellular.Connection.Probe`) and
  where none answers `AT` is set aside at once. A modem set aside is taken
  again once it has left sysfs and come back (unplugged and replugged,
  re-enumerated). A UART modem (`at_tty` configured, no USB path) is never
  set aside: there is nothing else to try.

  ## Properties written here

  Under `["interface", ifname, "mobile"]`: `state`, `reason`, `sim`,
  `iccid`, `imsi`, `apn` and `set_aside`. Registration, signal, operator, cell and
  identity facts come from `VintageNetCellular.Monitor`, which this process
  starts beside each AT port it opens.
  """
  @behaviour :gen_statem

  import VintageNetCellular.Connection.Log, only: [log: 3, log_once: 3]

  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Connection.Backoff
  alias VintageNetCellular.Connection.BringUp
  alias VintageNetCellular.Connection.Link
  alias VintageNetCellular.Connection.ModemSelect
  alias VintageNetCellular.Connection.Probe
  alias VintageNetCellular.Connection.Registration
  alias VintageNetCellular.DataPath
  alias VintageNetCellular.Discovery
  alias VintageNetCellular.Interface
  alias VintageNetCellular.ModemProfile
  alias VintageNetCellular.Monitor
  alias VintageNetCellular.PropertyWriter
  alias VintageNetCellular.Secrets
  alias VintageNetCellular.Uevents

  # Provided by vintage_net in every app that uses this library; referenced
  # only at run time.
  @compile {:no_warn_undefined, [VintageNet]}
  @vintage_net VintageNet

  @type state ::
          :searching_modem
          | :initializing
          | :sim_locked
          | :registering
          | :dialing
          | :connected
          | :retrying

  # How often a connection manager started before this library's application
  # (at boot) looks again for the claim registry.
  @app_wait_interval 100

  # How often to look whether the last pppd has exited.
  @old_pppd_poll_ms 50
  @sim_gone [:not_inserted, :sim_not_inserted, :sim_removed, :not_ready]

  @doc false
  @spec child_spec(keyword()) :: Supervisor.child_spec()
  def child_spec(opts) do
    %{id: __MODULE__, start: {__MODULE__, :start_link, [opts]}, restart: :permanent, shutdown: 5_000}
  end

  @doc """
  Starts the connection manager of `opts[:ifname]` (see
  `VintageNetCellular.Interface`, which starts it).
  """
  @spec start_link(keyword()) :: :gen_statem.start_ret()
  def start_link(opts) do
    :gen_statem.start_link({:local, Interface.connection(Keyword.fetch!(opts, :ifname))}, __MODULE__, opts, [])
  end

  @doc """
  Where a data path reports its link: `event` is a map with `kind`
  (`:ip_up`, `:ip_down`, ...), and for `:ip_up` `local`, `remote` and `dns`;
  `env` may name the process that sent it (see
  `c:VintageNetCellular.DataPath.foreign_event?/2`).
  """
  @spec link_event(String.t(), map()) :: :ok
  def link_event(ifname, event) do
    case Interface.whereis(ifname, :connection) do
      nil -> :ok
      pid -> send(pid, {:link_event, event})
    end

    :ok
  end

  @doc "Where `VintageNetCellular.PPP.Notifier` delivers pppd's events (its `callback:`): `link_event/2`."
  @spec ppp_event(String.t(), map()) :: :ok
  def ppp_event(ifname, event), do: link_event(ifname, event)

  @doc """
  The manager's view: state, reason, modem, APN. For `ioctl(ifname, :status, [])`.
  """
  @spec status(String.t()) :: {:ok, map()} | {:error, :not_running}
  def status(ifname) do
    {:ok, :gen_statem.call(Interface.connection(ifname), :status, 10_000)}
  catch
    :exit, _ -> {:error, :not_running}
  end

  @doc """
  Whether PPP holds the modem's only AT port right now (single-port modems),
  so raw AT commands can't be sent.
  """
  @spec ppp_owns_at_port?(String.t()) :: boolean()
  def ppp_owns_at_port?(ifname) do
    case status(ifname) do
      {:ok, %{ppp_holds_at_port?: held?}} -> held?
      _ -> false
    end
  end

  # gen_statem

  @impl :gen_statem
  def callback_mode, do: [:handle_event_function, :state_enter]

  # What :sys.get_status/1 and crash reports show of the state: the config
  # without its PIN, usernames and passwords, and every registered secret
  # scrubbed by value wherever else it sits (the chosen provider, a reason...).
  @impl :gen_statem
  def format_status(status) do
    Map.update(status, :data, nil, fn
      %{config: config} = data ->
        %{data | config: Secrets.redact_options(config)} |> Secrets.scrub_term(Secrets.all())

      data ->
        Secrets.scrub_term(data, Secrets.all())
    end)
  end

  @impl :gen_statem
  def init(opts) do
    ifname = Keyword.fetch!(opts, :ifname)
    settings = Keyword.fetch!(opts, :settings)

    data = %{
      ifname: ifname,
      config: Keyword.fetch!(opts, :config),
      settings: settings,
      workers: Keyword.fetch!(opts, :workers),
      modem: nil,
      at_port: nil,
      # Whether the AT port said :opened last (it is not asked).
      port_opened?: false,
      monitor: nil,
      # {token, monitor ref, pid} while the bring-up runs (start_bring_up/2).
      step: nil,
      # {token, modem, monitor} while a port probe runs (see start_probe/2).
      probing: nil,
      # The data path (VintageNetCellular.DataPath) and its state.
      data_path: settings.data_path,
      path: settings.data_path.new(),
      checker: nil,
      stats: nil,
      skip: [],
      # Modems set aside, by identity (see "Modems set aside"), and how many
      # bring-ups in a row the claimed modem failed to answer.
      set_aside: %{},
      failures: 0,
      # Survives a restart of this process (kept by the interface).
      pin_tried: Interface.recall(ifname, :pin_tried, %{}),
      backoff: Backoff.new(settings.backoff_min, settings.backoff_max),
      iccid: nil,
      provider: nil,
      reg: %{},
      denied: nil,
      link: nil,
      # The modem's USB network function in use (BringUp), or nil for PPP.
      net: nil,
      # The 27.010 multiplexer's data channel (a pty path) while it is up.
      mux: nil,
      reason: nil,
      escape_tried?: false,
      # What was last logged as a warning (failures repeat at each retry).
      last_failure: nil,
      last_scan_error: nil,
      # The sysfs scan running in a task, if any (see start_scan/2).
      scanning: nil
    }

    # Routes and the connection status are set only while the kernel has the
    # interface (VintageNet's RouteManager crashes on one it doesn't have).
    @vintage_net.subscribe(["interface", ifname, "present"])

    # Crash-only: a manager that was killed left no state behind but may have
    # left its pppd (and its dialer) running for a moment; the next dial waits for
    # them and ends any that outlive the wait.
    data = %{data | path: data.data_path.cleanup(data.path, path_context(data))}
    data = set_reason(data, "looking for the modem")
    {:ok, :searching_modem, data, [{:next_event, :internal, :scan}]}
  end

  @impl :gen_statem
  def handle_event(:enter, old, state, data) do
    if old != state, do: log(data, :debug, "#{old} -> #{state}: #{data.reason}")
    PropertyWriter.put(data.ifname, "state", state)
    # A bring-up step ends with :initializing.
    data = if state != :initializing, do: stop_step(data), else: data

    case state do
      :connected -> {:keep_state, %{data | backoff: Backoff.reset(data.backoff)}}
      _ -> {:keep_state, data}
    end
  end

  # Searching

  def handle_event(:info, {:probed, token, result}, :searching_modem, %{probing: {token, modem, mref}} = data) do
    Process.demonitor(mref, [:flush])
    data = %{data | probing: nil}

    case result do
      {:ok, probed} when is_map(probed) -> use_modem(data, probed)
      {:error, reason} when is_binary(reason) -> set_aside(%{data | modem: modem}, reason)
      other -> set_aside(%{data | modem: modem}, "the port probe failed: #{inspect(other)}")
    end
  end

  def handle_event(
        :info,
        {:DOWN, mref, :process, _pid, reason},
        :searching_modem,
        %{probing: {_token, modem, mref}} = data
      ) do
    set_aside(%{data | modem: modem, probing: nil}, "the port probe died: #{inspect(reason)}")
  end

  # The answer of a probe this manager no longer waits for.
  def handle_event(:info, {:probed, _token, _result}, _state, _data), do: :keep_state_and_data

  def handle_event(event, :scan, :searching_modem, data) when event in [:internal, :state_timeout] do
    if ModemSelect.ready?() do
      # Again at each poll: a restarted subscriber registry forgets us.
      _ = Uevents.subscribe()
      {:keep_state, start_scan(data, [:search])}
    else
      # Booting: VintageNet started this interface before this library's
      # application (and its claim registry) is up. Look again shortly.
      data = set_reason(data, "waiting for the :vintage_net_cellular application to start")
      {:keep_state, data, [{:state_timeout, @app_wait_interval, :scan}]}
    end
  end

  # A device came or went (VintageNetCellular.Uevents): scan now rather than
  # at the next poll. Not while a probe runs (it holds a claim); the poll
  # stays as the fallback.
  def handle_event(:info, {:uevent, _burst}, :searching_modem, %{probing: nil}),
    do: {:keep_state_and_data, [{:next_event, :internal, :scan}]}

  # Initializing: the whole setup sequence, step by step.

  def handle_event(:internal, :run, :initializing, data) do
    if port_open?(data) do
      start_bring_up(data, &BringUp.run/1)
    else
      # The port program opens the tty in the background: wait for :opened.
      {:keep_state_and_data, [{:state_timeout, data.settings.command_timeout, :port_timeout}]}
    end
  end

  def handle_event(:info, {ATPort, _port, :opened}, :initializing, %{step: nil} = data),
    do: start_bring_up(%{data | port_opened?: true}, &BringUp.run/1)

  # A single-port modem still in data mode (a call left up): +++ after the
  # guard time of silence, then ATH, then the set-up again.
  def handle_event(:state_timeout, :escape, :initializing, data) do
    start_bring_up(data, fn snapshot ->
      :ok = BringUp.escape(snapshot)
      BringUp.run(snapshot)
    end)
  end

  # The bring-up's answer (a step: see start_bring_up/2).
  def handle_event(:info, {:step, token, result}, :initializing, %{step: {token, mref, _pid}} = data) do
    Process.demonitor(mref, [:flush])
    bring_up_done(%{data | step: nil}, result)
  end

  def handle_event(:info, {:step, _token, _result}, _state, _data), do: :keep_state_and_data

  def handle_event(:info, {:DOWN, mref, :process, _pid, reason}, :initializing, %{step: {_token, mref, _pid2}} = data) do
    fail({:retry, "the modem set-up stopped: #{inspect(reason)}", %{data | step: nil}})
  end

  def handle_event(:state_timeout, :port_timeout, :initializing, data) do
    fail({:unresponsive, "could not open the modem's AT port #{data.modem.at_tty}", data})
  end

  # The AT port's tty vanished: the modem was unplugged, reset or
  # re-enumerated. Whatever it comes back as (the same tty names after a fast
  # replug, other ones, or nothing), its state is gone (SIM unlocked, PDP
  # context, data call) and pppd may hold a dead tty: drop it all and look
  # for the modem again. Only a tty that closed by itself does this; a port
  # program that died and restarts (`:closed` without `:vanished`) leaves the
  # modem and the data call as they are.
  def handle_event(:info, {ATPort, _port, :vanished}, state, %{modem: modem} = data)
      when modem != nil and state != :searching_modem do
    lose_modem(data, "the modem's AT port vanished (unplugged, reset or re-enumerated); looking for it again")
  end

  # The AT port's tty closed: the modem may be gone; check sysfs right away.
  def handle_event(:info, {ATPort, _port, :closed}, _state, %{modem: modem} = data) when modem != nil do
    {:keep_state, %{data | port_opened?: false}, [{{:timeout, :modem_check}, 0, :check}]}
  end

  def handle_event(:info, {ATPort, _port, status}, _state, data) when status in [:opened, :closed, :vanished],
    do: {:keep_state, %{data | port_opened?: status == :opened}}

  def handle_event(:info, {ATPort, _port, status}, _state, _data) when is_atom(status), do: :keep_state_and_data

  # The multiplexer went down (the modem stopped answering on it, reset, or
  # sent garbage; the port program ended it and closed the data pty, so pppd
  # hangs up): everything starts over from the set-up, which enters it again.
  def handle_event(:info, {ATPort, _port, {:mux_down, reason}}, state, %{mux: mux} = data) when is_binary(mux) do
    data = %{data | mux: nil}

    if state == :initializing do
      {:keep_state, data}
    else
      data = data |> stop_path() |> Link.down()
      fail({:retry, "the 27.010 multiplexer went down (#{reason}); setting the modem up again", data})
    end
  end

  # Registering

  # The registration is the monitor's fact (VintageNetCellular.Monitor turns
  # its URCs on and reads it): it sends each change here. What it said last
  # is judged on entering the state, and again at each change.
  def handle_event(:internal, :start, :registering, data) do
    evaluate_registration(%{data | denied: nil}, :entered)
  end

  # Nothing changed for registration_timeout: the monitor reads it again
  # (and turns the URCs on again, in case the modem lost them).
  def handle_event(:state_timeout, :recheck, :registering, data) do
    with {_ref, pid} <- data.monitor, do: Monitor.refresh_registration(pid)
    evaluate_registration(data, :recheck)
  end

  def handle_event(:info, {Monitor, _pid, {:registration, reg}}, state, data) when is_map(reg) do
    data = %{data | reg: reg}

    if state == :registering,
      do: evaluate_registration(data, :urc),
      else: {:keep_state, data}
  end

  # Dialing

  def handle_event(:internal, :dial, :dialing, data) do
    dp = data.data_path

    cond do
      dp.running?(data.path) ->
        {:keep_state_and_data, [{:state_timeout, data.settings.dial_timeout, :dial_timeout}]}

      # What was stopped last may still be exiting (MuonTrap sends SIGKILL
      # 500 ms after SIGTERM): two pppds must never share the tty.
      dp.exiting?(data.path) ->
        {:keep_state_and_data, [{{:timeout, :old_pppd}, @old_pppd_poll_ms, :dial}]}

      true ->
        # A pppd of this interface that nothing owns any more (its
        # Daemon or manager was killed): ended, and waited for, before dialing.
        data = %{data | path: dp.cleanup(data.path, path_context(data))}

        if dp.exiting?(data.path),
          do: {:keep_state, data, [{{:timeout, :old_pppd}, @old_pppd_poll_ms, :dial}]},
          else: dial_now(data)
    end
  end

  def handle_event({:timeout, :old_pppd}, :dial, :dialing, data) do
    if data.data_path.running?(data.path),
      do: :keep_state_and_data,
      else: {:keep_state_and_data, [{:next_event, :internal, :dial}]}
  end

  def handle_event(:state_timeout, :dial_timeout, :dialing, data) do
    data = stop_path(data)
    fail({:retry, data.data_path.describe(:timeout, div(data.settings.dial_timeout, 1000)), data})
  end

  def handle_event({:timeout, :old_pppd}, :dial, _state, _data), do: :keep_state_and_data

  # pppd's events

  # An event of another pppd (one of a killed manager, still exiting) says
  # nothing about this one's link.
  def handle_event(:info, {:link_event, event}, _state, data) when is_map(event) do
    if data.data_path.foreign_event?(data.path, event) do
      log(
        data,
        :debug,
        "ignored pppd event #{inspect(event[:kind])} of another pppd (#{inspect(event[:env]["PPPD_PID"])})"
      )

      :keep_state_and_data
    else
      {:keep_state_and_data, [{:next_event, :internal, {:link_event, event}}]}
    end
  end

  def handle_event(:internal, {:link_event, %{kind: :ip_up} = event}, state, data)
      when state in [:dialing, :connected] do
    data = Link.up(data, event)
    data = set_reason(data, data.data_path.describe(:up, event))
    {:next_state, :connected, data}
  end

  def handle_event(:internal, {:link_event, %{kind: :ip_down}}, :connected, data) do
    data = Link.down(data) |> set_reason(data.data_path.describe(:down, nil))
    {:next_state, :dialing, data, [{:next_event, :internal, :dial}]}
  end

  # The kernel's interface appeared (VintageNet's netlink monitor): a link
  # that came up before it can now get its routes.
  def handle_event(:info, {VintageNet, ["interface", _, "present"], _old, present, _meta}, _state, data) do
    if present == true and data.link != nil and not data.link.applied?,
      do: {:keep_state, Link.activate(data)},
      else: :keep_state_and_data
  end

  def handle_event(:internal, {:link_event, %{kind: kind} = event}, _state, data) do
    log(data, :debug, "link event #{kind}: #{inspect(Map.take(event, [:local, :remote, :ll_local, :ll_remote]))}")
    :keep_state_and_data
  end

  # Retrying and the SIM lock both start over from the modem check.

  def handle_event(:state_timeout, :retry, state, data) when state in [:retrying, :sim_locked] do
    restart(data)
  end

  # The modem check (all states while a modem is claimed)

  def handle_event({:timeout, :modem_check}, :check, _state, %{modem: nil}), do: :keep_state_and_data

  def handle_event({:timeout, :modem_check}, :check, _state, data), do: {:keep_state, start_scan(data, [:check])}

  # A scan's answer (start_scan/2), used for each purpose that still holds.
  def handle_event(:info, {:scanned, token, result}, state, %{scanning: %{token: token}} = data) do
    scanned(state, data, result)
  end

  def handle_event(:info, {:scanned, _token, _result}, _state, _data), do: :keep_state_and_data

  # URCs

  # The profile's own URCs come in their 27.007 form (SIMCom +SIMCARD: NOT
  # AVAILABLE is +CPIN: SIM REMOVED): no vendor names here.
  def handle_event(:info, {ATPort, _port, {:urc, _line, parsed}}, state, data) do
    case parsed do
      {:ok, urc} -> handle_urc({:ok, profile_call(data, :translate_urc, [urc], urc)}, state, data)
      error -> handle_urc(error, state, data)
    end
  end

  # Our workers ending

  def handle_event(:info, {:DOWN, ref, :process, _pid, reason}, state, data) do
    cond do
      # The scan task died before it answered (it rescues what discovery
      # raises, so this is a kill): taken as a failed scan.
      match?(%{mref: ^ref}, data.scanning) ->
        scanned(state, data, {:error, "the sysfs scan ended: #{inspect(reason)}"})

      data.data_path.owns?(data.path, ref) ->
        {why, path} = data.data_path.exited(data.path, reason)
        data = %{data | path: path} |> Link.down() |> restart_at_port_after_ppp()

        if state in [:dialing, :connected],
          do: fail({:retry, why, data}),
          else: {:keep_state, data}

      match?({^ref, _}, data.at_port) ->
        data = %{data | at_port: nil, port_opened?: false, monitor: Link.stop_worker(data, data.monitor)}
        log(data, :warning, "the AT port stopped: #{inspect(reason)}")

        cond do
          # PPP carries on; the AT port (for at/3 and the monitor) starts again.
          state in [:dialing, :connected] and data.data_path.running?(data.path) and
              (data.modem.ppp_tty != nil or data.net != nil) ->
            {:keep_state, start_at_port(data)}

          state in [:dialing, :connected] and data.data_path.running?(data.path) ->
            {:keep_state, data}

          true ->
            fail({:retry, "the AT port closed (#{inspect(reason)})", data})
        end

      match?({^ref, _}, data.monitor) ->
        # The property monitor stops by itself (normally) when its port goes;
        # killed or crashed, it starts again beside the port that still runs.
        data = %{data | monitor: nil}

        if reason not in [:normal, :shutdown] and data.at_port != nil,
          do: {:keep_state, start_monitor(data, data.modem, state == :initializing and data.step != nil)},
          else: {:keep_state, data}

      match?({^ref, _}, data.checker) ->
        {:keep_state, %{data | checker: nil}}

      match?({^ref, _}, data.stats) ->
        data = %{data | stats: nil}

        if data.link != nil and data.link.applied? and state == :connected,
          do: {:keep_state, %{data | stats: Link.start_stats(data)}},
          else: {:keep_state, data}

      true ->
        :keep_state_and_data
    end
  end

  # Calls

  def handle_event({:call, from}, :status, state, data) do
    reply = %{
      state: state,
      reason: data.reason,
      modem: data.modem && ModemSelect.describe(data.modem),
      profile: data.modem && data.modem.profile,
      apn: data.provider && data.provider.apn,
      ppp_holds_at_port?: data.modem != nil and ppp_on_at_port?(data) and data.data_path.running?(data.path),
      mux: data.mux,
      data_path: data_path_kind(data)
    }

    {:keep_state_and_data, [{:reply, from, reply}]}
  end

  def handle_event(_type, _event, _state, _data), do: :keep_state_and_data

  # No terminate/3: this process doesn't trap exits. When VintageNet stops the
  # interface, the RawConfig's down_cmds clear DNS, routes and properties, the
  # worker supervisor stops pppd, and the claims die with this process.

  defp dial_now(data) do
    data = select_path(data)
    # A modem with one AT port: pppd gets it, raw AT waits until PPP ends.
    data = if ppp_on_at_port?(data), do: stop_at_port(data), else: data

    case data.data_path.start(data.path, path_context(data)) do
      {:ok, path} ->
        data = %{data | path: path}
        data = set_reason(data, data.data_path.describe(:starting, data.provider))
        {:keep_state, data, [{:state_timeout, data.settings.dial_timeout, :dial_timeout}]}

      {:error, reason} ->
        fail({:retry, data.data_path.describe(:start_failed, reason), data})
    end
  end

  # The setup sequence

  # The bring-up plan (VintageNetCellular.Connection.BringUp) blocks for as
  # long as the modem takes: it runs as a step, a task under the workers,
  # on a snapshot of the data, and its answer comes back as
  # {:step, token, result}. Meanwhile this process answers status/1, URCs
  # and the modem check. Leaving :initializing ends a step still running.
  defp start_bring_up(%{step: nil} = data, fun) do
    case start_task(data, :step, :step, fn -> fun.(data) end) do
      {:ok, token, mref, pid} ->
        # The port opened: its open timeout no longer runs.
        {:keep_state, %{data | step: {token, mref, pid}}, [{:state_timeout, :cancel}]}

      other ->
        fail({:retry, "could not start the modem set-up: #{inspect(other)}", data})
    end
  end

  # A step is running already: it carries on.
  defp start_bring_up(_data, _fun), do: :keep_state_and_data

  # Work that waits on a modem (the bring-up, the port probe) runs in a task
  # under the workers; its answer comes back as {tag, token, result}. Its
  # end is watched too: a task that died sends no answer.
  defp start_task(data, id, tag, fun) do
    me = self()
    token = make_ref()
    task = fn -> send(me, {tag, token, fun.()}) end
    spec = Supervisor.child_spec({Task, task}, id: id, restart: :temporary)

    case DynamicSupervisor.start_child(data.workers, spec) do
      {:ok, pid} -> {:ok, token, Process.monitor(pid), pid}
      other -> other
    end
  end

  defp stop_step(%{step: nil} = data), do: data

  defp stop_step(%{step: {_token, mref, pid}} = data) do
    Process.demonitor(mref, [:flush])
    _ = DynamicSupervisor.terminate_child(data.workers, pid)
    %{data | step: nil}
  end

  defp bring_up_done(data, result) do
    case result do
      {:ok, done} ->
        data = merge_bring_up(data, done)
        data = set_reason(data, "waiting for the network registration")
        {:next_state, :registering, data, [{:next_event, :internal, :start}]}

      {:escape, done} ->
        # The guard time of silence before +++ passes as a state timeout.
        data =
          set_reason(
            merge_bring_up(data, done),
            "the modem's only port does not answer: a data call may have been left up; trying the +++ escape"
          )

        {:keep_state, %{data | escape_tried?: true}, [{:state_timeout, BringUp.escape_guard_ms(), :escape}]}

      # The modem restarts into another USB composition: it goes away (the
      # AT port vanishes and it is looked for again); one that doesn't is set
      # up again after the wait, and ends in PPP (the switch is made once).
      {:reenumerate, reason, done} when is_binary(reason) ->
        data = set_reason(merge_bring_up(data, done), reason)
        log(data, :info, reason)
        {:next_state, :retrying, data, [{:state_timeout, data.settings.command_timeout, :retry}]}

      {kind, reason, done} when kind in [:retry, :locked, :unresponsive, :skip_modem] and is_binary(reason) ->
        fail({kind, reason, merge_bring_up(data, done)})

      other ->
        fail({:retry, "the modem set-up ended with #{inspect(other)}", data})
    end
  end

  defp merge_bring_up(data, done) when is_map(done), do: Map.merge(data, Map.take(done, BringUp.changes()))

  # As the port last said ({ATPort, _, :opened | :closed | :vanished}); no
  # call to it.
  defp port_open?(%{at_port: {_ref, _pid}, port_opened?: opened?}), do: opened?
  defp port_open?(_data), do: false

  # Registration

  defp evaluate_registration(data, why) do
    case Registration.evaluate(data.reg, roaming_allowed?: data.provider.roaming_allowed? != false) do
      {:registered, where} ->
        data = set_reason(data, "registered (#{where}); dialing")
        {:next_state, :dialing, data, [{:next_event, :internal, :dial}]}

      {:denied, reason} ->
        keep_registering(%{data | denied: reason}, reason, why)

      # After a denial the modem searches again now and then: keep saying
      # why it isn't registered rather than flipping between states.
      {_not, reason} ->
        reason = if data.denied, do: "#{data.denied}; the modem keeps trying", else: reason
        keep_registering(data, reason, why)
    end
  end

  defp keep_registering(data, reason, why) do
    data = set_reason(data, reason)

    if why == :urc,
      do: {:keep_state, data},
      else: {:keep_state, data, [{:state_timeout, data.settings.registration_timeout, :recheck}]}
  end

  defp handle_urc({:ok, {:cpin, %{state: :ready}}}, :sim_locked, data) do
    restart(set_reason(data, "the SIM is ready"))
  end

  defp handle_urc({:ok, {:cpin, %{state: gone}}}, state, data)
       when gone in @sim_gone and state in [:registering, :dialing, :connected] do
    sim_removed(data)
  end

  defp handle_urc(_other, _state, _data), do: :keep_state_and_data

  defp sim_removed(data) do
    PropertyWriter.put(data.ifname, "sim", :absent)
    BringUp.forget_sim(data.ifname)
    data = data |> stop_path() |> Link.down()
    fail({:retry, "the SIM was removed", data})
  end

  # SIM URCs: 27.007's +CPIN, and the profile's own.
  defp sim_urcs(data), do: ["+CPIN" | profile_call(data, :sim_removed_urcs, [], [])]

  # Failures and retries

  defp fail({:retry, reason, data}) do
    {delay, backoff} = Backoff.next(data.backoff)
    data = log_once(data, reason, "#{reason}; retrying in #{delay} ms")
    data = set_reason(%{data | backoff: backoff}, reason)
    {:next_state, :retrying, data, [{:state_timeout, delay, :retry}]}
  end

  defp fail({:locked, reason, data}) do
    data = log_once(data, reason, reason)
    data = set_reason(data, reason)
    {:next_state, :sim_locked, data, [{:state_timeout, data.settings.sim_poll_interval, :retry}]}
  end

  # The modem itself failed (its port doesn't open or doesn't answer): after
  # bring_up_attempts such bring-ups in a row it is set aside.
  defp fail({:unresponsive, reason, data}) do
    failures = data.failures + 1

    if failures >= Map.get(data.settings, :bring_up_attempts, 3) and data.modem.usb_path != nil,
      do: set_aside(data, "#{reason}; set aside after #{failures} failed bring-ups in a row"),
      else: fail({:retry, reason, %{data | failures: failures}})
  end

  defp fail({:skip_modem, reason, data}) do
    log(data, :info, reason)
    skip = [ModemSelect.identity(data.modem) | data.skip]
    data = drop_modem(%{data | skip: skip}) |> set_reason(reason)
    {:next_state, :searching_modem, data, [{:next_event, :internal, :scan}]}
  end

  defp restart(%{modem: nil} = data) do
    {:next_state, :searching_modem, data, [{:next_event, :internal, :scan}]}
  end

  defp restart(data), do: {:keep_state, start_scan(data, [:restart])}

  # The modem check: still in sysfs, and its data path still sound.
  defp check_modem(state, data, found) do
    present? = modem_present?(data, found)

    cond do
      not present? ->
        lose_modem(data, "the modem went away (unplugged or re-enumerated); looking for it again")

      true ->
        # The data path against the world: its program gone without a word
        # (pppd killed behind its Daemon's back), or a device that is no
        # longer the modem's.
        case data.data_path.check(data.path, path_context(data)) do
          :ok ->
            {:keep_state, data, [modem_check(data)]}

          {:failed, reason} ->
            data = data |> stop_path() |> Link.down()

            if state in [:dialing, :connected] do
              {:next_state, next, data, actions} = fail({:retry, reason, data})
              {:next_state, next, data, [modem_check(data) | actions]}
            else
              {:keep_state, data, [modem_check(data)]}
            end
        end
    end
  end

  defp restart_with(data, found) do
    present? = modem_present?(data, found)

    cond do
      not present? ->
        lose_modem(data, "the modem went away (unplugged or re-enumerated); looking for it again")

      data.at_port == nil and data.data_path.exiting?(data.path) ->
        {:keep_state, data, [{:state_timeout, @old_pppd_poll_ms, :retry}]}

      true ->
        data = if data.at_port, do: data, else: start_at_port(data)
        data = %{data | escape_tried?: false}
        {:next_state, :initializing, set_reason(data, "setting up the modem"), [{:next_event, :internal, :run}]}
    end
  end

  defp lose_modem(data, reason) do
    log(data, :warning, reason)
    data = data |> drop_modem() |> set_reason(reason)
    Enum.each(["sim", "iccid", "imsi", "apn"], &PropertyWriter.delete(data.ifname, &1))
    {:next_state, :searching_modem, data, [{:next_event, :internal, :scan}, {{:timeout, :modem_check}, :cancel}]}
  end

  defp drop_modem(data) do
    data = data |> stop_path() |> Link.down() |> stop_at_port()
    ModemSelect.release_all()
    %{data | modem: nil, reg: %{}, provider: nil, iccid: nil, failures: 0, mux: nil}
  end

  # Sets the modem (claimed, or being probed) aside until it re-enumerates,
  # and looks for another.
  defp set_aside(data, reason) do
    log(data, :warning, "setting modem #{ModemSelect.describe(data.modem)} aside: #{reason}")
    data = %{data | set_aside: Map.put(data.set_aside, ModemSelect.identity(data.modem), reason)}
    publish_set_aside(data)
    data = data |> drop_modem() |> set_reason("modem #{ModemSelect.describe(data.modem)} set aside: #{reason}")
    {:next_state, :searching_modem, data, [{:next_event, :internal, :scan}]}
  end

  defp publish_set_aside(%{set_aside: set_aside} = data) when map_size(set_aside) == 0,
    do: PropertyWriter.delete(data.ifname, "set_aside")

  defp publish_set_aside(data),
    do: PropertyWriter.put(data.ifname, "set_aside", Map.new(data.set_aside, fn {{path, _}, why} -> {path, why} end))

  # A modem ruled out (set aside, or another IMEI) that has left sysfs is
  # forgotten, so that it is taken again when it comes back.
  defp forget_gone(data, found) do
    skip = ModemSelect.present(data.skip, found)
    set_aside = Map.take(data.set_aside, ModemSelect.present(Map.keys(data.set_aside), found))
    if map_size(set_aside) != map_size(data.set_aside), do: publish_set_aside(%{data | set_aside: set_aside})
    %{data | skip: skip, set_aside: set_aside}
  end

  defp modem_check(data), do: {{:timeout, :modem_check}, data.settings.modem_check_interval, :check}

  # Workers

  defp start_at_port(%{modem: modem} = data) do
    opts = [
      tty: modem.at_tty,
      speed: data.config.speed,
      flow_control: data.config.flow_control,
      dev_root: data.settings.dev_root,
      urc_prefixes: profile_call(data, :urc_prefixes, [], []),
      # Subscribed from the start (its status messages included): no call to
      # the port, which is busy spawning its program.
      subscribers: Enum.map(sim_urcs(data), &{self(), &1}),
      name: Interface.at_port(data.ifname)
    ]

    spec = Supervisor.child_spec({ATPort, opts}, id: :at_port, restart: :temporary)

    case DynamicSupervisor.start_child(data.workers, spec) do
      {:ok, pid} ->
        ref = Process.monitor(pid)
        # A new port: the bring-up runs next, and the monitor waits for its
        # set-up line.
        start_monitor(%{data | at_port: {ref, pid}, port_opened?: false}, modem, true)

      {:error, reason} ->
        # A failure to start is retried: the state waits for the port to
        # open, and times out into :retrying.
        log(data, :warning, "could not start the AT port on #{modem.at_tty}: #{inspect(reason)}")
        data
    end
  end

  # The property monitor follows the AT port: it stops by itself when the
  # port goes away, and a new one starts with the next port.
  # It owns the registration and sends its changes here (notify), and it
  # holds its first commands until the bring-up's set-up line is done.
  defp start_monitor(data, modem, hold?) do
    opts = [
      ifname: data.ifname,
      at_port: Interface.at_port(data.ifname),
      profile: modem.profile,
      config: data.settings.monitor,
      command_timeout: data.settings.command_timeout,
      notify: self(),
      hold: hold?
    ]

    case DynamicSupervisor.start_child(data.workers, {VintageNetCellular.Monitor, opts}) do
      {:ok, pid} ->
        %{data | monitor: {Process.monitor(pid), pid}}

      other ->
        log(data, :warning, "the property monitor did not start: #{inspect(other)}")
        data
    end
  end

  defp stop_at_port(%{at_port: nil} = data), do: data

  defp stop_at_port(%{at_port: {ref, pid}} = data) do
    Process.demonitor(ref, [:flush])
    _ = DynamicSupervisor.terminate_child(data.workers, pid)
    # The monitor stops by itself when its port goes.
    %{data | at_port: nil, port_opened?: false, monitor: Link.stop_worker(data, data.monitor)}
  end

  # What the data path serves (VintageNetCellular.DataPath.context()).
  # The data path module for this connection: the USB network function the
  # bring-up chose, or the configured one (PPP). Only swapped while nothing
  # of the other one runs.
  defp select_path(data) do
    wanted = if data.net, do: DataPath.USBNet, else: data.settings.data_path

    data =
      if wanted != data.data_path and not data.data_path.running?(data.path) and not data.data_path.exiting?(data.path),
        do: %{data | data_path: wanted, path: wanted.new()},
        else: data

    PropertyWriter.put(data.ifname, "data_path", data_path_kind(data))
    data
  end

  # The `data_path` property and status: the USB network function's kind, or :ppp.
  defp data_path_kind(%{net: %{kind: kind}}), do: kind
  defp data_path_kind(_data), do: :ppp

  # PPP over the modem's only port: no PPP port of its own, no multiplexer's
  # data channel and no USB network function, so pppd takes the AT port.
  defp ppp_on_at_port?(data), do: data.net == nil and data.mux == nil and data.modem.ppp_tty == nil

  defp path_context(data) do
    %{
      net: data.net,
      ifname: data.ifname,
      settings: data.settings,
      config: data.config,
      # With the multiplexer up, PPP runs on its data channel's pty.
      modem: if(is_binary(data.mux) and data.modem, do: %{data.modem | ppp_tty: data.mux}, else: data.modem),
      provider: data.provider,
      workers: data.workers,
      cid: profile_call(data, :pdp_cid, [], 1)
    }
  end

  defp stop_path(data) do
    %{data | path: data.data_path.stop(data.path, path_context(data))} |> restart_at_port_after_ppp()
  end

  # A single-port modem's AT port opens the tty pppd had: not while that pppd
  # is still exiting (restart/1 opens it then).
  defp restart_at_port_after_ppp(%{at_port: nil, modem: %{ppp_tty: nil}} = data) do
    if data.data_path.exiting?(data.path), do: data, else: start_at_port(data)
  end

  defp restart_at_port_after_ppp(data), do: data

  # Helpers

  defp profile_call(%{modem: %{profile: profile}}, fun, args, default),
    do: ModemProfile.call(profile, fun, args, default)

  defp profile_call(_data, _fun, _args, default), do: default

  # Scans. sysfs is read in a task, not here: a scan of many devices takes
  # tens of milliseconds on a busy system, and a read of a wedged USB device
  # can stall. The answer comes back as {:scanned, token, result} and serves
  # each purpose asked for (:search, :check, :restart); one scan runs at a
  # time, and a purpose asked for meanwhile gets a fresh scan after it, so a
  # device that appeared during a scan is not missed.
  defp start_scan(%{scanning: nil} = data, purposes) do
    root = data.settings.sysfs_root
    profile = Map.get(data.config, :modem, :auto)

    case start_task(data, :scan, :scanned, fn -> run_scan(root, profile) end) do
      {:ok, token, mref, _pid} ->
        %{data | scanning: %{token: token, mref: mref, purposes: purposes, again: []}}

      other ->
        # The worker supervisor is going down with this interface: the
        # purpose is served as if sysfs had failed to read.
        token = make_ref()
        send(self(), {:scanned, token, {:error, "could not start the scan: #{inspect(other)}"}})
        %{data | scanning: %{token: token, mref: nil, purposes: purposes, again: []}}
    end
  end

  defp start_scan(%{scanning: scanning} = data, purposes),
    do: %{data | scanning: %{scanning | again: Enum.uniq(scanning.again ++ purposes)}}

  @doc false
  # In the scan task: the modems in sysfs, or why they could not be read.
  @spec run_scan(String.t(), atom() | module()) :: {:ok, [map()]} | {:error, String.t()}
  def run_scan(root, profile) do
    {:ok, Discovery.scan(root, profile: profile)}
  rescue
    e -> {:error, Exception.message(e)}
  end

  defp scanned(state, data, result) do
    %{mref: mref, purposes: purposes, again: again} = data.scanning
    if mref, do: Process.demonitor(mref, [:flush])
    {found, data} = scan_result(%{data | scanning: nil}, result)
    # One fresh scan serves every purpose raised meanwhile.
    data = if again == [], do: data, else: start_scan(data, again)

    # The most a purpose can still ask, in order: the search (it claims a
    # modem; not while a probe holds a claim: its end searches again), the
    # restart (it sets up the modem again), the check.
    cond do
      :search in purposes and state == :searching_modem and data.probing == nil -> search(data, found)
      :restart in purposes and state in [:retrying, :sim_locked] -> restart_with(data, found) |> with_check(purposes)
      :check in purposes and data.modem != nil -> check_modem(state, data, found)
      true -> {:keep_state, data}
    end
  end

  # A check asked for while a restart's scan ran is served by the restart
  # (it looked for the modem too); the check timer runs on.
  defp with_check({:next_state, next, data, actions}, purposes) do
    if :check in purposes and data.modem != nil,
      do: {:next_state, next, data, [modem_check(data) | actions]},
      else: {:next_state, next, data, actions}
  end

  defp with_check({:keep_state, data, actions}, purposes) do
    if :check in purposes and data.modem != nil,
      do: {:keep_state, data, [modem_check(data) | actions]},
      else: {:keep_state, data, actions}
  end

  # The data remembers the last failure, which is said once, not at every
  # rescan. A failed scan finds nothing.
  defp scan_result(data, {:ok, found}) when is_list(found),
    do: {found, forget_gone(%{data | last_scan_error: nil}, found)}

  defp scan_result(data, {:error, message}) when is_binary(message) do
    level = if data.last_scan_error == message, do: :debug, else: :warning
    log(data, level, "USB discovery failed: #{message}")
    {[], %{data | last_scan_error: message}}
  end

  defp modem_present?(data, found), do: ModemSelect.still_present?(data.modem, found, data.config)

  defp set_reason(data, reason) do
    PropertyWriter.put(data.ifname, "reason", reason)
    %{data | reason: reason}
  end

  # Searching: claim the first free candidate of a scan.
  defp search(data, scan) do
    candidates = ModemSelect.candidates(scan, data.config)

    ruled_out = data.skip ++ Map.keys(data.set_aside)

    case ModemSelect.first_free(candidates, ruled_out) do
      nil ->
        reason =
          cond do
            candidates == [] or not Enum.all?(candidates, &(ModemSelect.identity(&1) in ruled_out)) ->
              ModemSelect.why_none(scan, candidates, data.config)

            map_size(data.set_aside) > 0 ->
              "every modem found is set aside until it is plugged in again: " <>
                Enum.map_join(data.set_aside, "; ", fn {{path, _}, why} -> "#{path}: #{why}" end)

            true ->
              "no modem with IMEI #{data.config.imei} (the modems found have other IMEIs)"
          end

        data = set_reason(data, reason)
        {:keep_state, data, [{:state_timeout, data.settings.scan_interval, :scan}]}

      modem ->
        case ModemSelect.claim(modem, data.ifname) do
          :ok when modem.probe in [nil, []] ->
            use_modem(data, modem)

          :ok ->
            start_probe(data, modem)

          {:error, {:claimed_by, other}} ->
            data = set_reason(data, "modem #{ModemSelect.describe(modem)} was just claimed by #{other}")
            {:keep_state, start_scan(data, [:search])}
        end
    end
  end

  defp use_modem(data, modem) do
    log(data, :info, "using modem #{ModemSelect.describe(modem)} (#{inspect(modem.profile)})")
    data = %{data | modem: modem} |> start_at_port() |> set_reason("setting up the modem")
    {:next_state, :initializing, data, [{:next_event, :internal, :run}, modem_check(data)]}
  end

  # Ports no table vouches for are probed with AT (under the claim, so no
  # other interface opens them meanwhile) before the modem is used. The
  # probe takes seconds: it runs in a task under the worker supervisor, and
  # its answer comes back as {:probed, token, result} while this process
  # stays in :searching_modem and answers everything else.
  defp start_probe(data, modem) do
    opts = [
      timeout: Map.get(data.settings, :probe_timeout, 1_500),
      dev_root: data.settings.dev_root,
      speed: data.config.speed,
      flow_control: data.config.flow_control
    ]

    case start_task(data, :probe, :probed, fn -> Probe.run(modem, opts) end) do
      {:ok, token, mref, _pid} ->
        reason = "probing the ports of #{ModemSelect.describe(modem)} with AT"
        {:keep_state, set_reason(%{data | probing: {token, modem, mref}}, reason)}

      other ->
        set_aside(%{data | modem: modem}, "could not start the port probe: #{inspect(other)}")
    end
  end
end
