defmodule VintageNet.Double.Interface do
  @moduledoc """
  One interface's lifecycle, as vintage_net 0.13 runs it (states in
  `["interface", ifname, "state"]`, technology in `[..., "type"]`):

  * `:configured` -> (new config) children stop, old `down_cmds` run:
    `:reconfiguring`;
  * `:reconfiguring` -> (down_cmds done, failed, crashed or timed out after
    `down_cmd_millis`) old `cleanup_files` and `files` are removed; if every
    `required_ifnames` has `["interface", n, "present"] == true` it starts
    configuring, otherwise `:retrying`;
  * configuring: `cleanup_files` removed, `RouteManager.clear_route/1`,
    `files` written, `up_cmds` run: `:configuring`;
  * `:configuring` -> (up_cmds `:ok`) `child_specs` start under one
    supervisor with `restart_strategy`: `:configured`; (failure, crash or
    `up_cmd_millis` timeout) `:retrying`;
  * `:retrying` -> every `retry_millis`, and whenever a required interface
    becomes present, it tries configuring again;
  * a required interface disappearing (`present` deleted) sends a configured
    interface back through teardown and a configuring one to `:retrying`.

  Whenever the state is not `:configured`, the interface calls
  `VintageNet.RouteManager.set_connection_status(ifname, :disconnected, why)`.

  `ioctl/3` runs the technology's `ioctl/3` in a linked process per call while
  `:configured` (`{:error, :unconfigured}` otherwise). Like the real
  vintage_net, calls are not queued: two callers can have ioctls running at
  the same time, so a technology must serialize its own work. A crashed ioctl
  answers `{:error, {:exit, reason}}`; a reconfigure cancels running ones with
  `{:error, :cancelled}`.

  A configure that arrives while `:configuring` kills the running `up_cmds`,
  removes the files and starts the new config (old `down_cmds` don't run, as
  in vintage_net). While `:reconfiguring` it replaces the pending config (the
  real one crashes and restarts the interface process there, which ends in the
  same place). While `:retrying` the new config is tried at once.
  """
  use GenServer

  alias VintageNet.Double.Commands
  alias VintageNet.Interface.RawConfig
  alias VintageNet.Technology.Null

  require Logger

  @registry VintageNet.Double.Registry

  @doc false
  @spec via(term()) :: GenServer.name()
  def via(key), do: {:via, Registry, {@registry, key}}

  @doc false
  @spec configure(String.t(), map(), keyword()) :: :ok | {:error, any()}
  def configure(ifname, config, options) do
    with {:ok, raw} <- to_raw_config(ifname, config),
         normalized = raw.source_config,
         :changed <- changed(ifname, normalized),
         :ok <- PropertyTable.put(VintageNet, ["interface", ifname, "config"], normalized),
         :ok <- persist(ifname, normalized, options),
         {:error, :already_started} <- start_interface(ifname) do
      GenServer.call(via(ifname), {:configure, raw}, :infinity)
    end
  end

  defp persist(ifname, normalized, options) do
    if Keyword.get(options, :persist, true),
      do: VintageNet.Double.Persistence.save(ifname, normalized),
      else: :ok
  end

  @doc false
  @spec ioctl(String.t(), atom(), any()) :: :ok | {:ok, any()} | {:error, any()}
  def ioctl(ifname, command, args), do: GenServer.call(via(ifname), {:ioctl, command, args}, :infinity)

  @doc false
  @spec to_raw_config(String.t(), map()) :: {:ok, RawConfig.t()} | {:error, any()}
  def to_raw_config(ifname, config) do
    opts = VintageNet.Double.env()

    try do
      type = technology!(config)
      raw = type.to_raw_config(ifname, type.normalize(config), opts)

      if not is_struct(raw, RawConfig) do
        raise ArgumentError,
              "#{inspect(type)}.to_raw_config/3 returned #{inspect(raw)}, not a %VintageNet.Interface.RawConfig{}"
      end

      {:ok, raw}
    catch
      _kind, reason ->
        if is_exception(reason) do
          {:error, Exception.message(reason)}
        else
          {:error, "Configuration has an unrecoverable error: #{inspect(reason)}"}
        end
    end
  end

  defp technology!(%{type: type}) when is_atom(type) do
    if Code.ensure_loaded?(type) do
      type
    else
      raise ArgumentError, "Invalid technology #{inspect(type)}: no such module is loaded"
    end
  end

  defp technology!(_config), do: raise(ArgumentError, "Missing :type field")

  defp changed(ifname, normalized) do
    if PropertyTable.get(VintageNet, ["interface", ifname, "config"]) == normalized,
      do: :ok,
      else: :changed
  end

  @doc false
  @spec start_interface(String.t()) :: :ok | {:error, any()}
  def start_interface(ifname) do
    case DynamicSupervisor.start_child(
           VintageNet.Double.InterfacesSupervisor,
           {VintageNet.Double.InterfaceSupervisor, ifname}
         ) do
      {:ok, _pid} -> :ok
      {:error, {:already_started, _pid}} -> {:error, :already_started}
      {:error, other} -> {:error, other}
    end
  end

  # Server

  @doc false
  @spec start_link(String.t()) :: GenServer.on_start()
  def start_link(ifname), do: GenServer.start_link(__MODULE__, ifname, name: via(ifname))

  @impl GenServer
  def init(ifname) do
    Process.flag(:trap_exit, true)
    VintageNet.RouteManager.clear_route(ifname)

    data = %{
      ifname: ifname,
      state: :configured,
      config: Null.to_raw_config(ifname),
      next: nil,
      runner: nil,
      token: nil,
      ioctls: %{},
      watched: []
    }

    publish(data)
    {:ok, data, {:continue, :load_config}}
  end

  @impl GenServer
  def handle_continue(:load_config, data) do
    raw =
      case PropertyTable.get(VintageNet, ["interface", data.ifname, "config"]) do
        nil ->
          raw = Null.to_raw_config(data.ifname)
          PropertyTable.put(VintageNet, ["interface", data.ifname, "config"], raw.source_config)
          raw

        config ->
          {:ok, raw} = to_raw_config(data.ifname, config)
          raw
      end

    {:noreply, tear_down(data, raw)}
  end

  @impl GenServer
  def handle_call({:configure, raw}, _from, data) do
    data =
      case data.state do
        :configured ->
          tear_down(data, raw)

        :reconfiguring ->
          # vintage_net 0.13 has no clause for this: the interface process
          # crashes (the caller's call exits) and restarts on the stored
          # config, which is already the new one.
          raise FunctionClauseError, module: __MODULE__, function: :handle_call, arity: 3

        :configuring ->
          stop_runner(data)
          remove_config_files(data.config)
          data |> Map.merge(%{config: raw, runner: nil}) |> watch(raw) |> begin()

        :retrying ->
          data |> Map.put(:config, raw) |> watch(raw) |> begin()
      end

    {:reply, :ok, data}
  end

  def handle_call({:ioctl, command, args}, from, %{state: :configured} = data) do
    parent = self()
    %{type: type} = data.config
    ifname = data.ifname

    pid =
      spawn_link(fn ->
        send(parent, {:ioctl_done, self(), apply(type, :ioctl, [ifname, command, args])})
      end)

    {:noreply, %{data | ioctls: Map.put(data.ioctls, pid, from)}}
  end

  def handle_call({:ioctl, _command, _args}, _from, data) do
    {:reply, {:error, :unconfigured}, data}
  end

  @impl GenServer
  def handle_info({:commands_done, pid, result}, %{runner: pid} = data) do
    data = %{data | runner: nil}

    case {data.state, result} do
      {:configuring, :ok} ->
        data = enter(data, :configured, nil)

        VintageNet.Double.InterfaceSupervisor.set_technology(
          data.ifname,
          data.config.restart_strategy,
          data.config.child_specs
        )

        {:noreply, data}

      {_state, {:bad_return, value}} ->
        # vintage_net matches command results: a {:fun, ...} that returns
        # anything but :ok or {:error, _} crashes the interface process.
        raise "a RawConfig command returned #{inspect(value)}, not :ok or {:error, _}"

      {:configuring, failure} ->
        debug(data, "up_cmds failed (#{inspect(failure)}), retrying in #{data.config.retry_millis} ms")
        {:noreply, enter(data, :retrying, data.config.retry_millis)}

      {:reconfiguring, _any} ->
        {:noreply, finish_tear_down(data)}
    end
  end

  def handle_info({:EXIT, pid, reason}, %{runner: pid} = data) do
    data = %{data | runner: nil}
    debug(data, "command runner crashed: #{inspect(reason)}")

    case data.state do
      :configuring -> {:noreply, enter(data, :retrying, data.config.retry_millis)}
      :reconfiguring -> {:noreply, finish_tear_down(data)}
    end
  end

  def handle_info({:ioctl_done, pid, result}, data) do
    case Map.pop(data.ioctls, pid) do
      {nil, _} ->
        {:noreply, data}

      {from, ioctls} ->
        GenServer.reply(from, result)
        {:noreply, %{data | ioctls: ioctls}}
    end
  end

  def handle_info({:EXIT, pid, reason}, data) do
    case Map.pop(data.ioctls, pid) do
      {nil, _} ->
        {:noreply, data}

      {from, ioctls} ->
        GenServer.reply(from, {:error, {:exit, reason}})
        {:noreply, %{data | ioctls: ioctls}}
    end
  end

  def handle_info({:timeout, token}, %{token: token} = data) do
    case data.state do
      :configuring ->
        debug(data, "up_cmds took longer than #{data.config.up_cmd_millis} ms")
        stop_runner(data)
        {:noreply, enter(%{data | runner: nil}, :retrying, data.config.retry_millis)}

      :reconfiguring ->
        debug(data, "down_cmds took longer than #{data.config.down_cmd_millis} ms")
        stop_runner(data)
        {:noreply, finish_tear_down(%{data | runner: nil})}

      :retrying ->
        {:noreply, begin(data)}
    end
  end

  def handle_info({:timeout, _stale}, data), do: {:noreply, data}

  def handle_info({VintageNet, ["interface", _, "present"], _old, nil, _meta}, data) do
    case data.state do
      :configured ->
        {:noreply, tear_down(data, data.config)}

      :configuring ->
        stop_runner(data)
        {:noreply, enter(%{data | runner: nil}, :retrying, data.config.retry_millis)}

      _other ->
        {:noreply, data}
    end
  end

  def handle_info({VintageNet, ["interface", _, "present"], _old, true, _meta}, data) do
    if data.state == :retrying, do: {:noreply, begin(data)}, else: {:noreply, data}
  end

  def handle_info(_other, data), do: {:noreply, data}

  @impl GenServer
  def terminate(_reason, data) do
    PropertyTable.delete(VintageNet, ["interface", data.ifname, "type"])
    PropertyTable.delete(VintageNet, ["interface", data.ifname, "state"])
  end

  # Steps

  defp tear_down(data, next) do
    data = cancel_ioctls(data)
    VintageNet.Double.InterfaceSupervisor.clear_technology(data.ifname)
    runner = Commands.start_runner(data.config.down_cmds)
    enter(%{data | runner: runner, next: next}, :reconfiguring, data.config.down_cmd_millis)
  end

  defp finish_tear_down(data) do
    remove_config_files(data.config)
    next = data.next
    data |> Map.merge(%{config: next, next: nil}) |> watch(next) |> begin()
  end

  defp begin(data) do
    if Enum.all?(data.config.required_ifnames, &VintageNet.get(["interface", &1, "present"])) do
      config = data.config
      Commands.rm(config.cleanup_files)
      VintageNet.RouteManager.clear_route(data.ifname)
      Commands.create_files(config.files)
      runner = Commands.start_runner(config.up_cmds)
      enter(%{data | runner: runner}, :configuring, config.up_cmd_millis)
    else
      enter(data, :retrying, data.config.retry_millis)
    end
  end

  defp remove_config_files(config) do
    Commands.rm(config.cleanup_files)
    Commands.remove_files(config.files)
  end

  defp watch(data, config) do
    wanted = config.required_ifnames
    Enum.each(wanted -- data.watched, &VintageNet.subscribe(["interface", &1, "present"]))
    Enum.each(data.watched -- wanted, &VintageNet.unsubscribe(["interface", &1, "present"]))
    %{data | watched: wanted}
  end

  defp enter(data, state, timeout) do
    token = make_ref()
    if timeout, do: Process.send_after(self(), {:timeout, token}, timeout)
    data = %{data | state: state, token: token}
    publish(data)
    data
  end

  defp publish(data) do
    PropertyTable.put_many(VintageNet, [
      {["interface", data.ifname, "type"], data.config.type},
      {["interface", data.ifname, "state"], data.state}
    ])

    if data.state != :configured do
      VintageNet.RouteManager.set_connection_status(
        data.ifname,
        :disconnected,
        "VintageNet.Interface #{data.state}"
      )
    end
  end

  defp stop_runner(%{runner: nil}), do: :ok
  defp stop_runner(%{runner: pid}), do: Process.exit(pid, :kill)

  defp cancel_ioctls(data) do
    Enum.each(data.ioctls, fn {pid, from} ->
      Process.exit(pid, :kill)
      GenServer.reply(from, {:error, :cancelled})
    end)

    %{data | ioctls: %{}}
  end

  defp debug(data, message), do: Logger.debug(["VintageNet(", data.ifname, "): ", message])
