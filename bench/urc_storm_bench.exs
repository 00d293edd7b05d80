# BEAM CPU per URC on a storm of cell changes (issue 11, point 1).
#
# The simulator writes STORM (default 20,000) unsolicited
# `+CEREG: 1,"<tac>","<ci>",7` lines, each naming another cell, on its AT pty
# (`cell_storm`). Two subscribers stand for the Connection and the Monitor:
# each takes every URC and keeps its registration fields. The figure is the
# BEAM's CPU time over the storm, the on-CPU time of all its threads (from
# /proc/self/task/*/schedstat, in ns, so neither other programs on the
# machine nor the simulator and the port program, OS processes of their own,
# are counted), divided by the URCs, from the `cell_storm` control until both
# subscribers have the last URC. Schedulers that busy-wait would count their
# spinning: scripts/bench runs this file with
# ERL_FLAGS="+sbwt none +sbwtdcpu none +sbwtdio none", and the script says
# when that is missing.
#
# Rows, each the median of ROUNDS (default 7) storms:
#
# * typed events: URCs arrive parsed (`{:urc, line, parsed}`), decoded with
#   `binary_to_term(_, [:safe])`; the subscribers just match the parsed term.
# * the same, with subscribers that parse each line again through the NIF
#   (`AT.parse/1`), as the Connection and the Monitor did before.
#
# The code before this change (MessagePack frames decoded by a NIF, URCs as
# bare lines, parsed by each subscriber) is not in this tree; its figure,
# measured by this same script on that code (main at 33d03b0, with the
# simulator's `cell_storm` control added; same machine, same settings),
# is given as URC_STORM_BEFORE_US (default: the recorded figure below) and
# the ratio printed against it. Run on a tree that still delivers bare lines,
# the script measures that path instead and says so.
#
#     MIX_ENV=test mix run bench/urc_storm_bench.exs
#     STORM=5000 URC_STORM_BEFORE_US=9.1 MIX_ENV=test mix run bench/urc_storm_bench.exs
#
# Prints figures only; nothing here asserts.

Code.require_file("support/simulated_port.ex", __DIR__)
Code.require_file("support/beam_cpu.ex", __DIR__)

defmodule URCStormBench do
  alias VintageNetCellular.AT
  alias VintageNetCellular.Bench.BeamCPU
  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Test.Simulator

  # Recorded on main at 33d03b0 (before typed events) with this script and
  # its defaults, on the 2-core shared development VM: three runs gave 9.4,
  # 8.5 and 8.7 µs per URC; their median.
  @recorded_before_us 8.7

  def run(storm, rounds, before_us) do
    Logger.configure(level: :error)

    {sim, at} =
      VintageNetCellular.Bench.SimulatedPort.start(
        urc_burst: 1_000_000,
        urc_per_second: 1_000_000,
        max_subscriber_queue: 1_000_000
      )

    IO.puts("BEAM CPU per URC, storms of #{storm} +CEREG cell changes, 2 subscribers, median of #{rounds}")

    unless String.contains?(System.get_env("ERL_FLAGS", ""), "+sbwt none") do
      IO.puts("  (schedulers may busy-wait: run with ERL_FLAGS=\"+sbwt none +sbwtdcpu none +sbwtdio none\")")
    end

    # Rounds alternate between the two rows, so that a busy machine weighs on both alike.
    {typed, reparse} = measure(sim, at, storm, rounds)

    case typed do
      {:bare_lines, us} ->
        IO.puts("  this tree delivers bare lines: subscribers parse each through the NIF: #{fmt(us)} µs per URC")

      {:typed, us} ->
        {:typed, re_us} = reparse
        IO.puts("  typed events (parsed once in the port program): #{fmt(us)} µs per URC")
        IO.puts("  typed events + subscribers re-parsing via the NIF: #{fmt(re_us)} µs per URC")

        IO.puts(
          "  before (MessagePack + NIF decode + 2 NIF parses), recorded: #{fmt(before_us)} µs per URC; " <>
            "ratio after/before #{Float.round(us / before_us, 2)}"
        )
    end

    GenServer.stop(at)
    Simulator.stop(sim)
  end

  def recorded_before_us, do: @recorded_before_us

  defp measure(sim, at, storm, rounds) do
    # The first round warms up (code loading, allocators).
    [_warm | kept] =
      for _ <- 1..(rounds + 1) do
        {one_storm(sim, at, storm, :typed), one_storm(sim, at, storm, :reparse)}
      end

    row = fn pick ->
      results = Enum.map(kept, pick)
      {results |> hd() |> elem(0), results |> Enum.map(&elem(&1, 1)) |> median()}
    end

    {row.(&elem(&1, 0)), row.(&elem(&1, 1))}
  end

  defp one_storm(sim, at, storm, mode) do
    bench = self()
    subs = for _ <- 1..2, do: spawn_link(fn -> subscriber(at, bench, storm, mode) end)
    for _ <- subs, do: receive(do: (:subscribed -> :ok))
    :erlang.garbage_collect()

    t0 = BeamCPU.ns()
    :ok = Simulator.control(sim, "cell_storm #{storm}")
    shapes = for _ <- subs, do: receive(do: ({:done, shape} -> shape))
    cpu_us = (BeamCPU.ns() - t0) / 1000

    for pid <- subs, do: send(pid, :stop)
    {hd(shapes), cpu_us / storm}
  end

  defp subscriber(at, bench, storm, mode) do
    :ok = ATPort.subscribe(at, "+CEREG:")
    send(bench, :subscribed)
    loop(at, bench, storm, mode, %{}, nil)
  end

  defp loop(at, bench, 0, _mode, _reg, shape) do
    ATPort.unsubscribe(at, "+CEREG:")
    send(bench, {:done, shape})
    receive do: (:stop -> :ok)
  end

  defp loop(at, bench, left, mode, reg, _shape) do
    receive do
      {ATPort, _, {:urc, line, parsed}} ->
        parsed = if mode == :reparse, do: AT.parse(line), else: parsed
        loop(at, bench, left - 1, mode, keep(parsed, reg), :typed)

      {ATPort, _, line} when is_binary(line) ->
        loop(at, bench, left - 1, mode, keep(AT.parse(line), reg), :bare_lines)
    end
  end

  # What the Connection does with a registration URC: keep its fields.
  defp keep({:ok, {kind, fields}}, reg) when kind in [:creg, :cgreg, :cereg, :c5greg], do: Map.put(reg, kind, fields)
  defp keep(_other, reg), do: reg

  defp median(list) do
    sorted = Enum.sort(list)
    Enum.at(sorted, div(length(sorted), 2))
  end

  defp fmt(us), do: :erlang.float_to_binary(us * 1.0, decimals: 1)
end

storm = String.to_integer(System.get_env("STORM", "20000"))
rounds = String.to_integer(System.get_env("ROUNDS", "7"))

before_us =
  case System.get_env("URC_STORM_BEFORE_US") do
    nil -> URCStormBench.recorded_before_us()
    text -> String.to_float(text)
  end

URCStormBench.run(storm, rounds, before_us)
