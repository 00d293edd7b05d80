defmodule VintageNetCellular.DiagnoseTest do
  use ExUnit.Case, async: true
  doctest VintageNetCellular.Diagnose

  alias VintageNetCellular.Diagnose
  alias VintageNetCellular.SysfsFixture, as: F

  @moduletag :tmp_dir

  # The USB networking findings (data_path: :usb_net) are tested on their
  # own at the end; the other tests leave them out.
  defp diagnose(dir, items), do: dir |> diagnose_all(items) |> Enum.reject(&usb_net?/1)

  defp usb_net?(finding), do: finding.message =~ "USB networking" or finding.message =~ "network function is"

  defp diagnose_all(dir, items) do
    F.build!(dir, items)
    findings = Diagnose.run(dir)

    for finding <- findings do
      assert Map.keys(finding) |> Enum.sort() == [:kernel_options, :level, :message]
      assert finding.level in [:error, :warning, :info]
      assert is_binary(finding.message) and finding.message != ""
      assert Enum.all?(finding.kernel_options, &String.starts_with?(&1, "CONFIG_"))
    end

    levels = Enum.map(findings, & &1.level)
    assert levels == Enum.sort_by(levels, &Enum.find_index([:error, :warning, :info], fn l -> l == &1 end))
    findings
  end

  test "a healthy modem is named with its AT and PPP ttys", %{tmp_dir: dir} do
    assert [finding] =
             diagnose(dir, [
               F.usb_serial_adapter(:ftdi, usb_path: "1-1.2", tty: "ttyUSB0"),
               F.modem(:ec25, usb_path: "1-1.3", tty_base: 1)
             ])

    assert finding.level == :info
    assert finding.kernel_options == []
    assert finding.message =~ "Quectel EC25/EG25 (2c7c:0125) at USB 1-1.3"
    assert finding.message =~ "AT commands on ttyUSB3, PPP on ttyUSB4"
  end

  test "two modems, two findings", %{tmp_dir: dir} do
    findings = diagnose(dir, [F.modem(:sim7080, usb_path: "1-1.2"), F.modem(:e3372, usb_path: "1-1.3", tty_base: 4)])
    assert [%{level: :info, message: sim}, %{level: :info, message: huawei}] = findings
    assert sim =~ "SIMCom SIM7080 (1e0e:9205) at USB 1-1.2: AT commands on ttyUSB2, PPP on ttyUSB3"
    assert huawei =~ "Huawei E3372 (12d1:1506) at USB 1-1.3: AT commands on ttyUSB5, PPP on ttyUSB4"
  end

  test "a modem table-known but without profile is named by the table's model", %{tmp_dir: dir} do
    assert [%{level: :info, message: message}] = diagnose(dir, [F.modem(:ec25, product_id: 0x0306)])
    assert message =~ "Quectel EG06 (2c7c:0306)"
  end

  test "modems issue 12 found unknown: a bound BG95 and a Telit ME910C1 are named by their profiles", %{tmp_dir: dir} do
    findings = diagnose(dir, [F.modem(:bg95, usb_path: "1-1.2"), F.modem(:me910c1, usb_path: "1-1.3", tty_base: 4)])
    assert [%{level: :info, message: bg95}, %{level: :info, message: me910}] = findings
    assert bg95 =~ "Quectel BG95/BG77 (2c7c:0700) at USB 1-1.2: AT commands on ttyUSB2, PPP on ttyUSB3"
    assert me910 =~ "Telit ME910C1 (1bc7:1101) at USB 1-1.3: AT commands on ttyUSB5, PPP on ttyUSB6"
  end

  describe "serial interfaces without a driver" do
    test "option not in the kernel: name CONFIG_USB_SERIAL_OPTION", %{tmp_dir: dir} do
      assert [error, qmi] = diagnose(dir, [F.modem(:ec25, usb_path: "1-1.3", unbound: :all)])
      assert qmi.level == :info and qmi.message =~ "QMI"
      assert error.level == :error
      assert "CONFIG_USB_SERIAL_OPTION" in error.kernel_options
      assert error.message =~ "Quectel EC25/EG25 (2c7c:0125) at USB 1-1.3 has no driver bound"
      assert error.message =~ "serial interfaces (02, 03)"
      assert error.message =~ "CONFIG_USB_SERIAL_OPTION"
      # The mainline option driver lists the EC25: no new_id workaround needed.
      refute error.message =~ "new_id"
    end

    test "option loaded but not claiming the id: the new_id workaround", %{tmp_dir: dir} do
      findings = diagnose(dir, [F.driver("option"), F.modem(:sim7080_secondary, usb_path: "1-1.3", unbound: :serial)])
      assert [%{level: :error, message: message}] = findings
      assert message =~ "option driver is loaded but did not claim it"
      assert message =~ "echo 1e0e 9206 > /sys/bus/usb-serial/drivers/option1/new_id"
    end

    test "an id older kernels lack gets the new_id hint with the kernel option", %{tmp_dir: dir} do
      assert [error] = diagnose(dir, [F.modem(:lara_r6, usb_path: "1-1.3", unbound: :all)])
      assert error.message =~ "CONFIG_USB_SERIAL_OPTION"
      assert error.message =~ "echo 05c6 908b > /sys/bus/usb-serial/drivers/option1/new_id"
    end

    test "CDC-ACM modems name CONFIG_USB_ACM", %{tmp_dir: dir} do
      assert [error] = diagnose(dir, [F.modem(:lara_r2, usb_path: "1-1.3", unbound: :all)])
      assert error.kernel_options == ["CONFIG_USB_ACM"]
      assert error.message =~ "u-blox TOBY/LARA (1546:110a)"
      assert error.message =~ "CONFIG_USB_ACM"
      refute error.message =~ "new_id"
    end

    test "qcserial modems (Sierra EM74xx) name CONFIG_USB_SERIAL_QUALCOMM, not the option driver", %{tmp_dir: dir} do
      # The option driver is there (another modem could use it), qcserial isn't.
      assert [error] = diagnose(dir, [F.driver("option"), F.modem(:em7455, usb_path: "1-1.3", unbound: :all)])
      assert error.level == :error
      assert error.kernel_options == ["CONFIG_USB_SERIAL", "CONFIG_USB_SERIAL_QUALCOMM"]
      assert error.message =~ "Sierra Wireless EM74xx/MC74xx (1199:9079) at USB 1-1.3 has no driver bound"
      assert error.message =~ "qcserial"
      refute error.message =~ "CONFIG_USB_SERIAL_OPTION"
      refute error.message =~ "option1/new_id"
    end

    test "qcserial loaded but not claiming the id", %{tmp_dir: dir} do
      findings = diagnose(dir, [F.driver("qcserial"), F.modem(:mc7455, usb_path: "1-1.3", unbound: :serial)])
      assert [%{level: :error, message: message, kernel_options: ["CONFIG_USB_SERIAL_QUALCOMM"]}] = findings
      assert message =~ "qcserial (Qualcomm USB-serial) driver is loaded but did not claim it"
      assert message =~ "1199:9071"
    end

    test "a bound qcserial modem is healthy, with AT and PPP on its one AT port", %{tmp_dir: dir} do
      assert [%{level: :info, message: message}] = diagnose(dir, [F.modem(:em7565, usb_path: "1-1.3", tty_base: 4)])
      assert message =~ "Sierra Wireless EM74xx/MC74xx (1199:9091)"
      assert message =~ "share ttyUSB6"
    end

    test "one of two AT ports unbound is a warning, beside the working modem", %{tmp_dir: dir} do
      findings = diagnose(dir, [F.modem(:ec25, usb_path: "1-1.3", unbound: [3])])
      assert [%{level: :warning, message: warning}, %{level: :info, message: info}] = findings
      assert warning =~ "serial interface 03 has no driver bound"
      assert info =~ "share ttyUSB2"
    end
  end

  describe "modems in mass-storage mode" do
    defp cd_rom(usb_path, vendor_id, product_id, manufacturer) do
      F.usb_device(
        usb_path: usb_path,
        vendor_id: vendor_id,
        product_id: product_id,
        manufacturer: manufacturer,
        product: "Mobile Broadband",
        interfaces: [F.interface(0, 0x08, subclass: 0x06, protocol: 0x50, driver: "usb-storage")]
      )
    end

    test "a Huawei stick still a CD-ROM: usb_modeswitch or CONFIG_USB_STORAGE", %{tmp_dir: dir} do
      assert [error] = diagnose(dir, [cd_rom("1-1.2", 0x12D1, 0x1F01, "HUAWEI_MOBILE")])
      assert error.level == :error
      assert error.kernel_options == ["CONFIG_USB_STORAGE"]
      assert error.message =~ "(12d1:1f01) at USB 1-1.2 looks like a modem in mass-storage mode"
      assert error.message =~ "usb_modeswitch"
      assert error.message =~ "CONFIG_USB_STORAGE"
      # It replaces the plain "no modem" finding.
      refute error.message =~ "No cellular modem found"
    end

    test "a ZTE CD-ROM id is recognised by its vendor", %{tmp_dir: dir} do
      assert [error] = diagnose(dir, [cd_rom("1-1.4", 0x19D2, 0x2000, "ZTE,Incorporated")])
      assert error.message =~ "ZTE,Incorporated Mobile Broadband (19d2:2000) at USB 1-1.4"
      assert error.message =~ "usb_modeswitch"
    end

    test "beside a working modem, the CD-ROM one is still reported", %{tmp_dir: dir} do
      findings = diagnose(dir, [cd_rom("1-1.2", 0x12D1, 0x1F01, "HUAWEI_MOBILE"), F.modem(:ec25, usb_path: "1-1.3")])
      assert [%{level: :error, message: storage}, %{level: :info, message: healthy}] = findings
      assert storage =~ "12d1:1f01"
      assert healthy =~ "Quectel EC25/EG25"
    end

    test "a flash drive is not a modem", %{tmp_dir: dir} do
      assert [error] = diagnose(dir, [cd_rom("1-1.2", 0x0781, 0x5567, "SanDisk")])
      assert error.message =~ "No cellular modem found"
      refute error.message =~ "mass-storage"
      assert error.kernel_options == []
    end
  end

  test "an unbound QMI interface is info only", %{tmp_dir: dir} do
    findings = diagnose(dir, [F.modem(:ec25, usb_path: "1-1.3", qmi_unbound: true)])
    assert Enum.all?(findings, &(&1.level == :info))
    assert [_healthy, qmi] = findings
    assert qmi.kernel_options == ["CONFIG_USB_NET_QMI_WWAN", "CONFIG_USB_WDM"]
    assert qmi.message =~ "no wwan0"
    assert qmi.message =~ "PPP"
  end

  describe "boards where no modem can enumerate" do
    test "no USB host controller", %{tmp_dir: dir} do
      assert [error] = diagnose(dir, [])
      assert error.level == :error
      assert error.message =~ "No modem can enumerate on this board"
      assert error.message =~ "no USB host controller"
      assert "CONFIG_USB" in error.kernel_options
      # No second "no modem" finding to say the same thing.
      refute error.message =~ "No cellular modem found"
    end

    test "only a gadget (device-mode) controller", %{tmp_dir: dir} do
      assert [error] = diagnose(dir, [F.udc("fe980000.usb", driver: "dwc2")])
      assert error.message =~ "only a USB device-mode (gadget) controller: fe980000.usb (dwc2)"
      assert error.message =~ "dr_mode"
      assert error.message =~ "dtoverlay=dwc2,dr_mode=host"
      assert error.kernel_options == ["CONFIG_USB_DWC2_HOST", "CONFIG_USB_DWC2_DUAL_ROLE"]
    end

    test "an OTG board with host and gadget controllers is fine", %{tmp_dir: dir} do
      findings =
        diagnose(dir, [
          F.host_controller(bus: 1, driver: "dwc2", name: "fe980000.usb"),
          F.udc("fe980000.usb"),
          F.modem(:bg96, usb_path: "1-1")
        ])

      assert [%{level: :info, message: message}] = findings
      assert message =~ "Quectel BG96"
    end
  end

  describe "no modem at all" do
    test "says so plainly", %{tmp_dir: dir} do
      assert [error] = diagnose(dir, [F.host_controller()])
      assert error.level == :error
      assert error.message =~ "No cellular modem found on USB"
      assert error.kernel_options == []
    end

    test "mentions USB-serial adapters, CDC-ACM boards and unknown vendor devices", %{tmp_dir: dir} do
      unknown =
        F.usb_device(
          usb_path: "1-1.5",
          vendor_id: 0x1234,
          product_id: 0xABCD,
          manufacturer: "Acme",
          product: "LTE Stick",
          interfaces: [F.interface(0, 0xFF), F.interface(1, 0xFF)]
        )

      assert [error] =
               diagnose(dir, [
                 F.usb_serial_adapter(:ftdi, usb_path: "1-1.2", tty: "ttyUSB0"),
                 F.cdc_acm_device(usb_path: "1-1.4", tty: "ttyACM0"),
                 unknown
               ])

      assert error.message =~ "No cellular modem found on USB"
      assert error.message =~ "FTDI FT232R USB UART (0403:6001) at USB 1-1.2 on ttyUSB0"
      assert error.message =~ "(2341:0043) at USB 1-1.4 on ttyACM0"
      assert error.message =~ "Acme LTE Stick (1234:abcd) at USB 1-1.5"
      assert error.message =~ "echo 1234 abcd > /sys/bus/usb-serial/drivers/option1/new_id"
      assert error.kernel_options == ["CONFIG_USB_SERIAL_OPTION"]
    end
  end

  test "findings/2 works from facts alone" do
    system = %{
      host_controllers: [%{name: "usb1", bus: 1, product: nil, driver: nil}],
      udcs: [],
      usb_drivers: [],
      usb_serial_drivers: []
    }

    assert [%{level: :error, message: "No cellular modem found" <> _}] = Diagnose.findings([], system)
  end

  test "format/1 prints one paragraph per finding", %{tmp_dir: dir} do
    text = dir |> tap(&F.build!(&1, [F.udc("fe980000.usb")])) |> Diagnose.run() |> Diagnose.format()
    assert text =~ ~r/^error: No modem can enumerate/
    assert text =~ "\n  kernel options: CONFIG_USB_DWC2_HOST, CONFIG_USB_DWC2_DUAL_ROLE"
  end

  describe "USB network functions (data_path: :usb_net)" do
    test "a modem in its ECM composition: its net device is named", %{tmp_dir: dir} do
      findings = diagnose_all(dir, [F.modem(:ec25, usb_path: "1-1.3", composition: :ecm, net: "enx0242ac110002")])
      assert [usb_net] = Enum.filter(findings, &usb_net?/1)
      assert usb_net.level == :info
      assert usb_net.message =~ "its ECM network function is enx0242ac110002"
    end

    test "a modem that could switch to ECM, on a kernel without cdc_ether: the option is named", %{tmp_dir: dir} do
      findings = diagnose_all(dir, [F.modem(:ec25, usb_path: "1-1.3")])
      assert [usb_net] = Enum.filter(findings, &usb_net?/1)
      assert usb_net.kernel_options == ["CONFIG_USB_NET_CDCETHER"]
      assert usb_net.message =~ "needs the cdc_ether driver (CONFIG_USB_NET_CDCETHER); without it, PPP is used"
    end

    test "with the driver in the kernel, nothing to say; a PPP-only modem says nothing either", %{tmp_dir: dir} do
      findings =
        diagnose_all(dir, [
          F.modem(:ec25, usb_path: "1-1.3"),
          F.driver("cdc_ether"),
          F.modem(:bg96, usb_path: "1-1.4", tty_base: 4)
        ])

      assert Enum.filter(findings, &usb_net?/1) == []
    end
  end
end
