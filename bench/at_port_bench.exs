# ATPort figures against the simulated modem:
#
# 1. URC latency: from asking the simulator to write a URC on its AT pty to
#    the `{VintageNetCellular.ATPort, server, {:urc, line, parsed}}` message in a subscriber,
#    p50/p99 over N samples (goal: <= 10 ms). The figure includes the hop of
#    the control line into the simulator, so it is an upper bound; the control
#    round trip alone is printed beside it.
# 2. The port program: resident memory (VmRSS from /proc) after the run, and
#    its stripped size (goals: <= 6 MB, <= 3 MB).
#
#     mix run bench/at_port_bench.exs [samples]
#
# Prints figures only; nothing here asserts a timing.

Code.require_file("support/simulated_port.ex", __DIR__)

defmodule ATPortBench do
  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Test.Simulator

  def run(samples) do
    {sim, at} = VintageNetCellular.Bench.SimulatedPort.start()

    bench = self()

    receiver =
      spawn_link(fn ->
        :ok = ATPort.subscribe(at, "+BENCH:")
        send(bench, :subscribed)
        receive_loop(bench)
      end)

    receive do: (:subscribed -> :ok)

    # Warm-up.
    _ = measure(sim, receiver, 1..20)

    latencies = measure(sim, receiver, 1..samples)
    control = control_round_trips(sim, samples)

    IO.puts("ATPort URC latency (simulator #{Simulator.model(sim)}, #{samples} samples)")
    report("  control line -> subscriber message", latencies, "goal p99 <= 10 ms")
    report("  control round trip alone (reference)", control, "")

    os_pid = ATPort.os_pid(at)
    rss = rss_kb(os_pid)
    program = Path.join(:code.priv_dir(:vintage_net_cellular), "native/cellular_port")
    {size, how} = stripped_size(program)

    IO.puts("cellular_port")
    IO.puts("  RSS after the run: #{format_mb(rss * 1024)} (goal <= 6 MB; ratio #{ratio(rss * 1024, 6)})")
    IO.puts("  size (#{how}): #{format_mb(size)} (goal <= 3 MB; ratio #{ratio(size, 3)})")

    GenServer.stop(at)
    Simulator.stop(sim)
  end

  defp receive_loop(bench) do
    receive do
      {ATPort, _server, {:urc, "+BENCH: " <> n, _parsed}} ->
        send(bench, {:got, String.to_integer(n), System.monotonic_time(:microsecond)})
        receive_loop(bench)

      _ ->
        receive_loop(bench)
    end
  end

  defp measure(sim, _receiver, range) do
    for i <- range do
      t0 = System.monotonic_time(:microsecond)
      :ok = Simulator.control(sim, "urc +BENCH: #{i}")

      receive do
        {:got, ^i, t1} -> t1 - t0
      after
        5_000 -> raise "URC #{i} never arrived"
      end
    end
  end

  defp control_round_trips(sim, n) do
    for _ <- 1..n do
      t0 = System.monotonic_time(:microsecond)
      :ok = Simulator.control(sim, "signal auto off")
      System.monotonic_time(:microsecond) - t0
    end
  end

  defp report(label, samples, goal) do
    sorted = Enum.sort(samples)
    p = fn q -> Enum.at(sorted, min(length(sorted) - 1, trunc(q * length(sorted)))) end

    IO.puts(
      "#{label}: p50 #{ms(p.(0.5))}  p99 #{ms(p.(0.99))}  max #{ms(List.last(sorted))}" <>
        if(goal == "", do: "", else: "  (#{goal}; p99 ratio #{Float.round(p.(0.99) / 10_000, 3)})")
    )
  end

  defp ms(us), do: "#{:erlang.float_to_binary(us / 1000, decimals: 3)} ms"

  defp rss_kb(os_pid) do
    case File.read("/proc/#{os_pid}/status") do
      {:ok, status} ->
        [_, kb] = Regex.run(~r/VmRSS:\s+(\d+)\s+kB/, status)
        String.to_integer(kb)

      {:error, _} ->
        0
    end
  end

  defp stripped_size(program) do
    tmp = Path.join(System.tmp_dir!(), "cellular_port_stripped_#{System.unique_integer([:positive])}")

    try do
      case System.find_executable("strip") && System.cmd("strip", ["-o", tmp, program], stderr_to_stdout: true) do
        {_, 0} -> {File.stat!(tmp).size, "stripped"}
        _ -> {File.stat!(program).size, "as built, release profile strips symbols"}
      end
    after
      File.rm(tmp)
    end
  end

  defp format_mb(bytes), do: "#{:erlang.float_to_binary(bytes / 1_048_576, decimals: 2)} MB"
  defp ratio(bytes, goal_mb), do: Float.round(bytes / (goal_mb * 1_048_576), 3)
end

samples =
  case System.argv() do
    [n | _] -> String.to_integer(n)
    [] -> 500
  end

ATPortBench.run(samples)
