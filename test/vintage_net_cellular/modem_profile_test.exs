defmodule VintageNetCellular.ModemProfileTest do
  use ExUnit.Case, async: true
  doctest VintageNetCellular.ModemProfile
  doctest VintageNetCellular.Modem.Quectel
  doctest VintageNetCellular.Modem.SIMCom

  alias VintageNetCellular.Modem
  alias VintageNetCellular.ModemProfile

  defmodule Minimal do
    use VintageNetCellular.ModemProfile

    @impl true
    def name(), do: "Minimal"
  end

  test "all/0 lists every family in a stable order, Generic last" do
    assert ModemProfile.all() == [
             Modem.QuectelEC25,
             Modem.QuectelEG95,
             Modem.QuectelBG96,
             Modem.QuectelEC21,
             Modem.QuectelBG95,
             Modem.QuectelEG91,
             Modem.QuectelEM05,
             Modem.QuectelRM5xx,
             Modem.SIMCom7600,
             Modem.SIMCom7000,
             Modem.SIMCom7080,
             Modem.SIMComA7600,
             Modem.SierraEM74xx,
             Modem.TelitLE910,
             Modem.TelitME910,
             Modem.UbloxLara,
             Modem.UbloxSara,
             Modem.HuaweiE3372,
             Modem.HuaweiME909,
             Modem.FibocomFM150,
             Modem.Generic
           ]
  end

  test "every profile implements the behaviour" do
    for profile <- ModemProfile.all() do
      assert ModemProfile in Keyword.get(profile.module_info(:attributes), :behaviour, []), inspect(profile)
      assert is_binary(profile.name()) and profile.name() != ""

      for {vid, pid} = usb_id <- profile.usb_ids() do
        assert vid in 0..0xFFFF and pid in 0..0xFFFF

        for {number, role} <- profile.port_roles(usb_id) do
          assert number in 0..255
          assert role in ModemProfile.roles()
        end

        assert profile.serial_driver(usb_id) in [:option, :qcserial, :cdc_acm]
        assert is_boolean(profile.driver_lists_usb_id?(usb_id))
      end

      for option <- profile.kernel_options() ++ profile.optional_kernel_options() do
        assert option =~ ~r/^CONFIG_[A-Z0-9_]+$/
      end

      plugins = profile.port_table_plugins()
      assert plugins == :all or (is_list(plugins) and Enum.all?(plugins, &is_binary/1))

      assert "CONFIG_PPP" in profile.kernel_options()
      assert "CONFIG_PPP_ASYNC" in profile.kernel_options()
    end
  end

  test "no USB id belongs to two profiles" do
    ids = Enum.flat_map(ModemProfile.all(), & &1.usb_ids())
    assert ids == Enum.uniq(ids)
  end

  test "the families' USB ids" do
    expected = [
      {0x2C7C, 0x0125, Modem.QuectelEC25},
      {0x2C7C, 0x0195, Modem.QuectelEG95},
      {0x2C7C, 0x0296, Modem.QuectelBG96},
      {0x2C7C, 0x0121, Modem.QuectelEC21},
      {0x1E0E, 0x9001, Modem.SIMCom7600},
      {0x1E0E, 0x9205, Modem.SIMCom7080},
      {0x1E0E, 0x9206, Modem.SIMCom7080},
      {0x1E0E, 0x9011, Modem.SIMComA7600},
      {0x1BC7, 0x1201, Modem.TelitLE910},
      {0x1BC7, 0x1031, Modem.TelitLE910},
      {0x1546, 0x110A, Modem.UbloxLara},
      {0x1546, 0x1143, Modem.UbloxLara},
      {0x05C6, 0x908B, Modem.UbloxLara},
      {0x12D1, 0x1506, Modem.HuaweiE3372},
      {0x2C7C, 0x0700, Modem.QuectelBG95},
      {0x2C7C, 0x0191, Modem.QuectelEG91},
      {0x2C7C, 0x030E, Modem.QuectelEM05},
      {0x2C7C, 0x0800, Modem.QuectelRM5xx},
      {0x2C7C, 0x0801, Modem.QuectelRM5xx},
      {0x1199, 0x9071, Modem.SierraEM74xx},
      {0x1199, 0x9079, Modem.SierraEM74xx},
      {0x1199, 0x9091, Modem.SierraEM74xx},
      {0x1BC7, 0x1101, Modem.TelitME910},
      {0x05C6, 0x90B2, Modem.UbloxSara},
      {0x05C6, 0x90FA, Modem.UbloxLara},
      {0x12D1, 0x15C1, Modem.HuaweiME909},
      {0x12D1, 0x1573, Modem.HuaweiME909},
      {0x12D1, 0x1C05, Modem.HuaweiE3372},
      {0x2CB7, 0x0104, Modem.FibocomFM150}
    ]

    for {vid, pid, profile} <- expected do
      assert ModemProfile.for_usb_id(vid, pid) == profile, "#{Integer.to_string(vid, 16)}:#{Integer.to_string(pid, 16)}"
    end

    for profile <- ModemProfile.all(), usb_id <- profile.usb_ids() do
      assert ModemProfile.for_usb_id(elem(usb_id, 0), elem(usb_id, 1)) == profile
    end

    assert Modem.Generic.usb_ids() == []
    assert ModemProfile.for_usb_id(0x0403, 0x6001) == nil
  end

  test "kernel options per family" do
    assert "CONFIG_USB_SERIAL_OPTION" in Modem.QuectelEC25.kernel_options()
    assert Modem.QuectelEC25.optional_kernel_options() == ["CONFIG_USB_NET_QMI_WWAN", "CONFIG_USB_WDM"]
    assert "CONFIG_USB_ACM" in Modem.UbloxLara.kernel_options()
    refute "CONFIG_USB_ACM" in Modem.QuectelEC25.kernel_options()
    assert Modem.UbloxLara.serial_driver({0x1546, 0x110A}) == :cdc_acm
    assert Modem.UbloxLara.serial_driver({0x05C6, 0x908B}) == :option
    refute Modem.UbloxLara.driver_lists_usb_id?({0x05C6, 0x908B})
    refute Modem.Generic.driver_lists_usb_id?({0x2C7C, 0x0306})
    # Sierra EM74xx/MC74xx: qcserial, not option
    assert Modem.SierraEM74xx.serial_driver({0x1199, 0x9079}) == :qcserial
    assert "CONFIG_USB_SERIAL_QUALCOMM" in Modem.SierraEM74xx.kernel_options()
    refute "CONFIG_USB_SERIAL_OPTION" in Modem.SierraEM74xx.kernel_options()
    # The SIM7000 shares 1e0e:9001 with the SIM7600 and is chosen by configuration only.
    assert Modem.SIMCom7000.usb_ids() == []
    assert Modem.SIMCom7000.iccid_command() == "AT+CCID"
    assert Modem.SIMCom7600.iccid_command() == "AT+CICCID"
  end

  test "role overrides go to the NIF as {vid, pid, interface, role name}" do
    overrides = ModemProfile.role_overrides()
    assert {0x2C7C, 0x0125, 4, "qmi"} in overrides
    assert {0x1E0E, 0x9001, 5, "qmi"} in overrides
    assert Enum.all?(overrides, fn {_, _, _, role} -> String.to_existing_atom(role) in ModemProfile.roles() end)
    assert ModemProfile.role_overrides([Minimal]) == []
  end

  test "for_device/1: the listed profile, Generic for table-known modems, else nil" do
    assert ModemProfile.for_device(%{vendor_id: 0x2C7C, product_id: 0x0125, port_table: %{plugin: "quectel"}}) ==
             Modem.QuectelEC25

    assert ModemProfile.for_device(%{vendor_id: 0x1199, product_id: 0x68C0, port_table: %{plugin: "sierra"}}) ==
             Modem.Generic

    assert ModemProfile.for_device(%{vendor_id: 0x2341, product_id: 0x0043, port_table: nil}) == nil
    assert ModemProfile.for_device(%{vendor_id: 0x2341, product_id: 0x0043}) == nil
  end

  test "usb_id_index/0 agrees with for_usb_id/2" do
    index = ModemProfile.usb_id_index()
    assert map_size(index) == length(Enum.flat_map(ModemProfile.all(), & &1.usb_ids()))

    for {{vid, pid}, profile} <- index do
      assert ModemProfile.for_usb_id(vid, pid) == profile
      assert ModemProfile.for_device(%{vendor_id: vid, product_id: pid}, index) == profile
    end

    assert ModemProfile.for_device(%{vendor_id: 0x2C7C, product_id: 0x0306, port_table: %{}}, index) == Modem.Generic
  end

  test "use ModemProfile provides defaults for everything but name/0" do
    assert Minimal.name() == "Minimal"
    assert Minimal.usb_ids() == []
    assert Minimal.port_roles({1, 2}) == %{}
    assert Minimal.kernel_options() == ModemProfile.default_kernel_options()
    assert Minimal.optional_kernel_options() == []
    assert Minimal.serial_driver({1, 2}) == :option
    assert Minimal.driver_lists_usb_id?({1, 2})
  end

  describe "family commands" do
    test "Quectel modules push signal with QIND and read QCSQ/QNWINFO" do
      for profile <- [Modem.QuectelEC25, Modem.QuectelEG95, Modem.QuectelEC21, Modem.QuectelBG96] do
        assert profile.signal_urc_commands() == [~s(AT+QINDCFG="csq",1,0)]
        assert profile.signal_commands() == ["AT+QCSQ"]
        assert profile.cell_info_commands() == ["AT+QNWINFO"]
        assert profile.iccid_command() == "AT+QCCID"
        assert profile.port_roles({0x2C7C, 0}) == %{4 => :qmi}
      end
    end

    test "every vendor signal or cell read says which facts it stands for (read_sources/1)" do
      standard = ["AT+CSQ", "AT+CESQ", "AT+COPS?"]
      known = [:vendor_lte, :vendor]

      for profile <- VintageNetCellular.ModemProfile.all(),
          command <- Enum.uniq(profile.signal_commands() ++ profile.cell_info_commands()),
          command not in standard do
        sources = profile.read_sources(command)
        assert sources != [], "#{inspect(profile)} reads #{command} but names no facts it stands for"
        assert Enum.all?(sources, &(&1 in known)), "#{inspect(profile)}: #{inspect(sources)}"
      end

      assert Modem.QuectelEC25.read_sources("AT+QNWINFO") == [:vendor]
      assert Modem.SIMCom7600.read_sources("AT+CPSI?") == [:vendor_lte, :vendor]
      assert Modem.Generic.read_sources("AT+QCSQ") == []
    end

    test "network time: 27.007 CTZR=2 URCs everywhere, Quectel also reads AT+QLTS" do
      for profile <- VintageNetCellular.ModemProfile.all() do
        assert profile.network_time_urc_commands() == ["AT+CTZR=2"], inspect(profile)
      end

      for profile <- [Modem.QuectelEC25, Modem.QuectelEG95, Modem.QuectelEC21, Modem.QuectelBG96] do
        assert profile.network_time_commands() == ["AT+QLTS"]
      end

      assert Modem.SIMCom7600.network_time_commands() == []
      assert Modem.Generic.network_time_commands() == []
    end

    test "BG96 sets Cat-M1/NB-IoT with iotopmode, the LTE modules with nwscanmode" do
      assert inspect(Modem.QuectelBG96.radio_settings([:lte_cat_m1])) =~ "iotopmode"
      assert inspect(Modem.QuectelEC25.radio_settings([:lte])) =~ "nwscanmode"
    end

    test "SIMCom families differ in ICCID command, CGAUTH order and AUTOCSQ" do
      assert Modem.SIMCom7600.iccid_command() == "AT+CICCID"
      assert Modem.SIMComA7600.iccid_command() == "AT+CICCID"
      assert Modem.SIMCom7080.iccid_command() == "AT+CCID"

      assert Modem.SIMCom7600.signal_urc_commands() == ["AT+AUTOCSQ=1,1"]
      assert Modem.SIMCom7080.signal_urc_commands() == []

      assert Modem.SIMComA7600.cgauth_command(1, 1, "u", "p") == ~s(AT+CGAUTH=1,1,"p","u")
      assert Modem.SIMCom7080.cgauth_command(1, 1, "u", "p") == Modem.Generic.cgauth_command(1, 1, "u", "p")
      assert Modem.SIMCom7600.port_roles({0x1E0E, 0x9001}) == %{5 => :qmi}
    end
  end
end