end

defmodule VintageNet.Double.InterfaceSupervisor do
  @moduledoc false
  # Per interface: the interface process and, once configured, a supervisor
  # (id :technology) for the technology's child_specs. one_for_all, like the
  # real one.
  use Supervisor

  alias VintageNet.Double.Interface

  @spec start_link(String.t()) :: Supervisor.on_start()
  def start_link(ifname), do: Supervisor.start_link(__MODULE__, ifname, name: Interface.via({:sup, ifname}))

  @spec child_spec(String.t()) :: Supervisor.child_spec()
  def child_spec(ifname) do
    %{id: {__MODULE__, ifname}, start: {__MODULE__, :start_link, [ifname]}, type: :supervisor}
  end

  @impl Supervisor
  def init(ifname) do
    interface = %{
      id: Interface,
      start: {Interface, :start_link, [ifname]},
      restart: :permanent,
      shutdown: 5_000
    }

    Supervisor.init([interface], strategy: :one_for_all)
  end

  @spec set_technology(String.t(), Supervisor.strategy(), list()) :: :ok
  def set_technology(ifname, _strategy, []), do: clear_technology(ifname)

  def set_technology(ifname, strategy, child_specs) do
    clear_technology(ifname)

    spec = %{id: :technology, start: {Supervisor, :start_link, [child_specs, [strategy: strategy]]}}
    {:ok, _pid} = Supervisor.start_child(Interface.via({:sup, ifname}), spec)
    :ok
  end

  @spec clear_technology(String.t()) :: :ok
  def clear_technology(ifname) do
    sup = Interface.via({:sup, ifname})
    _ = Supervisor.terminate_child(sup, :technology)
    _ = Supervisor.delete_child(sup, :technology)
    :ok
  end
