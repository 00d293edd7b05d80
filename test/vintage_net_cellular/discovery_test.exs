defmodule VintageNetCellular.DiscoveryTest do
  use ExUnit.Case, async: true
  doctest VintageNetCellular.Discovery
  doctest VintageNetCellular.SysfsFixture

  alias VintageNetCellular.Discovery
  alias VintageNetCellular.Modem
  alias VintageNetCellular.SysfsFixture, as: F

  @moduletag :tmp_dir

  defp scan(dir, items, opts \\ []) do
    F.build!(dir, items, opts)
    Discovery.scan(dir)
  end

  defp ttys(device), do: {device.at_tty, device.ppp_tty}

  describe "canned modems, alone on the bus (tty_base 0)" do
    # model => {profile, at_tty, ppp_tty}
    @expected %{
      ec25: {Modem.QuectelEC25, "ttyUSB2", "ttyUSB3"},
      eg95: {Modem.QuectelEG95, "ttyUSB2", "ttyUSB3"},
      bg96: {Modem.QuectelBG96, "ttyUSB2", "ttyUSB3"},
      ec21: {Modem.QuectelEC21, "ttyUSB2", "ttyUSB3"},
      sim7600: {Modem.SIMCom7600, "ttyUSB2", "ttyUSB3"},
      # 1e0e:9205: AT on 02, PPP on 03
      sim7080: {Modem.SIMCom7080, "ttyUSB2", "ttyUSB3"},
      # 1e0e:9206: AT on 02, PPP on 05
      sim7080_secondary: {Modem.SIMCom7080, "ttyUSB2", "ttyUSB5"},
      # serial interfaces 02..06 are ttyUSB0..4: AT on 04, PPP on 05
      a7600: {Modem.SIMComA7600, "ttyUSB2", "ttyUSB3"},
      sim7672: {Modem.SIMComA7600, "ttyUSB2", "ttyUSB3"},
      # serial interfaces 00, 03..06 are ttyUSB0..4: AT on 04, second AT on 05
      le910: {Modem.TelitLE910, "ttyUSB2", "ttyUSB3"},
      # CDC-ACM class fallback: lowest port is AT, the next one PPP
      lara_r2: {Modem.UbloxLara, "ttyACM0", "ttyACM1"},
      lara_r6: {Modem.UbloxLara, "ttyUSB1", "ttyUSB2"},
      # Huawei class/subclass/protocol: ff/02/02 AT (iface 02), ff/02/01 PPP (iface 00)
      e3372: {Modem.HuaweiE3372, "ttyUSB1", "ttyUSB0"},
      # The Quectel layout, from the port table or the project's supplement (BG95, EM05-G)
      bg95: {Modem.QuectelBG95, "ttyUSB2", "ttyUSB3"},
      eg91: {Modem.QuectelEG91, "ttyUSB2", "ttyUSB3"},
      em05: {Modem.QuectelEM05, "ttyUSB2", "ttyUSB3"},
      rm500q: {Modem.QuectelRM5xx, "ttyUSB2", "ttyUSB3"},
      rm520n: {Modem.QuectelRM5xx, "ttyUSB2", "ttyUSB3"},
      # 1e0e:9001 can't tell a SIM7000 from a SIM7600, so discovery gives it the SIM7600's
      sim7000: {Modem.SIMCom7600, "ttyUSB2", "ttyUSB3"},
      # qcserial: 00, 02, 03 are ttyUSB0..2; the only AT port (03) carries PPP too
      em7455: {Modem.SierraEM74xx, "ttyUSB2", "ttyUSB2"},
      mc7455: {Modem.SierraEM74xx, "ttyUSB2", "ttyUSB2"},
      em7565: {Modem.SierraEM74xx, "ttyUSB2", "ttyUSB2"},
      # 1bc7:1101: AT on 01, second AT on 02
      me910c1: {Modem.TelitME910, "ttyUSB1", "ttyUSB2"},
      # 05c6:90b2 (supplement): one AT port, 02
      sara_r410m: {Modem.UbloxSara, "ttyUSB2", "ttyUSB2"},
      # Huawei class scheme, as on the E3372
      me909s: {Modem.HuaweiME909, "ttyUSB1", "ttyUSB0"},
      # 2cb7:0104: AT on 01, second AT on 02
      fm150: {Modem.FibocomFM150, "ttyUSB1", "ttyUSB2"}
    }

    test "every canned model has an expectation" do
      assert Enum.sort(Map.keys(@expected)) == Enum.sort(F.models())
    end

    for {model, {profile, at, ppp}} <- @expected do
      test "#{model}", %{tmp_dir: dir} do
        assert [device] = scan(dir, [F.modem(unquote(model), usb_path: "1-1.3")])
        assert device.profile == unquote(profile)
        assert ttys(device) == {unquote(at), unquote(ppp)}
        # Two ttys whenever the modem has two usable AT ports.
        if unquote(at) != unquote(ppp), do: assert(device.at_tty != device.ppp_tty)
        assert device.usb_path == "1-1.3"
      end
    end
  end

  test "the map has every documented field", %{tmp_dir: dir} do
    assert [device] = scan(dir, [F.modem(:ec25, usb_path: "1-1.3", serial: "EC25SERIAL")])

    assert %{
             usb_path: "1-1.3",
             vendor_id: 0x2C7C,
             product_id: 0x0125,
             manufacturer: "Android",
             product: "Android",
             serial: "EC25SERIAL",
             at_tty: "ttyUSB2",
             ppp_tty: "ttyUSB3",
             profile: Modem.QuectelEC25,
             port_table: %{plugin: "quectel", model: "Quectel EC25/EG25"},
             interfaces: interfaces
           } = device

    # Exactly these keys: the NIF builds the map directly, so its shape is pinned here.
    assert device |> Map.keys() |> Enum.sort() ==
             Enum.sort([
               :usb_path,
               :vendor_id,
               :product_id,
               :manufacturer,
               :product,
               :serial,
               :at_tty,
               :ppp_tty,
               :profile,
               :port_table,
               :interfaces
             ])

    assert Enum.map(interfaces, & &1.number) == [0, 1, 2, 3, 4]

    assert Enum.at(interfaces, 2) == %{
             number: 2,
             class: 0xFF,
             subclass: 0,
             protocol: 0,
             driver: "option",
             role: :at_primary,
             ttys: ["ttyUSB2"],
             net: []
           }

    assert %{role: :qmi, driver: "qmi_wwan", net: ["wwan0"], ttys: []} = Enum.at(interfaces, 4)
    assert Enum.map(interfaces, & &1.role) == [:qcdm, :gps, :at_primary, :at_secondary, :qmi]
  end

  test "a USB-serial adapter that took ttyUSB0 first pushes the modem to ttyUSB1..4", %{tmp_dir: dir} do
    assert [ftdi, ec25] =
             scan(dir, [
               F.usb_serial_adapter(:ftdi, usb_path: "1-1.2", tty: "ttyUSB0"),
               F.modem(:ec25, usb_path: "1-1.3", tty_base: 1)
             ])

    assert ttys(ec25) == {"ttyUSB3", "ttyUSB4"}
    assert ec25.profile == Modem.QuectelEC25
    assert %{profile: nil, at_tty: nil, ppp_tty: nil, vendor_id: 0x0403} = ftdi
    assert [%{driver: "ftdi_sio", ttys: ["ttyUSB0"], role: nil}] = ftdi.interfaces
  end

  test "two modems at once, ordered by USB path number by number", %{tmp_dir: dir} do
    devices =
      scan(dir, [
        F.modem(:sim7080_secondary, usb_path: "1-1.10", tty_base: 4),
        F.modem(:ec25, usb_path: "1-1.2", tty_base: 0),
        F.usb_serial_adapter(:cp210x, usb_path: "2-1", tty: "ttyUSB10")
      ])

    assert Enum.map(devices, & &1.usb_path) == ["1-1.2", "1-1.10", "2-1"]
    assert Enum.map(devices, &ttys/1) == [{"ttyUSB2", "ttyUSB3"}, {"ttyUSB6", "ttyUSB9"}, {nil, nil}]
    assert Discovery.modems(devices) |> Enum.map(& &1.usb_path) == ["1-1.2", "1-1.10"]
    # Same answer every time.
    assert Discovery.scan(dir) == devices
  end

  test "ttys are found wherever the kernel numbered them", %{tmp_dir: dir} do
    modem = F.modem(:ec25, usb_path: "3-2", ttys: %{0 => "ttyUSB17", 1 => "ttyUSB4", 2 => "ttyUSB12", 3 => "ttyUSB9"})
    assert [device] = scan(dir, [modem])
    assert ttys(device) == {"ttyUSB12", "ttyUSB9"}
  end

  test "modems are identified by vid:pid, never by product strings", %{tmp_dir: dir} do
    devices =
      scan(dir, [
        F.modem(:ec25, usb_path: "1-1.2", manufacturer: "Quectel", product: "EC25"),
        # An EC25 layout under another id is not an EC25.
        F.modem(:ec25, usb_path: "1-1.3", vendor_id: 0x1234, product_id: 0x5678, product: "EC25")
      ])

    assert [%{profile: Modem.QuectelEC25}, %{profile: nil, at_tty: nil, port_table: nil}] = devices
  end

  test "a vid:pid the port table knows but no profile claims gets the Generic profile", %{tmp_dir: dir} do
    eg06 = F.modem(:ec25, usb_path: "1-1.2", product_id: 0x0306, manufacturer: "Quectel", product: "EG06-E")

    assert [device] = scan(dir, [eg06])
    assert device.profile == Modem.Generic
    assert device.port_table == %{plugin: "quectel", model: "Quectel EG06"}
    assert ttys(device) == {"ttyUSB2", "ttyUSB3"}
  end

  test "the QMI role comes from qmi_wwan when bound, from the profile when not", %{tmp_dir: dir} do
    bound = scan(Path.join(dir, "bound"), [F.modem(:ec25, product_id: 0x0306)])
    assert [%{role: :qmi, driver: "qmi_wwan"}] = Enum.map(bound, &Enum.at(&1.interfaces, 4))

    # No driver and no profile override (EG06 has no profile): unknown.
    generic = scan(Path.join(dir, "generic"), [F.modem(:ec25, product_id: 0x0306, qmi_unbound: true)])
    assert [%{role: nil, driver: nil}] = Enum.map(generic, &Enum.at(&1.interfaces, 4))

    # The EC25 profile names interface 04 even when it is unbound.
    ec25 = scan(Path.join(dir, "ec25"), [F.modem(:ec25, qmi_unbound: true)])
    assert [%{role: :qmi, driver: nil, net: []}] = Enum.map(ec25, &Enum.at(&1.interfaces, 4))
  end

  test "an unknown CDC-ACM board has an AT port by class but no profile", %{tmp_dir: dir} do
    assert [arduino] = scan(dir, [F.cdc_acm_device(usb_path: "1-1.4", tty: "ttyACM0")])
    assert %{profile: nil, at_tty: "ttyACM0", ppp_tty: "ttyACM0", port_table: nil} = arduino
    assert Discovery.modems([arduino]) == []
  end

  test "a modem with no driver bound has no ttys but keeps its roles", %{tmp_dir: dir} do
    assert [device] = scan(dir, [F.modem(:ec25, usb_path: "1-1.3", unbound: :all)])
    assert ttys(device) == {nil, nil}
    assert Enum.all?(device.interfaces, &(&1.driver == nil and &1.ttys == [] and &1.net == []))
    assert Enum.map(device.interfaces, & &1.role) == [:qcdm, :gps, :at_primary, :at_secondary, :qmi]
    assert device.profile == Modem.QuectelEC25
  end

  test "with one AT port bound, AT and PPP share it", %{tmp_dir: dir} do
    assert [device] = scan(dir, [F.modem(:ec25, usb_path: "1-1.3", unbound: [3])])
    # Interfaces 00..02 got ttyUSB0..2; 03 is unbound.
    assert ttys(device) == {"ttyUSB2", "ttyUSB2"}
  end

  test "hubs, storage and root hubs are not reported", %{tmp_dir: dir} do
    storage =
      F.usb_device(
        usb_path: "1-1.1.2",
        vendor_id: 0x0781,
        product_id: 0x5567,
        interfaces: [F.interface(0, 0x08, subclass: 0x06, protocol: 0x50, driver: "usb-storage")]
      )

    assert [device] = scan(dir, [storage, F.modem(:ec25, usb_path: "1-1.3")])
    assert device.usb_path == "1-1.3"
    # The intermediate hubs 1-1 and 1-1.1 exist in the tree.
    assert File.exists?(Path.join(dir, "bus/usb/devices/1-1.1/idVendor"))
    assert File.exists?(Path.join(dir, "bus/usb/devices/usb1/idVendor"))
  end

  test "odd trees are skipped, not fatal", %{tmp_dir: dir} do
    F.build!(dir, [F.modem(:ec25, usb_path: "1-1.3"), F.modem(:bg96, usb_path: "1-1.4", tty_base: 10)])
    devices_dir = Path.join(dir, "bus/usb/devices")
    File.ln_s!("../../../devices/nowhere", Path.join(devices_dir, "1-1.7"))
    File.ln_s!("1-1.8", Path.join(devices_dir, "1-1.8"))
    File.ln_s!("../../../devices/nowhere", Path.join(devices_dir, "9-9:1.0"))
    File.write!(Path.join(devices_dir, "3-1"), "junk")
    File.mkdir_p!(Path.join(devices_dir, "4-1"))
    # BG96: no descriptors, no modalias and a non-hex idVendor
    bg96 = Path.join(devices_dir, "1-1.4")
    File.rm!(Path.join(bg96, "descriptors"))
    for n <- 0..4, do: File.rm!(Path.join(bg96, "1-1.4:1.#{n}/modalias"))
    File.write!(Path.join(bg96, "idVendor"), "quectel\n")
    # EC25: a dangling class/tty link and a binary product string
    File.ln_s!("../../devices/nowhere/tty/ttyUSB99", Path.join(dir, "class/tty/ttyUSB99"))
    File.write!(Path.join(devices_dir, "1-1.3/product"), <<0xFF, 0xFE, 0>>)

    assert [device] = Discovery.scan(dir)
    assert device.usb_path == "1-1.3"
    assert device.product == nil
    assert ttys(device) == {"ttyUSB2", "ttyUSB3"}
  end

  test "a missing root is an empty scan", %{tmp_dir: dir} do
    assert Discovery.scan(Path.join(dir, "missing")) == []
    assert Discovery.scan(dir) == []

    assert Discovery.usb_system(Path.join(dir, "missing")) ==
             %{host_controllers: [], storage_devices: [], udcs: [], usb_drivers: [], usb_serial_drivers: []}
  end

  describe "usb_system/1" do
    test "host controllers, UDCs and drivers", %{tmp_dir: dir} do
      F.build!(dir, [
        F.host_controller(bus: 1, driver: "dwc2", name: "fe980000.usb"),
        F.host_controller(bus: 2, driver: "xhci-hcd"),
        F.udc("fe980000.usb", state: "not attached"),
        F.modem(:lara_r2, usb_path: "1-1"),
        F.usb_serial_adapter(:ch340, usb_path: "2-1", tty: "ttyUSB0")
      ])

      assert %{
               host_controllers: [
                 %{name: "usb1", bus: 1, driver: "dwc2", product: "dwc2 host controller"},
                 %{name: "usb2", bus: 2, driver: "xhci-hcd"}
               ],
               udcs: [%{name: "fe980000.usb", driver: "dwc2", state: "not attached"}],
               usb_drivers: ["cdc_acm", "ch341", "hub"],
               usb_serial_drivers: ["ch341-uart"]
             } = Discovery.usb_system(dir)
    end

    test "a gadget-only board has no host controller", %{tmp_dir: dir} do
      F.build!(dir, [F.udc("20980000.usb", state: "configured")])
      assert %{host_controllers: [], udcs: [%{name: "20980000.usb", state: "configured"}]} = Discovery.usb_system(dir)
    end

    test "a loaded driver that binds nothing is still listed", %{tmp_dir: dir} do
      F.build!(dir, [F.driver("option"), F.modem(:ec25, unbound: :all)])
      assert %{usb_drivers: ["hub", "option"], usb_serial_drivers: ["option1"]} = Discovery.usb_system(dir)
    end
  end
end
