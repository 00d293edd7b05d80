defmodule MuonTrap.Daemon do
  @moduledoc """
  Test double of `MuonTrap.Daemon` (muontrap 1.x): it really runs the program,
  through an Erlang port, so tests can run `socat`, a fake pppd or anything else.

  Same child spec shape: `{MuonTrap.Daemon, [command, args]}` or
  `{MuonTrap.Daemon, [command, args, opts]}` (id `MuonTrap.Daemon`,
  `restart: :permanent`, `shutdown: 500`). `command` is looked up in `PATH`
  (a missing one makes `init` fail with `:enoent`, like the real one).

  Options with an effect here: `:name`, `:cd`, `:env` (`nil` values unset),
  `:arg0`, `:stderr_to_stdout`, `:log_output` (Logger level), `:log_prefix`,
  `:log_transform`, `:logger_fun`, `:exit_status_to_reason`,
  `:delay_to_sigkill` (ms, default 500). Accepted and ignored (they need
  muontrap's C helper): `:cgroup_controllers`, `:cgroup_path`, `:cgroup_base`,
  `:cgroup_sets`, `:uid`, `:gid`, `:parallelism`, `:stdio_window`,
  `:logger_metadata`. Anything else raises `ArgumentError`, like muontrap 1.6
  (which has neither `:wait_for` nor `:capture_stderr_only`).

  Exit status 0 stops the server `:normal`; any other status stops it with
  `exit_status_to_reason.(status)` (default `:error_exit_status`).

  Stopping, as muontrap 1.6 does it: the server has no `terminate/2`. The
  program is owned by a separate keeper process (muontrap's C helper plays
  that part), which notices the server is gone (however it ended, a brutal
  kill included), sends SIGTERM to the program only (its direct child: not
  the program's own children, not its process group), and SIGKILL
  `:delay_to_sigkill` ms later if it is still running. So the OS process
  outlives the server for a moment, and its output pipe stays open (drained)
  until it exits; what the program started and did not end itself survives.

  Recorded in `VintageNet.Double.calls(:muontrap)` as
  `{:start, command, args, opts}` and `{:exit, command, status}`.
  `VintageNet.Double.daemon_output/1` returns what the program printed.
  """

  @doc false
  @spec child_spec([any()]) :: Supervisor.child_spec()
  def child_spec([command, args]), do: child_spec([command, args, []])

  def child_spec([command, args, opts]) do
    %{
      id: __MODULE__,
      start: {__MODULE__, :start_link, [command, args, opts]},
      type: :worker,
      restart: :permanent,
      shutdown: 500
    }
  end

  @doc "Start the program and a server that owns it."
  @spec start_link(binary(), [binary()], keyword()) :: GenServer.on_start()
  def start_link(command, args, opts \\ []) do
    {name, opts} = Keyword.pop(opts, :name)
    gen_opts = if name, do: [name: name], else: []
    GenServer.start_link(VintageNet.Double.DaemonServer, [command, args, opts], gen_opts)
  end

  @doc "The OS pid of the program, or `:error` when it isn't running."
  @spec os_pid(GenServer.server()) :: non_neg_integer() | :error
  def os_pid(server), do: GenServer.call(server, :os_pid)
end