end

defmodule VintageNet.Double.Commands do
  @moduledoc false
  # Runs RawConfig command lists and writes/removes RawConfig files.
  require Logger

  @spec start_runner(list()) :: pid()
  def start_runner(commands) do
    parent = self()
    path = Keyword.fetch!(VintageNet.Double.env(), :path)
    spawn_link(fn -> send(parent, {:commands_done, self(), run(commands, path)}) end)
  end

  @spec run(list(), String.t()) :: :ok | {:error, any()} | any()
  def run([], _path), do: :ok

  def run([command | rest], path) do
    case run_one(command, path) do
      :ok -> run(rest, path)
      other -> other
    end
  end

  defp run_one({:run, cmd, args}, path) do
    case exec(cmd, args, path) do
      {_output, 0} ->
        :ok

      {output, status} ->
        Logger.error("Nonzero exit from #{cmd}, #{inspect(args)}: #{status}\n#{output}")
        {:error, :non_zero_exit}
    end
  end

  defp run_one({:run_ignore_errors, cmd, args}, path) do
    _ = exec(cmd, args, path)
    :ok
  end

  defp run_one({:fun, m, f, a}, _path), do: check_fun_result(apply(m, f, a), {m, f, a})
  defp run_one({:fun, fun}, _path) when is_function(fun, 0), do: check_fun_result(fun.(), fun)

  defp check_fun_result(:ok, _what), do: :ok

  defp check_fun_result({:error, _} = error, what) do
    Logger.error("RawConfig command #{inspect(what)} returned #{inspect(error)}")
    error
  end

  defp check_fun_result(other, what) do
    Logger.error("RawConfig command #{inspect(what)} returned #{inspect(other)} (must be :ok or {:error, _})")
    {:bad_return, other}
  end

  # Like vintage_net: look the program up in the configured PATH, and report a
  # missing one as exit status 256 rather than raising.
  defp exec(cmd, args, path) do
    case find(cmd, path) do
      nil -> {"'#{cmd}' not found in PATH='#{path}'", 256}
      found -> System.cmd(found, args, stderr_to_stdout: true, env: [{"PATH", path}])
    end
  end

  defp find("/" <> _ = cmd, _path), do: if(File.exists?(cmd), do: cmd)

  defp find(cmd, path) do
    path |> String.split(":") |> Enum.map(&Path.join(&1, cmd)) |> Enum.find(&File.exists?/1)
  end

  @spec create_files([{Path.t(), iodata()}]) :: :ok
  def create_files(files) do
    Enum.each(files, fn {path, contents} ->
      File.mkdir_p!(Path.dirname(path))
      File.write!(path, contents)
    end)
  end

  @spec remove_files([{Path.t(), iodata()}]) :: :ok
  def remove_files(files), do: Enum.each(files, fn {path, _} -> File.rm(path) end)

  @spec rm([Path.t()]) :: :ok
  def rm(paths), do: Enum.each(paths, &File.rm/1)
end
