# The 27.010 multiplexer on one serial line, against the simulator's
# `--uart` modem (issue 14):
#
# 1. AT round trip (`AT`, `OK`) on the modem's only port in plain mode, idle;
# 2. the same command on the multiplexer's AT channel (DLCI 1), idle;
# 3. the same on the AT channel while the data channel (DLCI 2, a pty the
#    port program offers, which dialed `ATD*99#` first) carries a stream;
# 4. mux overhead: bytes on the serial line per data byte, from the port
#    program's framing (N1 127) of the stream.
#
#     mix run bench/cmux_bench.exs [samples]
#
# Prints figures and ratios only; nothing here asserts a timing. The codec's
# own throughput (vs 115,200 and 921,600 baud) is `bench_cmux` (Rust).

Code.require_file("support/simulated_port.ex", __DIR__)

defmodule CmuxBench do
  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Bench.SimulatedPort
  alias VintageNetCellular.Test.Simulator

  @n1 127

  def run(samples) do
    {:ok, sim} =
      Simulator.start_link(["--model", "sim7672", "--uart", "--register-after-ms", "100", "--provisioned", "internet"])

    %{at: tty} = Simulator.ports(sim)
    {:ok, at} = ATPort.start_link(tty: tty)
    SimulatedPort.await_open(at, 5_000)
    {:ok, _} = ATPort.command(at, "ATE0", 3_000)

    plain = rtts(at, samples)

    {:ok, _} = ATPort.command(at, "AT+CMUX=0,0,5,#{@n1}", 3_000)
    :ok = ATPort.mux_start(at, @n1)

    data_tty =
      receive do
        {ATPort, _, {:mux_up, data_tty}} -> data_tty
        {ATPort, _, {:mux_down, reason}} -> raise "the multiplexer did not start: #{reason}"
      after
        15_000 -> raise "the multiplexer did not start"
      end

    mux_idle = rtts(at, samples)

    # The data channel: dial, then stream as fast as the pty takes it.
    {:ok, data} = ATPort.start_link(tty: data_tty)
    SimulatedPort.await_open(data, 5_000)
    {:ok, _} = ATPort.command(data, "ATE0", 3_000)
    await_registered(at, 50)
    {:ok, _} = ATPort.command(data, "ATD*99***1#", 10_000) |> connect_ok()

    streamed = :counters.new(1, [])
    streamer = spawn_link(fn -> stream(data_tty, streamed) end)
    Process.sleep(200)
    t0 = System.monotonic_time(:microsecond)
    mux_busy = rtts(at, samples)
    elapsed_s = (System.monotonic_time(:microsecond) - t0) / 1.0e6
    Process.unlink(streamer)
    Process.exit(streamer, :kill)
    bytes = :counters.get(streamed, 1)

    IO.puts("AT round trip on one serial line (simulated SIM7672 on a pty, #{samples} samples each)")
    report("  plain port, idle", plain, nil)
    report("  multiplexer AT channel (DLCI 1), idle", mux_idle, plain)
    report("  multiplexer AT channel, data channel streaming", mux_busy, plain)

    IO.puts(
      "  data channel: #{bytes} bytes in #{Float.round(elapsed_s, 2)} s " <>
        "(#{round(bytes / max(elapsed_s, 0.001) / 1024)} KiB/s offered to the pty)"
    )

    # A UIH frame carries at most N1 data bytes in N1 + 6 octets (flag,
    # address, control, one length octet, FCS, flag).
    IO.puts(
      "mux overhead (N1 #{@n1}): #{Float.round(6 / @n1, 4)} line bytes per data byte in full frames; " <>
        "a 115,200-baud line carries #{round(11_520 * @n1 / (@n1 + 6))} data bytes/s of its 11,520"
    )

    GenServer.stop(data)
    GenServer.stop(at)
    Simulator.stop(sim)
  end

  defp await_registered(_at, 0), do: raise("the simulated modem did not register")

  defp await_registered(at, tries) do
    case ATPort.command(at, "AT+CEREG?", 3_000) do
      {:ok, [line | _]} when is_binary(line) ->
        if line =~ ~r/^\+CEREG: \d,[15]/, do: :ok, else: retry_registered(at, tries)

      _ ->
        retry_registered(at, tries)
    end
  end

  defp retry_registered(at, tries) do
    Process.sleep(100)
    await_registered(at, tries - 1)
  end

  defp connect_ok({:ok, _} = ok), do: ok
  defp connect_ok({:error, {:connect, _}}), do: {:ok, :connected}
  defp connect_ok(other), do: raise("the data channel did not connect: #{inspect(other)}")

  # Raw bytes into the connected data channel, written to its pty as pppd
  # would write them (filler stands in for PPP frames).
  defp stream(data_tty, counter) do
    {:ok, fd} = :file.open(String.to_charlist(data_tty), [:write, :raw, :binary])
    chunk = :binary.copy("~PPP-FILLER-", 80)
    write_loop(fd, chunk, counter)
  end

  defp write_loop(fd, chunk, counter) do
    :ok = :file.write(fd, chunk)
    :counters.add(counter, 1, byte_size(chunk))
    write_loop(fd, chunk, counter)
  end

  defp rtts(at, samples) do
    for _ <- 1..samples do
      t = System.monotonic_time(:microsecond)
      {:ok, _} = ATPort.command(at, "AT", 3_000)
      elapsed = System.monotonic_time(:microsecond) - t
      # Spaced out, so a measurement spans a while of the stream.
      Process.sleep(5)
      elapsed
    end
  end

  defp report(label, us, base) do
    sorted = Enum.sort(us)
    p50 = Enum.at(sorted, div(length(sorted), 2))
    p99 = Enum.at(sorted, min(length(sorted) - 1, round(length(sorted) * 0.99)))
    ratio = if base, do: " (p50 #{Float.round(p50 / median(base), 2)}x the plain port)", else: ""
    IO.puts("#{String.pad_trailing(label, 50)} p50 #{ms(p50)} ms, p99 #{ms(p99)} ms#{ratio}")
  end

  defp median(us), do: us |> Enum.sort() |> Enum.at(div(length(us), 2))
  defp ms(us), do: Float.round(us / 1000, 2)
end

samples =
  case System.argv() do
    [n] -> String.to_integer(n)
    _ -> 200
  end

CmuxBench.run(samples)
