# Memory under a line flood (issue 10, part 3): a modem that streams ordinary
# information lines while a command is pending.
#
# The simulator's `flood` writes FLOOD_MB (default 50) MB of 48-byte lines on
# its AT pty while an `AT+CGMM` is pending (the simulator is muted, so only the
# flood answers). Sampled every 5 ms from before the flood until a URC sent
# after it arrives:
#
# * the BEAM: `:erlang.memory(:total)` and its RSS (VmRSS of /proc/<pid>/status);
# * the port program: its RSS (VmRSS), and its VmHWM (peak RSS) at the end.
#
# Printed: idle and peak of each, and the peak / idle ratio (goal: <= 2).
#
# Two runs: with the default drain period (2 s; the whole flood is the
# pending command's reply, dropped in the port program) and with a 100 ms
# drain period (the flood's tail, after the drain, is URCs: rate limited and
# shed in the port program).
#
#     MIX_ENV=test mix run bench/flood_bench.exs
#     FLOOD_MB=10 MIX_ENV=test mix run bench/flood_bench.exs
#
# Prints figures only; nothing here asserts.

Code.require_file("support/simulated_port.ex", __DIR__)

defmodule FloodBench do
  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Test.Simulator

  @line_bytes 48

  def run(mb, drain_ms) do
    Logger.configure(level: :error)
    lines = div(mb * 1_000_000, @line_bytes + 2)
    {sim, at} = VintageNetCellular.Bench.SimulatedPort.start(drain_ms: drain_ms)
    :ok = ATPort.subscribe(at, "+CREG:")
    port = ATPort.os_pid(at)
    beam = System.pid()

    # Idle: settled, after a full collection.
    for _ <- 1..5, do: {:ok, _} = ATPort.command(at, "AT+CSQ")
    :erlang.garbage_collect()
    Process.sleep(500)
    idle = sample(beam, port)

    sampler = start_sampler(beam, port)
    :ok = Simulator.control(sim, "mute on")
    t0 = System.monotonic_time(:millisecond)
    task = Task.async(fn -> ATPort.command(at, "AT+CGMM", 120_000) end)
    :ok = Simulator.control(sim, "flood #{lines} #{@line_bytes}")
    result = Task.await(task, 130_000)
    t_result = System.monotonic_time(:millisecond) - t0
    :ok = Simulator.control(sim, "mute off")
    urc_after = await_urc(sim, at, 1)
    t_end = System.monotonic_time(:millisecond) - t0
    peak = stop_sampler(sampler)
    port_hwm = status_kb(port, "VmHWM")
    next = ATPort.command(at, "AT+CGMM")
    # Shed URCs are reported by the port program at most once a second.
    Process.sleep(1_100)
    stats = ATPort.stats(at)

    IO.puts(
      "Line flood: #{lines} lines of #{@line_bytes} bytes (#{Float.round(lines * (@line_bytes + 2) / 1_000_000, 1)} MB) " <>
        "during a pending command, drain_ms #{drain_ms}"
    )

    IO.puts("  the command returned #{inspect(result)} after #{t_result} ms")

    IO.puts(
      "  a URC sent after the flood arrived: #{urc_after} (#{t_end} ms after the start); " <>
        "next command: #{inspect(next)}"
    )

    IO.puts("  ATPort.stats: #{inspect(stats)}")
    IO.puts("  #{String.pad_trailing("", 34)}#{pad("idle")}#{pad("peak")}  peak/idle (goal <= 2)")
    row("BEAM :erlang.memory(:total)", idle.beam_total, peak.beam_total)
    row("BEAM RSS (VmRSS)", idle.beam_rss, peak.beam_rss)
    row("cellular_port RSS (VmRSS)", idle.port_rss, peak.port_rss)
    row("cellular_port VmHWM at the end", idle.port_rss, port_hwm * 1024)

    GenServer.stop(at)
    Simulator.stop(sim)
  end

  defp row(label, idle, peak) do
    IO.puts(
      "  #{String.pad_trailing(label, 34)}#{pad(mb(idle))}#{pad(mb(peak))}  #{Float.round(peak / max(idle, 1), 2)}x"
    )
  end

  defp pad(text), do: String.pad_leading(text, 12)
  defp mb(bytes), do: "#{:erlang.float_to_binary(bytes / 1_048_576, decimals: 2)} MB"

  defp sample(beam, port) do
    %{
      beam_total: :erlang.memory(:total),
      beam_rss: status_kb(beam, "VmRSS") * 1024,
      port_rss: status_kb(port, "VmRSS") * 1024
    }
  end

  defp start_sampler(beam, port) do
    parent = self()

    spawn_link(fn ->
      sampler_loop(parent, beam, port, sample(beam, port))
    end)
  end

  defp sampler_loop(parent, beam, port, peak) do
    receive do
      :stop -> send(parent, {:peak, peak})
    after
      5 ->
        now = sample(beam, port)
        sampler_loop(parent, beam, port, Map.merge(peak, now, fn _k, a, b -> max(a, b) end))
    end
  end

  defp stop_sampler(pid) do
    send(pid, :stop)

    receive do
      {:peak, peak} -> peak
    end
  end

  defp status_kb(pid, key) do
    with {:ok, status} <- File.read("/proc/#{pid}/status"),
         [_, kb] <- Regex.run(~r/#{key}:\s+(\d+)\s+kB/, status) do
      String.to_integer(kb)
    else
      _ -> 0
    end
  end

  # URCs are rate limited while the flood's tail (lines after the drain
  # period are URCs) is shed: send one every 200 ms until one gets through.
  defp await_urc(sim, at, i) when i <= 600 do
    :ok = Simulator.control(sim, "urc +CREG: #{i}")

    receive do
      {ATPort, ^at, {:urc, "+CREG: " <> _, _}} -> true
    after
      200 -> await_urc(sim, at, i + 1)
    end
  end

  defp await_urc(_sim, _at, _i), do: false
end

mb =
  case Integer.parse(System.get_env("FLOOD_MB", "50")) do
    {n, ""} when n > 0 -> n
    _ -> 50
  end

FloodBench.run(mb, 2_000)
IO.puts("")
FloodBench.run(mb, 100)
