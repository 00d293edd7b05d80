defmodule VintageNetCellular.FaultMatrixTest do
  @moduledoc """
  The fault matrix: crash-only recovery, end to end.

  Each test brings "ppp0" up on a simulated modem (the harness of
  `connection_e2e_test.exs`: the real AT port program, connection manager,
  the dialer and the notifier (both `cellular_port`), and `test/support/fake_pppd` as pppd),
  injects one fault, and asserts that

  * the interface is back at `:connected` by itself within the budget
    (`@budget`), with a working AT port (`VintageNetCellular.at/3` answers)
    and a pppd that runs (a new one when the fault ended the old one);
  * the library logged no crash report and no error;
  * no OS program the library started before the fault survives it when the
    fault ended it (checked in /proc), and once the interface is deconfigured
    none is left at all, and neither is any BEAM process of the library.
  """
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog

  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Interface
  alias VintageNetCellular.Test.Simulator
  alias VintageNetCellular.Test.World

  @moduletag :faults
  @moduletag :e2e
  @moduletag timeout: 120_000

  # How long the interface may take to be :connected again after a fault.
  @budget 20_000
  @ifname "ppp0"

  setup do
    World.setup_e2e()
  end

  # ---------------------------------------------------------------------------
  # The harness

  # Connects, runs `fault` (given %{world:, os:, pids:}), then checks
  # recovery, logs and leftovers. `fault` returns a keyword list:
  # `gone: [os_pid]` (must not run once recovered), `world:` (a replugged
  # world), `new_pppd?: true` (the pppd must be a new one).
  defp survive(world, fault) do
    baseline = MapSet.new(Process.list())

    log =
      capture_log(fn ->
        world = World.add_modem(world, :m1, args: ["--provisioned", "internet"])
        assert :ok = VintageNet.configure(@ifname, config())
        await_connected(@budget)

        before = os_processes(world)
        pppd = pppd_os_pid()
        assert pppd in before

        result = fault.(%{world: world, os: before, pppd: pppd})
        world = Keyword.get(result, :world, world)
        gone = Keyword.get(result, :gone, [])
        started = System.monotonic_time(:millisecond)

        eventually(
          fn ->
            current = pppd_os_pid()

            state() == :connected and at_answers?() and current != nil and running?(current) and
              workers_running?() and
              (not Keyword.get(result, :new_pppd?, false) or current != pppd) and
              Enum.all?(gone, &(not running?(&1)))
          end,
          @budget,
          fn ->
            "not recovered within #{@budget} ms: state #{inspect(state())}, " <>
              "reason #{inspect(VintageNet.get(mobile("reason")))}, pppd #{inspect(pppd_os_pid())}, " <>
              "still running: #{inspect(Enum.filter(gone, &running?/1))}"
          end
        )

        elapsed = System.monotonic_time(:millisecond) - started
        assert elapsed <= @budget

        # And it stays up: the same pppd a second later.
        recovered = pppd_os_pid()
        Process.sleep(1_000)

        assert state() == :connected and pppd_os_pid() == recovered,
               "did not stay up: #{inspect(state())}, #{inspect(VintageNet.get(mobile("reason")))}"

        # One pppd and one port program, no orphans of the old ones.
        after_recovery = os_processes(world)
        assert length(pppds(after_recovery)) == 1, "pppds: #{inspect(describe(after_recovery))}"

        assert :ok = VintageNet.deconfigure(@ifname)

        eventually(
          fn -> Interface.whereis(@ifname, :supervisor) == nil end,
          5_000,
          fn -> "the interface did not stop" end
        )

        all = Enum.uniq(before ++ after_recovery)

        eventually(fn -> Enum.all?(all, &(not running?(&1))) and os_processes(world) == [] end, 5_000, fn ->
          "left running after deconfigure: #{inspect(describe(Enum.filter(all, &running?/1) ++ os_processes(world)))}"
        end)

        eventually(fn -> library_processes(baseline) == [] end, 5_000, fn ->
          "BEAM processes left: #{inspect(library_processes(baseline))}"
        end)
      end)

    refute_crash_reports(log)
    log
  end

  defp config do
    %{type: VintageNetCellular, vintage_net_cellular: %{service_providers: [%{apn: "internet"}]}}
  end

  defp mobile(key), do: ["interface", @ifname, "mobile", key]

  defp state, do: VintageNet.get(mobile("state"))

  defp await_connected(timeout) do
    eventually(fn -> state() == :connected end, timeout, fn ->
      "not :connected: #{inspect(state())}, #{inspect(VintageNet.get(mobile("reason")))}"
    end)
  end

  defp at_answers? do
    match?({:ok, _}, VintageNetCellular.at(@ifname, "AT", 1_000))
  catch
    :exit, _ -> false
  end

  defp eventually(fun, timeout, message) do
    deadline = System.monotonic_time(:millisecond) + timeout
    poll(fun, deadline, message)
  end

  defp poll(fun, deadline, message) do
    if fun.() do
      :ok
    else
      if System.monotonic_time(:millisecond) > deadline do
        flunk(message.())
      else
        Process.sleep(50)
        poll(fun, deadline, message)
      end
    end
  end

  # Error-level lines from the library, and crash reports of any process.
  # (MuonTrap's double logs an error when pppd exits with a failure status,
  # as the real MuonTrap does: that line is MuonTrap's, not the library's.)
  defp refute_crash_reports(log) do
    offending =
      log
      |> String.split(~r/\n(?=\d\d:\d\d:\d\d\.\d+ \[)/)
      |> Enum.filter(fn entry ->
        not (entry =~ "simulator_exited") and
          ((entry =~ "[error]" and not (entry =~ ~r/\[error\] [^\n]*: Process exited with status/)) or
             entry =~ "terminating" or entry =~ "** (" or entry =~ "crash")
      end)

    assert offending == [], "error or crash reports:\n#{Enum.join(offending, "\n")}"
  end

  # -- BEAM processes

  defp library_processes(baseline) do
    for pid <- Process.list(),
        not MapSet.member?(baseline, pid),
        library_process?(pid),
        do: {pid, Process.info(pid, [:registered_name, :initial_call, :dictionary])}
  end

  defp library_process?(pid) do
    case Process.info(pid, [:initial_call, :dictionary]) do
      [initial_call: initial, dictionary: dict] ->
        modules = [initial, Keyword.get(dict, :"$initial_call")]

        Enum.any?(modules, fn
          {mod, _, _} -> library_module?(mod)
          _ -> false
        end)

      nil ->
        false
    end
  end

  defp library_module?(mod) do
    name = Atom.to_string(mod)

    (String.starts_with?(name, "Elixir.VintageNetCellular.") and
       not String.starts_with?(name, "Elixir.VintageNetCellular.Test.")) or
      String.starts_with?(name, "Elixir.MuonTrap") or String.starts_with?(name, "Elixir.VintageNet.Double.Daemon")
  end

  # -- OS processes

  # The programs the library started for this world: pppd (fake_pppd) and
  # the notifier (their command lines name the world's directory), the port
  # programs (cellular_port, children of this VM), and the dialers
  # (`cellular_port dial`, started by a pppd of this world, perhaps through
  # `sh -c`).
  defp os_processes(world) do
    beam = System.pid()

    running =
      for entry <- File.ls!("/proc"),
          Regex.match?(~r/^\d+$/, entry),
          pid = String.to_integer(entry),
          cmdline = cmdline(pid),
          cmdline != nil,
          running?(pid),
          do: {pid, cmdline}

    own =
      for {pid, cmdline} <- running,
          String.contains?(cmdline, world.dir) or
            (String.contains?(cmdline, "cellular_port") and ppid(pid) == beam),
          do: pid

    parents = MapSet.new(own, &Integer.to_string/1)

    dialers =
      for {pid, cmdline} <- running,
          pid not in own,
          String.contains?(cmdline, "cellular_port dial"),
          ppid(pid) in parents or ppid(ppid(pid)) in parents,
          do: pid

    own ++ dialers
  end

  defp pppds(pids) do
    # fake_pppd forks subshells (same command line): count the process that
    # is not its own child.
    fake = for pid <- pids, String.contains?(cmdline(pid) || "", "fake_pppd"), do: pid
    Enum.reject(fake, &(ppid(&1) in Enum.map(fake, fn p -> "#{p}" end)))
  end

  defp describe(pids), do: for(pid <- pids, do: {pid, cmdline(pid)})

  defp cmdline(pid) do
    case File.read("/proc/#{pid}/cmdline") do
      {:ok, ""} -> nil
      {:ok, text} -> String.replace(text, <<0>>, " ")
      _ -> nil
    end
  end

  defp ppid(nil), do: nil

  defp ppid(pid) do
    case File.read("/proc/#{pid}/stat") do
      {:ok, stat} -> stat |> String.split(")") |> List.last() |> String.split() |> Enum.at(1)
      _ -> nil
    end
  end

  # Zombies don't count: PID 1 in this container doesn't reap orphans.
  defp running?(pid) do
    case File.read("/proc/#{pid}/stat") do
      {:ok, stat} ->
        (stat |> String.split(")") |> List.last() |> String.trim_leading() |> String.first()) not in ["Z", "X"]

      _ ->
        false
    end
  end

  defp pppd_os_pid do
    case Interface.whereis(@ifname, :workers) do
      nil ->
        nil

      workers ->
        Enum.find_value(DynamicSupervisor.which_children(workers), fn
          {_, pid, _, [MuonTrap.Daemon]} when is_pid(pid) ->
            case MuonTrap.Daemon.os_pid(pid) do
              os_pid when is_integer(os_pid) -> os_pid
              _ -> nil
            end

          _ ->
            nil
        end)
    end
  catch
    :exit, _ -> nil
  end

  defp port_os_pid do
    ATPort.os_pid(Interface.at_port(@ifname))
  catch
    :exit, _ -> nil
  end

  # The property monitor and, while connected, the statistics poller.
  defp workers_running? do
    worker(VintageNetCellular.Monitor) != nil and worker(VintageNetCellular.Statistics) != nil
  catch
    :exit, _ -> false
  end

  defp worker(module) do
    Enum.find_value(DynamicSupervisor.which_children(Interface.workers(@ifname)), fn
      {_, pid, _, [^module]} when is_pid(pid) -> pid
      _ -> nil
    end)
  end

  defp supervisor_child(module) do
    sup = Interface.whereis(@ifname, :supervisor)
    Enum.find_value(Supervisor.which_children(sup), fn {_, pid, _, modules} -> module in modules and pid end)
  end

  defp kill_process(pid) when is_pid(pid) do
    Process.exit(pid, :kill)
  end

  defp signal(os_pid, sig), do: System.cmd("kill", ["-#{sig}", "#{os_pid}"], stderr_to_stdout: true)

  defp stop_and_continue(os_pid, ms) do
    signal(os_pid, "STOP")
    Process.sleep(ms)
    signal(os_pid, "CONT")
  end

  defp count_sent(world, prefix) do
    world |> World.received(:m1, "at") |> Enum.count(&String.starts_with?(&1, prefix))
  end

  defp dialer_os_pid(world) do
    Enum.find(os_processes(world), fn pid ->
      cmd = cmdline(pid) || ""
      String.contains?(cmd, "cellular_port dial") and not String.starts_with?(cmd, "/bin/sh")
    end)
  end

  # Ends the call (NO CARRIER on the PPP port) with the modem's answers slowed
  # down, so that the redial's dialer runs long enough to be caught.
  defp catch_dialer(world) do
    sim = World.sim(world, :m1)
    :ok = Simulator.control(sim, "delay 2500")
    :ok = Simulator.control(sim, "hangup")

    eventually(fn -> dialer_os_pid(world) end, 10_000, fn -> "the dialer never ran" end)
    dialer_os_pid(world)
  end

  # ---------------------------------------------------------------------------
  # Library processes killed

  describe "a library process killed" do
    test "the connection manager", %{world: world} do
      survive(world, fn ctx ->
        kill_process(Interface.whereis(@ifname, :connection))
        # one_for_all: everything of the interface starts over.
        [gone: ctx.os, new_pppd?: true]
      end)
    end

    test "the AT port", %{world: world} do
      survive(world, fn _ctx ->
        port = port_os_pid()
        kill_process(Interface.whereis(@ifname, :at_port))
        [gone: [port]]
      end)
    end

    test "the property monitor", %{world: world} do
      survive(world, fn _ctx ->
        kill_process(worker(VintageNetCellular.Monitor))
        []
      end)
    end

    test "the PPP notifier", %{world: world} do
      survive(world, fn ctx ->
        kill_process(supervisor_child(VintageNetCellular.PPP.Notifier))
        [gone: ctx.os, new_pppd?: true]
      end)
    end

    test "the worker supervisor", %{world: world} do
      survive(world, fn ctx ->
        kill_process(supervisor_child(DynamicSupervisor))
        [gone: ctx.os, new_pppd?: true]
      end)
    end

    test "the interface supervisor's children all at once", %{world: world} do
      survive(world, fn ctx ->
        sup = Interface.whereis(@ifname, :supervisor)
        for {_, pid, _, _} <- Supervisor.which_children(sup), is_pid(pid), do: kill_process(pid)
        [gone: ctx.os, new_pppd?: true]
      end)
    end

    test "the statistics poller", %{world: world} do
      survive(world, fn _ctx ->
        kill_process(worker(VintageNetCellular.Statistics))
        []
      end)
    end

    # Documented end state: :sim_locked, the refused PIN never sent again.
    test "the connection manager, after the SIM refused the PIN", %{world: world} do
      baseline = MapSet.new(Process.list())

      # The refusal itself is logged as an error: only what follows the kill
      # is checked.
      _before =
        capture_log(fn ->
          world = World.add_modem(world, :m1, args: ["--sim", "locked", "--pin", "2468"])
          config = put_in(config(), [:vintage_net_cellular, :sim_pin], "1111")
          assert :ok = VintageNet.configure(@ifname, config)
          eventually(fn -> state() == :sim_locked end, @budget, fn -> "not :sim_locked: #{inspect(state())}" end)
          assert count_sent(world, "AT+CPIN=") == 1
          send(self(), {:world, world})
        end)

      world = receive(do: ({:world, world} -> world))

      log =
        capture_log(fn ->
          old = Interface.whereis(@ifname, :connection)
          checks = count_sent(world, "AT+CPIN?")
          kill_process(old)

          # The new manager checks the SIM again, and stays locked.
          eventually(
            fn ->
              new = Interface.whereis(@ifname, :connection)
              new not in [nil, old] and count_sent(world, "AT+CPIN?") >= checks + 2 and state() == :sim_locked
            end,
            @budget,
            fn -> "state #{inspect(state())}" end
          )

          assert count_sent(world, "AT+CPIN=") == 1
          assert :ok = VintageNet.deconfigure(@ifname)
          eventually(fn -> library_processes(baseline) == [] end, 5_000, fn -> "BEAM processes left" end)
        end)

      refute_crash_reports(log)
    end

    test "pppd's MuonTrap.Daemon", %{world: world} do
      survive(world, fn ctx ->
        kill_process(worker(MuonTrap.Daemon))
        [gone: [ctx.pppd], new_pppd?: true]
      end)
    end
  end

  # ---------------------------------------------------------------------------
  # OS programs killed or stopped

  describe "an OS program killed or stopped" do
    test "pppd SIGKILL", %{world: world} do
      survive(world, fn ctx ->
        signal(ctx.pppd, "KILL")
        [gone: [ctx.pppd], new_pppd?: true]
      end)
    end

    test "pppd SIGSTOP then SIGCONT", %{world: world} do
      survive(world, fn _ctx ->
        stop_and_continue(pppd_os_pid(), 2_000)
        []
      end)
    end

    test "the dialer SIGKILL while it dials", %{world: world} do
      survive(world, fn ctx ->
        dialer = catch_dialer(ctx.world)
        signal(dialer, "KILL")
        :ok = Simulator.control(World.sim(ctx.world, :m1), "delay 0")
        [gone: [dialer]]
      end)
    end

    test "the dialer SIGSTOP then SIGCONT while it dials", %{world: world} do
      survive(world, fn ctx ->
        dialer = catch_dialer(ctx.world)
        stop_and_continue(dialer, 2_000)
        :ok = Simulator.control(World.sim(ctx.world, :m1), "delay 0")
        []
      end)
    end

    test "the port program SIGKILL", %{world: world} do
      survive(world, fn _ctx ->
        port = port_os_pid()
        signal(port, "KILL")
        [gone: [port]]
      end)
    end

    # Stopped for longer than a command's timeout, drain and margin: the
    # AT port's backstop kills it and starts a new one.
    test "the port program SIGSTOP with a command in flight, never continued", %{world: world} do
      survive(world, fn _ctx ->
        port = port_os_pid()
        signal(port, "STOP")
        assert {:error, :closed} = VintageNetCellular.at(@ifname, "AT+CSQ", 1_000)
        [gone: [port]]
      end)
    end

    test "the port program SIGSTOP then SIGCONT", %{world: world} do
      survive(world, fn _ctx ->
        stop_and_continue(port_os_pid(), 2_000)
        []
      end)
    end
  end

  # ---------------------------------------------------------------------------
  # The modem

  describe "the modem" do
    test "unplugged (both ttys close) and replugged under new tty numbers", %{world: world} do
      survive(world, fn ctx ->
        world = World.unplug(ctx.world, :m1)
        Process.sleep(500)
        world = World.replug(world, :m1, 10)
        [world: world, gone: [ctx.pppd], new_pppd?: true]
      end)
    end

    # One port's tty closes under its client and comes back under the same
    # name (its driver rebound), the other port untouched, the modem not
    # reset.
    test "the AT port's tty closes under it", %{world: world} do
      survive(world, fn ctx ->
        world = World.reopen(ctx.world, :m1, :at)
        [world: world]
      end)
    end

    test "the PPP port's tty closes under pppd", %{world: world} do
      survive(world, fn ctx ->
        world = World.reopen(ctx.world, :m1, :ppp)
        [world: world]
      end)
    end

    # A fast re-enumeration (a modem reset, a USB hiccup): the ttys come back
    # under the same names before any sysfs check can see them gone, while
    # pppd still holds the old PPP tty.
    test "unplugged and replugged at once under the same tty names", %{world: world} do
      survive(world, fn ctx ->
        same = ctx.world.modems[:m1].tty_base
        world = World.unplug(ctx.world, :m1)
        world = World.replug(world, :m1, same)
        [world: world, gone: [ctx.pppd], new_pppd?: true]
      end)
    end

    test "powered down (AT+QPOWD), then replugged", %{world: world} do
      survive(world, fn ctx ->
        sim = World.sim(ctx.world, :m1)
        assert {:ok, _} = VintageNetCellular.at(@ifname, "AT+QPOWD=1", 3_000)
        {:ok, _} = Simulator.await(sim, "unplugged", 5_000)
        Process.sleep(500)
        world = World.replug(ctx.world, :m1, 20)
        [world: world, gone: [ctx.pppd], new_pppd?: true]
      end)
    end

    test "the simulator killed and a new modem plugged in", %{world: world} do
      survive(world, fn ctx ->
        old = World.sim(ctx.world, :m1)
        Process.unlink(old)
        signal(Simulator.os_pid(old), "KILL")
        Process.sleep(300)
        world = World.add_modem(ctx.world, :m1, args: ["--provisioned", "internet"], tty_base: 30)
        [world: world, gone: [ctx.pppd], new_pppd?: true]
      end)
    end

    test "reboots: RDY and +CPIN: NOT READY while connected", %{world: world} do
      survive(world, fn ctx ->
        sim = World.sim(ctx.world, :m1)
        :ok = Simulator.control(sim, "urc RDY")
        :ok = Simulator.control(sim, "urc +CPIN: NOT READY")
        # The SIM "went away": the manager hangs up and starts over.
        [gone: [ctx.pppd], new_pppd?: true]
      end)
    end

    test "bogus URCs while connected: +CEREG: 0, +CPIN: NOT READY, RDY, NO CARRIER", %{world: world} do
      survive(world, fn ctx ->
        sim = World.sim(ctx.world, :m1)
        Enum.each(["+CEREG: 0", "+CPIN: NOT READY", "RDY", "NO CARRIER"], &(:ok = Simulator.control(sim, "urc " <> &1)))
        [gone: [ctx.pppd], new_pppd?: true]
      end)
    end

    test "out-of-order URCs: registered before searching, READY before NOT READY", %{world: world} do
      survive(world, fn ctx ->
        sim = World.sim(ctx.world, :m1)

        Enum.each(
          ["+CEREG: 1", "+CPIN: READY", "+CEREG: 2", "+CPIN: NOT READY", "+CREG: 5", "+CEREG: 0", "+CGREG: 3"],
          &(:ok = Simulator.control(sim, "urc " <> &1))
        )

        [gone: [ctx.pppd], new_pppd?: true]
      end)
    end

    test "stops answering mid-command, then answers again", %{world: world} do
      survive(world, fn ctx ->
        sim = World.sim(ctx.world, :m1)
        :ok = Simulator.control(sim, "mute on")
        # A command in flight when the modem goes quiet.
        assert {:error, :timeout} = VintageNetCellular.at(@ifname, "AT+CSQ", 1_000)
        Process.sleep(3_000)
        :ok = Simulator.control(sim, "mute off")
        []
      end)
    end

    test "replies stall, then arrive all at once", %{world: world} do
      survive(world, fn ctx ->
        sim = World.sim(ctx.world, :m1)
        :ok = Simulator.control(sim, "stall on")
        caller = self()

        tasks =
          for cmd <- ["AT+CSQ", "AT+COPS?", "AT+CREG?"] do
            Task.async(fn -> VintageNetCellular.at(@ifname, cmd, 2_000) end)
          end

        Process.sleep(4_000)
        :ok = Simulator.control(sim, "stall off")
        Enum.each(tasks, &Task.await(&1, 20_000))
        send(caller, :stalled)
        []
      end)
    end
  end
end
