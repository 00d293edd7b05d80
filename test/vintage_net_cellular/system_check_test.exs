defmodule VintageNetCellular.SystemCheckTest do
  use ExUnit.Case, async: true

  alias VintageNetCellular.SystemCheck

  @moduletag :tmp_dir

  doctest VintageNetCellular.SystemCheck

  # A fixture system that passes every check: fake pppd and mknod executables,
  # /proc and /sys trees, and /dev/null standing in for /dev/ppp (it is a
  # character device; nothing opens it).
  setup %{tmp_dir: dir} do
    bin = Path.join(dir, "bin")
    File.mkdir_p!(bin)
    pppd = executable!(bin, "pppd", "#!/bin/sh\necho 'pppd version 2.4.9'\n")
    mknod = executable!(bin, "mknod", "#!/bin/sh\nexit 0\n")

    proc = Path.join(dir, "proc")
    write!(proc, "devices", "Character devices:\n  1 mem\n  5 /dev/tty\n108 ppp\n180 usb\n\nBlock devices:\n  8 sd\n")
    write!(proc, "tty/ldiscs", "n_tty       0\nppp         3\n")
    write!(proc, "self/status", "Name:\tbeam.smp\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n")
    write!(proc, "sys/kernel/osrelease", "6.1.0-test\n")

    opts = [
      pppd: pppd,
      mknod: mknod,
      proc: proc,
      sys: Path.join(dir, "sys"),
      modules: Path.join(dir, "lib/modules"),
      dev_ppp: "/dev/null",
      search_dirs: []
    ]

    %{opts: opts, dir: dir, bin: bin}
  end

  defp executable!(dir, name, script) do
    path = Path.join(dir, name)
    File.write!(path, script)
    File.chmod!(path, 0o755)
    path
  end

  defp write!(root, relative, contents) do
    path = Path.join(root, relative)
    File.mkdir_p!(Path.dirname(path))
    File.write!(path, contents)
  end

  defp problems(opts), do: SystemCheck.problems(opts)

  test "a complete system passes", %{opts: opts} do
    assert SystemCheck.run(opts) == :ok
    assert problems(opts) == []
  end

  describe "pppd" do
    test "missing", %{opts: opts} do
      assert [message] = problems(Keyword.put(opts, :pppd, "pppd-not-installed-here"))
      assert message =~ ~s[pppd was not found (looked for "pppd-not-installed-here")]
      assert message =~ "BR2_PACKAGE_PPP"
    end

    test "not executable", %{opts: opts, bin: bin} do
      path = Path.join(bin, "pppd-plain")
      File.write!(path, "#!/bin/sh\necho 'pppd version 2.4.9'\n")
      assert [message] = problems(Keyword.put(opts, :pppd, path))
      assert message =~ "pppd was not found"
    end

    test "found through the search directories", %{opts: opts, bin: bin} do
      assert problems(Keyword.merge(opts, pppd: "pppd", search_dirs: ["/nonexistent", bin])) == []
    end

    test "2.4.8 (which prints its version on stderr) is too old", %{opts: opts, bin: bin} do
      old = executable!(bin, "pppd248", "#!/bin/sh\necho 'pppd version 2.4.8' >&2\n")
      assert [message] = problems(Keyword.put(opts, :pppd, old))
      assert message =~ "pppd 2.4.8 at #{old} is too old: 2.4.9 or later is needed"
      assert message =~ "ip-up-script"
    end

    test "older versions are too old", %{opts: opts, bin: bin} do
      old = executable!(bin, "pppd247", "#!/bin/sh\necho 'pppd version 2.4.7' >&2\nexit 1\n")
      assert [message] = problems(Keyword.put(opts, :pppd, old))
      assert message =~ "pppd 2.4.7"
    end

    test "2.5.x passes", %{opts: opts, bin: bin} do
      for version <- ["2.5.0", "2.5.1", "2.5.2"] do
        new = executable!(bin, "pppd#{version}", "#!/bin/sh\necho 'pppd version #{version}'\n")
        assert problems(Keyword.put(opts, :pppd, new)) == []
      end
    end

    test "unreadable version output", %{opts: opts, bin: bin} do
      odd = executable!(bin, "pppd-odd", "#!/bin/sh\necho 'Segmentation fault'\nexit 139\n")
      assert [message] = problems(Keyword.put(opts, :pppd, odd))
      assert message =~ "can't tell which pppd #{odd} is"
      assert message =~ "Segmentation fault"
    end

    test "the minimum version can be raised", %{opts: opts} do
      assert [message] = problems(Keyword.put(opts, :min_pppd_version, {2, 5, 0}))
      assert message =~ "2.5.0 or later is needed"
    end

    test "pppd_version/1 reads the real pppd when it is installed" do
      case System.find_executable("pppd") || Enum.find(["/usr/sbin/pppd", "/sbin/pppd"], &File.exists?/1) do
        nil ->
          :ok

        pppd ->
          assert {:ok, {2, minor, _}} = SystemCheck.pppd_version(pppd)
          assert minor >= 4
      end
    end
  end

  test "chat is not needed (pppd dials with the application's own dialer)", %{opts: opts} do
    assert problems(Keyword.merge(opts, chat: "/nonexistent/chat", search_dirs: [])) == []
  end

  describe "kernel PPP support" do
    test "none at all", %{opts: opts, dir: dir} do
      write!(dir, "proc/devices", "Character devices:\n  1 mem\n")
      write!(dir, "proc/tty/ldiscs", "n_tty       0\n")
      assert [message] = problems(opts)
      assert message =~ "the kernel has no PPP support"
      assert message =~ "(major 108)"
      assert message =~ "CONFIG_PPP and CONFIG_PPP_ASYNC"
      assert message =~ "CONFIG_PPP_DEFLATE"
    end

    test "no /proc at all", %{opts: opts, dir: dir} do
      assert [message] = problems(Keyword.put(opts, :proc, Path.join(dir, "no-proc")))
      assert message =~ "the kernel has no PPP support"
    end

    test "modules that are installed but not loaded are enough", %{opts: opts, dir: dir} do
      write!(dir, "proc/devices", "Character devices:\n  1 mem\n")
      write!(dir, "proc/tty/ldiscs", "n_tty       0\n")

      write!(dir, "lib/modules/6.1.0-test/modules.dep", """
      kernel/drivers/net/slip/slhc.ko.xz:
      kernel/drivers/net/ppp/ppp_generic.ko.xz: kernel/drivers/net/slip/slhc.ko.xz
      kernel/drivers/net/ppp/ppp_async.ko.xz: kernel/drivers/net/ppp/ppp_generic.ko.xz kernel/lib/crc-ccitt.ko.xz
      """)

      assert problems(opts) == []
      # The listing of another kernel doesn't count.
      assert [_] = problems(Keyword.put(opts, :kernel_release, "5.10.0-other"))
    end

    test "built-in drivers listed in modules.builtin are enough", %{opts: opts, dir: dir} do
      write!(dir, "proc/devices", "Character devices:\n  1 mem\n")
      write!(dir, "proc/tty/ldiscs", "n_tty       0\n")

      write!(
        dir,
        "lib/modules/6.1.0-test/modules.builtin",
        "kernel/drivers/net/ppp/ppp_generic.ko\nkernel/drivers/net/ppp/ppp_async.ko\n"
      )

      assert problems(opts) == []
    end

    test "the sysfs class and module directories are enough", %{opts: opts, dir: dir} do
      write!(dir, "proc/devices", "Character devices:\n  1 mem\n")
      write!(dir, "proc/tty/ldiscs", "n_tty       0\n")
      File.mkdir_p!(Path.join(dir, "sys/class/ppp/ppp"))
      File.mkdir_p!(Path.join(dir, "sys/module/ppp_async"))
      assert problems(opts) == []
    end

    test "a similarly named module is not PPP", %{opts: opts, dir: dir} do
      write!(dir, "proc/devices", "Character devices:\n  1 mem\n")
      write!(dir, "proc/tty/ldiscs", "n_tty       0\n")
      write!(dir, "lib/modules/6.1.0-test/modules.dep", "kernel/drivers/net/ppp/pppox_generic.ko:\n")
      assert [message] = problems(opts)
      assert message =~ "no PPP support"
    end

    test "PPP without the async tty discipline", %{opts: opts, dir: dir} do
      write!(dir, "proc/tty/ldiscs", "n_tty       0\n")
      assert [message] = problems(opts)
      assert message =~ "not PPP over serial ttys"
      assert message =~ "CONFIG_PPP_ASYNC"
      refute message =~ "CONFIG_PPP and"
    end
  end

  describe "/dev/ppp" do
    test "missing but can be made as root with mknod", %{opts: opts, dir: dir} do
      assert problems(Keyword.put(opts, :dev_ppp, Path.join(dir, "dev/ppp"))) == []
    end

    test "missing and not root", %{opts: opts, dir: dir} do
      write!(dir, "proc/self/status", "Name:\tbeam.smp\nUid:\t1000\t1000\t1000\t1000\n")
      dev_ppp = Path.join(dir, "dev/ppp")
      assert [message] = problems(Keyword.put(opts, :dev_ppp, dev_ppp))
      assert message =~ "#{dev_ppp} is missing and can't be made: this runs as uid 1000"
      assert message =~ "mknod #{dev_ppp} c 108 0"

      assert [_] = problems(Keyword.merge(opts, dev_ppp: dev_ppp, uid: 33))
    end

    test "missing and no mknod", %{opts: opts, dir: dir} do
      dev_ppp = Path.join(dir, "dev/ppp")
      assert [message] = problems(Keyword.merge(opts, dev_ppp: dev_ppp, mknod: "mknod-not-here"))
      assert message =~ "mknod was not found"
    end

    test "not a device", %{opts: opts, dir: dir} do
      write!(dir, "dev/ppp", "")
      dev_ppp = Path.join(dir, "dev/ppp")
      assert [message] = problems(Keyword.put(opts, :dev_ppp, dev_ppp))
      assert message =~ "#{dev_ppp} is a regular, not the PPP character device"
    end
  end

  test "error findings are included with their kernel options; others are not", %{opts: opts} do
    findings = [
      %{level: :error, message: "no USB serial driver for the modem", kernel_options: ["CONFIG_USB_SERIAL_OPTION"]},
      %{level: :warning, message: "signal is weak", kernel_options: []},
      %{level: :error, message: "the SIM is missing"},
      %{level: :info, message: "modem found"}
    ]

    assert problems(Keyword.put(opts, :findings, findings)) == [
             "no USB serial driver for the modem (kernel options: CONFIG_USB_SERIAL_OPTION)",
             "the SIM is missing"
           ]
  end

  test "run/1 lists every problem for a person", %{opts: opts, dir: dir} do
    write!(dir, "proc/devices", "Character devices:\n  1 mem\n")

    opts =
      Keyword.merge(opts,
        pppd: "/nonexistent/pppd",
        findings: [%{level: :error, message: "no modem found", kernel_options: []}]
      )

    assert {:error, message} = SystemCheck.run(opts)
    [head | bullets] = String.split(message, "\n")
    assert head == "vintage_net_cellular can't run PPP on this system:"
    assert length(bullets) == 3
    assert Enum.all?(bullets, &String.starts_with?(&1, "  * "))
    assert Enum.at(bullets, 2) == "  * no modem found"
  end

  test "find_executable/2", %{bin: bin} do
    assert SystemCheck.find_executable(Path.join(bin, "mknod")) == Path.join(bin, "mknod")

    assert SystemCheck.find_executable("mknod", search_dirs: [bin]) in [
             Path.join(bin, "mknod"),
             System.find_executable("mknod")
           ]

    assert SystemCheck.find_executable("surely-not-a-command-xyz", search_dirs: [bin]) == nil
    assert SystemCheck.find_executable(bin) == nil
  end

  describe "data_path: :usb_net" do
    setup %{opts: opts, bin: bin} do
      executable!(bin, "ip", "#!/bin/sh\n")
      executable!(bin, "udhcpc", "#!/bin/sh\n")

      %{
        opts:
          Keyword.merge(opts,
            data_path: :usb_net,
            ip_command: Path.join(bin, "ip"),
            udhcpc_command: Path.join(bin, "udhcpc")
          )
      }
    end

    test "without a USB network driver, the kernel options are named", %{opts: opts} do
      assert [problem] = problems(opts)
      assert problem =~ "no USB network driver"
      assert problem =~ "CONFIG_USB_NET_CDCETHER, CONFIG_USB_NET_RNDIS_HOST, CONFIG_USB_NET_CDC_NCM"
      # PPP alone (the default) and :auto (which falls back to PPP) don't need it.
      assert problems(Keyword.put(opts, :data_path, :auto)) == []
      assert problems(Keyword.delete(opts, :data_path)) == []
    end

    test "a loaded driver or an installed module is enough", %{opts: opts, dir: dir} do
      File.mkdir_p!(Path.join(dir, "sys/bus/usb/drivers/cdc_ether"))
      assert problems(opts) == []
      File.rm_rf!(Path.join(dir, "sys/bus/usb/drivers"))

      write!(
        dir,
        "lib/modules/6.1.0-test/modules.dep",
        "kernel/drivers/net/usb/rndis_host.ko.xz: kernel/drivers/net/usb/cdc_ether.ko.xz\n"
      )

      assert problems(opts) == []
    end

    test "ip and udhcpc are needed", %{opts: opts, dir: dir} do
      File.mkdir_p!(Path.join(dir, "sys/bus/usb/drivers/cdc_ether"))
      opts = Keyword.merge(opts, ip_command: "/nonexistent/ip", udhcpc_command: "/nonexistent/udhcpc")
      assert [ip, udhcpc] = problems(opts)
      assert ip =~ "ip was not found"
      assert udhcpc =~ "udhcpc was not found"
    end
  end
end
