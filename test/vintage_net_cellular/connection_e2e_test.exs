defmodule VintageNetCellular.ConnectionE2ETest do
  @moduledoc """
  End to end: `VintageNet.configure/2` (the VintageNet double) down to a
  simulated modem and back up to routes, DNS and connection status.

  What is real here: the technology's configure path (normalize,
  to_raw_config, up_cmds, child_specs), USB discovery on a fixture sysfs in
  which the simulator's ptys appear as the modem's ttyUSB ports, the AT port
  program talking to the simulator, the connection manager, the dialer
  (`cellular_port dial`, pppd's connect program) dialing the simulator until
  CONNECT, and the `cellular_port` executable (notifier mode) delivering
  ip-up/ip-down to the BEAM.

  What is not: pppd. It can't run here (no kernel PPP, no /dev/ppp to give
  it), so `test/support/fake_pppd` takes its place. It is started by
  `MuonTrap.Daemon` with exactly the arguments pppd would get, runs the
  `connect` command on the PPP tty as pppd does (so the real dialer dials), and
  then runs the ip-up script (the real notifier, linked by the up_cmds) with
  pppd's arguments and environment (IFNAME, IPLOCAL=10.64.0.2,
  IPREMOTE=10.64.64.64, DNS1/DNS2=10.11.12.13/14). On SIGTERM it runs ip-down,
  as pppd does. What follows from ip-up (RouteManager, NameResolver,
  connection status, InternetChecker) is asserted on the double.
  """
  use ExUnit.Case, async: false

  alias VintageNetCellular.Test.Simulator
  alias VintageNetCellular.Test.World

  @moduletag :e2e
  @moduletag timeout: 120_000

  @local {10, 64, 0, 2}
  @remote {10, 64, 64, 64}
  @peer_dns [{10, 11, 12, 13}, {10, 11, 12, 14}]
  @iccid_1nce "89882280000012345678"

  setup do
    World.setup_e2e()
  end

  defp config(providers, extra \\ %{}) do
    %{type: VintageNetCellular, vintage_net_cellular: Map.merge(%{service_providers: providers}, extra)}
  end

  defp mobile(ifname, key), do: ["interface", ifname, "mobile", key]

  defp await_state(ifname, state, timeout \\ 15_000) do
    VintageNet.Double.await(mobile(ifname, "state"), state, timeout)
  rescue
    e ->
      reraise "#{Exception.message(e)}; reason: #{inspect(VintageNet.get(mobile(ifname, "reason")))}", __STACKTRACE__
  end

  # Polls `fun` until it returns a truthy value or the deadline passes.
  defp eventually(fun, timeout \\ 10_000) do
    deadline = System.monotonic_time(:millisecond) + timeout
    poll(fun, deadline)
  end

  defp poll(fun, deadline) do
    case fun.() do
      result when result not in [nil, false] ->
        result

      _ ->
        if System.monotonic_time(:millisecond) > deadline do
          flunk("condition not met in time")
        else
          Process.sleep(20)
          poll(fun, deadline)
        end
    end
  end

  defp pppd_os_pid(ifname) do
    [pid] =
      for {_, pid, _, [MuonTrap.Daemon]} <-
            DynamicSupervisor.which_children(VintageNetCellular.Interface.workers(ifname)),
          do: pid

    MuonTrap.Daemon.os_pid(pid)
  end

  defp statistics_pollers(ifname) do
    children = DynamicSupervisor.which_children(VintageNetCellular.Interface.workers(ifname))
    Enum.count(children, &match?({_, _, _, [VintageNetCellular.Statistics]}, &1))
  end

  defp alive?(os_pid), do: match?({_, 0}, System.cmd("kill", ["-0", "#{os_pid}"], stderr_to_stdout: true))

  # Zombies don't count: PID 1 in this container doesn't reap orphans.
  defp running?(os_pid) do
    {out, _} = System.cmd("ps", ["-o", "stat=", "-p", "#{os_pid}"])
    out |> String.split("\n", trim: true) |> Enum.any?(&(not String.starts_with?(String.trim(&1), "Z")))
  end

  defp children(os_pid) do
    {out, _} = System.cmd("ps", ["-o", "pid=", "--ppid", "#{os_pid}"])
    String.split(out, ~r/\s+/, trim: true)
  end

  defp count(lines, prefix), do: Enum.count(lines, &String.starts_with?(&1, prefix))

  describe "the pppd stand-in ends like pppd" do
    # pppd ends its connect script's process group on SIGTERM; MuonTrap
    # only signals pppd itself.
    test "stopped while the connect script runs: the script and fake_pppd are gone" do
      # A path without spaces or quotes: it goes into a shell command line.
      dir = Path.join(System.tmp_dir!(), "fake_pppd_#{System.unique_integer([:positive])}")
      File.mkdir_p!(dir)
      on_exit(fn -> File.rm_rf(dir) end)
      pid_file = Path.join(dir, "connect.pid")
      # Stands in for a dialer that waits for an answer that never comes.
      connect = "sh -c 'echo $$ > #{pid_file}; sleep 30 & wait'"

      # SIGKILL only after 10 s: what ends it in time is its SIGTERM handling.
      {:ok, daemon} =
        MuonTrap.Daemon.start_link(
          Path.expand("../support/fake_pppd", __DIR__),
          ["connect", connect, "/dev/null", "ip-up-script", "/bin/true", "ip-down-script", "/bin/true"],
          delay_to_sigkill: 10_000
        )

      pppd = MuonTrap.Daemon.os_pid(daemon)
      connector = eventually(fn -> File.exists?(pid_file) and String.trim(File.read!(pid_file)) end)
      # The script's own child (like the dialer started by sh -c).
      sleeper = eventually(fn -> children(connector) |> List.first() end)
      assert running?(pppd) and running?(connector) and running?(sleeper)

      GenServer.stop(daemon)
      # SIGTERM is handled at once, not after the connect script.
      eventually(fn -> not running?(pppd) end, 5_000)
      eventually(fn -> not running?(connector) and not running?(sleeper) end, 5_000)
    end
  end

  describe "no pppd or dialer outlives the interface" do
    # A dialer that never gets an answer: it records its pid and waits. It
    # ignores SIGHUP, so only pppd's SIGTERM to its group ends it (a hangup
    # of the tty when fake_pppd dies would otherwise hide a leak).
    defp slow_dialer(world) do
      pids = Path.join(world.dir, "dialer.pids")
      script = Path.join(world.dir, "slow_dialer")
      File.write!(script, "#!/bin/sh\necho $$ >> #{pids}\ntrap '' HUP\nexec sleep 60\n")
      File.chmod!(script, 0o755)
      Application.put_env(:vintage_net_cellular, :dialer, script)
      pids
    end

    defp dialing(world) do
      pids = slow_dialer(world)
      world = World.add_modem(world, :m1, args: ["--provisioned", "internet"])
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}]))
      await_state("ppp0", :dialing, 20_000)
      # The newest dialer: on a loaded machine pppd may have dialed before.
      dialer = eventually(fn -> File.exists?(pids) and pids |> File.read!() |> String.split() |> List.last() end)
      pppd = pppd_os_pid("ppp0")
      assert running?(dialer) and running?(pppd)
      {world, dialer, pppd}
    end

    test "deconfigure while the dialer dials", %{world: world} do
      {_world, dialer, pppd} = dialing(world)
      assert :ok = VintageNet.deconfigure("ppp0")
      eventually(fn -> not running?(pppd) and not running?(dialer) end, 5_000)
    end

    test "a pppd that takes its time to exit is gone before the next one dials", %{world: world} do
      # Like a real pppd, which drops DTR and waits on SIGTERM; MuonTrap's
      # SIGKILL comes 500 ms after the SIGTERM at the latest.
      log = Path.join(world.dir, "pppd.log")
      pppd = Path.join(world.dir, "lingering_pppd")

      File.write!(pppd, """
      #!/bin/sh
      [ "$1" = "--version" ] && { echo "pppd version 2.4.9"; exit 0; }
      echo "start $$" >> #{log}
      sleep 60 &
      child=$!
      trap 'kill $child; sleep 0.4; echo "exit $$" >> #{log}; exit 5' TERM
      wait
      """)

      File.chmod!(pppd, 0o755)
      Application.put_env(:vintage_net_cellular, :pppd, pppd)
      # It never connects: the dial times out and the manager dials again.
      Application.put_env(:vintage_net_cellular, :dial_timeout, 1_000)

      _world = World.add_modem(world, :m1, args: ["--provisioned", "internet"])
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}]))

      lines = eventually(fn -> pppd_log(log) |> Enum.drop(2) |> Enum.any?() and pppd_log(log) end, 15_000)
      assert :ok = VintageNet.deconfigure("ppp0")

      # Each pppd exited before the next one started.
      assert ["start " <> first, "exit " <> first, "start " <> _second | _] = lines
    end

    defp pppd_log(path) do
      case File.read(path) do
        {:ok, text} -> String.split(text, "\n", trim: true)
        {:error, _} -> []
      end
    end

    test "VintageNet stopping (the application) while the dialer dials", %{world: world} do
      {_world, dialer, pppd} = dialing(world)
      :ok = VintageNet.Double.stop()

      try do
        eventually(fn -> not running?(pppd) and not running?(dialer) end, 5_000)
      after
        {:ok, _} = VintageNet.Double.start()
      end
    end
  end

  describe "a modem that connects" do
    test "finds the modem, chooses the APN by ICCID, writes the context, dials with the dialer, and routes on ip-up",
         %{world: world} do
      world = World.add_modem(world, :m1, args: ["--iccid", @iccid_1nce])
      VintageNet.subscribe(["interface", "ppp0", "mobile"])

      providers = [%{apn: "iot.1nce.net", only_iccid_prefixes: ["8988228"]}, %{apn: "internet"}]
      assert :ok = VintageNet.configure("ppp0", config(providers))

      # The states, in order, as a subscriber sees them.
      assert_receive {VintageNet, ["interface", "ppp0", "mobile", "state"], nil, :searching_modem, _}, 5_000
      assert_receive {VintageNet, ["interface", "ppp0", "mobile", "state"], _, :initializing, _}, 5_000
      assert_receive {VintageNet, ["interface", "ppp0", "mobile", "state"], _, :registering, _}, 10_000
      assert_receive {VintageNet, ["interface", "ppp0", "mobile", "state"], _, :dialing, _}, 10_000
      # pppd creates ppp0 and brings its link up before ip-up; VintageNet's
      # netlink monitor reports that (here the double plays that part).
      VintageNet.Double.link_up("ppp0")
      assert_receive {VintageNet, ["interface", "ppp0", "mobile", "state"], _, :connected, _}, 20_000

      assert VintageNet.get(mobile("ppp0", "apn")) == "iot.1nce.net"
      assert VintageNet.get(mobile("ppp0", "iccid")) == @iccid_1nce
      assert VintageNet.get(mobile("ppp0", "sim")) == :ready
      assert is_binary(VintageNet.get(mobile("ppp0", "imsi")))
      assert VintageNet.get(mobile("ppp0", "reason")) =~ "PPP is up: 10.64.0.2 via 10.64.64.64"

      # It found the EC25's ports by interface number: AT on ttyUSB2, PPP on ttyUSB3.
      assert {:ok, %{modem: "1-1.2 (ttyUSB2/ttyUSB3)", profile: VintageNetCellular.Modem.QuectelEC25}} =
               VintageNet.ioctl("ppp0", :status)

      # The context was written once, with the radio off around it.
      at = World.received(world, :m1, "at")
      assert count(at, ~s(AT+CGDCONT=1,"IP","iot.1nce.net")) == 1
      assert count(at, "AT+CFUN=4") == 1
      assert count(at, "AT+CFUN=1") == 1
      # The SIM, ICCID, IMSI and contexts were read on one compound line.
      assert "AT+CPIN?;+QCCID;+CIMI;+CGDCONT?;+CGACT?;+CGAUTH?" in at
      # The monitor turned the registration URCs on (and read it) on its line.
      assert Enum.count(at, &String.starts_with?(&1, "AT+CREG=2;+CGREG=2;+CEREG=2;")) == 1

      # The dialer checked the PPP port, dialed the context and got CONNECT.
      assert World.received(world, :m1, "ppp") == ["AT", "ATD*99***1#"]

      # pppd (the fake) was started under MuonTrap on the PPP tty, and the
      # notifier's ip-up led to the route, DNS and :lan.
      assert [{:start, pppd, args, _opts}] = VintageNet.Double.calls(:muontrap)
      assert pppd =~ "fake_pppd"
      assert Enum.take(args, 1) == ["connect"]
      assert Enum.at(args, 1) == VintageNetCellular.PPP.dialer_path() <> " dial 1"
      assert Enum.at(args, 2) == Simulator.ports(World.sim(world, :m1)).ppp
      assert "usepeerdns" in args and "persist" in args and "noipdefault" in args
      refute "+ipv6" in args

      assert {:set_route, "ppp0", [{@local, 32}], @remote} in VintageNet.Double.calls(:route_manager)
      assert {:set_connection_status, "ppp0", :lan, "PPP is up"} in VintageNet.Double.calls(:route_manager)
      assert {:setup, "ppp0", nil, @peer_dns} in VintageNet.Double.calls(:name_resolver)
      assert {:start, "ppp0"} in VintageNet.Double.calls(:internet_checker)
      assert VintageNet.Double.await(["interface", "ppp0", "connection"], :lan) == :lan
      refute {:set_connection_status, "ppp0", :internet, "PPP is up"} in VintageNet.Double.calls(:route_manager)

      # :internet comes from the InternetChecker's real check, never asserted.
      assert :ok = VintageNet.Double.internet_check("ppp0", :pass)
      assert VintageNet.Double.await(["interface", "ppp0", "connection"], :internet) == :internet

      # While the link is up, the kernel's counters of ppp0 are published
      # (statistics_interval is 100 ms in this world); the fixture sysfs has
      # no ppp0 until the test writes it, and that stops nothing.
      refute VintageNet.get(mobile("ppp0", "statistics"))
      stats_dir = Path.join([world.sysfs, "class", "net", "ppp0", "statistics"])
      File.mkdir_p!(stats_dir)

      for {file, value} <- [rx_bytes: 5000, tx_bytes: 1200, rx_packets: 40, tx_packets: 30],
          do: File.write!(Path.join(stats_dir, "#{file}"), "#{value}\n")

      stats = VintageNet.Double.await(mobile("ppp0", "statistics"), &is_map/1)
      assert %{rx_bytes: 5000, tx_bytes: 1200, rx_packets: 40, tx_packets: 30, timestamp: t} = stats
      assert is_integer(t)

      # Raw AT goes to the AT port while PPP holds the other one.
      assert {:ok, [~s(+CGDCONT: 1,"IP","iot.1nce.net") <> _ | _]} = VintageNetCellular.at("AT+CGDCONT?")

      # Teardown: pppd is stopped, the down path clears DNS and routes and
      # deletes every mobile property.
      pppd_os_pid = pppd_os_pid("ppp0")
      assert alive?(pppd_os_pid)
      assert :ok = VintageNet.deconfigure("ppp0")
      VintageNet.Double.await(mobile("ppp0", "state"), nil)
      assert VintageNet.get_by_prefix(["interface", "ppp0", "mobile"]) == []
      assert {:clear, "ppp0"} in VintageNet.Double.calls(:name_resolver)
      assert {:clear_route, "ppp0"} in VintageNet.Double.calls(:route_manager)
      eventually(fn -> not alive?(pppd_os_pid) end)
      # The interface's files (here pppd's ip-up link) are cleaned up.
      assert {:error, :enoent} = File.lstat(Path.join(world.tmpdir, "ppp0.ip-up"))
    end

    test "deconfigure, then configure the same APN again: the call left up is ended and it connects again",
         %{world: world} do
      world = World.add_modem(world, :m1, args: ["--provisioned", "internet"])
      sim = World.sim(world, :m1)
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}]))
      VintageNet.Double.link_up("ppp0")
      await_state("ppp0", :connected, 20_000)
      pppd = pppd_os_pid("ppp0")

      # pppd is stopped; like a real pppd that is simply stopped, it doesn't
      # end the data call: the modem stays in data mode on its PPP port.
      assert :ok = VintageNet.deconfigure("ppp0")
      VintageNet.Double.await(mobile("ppp0", "state"), nil)
      eventually(fn -> not running?(pppd) end, 5_000)
      trace = Simulator.trace(sim)
      assert Enum.any?(trace, &(&1 =~ "ppp: data call up on cid 1"))
      refute Enum.any?(trace, &(&1 =~ "data call down"))

      VintageNet.Double.reset()
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}]))
      VintageNet.Double.link_up("ppp0")
      await_state("ppp0", :connected, 20_000)

      # The call left up was ended on the AT port before the dialer dialed again.
      at = World.received(world, :m1, "at")
      assert count(at, "AT+CGACT=0,1") == 1
      assert count(World.received(world, :m1, "ppp"), "ATD*99***1#") == 2
      assert [{:start, _, _, _}] = VintageNet.Double.calls(:muontrap)
    end

    test "one port for AT and PPP: a call left up is escaped (+++ with guard time, then ATH)", %{world: world} do
      world = World.add_modem(world, :m1, args: ["--provisioned", "internet"])
      sim = World.sim(world, :m1)
      # The PPP port as the only port: AT commands and pppd share it.
      single = config([%{apn: "internet"}], %{at_tty: "ttyUSB3"})
      assert :ok = VintageNet.configure("ppp0", single)
      VintageNet.Double.link_up("ppp0")
      await_state("ppp0", :connected, 20_000)
      assert {:ok, %{modem: "1-1.2 (ttyUSB3)"}} = VintageNet.ioctl("ppp0", :status)

      assert :ok = VintageNet.deconfigure("ppp0")
      VintageNet.Double.await(mobile("ppp0", "state"), nil)
      refute Enum.any?(Simulator.trace(sim), &(&1 =~ "data call down"))

      VintageNet.Double.reset()
      assert :ok = VintageNet.configure("ppp0", single)
      VintageNet.Double.link_up("ppp0")
      # Its set-up lines go unanswered (command_timeout is 3 s here), then
      # the escape ends the call and the bring-up starts again.
      await_state("ppp0", :connected, 40_000)

      trace = Simulator.trace(sim)
      assert Enum.any?(trace, &(&1 =~ "+++ escape, online command mode"))
      assert count(World.received(world, :m1, "ppp"), "ATH") == 1
      assert count(World.received(world, :m1, "ppp"), "ATD*99***1#") == 2
    end

    test "a context that already matches is not touched", %{world: world} do
      world = World.add_modem(world, :m1, args: ["--provisioned", "internet"])
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}]))
      await_state("ppp0", :connected, 20_000)

      at = World.received(world, :m1, "at")
      assert "AT+CPIN?;+QCCID;+CIMI;+CGDCONT?;+CGACT?;+CGAUTH?" in at
      assert count(at, "AT+CGDCONT=") == 0
      assert count(at, "AT+CFUN=") == 0
      assert VintageNet.get(mobile("ppp0", "apn")) == "internet"
    end

    test "IPv4v6 with credentials: the context type, +ipv6, and no secret on pppd's command line",
         %{world: world} do
      world = World.add_modem(world, :m1)

      provider = %{apn: "super", pdp_type: :ipv4v6, username: "user1", password: "s3cret", auth: :chap}
      assert :ok = VintageNet.configure("ppp0", config([provider]))
      await_state("ppp0", :connected, 20_000)

      at = World.received(world, :m1, "at")
      assert ~s(AT+CGDCONT=1,"IPV4V6","super") in at
      # The simulator's transcript redacts the CGAUTH arguments, as our logs do.
      assert "AT+CGAUTH=<redacted>" in at
      assert {:ok, ["+CGAUTH: 1,2,\"user1\"" <> _]} = VintageNetCellular.at("AT+CGAUTH?")

      [{:start, _pppd, args, _}] = VintageNet.Double.calls(:muontrap)
      assert "+ipv6" in args
      options = Path.join(world.tmpdir, "pppd_options.ppp0")
      assert ["file", ^options] = Enum.drop_while(args, &(&1 != "file")) |> Enum.take(2)
      refute Enum.any?(args, &(&1 =~ "s3cret" or &1 =~ "user1"))
      assert File.stat!(options).mode |> Bitwise.band(0o777) == 0o600
    end
  end

  describe "failures post a state and a reason and recover" do
    test "SIM absent, then inserted", %{world: world} do
      world = World.add_modem(world, :m1, args: ["--sim", "absent"])
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}]))

      await_state("ppp0", :retrying)
      assert VintageNet.get(mobile("ppp0", "reason")) =~ "No SIM"
      assert VintageNet.Double.await(mobile("ppp0", "sim"), :absent) == :absent
      assert VintageNet.get(mobile("ppp0", "iccid")) == nil

      :ok = Simulator.control(World.sim(world, :m1), "sim insert")
      await_state("ppp0", :connected, 20_000)
      assert VintageNet.get(mobile("ppp0", "sim")) == :ready
    end

    test "the right PIN unlocks the SIM once", %{world: world} do
      world = World.add_modem(world, :m1, args: ["--sim", "locked", "--pin", "2468"])
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}], %{sim_pin: "2468"}))
      await_state("ppp0", :connected, 20_000)
      assert count(World.received(world, :m1, "at"), "AT+CPIN=") == 1
    end

    test "a wrong PIN is tried exactly once, and the reason says so", %{world: world} do
      world = World.add_modem(world, :m1, args: ["--sim", "locked", "--pin", "2468"])
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}], %{sim_pin: "1111"}))

      await_state("ppp0", :sim_locked)
      assert VintageNet.get(mobile("ppp0", "reason")) =~ "rejected the configured :sim_pin"
      assert VintageNet.get(mobile("ppp0", "sim")) == :pin_required

      # Let it check the SIM again several times (every sim_poll_interval).
      eventually(fn -> count(World.received(world, :m1, "at"), "AT+CPIN?") >= 5 end)
      assert count(World.received(world, :m1, "at"), "AT+CPIN=") == 1
      # Each check passes through :initializing: wait for :sim_locked again.
      await_state("ppp0", :sim_locked)

      # The SIM still has 2 of its 3 tries.
      assert {:ok, [~s(+QPINC: "SC",2,10)]} = VintageNetCellular.at(~s(AT+QPINC="SC"))
    end

    test "registration denied, then allowed", %{world: world} do
      world = World.add_modem(world, :m1, args: ["--registration", "denied"])
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}]))

      await_state("ppp0", :registering)

      VintageNet.Double.await(mobile("ppp0", "reason"), &(&1 =~ "registration denied by the network"), 10_000)
      assert Enum.any?(World.sent(world, :m1, "at"), &(&1 in ["+CEREG: 3", "+CEREG: 2,3"]))
      assert VintageNet.get(mobile("ppp0", "state")) == :registering
      refute Enum.any?(World.received(world, :m1, "ppp"), &String.starts_with?(&1, "ATD"))

      :ok = Simulator.control(World.sim(world, :m1), "reg home")
      await_state("ppp0", :connected, 20_000)
    end

    test "an ICCID no provider matches: said plainly, and retried", %{world: world} do
      world = World.add_modem(world, :m1, args: ["--iccid", "89014103211118510720"])
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "iot.1nce.net", only_iccid_prefixes: ["8988228"]}]))

      await_state("ppp0", :retrying)
      reason = VintageNet.get(mobile("ppp0", "reason"))
      assert reason =~ "No service provider for this SIM"
      assert reason =~ "89014103211118510720"
      assert VintageNet.get(mobile("ppp0", "apn")) == nil

      # It keeps reading the SIM, which may change.
      eventually(fn -> Enum.count(World.received(world, :m1, "at"), &(&1 =~ "+QCCID")) >= 3 end)
      assert VintageNet.get(mobile("ppp0", "state")) in [:retrying, :initializing]
    end

    test "a SIM pulled while connected stops PPP; a SIM put back brings it up again", %{world: world} do
      world = World.add_modem(world, :m1)
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}]))
      await_state("ppp0", :connected, 20_000)
      assert is_binary(VintageNet.get(mobile("ppp0", "iccid")))

      :ok = Simulator.control(World.sim(world, :m1), "sim remove")
      await_state("ppp0", :retrying)
      assert VintageNet.Double.await(mobile("ppp0", "sim"), :absent) == :absent
      assert VintageNet.get(mobile("ppp0", "iccid")) == nil
      assert VintageNet.get(mobile("ppp0", "apn")) == nil
      assert VintageNet.Double.await(["interface", "ppp0", "connection"], :disconnected) == :disconnected

      :ok = Simulator.control(World.sim(world, :m1), "sim insert")
      await_state("ppp0", :connected, 20_000)
      assert VintageNet.get(mobile("ppp0", "sim")) == :ready
    end

    test "a dropped data call: ip-down clears the link, pppd (persist) dials again", %{world: world} do
      world = World.add_modem(world, :m1)
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}]))
      await_state("ppp0", :connected, 20_000)
      VintageNet.subscribe(mobile("ppp0", "state"))
      assert statistics_pollers("ppp0") == 1

      :ok = Simulator.control(World.sim(world, :m1), "hangup")
      assert_receive {VintageNet, _, :connected, :dialing, _}, 5_000
      # The counters are read only while the link is up.
      assert statistics_pollers("ppp0") == 0
      assert VintageNet.get(mobile("ppp0", "reason")) =~ "the PPP link went down; pppd redials"
      assert {:clear_route, "ppp0"} in VintageNet.Double.calls(:route_manager)
      assert {:clear, "ppp0"} in VintageNet.Double.calls(:name_resolver)
      assert {:set_connection_status, "ppp0", :disconnected, "PPP is down"} in VintageNet.Double.calls(:route_manager)

      assert_receive {VintageNet, _, :dialing, :connected, _}, 10_000
      assert count(World.received(world, :m1, "ppp"), "ATD*99***1#") == 2
      # The same pppd, never restarted.
      assert [{:start, _, _, _}] = VintageNet.Double.calls(:muontrap)
      assert Enum.count(VintageNet.Double.calls(:route_manager), &match?({:set_route, "ppp0", _, _}, &1)) == 2
    end

    test "unplugged, then replugged under new tty numbers", %{world: world} do
      world = World.add_modem(world, :m1)
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}]))
      await_state("ppp0", :connected, 20_000)

      world = World.unplug(world, :m1)
      await_state("ppp0", :searching_modem)
      VintageNet.Double.await(mobile("ppp0", "reason"), &(&1 =~ "no cellular modem found"))
      assert VintageNet.Double.await(["interface", "ppp0", "connection"], :disconnected) == :disconnected
      assert {:clear_route, "ppp0"} in VintageNet.Double.calls(:route_manager)

      world = World.replug(world, :m1, 6)
      assert World.ttys(world, :m1) == %{at: "ttyUSB8", ppp: "ttyUSB9"}
      await_state("ppp0", :connected, 20_000)
      assert {:ok, %{modem: "1-1.2 (ttyUSB8/ttyUSB9)"}} = VintageNet.ioctl("ppp0", :status)
    end
  end

  describe "compound command lines" do
    # The connection manager's own lines; the monitor sends other commands on
    # the same port at the same time (registration, identity, signal), but
    # never these.
    @step_by_step ["ATE0", "AT+CMEE=2", "AT+CPIN?", "AT+CIMI", "AT+CGDCONT?", "AT+CGACT?", "AT+CGAUTH?"]

    for {model, iccid_cmd, init} <- [
          {:ec25, "+QCCID", ~s(ATE0;+CMEE=2;+QURCCFG="urcport","usbat")},
          {:sim7600, "+CICCID", "ATE0;+CMEE=2"}
        ] do
      test "#{model}: a provisioned modem hears four lines on its AT port, and two on its PPP port", %{world: world} do
        world = World.add_modem(world, :m1, model: unquote(model), args: ["--provisioned", "internet"])
        assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}]))
        await_state("ppp0", :connected, 20_000)

        at = World.received(world, :m1, "at")
        sim_line = "AT+CPIN?;#{unquote(iccid_cmd)};+CIMI;+CGDCONT?;+CGACT?;+CGAUTH?"

        # The set-up line first (the monitor waits for it), then the SIM line
        # and the monitor's two lines (URCs and reads; identity) in any order.
        assert [unquote(init) | next] = Enum.take(at, 4)
        assert sim_line in next
        assert Enum.count(next, &String.starts_with?(&1, "AT+CREG=2;+CGREG=2;+CEREG=2;")) == 1
        assert "AT+CGMI;+CGMM;+CGMR;+CGSN" in next

        # Nothing of it was asked twice: no registration read or identity
        # command of its own, no set-up or SIM command again.
        assert count(at, unquote(init)) == 1
        assert count(at, sim_line) == 1
        refute Enum.any?(at, &(&1 in ["AT+CREG=2", "AT+CEREG=2", "AT+CEREG?", "AT+CGSN", "AT+CGMI"]))
        assert Enum.filter(at, &(&1 in @step_by_step)) == []
        refute Enum.any?(at, &(&1 == "AT#{unquote(iccid_cmd)}"))
        assert World.received(world, :m1, "ppp") == ["AT", "ATD*99***1#"]

        # Everything the single commands gave is still known.
        assert VintageNet.get(mobile("ppp0", "sim")) == :ready
        assert VintageNet.get(mobile("ppp0", "iccid")) =~ ~r/\A\d{19,20}\z/
        assert VintageNet.get(mobile("ppp0", "imsi")) =~ ~r/\A310410\d{9}\z/
        assert VintageNet.get(mobile("ppp0", "apn")) == "internet"
      end
    end

    test "no SIM: the compound line fails with the SIM error, and AT+CPIN? alone says so as before",
         %{world: world} do
      world = World.add_modem(world, :m1, args: ["--sim", "absent"])
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}]))

      await_state("ppp0", :retrying)
      assert VintageNet.get(mobile("ppp0", "reason")) =~ "No SIM card: the modem reports none inserted"
      assert VintageNet.get(mobile("ppp0", "sim")) == :absent

      at = World.received(world, :m1, "at")
      compound = Enum.find_index(at, &(&1 == "AT+CPIN?;+QCCID;+CIMI;+CGDCONT?;+CGACT?;+CGAUTH?"))
      alone = Enum.find_index(at, &(&1 == "AT+CPIN?"))
      assert is_integer(compound) and is_integer(alone) and compound < alone
      assert "+CME ERROR: SIM not inserted" in World.sent(world, :m1, "at")
      # Nothing further was read from a SIM that isn't there.
      refute "AT+CIMI" in at or "AT+CGDCONT?" in at
    end

    test "a PIN-locked SIM: the compound line fails at AT+CIMI, the PIN is sent once, then it connects",
         %{world: world} do
      world = World.add_modem(world, :m1, args: ["--sim", "locked", "--pin", "2468"])
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}], %{sim_pin: "2468"}))
      await_state("ppp0", :connected, 20_000)

      at = World.received(world, :m1, "at")
      assert "+CME ERROR: SIM PIN required" in World.sent(world, :m1, "at")
      assert count(at, "AT+CPIN=") == 1
      # After the unlock, the step-by-step path read what the line would have.
      assert Enum.drop_while(at, &(not String.starts_with?(&1, "AT+CPIN="))) |> Enum.filter(&(&1 in @step_by_step)) ==
               ["AT+CPIN?", "AT+CIMI", "AT+CGACT?", "AT+CGDCONT?", "AT+CGAUTH?"]

      assert VintageNet.get(mobile("ppp0", "sim")) == :ready
      assert is_binary(VintageNet.get(mobile("ppp0", "imsi")))
    end

    test "a modem that doesn't answer the first line is set up step by step", %{world: world} do
      world = World.add_modem(world, :m1, args: ["--exec", "mute on", "--provisioned", "internet"])
      VintageNet.subscribe(mobile("ppp0", "state"))
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}]))
      await_state("ppp0", :initializing)

      # The compound set-up line goes unanswered (command_timeout is 3 s
      # here); the modem answers again before it times out.
      Process.sleep(1_000)
      :ok = Simulator.control(World.sim(world, :m1), "mute off")
      await_state("ppp0", :connected, 20_000)

      # The same bring-up went on, step by step: no retry in between.
      refute_received {VintageNet, _, _, :retrying, _}
      at = World.received(world, :m1, "at")
      assert "ATE0" in at and "AT+CMEE=2" in at and ~s(AT+QURCCFG="urcport","usbat") in at
    end

    test "the manager answers status at once while the modem keeps it waiting", %{world: world} do
      world = World.add_modem(world, :m1, args: ["--exec", "mute on", "--provisioned", "internet"])
      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}]))
      await_state("ppp0", :initializing)
      manager = VintageNetCellular.Interface.connection("ppp0")

      # The set-up line waits up to command_timeout (3 s here) for an answer
      # that doesn't come; the manager itself never waits: each status call
      # is answered within 50 ms, many times over that wait.
      for _ <- 1..20 do
        assert %{state: :initializing} = :gen_statem.call(manager, :status, 50)
        Process.sleep(50)
      end

      :ok = Simulator.control(World.sim(world, :m1), "mute off")
      await_state("ppp0", :connected, 20_000)
      assert %{state: :connected} = :gen_statem.call(manager, :status, 50)
    end
  end

  describe "several modems" do
    test "ppp0 and ppp1 each claim their own modem", %{world: world} do
      world =
        world
        |> World.add_modem(:a, usb_path: "1-1.2", tty_base: 0, args: ["--iccid", @iccid_1nce])
        |> World.add_modem(:b, usb_path: "1-1.3", tty_base: 4, args: ["--iccid", "89014103211118510720"])

      providers = [%{apn: "iot.1nce.net", only_iccid_prefixes: ["8988228"]}, %{apn: "internet"}]
      assert :ok = VintageNet.configure("ppp0", config(providers))
      assert :ok = VintageNet.configure("ppp1", config(providers))

      await_state("ppp0", :connected, 30_000)
      await_state("ppp1", :connected, 30_000)

      {:ok, s0} = VintageNet.ioctl("ppp0", :status)
      {:ok, s1} = VintageNet.ioctl("ppp1", :status)
      assert Enum.sort([s0.modem, s1.modem]) == ["1-1.2 (ttyUSB2/ttyUSB3)", "1-1.3 (ttyUSB6/ttyUSB7)"]

      # Each chose its APN by its own SIM.
      apns = %{s0.modem => s0.apn, s1.modem => s1.apn}
      assert apns["1-1.2 (ttyUSB2/ttyUSB3)"] == "iot.1nce.net"
      assert apns["1-1.3 (ttyUSB6/ttyUSB7)"] == "internet"

      # Two pppds, each on its own modem's PPP pty.
      ttys = for {:start, _, args, _} <- VintageNet.Double.calls(:muontrap), do: Enum.at(args, 2)

      assert Enum.sort(ttys) ==
               Enum.sort([Simulator.ports(World.sim(world, :a)).ppp, Simulator.ports(World.sim(world, :b)).ppp])

      assert {:set_route, "ppp0", [{@local, 32}], @remote} in VintageNet.Double.calls(:route_manager)
      assert {:set_route, "ppp1", [{@local, 32}], @remote} in VintageNet.Double.calls(:route_manager)
    end

    test "imei pins an interface to a modem", %{world: world} do
      _world =
        world
        |> World.add_modem(:a, usb_path: "1-1.2", tty_base: 0, args: ["--imei", "866922040000011"])
        |> World.add_modem(:b, usb_path: "1-1.3", tty_base: 4, args: ["--imei", "866922040000029"])

      assert :ok = VintageNet.configure("ppp0", config([%{apn: "internet"}], %{imei: "866922040000029"}))
      await_state("ppp0", :connected, 20_000)
      assert {:ok, %{modem: "1-1.3 (ttyUSB6/ttyUSB7)"}} = VintageNet.ioctl("ppp0", :status)
    end

    test "usb_path pins an interface to a modem", %{world: world} do
      _world =
        world
        |> World.add_modem(:a, usb_path: "1-1.2", tty_base: 0)
        |> World.add_modem(:b, usb_path: "1-1.3", tty_base: 4)

      assert :ok = VintageNet.configure("ppp1", config([%{apn: "internet"}], %{usb_path: "1-1.3"}))
      await_state("ppp1", :connected, 20_000)
      assert {:ok, %{modem: "1-1.3 (ttyUSB6/ttyUSB7)"}} = VintageNet.ioctl("ppp1", :status)
    end
  end
end
