defmodule VintageNet.Double do
  @surface [
    {VintageNet, :functions,
     [
       configure: 2,
       configure: 3,
       deconfigure: 1,
       deconfigure: 2,
       get: 1,
       get: 2,
       get_by_prefix: 1,
       get_configuration: 1,
       info: 0,
       info: 1,
       ioctl: 2,
       ioctl: 3,
       match: 1,
       subscribe: 1,
       unsubscribe: 1
     ]},
    {VintageNet.Technology, :callbacks, [check_system: 1, ioctl: 3, normalize: 1, to_raw_config: 3]},
    {VintageNet.Interface.RawConfig, :struct,
     [
       ifname: :enforced,
       type: :enforced,
       source_config: :enforced,
       required_ifnames: :enforced,
       retry_millis: 30_000,
       files: [],
       restart_strategy: :one_for_all,
       child_specs: [],
       up_cmd_millis: 5_000,
       up_cmds: [],
       down_cmd_millis: 5_000,
       down_cmds: [],
       cleanup_files: []
     ]},
    {VintageNet.Technology.Null, :functions,
     [check_system: 1, ioctl: 3, normalize: 1, to_raw_config: 1, to_raw_config: 2, to_raw_config: 3]},
    {VintageNet.RouteManager, :functions,
     [clear_route: 1, set_connection_status: 2, set_connection_status: 3, set_route: 3]},
    {VintageNet.NameResolver, :functions, [clear: 1, setup: 3]},
    {VintageNet.PowerManager.PMControl, :functions, [pet_watchdog: 1]},
    {VintageNet.Connectivity.InternetChecker, :functions, [child_spec: 1, start_link: 1]},
    {VintageNet.IP.IPv4Config, :functions, [add_config: 3]},
    {VintageNet.Interface.IfupDaemon, :functions, [child_spec: 1, start_link: 1]},
    {PropertyTable, :functions,
     [
       child_spec: 1,
       delete: 2,
       delete_matches: 2,
       get: 2,
       get: 3,
       match: 2,
       put: 3,
       put_many: 2,
       start_link: 1,
       subscribe: 2,
       unsubscribe: 2
     ]},
    {MuonTrap.Daemon, :functions, [child_spec: 1, os_pid: 1, start_link: 2, start_link: 3]}
  ]

  @surface_table Enum.map_join(@surface, "\n", fn
                   {mod, :struct, fields} ->
                     "| `#{inspect(mod)}` | struct | " <>
                       Enum.map_join(fields, ", ", fn
                         {k, :enforced} -> "`#{k}` (enforced)"
                         {k, v} -> "`#{k}: #{inspect(v)}`"
                       end) <> " |"

                   {mod, kind, funs} ->
                     "| `#{inspect(mod)}` | #{kind} | " <>
                       Enum.map_join(funs, ", ", fn {f, a} -> "`#{f}/#{a}`" end) <> " |"
                 end)

  @moduledoc """
  A small, faithful double of the part of vintage_net 0.13 (and of
  property_table and muontrap) that this project touches. It lives in
  test/support, is compiled in :dev and :test, never in :prod, where the real
  packages are present.

  ## Surface

  This table is generated from `surface/0`, the single list of what the double
  provides; a test checks the compiled modules against it, and it is the list
  to check against a new vintage_net release.

  | module | kind | surface |
  |---|---|---|
  #{@surface_table}

  Facts the double keeps (see each module's doc):
  `PropertyTable` semantics (nil is a value, no event for an unchanged value,
  `:_` and `:"$"`, tuple events with monotonic timestamps), the configure path
  (normalize then to_raw_config, a raise becomes `{:error, message}`, an
  unchanged config is a no-op), the interface lifecycle and the
  connection-status rules.

  ## Using it

      # test_helper.exs
      {:ok, _} = VintageNet.Double.start()

      # in a test module (the double is global: use async: false)
      setup do
        VintageNet.Double.reset()
        VintageNet.Double.put_env(tmpdir: tmp_dir)
      end

  `calls/1` returns what was recorded, `link_up/1` and friends play the part
  of VintageNet's netlink monitor (`present`/`lower_up`), `internet_check/2`
  drives the InternetChecker, `await_state/3` waits for an interface to finish
  configuring and `await/3` for a property.
  """

  alias VintageNet.Double.Store

  @defaults [
    tmpdir: "/tmp/vintage_net",
    path: "/usr/sbin:/usr/bin:/sbin:/bin",
    resolvconf: "/etc/resolv.conf",
    muontrap_options: [],
    internet_host_list: [{{1, 1, 1, 1}, 53}, {{8, 8, 8, 8}, 53}],
    internet_check: :manual,
    netns: nil,
    # One per VM, so a new test run never boots another run's configurations.
    persistence_dir: Path.join(System.tmp_dir!(), "vintage_net_double.#{System.pid()}")
  ]

  @doc "The surface list: `{module, :functions | :callbacks | :struct, entries}`."
  @spec surface() :: [{module(), :functions | :callbacks | :struct, keyword()}]
  def surface, do: @surface

  @doc """
  Start the double (PropertyTable `VintageNet`, interfaces, route manager...)
  linked. Like `VintageNet.Application`, it starts every interface that has a
  saved configuration, or one in `config :vintage_net, config:`, before it
  returns (`VintageNet.Double.Boot`).

  The supervisor is `rest_for_one`, as `VintageNet.Supervisor` is: when
  RouteManager crashes, every interface restarts from its stored
  configuration, and repeated crashes end the double, as they end the
  `:vintage_net` application.
  """
  @spec start_link(keyword()) :: Supervisor.on_start()
  def start_link(_opts \\ []) do
    children = [
      Store,
      {PropertyTable, name: VintageNet, tuple_events: true},
      {Registry, keys: :unique, name: VintageNet.Double.Registry},
      {Registry, keys: :duplicate, name: VintageNet.Double.Checkers},
      VintageNet.Double.RouteManagerServer,
      VintageNet.Double.NameResolverServer,
      {DynamicSupervisor, name: VintageNet.Double.InterfacesSupervisor, strategy: :one_for_one},
      VintageNet.Double.Boot
    ]

    Supervisor.start_link(children, strategy: :rest_for_one, name: VintageNet.Double.Supervisor)
  end

  @doc "Start the double without linking it to the caller (for test_helper.exs)."
  @spec start() :: Supervisor.on_start()
  def start do
    with {:ok, pid} <- start_link() do
      Process.unlink(pid)
      {:ok, pid}
    end
  end

  @doc "Stop the double (saved configurations stay, as across a reboot)."
  @spec stop() :: :ok
  def stop, do: Supervisor.stop(VintageNet.Double.Supervisor)

  @doc """
  Leave the double running and clean: start it again if it shut itself down
  (as vintage_net does after repeated crashes, which some tests cause on
  purpose), with no saved configuration, then `reset/0`. For setup and
  `on_exit` of tests that stop the double or crash it.
  """
  @spec ensure_started() :: :ok
  def ensure_started do
    if not running?() do
      VintageNet.Double.Persistence.clear()
      {:ok, _} = start()
    end

    reset()
  end

  @doc "Whether the double is running (it may have shut itself down, as vintage_net does)."
  @spec running?() :: boolean()
  def running?, do: Process.whereis(VintageNet.Double.Supervisor) != nil

  @doc """
  Back to a clean state: every interface process stops (children included;
  no down_cmds run, use `VintageNet.deconfigure/1` for that), every property
  is deleted, recorded calls and env overrides are dropped.
  """
  @spec reset() :: :ok
  def reset do
    sup = VintageNet.Double.InterfacesSupervisor

    for {_, pid, _, _} <- DynamicSupervisor.which_children(sup), is_pid(pid) do
      DynamicSupervisor.terminate_child(sup, pid)
    end

    VintageNet.Double.RouteManagerServer.reset()
    VintageNet.Double.NameResolverServer.reset()
    PropertyTable.delete_matches(VintageNet, [])
    VintageNet.Double.Persistence.clear()
    Store.reset()
  end

  @doc """
  VintageNet's application environment as a technology sees it in
  `to_raw_config/3`: defaults, then `Application.get_all_env(:vintage_net)`,
  then `put_env/1` overrides.
  """
  @spec env() :: keyword()
  def env do
    @defaults
    |> Keyword.merge(Application.get_all_env(:vintage_net))
    |> Keyword.merge(Store.env_overrides())
  end

  @doc "Override env keys until the next `reset/0` (e.g. `tmpdir:`, `path:`, `internet_check: :pass`)."
  @spec put_env(keyword()) :: :ok
  def put_env(kv), do: Store.put_env(kv)

  @doc """
  A program and its args as the double runs them: in the network namespace
  of `put_env(netns: name)`, if one is set (`ip netns exec`, which execs the
  program: it stays the direct child).
  """
  @spec in_netns(String.t(), [String.t()]) :: {String.t(), [String.t()]}
  def in_netns(command, args) do
    case Keyword.get(env(), :netns) do
      nil -> {command, args}
      ns -> {"ip", ["netns", "exec", ns, command | args]}
    end
  end

  @doc "Runs a command (see `in_netns/2`); returns `{output, status}`."
  @spec netns_cmd(String.t(), [String.t()]) :: {String.t(), non_neg_integer()}
  def netns_cmd(command, args) do
    {command, args} = in_netns(command, args)
    System.cmd(command, args, stderr_to_stdout: true)
  end

  @doc """
  Recorded calls of one kind, oldest first: `:route_manager`,
  `:name_resolver`, `:pm_control`, `:internet_checker` or `:muontrap`.
  """
  @spec calls(atom()) :: [tuple()]
  def calls(kind), do: for({^kind, call} <- Store.calls(), do: call)

  @doc "Every recorded call as `{kind, call}`, oldest first."
  @spec calls() :: [{atom(), tuple()}]
  def calls, do: Store.calls()

  @doc "Netlink says `ifname` exists and its link is up (`present` and `lower_up` true)."
  @spec link_up(String.t()) :: :ok
  def link_up(ifname) do
    PropertyTable.put_many(VintageNet, [
      {["interface", ifname, "present"], true},
      {["interface", ifname, "lower_up"], true}
    ])
  end

  @doc "Netlink says the link of `ifname` is down (`lower_up` false)."
  @spec link_down(String.t()) :: :ok
  def link_down(ifname), do: PropertyTable.put(VintageNet, ["interface", ifname, "lower_up"], false)

  @doc "Netlink says `ifname` is gone (`present` and `lower_up` deleted)."
  @spec link_removed(String.t()) :: :ok
  def link_removed(ifname) do
    PropertyTable.delete(VintageNet, ["interface", ifname, "lower_up"])
    PropertyTable.delete(VintageNet, ["interface", ifname, "present"])
  end

  @doc """
  Complete one Internet check on every InternetChecker running for `ifname`.
  `{:error, :no_checker}` when none runs.
  """
  @spec internet_check(String.t(), :pass | :fail) :: :ok | {:error, :no_checker}
  def internet_check(ifname, result) when result in [:pass, :fail] do
    case Registry.lookup(VintageNet.Double.Checkers, ifname) do
      [] -> {:error, :no_checker}
      checkers -> Enum.each(checkers, fn {pid, _} -> GenServer.call(pid, {:check, result}) end)
    end
  end

  @doc "What a `MuonTrap.Daemon` program has printed so far (last 64 KiB)."
  @spec daemon_output(GenServer.server()) :: binary()
  def daemon_output(server), do: GenServer.call(server, :double_output)

  @doc """
  Wait until `ifname` has finished with its stored configuration: its `type`
  is the stored config's type and its `state` is `state` (or one of a list).

  The property `state` alone can't tell: like vintage_net, a new interface
  process first publishes `:configured` with `VintageNet.Technology.Null`
  before it starts on the stored configuration. When it returns, the
  technology's children have been started. Returns the state; raises after
  `timeout` ms.
  """
  @spec await_state(String.t(), atom() | [atom()], timeout()) :: atom()
  def await_state(ifname, state \\ :configured, timeout \\ 2_000) do
    states = List.wrap(state)

    done? = fn ->
      config = VintageNet.get(["interface", ifname, "config"])

      is_map(config) and VintageNet.get(["interface", ifname, "type"]) == config[:type] and
        VintageNet.get(["interface", ifname, "state"]) in states
    end

    case wait_for(["interface", ifname], done?, timeout) do
      :ok ->
        # The state is published just before the children start; a round trip
        # through the interface process waits for them.
        _ = :sys.get_state(VintageNet.Double.Interface.via(ifname))
        VintageNet.get(["interface", ifname, "state"])

      :timeout ->
        raise "timeout waiting for #{ifname} to be #{inspect(state)}: " <>
                inspect(VintageNet.get_by_prefix(["interface", ifname]))
    end
  end

  @doc """
  Wait until the property `name` satisfies `expected` (a value, or a 1-arity
  function returning a boolean) and return its value. Raises after
  `timeout` ms with the last value seen.
  """
  @spec await([String.t()], any(), timeout()) :: any()
  def await(name, expected, timeout \\ 2_000) do
    ok? = if is_function(expected, 1), do: expected, else: &(&1 == expected)

    case wait_for(name ++ [:"$"], fn -> ok?.(VintageNet.get(name)) end, timeout) do
      :ok -> VintageNet.get(name)
      :timeout -> raise "timeout waiting on #{inspect(name)}; last value #{inspect(VintageNet.get(name))}"
    end
  end

  # Re-check `done?` on every change under `pattern`, in a separate process so
  # the caller's mailbox (and its own subscriptions) stay untouched.
  defp wait_for(pattern, done?, timeout) do
    fn ->
      VintageNet.subscribe(pattern)
      wait_loop(done?, System.monotonic_time(:millisecond) + timeout)
    end
    |> Task.async()
    |> Task.await(:infinity)
  end

  defp wait_loop(done?, deadline) do
    if done?.() do
      :ok
    else
      receive do
        {VintageNet, _name, _old, _new, _meta} -> wait_loop(done?, deadline)
      after
        max(deadline - System.monotonic_time(:millisecond), 0) ->
          if done?.(), do: :ok, else: :timeout
      end
    end
  end
end
