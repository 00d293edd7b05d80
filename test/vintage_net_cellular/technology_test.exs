defmodule VintageNetCellular.TechnologyTest do
  # The VintageNet.Technology callbacks and the iex helpers of the root
  # module, through the VintageNet double. The connection itself is tested
  # end to end in connection_e2e_test.exs.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog

  require Logger

  alias VintageNetCellular.Interface
  alias VintageNetCellular.PPP
  alias VintageNetCellular.SysfsFixture

  doctest VintageNetCellular, only: [normalize: 1, redact: 1]

  @raw_config VintageNet.Interface.RawConfig

  setup do
    VintageNet.Double.reset()
    dir = Path.join(System.tmp_dir!(), "vnc-tech-#{System.unique_integer([:positive])}")
    sysfs = Path.join(dir, "sys")
    File.mkdir_p!(sysfs)
    tmpdir = Path.join(dir, "vn")
    VintageNet.Double.put_env(tmpdir: tmpdir)

    saved = Application.get_all_env(:vintage_net_cellular)

    for {k, v} <- [
          sysfs_root: sysfs,
          dev_root: Path.join(dir, "dev"),
          dev_ppp: Path.join(dir, "ppp"),
          ppp_lock_dir: Path.join(dir, "lock"),
          scan_interval: 50
        ],
        do: Application.put_env(:vintage_net_cellular, k, v)

    on_exit(fn ->
      VintageNet.Double.reset()
      for {k, _} <- Application.get_all_env(:vintage_net_cellular), do: Application.delete_env(:vintage_net_cellular, k)
      for {k, v} <- saved, do: Application.put_env(:vintage_net_cellular, k, v)
      File.rm_rf!(dir)
    end)

    %{dir: dir, sysfs: sysfs, tmpdir: tmpdir}
  end

  @config %{
    type: VintageNetCellular,
    vintage_net_cellular: %{
      service_providers: [
        %{apn: "iot.1nce.net", only_iccid_prefixes: ["8988228"]},
        %{apn: "super", username: "u", password: "secret-pw", auth: :chap}
      ],
      sim_pin: "1234"
    }
  }

  describe "normalize/1" do
    test "is VintageNetCellular.Config.normalize/1" do
      assert VintageNetCellular.normalize(@config) == VintageNetCellular.Config.normalize(@config)
    end

    test "a bad config fails configure with a message naming the key" do
      bad = put_in(@config, [:vintage_net_cellular, :service_providers], [%{apn: ""}])
      assert {:error, message} = VintageNet.configure("ppp0", bad)
      assert message =~ "service_providers[0].apn"
    end
  end

  describe "to_raw_config/3" do
    test "needs no network interface, and starts the interface's own supervisor", %{tmpdir: tmpdir} do
      raw = VintageNetCellular.to_raw_config("ppp0", @config, VintageNet.Double.env())

      assert is_struct(raw, @raw_config)
      assert raw.ifname == "ppp0"
      assert raw.type == VintageNetCellular
      assert raw.required_ifnames == []
      assert raw.source_config == VintageNetCellular.normalize(@config)

      assert [{Interface, opts}] = raw.child_specs
      assert opts[:ifname] == "ppp0"
      assert opts[:config] == raw.source_config.vintage_net_cellular
      assert opts[:settings].tmpdir == tmpdir

      # up_cmds: /dev/ppp, the lock dir and the notifier links.
      assert raw.up_cmds ==
               PPP.up_cmds(
                 tmpdir: tmpdir,
                 ifname: "ppp0",
                 dev_ppp: opts[:settings].dev_ppp,
                 lock_dir: opts[:settings].ppp_lock_dir,
                 mknod: "mknod"
               )

      # The down path clears DNS, routes and every mobile property.
      assert {:fun, PropertyTable, :delete_matches, [VintageNet, ["interface", "ppp0", "mobile"]]} in raw.down_cmds
      assert {:fun, VintageNet.NameResolver, :clear, ["ppp0"]} in raw.down_cmds
      assert {:fun, VintageNet.RouteManager, :clear_route, ["ppp0"]} in raw.down_cmds

      paths = PPP.paths(tmpdir, "ppp0")
      assert paths.options_file in raw.cleanup_files
      assert paths.socket in raw.cleanup_files

      # No secret is in anything VintageNet runs or writes.
      refute inspect({raw.up_cmds, raw.down_cmds, raw.files, raw.cleanup_files}) =~ "secret-pw"
      refute inspect({raw.up_cmds, raw.down_cmds, raw.files}) =~ "1234"
    end

    test "each interface has its own tree and files", %{tmpdir: tmpdir} do
      raw0 = VintageNetCellular.to_raw_config("ppp0", @config, VintageNet.Double.env())
      raw1 = VintageNetCellular.to_raw_config("ppp1", @config, VintageNet.Double.env())
      assert [{Interface, o0}] = raw0.child_specs
      assert [{Interface, o1}] = raw1.child_specs
      assert Interface.child_spec(o0).id != Interface.child_spec(o1).id
      assert Path.join(tmpdir, "ppp1.notify") in raw1.cleanup_files
      refute Path.join(tmpdir, "ppp0.notify") in raw1.cleanup_files
    end

    test "the down_cmds delete the whole mobile prefix" do
      raw = VintageNetCellular.to_raw_config("ppp0", @config, VintageNet.Double.env())
      PropertyTable.put(VintageNet, ["interface", "ppp0", "mobile", "signal_dbm"], -71)
      PropertyTable.put(VintageNet, ["interface", "ppp0", "mobile", "state"], :connected)
      PropertyTable.put(VintageNet, ["interface", "ppp1", "mobile", "state"], :connected)

      for {:fun, m, f, a} <- raw.down_cmds, do: assert(apply(m, f, a) == :ok)

      assert VintageNet.get_by_prefix(["interface", "ppp0", "mobile"]) == []
      assert VintageNet.get(["interface", "ppp1", "mobile", "state"]) == :connected
    end
  end

  describe "configured without a modem" do
    test "quick_configure/1 configures ppp0 with one catch-all provider; the manager looks for a modem" do
      assert :ok = VintageNetCellular.quick_configure("internet")

      assert %{vintage_net_cellular: %{service_providers: [%{apn: "internet", only_iccid_prefixes: nil}]}} =
               VintageNet.get_configuration("ppp0")

      assert VintageNet.Double.await(["interface", "ppp0", "mobile", "state"], :searching_modem) == :searching_modem

      assert VintageNet.Double.await(["interface", "ppp0", "mobile", "reason"], &(&1 =~ "no cellular modem found")) =~
               "diagnose"

      # Nothing waits for a netlink interface (no wwan0).
      assert VintageNet.Double.await(["interface", "ppp0", "state"], :configured) == :configured
    end

    test "quick_configure/1 returns configure's error" do
      assert {:error, message} = VintageNetCellular.quick_configure("bad apn")
      assert message =~ "apn"
    end

    test "ioctl :at and :status, and the at/3 forms" do
      assert {:error, :unconfigured} = VintageNetCellular.at("ppp7", "AT")

      assert :ok = VintageNetCellular.quick_configure("internet")
      VintageNet.Double.await(["interface", "ppp0", "mobile", "state"], :searching_modem)

      assert {:error, :no_modem} = VintageNet.ioctl("ppp0", :at, ["AT"])
      assert {:error, :no_modem} = VintageNetCellular.at("AT")
      assert {:error, :no_modem} = VintageNetCellular.at("AT", 1_000)
      assert {:error, :no_modem} = VintageNetCellular.at("ppp0", "AT")
      assert {:error, :no_modem} = VintageNetCellular.at("ppp0", "AT", 1_000)
      assert {:error, :unsupported} = VintageNet.ioctl("ppp0", :reboot, [])

      assert {:ok, %{state: :searching_modem, modem: nil, apn: nil}} = VintageNet.ioctl("ppp0", :status)
    end

    test "at/3 never logs a PIN" do
      level = Logger.level()
      Logger.configure(level: :info)
      on_exit(fn -> Logger.configure(level: level) end)

      log = capture_log([level: :info], fn -> VintageNetCellular.at("ppp0", ~s(AT+CPIN="8642")) end)
      assert log =~ "AT+CPIN=<redacted>"
      refute log =~ "8642"
    end
  end

  describe "check_system/1 and diagnose/1" do
    test "a system without pppd or PPP support gets one line per problem (chat is not needed)", %{
      dir: dir,
      sysfs: sysfs
    } do
      assert {:error, message} =
               VintageNetCellular.check_system(
                 pppd: Path.join(dir, "no-pppd"),
                 proc: Path.join(dir, "proc"),
                 sys: sysfs,
                 modules: Path.join(dir, "modules"),
                 dev_ppp: Path.join(dir, "no-dev-ppp")
               )

      assert message =~ "pppd"
      refute message =~ "chat"
      # diagnose/1's errors are part of it: this board has no USB host port.
      assert Enum.any?(VintageNetCellular.diagnose(sysfs), &(&1.level == :error))

      for %{level: :error, message: m} <- VintageNetCellular.diagnose(sysfs) do
        assert message =~ m
      end
    end

    test "diagnose/1 finds a modem in a sysfs tree", %{sysfs: sysfs} do
      SysfsFixture.build!(sysfs, [SysfsFixture.modem(:ec25, usb_path: "1-1.2", tty_base: 0)])
      findings = VintageNetCellular.diagnose(sysfs)
      refute Enum.any?(findings, &(&1.level == :error))
      assert Enum.any?(findings, &(&1.message =~ "ttyUSB2"))
      # The default root is the app environment's.
      assert VintageNetCellular.diagnose() == findings
    end
  end

  describe "VintageNet.info/0" do
    import ExUnit.CaptureIO

    test "prints the configuration with no PIN or password in it" do
      assert :ok = VintageNet.configure("ppp0", @config)
      out = capture_io(fn -> VintageNet.info() end)

      assert out =~ "Interface ppp0"
      assert out =~ "iot.1nce.net"
      refute out =~ "1234"
      refute out =~ "secret-pw"
      assert out =~ "sim_pin: %{password: \"....\"}"

      # A configure (deconfigure is one) that reaches vintage_net while the
      # interface still tears down the previous config crashes the interface
      # process there; wait until the new config has been taken up.
      VintageNet.Double.await_state("ppp0", [:configured, :configuring, :retrying])
      assert :ok = VintageNet.deconfigure("ppp0")
    end
  end
end
