# AT round trips from port open to CONNECT, on an already-provisioned
# simulated modem (issue 3's benchmark; goal <= 5 with the SIM, the PDP
# context and the registration all checked; the seed-era SIM7672 library
# needed 18).
#
#     MIX_ENV=test mix run bench/connect_round_trips_bench.exs
#
# What runs: the whole technology, end to end, as in
# test/vintage_net_cellular/connection_e2e_test.exs. `VintageNet.configure("ppp0", ...)`
# on the VintageNet double, USB discovery on a fixture sysfs, the AT port
# program, the connection manager, `test/support/fake_pppd` in pppd's place,
# and the real dialer (`cellular_port dial`, pppd's connect program) on the
# PPP port. The simulated modem
# (`cellular_sim --provisioned internet`) already holds context 1 as
# "IP","internet", the configured APN, so no PDP write or radio cycle is
# needed. Only the checks run.
#
# What is counted: one round trip is one command line the modem received,
# taken from the simulator's transcript (`World.received/3`, "at" and "ppp"),
# from the AT port's opening until the modem answered CONNECT on the PPP port.
# A compound line (`AT+CPIN?;+CGDCONT?`) counts as one round trip, since it is
# written once and answered once. The connection path is
#   * the connection manager's lines on the AT port, plus
#   * the dialer's lines on the PPP port (everything it sends before CONNECT).
# The dialer's first exchange (`AT` / `OK`) is counted too. It stays: it is the
# only check of the PPP port itself, which the connection manager never
# talks to, and when pppd redials by itself (`persist`) it is the only sign
# that the port is back in command mode before `ATD`. Without it a dead port
# shows as a 30 s CONNECT timeout instead of a 10 s one.
#
# The property monitor (lib/vintage_net_cellular/monitor.ex) starts beside the
# AT port and sends its own commands on the same port at the same time:
# registration URCs and reads, identity, signal, then operator and cell reads.
# Nothing on the way to CONNECT waits for them, but they share the port's
# queue. The transcript alone can't say who sent a line: both send
# `AT+CREG=2`, for example, and they interleave. The monitor can't be turned
# off either. So each `VintageNetCellular.ATPort.command/3` call is tagged
# with the process that made it (an Erlang call trace for the length of the
# run): the connection manager's lines are the path. The lines that are
# counted still come from the transcript. Every tagged path command must
# appear in the transcript before CONNECT (checked), and what is left of the
# transcript before CONNECT is printed as the monitor's lines.
#
# Prints figures only; nothing here asserts a timing.

