defmodule VintageNetCellular.UeventsTest do
  @moduledoc """
  `VintageNetCellular.Uevents`: bursts, bad frames, a program that dies or
  can't listen, the atom table shared with `cellular_port uevents`, real
  kernel uevents where this system lets a test make one, and, end to end, a
  modem plugged in after configure claimed on a uevent alone (the poll set
  to a minute, so nothing else can find it during the test).
  """
  use ExUnit.Case, async: false

  alias VintageNetCellular.Test.World
  alias VintageNetCellular.Uevents

  @program Path.join(:code.priv_dir(:vintage_net_cellular), "native/cellular_port")

  # A real kernel uevent can be made by root writing "change" to the
  # loopback interface's uevent file (nothing on the system acts on it).
  @lo_uevent "/sys/class/net/lo/uevent"
  @uid (case System.cmd("id", ["-u"]) do
          {out, 0} -> String.trim(out)
          _ -> nil
        end)
  @kernel_skip (cond do
                  @uid != "0" -> "not root (uid #{inspect(@uid)}): the kernel can't be made to send a uevent"
                  not File.exists?(@lo_uevent) -> "no #{@lo_uevent} (no sysfs?)"
                  true -> nil
                end)

  # ExUnit doesn't show why a test was skipped: say it here.
  if @kernel_skip do
    IO.puts(:stderr, "UeventsTest: the real-kernel uevent test is skipped: #{@kernel_skip}")
  end

  # Each test's own listener and subscriber registry, beside the application's.
  defp start_listener(opts) do
    registry = :"uevents_subs_#{System.unique_integer([:positive])}"
    name = :"uevents_#{System.unique_integer([:positive])}"
    start_supervised!({Registry, keys: :unique, name: registry})
    start_supervised!({Uevents, [name: name, subscribers: registry] ++ opts})
    :ok = Uevents.subscribe(registry)
    name
  end

  defp event(n), do: %{action: "add", subsystem: "tty", devpath: "/devices/x/ttyUSB#{n}", devname: "ttyUSB#{n}"}

  # A stand-in for cellular_port: writes the given frames, then waits for
  # end of stdin (or exits with `exit_code`); each start leaves a line in
  # `starts`.
  defp fake_program(dir, terms, exit_code \\ nil) do
    frames = for term <- terms, into: <<>>, do: frame(term)
    File.write!(Path.join(dir, "frames"), frames)
    ending = if exit_code, do: "exit #{exit_code}", else: "exec cat > /dev/null"

    script = Path.join(dir, "fake_port")

    File.write!(script, """
    #!/bin/sh
    [ "$1" = uevents ] || exit 9
    d=$(dirname "$0")
    echo start >> "$d/starts"
    cat "$d/frames" 2>/dev/null
    #{ending}
    """)

    File.chmod!(script, 0o755)
    script
  end

  defp frame(bin) when is_binary(bin), do: <<byte_size(bin)::32, bin::binary>>
  defp frame(term), do: frame(:erlang.term_to_binary(term))

  defp starts(dir) do
    case File.read(Path.join(dir, "starts")) do
      {:ok, text} -> length(String.split(text, "\n", trim: true))
      {:error, _} -> 0
    end
  end

  # Polls `fun` until it is true (then true) or `timeout` ms pass (then false).
  defp await(fun, timeout \\ 5_000), do: await_until(fun, System.monotonic_time(:millisecond) + timeout)

  defp await_until(fun, deadline) do
    cond do
      fun.() -> true
      System.monotonic_time(:millisecond) > deadline -> false
      true -> Process.sleep(10) && await_until(fun, deadline)
    end
  end

  describe "bursts" do
    test "events within the quiet time make one message, with every event in it" do
      name = start_listener(program: nil, quiet_ms: 30, max_delay_ms: 5_000)
      for n <- 1..5, do: :ok = Uevents.inject(name, event(n))

      assert_receive {:uevent, %{count: 5, lost?: false, events: events}}, 2_000
      assert Enum.map(events, & &1.devname) == for(n <- 1..5, do: "ttyUSB#{n}")
      assert hd(events) == Map.put(event(1), :devtype, nil) |> Map.put(:seqnum, nil)
      refute_receive {:uevent, _}, 100
      assert %{state: :disabled, events: 5, bursts: 1} = Uevents.status(name)
    end

    test "a steady stream is still passed on: a burst never waits past max_delay_ms" do
      name = start_listener(program: nil, quiet_ms: 50, max_delay_ms: 60)

      # One event every 10 ms for 300 ms: never 50 ms of quiet.
      for n <- 1..30 do
        :ok = Uevents.inject(name, event(n))
        Process.sleep(10)
      end

      counts = collect_counts([])
      assert Enum.sum(counts) == 30
      assert length(counts) >= 2, "one burst of #{inspect(counts)}: the window was not bounded"
    end

    test "a burst keeps at most 64 events and counts them all" do
      name = start_listener(program: nil, quiet_ms: 200, max_delay_ms: 5_000)
      for n <- 1..100, do: :ok = Uevents.inject(name, event(n))

      assert_receive {:uevent, %{count: 100, events: events}}, 2_000
      assert length(events) == 64
    end
  end

  defp collect_counts(acc) do
    receive do
      {:uevent, %{count: n}} -> collect_counts([n | acc])
    after
      300 -> Enum.reverse(acc)
    end
  end

  describe "the program's frames" do
    @describetag :tmp_dir

    test "kernel events, lost events and frames that are not ours all make a burst; nothing is dropped",
         %{tmp_dir: dir} do
      kernel = %{action: "add", subsystem: "usb", devpath: "/devices/usb1/1-1", devname: nil, devtype: nil, seqnum: 7}

      program =
        fake_program(dir, [
          :uevents_listening,
          {:uevent, kernel},
          {:uevents_lost, "ENOBUFS"},
          {:uevents_lost, "ENOBUFS again"},
          "\x83garbage",
          {:surprise, 1}
        ])

      name = start_listener(program: program, quiet_ms: 30, max_delay_ms: 5_000)

      {result, log} =
        ExUnit.CaptureLog.with_log(fn ->
          assert_receive {:uevent, burst}, 5_000
          burst
        end)

      assert %{count: 5, lost?: true, events: [^kernel]} = result
      assert log =~ "uevents were lost: ENOBUFS"
      refute log =~ "ENOBUFS again"
      assert log =~ "not a term"
      assert log =~ "unexpected frame from the uevent listener: {:surprise, 1}"
      assert %{state: :listening} = Uevents.status(name)
    end

    test "a program that exits is started again; the listener stays up", %{tmp_dir: dir} do
      program = fake_program(dir, [:uevents_listening, {:uevent, event(1)}], 3)

      ExUnit.CaptureLog.capture_log(fn ->
        name = start_listener(program: program, quiet_ms: 10)
        pid = Process.whereis(name)
        # 100 ms, then 200 ms: three starts within a second.
        assert await(fn -> starts(dir) >= 3 end) == true
        assert Process.whereis(name) == pid
        assert_receive {:uevent, %{count: 1}}, 1_000
      end)
    end

    test "where uevents can't be had, it says so once and polling is all there is", %{tmp_dir: dir} do
      program = fake_program(dir, [{:uevents_unavailable, "cannot listen: EPROTONOSUPPORT"}], 0)

      log =
        ExUnit.CaptureLog.capture_log(fn ->
          name = start_listener(program: program)

          assert await(fn -> match?(%{state: {:unavailable, _}}, Uevents.status(name)) end) == true
          assert %{state: {:unavailable, "cannot listen: EPROTONOSUPPORT"}} = Uevents.status(name)
          Process.sleep(400)
          assert starts(dir) == 1
        end)

      assert log =~ "modems are found by polling sysfs only"
      refute log =~ "starting it again"
    end

    test "a missing program is the same as no uevents", %{tmp_dir: dir} do
      ExUnit.CaptureLog.capture_log(fn ->
        name = start_listener(program: Path.join(dir, "nope"))
        assert %{state: {:unavailable, reason}} = Uevents.status(name)
        assert reason =~ "does not exist"
      end)
    end
  end

  describe "the real program" do
    test "killed, it is started again; its listener ending ends it" do
      name = start_listener(program: @program)
      assert await(fn -> Uevents.status(name).state != :starting end)

      case Uevents.status(name) do
        %{state: :listening, os_pid: pid} when is_integer(pid) ->
          ExUnit.CaptureLog.capture_log(fn ->
            {_, 0} = System.cmd("kill", ["-KILL", Integer.to_string(pid)])

            assert await(fn ->
                     match?(%{state: :listening, os_pid: p} when p not in [nil, pid], Uevents.status(name))
                   end)
          end)

          %{os_pid: again} = Uevents.status(name)
          assert File.exists?("/proc/#{again}")
          stop_supervised!(name)
          # End of file on its stdin: the program exits by itself.
          assert await(fn -> not File.exists?("/proc/#{again}") end), "cellular_port uevents outlived its listener"

        %{state: {:unavailable, reason}} ->
          # No uevents here: what the program said is kept, and it is not restarted.
          assert reason =~ "cannot listen to kernel uevents"
          assert %{os_pid: nil} = Uevents.status(name)
      end
    end

    test "uevents: false in the app environment: no program, polling only" do
      Application.put_env(:vintage_net_cellular, :uevents, false)
      on_exit(fn -> Application.delete_env(:vintage_net_cellular, :uevents) end)

      name = start_listener([])
      assert %{state: :disabled, os_pid: nil} = Uevents.status(name)
    end
  end

  test "the atoms of the frames are the program's (cellular_port uevents --atoms)" do
    assert {out, 0} = System.cmd(@program, ["uevents", "--atoms"])
    assert String.split(out, "\n", trim: true) == Enum.map(Uevents.atoms(), &Atom.to_string/1)
  end

  describe "real kernel uevents" do
    if @kernel_skip, do: @describetag(skip: @kernel_skip)

    test "a uevent the kernel sends for lo reaches subscribers" do
      name = start_listener(program: @program, quiet_ms: 10)
      assert await(fn -> Uevents.status(name).state != :starting end) == true
      assert %{state: :listening} = Uevents.status(name)

      File.write!(@lo_uevent, "change")

      assert_receive {:uevent, %{events: events}}, 5_000
      assert %{action: "change", subsystem: "net"} = Enum.find(events, &(&1.devpath == "/devices/virtual/net/lo"))
    end
  end

  describe "end to end" do
    setup do
      # A minute between polls: within the test, only a uevent finds the modem.
      World.setup_e2e(env: [scan_interval: 60_000])
    end

    defp mobile(key), do: ["interface", "ppp0", "mobile", key]

    defp config do
      %{type: VintageNetCellular, vintage_net_cellular: %{service_providers: [%{apn: "internet"}]}}
    end

    defp await_left_search do
      VintageNet.Double.await(mobile("state"), &(&1 not in [nil, :searching_modem]), 10_000)
    rescue
      e -> reraise "#{Exception.message(e)}; reason: #{inspect(VintageNet.get(mobile("reason")))}", __STACKTRACE__
    end

    test "a modem plugged in after configure is claimed on the uevent, not at the next poll", %{world: world} do
      assert :ok = VintageNet.configure("ppp0", config())
      VintageNet.Double.await(mobile("state"), :searching_modem, 5_000)
      VintageNet.Double.await(mobile("reason"), &(is_binary(&1) and &1 =~ "no cellular modem"), 5_000)

      _world = World.add_modem(world, :m1)
      :ok = Uevents.inject(%{action: "add", subsystem: "usb", devpath: "/devices/usb1/1-1/1-1.2"})

      assert await_left_search() in [:initializing, :registering, :dialing, :connected]
      assert {:ok, %{modem: "1-1.2 (ttyUSB2/ttyUSB3)"}} = VintageNet.ioctl("ppp0", :status)
    end

    test "after the listener is killed, its successor's events still reach the searching manager",
         %{world: world} do
      assert :ok = VintageNet.configure("ppp0", config())
      VintageNet.Double.await(mobile("state"), :searching_modem, 5_000)
      VintageNet.Double.await(mobile("reason"), &(is_binary(&1) and &1 =~ "no cellular modem"), 5_000)

      old = Process.whereis(Uevents)
      Process.exit(old, :kill)
      assert await(fn -> Process.whereis(Uevents) not in [nil, old] end) == true

      _world = World.add_modem(world, :m1)
      :ok = Uevents.inject(%{action: "add", subsystem: "tty", devpath: "/devices/usb1/1-1/1-1.2/1-1.2:1.2/ttyUSB2"})

      assert await_left_search() in [:initializing, :registering, :dialing, :connected]
    end
  end
end
