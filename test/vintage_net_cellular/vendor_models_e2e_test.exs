defmodule VintageNetCellular.VendorModelsE2ETest do
  @moduledoc """
  End to end with the simulated Telit ME910C1, u-blox LARA-R6, Huawei E3372
  and SIMCom SIM7672: discovery finds each on the fixture sysfs by its USB id and gives it
  its family's profile, and the profile's vendor commands (`AT#CCID` and
  `AT#WS46`, `AT+URAT`, `AT^ICCID?` and `AT^SYSCFGEX`, `AT+CICCID` and
  `AT+CNMP`) run against the
  simulator on the way to `:connected`.

  The simulated Telit and Huawei answer `AT+CCID` (the default ICCID
  command) with ERROR, so the ICCID property can only come through the
  vendor command; the Huawei answers with the raw EF_ICCID (each digit pair
  swapped), which the parser has to swap back.

  Then each of the 11 simulated models, plugged in under its fixture's USB
  id, is discovered with its family's profile and connected, with the ICCID
  read through that profile's command.
  """
  use ExUnit.Case, async: false

  alias VintageNetCellular.Test.World

  @moduletag :e2e
  @moduletag timeout: 120_000

  setup do
    World.setup_e2e()
  end

  defp mobile(key), do: ["interface", "ppp0", "mobile", key]

  defp await_connected() do
    VintageNet.Double.await(mobile("state"), :connected, 25_000)
  rescue
    e -> reraise "#{Exception.message(e)}; reason: #{inspect(VintageNet.get(mobile("reason")))}", __STACKTRACE__
  end

  defp connect(world, model, iccid, rats) do
    world = World.add_modem(world, :m1, model: model, args: ["--iccid", iccid])

    config = %{
      type: VintageNetCellular,
      vintage_net_cellular: %{service_providers: [%{apn: "internet"}], only_radio_technologies: rats}
    }

    assert :ok = VintageNet.configure("ppp0", config)
    await_connected()
    world
  end

  # Whether one of the AT lines the simulator received sends `command`, alone
  # or within a compound line (`AT+CPIN?;#CCID;+CIMI`).
  defp sent_command?(lines, command) do
    Enum.any?(lines, fn line ->
      line |> String.replace_prefix("AT", "") |> String.split(";") |> Enum.member?(command)
    end)
  end

  test "Telit ME910C1: found as such, ICCID through AT#CCID, Cat-M1 chosen with AT#WS46", %{world: world} do
    iccid = "89390100002345678901"
    world = connect(world, :me910c1, iccid, [:lte_cat_m1])

    assert {:ok, %{modem: "1-1.2 (ttyUSB1/ttyUSB2)"}} = VintageNet.ioctl("ppp0", :status)
    assert VintageNet.get(mobile("iccid")) == iccid

    at = World.received(world, :m1, "at")
    assert sent_command?(at, "#CCID")
    refute sent_command?(at, "+CCID")

    # The simulator's factory #WS46 is 2 (both), so Cat-M1 only (0) is set.
    assert "AT#WS46?" in at
    assert "AT#WS46=0" in at
  end

  test "u-blox LARA-R6: found as such, LTE only chosen with AT+URAT", %{world: world} do
    iccid = "89882280000012345678"
    world = connect(world, :lara_r6, iccid, [:lte])

    assert {:ok, %{modem: "1-1.2 (ttyUSB1/ttyUSB2)"}} = VintageNet.ioctl("ppp0", :status)
    assert VintageNet.get(mobile("iccid")) == iccid

    at = World.received(world, :m1, "at")
    # The simulator's factory +URAT is 4,3, so LTE only (3) is set.
    assert "AT+URAT?" in at
    # Deregister, set, register again, in that order (the monitor's reads may come between).
    steps = ["AT+COPS=2", "AT+URAT=3", "AT+COPS=0"]
    assert Enum.filter(at, &(&1 in steps)) == steps
  end

  test "Huawei E3372: found as such, ICCID through AT^ICCID? (swapped digits), order set with AT^SYSCFGEX",
       %{world: world} do
    iccid = "89014103211118510720"
    world = connect(world, :e3372, iccid, [:lte, :umts])

    # AT on the PCUI port (02 = ttyUSB1), PPP on the modem port (00 = ttyUSB0).
    assert {:ok, %{modem: "1-1.2 (ttyUSB1/ttyUSB0)"}} = VintageNet.ioctl("ppp0", :status)

    # The simulated E3372 answers EF_ICCID as stored (98101430121181157002,
    # see the simulator's tests); the property is the ICCID.
    assert VintageNet.get(mobile("iccid")) == iccid

    at = World.received(world, :m1, "at")
    assert sent_command?(at, "^ICCID?")
    assert "AT^SYSCFGEX?" in at
    assert ~s(AT^SYSCFGEX="0302",3FFFFFFF,2,4,7FFFFFFFFFFFFFFF,,) in at
  end

  test "SIMCom SIM7672: found under the A76xx id, ICCID through AT+CICCID, LTE only with AT+CNMP",
       %{world: world} do
    iccid = "89860012345678901234"
    world = connect(world, :sim7672, iccid, [:lte])

    assert {:ok, %{modem: "1-1.2 (ttyUSB2/ttyUSB3)"}} = VintageNet.ioctl("ppp0", :status)
    # The SIMCom simulators answer AT+CCID with ERROR.
    assert VintageNet.get(mobile("iccid")) == iccid

    at = World.received(world, :m1, "at")
    assert sent_command?(at, "+CICCID")
    assert "AT+CNMP=38" in at
  end

  describe "every simulated model" do
    # model => the profile discovery must give it (by its fixture's USB id)
    @models VintageNetCellular.Test.SimulatedModels.all()

    for {model, profile} <- @models do
      test "#{model}: discovered as #{inspect(profile)}, connected, ICCID read with its command", %{world: world} do
        iccid = "89445000000000012345"
        world = connect(world, unquote(model), iccid, nil)

        assert {:ok, %{profile: unquote(profile)}} = VintageNet.ioctl("ppp0", :status)
        assert VintageNet.get(mobile("iccid")) == iccid
        command = String.replace_prefix(unquote(profile).iccid_command(), "AT", "")
        assert sent_command?(World.received(world, :m1, "at"), command)
      end
    end
  end
end
