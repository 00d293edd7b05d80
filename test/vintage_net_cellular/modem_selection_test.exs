defmodule VintageNetCellular.ModemSelectionTest do
  @moduledoc """
  Which devices an interface may use, from fixture sysfs trees through
  `VintageNetCellular.Discovery.scan/2` and
  `VintageNetCellular.Connection.ModemSelect.candidates/2`.
  """
  # The extra_profiles tests change the application environment.
  use ExUnit.Case, async: false

  alias VintageNetCellular.Connection.ModemSelect
  alias VintageNetCellular.Discovery
  alias VintageNetCellular.Modem
  alias VintageNetCellular.ModemProfile
  alias VintageNetCellular.SysfsFixture, as: F
  alias VintageNetCellular.Test.Profiles

  @moduletag :tmp_dir

  # The interface's view: the scan it makes (with its configured profile
  # consulted first) and the candidates it gets, by USB path.
  defp candidates(dir, items, config) do
    F.build!(dir, items)
    scan = Discovery.scan(dir, profile: Map.get(config, :modem, :auto))
    ModemSelect.candidates(scan, config)
  end

  defp paths(candidates), do: Enum.map(candidates, & &1.usb_path)

  setup do
    saved = Application.fetch_env(:vintage_net_cellular, :extra_profiles)

    on_exit(fn ->
      case saved do
        {:ok, value} -> Application.put_env(:vintage_net_cellular, :extra_profiles, value)
        :error -> Application.delete_env(:vintage_net_cellular, :extra_profiles)
      end
    end)
  end

  describe "an explicit profile" do
    test "never claims a CDC-ACM board: the EC25 at 1-1.3 is used, not the Arduino at 1-1.2", %{tmp_dir: dir} do
      items = [
        F.cdc_acm_device(usb_path: "1-1.2", tty: "ttyACM0"),
        F.modem(:ec25, usb_path: "1-1.3", tty_base: 0)
      ]

      for config <- [%{modem: Modem.QuectelEC25}, %{modem: :auto}] do
        assert [ec25] = candidates(Path.join(dir, inspect(config.modem)), items, config)
        assert %{usb_path: "1-1.3", at_tty: "ttyUSB2", ppp_tty: "ttyUSB3", probe: []} = ec25
        assert ec25.profile == Modem.QuectelEC25
      end
    end

    test "never claims USB-serial adapters or unknown devices of other vendors", %{tmp_dir: dir} do
      items = [
        F.usb_serial_adapter(:ftdi, usb_path: "1-1.1", tty: "ttyUSB9"),
        F.cdc_acm_device(usb_path: "1-1.4", tty: "ttyACM0"),
        # A Quectel layout under a vendor id no table or profile knows.
        F.modem(:ec25, usb_path: "1-1.5", vendor_id: 0x1234, product_id: 0x5678, tty_base: 10)
      ]

      assert candidates(Path.join(dir, "explicit"), items, %{modem: Modem.QuectelEC25}) == []
      assert candidates(Path.join(dir, "auto"), items, %{modem: :auto}) == []
    end

    # The issue's ME910C1 now has a profile of its own (TelitME910); the
    # LE922 (1bc7:1040) is a Telit the port table knows and no profile lists.
    test "overrides Generic for a device of its family the table knows (Telit LE922)", %{tmp_dir: dir} do
      le922 = F.modem(:le910, usb_path: "1-1.2", product_id: 0x1040, product: "LE922")

      # Alone, discovery gives it Generic (no profile lists 1bc7:1040).
      assert [%{profile: Modem.Generic}] = candidates(Path.join(dir, "auto"), [le922], %{modem: :auto})

      assert [modem] = candidates(Path.join(dir, "telit"), [le922], %{modem: Modem.TelitLE910})
      assert modem.profile == Modem.TelitLE910
      # The table's roles: 04 AT, 05 second AT.
      assert {modem.at_tty, modem.ppp_tty, modem.probe} == {"ttyUSB2", "ttyUSB3", []}

      # Not another family's device.
      assert candidates(Path.join(dir, "quectel"), [le922], %{modem: Modem.QuectelEC25}) == []
    end

    test "an ME910C1 has its own profile, and the LE910 profile can still drive it", %{tmp_dir: dir} do
      me910 = F.modem(:me910c1, usb_path: "1-1.2")
      assert [%{profile: Modem.TelitME910}] = candidates(Path.join(dir, "auto"), [me910], %{modem: :auto})
      assert [%{profile: Modem.TelitLE910}] = candidates(Path.join(dir, "le910"), [me910], %{modem: Modem.TelitLE910})
    end

    test "takes the devices it lists before the rest of its family", %{tmp_dir: dir} do
      items = [F.modem(:bg96, usb_path: "1-1.2", tty_base: 0), F.modem(:ec25, usb_path: "1-1.3", tty_base: 5)]

      assert paths(candidates(Path.join(dir, "ec25"), items, %{modem: Modem.QuectelEC25})) == ["1-1.3", "1-1.2"]
      assert paths(candidates(Path.join(dir, "bg96"), items, %{modem: Modem.QuectelBG96})) == ["1-1.2", "1-1.3"]
      assert paths(candidates(Path.join(dir, "auto"), items, %{modem: :auto})) == ["1-1.2", "1-1.3"]
    end

    test "Generic, of every family, takes table-known devices, never a board", %{tmp_dir: dir} do
      items = [
        F.cdc_acm_device(usb_path: "1-1.2", tty: "ttyACM0"),
        F.modem(:ec25, usb_path: "1-1.3", product_id: 0x0800, tty_base: 0),
        F.modem(:ec25, usb_path: "1-1.4", product_id: 0x7F0A, tty_base: 5)
      ]

      assert [rm500, unknown] = candidates(dir, items, %{modem: Modem.Generic})
      assert %{usb_path: "1-1.3", profile: Modem.Generic, at_tty: "ttyUSB2", probe: []} = rm500
      assert %{usb_path: "1-1.4", profile: Modem.Generic, probe: ["ttyUSB5" | _]} = unknown
    end

    test "of no family claims only what it lists", %{tmp_dir: dir} do
      items = [
        F.modem(:ec25, usb_path: "1-1.2", tty_base: 0),
        F.modem(:ec25, usb_path: "1-1.3", vendor_id: 0x1D50, product_id: 0x7F01, tty_base: 5)
      ]

      assert [plain] = candidates(dir, items, %{modem: Profiles.Plain})
      assert %{usb_path: "1-1.3", profile: Profiles.Plain, at_tty: "ttyUSB7", ppp_tty: "ttyUSB8"} = plain
    end
  end

  describe "profiles are open" do
    @x9 [F.modem(:ec25, usb_path: "1-1.2", product_id: 0x7F09, tty_base: 0)]

    test "the configured profile's usb_ids and port_roles are consulted", %{tmp_dir: dir} do
      # Without it, a Quectel id nobody knows: only its ports to probe.
      assert [%{profile: Modem.Generic, probe: [_ | _]}] = candidates(Path.join(dir, "auto"), @x9, %{modem: :auto})

      assert [x9] = candidates(Path.join(dir, "x9"), @x9, %{modem: Profiles.QuectelX9})
      assert %{profile: Profiles.QuectelX9, at_tty: "ttyUSB2", ppp_tty: "ttyUSB3", probe: []} = x9
    end

    test "extra_profiles in the application environment are consulted with modem: :auto", %{tmp_dir: dir} do
      Application.put_env(:vintage_net_cellular, :extra_profiles, [Profiles.QuectelX9])
      assert ModemProfile.profiles(:auto) == [Profiles.QuectelX9 | ModemProfile.all()]

      F.build!(dir, @x9)
      assert [device] = Discovery.scan(dir)
      assert device.profile == Profiles.QuectelX9
      assert Enum.map(device.interfaces, & &1.role) == [:qcdm, :gps, :at_primary, :ppp, :qmi]

      assert [%{profile: Profiles.QuectelX9, at_tty: "ttyUSB2", ppp_tty: "ttyUSB3", probe: []}] =
               ModemSelect.candidates(Discovery.scan(dir), %{modem: :auto})
    end

    test "an extra profile of no family gives its device its profile and roles", %{tmp_dir: dir} do
      Application.put_env(:vintage_net_cellular, :extra_profiles, [Profiles.Plain])
      assert ModemProfile.profiles(:auto) == [Profiles.Plain | ModemProfile.all()]
      F.build!(dir, [F.modem(:ec25, usb_path: "1-1.2", vendor_id: 0x1D50, product_id: 0x7F01)])
      assert [%{profile: Profiles.Plain, at_tty: "ttyUSB2", ppp_tty: "ttyUSB3"}] = Discovery.scan(dir)
    end

    test "what isn't a profile is left out of extra_profiles, with a warning" do
      Application.put_env(:vintage_net_cellular, :extra_profiles, [String, NoSuchModule, Profiles.Plain])

      log =
        ExUnit.CaptureLog.capture_log(fn ->
          assert ModemProfile.extra_profiles() == [Profiles.Plain]
        end)

      assert log =~ "String is not a modem profile"
      assert log =~ "NoSuchModule is not a modem profile"

      # Once: discovery asks at every scan.
      assert ExUnit.CaptureLog.capture_log(fn -> ModemProfile.extra_profiles() end) == ""
    end
  end

  describe "ports to probe" do
    test "an unknown device of a modem vendor: its vendor-class ports, in order", %{tmp_dir: dir} do
      unknown = F.modem(:ec25, usb_path: "1-1.2", product_id: 0x7F0A, tty_base: 0)

      assert [modem] = candidates(Path.join(dir, "auto"), [unknown], %{modem: :auto})
      assert modem.probe == ["ttyUSB0", "ttyUSB1", "ttyUSB2", "ttyUSB3"]
      assert modem.profile == Modem.Generic
      # Until probed: the first guess, no PPP port.
      assert {modem.at_tty, modem.ppp_tty} == {"ttyUSB0", nil}

      # An explicit profile of that vendor probes it too, with itself.
      assert [%{profile: Profiles.QuectelX9, probe: ["ttyUSB0" | _]}] =
               candidates(Path.join(dir, "x9"), [unknown], %{modem: Profiles.QuectelX9})

      # One of another vendor doesn't.
      assert candidates(Path.join(dir, "telit"), [unknown], %{modem: Modem.TelitLE910}) == []
    end

    test "CDC-ACM ports of an unknown u-blox device: the class guesses first", %{tmp_dir: dir} do
      unknown = F.modem(:lara_r2, usb_path: "1-1.2", product_id: 0x7F0B)

      assert [modem] = candidates(dir, [unknown], %{modem: :auto})
      assert modem.probe == ["ttyACM0", "ttyACM1", "ttyACM2", "ttyACM3", "ttyACM4", "ttyACM5"]
    end

    test "known devices come before devices to probe, whatever their paths", %{tmp_dir: dir} do
      items = [
        F.modem(:ec25, usb_path: "1-1.2", product_id: 0x7F0A, tty_base: 0),
        F.modem(:ec25, usb_path: "1-1.3", tty_base: 5)
      ]

      assert [%{usb_path: "1-1.3", probe: []}, %{usb_path: "1-1.2", probe: [_ | _]}] =
               candidates(dir, items, %{modem: :auto})
    end

    test "a probed modem is known by its ports to probe, and still there with them", %{tmp_dir: dir} do
      F.build!(dir, [F.modem(:ec25, usb_path: "1-1.2", product_id: 0x7F0A, tty_base: 0)])
      scan = Discovery.scan(dir)
      assert [modem] = ModemSelect.candidates(scan, %{modem: :auto})

      probed = %{modem | at_tty: "ttyUSB2", ppp_tty: "ttyUSB3"}
      assert ModemSelect.identity(probed) == ModemSelect.identity(modem)
      assert ModemSelect.identity(probed) == {"1-1.2", "ttyUSB0"}
      assert ModemSelect.still_present?(probed, scan, %{modem: :auto})
      refute ModemSelect.still_present?(probed, [], %{modem: :auto})
    end
  end

  test "present/2: identities whose modem left sysfs are dropped", %{tmp_dir: dir} do
    F.build!(dir, [F.modem(:ec25, usb_path: "1-1.2", tty_base: 0)])
    scan = Discovery.scan(dir)

    assert ModemSelect.present([{"1-1.2", "ttyUSB2"}, {"1-1.3", "ttyUSB6"}, {nil, "ttyS1"}], scan) ==
             [{"1-1.2", "ttyUSB2"}, {nil, "ttyS1"}]

    # Re-enumerated under other ttys: gone too.
    assert ModemSelect.present([{"1-1.2", "ttyUSB9"}], scan) == []
  end
end
