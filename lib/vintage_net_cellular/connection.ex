defmodule VintageNetCellular.Connection do
  @moduledoc """
  The connection manager: one `:gen_statem` per cellular interface that takes
  a modem from "plugged in" to "PPP is up", and back again whenever something
  goes wrong.

  It is the thin, stateful shell around pure step modules:
  `VintageNetCellular.Connection.ModemSelect` (which modem, and the claim),
  `VintageNetCellular.Connection.SIM` (unlock or not),
  `VintageNetCellular.Connection.PDP` (read-compare-write of the context),
  `VintageNetCellular.Connection.Registration` (can it carry data?) and
  `VintageNetCellular.Connection.Backoff` (how long to wait).

  ## Round trips

  Each AT command is a round trip to the modem, so the checks go out as
  compound command lines (`VintageNetCellular.Connection.Compound`): one line
  sets the modem up (`ATE0;+CMEE=2;` and the profile's init commands), one
  checks the SIM and reads the ICCID, the IMSI, the PDP contexts and which
  are active (`AT+CPIN?;+QCCID;+CIMI;+CGDCONT?;+CGACT?;+CGAUTH?`), and one turns on the
  registration URCs and reads the registration. On an already-provisioned
  modem that is three lines on the AT port before the dialer (pppd's connect program) sends (`AT`, then
  `ATD*99***<cid>#`, on the PPP port: five round trips in all). When a
  compound line fails (no SIM, a locked SIM, a command the modem doesn't
  know) its answer is not interpreted: the same commands are sent one by
  one, exactly as without compound lines, and each failure is reported as
  before.

  ## States

  Each state is published as `["interface", ifname, "mobile", "state"]`,
  with a sentence in `["interface", ifname, "mobile", "reason"]`:

  | state | what happens | leaves for |
  |---|---|---|
  | `:searching_modem` | scan sysfs every `scan_interval` for a modem this interface may claim | `:initializing` once claimed and its AT port started |
  | `:initializing` | `ATE0`, `AT+CMEE=2`, the profile's init commands (a single-port modem that doesn't answer gets the `+++` escape after the guard time, then `ATH`: it may be in data mode with a call left up); IMEI check when pinned; SIM, ICCID, IMSI and the PDP contexts; provider; a data call left up on the context to dial is ended (the profile's `end_call/1`); PDP compare-write; roaming and radio settings | `:registering`, `:sim_locked`, `:retrying` |
  | `:sim_locked` | the SIM needs a PIN that isn't configured or was rejected, a PUK, or a network unlock code; checked again every `sim_poll_interval` and on `+CPIN: READY` | `:initializing` |
  | `:registering` | registration URCs on (`AT+CREG=2`, `+CGREG=2`, `+CEREG=2`), one read, then wait for URCs; denied/searching is reported with the reason | `:dialing` |
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
  starts beside each AT port it opens (it follows the same URCs, so both
  agree on the registration).
  """
  @behaviour :gen_statem

  require Logger

  alias VintageNetCellular.AT
  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Config
  alias VintageNetCellular.Connection.Backoff
  alias VintageNetCellular.Connection.Compound
  alias VintageNetCellular.Connection.ModemSelect
  alias VintageNetCellular.Connection.PDP
  alias VintageNetCellular.Connection.Probe
  alias VintageNetCellular.Connection.Registration
  alias VintageNetCellular.Connection.SIM
  alias VintageNetCellular.Discovery
  alias VintageNetCellular.Interface
  alias VintageNetCellular.ModemProfile
  alias VintageNetCellular.ModemProfile.Commands
  alias VintageNetCellular.PinLedger
  alias VintageNetCellular.PropertyWriter
  alias VintageNetCellular.Secrets
  alias VintageNetCellular.ServiceProviders

  # Provided by vintage_net (and muontrap) in every app that uses this
  # library; referenced only at run time.
  @compile {:no_warn_undefined,
            [
              MuonTrap.Daemon,
              VintageNet,
              VintageNet.RouteManager,
              VintageNet.NameResolver,
              VintageNet.Connectivity.InternetChecker
            ]}
  @vintage_net VintageNet
  @route_manager VintageNet.RouteManager
  @name_resolver VintageNet.NameResolver
  @internet_checker VintageNet.Connectivity.InternetChecker

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

  # V.250's default escape guard time (S12 = 50, in fiftieths of a second).
  @escape_guard_ms 1_000
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
      monitor: nil,
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
      reason: nil,
      escape_tried?: false,
      # What was last logged as a warning (failures repeat at each retry).
      last_failure: nil,
      last_scan_error: nil
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

    case state do
      :connected -> {:keep_state, %{data | backoff: Backoff.reset(data.backoff)}}
      _ -> :keep_state_and_data
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
      search(data)
    else
      # Booting: VintageNet started this interface before this library's
      # application (and its claim registry) is up. Look again shortly.
      data = set_reason(data, "waiting for the :vintage_net_cellular application to start")
      {:keep_state, data, [{:state_timeout, @app_wait_interval, :scan}]}
    end
  end

  # Initializing: the whole setup sequence, step by step.

  def handle_event(:internal, :run, :initializing, data) do
    if port_open?(data) do
      run_bring_up(data)
    else
      # The port program opens the tty in the background: wait for :opened.
      {:keep_state_and_data, [{:state_timeout, data.settings.command_timeout, :port_timeout}]}
    end
  end

  def handle_event(:info, {ATPort, _port, :opened}, :initializing, data), do: run_bring_up(data)

  # A single-port modem still in data mode (a call left up): +++ after the
  # guard time of silence, then ATH, then the set-up again.
  def handle_event(:state_timeout, :escape, :initializing, data) do
    escape_call(data)
    run_bring_up(data)
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
  def handle_event(:info, {ATPort, _port, :closed}, _state, %{modem: modem}) when modem != nil do
    {:keep_state_and_data, [{{:timeout, :modem_check}, 0, :check}]}
  end

  def handle_event(:info, {ATPort, _port, status}, _state, _data) when is_atom(status), do: :keep_state_and_data

  # Registering

  def handle_event(:internal, :start, :registering, data) do
    flush_sim_urcs(data)
    data = %{data | denied: nil}

    read =
      case command(data, Compound.line(Compound.registration_commands())) do
        {:ok, lines} ->
          Compound.registration(lines)

        _failed ->
          # Step by step; a domain the modem doesn't have answers ERROR, ignored.
          Enum.each(Registration.urc_commands(), &command(data, &1))
          read_registration_step_by_step(data)
      end

    evaluate_registration(%{data | reg: Map.merge(data.reg, read)}, :entered)
  end

  def handle_event(:state_timeout, :recheck, :registering, data) do
    read =
      case command(data, Compound.line(Compound.registration_reads())) do
        {:ok, lines} -> Compound.registration(lines)
        _failed -> read_registration_step_by_step(data)
      end

    reg = for {domain, fields} <- read, into: data.reg, do: {domain, fields || Map.get(data.reg, domain)}
    evaluate_registration(%{data | reg: reg}, :recheck)
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
    data = link_up(data, event)
    data = set_reason(data, data.data_path.describe(:up, event))
    {:next_state, :connected, data}
  end

  def handle_event(:internal, {:link_event, %{kind: :ip_down}}, :connected, data) do
    data = link_down(data) |> set_reason(data.data_path.describe(:down, nil))
    {:next_state, :dialing, data, [{:next_event, :internal, :dial}]}
  end

  # The kernel's interface appeared (VintageNet's netlink monitor): a link
  # that came up before it can now get its routes.
  def handle_event(:info, {VintageNet, ["interface", _, "present"], _old, present, _meta}, _state, data) do
    if present == true and data.link != nil and not data.link.applied?,
      do: {:keep_state, apply_link(data)},
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

  def handle_event({:timeout, :modem_check}, :check, state, data) do
    {present?, data} = modem_present?(data)

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
            data = data |> stop_path() |> link_down()

            if state in [:dialing, :connected] do
              {:next_state, next, data, actions} = fail({:retry, reason, data})
              {:next_state, next, data, [modem_check(data) | actions]}
            else
              {:keep_state, data, [modem_check(data)]}
            end
        end
    end
  end

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
      data.data_path.owns?(data.path, ref) ->
        {why, path} = data.data_path.exited(data.path, reason)
        data = %{data | path: path} |> link_down() |> restart_at_port_after_ppp()

        if state in [:dialing, :connected],
          do: fail({:retry, why, data}),
          else: {:keep_state, data}

      match?({^ref, _}, data.at_port) ->
        data = %{data | at_port: nil, monitor: stop_worker(data, data.monitor)}
        log(data, :warning, "the AT port stopped: #{inspect(reason)}")

        cond do
          # PPP carries on; the AT port (for at/3 and the monitor) starts again.
          state in [:dialing, :connected] and data.data_path.running?(data.path) and data.modem.ppp_tty != nil ->
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
          do: {:keep_state, start_monitor(data, data.modem)},
          else: {:keep_state, data}

      match?({^ref, _}, data.checker) ->
        {:keep_state, %{data | checker: nil}}

      match?({^ref, _}, data.stats) ->
        data = %{data | stats: nil}

        if data.link != nil and data.link.applied? and state == :connected,
          do: {:keep_state, %{data | stats: start_stats(data)}},
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
      ppp_holds_at_port?: data.data_path.running?(data.path) and data.modem != nil and data.modem.ppp_tty == nil
    }

    {:keep_state_and_data, [{:reply, from, reply}]}
  end

  def handle_event(_type, _event, _state, _data), do: :keep_state_and_data

  # No terminate/3: this process doesn't trap exits. When VintageNet stops the
  # interface, the RawConfig's down_cmds clear DNS, routes and properties, the
  # worker supervisor stops pppd, and the claims die with this process.

  defp dial_now(data) do
    # A modem with one AT port: pppd gets it, raw AT waits until PPP ends.
    data = if data.modem.ppp_tty == nil, do: stop_at_port(data), else: data

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

  defp run_bring_up(data) do
    case bring_up(data) do
      {:ok, data} ->
        data = set_reason(data, "waiting for the network registration")
        {:next_state, :registering, data, [{:next_event, :internal, :start}]}

      {:escape, data} ->
        # The guard time of silence before +++ passes as a state timeout.
        data =
          set_reason(
            data,
            "the modem's only port does not answer: a data call may have been left up; trying the +++ escape"
          )

        {:keep_state, %{data | escape_tried?: true}, [{:state_timeout, @escape_guard_ms, :escape}]}

      failure ->
        fail(failure)
    end
  end

  defp port_open?(%{at_port: {_ref, pid}}) do
    ATPort.status(pid) == :opened
  catch
    :exit, _ -> false
  end

  defp port_open?(_data), do: false

  defp bring_up(data) do
    with {:ok, data} <- init_modem(data),
         {:ok, data} <- check_imei(data),
         {:ok, data, contexts} <- check_sim_and_read(data),
         {:ok, data} <- choose_provider(data),
         {:ok, data} <- end_call_left_up(data, contexts),
         {:ok, data} <- write_pdp_context(data, contexts) do
      apply_radio_settings(data)
    end
  end

  # The modem may still be booting (or flushing garbage): the set-up is
  # tried three times in all, first as one compound line, then step by step
  # (which also finds out which init command the modem refuses).
  defp init_modem(data) do
    profile_init = profile_call(data, :init_commands, [], [])

    case command(data, Compound.line(Compound.init_commands(profile_init))) do
      {:ok, _} ->
        {:ok, %{data | failures: 0}}

      {:error, :closed} ->
        {:unresponsive, "the modem's AT port #{data.modem.at_tty} is closed", data}

      # No answer at all on the only port: it may be in data mode, with a
      # call a stopped pppd left up. Escape once per bring-up.
      {:error, :timeout} when data.modem.ppp_tty == nil and not data.escape_tried? ->
        {:escape, data}

      {:error, _} ->
        init_modem_step_by_step(data, profile_init, 2)
    end
  end

  # V.250: the escape is +++ between two guard times of silence (S12, 1 s by
  # default); the modem answers OK in online command mode, and ATH ends the
  # call. A modem that was not in data mode takes +++ as the start of a line
  # and gives ERROR or nothing, which the set-up's retries absorb.
  # ATH goes out even when the OK of +++ was missed: in command mode it is
  # harmless, and the set-up's AT+CGACT? check catches a call still up.
  defp escape_call(%{at_port: {_ref, pid}} = data) do
    escaped = ATPort.send_body(pid, "+++", @escape_guard_ms + data.settings.command_timeout)

    case {escaped, command(data, "ATH")} do
      {{:ok, _}, {:ok, _}} ->
        log(data, :info, "ended a data call left up on the modem's only port (+++, ATH)")

      {escaped, hung_up} ->
        log(
          data,
          :info,
          "+++ escape: #{format_result(escaped)}, ATH: #{format_result(hung_up)}; setting the modem up again"
        )
    end
  catch
    :exit, _ -> :ok
  end

  defp escape_call(_data), do: :ok

  defp format_result({:ok, _}), do: "OK"
  defp format_result(error), do: format_error(error)

  defp init_modem_step_by_step(data, profile_init, tries) do
    case first_answer(data, "ATE0", tries) do
      {:ok, _} ->
        _ = command(data, "AT+CMEE=2")

        Enum.each(profile_init, fn cmd ->
          case command(data, cmd) do
            {:ok, _} -> :ok
            error -> log(data, :warning, "#{redact(cmd)} failed: #{inspect(error)}")
          end
        end)

        {:ok, %{data | failures: 0}}

      {:error, :closed} ->
        {:unresponsive, "the modem's AT port #{data.modem.at_tty} is closed", data}

      {:error, reason} ->
        {:unresponsive, "the modem does not answer AT commands on #{data.modem.at_tty} (#{format_error(reason)})", data}
    end
  end

  defp first_answer(data, cmd, tries) do
    case command(data, cmd) do
      {:ok, _} = ok -> ok
      {:error, :closed} = closed -> closed
      _error when tries > 1 -> first_answer(data, cmd, tries - 1)
      error -> error
    end
  end

  defp check_imei(%{config: %{imei: nil}} = data), do: {:ok, data}

  defp check_imei(%{config: %{imei: wanted}} = data) do
    case command(data, "AT+CGSN") do
      {:ok, lines} ->
        imei = Enum.find_value(lines, &imei_in/1)

        if imei == wanted do
          {:ok, data}
        else
          {:skip_modem, "modem #{ModemSelect.describe(data.modem)} has IMEI #{imei || "?"}, not #{wanted}", data}
        end

      error ->
        {:retry, "could not read the IMEI (AT+CGSN: #{format_error(error)})", data}
    end
  end

  defp imei_in(line) do
    case Regex.run(~r/(\d{15})/, line) do
      [_, imei] -> imei
      nil -> nil
    end
  end

  # One line checks the SIM and reads the ICCID, the IMSI and the PDP
  # contexts. Only a ready SIM with every command answered is taken from it;
  # anything else (no SIM, a PIN, a SIM still busy, a command the modem
  # refuses) goes step by step, which decides and reports as it always did.
  # Returns the contexts read, or nil when write_pdp_context must read them.
  defp check_sim_and_read(data) do
    line = Compound.line(Compound.sim_commands(iccid_command(data)))

    with {:ok, lines} <- command(data, line),
         {:ok, read} <- Compound.sim_read(lines),
         :ready <- SIM.status({:cpin, read.cpin}) do
      PropertyWriter.put(data.ifname, "sim", SIM.property(:ready))
      data = put_identity(data, read.iccid, read.imsi)
      {:ok, data, %{cgdcont: read.cgdcont, cgauth: read.cgauth, active_cids: read.active_cids}}
    else
      _not_simply_ready ->
        with {:ok, data} <- check_sim(data),
             {:ok, data} <- read_identity(data) do
          {:ok, data, nil}
        end
    end
  end

  defp check_sim(data) do
    case read_cpin(data) do
      {:ok, answer} ->
        status = SIM.status(answer)
        PropertyWriter.put(data.ifname, "sim", SIM.property(status))
        key = sim_key(data, status)
        pin = Config.sim_pin(data.config)
        # A PIN this SIM accepted before may be sent again (after a modem
        # reset); one that was rejected, or got no clear answer, never: not
        # by this manager, nor by one before it (the interface's memory),
        # nor before a reboot or reconfigure (PinLedger, per ICCID and PIN).
        tried = Map.get(data.pin_tried, key) || (pin && key && PinLedger.lookup(key, pin))

        case SIM.decide(status, pin, tried in [:sent, :wrong]) do
          :ready ->
            {:ok, data}

          {:unlock, pin} ->
            case SIM.check_attempts(read_pin_attempts(data)) do
              :ok -> unlock(data, key, pin)
              {:locked, reason} -> {:locked, reason, data}
            end

          {:locked, reason} ->
            {:locked, locked_reason(reason, tried), data}

          {:absent, reason} ->
            forget_sim(data)
            {:retry, reason, data}

          {:wait, reason} ->
            {:retry, reason, data}
        end

      {:error, reason} ->
        {:retry, "could not read the SIM state (AT+CPIN?: #{format_error(reason)})", data}
    end
  end

  defp read_cpin(data) do
    case command(data, "AT+CPIN?") do
      {:ok, lines} ->
        case Enum.find_value(lines, &parsed(&1, :cpin)) do
          %{state: state} -> {:ok, {:cpin, state}}
          nil -> {:error, "no +CPIN line in #{inspect(lines)}"}
        end

      {:error, {:cme_error, x}} ->
        {:ok, {:cme_error, cme_code(x)}}

      {:error, reason} ->
        {:error, reason}
    end
  end

  # The PIN attempts left, where the profile has a command that tells them;
  # nil when it doesn't, or the modem gave no answer.
  # The port program parsed the answer's lines already (ATPort.command_parsed/3).
  defp read_pin_attempts(%{at_port: {_ref, pid}} = data) do
    with command when is_binary(command) <- profile_call(data, :pin_attempts_command, [], nil),
         {:ok, lines} <- ATPort.command_parsed(pid, command, data.settings.command_timeout) do
      SIM.pin_attempts(for {_line, {:ok, parsed}} <- lines, do: parsed)
    else
      _ -> nil
    end
  catch
    :exit, _ -> nil
  end

  defp read_pin_attempts(_data), do: nil

  # The SIM a PIN was sent to: its ICCID when the modem tells it before the
  # unlock (most do), otherwise the modem (and this SIM slot) itself.
  defp sim_key(data, :pin_required) do
    case read_iccid(data) do
      {:ok, iccid} -> {:iccid, iccid}
      _ -> {:modem, data.modem.usb_path || data.modem.at_tty}
    end
  end

  defp sim_key(_data, _status), do: nil

  defp unlock(data, key, pin) do
    # Remember the attempt before sending it: whatever happens next, this PIN
    # is never sent to this SIM again.
    data = pin_tried(data, key, :sent)
    log(data, :info, "the SIM asks for its PIN; sending the configured sim_pin once")
    result = command(data, ~s(AT+CPIN="#{pin}"))

    cond do
      match?({:ok, _}, result) ->
        data = pin_tried(data, key, :accepted)
        check_sim_after_unlock(data)

      SIM.wrong_pin?(result) ->
        data = pin_tried(data, key, :wrong)
        PropertyWriter.put(data.ifname, "sim", :pin_required)
        log(data, :error, "the SIM rejected the configured sim_pin")

        case SIM.decide(:pin_required, pin, true) do
          {:locked, reason} -> {:locked, reason, data}
          _other -> {:locked, "The SIM rejected the configured sim_pin", data}
        end

      true ->
        {:locked,
         "The configured sim_pin was sent once but the modem gave no clear answer " <>
           "(#{format_error(result)}); it will not be sent again to this SIM. " <>
           "Check the SIM with VintageNetCellular.at(ifname, \"AT+CPIN?\")", data}
    end
  end

  # What became of the PIN sent to a SIM, also kept by the interface so that
  # a restarted manager never sends a refused PIN again.
  defp pin_tried(data, key, outcome) do
    pin_tried = Map.put(data.pin_tried, key, outcome)
    Interface.remember(data.ifname, :pin_tried, pin_tried)
    _ = PinLedger.record(key, Config.sim_pin(data.config), outcome)
    %{data | pin_tried: pin_tried}
  end

  # The SIM may take a moment after the PIN: when it isn't ready yet, the
  # set-up is retried after the backoff (no waiting here: nothing blocks the
  # state machine). The PIN is not sent again (it was accepted).
  defp check_sim_after_unlock(data) do
    case read_cpin(data) do
      {:ok, {:cpin, :ready}} ->
        PropertyWriter.put(data.ifname, "sim", :ready)
        {:ok, data}

      _other ->
        {:retry, "the SIM accepted the PIN but is not ready yet", data}
    end
  end

  defp locked_reason(reason, :sent) do
    "The configured sim_pin was sent once and the SIM still asks for a PIN; it will not be " <>
      "sent again to this SIM. " <> reason
  end

  defp locked_reason(reason, _tried), do: reason

  defp read_identity(data) do
    iccid =
      case read_iccid(data) do
        {:ok, iccid} -> iccid
        _ -> nil
      end

    imsi =
      case command(data, "AT+CIMI") do
        {:ok, lines} -> Compound.imsi(lines)
        _ -> nil
      end

    {:ok, put_identity(data, iccid, imsi)}
  end

  defp put_identity(data, iccid, imsi) do
    put_or_delete(data.ifname, "iccid", iccid)
    put_or_delete(data.ifname, "imsi", imsi)
    %{data | iccid: iccid}
  end

  defp iccid_command(data), do: profile_call(data, :iccid_command, [], "AT+CCID")

  defp read_iccid(data) do
    case command(data, iccid_command(data)) do
      {:ok, lines} ->
        case Compound.iccid(lines) do
          nil -> {:error, :no_iccid}
          iccid -> {:ok, iccid}
        end

      error ->
        error
    end
  end

  defp choose_provider(data) do
    case ServiceProviders.select(data.config.service_providers, data.iccid) do
      {:ok, provider} ->
        PropertyWriter.put(data.ifname, "apn", provider.apn)
        {:ok, %{data | provider: Config.runtime_provider(provider)}}

      {:error, :no_provider} ->
        PropertyWriter.delete(data.ifname, "apn")

        which =
          if data.iccid,
            do: "ICCID #{data.iccid} matches no only_iccid_prefixes",
            else: "the SIM's ICCID could not be read"

        {:retry,
         "No service provider for this SIM: #{which}, and there is no catch-all provider " <>
           "(one without only_iccid_prefixes). Add one, or a prefix for this SIM; retrying in case the SIM changes",
         %{data | provider: nil}}
    end
  end

  # A data call left up on the context to dial (a pppd that was stopped
  # without ending it, before a deconfigure, a restart or a crash) keeps the
  # PPP port in data mode: the dialer's AT would go unanswered and no dial would
  # ever succeed. The profile says how to end it; a failure is logged and the
  # setup goes on (the dial then fails and is retried).
  defp end_call_left_up(data, contexts) do
    cid = profile_call(data, :pdp_cid, [], 1)

    if cid in active_cids(data, contexts) do
      case profile_call(data, :end_call, [cid], ModemProfile.default_end_call(cid)) do
        {:at_port, [_ | _] = commands} ->
          log(data, :info, "a data call is still up on context #{cid}; ending it (#{Enum.join(commands, ", ")})")
          run_end_call(data, commands)

        other ->
          log(data, :warning, "#{inspect(data.modem.profile)}.end_call/1 gave #{inspect(other)}; the call stays up")
      end
    end

    {:ok, data}
  end

  defp active_cids(_data, %{active_cids: cids}), do: cids

  defp active_cids(data, _not_read) do
    case command(data, "AT+CGACT?") do
      {:ok, lines} -> Compound.active_cids(lines)
      _ -> []
    end
  end

  defp run_end_call(data, commands) do
    Enum.reduce_while(commands, :ok, fn cmd, :ok ->
      case command(data, cmd) do
        {:ok, _} ->
          {:cont, :ok}

        error ->
          # Info, not a warning: on LTE the default bearer shows the context
          # active without any call, and some modems refuse to deactivate it.
          log(data, :info, "#{redact(cmd)} failed (#{format_error(error)}); a data call may still be up")
          {:halt, :error}
      end
    end)
  end

  # The contexts come from the compound SIM line, or are read here.
  defp write_pdp_context(data, nil) do
    with {:ok, lines} <- command(data, "AT+CGDCONT?") do
      cgdcont = for line <- lines, ctx = parsed(line, :cgdcont), do: ctx

      cgauth =
        case command(data, "AT+CGAUTH?") do
          {:ok, lines} -> for line <- lines, auth = parsed(line, :cgauth), do: auth
          _ -> :unsupported
        end

      write_pdp_context(data, %{cgdcont: cgdcont, cgauth: cgauth})
    else
      error -> {:retry, "could not read the PDP contexts (AT+CGDCONT?: #{format_error(error)})", data}
    end
  end

  defp write_pdp_context(data, current) do
    cid = profile_call(data, :pdp_cid, [], 1)
    profile = data.modem.profile

    cgauth_fun =
      if function_exported?(profile, :cgauth_command, 4),
        do: &profile.cgauth_command/4,
        else: &PDP.cgauth_command/4

    case PDP.plan(current, data.provider, cid: cid, cgauth: cgauth_fun) do
      [] ->
        {:ok, data}

      plan ->
        log(data, :info, "writing the PDP context: #{PDP.describe(current, data.provider, cid: cid)}")
        run_pdp_plan(data, plan)
    end
  end

  defp run_pdp_plan(data, plan) do
    Enum.reduce_while(plan, {:ok, data}, fn cmd, acc ->
      case command(data, cmd) do
        {:ok, _} ->
          {:cont, acc}

        error ->
          # Never leave the radio off.
          _ = if cmd != "AT+CFUN=1", do: command(data, "AT+CFUN=1")
          {:halt, {:retry, "writing the PDP context failed (#{redact(cmd)}: #{format_error(error)})", data}}
      end
    end)
  end

  defp apply_radio_settings(data) do
    rats = data.config.only_radio_technologies
    radio = profile_call(data, :radio_settings, [rats], [])

    data =
      if rats != nil and radio == [] do
        log_once(
          data,
          {:rats, rats},
          "#{inspect(data.modem.profile)} has no setting for #{inspect(rats)}; the modem keeps its own"
        )
      else
        data
      end

    settings = profile_call(data, :roaming_settings, [data.provider.roaming_allowed?], []) ++ radio

    Enum.each(settings, fn {query, expected, set} ->
      already? =
        case command(data, query) do
          {:ok, lines} when is_list(lines) -> Commands.matches?(lines, expected)
          _ -> false
        end

      unless already?, do: apply_setting(data, List.wrap(set))
    end)

    {:ok, data}
  end

  defp apply_setting(data, commands) do
    Enum.reduce_while(commands, :ok, fn cmd, :ok ->
      case command(data, cmd) do
        {:ok, _} ->
          log(data, :info, "applied #{cmd}")
          {:cont, :ok}

        error ->
          log(data, :warning, "#{cmd} failed (#{format_error(error)}); the modem keeps its setting")
          {:halt, :error}
      end
    end)
  end

  # Registration

  defp read_registration_step_by_step(data) do
    for {domain, cmd} <- Registration.read_commands(), into: %{} do
      {domain, read_registration(data, cmd, domain)}
    end
  end

  defp read_registration(data, cmd, domain) do
    case command(data, cmd) do
      {:ok, lines} -> Enum.find_value(lines, &parsed(&1, domain))
      _ -> nil
    end
  end

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

  defp handle_urc({:ok, {kind, fields}}, state, data) when kind in [:creg, :cgreg, :cereg, :c5greg] do
    data = %{data | reg: Map.put(data.reg, kind, fields)}

    if state == :registering do
      evaluate_registration(data, :urc)
    else
      {:keep_state, data}
    end
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
    forget_sim(data)
    data = data |> stop_path() |> link_down()
    fail({:retry, "the SIM was removed", data})
  end

  defp forget_sim(data) do
    Enum.each(["iccid", "imsi", "apn"], &PropertyWriter.delete(data.ifname, &1))
  end

  # SIM URCs: 27.007's +CPIN, and the profile's own.
  defp sim_urcs(data), do: ["+CPIN" | profile_call(data, :sim_removed_urcs, [], [])]

  defp flush_sim_urcs(data), do: flush_urcs(sim_urcs(data))

  defp flush_urcs(prefixes), do: Enum.each(prefixes, &flush_prefix(&1, byte_size(&1)))

  defp flush_prefix(prefix, n) do
    receive do
      {ATPort, _port, {:urc, line, _}} when byte_size(line) >= n and binary_part(line, 0, n) == prefix ->
        flush_prefix(prefix, n)
    after
      0 -> :ok
    end
  end

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

  defp restart(data) do
    {present?, data} = modem_present?(data)

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
    data = data |> stop_path() |> link_down() |> stop_at_port()
    ModemSelect.release_all()
    %{data | modem: nil, reg: %{}, provider: nil, iccid: nil, failures: 0}
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
      name: Interface.at_port(data.ifname)
    ]

    spec = Supervisor.child_spec({ATPort, opts}, id: :at_port, restart: :temporary)

    case DynamicSupervisor.start_child(data.workers, spec) do
      {:ok, pid} ->
        ref = Process.monitor(pid)
        subscribe_at_port(pid, sim_urcs(data))
        start_monitor(%{data | at_port: {ref, pid}}, modem)

      {:error, reason} ->
        # A failure to start is retried: the state waits for the port to
        # open, and times out into :retrying.
        log(data, :warning, "could not start the AT port on #{modem.at_tty}: #{inspect(reason)}")
        data
    end
  end

  # The port may die between its start and these calls: its :DOWN follows.
  defp subscribe_at_port(pid, sim_urcs) do
    Enum.each(Registration.urc_prefixes() ++ sim_urcs, &ATPort.subscribe(pid, &1))
  catch
    :exit, _ -> :ok
  end

  # The property monitor follows the AT port: it stops by itself when the
  # port goes away, and a new one starts with the next port.
  defp start_monitor(data, modem) do
    opts = [
      ifname: data.ifname,
      at_port: Interface.at_port(data.ifname),
      profile: modem.profile,
      config: data.settings.monitor,
      command_timeout: data.settings.command_timeout
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
    %{data | at_port: nil, monitor: stop_worker(data, data.monitor)}
  end

  # What the data path serves (VintageNetCellular.DataPath.context()).
  defp path_context(data) do
    %{
      ifname: data.ifname,
      settings: data.settings,
      config: data.config,
      modem: data.modem,
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

  # The PPP link

  # pppd said ip-up. The routes, DNS and connection status go to VintageNet
  # only once the kernel's interface is `present`: RouteManager crashes (and
  # takes every interface with it) on one the kernel doesn't have.
  defp link_up(data, event) do
    link = %{local: event.local, remote: event.remote, dns: data.config.dns || event.dns, applied?: false}
    data = %{stop_checker(data) | link: link}

    if interface_present?(data.ifname) do
      apply_link(data)
    else
      log(data, :info, "the link is up; waiting for the kernel's #{data.ifname} to appear before setting routes")
      data
    end
  end

  defp apply_link(%{link: link, ifname: ifname} = data) do
    @route_manager.set_route(ifname, [{link.local, 32}], link.remote)
    if link.dns != [], do: @name_resolver.setup(ifname, nil, link.dns)
    @route_manager.set_connection_status(ifname, :lan, "PPP is up")

    checker =
      case DynamicSupervisor.start_child(
             data.workers,
             Supervisor.child_spec({@internet_checker, ifname}, id: :internet_checker, restart: :temporary)
           ) do
        {:ok, pid} -> {Process.monitor(pid), pid}
        _ -> nil
      end

    %{data | link: %{link | applied?: true}, checker: checker, stats: start_stats(data)}
  catch
    # VintageNet restarting under us: the link stays recorded as not applied,
    # and is applied when the interface is reported present again.
    :exit, reason ->
      log(data, :warning, "VintageNet did not take the routes for #{ifname}: #{inspect(reason)}")
      data
  end

  defp start_stats(data) do
    opts = [
      ifname: data.ifname,
      sysfs_root: data.settings.sysfs_root,
      interval: Map.get(data.settings, :statistics_interval, VintageNetCellular.Statistics.default_interval())
    ]

    case DynamicSupervisor.start_child(data.workers, {VintageNetCellular.Statistics, opts}) do
      {:ok, pid} -> {Process.monitor(pid), pid}
      _ -> nil
    end
  end

  defp interface_present?(ifname), do: @vintage_net.get(["interface", ifname, "present"]) == true

  defp link_down(%{link: nil} = data), do: stop_checker(data)

  defp link_down(data) do
    clear_link(data)
    %{stop_checker(data) | link: nil}
  end

  defp clear_link(data) do
    @route_manager.clear_route(data.ifname)
    @name_resolver.clear(data.ifname)
    @route_manager.set_connection_status(data.ifname, :disconnected, "PPP is down")
  catch
    :exit, _ -> :ok
  end

  # The link's workers: InternetChecker and the statistics poller.
  defp stop_checker(data) do
    %{data | checker: stop_worker(data, data.checker), stats: stop_worker(data, data.stats)}
  end

  defp stop_worker(_data, nil), do: nil

  defp stop_worker(data, {ref, pid}) do
    Process.demonitor(ref, [:flush])
    _ = DynamicSupervisor.terminate_child(data.workers, pid)
    nil
  end

  # Helpers

  defp command(%{at_port: nil}, _cmd), do: {:error, :closed}

  defp command(%{at_port: {_ref, pid}} = data, cmd) do
    ATPort.command(pid, cmd, data.settings.command_timeout)
  catch
    :exit, _ -> {:error, :closed}
  end

  defp parsed(line, kind) do
    case AT.parse(line) do
      {:ok, {^kind, fields}} -> fields
      _ -> nil
    end
  end

  defp cme_code(code) when is_integer(code), do: code

  defp cme_code(text) when is_binary(text) do
    case AT.parse("+CME ERROR: " <> text) do
      {:ok, {:cme_error, %{code: code}}} when is_integer(code) -> code
      _ -> text
    end
  end

  defp profile_call(%{modem: %{profile: profile}}, fun, args, default),
    do: ModemProfile.call(profile, fun, args, default)

  defp profile_call(_data, _fun, _args, default), do: default

  # The modems in sysfs, and the data (which remembers the last failure).
  defp scan(data) do
    found = Discovery.scan(data.settings.sysfs_root, profile: Map.get(data.config, :modem, :auto))
    {found, forget_gone(%{data | last_scan_error: nil}, found)}
  rescue
    e ->
      # Said once per distinct failure, not at every rescan.
      message = Exception.message(e)
      level = if data.last_scan_error == message, do: :debug, else: :warning
      log(data, level, "USB discovery failed: #{message}")
      {[], %{data | last_scan_error: message}}
  end

  defp modem_present?(data) do
    {found, data} = scan(data)
    {ModemSelect.still_present?(data.modem, found, data.config), data}
  end

  defp put_or_delete(ifname, key, nil), do: PropertyWriter.delete(ifname, key)
  defp put_or_delete(ifname, key, value), do: PropertyWriter.put(ifname, key, value)

  defp set_reason(data, reason) do
    PropertyWriter.put(data.ifname, "reason", reason)
    %{data | reason: reason}
  end

  defp format_error({:error, reason}), do: format_error(reason)
  defp format_error({:cme_error, x}), do: "+CME ERROR: #{x}"
  defp format_error({:cms_error, x}), do: "+CMS ERROR: #{x}"
  defp format_error(reason) when is_atom(reason), do: Atom.to_string(reason)
  defp format_error(reason) when is_binary(reason), do: reason
  defp format_error(reason), do: inspect(reason)

  defp redact(cmd), do: VintageNetCellular.redact(cmd)

  # A failure that repeats at every retry is logged as a warning the first
  # time, and at debug level after that.
  defp log_once(%{last_failure: reason} = data, reason, message) do
    log(data, :debug, message)
    data
  end

  defp log_once(data, reason, message) do
    log(data, :warning, message)
    %{data | last_failure: reason}
  end

  defp log(data, level, message) do
    Logger.log(level, "[vintage_net_cellular] #{data.ifname}: #{message}")
  end

  # Searching: one sysfs scan, then claim the first free candidate.
  defp search(data) do
    {scan, data} = scan(data)
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
            {:keep_state, data, [{:next_event, :internal, :scan}]}
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

    me = self()
    token = make_ref()
    task = fn -> send(me, {:probed, token, Probe.run(modem, opts)}) end
    spec = Supervisor.child_spec({Task, task}, id: :probe, restart: :temporary)

    case DynamicSupervisor.start_child(data.workers, spec) do
      {:ok, pid} ->
        # Its end is watched too: a probe that died sends no answer.
        mref = Process.monitor(pid)
        reason = "probing the ports of #{ModemSelect.describe(modem)} with AT"
        {:keep_state, set_reason(%{data | probing: {token, modem, mref}}, reason)}

      other ->
        set_aside(%{data | modem: modem}, "could not start the port probe: #{inspect(other)}")
    end
  end
end
