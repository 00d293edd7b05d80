defmodule VintageNet.DoubleRealBehaviourTest do
  # The behaviours of the real vintage_net 0.13.9 that were measured by running
  # a technology inside it (the contract's section "Behaviour of the real
  # package that a double must reproduce"), each reproduced by the double.
  # Several tests stop the double or make it shut itself down; each leaves it
  # running and clean.
  use ExUnit.Case, async: false

  alias VintageNet.Double
  alias VintageNet.Double.Persistence
  alias VintageNet.Interface.RawConfig

  @moduletag capture_log: true

  defmodule Tech do
    @moduledoc false
    @behaviour VintageNet.Technology

    @impl VintageNet.Technology
    def normalize(config), do: config

    @impl VintageNet.Technology
    def to_raw_config(ifname, config, _opts) do
      struct!(
        RawConfig,
        [ifname: ifname, type: __MODULE__, source_config: config, required_ifnames: []] ++
          Map.get(config, :raw, [])
      )
    end

    @impl VintageNet.Technology
    def ioctl(_ifname, _cmd, _args), do: {:error, :unsupported}

    @impl VintageNet.Technology
    def check_system(_opts), do: :ok
  end

  defmodule Child do
    @moduledoc false
    use GenServer
    def start_link(tag), do: GenServer.start_link(__MODULE__, tag)
    @impl GenServer
    def init(:fail), do: {:error, :not_ready}
    def init(tag), do: {:ok, tag}
  end

  defmodule Steps do
    @moduledoc false
    def slow(ms), do: Process.sleep(ms)
    def bogus, do: :not_ok
  end

  setup do
    Double.ensure_started()
    on_exit(&Double.ensure_started/0)
    :ok
  end

  defp config(extra \\ %{}), do: Map.merge(%{type: Tech}, extra)

  defp interface_pid(ifname) do
    case Registry.lookup(Double.Registry, ifname) do
      [{pid, _}] -> pid
      [] -> nil
    end
  end

  defp eventually(fun, timeout \\ 5_000) do
    deadline = System.monotonic_time(:millisecond) + timeout
    do_eventually(fun, deadline)
  end

  defp do_eventually(fun, deadline) do
    cond do
      result = fun.() -> result
      System.monotonic_time(:millisecond) > deadline -> flunk("condition not met in time")
      true -> Process.sleep(20) && do_eventually(fun, deadline)
    end
  end

  describe "persistence and boot" do
    test "configure saves the config; the next start configures it again before start returns" do
      assert :ok = VintageNet.configure("eth7", config(%{tag: 1}))
      assert Double.await_state("eth7") == :configured
      assert [{"eth7", %{type: Tech, tag: 1}}] = Persistence.load_all()

      :ok = Double.stop()
      {:ok, _} = Double.start()

      # No configure call: the double started it from the saved config.
      assert VintageNet.get(["interface", "eth7", "config"]) == %{type: Tech, tag: 1}
      assert Double.await_state("eth7") == :configured
    end

    test "persist: false is not saved, and a boot does not start it" do
      assert :ok = VintageNet.configure("eth8", config(), persist: false)
      assert Persistence.load_all() == []
      :ok = Double.stop()
      {:ok, _} = Double.start()
      assert VintageNet.get(["interface", "eth8", "config"]) == nil
    end

    test "a technology child that can't start at boot crash-loops until the double shuts down" do
      child = %{id: :c, start: {Child, :start_link, [:fail]}}
      Persistence.save("eth9", config(%{raw: [child_specs: [child]]}))
      :ok = Double.stop()
      {:ok, pid} = Double.start()
      ref = Process.monitor(pid)
      assert_receive {:DOWN, ^ref, :process, ^pid, :shutdown}, 10_000
      refute Double.running?()
    end
  end

  describe "RouteManager" do
    test "set_connection_status(:lan) for an interface the kernel doesn't have crashes it and restarts every interface" do
      assert :ok = VintageNet.configure("eth7", config())
      assert Double.await_state("eth7") == :configured
      before = interface_pid("eth7")
      rm = Process.whereis(Double.RouteManagerServer)

      assert {{%MatchError{}, _}, _} = catch_exit(VintageNet.RouteManager.set_connection_status("ppp5", :lan))

      eventually(fn -> Process.whereis(Double.RouteManagerServer) not in [nil, rm] end)
      # rest_for_one: the interfaces restarted and came back from their configs.
      eventually(fn -> interface_pid("eth7") not in [nil, before] end)
      assert Double.await_state("eth7") == :configured
    end

    test ":disconnected for an absent interface, and :lan for a present one, are fine" do
      assert :ok = VintageNet.RouteManager.set_connection_status("ppp5", :disconnected)
      Double.link_up("ppp5")
      assert :ok = VintageNet.RouteManager.set_connection_status("ppp5", :lan)
      assert VintageNet.get(["interface", "ppp5", "connection"]) == :lan
    end
  end

  describe "the interface process" do
    test "configure while :reconfiguring exits, and the interface ends on the new config" do
      slow_down = [down_cmds: [{:fun, Steps, :slow, [400]}]]
      assert :ok = VintageNet.configure("eth7", config(%{raw: slow_down, n: 1}))
      assert Double.await_state("eth7") == :configured
      assert :ok = VintageNet.configure("eth7", config(%{n: 2}))
      assert VintageNet.get(["interface", "eth7", "state"]) == :reconfiguring

      assert {{%FunctionClauseError{}, _}, _} = catch_exit(VintageNet.configure("eth7", config(%{n: 3})))
      eventually(fn -> VintageNet.get(["interface", "eth7", "config"]) == config(%{n: 3}) end)
      assert Double.await_state("eth7", :configured, 3_000) == :configured
    end

    test "a {:fun, ...} command that returns neither :ok nor {:error, _} crashes the interface process" do
      assert :ok = VintageNet.configure("eth7", config())
      assert Double.await_state("eth7") == :configured
      pid = interface_pid("eth7")
      ref = Process.monitor(pid)
      assert :ok = VintageNet.configure("eth7", config(%{raw: [up_cmds: [{:fun, Steps, :bogus, []}]]}))
      assert_receive {:DOWN, ^ref, :process, ^pid, {%RuntimeError{message: message}, _}}, 2_000
      assert message =~ ":not_ok"
    end

    test "{:error, _} from a command is a failed up: the interface retries" do
      raw = [up_cmds: [{:fun, fn -> {:error, :nope} end}], retry_millis: 60_000]
      assert :ok = VintageNet.configure("eth7", config(%{raw: raw}))
      assert Double.await_state("eth7", :retrying) == :retrying
    end
  end

  describe "InternetChecker with internet_check: :tcp" do
    setup do
      {:ok, listen} = :gen_tcp.listen(0, [:binary, active: false, ip: {127, 0, 0, 1}, reuseaddr: true])
      {:ok, port} = :inet.port(listen)
      acceptor = spawn_link(fn -> accept_loop(listen) end)
      on_exit(fn -> Process.exit(acceptor, :kill) end)
      %{port: port, listen: listen}
    end

    defp accept_loop(listen) do
      case :gen_tcp.accept(listen) do
        {:ok, socket} ->
          :gen_tcp.close(socket)
          accept_loop(listen)

        _ ->
          :ok
      end
    end

    defp bind_to_device_allowed? do
      case :gen_tcp.listen(0, bind_to_device: "lo") do
        {:ok, s} ->
          :gen_tcp.close(s)
          true

        {:error, _} ->
          false
      end
    end

    test "reaches a host through the interface: :lan then :internet", %{port: port} do
      if not bind_to_device_allowed?(), do: flunk("SO_BINDTODEVICE needs root (CAP_NET_RAW): run the tests as root")
      Double.put_env(internet_check: :tcp, internet_host_list: [{{127, 0, 0, 1}, port}])
      Double.link_up("lo")
      {:ok, checker} = VintageNet.Connectivity.InternetChecker.start_link("lo")
      Double.await(["interface", "lo", "connection"], :internet, 3_000)
      GenServer.stop(checker)
    end

    test "an unreachable host keeps the interface at :lan", %{port: port, listen: listen} do
      if not bind_to_device_allowed?(), do: flunk("SO_BINDTODEVICE needs root (CAP_NET_RAW): run the tests as root")
      :gen_tcp.close(listen)
      Double.put_env(internet_check: :tcp, internet_host_list: [{{127, 0, 0, 1}, port}])
      Double.link_up("lo")
      {:ok, checker} = VintageNet.Connectivity.InternetChecker.start_link("lo")
      # Two checks have run after 1.2 s; both failed.
      Process.sleep(1_200)
      assert [{:check, "lo", :fail}, {:check, "lo", :fail} | _] = Double.calls(:internet_checker) |> Enum.drop(1)
      assert VintageNet.get(["interface", "lo", "connection"]) == :lan
      GenServer.stop(checker)
    end
  end
end
