defmodule VintageNetCellular.ATPortTest do
  # Logger's level is changed in some tests, and every test runs a simulator
  # and a port program: keep them in sequence.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog

  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Test.Simulator

  doctest VintageNetCellular.ATPort
  doctest VintageNetCellular.ATPort.Subscriptions
  doctest VintageNetCellular.ATPort.Atoms
  doctest VintageNetCellular.Test.Simulator
  doctest VintageNetCellular.Test.SimulatedModels

  @moduletag timeout: 60_000

  defp start_sim(args \\ []) do
    {:ok, sim} = Simulator.start_link(["--seed", "7" | args])
    :ok = Simulator.control(sim, "signal auto off")
    :ok = Simulator.control(sim, "signal 20 99")
    on_exit(fn -> stop_quietly(sim) end)
    sim
  end

  # The simulator is an EC25: its port is opened as the connection manager
  # opens it, with the profile's own URC prefixes (+QIND:, +QUSIM: ...).
  defp start_at(opts) do
    opts = Keyword.put_new(opts, :urc_prefixes, VintageNetCellular.Modem.QuectelEC25.urc_prefixes())
    {:ok, at} = ATPort.start_link(opts)
    on_exit(fn -> stop_quietly(at) end)
    at
  end

  # The process may be going down already (it is linked to the test process).
  defp stop_quietly(pid) do
    GenServer.stop(pid)
  catch
    :exit, _ -> :ok
  end

  defp await_status(at, status, timeout \\ 5_000) do
    receive do
      {ATPort, ^at, ^status} -> :ok
    after
      timeout -> flunk("no #{status} message from ATPort in #{timeout} ms (status #{ATPort.status(at)})")
    end
  end

  defp wait_until_open(at) do
    :ok = ATPort.subscribe(at, "\u0000never")

    if ATPort.status(at) == :opened do
      # The port may have opened between the subscription and the status
      # call: its :opened is then already here. Taken now, so that a later
      # await_status(at, :opened) waits for the next one, not this one.
      receive do
        {ATPort, ^at, :opened} -> :ok
      after
        0 -> :ok
      end
    else
      await_status(at, :opened)
    end
  end

  # A temp dev_root with a symlink, to model a stable /dev name (ttyUSB2)
  # whose target changes across unplug/replug.
  defp temp_dev_root do
    dir = Path.join(System.tmp_dir!(), "atport_dev_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf(dir) end)
    dir
  end

  defp point(dev_root, name, target) do
    link = Path.join(dev_root, name)
    tmp = link <> ".new"
    File.rm(tmp)
    :ok = File.ln_s(target, tmp)
    :ok = File.rename(tmp, link)
  end

  @transcript [
    "ATI",
    "AT+CGMI",
    "AT+CGMM",
    "AT+CGSN",
    "AT+CPIN?",
    "AT+QCCID",
    "AT+CIMI",
    "AT+CSQ",
    "AT+CMEE=2",
    "AT+CGDCONT?",
    "AT+NOSUCH",
    "AT+QCFG=\"nosuchkey\"",
    "ATE0",
    "AT+CGMR",
    "ATE1",
    "AT+CSQ"
  ]

  defp run_transcript(fragment) do
    sim = start_sim(["--fragment", fragment])
    at = start_at(tty: Simulator.ports(sim).at)
    wait_until_open(at)
    results = for command <- @transcript, do: {command, ATPort.command(at, command, 10_000)}
    GenServer.stop(at)
    Simulator.stop(sim)
    results
  end

  describe "commands against the simulator" do
    test "a transcript gives the same results with every-byte fragmentation as without" do
      whole = run_transcript("none")
      split = run_transcript("every-byte")
      assert split == whole

      results = Map.new(whole)
      assert {:ok, ["Quectel" | _]} = results["ATI"]
      assert {:ok, ["Quectel"]} = results["AT+CGMI"]
      assert {:ok, ["EC25"]} = results["AT+CGMM"]
      assert {:ok, [imei]} = results["AT+CGSN"]
      assert imei =~ ~r/^\d{15}$/
      assert {:ok, ["+CPIN: READY"]} = results["AT+CPIN?"]
      assert {:ok, ["+QCCID: " <> _]} = results["AT+QCCID"]
      assert {:ok, ["+CSQ: 20,99"]} = results["AT+CSQ"]
      assert {:ok, ["+CGDCONT: " <> _ | _]} = results["AT+CGDCONT?"]
      assert {:error, :error} = results["AT+NOSUCH"]
      assert {:error, {:cme_error, _}} = results["AT+QCFG=\"nosuchkey\""]
      assert {:ok, [_revision]} = results["AT+CGMR"]
    end

    test "CME errors come back numeric or as text" do
      sim = start_sim(["--sim", "absent"])
      at = start_at(tty: Simulator.ports(sim).at)
      wait_until_open(at)
      assert ATPort.command(at, "AT+CMEE=1") == {:ok, []}
      assert ATPort.command(at, "AT+CPIN?") == {:error, {:cme_error, 10}}
      assert ATPort.command(at, "AT+CMEE=2") == {:ok, []}
      assert ATPort.command(at, "AT+CPIN?") == {:error, {:cme_error, "SIM not inserted"}}
    end

    test "numeric result codes after ATV0" do
      sim = start_sim()
      at = start_at(tty: Simulator.ports(sim).at)
      wait_until_open(at)
      assert ATPort.command(at, "ATV0") == {:ok, []}
      assert ATPort.command(at, "AT+CSQ") == {:ok, ["+CSQ: 20,99"]}
      assert ATPort.command(at, "AT+NOSUCH") == {:error, :error}
      assert ATPort.command(at, "ATV1") == {:ok, []}
      assert ATPort.command(at, "AT+CGMM") == {:ok, ["EC25"]}
    end

    test "dialing on the ppp port gives CONNECT with the rate, hang-up a NO CARRIER URC" do
      sim = start_sim(["--register-after-ms", "0", "--provisioned", "internet"])
      at = start_at(tty: Simulator.ports(sim).ppp)
      wait_until_open(at)
      :ok = ATPort.subscribe(at, "NO CARRIER")
      assert {:ok, {:connect, "150000000"}} = dial(at, 20)
      :ok = Simulator.control(sim, "hangup")
      assert_receive {ATPort, ^at, {:urc, "NO CARRIER", _}}, 5_000
      assert ATPort.command(at, "AT") == {:ok, []}
    end

    test "RTS/CTS flow control and another speed are accepted" do
      sim = start_sim()
      at = start_at(tty: Simulator.ports(sim).at, flow_control: :hardware, speed: 9600)
      wait_until_open(at)
      assert ATPort.command(at, "AT+CGMM") == {:ok, ["EC25"]}
    end

    test "commands are answered in order when many callers queue at once" do
      sim = start_sim(["--fragment", "random"])
      at = start_at(tty: Simulator.ports(sim).at)
      wait_until_open(at)

      tasks =
        for i <- 1..30 do
          command = Enum.at(["AT+CGMI", "AT+CGMM", "AT+CSQ"], rem(i, 3))
          {command, Task.async(fn -> ATPort.command(at, command) end)}
        end

      for {command, task} <- tasks do
        expected =
          case command do
            "AT+CGMI" -> {:ok, ["Quectel"]}
            "AT+CGMM" -> {:ok, ["EC25"]}
            "AT+CSQ" -> {:ok, ["+CSQ: 20,99"]}
          end

        assert Task.await(task, 20_000) == expected
      end
    end
  end

  defp dial(at, tries) do
    case ATPort.command(at, "ATD*99#", 10_000) do
      {:error, :no_carrier} when tries > 0 ->
        Process.sleep(200)
        dial(at, tries - 1)

      other ->
        other
    end
  end

  describe "parsed lines" do
    test "command_parsed/3 gives each line with its parse; command/3 the raw lines" do
      sim = start_sim()
      at = start_at(tty: Simulator.ports(sim).at)
      wait_until_open(at)
      assert {:ok, [line]} = ATPort.command(at, "AT+CSQ")
      assert {:ok, [{^line, {:ok, {:csq, %{rssi: 20, ber: 99}}} = parsed}]} = ATPort.command_parsed(at, "AT+CSQ")
      assert parsed == VintageNetCellular.AT.parse(line)
      assert {:ok, [{"EC25", {:error, {:no_prefix, _}}}]} = ATPort.command_parsed(at, "AT+CGMM")
      assert ATPort.command_parsed(at, "AT+NOSUCH") == ATPort.command(at, "AT+NOSUCH")
    end

    test "every atom the port program may send is one ATPort.Atoms holds" do
      program = Path.join(:code.priv_dir(:vintage_net_cellular), "native/cellular_port")
      {out, 0} = System.cmd(program, ["--atoms"])
      from_rust = String.split(out, "\n", trim: true)
      assert length(from_rust) > 100
      assert from_rust == Enum.map(VintageNetCellular.ATPort.Atoms.all(), &Atom.to_string/1)
    end

    test "mux_stop/1 with no multiplexer running writes a close-down blind; AT still works" do
      sim = start_sim()
      at = start_at(tty: Simulator.ports(sim).at)
      wait_until_open(at)
      :ok = ATPort.subscribe(at, "")
      assert ATPort.mux_stop(at) == :ok
      assert_receive {ATPort, ^at, {:mux_down, reason}}, 5_000
      assert reason =~ "blind"
      assert ATPort.command(at, "AT") == {:ok, []}
    end

    test "over one UART: AT+CMUX=0, mux_start/2, AT on DLCI 1 and a dial on the data pty, mux_stop/1" do
      sim = start_sim(["--uart", "--register-after-ms", "0", "--provisioned", "internet"])
      at = start_at(tty: Simulator.ports(sim).at)
      data_tty = enter_mux(at)
      assert {:ok, [csq]} = ATPort.command(at, "AT+CSQ")
      assert csq =~ "+CSQ:"

      # The data channel is the modem's second interpreter: it dials.
      {:ok, data} = ATPort.start_link(tty: data_tty)
      wait_until_open(data)
      assert {:ok, {:connect, _}} = dial(data, 20)
      # AT still answers while the data channel is connected.
      assert {:ok, [_]} = ATPort.command(at, "AT+CSQ")
      stop_quietly(data)

      assert ATPort.mux_stop(at) == :ok
      assert_receive {ATPort, ^at, {:mux_down, "stopped"}}, 5_000
      assert {:ok, [_]} = ATPort.command(at, "AT+CSQ")
    end

    test "a modem reset while multiplexing ends the multiplexer" do
      sim = start_sim(["--uart", "--reset-ms", "100"])
      at = start_at(tty: Simulator.ports(sim).at)
      _data_tty = enter_mux(at)
      _ = ATPort.command(at, "AT+CFUN=1,1", 2_000)
      # The simulator's reset re-enumerates the device: the tty vanishes.
      assert_receive {ATPort, ^at, {:mux_down, reason}}, 15_000
      assert reason =~ "the tty closed"
    end

    test "a port program killed while multiplexing: the next one takes the modem out of CMUX first" do
      sim = start_sim(["--uart"])

      capture_log(fn ->
        at = start_at(tty: Simulator.ports(sim).at)
        _data_tty = enter_mux(at)
        {_, 0} = System.cmd("kill", ["-KILL", Integer.to_string(ATPort.os_pid(at))])
        assert_receive {ATPort, ^at, {:mux_down, "the port program died"}}, 5_000
        assert_receive {ATPort, ^at, :opened}, 5_000
        # Plain AT again: the new program wrote CLD and DISC 0 first.
        assert {:ok, [_]} = ATPort.command(at, "AT+CSQ")
        refute_received {ATPort, ^at, {:mux_down, _}}
      end)
    end

    test "a frame holding an atom the VM does not know is logged, not crashed on" do
      sim = start_sim()
      at = start_at(tty: Simulator.ports(sim).at)
      wait_until_open(at)
      port = :sys.get_state(at).port
      # SMALL_ATOM_UTF8_EXT of a name no module has.
      name = "vnc_never_an_atom_#{System.unique_integer([:positive])}"
      frame = <<131, 104, 2, 119, byte_size(name), name::binary, 97, 1>>

      log = capture_log(fn -> send(at, {port, {:data, frame}}) && ATPort.status(at) end)
      assert log =~ "bad event frame"
      assert ATPort.command(at, "AT") == {:ok, []}
    end
  end

  describe "URCs" do
    test "reach subscribers by prefix, also while a command is pending" do
      sim = start_sim()
      at = start_at(tty: Simulator.ports(sim).at)
      wait_until_open(at)
      :ok = ATPort.subscribe(at, "+CREG:")
      :ok = ATPort.subscribe(at, "+QIND:")

      :ok = Simulator.control(sim, "delay 400")
      task = Task.async(fn -> ATPort.command(at, "AT+CGMM") end)
      Process.sleep(100)
      :ok = Simulator.control(sim, "urc +CREG: 5,\"1A2B\",\"01C3D04\",7")
      :ok = Simulator.control(sim, "urc +QIND: \"csq\",20,99")
      :ok = Simulator.control(sim, "urc +CGEV: ME PDN ACT 1")

      creg = "+CREG: 5,\"1A2B\",\"01C3D04\",7"
      # Parsed once, in the port program, exactly as AT.parse/1 parses it.
      assert_receive {ATPort, ^at, {:urc, ^creg, {:ok, {:creg, %{stat: :registered_roaming, act: :eutran}}} = parsed}},
                     2_000

      assert parsed == VintageNetCellular.AT.parse(creg)
      assert_receive {ATPort, ^at, {:urc, "+QIND: \"csq\",20,99", {:ok, {:unknown, %{prefix: "+QIND"}}}}}, 2_000
      assert Task.await(task) == {:ok, ["EC25"]}
      refute_received {ATPort, ^at, {:urc, "+CGEV:" <> _, _}}

      :ok = Simulator.control(sim, "delay 0")
      :ok = ATPort.unsubscribe(at, "+CREG:")
      :ok = Simulator.control(sim, "urc +CREG: 1")
      :ok = Simulator.control(sim, "urc +QIND: SMS DONE")
      assert_receive {ATPort, ^at, {:urc, "+QIND: SMS DONE", _}}, 2_000
      refute_received {ATPort, ^at, {:urc, "+CREG: 1", _}}
    end

    test "registration URCs enabled with AT+CREG=2 interleave with a query's own +CREG line" do
      sim = start_sim(["--registration", "searching"])
      at = start_at(tty: Simulator.ports(sim).at)
      wait_until_open(at)
      :ok = ATPort.subscribe(at, "+CREG:")
      assert ATPort.command(at, "AT+CREG=2") == {:ok, []}
      assert {:ok, ["+CREG: 2," <> _]} = ATPort.command(at, "AT+CREG?")
      :ok = Simulator.control(sim, "reg home")
      assert_receive {ATPort, ^at, {:urc, "+CREG: 1" <> _, _}}, 5_000
    end

    test "line noise and an unsolicited error storm while idle do not disturb the next command" do
      sim = start_sim()
      at = start_at(tty: Simulator.ports(sim).at)
      wait_until_open(at)
      :ok = ATPort.subscribe(at, "")
      :ok = Simulator.control(sim, "garbage 300")
      :ok = Simulator.control(sim, "cme_storm 5")
      :ok = Simulator.control(sim, "urc +CREG: 1")
      assert_receive {ATPort, ^at, {:urc, "+CREG: 1", _}}, 2_000
      assert ATPort.command(at, "AT+CGMM") == {:ok, ["EC25"]}

      lines = collect_lines(at)
      assert Enum.count(lines, &String.starts_with?(&1, "+CME ERROR:")) == 5
      refute Enum.any?(lines, &String.match?(&1, ~r/[\x00-\x08\x0b-\x1f\x7f]/))
    end

    test "a subscriber that exits is forgotten" do
      sim = start_sim()
      at = start_at(tty: Simulator.ports(sim).at)
      wait_until_open(at)
      parent = self()

      pid =
        spawn(fn ->
          :ok = ATPort.subscribe(at, "")
          send(parent, :subscribed)
          receive do: (:stop -> :ok)
        end)

      assert_receive :subscribed
      ref = Process.monitor(pid)
      send(pid, :stop)
      assert_receive {:DOWN, ^ref, :process, ^pid, _}
      # The ATPort got the same :DOWN; its subscriber table no longer has it.
      %{subs: subs} = :sys.get_state(at)
      refute pid in VintageNetCellular.ATPort.Subscriptions.pids(subs)
    end
  end

  describe "timeouts and late replies" do
    test "a late reply is never credited to the next command" do
      sim = start_sim()
      at = start_at(tty: Simulator.ports(sim).at)
      wait_until_open(at)
      :ok = Simulator.control(sim, "delay 1000")

      log =
        capture_log(fn ->
          assert ATPort.command(at, "AT+CGMI", 300) == {:error, :timeout}
        end)

      assert log =~ "AT+CGMI timed out after 300 ms"
      # Written only after AT+CGMI's late "Quectel OK" has drained.
      assert ATPort.command(at, "AT+CGMM", 5_000) == {:ok, ["EC25"]}
      :ok = Simulator.control(sim, "delay 0")
      assert ATPort.command(at, "AT+CGMI") == {:ok, ["Quectel"]}
    end

    test "a modem that stops answering times out and is used again after the drain period" do
      sim = start_sim()
      at = start_at(tty: Simulator.ports(sim).at, drain_ms: 300)
      wait_until_open(at)
      :ok = Simulator.control(sim, "mute on")

      capture_log(fn ->
        assert ATPort.command(at, "AT", 200) == {:error, :timeout}
        assert ATPort.command(at, "AT+CSQ", 200) == {:error, :timeout}
      end)

      :ok = Simulator.control(sim, "mute off")
      assert ATPort.command(at, "AT+CSQ") == {:ok, ["+CSQ: 20,99"]}
    end

    test "the caller never gets a call timeout while waiting in a long queue" do
      sim = start_sim()
      at = start_at(tty: Simulator.ports(sim).at)
      wait_until_open(at)
      :ok = Simulator.control(sim, "delay 300")
      # 20 commands of 300 ms each wait 6 s in all, more than GenServer's 5 s default.
      tasks = for _ <- 1..20, do: Task.async(fn -> ATPort.command(at, "AT", 2_000) end)
      assert Enum.map(tasks, &Task.await(&1, 30_000)) == List.duplicate({:ok, []}, 20)
    end
  end

  describe "limits" do
    test "a line flood during a pending command ends it :response_too_large; URCs and the next command still work" do
      sim = start_sim()
      at = start_at(tty: Simulator.ports(sim).at, drain_ms: 100, urc_burst: 10, urc_per_second: 10)
      wait_until_open(at)
      :ok = ATPort.subscribe(at, "+CREG:")
      :ok = ATPort.subscribe(at, "+FLOOD:")
      :ok = Simulator.control(sim, "mute on")
      task = Task.async(fn -> ATPort.command(at, "AT+CGMM", 30_000) end)
      await_pending(at, 1)
      started = System.monotonic_time(:millisecond)
      # 40 MB of ordinary information lines (800,000 lines of 48 bytes).
      :ok = Simulator.control(sim, "flood 800000")

      capture_log(fn ->
        assert Task.await(task, 30_000) == {:error, :response_too_large}
      end)

      :ok = Simulator.control(sim, "mute off")
      # URCs keep flowing: one sent after the flood arrives once the flood has.
      assert await_urc(sim, at, 1)
      elapsed_s = (System.monotonic_time(:millisecond) - started) / 1000
      assert ATPort.command(at, "AT+CGMM") == {:ok, ["EC25"]}

      # Flood lines after the drain period are URCs: only the URC rate of
      # them reached this process, the rest was shed and counted.
      flood = Enum.count(collect_lines(at), &String.starts_with?(&1, "+FLOOD:"))
      assert flood <= 10 + 10 * elapsed_s + 10
      assert eventually(fn -> ATPort.stats(at).urcs_shed_port > 0 end)
      assert %{responses_too_large: 1, queue_full: 0} = ATPort.stats(at)
    end

    test "commands over :max_queue are refused at once with :queue_full" do
      sim = start_sim()
      at = start_at(tty: Simulator.ports(sim).at, max_queue: 2, drain_ms: 100)
      wait_until_open(at)
      :ok = Simulator.control(sim, "mute on")
      tasks = for _ <- 1..2, do: Task.async(fn -> ATPort.command(at, "AT", 500) end)
      await_pending(at, 2)
      assert ATPort.command(at, "AT+CSQ") == {:error, :queue_full}
      assert ATPort.stats(at).queue_full == 1

      capture_log(fn ->
        assert Enum.map(tasks, &Task.await(&1, 10_000)) == [{:error, :timeout}, {:error, :timeout}]
      end)

      :ok = Simulator.control(sim, "mute off")
      assert ATPort.command(at, "AT+CSQ") == {:ok, ["+CSQ: 20,99"]}
    end

    test "a subscriber with a full mailbox misses URCs, counted, and gets them again once it catches up" do
      sim = start_sim()
      at = start_at(tty: Simulator.ports(sim).at, max_subscriber_queue: 5)
      wait_until_open(at)
      parent = self()

      sleeper =
        spawn_link(fn ->
          :ok = ATPort.subscribe(at, "+CREG:")
          send(parent, :subscribed)
          receive do: (:drain -> :ok)
          drain_mailbox()
          send(parent, :drained)
          receive do: (:stop -> :ok)
        end)

      assert_receive :subscribed
      :ok = ATPort.subscribe(at, "+CREG:")
      # This process keeps up; the sleeper does not.
      for i <- 1..20 do
        :ok = Simulator.control(sim, "urc +CREG: #{i}")
        line = "+CREG: #{i}"
        assert_receive {ATPort, ^at, {:urc, ^line, _}}, 5_000
      end

      assert Process.info(sleeper, :message_queue_len) == {:message_queue_len, 5}
      assert %{urcs_shed_subscriber: 15, urcs_delivered: 25} = ATPort.stats(at)

      send(sleeper, :drain)
      assert_receive :drained
      :ok = Simulator.control(sim, "urc +CREG: 21")
      assert_receive {ATPort, ^at, {:urc, "+CREG: 21", _}}, 5_000
      assert Process.info(sleeper, :message_queue_len) == {:message_queue_len, 1}
      send(sleeper, :stop)
    end

    test "bad limits are a clear start error" do
      Process.flag(:trap_exit, true)

      assert {:error, {:bad_option, message}} = ATPort.start_link(tty: "/dev/null", max_response_lines: 0)

      assert message =~ ":max_response_lines must be a positive integer"
    end
  end

  defp await_pending(at, n) do
    assert eventually(fn -> map_size(:sys.get_state(at).pending) == n end)
  end

  defp await_urc(sim, at, i) do
    cond do
      i > 100 ->
        false

      true ->
        :ok = Simulator.control(sim, "urc +CREG: #{i}")

        receive do
          {ATPort, ^at, {:urc, "+CREG: " <> _, _}} -> true
        after
          200 -> await_urc(sim, at, i + 1)
        end
    end
  end

  defp drain_mailbox do
    receive do
      _ -> drain_mailbox()
    after
      0 -> :ok
    end
  end

  describe "unplug, replug and missing ttys" do
    test "a vanished tty fails pending commands with :closed and reopens under the same name" do
      sim = start_sim()
      dev_root = temp_dev_root()
      point(dev_root, "ttyUSB2", Simulator.ports(sim).at)

      capture_log(fn ->
        at = start_at(tty: "ttyUSB2", dev_root: dev_root)
        wait_until_open(at)
        assert ATPort.command(at, "AT+CGMM") == {:ok, ["EC25"]}

        :ok = Simulator.control(sim, "delay 3000")
        pending = Task.async(fn -> ATPort.command(at, "AT+CGMI", 10_000) end)
        Process.sleep(200)
        :ok = Simulator.control(sim, "unplug")
        assert {:ok, _} = Simulator.await(sim, "unplugged")
        await_status(at, :closed)
        assert Task.await(pending) == {:error, :closed}
        assert ATPort.command(at, "AT") == {:error, :closed}
        assert ATPort.status(at) == :closed

        :ok = Simulator.control(sim, "replug")
        assert {:ok, %{ports: %{at: new_at}}} = Simulator.await(sim, "replugged")
        point(dev_root, "ttyUSB2", new_at)
        await_status(at, :opened, 8_000)
        :ok = Simulator.control(sim, "delay 0")
        assert ATPort.command(at, "AT+CGMM") == {:ok, ["EC25"]}
      end)
    end

    test "a tty missing at start is retried with a clear log line until it appears" do
      sim = start_sim()
      dev_root = temp_dev_root()

      log =
        capture_log(fn ->
          at = start_at(tty: "ttyUSB7", dev_root: dev_root)
          :ok = ATPort.subscribe(at, "")
          assert ATPort.command(at, "AT") == {:error, :closed}
          Process.sleep(300)
          point(dev_root, "ttyUSB7", Simulator.ports(sim).at)
          await_status(at, :opened, 8_000)
          assert ATPort.command(at, "AT") == {:ok, []}
        end)

      assert log =~ "cannot open #{dev_root}/ttyUSB7"
      assert log =~ "retrying in 100 ms"
    end
  end

  describe "the port program" do
    test "is restarted after it is killed; pending calls get :closed" do
      sim = start_sim()

      capture_log(fn ->
        at = start_at(tty: Simulator.ports(sim).at)
        wait_until_open(at)
        os_pid = ATPort.os_pid(at)
        assert is_integer(os_pid)

        :ok = Simulator.control(sim, "delay 1500")
        pending = Task.async(fn -> ATPort.command(at, "AT+CGMI", 10_000) end)
        Process.sleep(200)
        {_, 0} = System.cmd("kill", ["-KILL", Integer.to_string(os_pid)])
        assert Task.await(pending) == {:error, :closed}
        await_status(at, :closed)
        await_status(at, :opened)
        assert ATPort.os_pid(at) not in [nil, os_pid]
        :ok = Simulator.control(sim, "delay 0")
        assert ATPort.command(at, "AT+CGMM") == {:ok, ["EC25"]}
      end)
    end

    test "a hung port program is killed and restarted; its callers get :closed" do
      sim = start_sim()

      log =
        capture_log(fn ->
          at = start_at(tty: Simulator.ports(sim).at, drain_ms: 100, backstop_margin_ms: 300)
          wait_until_open(at)
          os_pid = ATPort.os_pid(at)
          # Never leave a stopped program behind, even if this test fails.
          on_exit(fn -> if stopped?(os_pid), do: System.cmd("kill", ["-KILL", Integer.to_string(os_pid)]) end)
          {_, 0} = System.cmd("kill", ["-STOP", Integer.to_string(os_pid)])
          assert ATPort.command(at, "AT+CPIN=4321", 200) == {:error, :closed}
          await_status(at, :closed)
          await_status(at, :opened)
          refute File.exists?("/proc/#{os_pid}/status") and not zombie?(os_pid)
          assert ATPort.command(at, "AT") == {:ok, []}
        end)

      assert log =~ "did not answer AT+CPIN=<redacted> in time"
      refute log =~ "4321"
    end

    test "exits when the ATPort stops, releasing the tty" do
      sim = start_sim()
      at = start_at(tty: Simulator.ports(sim).at)
      wait_until_open(at)
      os_pid = ATPort.os_pid(at)
      GenServer.stop(at)
      assert eventually(fn -> not File.exists?("/proc/#{os_pid}") end)
      # The tty can be opened exclusively again.
      at2 = start_at(tty: Simulator.ports(sim).at)
      wait_until_open(at2)
      assert ATPort.command(at2, "AT") == {:ok, []}
    end

    test "a missing port program is a clear start error" do
      Process.flag(:trap_exit, true)

      assert {:error, {:port_program_missing, message}} =
               ATPort.start_link(tty: "ttyUSB2", port_program: "/nonexistent/cellular_port")

      assert message =~ "mix compile"
    end
  end

  describe "secrets" do
    test "PINs and passwords are redacted in Elixir and port program logs and in errors" do
      sim = start_sim()
      level = Logger.level()
      Logger.configure(level: :debug)
      on_exit(fn -> Logger.configure(level: level) end)

      log =
        capture_log([level: :debug], fn ->
          at = start_at(tty: Simulator.ports(sim).at)
          wait_until_open(at)
          assert ATPort.command(at, "AT+CPIN=9731") == {:error, {:cme_error, 3}}
          :ok = Simulator.control(sim, "mute on")
          assert ATPort.command(at, "AT+CGAUTH=1,1,\"user\",\"s3cr3t\"", 200) == {:error, :timeout}

          error =
            assert_raise ArgumentError, fn ->
              ATPort.command(at, "AT+CPIN=9731\rAT")
            end

          assert error.message =~ "AT+CPIN=<redacted>"
          refute error.message =~ "9731"
          # Let the port program's debug lines arrive.
          Process.sleep(200)
        end)

      assert log =~ "AT+CPIN=<redacted>"
      assert log =~ "AT+CGAUTH=<redacted> timed out"
      refute log =~ "9731"
      refute log =~ "s3cr3t"
    end
  end

  test "subscribers: given at start get :opened and their URCs without a call to the port" do
    sim = start_sim()
    at = start_at(tty: Simulator.ports(sim).at, subscribers: [{self(), "+CREG"}])
    # No subscribe/2 and no status/1 here: the subscription came with the start.
    await_status(at, :opened)
    :ok = Simulator.control(sim, "urc +CREG: 5,\"1A2B\",\"01C3D04\",7")
    assert_receive {ATPort, ^at, {:urc, "+CREG: 5" <> _, {:ok, {:creg, %{stat: :registered_roaming}}}}}, 5_000
  end

  test "bad arguments raise with a clear message" do
    assert_raise ArgumentError, ~r/:tty must be a non-empty string/, fn -> ATPort.start_link(tty: :ttyUSB2) end
    assert_raise KeyError, fn -> ATPort.start_link(speed: 9600) end
    Process.flag(:trap_exit, true)

    assert {:error, {:bad_option, message}} = ATPort.start_link(tty: "ttyUSB2", flow_control: :xon)
    assert message =~ ":flow_control must be :none or :hardware"

    assert {:error, {:bad_option, message}} = ATPort.start_link(tty: "ttyUSB2", subscribers: [{:me, "+CREG"}])
    assert message =~ ":subscribers must hold {pid, prefix} pairs, got: {:me, \"+CREG\"}"

    sim = start_sim()
    at = start_at(tty: Simulator.ports(sim).at)

    assert_raise ArgumentError, ~r/not valid UTF-8 \(first bad byte at offset 3\)/, fn ->
      ATPort.command(at, "AT+\xff")
    end

    assert_raise FunctionClauseError, fn -> ATPort.command(at, "AT", 0) end
  end

  defp stopped?(os_pid) do
    case File.read("/proc/#{os_pid}/status") do
      {:ok, status} -> status =~ ~r/State:\s+T/
      {:error, _} -> false
    end
  end

  defp zombie?(os_pid) do
    case File.read("/proc/#{os_pid}/status") do
      {:ok, status} -> status =~ ~r/State:\s+Z/
      {:error, _} -> true
    end
  end

  defp collect_lines(at, acc \\ []) do
    receive do
      {ATPort, ^at, {:urc, line, _parsed}} -> collect_lines(at, [line | acc])
    after
      0 -> Enum.reverse(acc)
    end
  end

  defp eventually(fun, tries \\ 50) do
    cond do
      fun.() -> true
      tries == 0 -> false
      true -> Process.sleep(50) && eventually(fun, tries - 1)
    end
  end

  # Waits for the port to open, subscribes the test to its status messages,
  # enters 27.010 mode (AT+CMUX=0, then mux_start/2 with N1 127) and returns
  # the data channel's pty.
  defp enter_mux(at) do
    wait_until_open(at)
    :ok = ATPort.subscribe(at, "")
    assert ATPort.command(at, "AT+CMUX=0") == {:ok, []}
    assert ATPort.mux_start(at, 127) == :ok
    assert_receive {ATPort, ^at, {:mux_up, data_tty}}, 5_000
    data_tty
  end
end
