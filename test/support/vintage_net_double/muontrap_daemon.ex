defmodule MuonTrap.Daemon do
  @moduledoc """
  Test double of `MuonTrap.Daemon` (muontrap 1.x): it really runs the program,
  through an Erlang port, so tests can run `chat`, `socat` or a fake pppd.

  Same child spec shape: `{MuonTrap.Daemon, [command, args]}` or
  `{MuonTrap.Daemon, [command, args, opts]}` (id `MuonTrap.Daemon`,
  `restart: :permanent`, `shutdown: 500`). `command` is looked up in `PATH`
  (a missing one makes `init` fail with `:enoent`, like the real one).

  Options with an effect here: `:name`, `:cd`, `:env` (`nil` values unset),
  `:arg0`, `:stderr_to_stdout`, `:log_output` (Logger level), `:log_prefix`,
  `:log_transform`, `:logger_fun`, `:exit_status_to_reason`, `:wait_for`.
  Accepted and ignored (they need muontrap's C helper): `:cgroup_controllers`,
  `:cgroup_path`, `:cgroup_base`, `:cgroup_sets`, `:delay_to_sigkill`, `:uid`,
  `:gid`, `:parallelism`, `:stdio_window`, `:capture_stderr_only`,
  `:logger_metadata`. Anything else raises `ArgumentError`, like the real one.

  Exit status 0 stops the server `:normal`; any other status stops it with
  `exit_status_to_reason.(status)` (default `:error_exit_status`). When the
  server terminates (e.g. its supervisor stops it) the program's process group
  gets SIGTERM, then SIGKILL after 200 ms. Unlike muontrap, a brutal kill of
  the server leaves the program running with its stdin closed.

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

  alias VintageNet.Double.Store

  require Logger

  @ignored [
    :cgroup_controllers,
    :cgroup_path,
    :cgroup_base,
    :cgroup_sets,
    :delay_to_sigkill,
    :uid,
    :gid,
    :parallelism,
    :stdio_window,
    :capture_stderr_only,
    :logger_metadata
  ]
  @log_levels [:emergency, :alert, :critical, :error, :warning, :warn, :notice, :info, :debug]
  @max_output 65_536
  @max_line 256

  @impl GenServer
  def init([command, args, opts]) do
    Process.flag(:trap_exit, true)
    Enum.each(opts, &check_option/1)
    path = System.find_executable(command) || :erlang.error(:enoent, [command, args, opts])

    Store.record(:muontrap, {:start, command, args, opts})

    state = %{
      command: command,
      path: path,
      args: args,
      opts: opts,
      port: nil,
      os_pid: nil,
      line: "",
      output: "",
      log: logger(command, opts),
      to_reason: Keyword.get(opts, :exit_status_to_reason, fn _ -> :error_exit_status end),
      wait_task: nil
    }

    case Keyword.get(opts, :wait_for) do
      nil -> {:ok, open_port(state)}
      fun -> {:ok, %{state | wait_task: Task.async(fun)}}
    end
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
  defp check_option({:wait_for, fun}) when is_function(fun, 0), do: :ok

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

  defp open_port(state) do
    opts = state.opts

    env =
      for {k, v} <- Keyword.get(opts, :env, []),
          do: {String.to_charlist(k), if(v, do: String.to_charlist(v), else: false)}

    port_opts =
      [:binary, :exit_status, :use_stdio, :hide, args: state.args, env: env] ++
        if(opts[:cd], do: [cd: opts[:cd]], else: []) ++
        if(opts[:arg0], do: [arg0: opts[:arg0]], else: []) ++
        if(opts[:stderr_to_stdout], do: [:stderr_to_stdout], else: [])

    port = Port.open({:spawn_executable, state.path}, port_opts)
    {:os_pid, os_pid} = Port.info(port, :os_pid)
    %{state | port: port, os_pid: os_pid}
  end

  @impl GenServer
  def handle_call(:os_pid, _from, state), do: {:reply, state.os_pid || :error, state}
  def handle_call(:double_output, _from, state), do: {:reply, state.output, state}

  @impl GenServer
  def handle_info({ref, _result}, %{wait_task: %Task{ref: ref}} = state) do
    Process.demonitor(ref, [:flush])
    {:noreply, open_port(%{state | wait_task: nil})}
  end

  def handle_info({port, {:data, data}}, %{port: port} = state) do
    output = state.output <> data

    output =
      if byte_size(output) > @max_output,
        do: binary_part(output, byte_size(output) - @max_output, @max_output),
        else: output

    {lines, rest} = split_lines(state.line <> data)
    Enum.each(lines, state.log)
    {:noreply, %{state | line: rest, output: output}}
  end

  def handle_info({port, {:exit_status, status}}, %{port: port} = state) do
    Store.record(:muontrap, {:exit, state.command, status})
    state = %{state | port: nil, os_pid: nil}

    if status == 0 do
      {:stop, :normal, state}
    else
      Logger.error("#{state.command}: Process exited with status #{status}")
      {:stop, state.to_reason.(status), state}
    end
  end

  def handle_info(_other, state), do: {:noreply, state}

  defp split_lines(text) do
    parts = String.split(text, "\n")
    {lines, [rest]} = Enum.split(parts, -1)

    if byte_size(rest) > @max_line, do: {lines ++ [rest], ""}, else: {lines, rest}
  end

  @impl GenServer
  def terminate(_reason, %{port: port, os_pid: os_pid}) when is_port(port) do
    # Erlang starts port programs as process group leaders: signal the group.
    catch_port_close(port)
    signal(os_pid, "TERM")

    if not wait_gone(os_pid, 10) do
      signal(os_pid, "KILL")
    end

    :ok
  end

  def terminate(_reason, _state), do: :ok

  defp catch_port_close(port) do
    Port.close(port)
  catch
    :error, _ -> :ok
  end

  defp signal(os_pid, sig) do
    _ = System.cmd("kill", ["-s", sig, "--", "-#{os_pid}"], stderr_to_stdout: true)
    :ok
  end

  defp wait_gone(_os_pid, 0), do: false

  defp wait_gone(os_pid, tries) do
    case System.cmd("kill", ["-0", "#{os_pid}"], stderr_to_stdout: true) do
      {_, 0} ->
        Process.sleep(20)
        wait_gone(os_pid, tries - 1)

      _gone ->
        true
    end
  end
end
