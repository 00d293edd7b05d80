# AT commands a storm of cell changes adds (issue 11, point 6: a 1,000 URC/s
# storm of cell changes adds no more than 1 AT command per second).
#
# A simulated EC25 (registered, its own signal changes off), an ATPort on its
# AT pty with the URC limits raised (so nothing is shed before the monitor),
# and the property monitor with the EC25 profile, as the connection manager
# starts it. Once its set-up and identity reads are done, the simulator
# writes RATE `+CEREG: 1,"<tac>","<ci>",7` lines a second (each a new cell,
# same registration state and radio: a handover storm) for SECONDS seconds.
# The figure is the monitor's own count of AT commands sent during the storm
# (`Monitor.stats/1`), per second; the periodic polls are set far out
# (10 min) so that only what the storm causes is counted. The same count
# with no storm over the same time is printed beside it.
#
#     MIX_ENV=test mix run bench/storm_commands_bench.exs
#     RATE=1000 SECONDS=30 MIX_ENV=test mix run bench/storm_commands_bench.exs
#
# The BEAM's CPU time per URC over the storm (all its threads, from
# /proc/self/task/*/schedstat), less the quiet run's, is printed too. Run it
# with ERL_FLAGS="+sbwt none +sbwtdcpu none +sbwtdio none" (scripts/bench
# does) so that spinning schedulers don't count.
#
# Prints figures only; nothing here asserts.

Code.require_file("support/beam_cpu.ex", __DIR__)

