defmodule VintageNetCellular.UsbNetE2ETest do
  @moduledoc """
  The USB network data path end to end, for real on this machine: a
  simulated modem (AT, composition switches, resets) whose net device is one
  end of a veth pair in a network namespace (`VintageNetCellular.Test.NetNamespace`),
  the other end being the "network" with a real DHCP server (dnsmasq) and a
  far TCP listener. VintageNet's DHCP machinery (the double's IPv4Config and
  IfupDaemon) runs busybox udhcpc in that namespace, its RouteManager puts
  the lease's default route there, and the InternetChecker makes real TCP
  connections through the interface; the double's netlink mirror reports
  the namespace's links (`present`, `lower_up`, `addresses`).

  `mix test --only netns` runs these with the rig's own tests.
  """
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog

  alias VintageNetCellular.Test.NetNamespace
  alias VintageNetCellular.Test.Simulator
  alias VintageNetCellular.Test.World

  @moduletag :netns
  @moduletag timeout: 180_000

  @skip (case NetNamespace.available() do
           :ok -> nil
           {:skip, reason} -> reason
         end)

  if @skip do
    IO.puts(:stderr, "UsbNetE2ETest: every test is skipped: #{@skip}")
    @moduletag skip: @skip
  end

  @ifname "wwan0"
  @far {{10, 11, 12, 13}, 5000}

  setup context do
    rig =
      case NetNamespace.start(Map.get(context, :rig, [])) do
        {:ok, rig} -> rig
        other -> flunk("the rig didn't start: #{inspect(other)}")
      end

    on_exit(fn -> NetNamespace.stop(rig) end)

    %{world: world} = World.setup_e2e(netlink: false, drivers: ["cdc_ether"], env: [dial_timeout: 8_000])
    Application.put_env(:vintage_net_cellular, :ip_command, World.ip_in_netns(world, rig.device_ns))
    VintageNet.Double.put_env(netns: rig.device_ns, internet_check: :tcp, internet_host_list: [@far])
    start_supervised!({VintageNet.Double.Netlink, netns: rig.device_ns})

    # The modem's net device exists only while its composition has one.
    if Map.get(context, :composition) == nil, do: NetNamespace.unplug_device(rig)

    %{world: world, rig: rig}
  end

  defp config(options) do
    %{
      type: VintageNetCellular,
      vintage_net_cellular: Map.merge(%{service_providers: [%{apn: "internet"}], data_path: :usb_net}, Map.new(options))
    }
  end

  defp await(key, expected, timeout \\ 20_000),
    do: VintageNet.Double.await(["interface", @ifname | key], expected, timeout)

  defp lease?(addresses),
    do: is_list(addresses) and Enum.any?(addresses, &match?(%{family: :inet, address: {192, 168, 225, _}}, &1))

  # The kernel takes the net device away when the modem resets, and gives it
  # back when it comes back in a composition that has one.
  defp follow(world, rig) do
    World.follow_resets(world, :modem, fn
      :unplugged -> NetNamespace.unplug_device(rig)
      {:replugged, composition} when composition in [:ecm, :rndis] -> :ok = NetNamespace.plug_device(rig)
      {:replugged, _serial_only} -> :ok
    end)
  end

  @tag composition: :rndis
  test "an A7600's RNDIS function: renamed to the interface, a real DHCP lease, :internet from real TCP checks, AT kept",
       %{world: world, rig: rig} do
    world = World.add_modem(world, :modem, model: :a7600)
    assert :ok = VintageNet.configure(@ifname, config([]))

    await(["connection"], :internet)
    assert lease?(VintageNet.get(["interface", @ifname, "addresses"]))
    assert VintageNet.get(["interface", @ifname, "mobile", "data_path"]) == :rndis
    assert VintageNet.get(["interface", @ifname, "mobile", "state"]) == :connected

    # The kernel's usb0 is now the configured name, in the device namespace.
    assert NetNamespace.device_links(rig) == [@ifname]
    # 27.007 activation on the AT port; no switch (its composition has RNDIS).
    received = World.received(world, :modem)
    assert "AT+CGACT=1,1" in received
    refute Enum.any?(received, &String.starts_with?(&1, "AT+CUSBPIDSWITCH="))
    # The routes came from VintageNet's udhcpc handler, through the lease's router.
    assert {:set_route, @ifname, [{{192, 168, 225, _}, 24}], {192, 168, 225, 1}} =
             Enum.find(VintageNet.Double.calls(:route_manager), &match?({:set_route, @ifname, _, _}, &1))

    # AT control and properties stay.
    assert {:ok, _} = VintageNetCellular.at(@ifname, "AT+CSQ")
    assert is_integer(await(["mobile", "signal_dbm"], &is_integer/1))

    # The link going down: the checker says :disconnected; back up, :internet again.
    :ok = NetNamespace.link_down(rig)
    await(["connection"], :disconnected)
    :ok = NetNamespace.link_up(rig)
    await(["connection"], :internet)
    assert VintageNet.get(["interface", @ifname, "mobile", "state"]) == :connected
  end

  @tag composition: :rndis, rig: [ifname: "enx0242ac110002"]
  test "a net device the kernel named enx<MAC> is found under the modem and renamed", %{world: world, rig: rig} do
    _world = World.add_modem(world, :modem, model: :a7600, fixture: [net: "enx0242ac110002"])
    assert :ok = VintageNet.configure(@ifname, config([]))
    await(["connection"], :internet)
    assert NetNamespace.device_links(rig) == [@ifname]
    # The MAC the kernel's name came from stays with the device.
    assert VintageNet.get(["interface", @ifname, "mac_address"]) == "02:42:ac:11:00:02"
  end

  @tag composition: :rndis, rig: [dhcp: false]
  test "no DHCP answer: no address, never :internet; the manager retries and says why", %{world: world} do
    _world = World.add_modem(world, :modem, model: :a7600)

    log =
      capture_log(fn ->
        assert :ok = VintageNet.configure(@ifname, config([]))
        await(["mobile", "reason"], &(is_binary(&1) and &1 =~ "no DHCP lease"), 20_000)
      end)

    assert log =~ "no DHCP lease on the modem's network function after 8 s"
    refute VintageNet.get(["interface", @ifname, "connection"]) == :internet
    refute lease?(VintageNet.get(["interface", @ifname, "addresses"]))
    # udhcpc ran and asked.
    assert Enum.any?(
             VintageNet.Double.calls(:muontrap),
             &match?({:start, "ip", ["netns", "exec", _, "udhcpc" | _], _}, &1)
           )
  end

  test "an EC25 is switched to ECM once, comes back with its net device, and connects", %{world: world, rig: rig} do
    world = World.add_modem(world, :modem, model: :ec25)
    follow(world, rig)
    assert :ok = VintageNet.configure(@ifname, config([]))

    await(["connection"], :internet, 40_000)
    assert VintageNet.get(["interface", @ifname, "mobile", "data_path"]) == :ecm
    assert lease?(VintageNet.get(["interface", @ifname, "addresses"]))

    received = World.received(world, :modem)
    assert Enum.count(received, &(&1 == ~s(AT+QCFG="usbnet",1))) == 1
    assert Enum.count(received, &(&1 == "AT+CFUN=1,1")) == 1
    # Read before the switch and read back after it.
    assert Enum.count(received, &(&1 == ~s(AT+QCFG="usbnet"))) >= 2
    assert "AT+QNETDEVCTL=1,1,1" in received
    assert NetNamespace.device_links(rig) == [@ifname]

    # The modem re-enumerates back to serial-only (someone switched it): the
    # data path ends, and the library switches it to ECM again and reconnects.
    :ok = Simulator.control(World.sim(world, :modem), "usbnet rmnet")
    await(["connection"], &(&1 != :internet), 20_000)
    await(["connection"], :internet, 40_000)
    assert Enum.count(World.received(world, :modem), &(&1 == ~s(AT+QCFG="usbnet",1))) == 2

    # A reconfigure back to PPP: pppd on the PPP port; the DHCP session ends.
    assert :ok = VintageNet.configure(@ifname, config(data_path: :ppp))
    await(["mobile", "data_path"], :ppp, 30_000)
    await(["mobile", "state"], :connected, 30_000)
  end
end
