defmodule VintageNetCellular.ATPort do
  @moduledoc """
  One modem tty, spoken to with AT commands. One process per tty.

  The tty itself is owned by the port program `cellular_port` (Rust), so a hung
  USB device, a blocking read or a vanished tty never touches a BEAM
  scheduler. This process starts the program, queues commands to it, delivers
  URCs to subscribers and restarts the program if it dies.

  The port program parses each line once, where the bytes are: every URC and
  every information line of a response reaches this process already parsed
  (as `VintageNetCellular.AT.parse/1` would parse it) beside the raw line, so
  subscribers never parse a URC again. Frames are Erlang terms both ways:
  requests are `:erlang.term_to_binary/1`, events are read with
  `:erlang.binary_to_term(frame, [:safe])`, whose atoms all come from one
  table in the port program that `VintageNetCellular.ATPort.Atoms` mirrors.
  This path uses no NIF: a missing or stale NIF never stops a modem talking.

      {:ok, at} = VintageNetCellular.ATPort.start_link(tty: "ttyUSB2")
      {:ok, ["+CSQ: 17,99"]} = VintageNetCellular.ATPort.command(at, "AT+CSQ")
      :ok = VintageNetCellular.ATPort.subscribe(at, "+CREG:")
      # receive {VintageNetCellular.ATPort, ^at,
      #          {:urc, "+CREG: 1,\\"1A2B\\",\\"01C3D04\\",7", {:ok, {:creg, %{stat: :registered_home, ...}}}}}

  ## Options of `start_link/1`

  * `:tty` (required): `"/dev/ttyUSB2"`, or a bare name such as `"ttyUSB2"`
    that is looked up under `:dev_root`;
  * `:dev_root`: where bare names live; default
    `Application.get_env(:vintage_net_cellular, :dev_root, "/dev")`;
  * `:speed` (default `115_200`) and `:flow_control` (`:none`, the default, or
    `:hardware` for RTS/CTS on UART-attached modems);
  * `:name`: a name to register the process under (`GenServer` rules);
  * `:drain_ms` (default `2_000`): how long a timed-out command may still
    answer before the next command is written (see "Late replies");
  * `:urc_prefixes`: extra URC line prefixes of the modem profile;
  * `:subscribers`: `[{pid, prefix}]`, subscribed from the start as with
    `subscribe/2`, so the starter gets `:opened` without calling this process
    (which spawns its program right after `init/1` and is busy meanwhile);
  * `:port_program`: the `cellular_port` executable (default: the one in
    `priv/native`);
  * `:backstop_margin_ms` (default `5_000`): slack added to a command's
    timeout and drain before a port program that has not answered it is
    considered hung, killed and restarted;
  * `:max_response_lines` (default `1_000`) and `:max_response_bytes` (default
    `65_536`, each line counted with one byte for its end): the most one
    response may hold; see "Limits";
  * `:max_queue` (default `64`): the most commands waiting or in flight;
  * `:urc_burst` (default `1_000`) and `:urc_per_second` (default `200`): the
    URC rate the port program lets through;
  * `:max_subscriber_queue` (default `1_000`): a subscriber with this many
    messages in its mailbox is not sent more URCs until it catches up.

  ## Results of `command/3`

  * `{:ok, lines}` for `OK`: the information lines, without echo or blank lines
    (`command_parsed/3` gives each with its parsed form);
  * `{:ok, :connect}` or `{:ok, {:connect, rate}}` for `CONNECT`;
  * `{:ok, :prompt}` for the SMS prompt `> `: send the body with `send_body/3`;
  * `{:error, :error}`, `{:error, {:cme_error, code}}`, `{:error, {:cms_error, code}}`
    (`code` an integer when the modem says a number, otherwise its text);
  * `{:error, :no_carrier | :busy | :no_answer | :no_dialtone}`;
  * `{:error, :timeout}`: no final result within `timeout_ms`, counted from the
    moment the command is written to the tty (time waiting in the queue is not
    counted);
  * `{:error, :closed}`: the tty is missing or vanished, or the port program died;
  * `{:error, :response_too_large}`: the response passed `:max_response_lines`
    or `:max_response_bytes`;
  * `{:error, :queue_full}`: `:max_queue` commands were already waiting (the
    command was not sent).

  Commands queue FIFO with one in flight. The call itself never times out
  (`GenServer.call/3` with `:infinity`): the port program answers every command,
  and a backstop here kills and restarts a port program that stops answering.

  ## Late replies

  A command that timed out stays "draining" in the port program: its late
  echo, information lines and final result are recognised and dropped, and the
  next command is written only after that final result arrives or `:drain_ms`
  passes. So a late reply is never credited to the next command.

  ## Limits

  Nothing a modem sends grows memory without end, here or in the port
  program, and the limits are enforced in the port program, where the bytes
  are:

  * **Responses.** The information line that takes a response past
    `:max_response_lines` or `:max_response_bytes` ends its command at once
    with `{:error, :response_too_large}`. The command is then drained like a
    timed-out one (see "Late replies"): the rest of its reply is counted and
    dropped in the port program, never sent here, and the next command is
    written after its final result or `:drain_ms`. URCs keep flowing
    meanwhile.
  * **Lines.** A line longer than 4 KiB is dropped (counted in
    `stats/1` as `overflow_bytes`); a storm of them is reported and logged by
    the port program at most once a second, with every byte counted.
  * **The queue.** At most `:max_queue` commands wait or run; one more returns
    `{:error, :queue_full}` at once.
  * **URCs.** The port program lets `:urc_burst` URCs through at once and
    then `:urc_per_second`; the surplus is shed and counted (`urcs_shed_port`
    in `stats/1`). A subscriber whose mailbox holds `:max_subscriber_queue`
    messages misses URCs until it catches up (`urcs_shed_subscriber`).
  * **The port program's buffers** are fixed (16 KiB reads, one line, one
    response, one request frame of at most 1 MiB); it writes each event before
    reading more from the tty, so a BEAM that falls behind slows the modem
    down through the kernel's buffers rather than queueing in the program.

  ## URCs and status messages

  `subscribe(server, prefix)` delivers every URC line that starts with `prefix`
  (`""` for all) as

      {VintageNetCellular.ATPort, server, {:urc, line, parsed}}

  however it interleaved with a command's response. `line` is the raw line
  (without CR/LF) and `parsed` what `VintageNetCellular.AT.parse(line)`
  returns, `{:ok, {kind, fields}}` or `{:error, {reason, detail}}`, parsed
  once in the port program. The URC is a tagged tuple so that it can never be
  mistaken for a status atom. `server` is the `:name` given to
  `start_link/1`, or the ATPort pid when there is none. Subscribers also get
  `{VintageNetCellular.ATPort, server, :opened}` when the tty (re)opens and
  `{VintageNetCellular.ATPort, server, :closed}` when it closes or vanishes.
  When the tty itself vanished (the device was unplugged, reset or
  re-enumerated, as opposed to the port program dying), `:closed` is
  preceded by `{VintageNetCellular.ATPort, server, :vanished}`.
  Subscribers are monitored and forgotten when they exit.

  ## The multiplexer (CMUX)

  On a modem wired over one UART, `mux_start/2` (after the modem answered
  `OK` to `AT+CMUX=0,...` on the plain port) makes the port program run the
  3GPP TS 27.010 basic-mode multiplexer on the tty: commands then travel on
  DLCI 1, and DLCI 2 is offered on a pty for pppd. Subscribers get
  `{VintageNetCellular.ATPort, server, {:mux_up, data_tty}}` (the pty slave
  path for pppd) and, when it ends (on `mux_stop/1`, or because the modem
  stopped answering, sent bad frames or dropped a channel),
  `{VintageNetCellular.ATPort, server, {:mux_down, reason}}`; commands then
  travel on the plain tty again. `mux_stop/1` while no multiplexer runs writes
  a close-down anyway, which a modem in AT mode ignores: send it when an
  earlier program may have left the modem multiplexing. This process does so
  itself when its own port program dies while multiplexing (subscribers get
  `{:mux_down, "the port program died"}`); the new program writes the
  close-down before the first command.

  ## Missing ttys and crashes

  While the tty is missing the port program retries with backoff (100 ms
  doubling to 5 s) and logs a warning; commands meanwhile return
  `{:error, :closed}`. When the device vanishes, pending commands return
  `{:error, :closed}`; it is reopened when it comes back.

  If the port program exits, this process logs a warning, answers pending calls
  `{:error, :closed}` and starts a new program (backoff 100 ms doubling to 5 s,
  reset once a tty opens). It does not stop, so its subscribers stay. When
  the program died with a command in flight, the modem may still owe that
  reply: the new program drains it (as above, at most `:drain_ms`) before
  writing the first command.

  ## Secrets

  Arguments of PIN and password commands (`AT+CPIN=`, `AT+CGAUTH=`, ...) are
  replaced by `<redacted>` in every log line, where the bytes are: the port
  program logs timeouts and over-long responses with its own redaction table
  (`redact/1` exposes the same table). This process's own messages (a hung
  port program, a command with a line break) show a command only up to its
  first `=`, hiding all its arguments, and never show an SMS body.
  """
  use GenServer
  require Logger

  alias VintageNetCellular.ATPort.Atoms
  alias VintageNetCellular.ATPort.Subscriptions
  alias VintageNetCellular.Native

  @default_timeout 5_000
  @first_restart 100
  @max_restart 5_000
  # The port's own margin: a stalled tty write (2 s) plus scheduling slack.
  @backstop_margin 5_000
  # Timeouts travel as u32 milliseconds.
  @max_timeout 0xFFFF_FFFF

  @defaults [
    max_response_lines: 1_000,
    max_response_bytes: 65_536,
    max_queue: 64,
    urc_burst: 1_000,
    urc_per_second: 200,
    max_subscriber_queue: 1_000
  ]
  # Limits travel as u32.
  @max_u32 0xFFFF_FFFF

  @type server :: GenServer.server()

  @typedoc """
  Counters of `stats/1`, since the process started:

  * `urcs_delivered`: URC messages sent to subscribers;
  * `urcs_shed_port`: URCs the port program shed over the URC rate;
  * `urcs_shed_subscriber`: URC messages not sent to a subscriber whose
    mailbox was full;
  * `responses_too_large`: commands answered `{:error, :response_too_large}`;
  * `queue_full`: commands refused with `{:error, :queue_full}`;
  * `overflow_bytes`: bytes of over-long lines dropped.
  """
  @type stats :: %{
          urcs_delivered: non_neg_integer(),
          urcs_shed_port: non_neg_integer(),
          urcs_shed_subscriber: non_neg_integer(),
          responses_too_large: non_neg_integer(),
          queue_full: non_neg_integer(),
          overflow_bytes: non_neg_integer()
        }
  @typedoc "A line as `VintageNetCellular.AT.parse/1` parses it."
  @type parsed :: {:ok, {atom(), map()}} | {:error, {atom(), String.t()}}

  @type result ::
          {:ok, [String.t()]}
          | {:ok, :connect | {:connect, String.t()} | :prompt}
          | {:error,
             :error
             | {:cme_error, integer() | String.t()}
             | {:cms_error, integer() | String.t()}
             | :no_carrier
             | :busy
             | :no_answer
             | :no_dialtone
             | :timeout
             | :closed
             | :response_too_large
             | :queue_full}

  @doc "Starts the process for one tty. See the module documentation for options."
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts) do
    tty = Keyword.fetch!(opts, :tty)

    unless is_binary(tty) and tty != "" do
      raise ArgumentError, "ATPort option :tty must be a non-empty string, got: #{inspect(tty)}"
    end

    case Keyword.fetch(opts, :name) do
      {:ok, name} -> GenServer.start_link(__MODULE__, opts, name: name)
      :error -> GenServer.start_link(__MODULE__, opts)
    end
  end

  @doc """
  Sends one AT command line (without CR) and waits for its result.

  Raises `ArgumentError` when `text` contains CR or LF (it would be two
  commands). See the module documentation for the results.
  """
  @spec command(server(), String.t(), pos_integer()) :: result()
  def command(server, text, timeout_ms \\ @default_timeout)
      when is_binary(text) and is_integer(timeout_ms) and timeout_ms in 1..@max_timeout do
    request_command(server, text, timeout_ms, false)
  end

  defp request_command(server, text, timeout_ms, parsed?) do
    check_text!(text, "command/3")

    case :binary.match(text, ["\r", "\n"]) do
      {offset, _} ->
        raise ArgumentError,
              "ATPort.command/3: the command #{inspect(shown(text))} contains a line break " <>
                "at byte #{offset}; send one command line without CR/LF"

      :nomatch ->
        GenServer.call(server, {:request, :command, text, timeout_ms, parsed?}, :infinity)
    end
  end

  @doc """
  Like `command/3`, but an `OK` answer gives each information line with its
  parsed form, `{:ok, [{line, parsed}]}`, `parsed` being what
  `VintageNetCellular.AT.parse(line)` returns (parsed once, in the port
  program). Other results are those of `command/3`.
  """
  @spec command_parsed(server(), String.t(), pos_integer()) :: {:ok, [{String.t(), parsed()}]} | result()
  def command_parsed(server, text, timeout_ms \\ @default_timeout)
      when is_binary(text) and is_integer(timeout_ms) and timeout_ms in 1..@max_timeout do
    request_command(server, text, timeout_ms, true)
  end

  @doc """
  Writes `body` as is (after a `{:ok, :prompt}`: the SMS text or PDU ending in
  Ctrl-Z, `<<26>>`) and waits for the final result, like `command/3`.
  """
  @spec send_body(server(), String.t(), pos_integer()) :: result()
  def send_body(server, body, timeout_ms \\ 60_000)
      when is_binary(body) and is_integer(timeout_ms) and timeout_ms in 1..@max_timeout do
    check_text!(body, "send_body/3")
    GenServer.call(server, {:request, :raw, body, timeout_ms, false}, :infinity)
  end

  @doc """
  Delivers URCs starting with `prefix` to the calling process as
  `{VintageNetCellular.ATPort, server, {:urc, line, parsed}}`; also status
  messages (see the module documentation). Subscribing twice to one prefix delivers once.
  """
  @spec subscribe(server(), String.t()) :: :ok
  def subscribe(server, prefix) when is_binary(prefix) do
    GenServer.call(server, {:subscribe, self(), prefix})
  end

  @doc "Stops delivering URCs starting with `prefix` to the calling process."
  @spec unsubscribe(server(), String.t()) :: :ok
  def unsubscribe(server, prefix) when is_binary(prefix) do
    GenServer.call(server, {:unsubscribe, self(), prefix})
  end

  @doc """
  Starts the multiplexer on the open tty (see "The multiplexer" above); `n1`
  is the largest frame information field, as given to `AT+CMUX`. The outcome
  arrives as a `{:mux_up, data_tty}` or `{:mux_down, reason}` status message.
  """
  @spec mux_start(server(), pos_integer()) :: :ok | {:error, :closed}
  def mux_start(server, n1 \\ 127) when is_integer(n1) and n1 in 1..32_768 do
    GenServer.call(server, {:mux, {:mux_start, n1}})
  end

  @doc """
  Closes the multiplexer down, leaving the modem in plain AT mode; a
  `{:mux_down, reason}` status message follows.
  """
  @spec mux_stop(server()) :: :ok | {:error, :closed}
  def mux_stop(server), do: GenServer.call(server, {:mux, :mux_stop})

  @doc "Whether the tty is open right now."
  @spec status(server()) :: :opened | :closed
  def status(server), do: GenServer.call(server, :status)

  @doc "Counters of shed and refused work; see `t:stats/0`."
  @spec stats(server()) :: stats()
  def stats(server), do: GenServer.call(server, :stats)

  @doc "The OS pid of the current port program, or nil while it restarts."
  @spec os_pid(server()) :: non_neg_integer() | nil
  def os_pid(server), do: GenServer.call(server, :os_pid)

  @doc """
  The command with secret arguments replaced by `<redacted>`.

      iex> VintageNetCellular.ATPort.redact("AT+CPIN=1234")
      "AT+CPIN=<redacted>"
      iex> VintageNetCellular.ATPort.redact("AT+CSQ")
      "AT+CSQ"
  """
  @spec redact(String.t()) :: String.t()
  def redact(text) when is_binary(text), do: Native.port_redact(text)

  @doc """
  The tty path for `tty`: absolute paths stay, bare names go under `dev_root`.

      iex> VintageNetCellular.ATPort.tty_path("ttyUSB2", "/dev")
      "/dev/ttyUSB2"
      iex> VintageNetCellular.ATPort.tty_path("/dev/ttyACM0", "/tmp/dev")
      "/dev/ttyACM0"
  """
  @spec tty_path(String.t(), Path.t()) :: Path.t()
  def tty_path("/" <> _ = path, _dev_root), do: path
  def tty_path(name, dev_root), do: Path.join(dev_root, name)

  defp check_text!(text, function) do
    unless String.valid?(text) do
      raise ArgumentError,
            "ATPort.#{function}: the text is not valid UTF-8 (first bad byte at offset #{bad_offset(text, 0)})"
    end

    :ok
  end

  defp bad_offset(<<c::utf8, rest::binary>>, offset), do: bad_offset(rest, offset + byte_size(<<c::utf8>>))
  defp bad_offset(_, offset), do: offset

  # ---------------------------------------------------------------------------
  # GenServer
  # ---------------------------------------------------------------------------

  @impl GenServer
  def init(opts) do
    # No trap_exit: killed with its supervisor, or by anyone, this process
    # just ends (no crash report); the port program, linked to it, gets end
    # of file on stdin and exits.
    dev_root = Keyword.get(opts, :dev_root, Application.get_env(:vintage_net_cellular, :dev_root, "/dev"))
    path = tty_path(Keyword.fetch!(opts, :tty), dev_root)

    program =
      Keyword.get_lazy(opts, :port_program, fn ->
        Path.join(:code.priv_dir(:vintage_net_cellular), "native/cellular_port")
      end)

    flow = Keyword.get(opts, :flow_control, :none)

    with :ok <- check_program(program),
         :ok <- check_flow(flow),
         {:ok, limits} <- check_limits(opts),
         {:ok, subscribers} <- check_subscribers(Keyword.get(opts, :subscribers, [])) do
      state = %{
        me: Keyword.get(opts, :name, self()),
        path: path,
        program: program,
        open_request:
          {:open, path, Keyword.get(opts, :speed, 115_200), flow, Keyword.get(opts, :drain_ms, 2_000),
           Keyword.get(opts, :urc_prefixes, []),
           {limits.max_response_lines, limits.max_response_bytes, limits.max_queue, limits.urc_burst,
            limits.urc_per_second}},
        max_queue: limits.max_queue,
        max_subscriber_queue: limits.max_subscriber_queue,
        stats: %{
          urcs_delivered: 0,
          urcs_shed_port: 0,
          urcs_shed_subscriber: 0,
          responses_too_large: 0,
          queue_full: 0,
          overflow_bytes: 0
        },
        # Whether the modem may owe a reply to commands of a program that died.
        owed_reply: false,
        # :up while the program multiplexes; :left_on when a program died
        # multiplexing (the next one writes a close-down first); nil otherwise.
        mux: nil,
        drain_ms: Keyword.get(opts, :drain_ms, 2_000),
        backstop_margin: Keyword.get(opts, :backstop_margin_ms, @backstop_margin),
        port: nil,
        os_pid: nil,
        status: :closed,
        next_id: 1,
        pending: %{},
        queue_bound: nil,
        subs: Subscriptions.new(),
        restart_delay: @first_restart
      }

      state = Enum.reduce(subscribers, state, fn {pid, prefix}, acc -> subscribe_pid(acc, pid, prefix) end)

      # The program is spawned after init returns: fork and exec may take a
      # while on a loaded system, and whoever starts this process (the
      # connection manager) must not wait for it.
      {:ok, state, {:continue, :start_program}}
    end
  end

  @impl GenServer
  def handle_continue(:start_program, state), do: {:noreply, start_program(state)}

  @impl GenServer
  def handle_call({:request, _kind, _text, _timeout_ms, _parsed?}, _from, %{port: nil} = state) do
    {:reply, {:error, :closed}, state}
  end

  def handle_call({:request, _kind, _text, _timeout_ms, _parsed?}, _from, state)
      when map_size(state.pending) >= state.max_queue do
    {:reply, {:error, :queue_full}, bump(state, :queue_full, 1)}
  end

  def handle_call({:request, kind, text, timeout_ms, parsed?}, from, state) do
    id = state.next_id

    if send_frame(state.port, :erlang.term_to_binary({kind, id, text, timeout_ms})) do
      shown = if kind == :raw, do: "#{byte_size(text)} raw bytes", else: shown(text)
      {:noreply, track(state, id, {from, parsed?}, shown, timeout_ms)}
    else
      # The program just died; its exit_status message is on its way.
      {:reply, {:error, :closed}, state}
    end
  end

  def handle_call({:mux, _request}, _from, %{port: nil} = state), do: {:reply, {:error, :closed}, state}

  def handle_call({:mux, request}, _from, state) do
    if send_frame(state.port, :erlang.term_to_binary(request)),
      do: {:reply, :ok, state},
      else: {:reply, {:error, :closed}, state}
  end

  def handle_call({:subscribe, pid, prefix}, _from, state), do: {:reply, :ok, subscribe_pid(state, pid, prefix)}

  def handle_call({:unsubscribe, pid, prefix}, _from, state) do
    subs =
      case Subscriptions.remove(state.subs, pid, prefix) do
        {:ok, subs} ->
          subs

        {:demonitor, ref, subs} ->
          if ref, do: Process.demonitor(ref, [:flush])
          subs
      end

    {:reply, :ok, %{state | subs: subs}}
  end

  def handle_call(:status, _from, state), do: {:reply, state.status, state}
  def handle_call(:os_pid, _from, state), do: {:reply, state.os_pid, state}
  def handle_call(:stats, _from, state), do: {:reply, state.stats, state}

  @impl GenServer
  def handle_info({port, {:data, frame}}, %{port: port} = state) do
    case Atoms.decode(frame) do
      {:ok, event} ->
        {:noreply, handle_event(event, state)}

      {:error, detail} ->
        Logger.error("ATPort #{state.path}: #{detail}")
        {:noreply, state}
    end
  end

  def handle_info({port, {:exit_status, status}}, %{port: port} = state) do
    # A warning: the program is restarted, nothing is lost but pending calls.
    Logger.warning(
      "ATPort #{state.path}: the port program exited with status #{status}; " <>
        "restarting it in #{state.restart_delay} ms"
    )

    {:noreply, program_gone(state)}
  end

  def handle_info(:restart_program, %{port: nil} = state) do
    {:noreply, start_program(state)}
  end

  def handle_info({:backstop, id}, state) do
    case Map.fetch(state.pending, id) do
      {:ok, %{shown: shown}} ->
        # A warning: the hung program is replaced and the caller answered.
        Logger.warning(
          "ATPort #{state.path}: the port program did not answer #{shown} in time; " <>
            "killing and restarting it"
        )

        kill_program(state)
        {:noreply, program_gone(state)}

      :error ->
        {:noreply, state}
    end
  end

  def handle_info({:DOWN, _ref, :process, pid, _reason}, state) do
    {:noreply, %{state | subs: Subscriptions.drop(state.subs, pid)}}
  end

  def handle_info(_other, state), do: {:noreply, state}

  @impl GenServer
  def terminate(_reason, state) do
    if state.port do
      # Closing stdin makes the program exit and release the tty.
      try do
        Port.close(state.port)
      rescue
        ArgumentError -> :ok
      end
    end

    :ok
  end

  # ---------------------------------------------------------------------------

  # The port program logs timeouts and over-long responses itself, with the
  # command redacted where its bytes are.
  defp handle_event({:response, id, reply, parsed}, state) do
    case Map.pop(state.pending, id) do
      {nil, _} ->
        state

      {%{from: {from, parsed?}, timer: timer}, pending} ->
        _ = Process.cancel_timer(timer)

        state =
          case reply do
            {:error, :response_too_large} -> bump(state, :responses_too_large, 1)
            {:error, :queue_full} -> bump(state, :queue_full, 1)
            _ -> state
          end

        GenServer.reply(from, with_parsed(reply, parsed, parsed?))
        state = %{state | pending: pending}
        if pending == %{}, do: %{state | queue_bound: nil}, else: state
    end
  end

  defp handle_event({:urc, line, parsed}, state), do: handle_event({:urcs, [{line, parsed}]}, state)

  # A burst of URCs read at once comes as one frame (a lone URC as
  # {:urc, line, parsed}): each is delivered as its own {:urc, line, parsed}
  # message, in order. Whether a subscriber's mailbox is full is looked at
  # once per frame.
  defp handle_event({:urcs, urcs}, state) when is_list(urcs) do
    full = for pid <- Subscriptions.pids(state.subs), mailbox_full?(pid, state.max_subscriber_queue), do: pid

    {sent, shed} =
      Enum.reduce(urcs, {0, 0}, fn
        {line, parsed}, acc when is_binary(line) ->
          Enum.reduce(Subscriptions.matching(state.subs, line), acc, fn pid, {sent, shed} ->
            if pid in full do
              {sent, shed + 1}
            else
              send(pid, {__MODULE__, state.me, {:urc, line, parsed}})
              {sent + 1, shed}
            end
          end)

        _other, acc ->
          acc
      end)

    state |> bump(:urcs_delivered, sent) |> bump(:urcs_shed_subscriber, shed)
  end

  defp handle_event({:urcs_shed, count}, state) when is_integer(count) and count >= 0 do
    bump(state, :urcs_shed_port, count)
  end

  defp handle_event({:opened, _path}, state) do
    notify_all(state, :opened)
    %{state | status: :opened, restart_delay: @first_restart}
  end

  # The tty itself closed under the program (the device vanished), as opposed
  # to the program dying: subscribers hear :vanished first, then :closed.
  defp handle_event({:closed, _reason}, state) do
    if state.status == :opened do
      notify_all(state, :vanished)
      notify_all(state, :closed)
    end

    %{state | status: :closed}
  end

  defp handle_event({:retrying, _reason, _in_ms}, state), do: state

  defp handle_event({:overflow, dropped}, state) when is_integer(dropped) and dropped >= 0 do
    bump(state, :overflow_bytes, dropped)
  end

  defp handle_event({:log, level, target, message}, state) do
    Logger.log(level, fn -> "#{target} #{state.path}: #{message}" end)
    state
  end

  defp handle_event({:mux_up, data_tty}, state) when is_binary(data_tty) do
    notify_all(state, {:mux_up, data_tty})
    %{state | mux: :up}
  end

  # The answer to the close-down a new program wrote for its dead
  # predecessor's multiplexer: its subscribers heard of that end already.
  defp handle_event({:mux_down, _reason}, %{mux: :left_on} = state), do: %{state | mux: nil}

  defp handle_event({:mux_down, reason}, state) when is_binary(reason) do
    notify_all(state, {:mux_down, reason})
    %{state | mux: nil}
  end

  defp handle_event(_unknown, state), do: state

  defp with_parsed({:ok, lines}, parsed, true) when is_list(lines) and length(lines) == length(parsed),
    do: {:ok, Enum.zip(lines, parsed)}

  defp with_parsed(reply, _parsed, _parsed?), do: reply

  # What this process's own messages show of a command: up to its first "=",
  # so that no argument (PIN, password, APN) can appear whatever the command.
  defp shown(text) do
    case :binary.split(text, "=") do
      [head, _args] -> head <> "=<redacted>"
      [head] -> head
    end
  end

  defp bump(state, _key, 0), do: state
  defp bump(state, key, n), do: %{state | stats: Map.update!(state.stats, key, &(&1 + n))}

  defp mailbox_full?(pid, _max) when node(pid) != node(), do: false

  defp mailbox_full?(pid, max) do
    case Process.info(pid, :message_queue_len) do
      {:message_queue_len, len} when is_integer(len) -> len >= max
      _ -> false
    end
  end

  defp notify_all(state, what) do
    for pid <- Subscriptions.pids(state.subs), do: send(pid, {__MODULE__, state.me, what})
    :ok
  end

  # Upper bound of when the port program must have answered: after every
  # command ahead of this one, this one's timeout and a drain.
  defp track(state, id, from, shown, timeout_ms) do
    now = System.monotonic_time(:millisecond)
    # (Monotonic time may be negative: nil, not 0, means "nothing queued".)
    bound = max(state.queue_bound || now, now) + timeout_ms + state.drain_ms + state.backstop_margin
    timer = Process.send_after(self(), {:backstop, id}, bound - now)
    pending = Map.put(state.pending, id, %{from: from, shown: shown, timer: timer})
    %{state | next_id: id + 1, pending: pending, queue_bound: bound}
  end

  defp send_frame(port, frame) do
    Port.command(port, frame)
  rescue
    ArgumentError -> false
  end

  defp start_program(state) do
    port =
      Port.open({:spawn_executable, state.program}, [
        :binary,
        {:packet, 4},
        :exit_status,
        :use_stdio,
        {:env, [{~c"CELLULAR_PORT_LOG", port_log_level()}]}
      ])

    os_pid =
      case Port.info(port, :os_pid) do
        {:os_pid, pid} -> pid
        nil -> nil
      end

    _ = send_frame(port, :erlang.term_to_binary(Tuple.insert_at(state.open_request, 7, state.owed_reply)))
    # A program that died multiplexing left the modem in CMUX mode.
    if state.mux == :left_on, do: send_frame(port, :erlang.term_to_binary(:mux_stop))
    %{state | port: port, os_pid: os_pid, owed_reply: false}
  rescue
    e in ErlangError ->
      Logger.error(
        "ATPort #{state.path}: cannot start #{state.program} (#{Exception.message(e)}); " <>
          "retrying in #{state.restart_delay} ms"
      )

      Process.send_after(self(), :restart_program, state.restart_delay)
      %{state | port: nil, os_pid: nil, restart_delay: min(state.restart_delay * 2, @max_restart)}
  end

  defp subscribe_pid(state, pid, prefix) do
    subs =
      case Subscriptions.add(state.subs, pid, prefix) do
        {:ok, subs} -> subs
        {:monitor, subs} -> Subscriptions.monitored(subs, pid, Process.monitor(pid))
      end

    %{state | subs: subs}
  end

  # The program died (or was killed): answer everyone, schedule a new one.
  defp program_gone(state) do
    for {_id, %{from: {from, _parsed?}, timer: timer}} <- state.pending do
      _ = Process.cancel_timer(timer)
      GenServer.reply(from, {:error, :closed})
    end

    if state.status == :opened, do: notify_all(state, :closed)
    if state.mux == :up, do: notify_all(state, {:mux_down, "the port program died"})
    Process.send_after(self(), :restart_program, state.restart_delay)

    %{
      state
      | port: nil,
        os_pid: nil,
        status: :closed,
        pending: %{},
        queue_bound: nil,
        owed_reply: state.pending != %{},
        mux: if(state.mux == :up, do: :left_on, else: state.mux),
        restart_delay: min(state.restart_delay * 2, @max_restart)
    }
  end

  defp kill_program(%{port: port, os_pid: os_pid}) do
    try do
      Port.close(port)
    rescue
      ArgumentError -> :ok
    end

    _ = os_pid && System.cmd("kill", ["-KILL", Integer.to_string(os_pid)], stderr_to_stdout: true)
    :ok
  end

  defp port_log_level do
    case Logger.level() do
      :debug -> ~c"debug"
      level when level in [:info, :notice] -> ~c"info"
      level when level in [:warning, :warn] -> ~c"warning"
      _ -> ~c"error"
    end
  end

  defp check_program(program) do
    if File.exists?(program) do
      :ok
    else
      {:stop,
       {:port_program_missing,
        "#{program} does not exist; build it with `mix compile` (it runs cargo build --release in native/)"}}
    end
  end

  defp check_limits(opts) do
    Enum.reduce_while(@defaults, {:ok, %{}}, fn {key, default}, {:ok, acc} ->
      case Keyword.get(opts, key, default) do
        n when is_integer(n) and n in 1..@max_u32 ->
          {:cont, {:ok, Map.put(acc, key, n)}}

        other ->
          {:halt,
           {:stop, {:bad_option, "ATPort option #{inspect(key)} must be a positive integer, got: #{inspect(other)}"}}}
      end
    end)
  end

  defp check_subscribers(list) when is_list(list) do
    case Enum.reject(list, &match?({pid, prefix} when is_pid(pid) and is_binary(prefix), &1)) do
      [] ->
        {:ok, list}

      [bad | _] ->
        {:stop, {:bad_option, "ATPort option :subscribers must hold {pid, prefix} pairs, got: #{inspect(bad)}"}}
    end
  end

  defp check_subscribers(other),
    do: {:stop, {:bad_option, "ATPort option :subscribers must be a list of {pid, prefix}, got: #{inspect(other)}"}}

  defp check_flow(flow) when flow in [:none, :hardware], do: :ok

  defp check_flow(flow) do
    {:stop, {:bad_option, "ATPort option :flow_control must be :none or :hardware, got: #{inspect(flow)}"}}
  end
end