defmodule StormCommandsBench do
  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Bench.BeamCPU
  alias VintageNetCellular.Modem.QuectelEC25
  alias VintageNetCellular.Monitor
  alias VintageNetCellular.Test.Simulator

  @goal_per_s 1.0

  def run(rate, seconds) do
    Logger.configure(level: :error)
    {:ok, _} = VintageNet.Double.start()

    IO.puts("AT commands added by a storm of #{rate} cell changes a second for #{seconds} s (EC25 profile)")

    quiet = measure(0, seconds)
    storm = measure(rate, seconds)

    IO.puts("  no storm:   #{quiet.commands} commands in #{seconds} s (#{fmt(quiet.commands / seconds)}/s)")

    IO.puts(
      "  storm:      #{storm.commands} commands in #{seconds} s (#{fmt(storm.commands / seconds)}/s), " <>
        "#{storm.urcs} URCs reached the monitor"
    )

    added = (storm.commands - quiet.commands) / seconds

    IO.puts(
      "  added by the storm: #{fmt(added)} commands/s (goal <= #{fmt(@goal_per_s)}: " <>
        "#{if added <= @goal_per_s, do: "met", else: "not met"})"
    )

    IO.puts("  what the storm made it send: #{inspect(storm.by_command)}")

    if storm.urcs > 0 do
      per_urc = (storm.cpu_ns - quiet.cpu_ns) / storm.urcs / 1_000

      IO.puts("  BEAM CPU per URC (ATPort, monitor, properties; the quiet run's CPU taken off): #{fmt(per_urc)} µs")

      anchor = anchor_model(rate, seconds, quiet.cpu_ns)

      IO.puts(
        "  the anchor-style Elixir path on the same storm (bytes framed into lines in Elixir, " <>
          "each +CEREG parsed in Elixir, lac and cid written): #{fmt(anchor)} µs per URC; " <>
          "ratio ours/anchor #{fmt(per_urc / anchor)}"
      )
    end
  end

  defp measure(rate, seconds) do
    VintageNet.Double.reset()
    {:ok, sim} = Simulator.start_link(["--model", "ec25", "--seed", "1"])
    :ok = Simulator.control(sim, "signal auto off")

    {:ok, at} =
      ATPort.start_link(
        tty: Simulator.ports(sim).at,
        urc_burst: 1_000_000,
        urc_per_second: 1_000_000,
        max_subscriber_queue: 1_000_000
      )

    far = 600_000

    {:ok, monitor} =
      Monitor.start_link(
        ifname: "ppp0",
        at_port: at,
        profile: QuectelEC25,
        config: [signal_poll_ms: far, cell_poll_ms: far]
      )

    settle(monitor)
    before = Monitor.stats(monitor)
    cpu0 = BeamCPU.ns()

    deadline = System.monotonic_time(:millisecond) + seconds * 1_000
    storm(sim, rate, deadline)
    # What the last second's changes planned runs too.
    Process.sleep(500)

    cpu = BeamCPU.ns() - cpu0
    after_storm = Monitor.stats(monitor)
    GenServer.stop(monitor)
    GenServer.stop(at)
    Simulator.stop(sim)

    %{
      commands: after_storm.commands - before.commands,
      cpu_ns: cpu,
      urcs: after_storm.urcs - before.urcs,
      by_command:
        Map.new(after_storm.by_command, fn {c, n} -> {c, n - Map.get(before.by_command, c, 0)} end)
        |> Map.reject(fn {_c, n} -> n == 0 end)
    }
  end

  # The set-up, identity and the first refresh are done when the count stops
  # moving for a second.
  defp settle(monitor, last \\ -1) do
    Process.sleep(1_000)

    case Monitor.stats(monitor).commands do
      ^last -> :ok
      now -> settle(monitor, now)
    end
  end

  # Ten bursts a second of rate/10 changes each.
  defp storm(sim, rate, deadline) do
    now = System.monotonic_time(:millisecond)

    if now < deadline do
      if rate > 0, do: :ok = Simulator.control(sim, "cell_storm #{div(rate, 10)}")
      Process.sleep(100)
      storm(sim, rate, deadline)
    else
      :ok
    end
  end

  # A model of how vintage_net_mobile's Elixir side takes a URC, written
  # here from its structure: the tty's bytes arrive in the BEAM as they
  # come (here through `cat` on the pty, in raw mode, as a port), a line
  # framer splits them, a dispatcher matches the prefix, a handler parses
  # `+CEREG: <stat>,"<tac>","<ci>",<act>` with String.split/Integer.parse and
  # writes lac and cid through the same property table, once per URC. The
  # BEAM CPU per URC is taken the same way as for our path (the quiet run's
  # CPU taken off too).
  defp anchor_model(rate, seconds, quiet_cpu_ns) do
    VintageNet.Double.reset()
    {:ok, sim} = Simulator.start_link(["--model", "ec25", "--seed", "1"])
    :ok = Simulator.control(sim, "signal auto off")
    tty = Simulator.ports(sim).at
    {_, 0} = System.cmd("stty", ["-F", tty, "raw", "-echo"])
    me = self()
    reader = spawn_link(fn -> anchor_reader(tty, me) end)
    receive do: (:ready -> :ok)

    cpu0 = BeamCPU.ns()
    deadline = System.monotonic_time(:millisecond) + seconds * 1_000
    storm(sim, rate, deadline)
    Process.sleep(500)
    cpu = BeamCPU.ns() - cpu0 - quiet_cpu_ns

    send(reader, {:count, self()})
    urcs = receive do: ({:count, n} -> n)
    Simulator.stop(sim)
    IO.puts("  (the anchor-style path took #{urcs} URCs)")
    cpu / max(urcs, 1) / 1_000
  end

  defp anchor_reader(tty, parent) do
    port = Port.open({:spawn_executable, System.find_executable("cat")}, [:binary, :stream, args: [tty]])
    send(parent, :ready)
    anchor_loop(port, "", 0)
  end

  defp anchor_loop(port, buffer, count) do
    receive do
      {^port, {:data, bytes}} ->
        {lines, rest} = frame(buffer <> bytes)
        anchor_loop(port, rest, Enum.reduce(lines, count, &anchor_line/2))

      {:count, from} ->
        send(from, {:count, count})
        Port.close(port)
    end
  end

  defp frame(data) do
    parts = String.split(data, "\r\n")
    {lines, [rest]} = Enum.split(parts, -1)
    {Enum.reject(lines, &(&1 == "")), rest}
  end

  defp anchor_line("+CEREG: " <> fields, count) do
    case String.split(fields, ",") do
      [_stat, tac, ci, _act] ->
        with {lac, ""} <- tac |> String.trim("\"") |> Integer.parse(16),
             {cid, ""} <- ci |> String.trim("\"") |> Integer.parse(16) do
          PropertyTable.put(VintageNet, ["interface", "ppp0", "mobile", "lac"], lac)
          PropertyTable.put(VintageNet, ["interface", "ppp0", "mobile", "cid"], cid)
        end

        count + 1

      _ ->
        count
    end
  end

  defp anchor_line(_other, count), do: count

  defp fmt(x), do: :erlang.float_to_binary(x * 1.0, decimals: 2)
end

rate = String.to_integer(System.get_env("RATE", "1000"))
seconds = String.to_integer(System.get_env("SECONDS", "30"))
StormCommandsBench.run(rate, seconds)