defmodule ConnectRoundTripsBench do
  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Interface
  alias VintageNetCellular.Test.Simulator
  alias VintageNetCellular.Test.World

  @ifname "ppp0"
  @apn "internet"
  @goal 5
  @seed_era 18
  # configure -> :internet and the dial on the PPP port, in ms, when Debian's
  # Debian's chat dialed (median of 3 runs on the 2-core VM of the README's
  # figures, before the project's own dialer replaced it).
  @chat_era %{ec25: {531, 126}, sim7600: {399, 124}}

  def run do
    Logger.configure(level: :warning)
    {:ok, _} = VintageNet.Double.start()

    unless Simulator.available?() do
      raise "this bench needs the simulator (mix compile)"
    end

    IO.puts("AT round trips from port open to CONNECT (already-provisioned modem, APN #{inspect(@apn)})")
    IO.puts("goal <= #{@goal} with SIM, PDP and registration checked; the seed-era SIM7672 library: #{@seed_era}")

    results = for model <- [:ec25, :sim7600], do: measure(model)

    IO.puts("\nsummary")

    Enum.each(results, fn {model, count, internet, dial_ms} ->
      {before_internet, before_dial} = Map.fetch!(@chat_era, model)

      IO.puts(
        "  #{String.pad_trailing(to_string(model), 8)} #{count} round trips " <>
          "(goal <= #{@goal}: #{if count <= @goal, do: "met", else: "not met"}; " <>
          "#{ratio(@seed_era, count)}x fewer than the seed-era #{@seed_era}); " <>
          "configure -> :internet #{internet} ms (with chat: #{before_internet} ms, ratio #{ratio2(internet, before_internet)}); " <>
          "dial #{dial_ms} ms (chat: #{before_dial} ms)"
      )
    end)
  end

  defp measure(model) do
    VintageNet.Double.reset()
    # The InternetChecker's first check passes at once, so :internet follows ip-up.
    VintageNet.Double.put_env(internet_check: :pass)
    world = World.start()
    world = World.add_modem(world, :modem, model: model, args: ["--provisioned", @apn])
    sim = World.sim(world, :modem)

    tracer = start_tracer()
    config = %{type: VintageNetCellular, vintage_net_cellular: %{service_providers: [%{apn: @apn}]}}
    started = System.monotonic_time(:millisecond)
    :ok = VintageNet.configure(@ifname, config)
    {:ok, _} = Simulator.await(sim, "connected", 30_000)
    elapsed = System.monotonic_time(:millisecond) - started
    :internet = VintageNet.Double.await(["interface", @ifname, "connection"], :internet)
    internet = System.monotonic_time(:millisecond) - started
    connection = Interface.whereis(@ifname, :connection)
    calls = stop_tracer(tracer)

    # The transcript up to CONNECT: the raw trace gives the order across the
    # two ports, World.received/3 the command lines.
    trace = Simulator.trace(sim)
    connect_at = Enum.find_index(trace, &(&1 =~ ~r/ ppp -> CONNECT/)) || length(trace)
    before = Enum.take(trace, connect_at)
    at_before = Enum.take(World.received(world, :modem, "at"), Enum.count(before, &(&1 =~ " at <- ")))
    ppp_before = Enum.take(World.received(world, :modem, "ppp"), Enum.count(before, &(&1 =~ " ppp <- ")))

    path_at = for {pid, cmd} <- calls, pid == connection, do: VintageNetCellular.redact(cmd)
    others = for {pid, cmd} <- calls, pid != connection, do: VintageNetCellular.redact(cmd)
    monitor_at = attribute(at_before, path_at, others)
    path = Enum.map(path_at, &{"at", &1}) ++ Enum.map(ppp_before, &{"ppp", &1})

    dial_ms = dial_span(before ++ Enum.take(Enum.drop(trace, connect_at), 1))

    IO.puts(
      "\n#{Simulator.model(sim)} (--model #{model}), CONNECT #{elapsed} ms after configure, " <>
        ":internet #{internet} ms; the dial on the PPP port (first byte in to CONNECT) #{dial_ms} ms"
    )

    IO.puts("  connection path: #{length(path)} round trips")

    path
    |> Enum.with_index(1)
    |> Enum.each(fn {{port, line}, i} -> IO.puts("    #{pad(i)} #{String.pad_trailing(port, 3)} #{line}") end)

    facts =
      for key <- ["sim", "iccid", "imsi", "apn"], do: "#{key}=#{VintageNet.get(["interface", @ifname, "mobile", key])}"

    IO.puts("  what the path found: #{Enum.join(facts, " ")}")

    IO.puts("  the property monitor, same AT port, before CONNECT (not on the path): #{length(monitor_at)} lines")
    Enum.each(monitor_at, &IO.puts("        at  #{&1}"))

    :ok = VintageNet.deconfigure(@ifname)
    VintageNet.Double.reset()
    Simulator.stop(sim)
    World.stop(world)
    {model, length(path), internet, dial_ms}
  end

  # From the first line the PPP port received to its CONNECT, by the
  # simulator's timestamps ("[ 0.006s] ...").
  defp dial_span(trace) do
    times =
      for line <- trace, line =~ ~r/ ppp (<-|-> CONNECT)/, [_, t] <- [Regex.run(~r/^\[\s*([\d.]+)s\]/, line)] do
        round(String.to_float(t) * 1000)
      end

    case times do
      [first | _] -> List.last(times) - first
      [] -> nil
    end
  end

  # Every command the connection manager sent must be in the transcript
  # before CONNECT; the rest of those lines must have been sent by someone
  # else (the monitor's task processes): they are returned.
  defp attribute(transcript, path, others) do
    rest = take_all!(transcript, path, "the connection manager sent")
    _ = take_all!(others, rest, "the transcript holds a line nobody sent:")
    rest
  end

  defp take_all!(from, lines, what) do
    Enum.reduce(lines, from, fn line, left ->
      if line in left,
        do: List.delete(left, line),
        else: raise("#{what} #{inspect(line)} (not matched before CONNECT)")
    end)
  end

  # Who calls ATPort.command/3, in call order.
  defp start_tracer do
    tracer = spawn(fn -> collect([]) end)
    # A pattern set on a module that isn't loaded yet matches nothing.
    {:module, ATPort} = Code.ensure_loaded(ATPort)
    1 = :erlang.trace_pattern({ATPort, :command, 3}, true, [:global])
    :erlang.trace(:all, true, [:call, {:tracer, tracer}])
    tracer
  end

  defp stop_tracer(tracer) do
    :erlang.trace(:all, false, [:call])
    :erlang.trace_pattern({ATPort, :command, 3}, false, [:global])
    send(tracer, {:done, self()})

    receive do
      {:calls, calls} -> calls
    after
      5_000 -> raise "the call tracer did not answer"
    end
  end

  defp collect(acc) do
    receive do
      {:trace, pid, :call, {ATPort, :command, [_server, cmd, _timeout]}} -> collect([{pid, cmd} | acc])
      {:done, from} -> drain(acc, from)
      _other -> collect(acc)
    end
  end

  # Trace messages sent before tracing stopped arrive before :done; take what
  # is left in the mailbox anyway.
  defp drain(acc, from) do
    receive do
      {:trace, pid, :call, {ATPort, :command, [_server, cmd, _timeout]}} -> drain([{pid, cmd} | acc], from)
    after
      0 -> send(from, {:calls, Enum.reverse(acc)})
    end
  end

  defp pad(i), do: String.pad_leading("#{i}.", 3)

  defp ratio(a, b) when b > 0, do: :erlang.float_to_binary(a / b, decimals: 1)
  defp ratio(_a, _b), do: "-"

  defp ratio2(a, b) when is_integer(a) and b > 0, do: :erlang.float_to_binary(a / b, decimals: 2)
  defp ratio2(_a, _b), do: "-"
end

ConnectRoundTripsBench.run()
