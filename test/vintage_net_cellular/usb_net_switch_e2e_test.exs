defmodule VintageNetCellular.UsbNetSwitchE2ETest do
  # The composition switch's guard, with no network namespace: a modem whose
  # new function the kernel doesn't bind is switched once, then used over PPP;
  # never reset again. And :auto on a PPP-only modem never touches it.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog

  alias VintageNetCellular.Test.StatusWatch
  alias VintageNetCellular.Test.World

  @moduletag timeout: 120_000

  setup do
    World.setup_e2e(drivers: ["cdc_ether"])
  end

  defp config(path) do
    %{type: VintageNetCellular, vintage_net_cellular: %{service_providers: [%{apn: "internet"}], data_path: path}}
  end

  defp await(key, expected, timeout),
    do: VintageNet.Double.await(["interface", "ppp0", "mobile", key], expected, timeout)

  test "switched once; the ECM function the kernel doesn't bind leaves the modem on PPP, with the reason", %{
    world: world
  } do
    # Interface 04 (ECM's control interface once switched) gets no driver.
    world = World.add_modem(world, :modem, model: :ec25, fixture: [unbound: [4]])
    World.follow_resets(world, :modem)

    log =
      capture_log(fn ->
        assert :ok = VintageNet.configure("ppp0", config(:usb_net))
        # The manager answers at once while the modem is switched, restarts
        # and is found again, and while the set-up falls back to PPP.
        watch = StatusWatch.start("ppp0")
        await("state", :connected, 40_000)
        watched = StatusWatch.stop(watch)
        assert watched.late == [], inspect(watched)
        assert :connected in watched.states and length(watched.states) >= 3, inspect(watched)
      end)

    assert VintageNet.get(["interface", "ppp0", "mobile", "data_path"]) == :ppp
    assert log =~ "the modem was switched to ECM but no net device appeared after its restart"
    assert log =~ "CONFIG_USB_NET_CDCETHER"

    received = World.received(world, :modem)
    assert Enum.count(received, &(&1 == ~s(AT+QCFG="usbnet",1))) == 1
    assert Enum.count(received, &(&1 == "AT+CFUN=1,1")) == 1

    # A later set-up (the link dropped) doesn't switch again.
    :ok = VintageNetCellular.Test.Simulator.control(World.sim(world, :modem), "reg searching")
    await("state", &(&1 != :connected), 20_000)
    :ok = VintageNetCellular.Test.Simulator.control(World.sim(world, :modem), "reg home")
    await("state", :connected, 40_000)
    assert Enum.count(World.received(world, :modem), &(&1 == "AT+CFUN=1,1")) == 1
  end

  test ":auto on a modem with no USB network function: PPP, not a word to the modem about it", %{world: world} do
    world = World.add_modem(world, :modem, model: :bg96)
    assert :ok = VintageNet.configure("ppp0", config(:auto))
    await("state", :connected, 30_000)
    assert VintageNet.get(["interface", "ppp0", "mobile", "data_path"]) == :ppp
    refute Enum.any?(World.received(world, :modem), &String.contains?(&1, "usbnet"))
  end
end