defmodule VintageNet.Double.DaemonServer do
  @moduledoc false
  use GenServer

  alias VintageNet.Double.DaemonKeeper
  alias VintageNet.Double.Store

  require Logger

  @ignored [
    :cgroup_controllers,
    :cgroup_path,
    :cgroup_base,
    :cgroup_sets,
    :uid,
    :gid,
    :parallelism,
    :stdio_window,
    :logger_metadata
  ]
  @log_levels [:emergency, :alert, :critical, :error, :warning, :warn, :notice, :info, :debug]
  @max_output 65_536
  @max_line 256

  # No trap_exit and no terminate/2, like muontrap 1.6's Daemon: cleanup is
  # the keeper's job.
  @impl GenServer
  def init([command, args, opts]) do
    Enum.each(opts, &check_option/1)
    path = System.find_executable(command) || :erlang.error(:enoent, [command, args, opts])

    Store.record(:muontrap, {:start, command, args, opts})

    {keeper, os_pid} = DaemonKeeper.start(self(), command, path, args, opts)

    state = %{
      command: command,
      keeper: keeper,
      keeper_ref: Process.monitor(keeper),
      os_pid: os_pid,
      line: "",
      output: "",
      log: logger(command, opts),
      to_reason: Keyword.get(opts, :exit_status_to_reason, fn _ -> :error_exit_status end)
    }

    {:ok, state}
  end

  defp check_option({key, _}) when key in @ignored, do: :ok
  defp check_option({:cd, dir}) when is_binary(dir), do: :ok
  defp check_option({:arg0, arg0}) when is_binary(arg0), do: :ok
  defp check_option({:stderr_to_stdout, b}) when is_boolean(b), do: :ok
  defp check_option({:log_output, level}) when level in @log_levels, do: :ok
  defp check_option({:log_prefix, prefix}) when is_binary(prefix), do: :ok
  defp check_option({:log_transform, fun}) when is_function(fun, 1), do: :ok
  defp check_option({:logger_fun, fun}) when is_function(fun, 1), do: :ok
  defp check_option({:logger_fun, {m, f, a}}) when is_atom(m) and is_atom(f) and is_list(a), do: :ok
  defp check_option({:exit_status_to_reason, fun}) when is_function(fun, 1), do: :ok
  defp check_option({:delay_to_sigkill, ms}) when is_integer(ms) and ms >= 0, do: :ok

  defp check_option({:env, env}) do
    Enum.each(env, fn
      {k, v} when is_binary(k) and (is_binary(v) or is_nil(v)) -> :ok
      other -> raise ArgumentError, "invalid environment key-value #{inspect(other)}"
    end)
  end

  defp check_option({key, value}),
    do: raise(ArgumentError, "invalid option #{inspect(key)} with value #{inspect(value)}")

  defp logger(command, opts) do
    case {Keyword.get(opts, :logger_fun), Keyword.get(opts, :log_output)} do
      {fun, _} when is_function(fun, 1) ->
        fun

      {{m, f, a}, _} ->
        &apply(m, f, [&1 | a])

      {nil, nil} ->
        fn _line -> :ok end

      {nil, level} ->
        prefix = Keyword.get(opts, :log_prefix, command <> ": ")
        transform = Keyword.get(opts, :log_transform, &printable/1)
        fn line -> Logger.log(level, [prefix, transform.(line)]) end
    end
  end

  defp printable(line) do
    if String.valid?(line), do: line, else: "** #{byte_size(line)} non-UTF8 bytes **"
  end

  @impl GenServer
  def handle_call(:os_pid, _from, state), do: {:reply, state.os_pid || :error, state}
  def handle_call(:double_output, _from, state), do: {:reply, state.output, state}

  @impl GenServer
  def handle_info({DaemonKeeper, keeper, {:data, data}}, %{keeper: keeper} = state) do
    output = state.output <> data

    output =
      if byte_size(output) > @max_output,
        do: binary_part(output, byte_size(output) - @max_output, @max_output),
        else: output

    {lines, rest} = split_lines(state.line <> data)
    Enum.each(lines, state.log)
    {:noreply, %{state | line: rest, output: output}}
  end

  def handle_info({DaemonKeeper, keeper, {:exit_status, status}}, %{keeper: keeper} = state) do
    state = %{state | os_pid: nil}

    if status == 0 do
      {:stop, :normal, state}
    else
      Logger.error("#{state.command}: Process exited with status #{status}")
      {:stop, state.to_reason.(status), state}
    end
  end

  def handle_info({:DOWN, ref, :process, _pid, reason}, %{keeper_ref: ref} = state) do
    {:stop, {:keeper_down, reason}, state}
  end

  def handle_info(_other, state), do: {:noreply, state}

  defp split_lines(text) do
    parts = String.split(text, "\n")
    {lines, [rest]} = Enum.split(parts, -1)

    if byte_size(rest) > @max_line, do: {lines ++ [rest], ""}, else: {lines, rest}
  end
end

defmodule VintageNet.Double.DaemonKeeper do
  @moduledoc false
  # Plays muontrap's C helper: owns the program's port, passes its output and
  # exit status to the server, and when the server is gone sends SIGTERM to
  # the program (the direct child only), then SIGKILL after :delay_to_sigkill.

  alias VintageNet.Double.Store

  @default_delay_to_sigkill 500

  @spec start(pid(), String.t(), String.t(), [String.t()], keyword()) :: {pid(), non_neg_integer()}
  def start(server, command, path, args, opts) do
    caller = self()
    ref = make_ref()

    keeper =
      spawn(fn ->
        server_ref = Process.monitor(server)
        port = open_port(path, args, opts)
        {:os_pid, os_pid} = Port.info(port, :os_pid)
        send(caller, {ref, os_pid})

        loop(%{
          server: server,
          server_ref: server_ref,
          command: command,
          port: port,
          os_pid: os_pid,
          delay: Keyword.get(opts, :delay_to_sigkill, @default_delay_to_sigkill)
        })
      end)

    receive do
      {^ref, os_pid} -> {keeper, os_pid}
    end
  end

  defp open_port(path, args, opts) do
    env =
      for {k, v} <- Keyword.get(opts, :env, []),
          do: {String.to_charlist(k), if(v, do: String.to_charlist(v), else: false)}

    port_opts =
      [:binary, :exit_status, :use_stdio, :hide, args: args, env: env] ++
        if(opts[:cd], do: [cd: opts[:cd]], else: []) ++
        if(opts[:arg0], do: [arg0: opts[:arg0]], else: []) ++
        if(opts[:stderr_to_stdout], do: [:stderr_to_stdout], else: [])

    Port.open({:spawn_executable, path}, port_opts)
  end

  defp loop(%{port: port, server_ref: server_ref} = state) do
    receive do
      {^port, {:data, data}} ->
        if state.server, do: send(state.server, {__MODULE__, self(), {:data, data}})
        loop(state)

      # Recorded only when the server sees it: once the server is gone no one
      # does (and the test that started it may be over).
      {^port, {:exit_status, status}} ->
        if state.server do
          Store.record(:muontrap, {:exit, state.command, status})
          send(state.server, {__MODULE__, self(), {:exit_status, status}})
        end

        :ok

      {:DOWN, ^server_ref, :process, _pid, _reason} ->
        signal(state.os_pid, "TERM")
        Process.send_after(self(), :sigkill, state.delay)
        loop(%{state | server: nil})

      :sigkill ->
        signal(state.os_pid, "KILL")
        loop(state)
    end
  end

  defp signal(os_pid, sig) do
    _ = System.cmd("kill", ["-s", sig, "#{os_pid}"], stderr_to_stdout: true)
    :ok
  end
end
