defmodule VintageNetCellular.Uevents do
  @moduledoc """
  The kernel's device events, so a modem plugged in after configure is
  claimed at once instead of at the next sysfs poll.

  This process runs `cellular_port uevents` as a port: the program listens
  on a `NETLINK_KOBJECT_UEVENT` socket and writes one frame per kernel event
  of the `tty`, `usb`, `net` and `usbmisc` subsystems (see
  `cellular_core::uevent`). A USB modem brings a burst of them within
  milliseconds (the device, each interface, each driver bind, each tty), so
  events are gathered until `:quiet_ms` pass without one, or `:max_delay_ms`
  after the first, whichever comes first; then each subscriber gets one
  message:

      {:uevent, %{count: 7, lost?: false, events: [%{action: "add", subsystem: "usb", ...}, ...]}}

  (`events` holds at most the first 64 events of the burst; `count` counts all.)
  The connection managers subscribe (`subscribe/0`) and, while they are
  looking for a modem, scan sysfs on it; their `scan_interval` poll goes on
  beside it.

  ## When there are no uevents

  Where the socket can't be opened (no netlink, not allowed), the program
  says so and exits; this process logs it once, stays up without a program
  (`status/1` tells why) and the managers just poll. `config
  :vintage_net_cellular, uevents: false` does the same without trying.

  ## Crash-only

  Neither this process nor the program keeps anything that matters: the
  program killed is started again (100 ms, doubling up to 30 s); this
  process killed is restarted by the application's supervisor, its program
  ending with it (end of file on stdin). Subscriptions live in a `Registry`
  (`VintageNetCellular.Uevents.Subscribers`), not here, and the managers
  subscribe again at each poll, so nothing is lost for longer than one
  `scan_interval`; meanwhile the poll finds the modem.

  ## Input

  Frames are read with `:erlang.binary_to_term(frame, [:safe])` and their
  atoms are all in `atoms/0`. A frame that isn't one of the expected terms
  is logged and counted as an event of its own (a scan too many is harmless,
  a missed modem is not); `{:uevents_lost, reason}` (the socket overflowed)
  likewise.
  """
  use GenServer

  require Logger

  @subscribers VintageNetCellular.Uevents.Subscribers
  @max_kept 64
  @first_restart 100
  @max_restart 30_000
  # A program that ran this long before it exited was not crash-looping.
  @stable_ms 10_000

  # Every atom the program's frames hold (cellular_core::uevent::ATOMS):
  # they exist in the VM as soon as this module is loaded.
  @atoms [
    :uevent,
    :uevents_listening,
    :uevents_unavailable,
    :uevents_lost,
    :action,
    :devname,
    :devpath,
    :devtype,
    :seqnum,
    :subsystem
  ]

  @typedoc "One kernel event, as the program sends it."
  @type event :: %{
          action: String.t(),
          subsystem: String.t(),
          devpath: String.t(),
          devname: String.t() | nil,
          devtype: String.t() | nil,
          seqnum: non_neg_integer() | nil
        }

  @typedoc "What subscribers get: `{:uevent, burst}`."
  @type burst :: %{count: pos_integer(), lost?: boolean(), events: [event()]}

  @doc "The atoms of the program's frames (`cellular_port uevents --atoms` prints the same)."
  @spec atoms() :: [atom()]
  def atoms, do: @atoms

  @doc false
  @spec child_spec(keyword()) :: Supervisor.child_spec()
  def child_spec(opts) do
    %{id: Keyword.get(opts, :name, __MODULE__), start: {__MODULE__, :start_link, [opts]}}
  end

  @doc """
  Starts the listener. Options:

  * `:name` (`#{inspect(__MODULE__)}`);
  * `:program`: the `cellular_port` executable (default: the one in this
    application's priv dir), or `nil` to run none (events then come only
    from `inject/2`);
  * `:quiet_ms` (25) and `:max_delay_ms` (60): the burst window (above);
  * `:subscribers`: the `Registry` of subscribers (`#{inspect(@subscribers)}`).
  """
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts \\ []) do
    GenServer.start_link(__MODULE__, opts, name: Keyword.get(opts, :name, __MODULE__))
  end

  @doc """
  Subscribes the calling process to bursts of events (`{:uevent, burst}`
  messages). Calling it again is harmless; the subscription ends with the
  process. `{:error, :not_running}` while the application isn't up.
  """
  @spec subscribe(atom()) :: :ok | {:error, :not_running}
  def subscribe(registry \\ @subscribers) do
    case Registry.register(registry, self(), nil) do
      {:ok, _owner} -> :ok
      {:error, {:already_registered, _pid}} -> :ok
    end
  rescue
    ArgumentError -> {:error, :not_running}
  end

  @doc """
  Handles `event` as if the kernel had sent it: the test seam (and a way
  to make every searching manager look now). `event` is an `t:event/0`
  map (missing keys are nil) or a whole term as the program sends it.
  """
  @spec inject(GenServer.server(), map() | tuple()) :: :ok
  def inject(server \\ __MODULE__, event)

  def inject(server, event) when is_map(event), do: inject(server, {:uevent, event})
  def inject(server, term) when is_tuple(term), do: GenServer.call(server, {:inject, term})

  @doc """
  The listener's state: `:listening` (the program runs), `:starting`,
  `{:unavailable, reason}` (polling only) or `:disabled` (no program); the
  program's OS pid (or nil), and how many events and bursts went by.
  """
  @spec status(GenServer.server()) :: %{
          state: term(),
          os_pid: non_neg_integer() | nil,
          events: non_neg_integer(),
          bursts: non_neg_integer()
        }
  def status(server \\ __MODULE__), do: GenServer.call(server, :status)

  # GenServer

  @impl GenServer
  def init(opts) do
    # No trap_exit: killed, this process just ends, and the program, linked
    # to it, gets end of file on stdin and exits.
    program =
      Keyword.get_lazy(opts, :program, fn ->
        if Application.get_env(:vintage_net_cellular, :uevents, true) do
          Path.join(:code.priv_dir(:vintage_net_cellular), "native/cellular_port")
        end
      end)

    state = %{
      program: program,
      port: nil,
      status: if(program, do: :starting, else: :disabled),
      restart_delay: @first_restart,
      started_at: nil,
      quiet_ms: Keyword.get(opts, :quiet_ms, 25),
      max_delay_ms: Keyword.get(opts, :max_delay_ms, 60),
      subscribers: Keyword.get(opts, :subscribers, @subscribers),
      # The burst being gathered: nil or %{events, count, lost?, deadline, timer, token}.
      burst: nil,
      events: 0,
      bursts: 0
    }

    {:ok, start_program(state)}
  end

  @impl GenServer
  def handle_call({:inject, term}, _from, state), do: {:reply, :ok, handle_term(state, term)}

  def handle_call(:status, _from, state) do
    os_pid =
      case state.port && Port.info(state.port, :os_pid) do
        {:os_pid, pid} -> pid
        _ -> nil
      end

    {:reply, %{state: state.status, os_pid: os_pid, events: state.events, bursts: state.bursts}, state}
  end

  @impl GenServer
  def handle_info({port, {:data, frame}}, %{port: port} = state) when is_binary(frame) do
    {:noreply, handle_term(state, decode(frame))}
  end

  def handle_info({port, {:exit_status, code}}, %{port: port} = state) do
    case state.status do
      {:unavailable, _reason} ->
        {:noreply, %{state | port: nil}}

      _ ->
        # A program that ran a while starts again soon; one that dies at once, ever later.
        delay = if now() - state.started_at > @stable_ms, do: @first_restart, else: state.restart_delay

        Logger.warning(
          "[vintage_net_cellular] the uevent listener exited (status #{code}); " <>
            "starting it again in #{delay} ms (sysfs is polled meanwhile)"
        )

        Process.send_after(self(), :restart_program, delay)
        {:noreply, %{state | port: nil, status: :starting, restart_delay: min(delay * 2, @max_restart)}}
    end
  end

  def handle_info(:restart_program, %{port: nil} = state), do: {:noreply, start_program(state)}

  def handle_info({:flush, token}, %{burst: %{token: token}} = state), do: {:noreply, flush(state)}

  def handle_info(_other, state), do: {:noreply, state}

  # Frames

  defp decode(frame) do
    :erlang.binary_to_term(frame, [:safe])
  rescue
    ArgumentError -> {:undecodable, byte_size(frame)}
  end

  defp handle_term(state, :uevents_listening), do: %{state | status: :listening}

  defp handle_term(state, {:uevent, event}) when is_map(event), do: add(state, normalize(event), false)

  defp handle_term(state, {:undecodable, size}) do
    Logger.warning(
      "[vintage_net_cellular] the uevent listener sent a frame of #{size} bytes that is not a term " <>
        "(binary_to_term refused it); taken as an event"
    )

    add(state, nil, true)
  end

  defp handle_term(state, {:uevents_lost, reason}) do
    # Once per burst: an overflow storm is one warning, not one per overflow.
    unless state.burst && state.burst.lost? do
      Logger.warning("[vintage_net_cellular] uevents were lost: #{text(reason)}; looking for modems anyway")
    end

    add(state, nil, true)
  end

  defp handle_term(state, {:uevents_unavailable, reason}) do
    Logger.warning("[vintage_net_cellular] #{text(reason)}; modems are found by polling sysfs only")
    %{state | status: {:unavailable, text(reason)}}
  end

  defp handle_term(state, other) do
    Logger.warning(
      "[vintage_net_cellular] unexpected frame from the uevent listener: #{inspect(other, limit: 10, printable_limit: 200)}; " <>
        "taken as an event"
    )

    add(state, nil, true)
  end

  defp normalize(event) do
    for key <- [:action, :subsystem, :devpath, :devname, :devtype, :seqnum], into: %{} do
      {key, Map.get(event, key)}
    end
  end

  defp text(reason) when is_binary(reason), do: reason
  defp text(reason), do: inspect(reason, limit: 10, printable_limit: 200)

  # Bursts: the first event starts the window; each one pushes its end
  # back by quiet_ms, but never past max_delay_ms after the first.

  defp add(%{burst: nil} = state, event, lost?) do
    deadline = now() + state.max_delay_ms

    burst = %{events: [], count: 0, lost?: false, deadline: deadline, timer: nil, token: make_ref()}
    add(%{state | burst: burst}, event, lost?)
  end

  defp add(%{burst: burst} = state, event, lost?) do
    _ = burst.timer && Process.cancel_timer(burst.timer)
    wait = max(0, min(state.quiet_ms, burst.deadline - now()))
    events = if event && burst.count < @max_kept, do: [event | burst.events], else: burst.events

    burst = %{
      burst
      | events: events,
        count: burst.count + 1,
        lost?: burst.lost? or lost?,
        timer: Process.send_after(self(), {:flush, burst.token}, wait)
    }

    %{state | burst: burst, events: state.events + 1}
  end

  defp flush(%{burst: burst} = state) do
    message = {:uevent, %{count: burst.count, lost?: burst.lost?, events: Enum.reverse(burst.events)}}

    Registry.select(state.subscribers, [{{:"$1", :_, :_}, [], [:"$1"]}])
    |> Enum.each(&send(&1, message))

    %{state | burst: nil, bursts: state.bursts + 1}
  rescue
    # No subscriber registry (the application is stopping): nobody to tell.
    ArgumentError -> %{state | burst: nil, bursts: state.bursts + 1}
  end

  defp now, do: System.monotonic_time(:millisecond)

  # The program

  defp start_program(%{program: nil} = state), do: state

  defp start_program(state) do
    if File.exists?(state.program) do
      port =
        Port.open({:spawn_executable, state.program}, [
          :binary,
          {:packet, 4},
          :exit_status,
          :use_stdio,
          args: ["uevents"]
        ])

      %{state | port: port, status: :starting, started_at: now()}
    else
      reason = "#{state.program} does not exist (build it with `mix compile`)"
      Logger.warning("[vintage_net_cellular] no uevent listener: #{reason}; modems are found by polling sysfs only")
      %{state | status: {:unavailable, reason}}
    end
  rescue
    e in ErlangError ->
      Logger.warning(
        "[vintage_net_cellular] cannot start the uevent listener #{state.program} (#{Exception.message(e)}); " <>
          "retrying in #{state.restart_delay} ms"
      )

      Process.send_after(self(), :restart_program, state.restart_delay)
      %{state | port: nil, restart_delay: min(state.restart_delay * 2, @max_restart)}
  end
end
