defmodule VintageNetCellular.BootAndRoutesE2ETest do
  @moduledoc """
  Two ways the real vintage_net 0.13.9 broke the library, reproduced with the
  double and a simulated modem:

  * boot: vintage_net starts the interfaces of saved configurations while it
    starts itself, before this library's application is up. The technology's
    children must start then, and connect once the library's application is
    up, without taking vintage_net down;
  * ip-up for an interface the kernel doesn't have (yet): the connection
    manager must not call RouteManager for it (the real one crashes, and with
    it every interface), and must set the routes once the interface is
    present.
  """
  use ExUnit.Case, async: false

  alias VintageNet.Double
  alias VintageNetCellular.Test.Simulator
  alias VintageNetCellular.Test.World

  @moduletag :e2e
  @moduletag timeout: 120_000
  @moduletag capture_log: true

  setup do
    unless Simulator.available?() do
      raise "these tests need the simulator (mix compile)"
    end

    Double.ensure_started()
    on_exit(&Double.ensure_started/0)
    :ok
  end

  defp config, do: %{type: VintageNetCellular, vintage_net_cellular: %{service_providers: [%{apn: "internet"}]}}
  defp mobile(key), do: ["interface", "ppp0", "mobile", key]

  defp await_state(state, timeout \\ 20_000) do
    Double.await(mobile("state"), state, timeout)
  rescue
    e -> reraise "#{Exception.message(e)}; reason: #{inspect(VintageNet.get(mobile("reason")))}", __STACKTRACE__
  end

  # Ends the test's call for good: deconfigure, then wait until the OS pppd is
  # gone, so no pppd of a rebooted double outlives the test (it would keep
  # dialing a pty that a later test may get).
  defp deconfigure_and_reap do
    pids =
      for {_, pid, _, _} <- DynamicSupervisor.which_children(VintageNetCellular.Interface.workers("ppp0")),
          is_pid(pid),
          os_pid = safe_os_pid(pid),
          do: os_pid

    assert :ok = VintageNet.deconfigure("ppp0")
    deadline = System.monotonic_time(:millisecond) + 5_000
    wait_gone(pids, deadline)
  end

  defp safe_os_pid(pid) do
    MuonTrap.Daemon.os_pid(pid)
  catch
    _, _ -> nil
  end

  defp wait_gone(pids, deadline) do
    alive = Enum.filter(pids, &alive?/1)

    cond do
      alive == [] -> :ok
      System.monotonic_time(:millisecond) > deadline -> flunk("pppd #{inspect(alive)} still running")
      true -> Process.sleep(50) && wait_gone(alive, deadline)
    end
  end

  defp alive?(os_pid) do
    case File.read("/proc/#{os_pid}/stat") do
      {:ok, stat} -> not (stat |> String.split(")") |> List.last() |> String.trim_leading() |> String.starts_with?("Z"))
      {:error, _} -> false
    end
  end

  test "a saved config starts at boot before the library's application, and connects once it is up" do
    world = World.start() |> World.add_modem(:m1)

    on_exit(fn ->
      {:ok, _} = Application.ensure_all_started(:vintage_net_cellular)
      World.stop(world)
    end)

    # A configuration saved before the reboot (as configure/3 saves it).
    VintageNet.Double.Persistence.save("ppp0", VintageNetCellular.normalize(config()))

    # Reboot: vintage_net comes up first, with this library's application not
    # started yet.
    :ok = Double.stop()
    :ok = Application.stop(:vintage_net_cellular)
    {:ok, double} = Double.start()
    ref = Process.monitor(double)

    assert Double.await_state("ppp0", :configured, 5_000) == :configured
    assert Double.await(mobile("reason"), &(&1 =~ "waiting for the :vintage_net_cellular application"), 5_000)
    refute_received {:DOWN, ^ref, _, _, _}

    {:ok, _} = Application.ensure_all_started(:vintage_net_cellular)
    await_state(:connected)
    assert Double.running?()
    refute_received {:DOWN, ^ref, _, _, _}
    deconfigure_and_reap()
  end

  test "a reboot while connected: the saved config connects again on the same modem" do
    world = World.start() |> World.add_modem(:m1)

    on_exit(fn ->
      {:ok, _} = Application.ensure_all_started(:vintage_net_cellular)
      World.stop(world)
    end)

    assert :ok = VintageNet.configure("ppp0", config())
    await_state(:connected)

    # Everything on the host side stops; the modem keeps its data call up.
    :ok = Double.stop()
    :ok = Application.stop(:vintage_net_cellular)
    {:ok, _} = Double.start()
    {:ok, _} = Application.ensure_all_started(:vintage_net_cellular)

    await_state(:connected, 30_000)
    assert Double.running?()
    deconfigure_and_reap()
  end

  test "ip-up before the kernel's interface is present: no RouteManager call until it is" do
    world = World.start(netlink: false) |> World.add_modem(:m1)
    on_exit(fn -> World.stop(world) end)
    route_manager = Process.whereis(Double.RouteManagerServer)

    assert :ok = VintageNet.configure("ppp0", config())
    await_state(:connected)

    # pppd reported ip-up, but no ppp0 exists: nothing asked RouteManager to
    # route it, and RouteManager is still the same process.
    calls = Double.calls(:route_manager)
    refute Enum.any?(calls, &match?({:set_route, "ppp0", _, _}, &1))
    refute Enum.any?(calls, &match?({:set_connection_status, "ppp0", status, _} when status != :disconnected, &1))
    assert Process.whereis(Double.RouteManagerServer) == route_manager

    # The kernel's ppp0 appears: the routes and :lan follow.
    Double.link_up("ppp0")
    Double.await(["interface", "ppp0", "connection"], :lan, 5_000)
    assert {:set_route, "ppp0", [{{10, 64, 0, 2}, 32}], {10, 64, 64, 64}} in Double.calls(:route_manager)
    assert Process.whereis(Double.RouteManagerServer) == route_manager
  end
end
