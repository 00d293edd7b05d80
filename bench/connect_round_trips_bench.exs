# AT lines the modem receives from port open to CONNECT, on an
# already-provisioned simulated modem: both ports, the connection manager's
# bring-up, the property monitor and the dialer included (issue 11, point 6:
# goal <= 8; 18 before that change, measured by the version of this script
# that attributed lines to their sender; the seed-era SIM7672 library also
# needed 18; vintage_net_mobile sends 7, with no SIM or registration check).
#
#     MIX_ENV=test mix run bench/connect_round_trips_bench.exs
#
# What runs: the whole technology, end to end, as in
# test/vintage_net_cellular/connection_e2e_test.exs. `VintageNet.configure("ppp0", ...)`
# on the VintageNet double, USB discovery on a fixture sysfs, the AT port
# program, the connection manager and its monitor, `test/support/fake_pppd`
# in pppd's place, and the dialer on the PPP port. The simulated modem
# (`cellular_sim --provisioned internet`) already holds context 1 as
# "IP","internet", the configured APN, so no PDP write or radio cycle is
# needed. Only the checks run.
#
# What is counted: every command line the modem received, from the
# simulator's transcript (`Simulator.trace/1` for the order across the two
# ports, `World.received/3` for the lines), until it answered CONNECT on the
# PPP port. A compound line (`AT+CPIN?;+CGDCONT?`) counts as one: it is
# written once and answered once. Each line is printed with its port, and
# the figure says whether a line was sent twice.
#
# Also timed: configure -> `:internet` (the InternetChecker's first check
# passes at once in the double, so `:internet` follows ip-up), and the dial on
# the PPP port, from its first byte in to CONNECT, by the simulator's
# timestamps; both against Debian's chat, which dialed before the project's
# own dialer (`cellular_port dial`) replaced it (recorded: median of 3 runs on
# the 2-core VM of the README's figures).
#
# One warm-up round, then ROUNDS (default 5) rounds per model, alternating;
# the figures are medians.
#
# Prints figures only; nothing here asserts a timing.

defmodule ConnectRoundTripsBench do
  alias VintageNetCellular.Test.Simulator
  alias VintageNetCellular.Test.World

  @ifname "ppp0"
  @apn "internet"
  @goal 8
  @before 18
  # configure -> :internet and the dial on the PPP port, in ms, with chat.
  @chat_era %{ec25: {531, 126}, sim7600: {399, 124}}

  def run do
    Logger.configure(level: :warning)
    {:ok, _} = VintageNet.Double.start()

    unless Simulator.available?() do
      raise "this bench needs the simulator (mix compile)"
    end

    IO.puts("AT lines the modem receives, port open to CONNECT (already-provisioned modem, APN #{inspect(@apn)})")
    IO.puts("both ports, monitor and dialer included; goal <= #{@goal}; before issue 11: #{@before}")

    # One round to warm up (code loading, the first program start), then
    # ROUNDS rounds per model, alternating; the listing is printed for the
    # first, the figures are medians.
    rounds = String.to_integer(System.get_env("ROUNDS", "5"))
    _warm_up = measure(:sim7600, false, 0)

    runs =
      for round <- 1..rounds, model <- [:ec25, :sim7600] do
        measure(model, round == 1, 0)
      end

    # The same with the modem on and registered before configure (it
    # registers 100 ms after power-on): what a reconfigure, or a modem that
    # came up before the interface, sees.
    registered =
      for _round <- 1..rounds, model <- [:ec25, :sim7600] do
        {model, _lines, internet, _dial} = measure(model, false, 300)
        {model, internet}
      end

    results =
      for model <- [:ec25, :sim7600] do
        mine = for {^model, _, _, _} = run <- runs, do: run

        {model, median(Enum.map(mine, &elem(&1, 1))), median(Enum.map(mine, &elem(&1, 2))),
         median(Enum.map(mine, &elem(&1, 3)))}
      end

    IO.puts("\nconfigure -> :internet per round (ms): " <> inspect(for {m, _, i, _} <- runs, do: {m, i}))
    IO.puts("  the same, modem registered before configure: " <> inspect(registered))

    IO.puts("\nsummary")

    Enum.each(results, fn {model, count, internet, dial_ms} ->
      {chat_internet, chat_dial} = Map.fetch!(@chat_era, model)

      IO.puts(
        "  #{String.pad_trailing(to_string(model), 8)} #{count} lines " <>
          "(goal <= #{@goal}: #{if count <= @goal, do: "met", else: "not met"}; " <>
          "#{ratio(@before, count)}x fewer than the #{@before} before); " <>
          "configure -> :internet #{internet} ms (goal <= 250; with chat #{chat_internet} ms, " <>
          "ratio #{ratio(internet, chat_internet)}); dial #{dial_ms} ms (chat #{chat_dial} ms); " <>
          "modem registered before configure: :internet " <>
          "#{median(for {^model, i} <- registered, do: i)} ms"
      )
    end)

    IO.puts(
      "  (of configure -> :internet, the simulated modem itself takes 150 ms between ATD and CONNECT, " <>
        "and registers 100 ms after power-on)"
    )
  end

  defp median(list) do
    sorted = Enum.sort(list)
    Enum.at(sorted, div(length(sorted), 2))
  end

  defp measure(model, print?, settle_ms) do
    VintageNet.Double.reset()
    # The InternetChecker's first check passes at once, so :internet follows ip-up.
    VintageNet.Double.put_env(internet_check: :pass)
    world = World.start()
    world = World.add_modem(world, :modem, model: model, args: ["--provisioned", @apn])
    sim = World.sim(world, :modem)

    config = %{type: VintageNetCellular, vintage_net_cellular: %{service_providers: [%{apn: @apn}]}}
    if settle_ms > 0, do: Process.sleep(settle_ms)
    started = System.monotonic_time(:millisecond)
    :ok = VintageNet.configure(@ifname, config)
    {:ok, _} = Simulator.await(sim, "connected", 30_000)
    elapsed = System.monotonic_time(:millisecond) - started
    :internet = VintageNet.Double.await(["interface", @ifname, "connection"], :internet)
    internet = System.monotonic_time(:millisecond) - started

    # The transcript up to CONNECT: the raw trace gives the order across the
    # two ports, World.received/3 the command lines, in order per port.
    trace = Simulator.trace(sim)
    connect_at = Enum.find_index(trace, &(&1 =~ ~r/ ppp -> CONNECT/)) || length(trace)
    before = Enum.take(trace, connect_at)
    at = World.received(world, :modem, "at")
    ppp = World.received(world, :modem, "ppp")
    lines = interleave(before, at, ppp)
    twice = lines |> Enum.frequencies() |> Enum.filter(fn {_, n} -> n > 1 end)

    dial_ms = dial_span(before ++ Enum.take(Enum.drop(trace, connect_at), 1))

    if print?, do: print(sim, model, elapsed, internet, dial_ms, lines, twice)

    :ok = VintageNet.deconfigure(@ifname)
    VintageNet.Double.reset()
    Simulator.stop(sim)
    World.stop(world)
    {model, length(lines), internet, dial_ms}
  end

  defp print(sim, model, elapsed, internet, dial_ms, lines, twice) do
    IO.puts(
      "\n#{Simulator.model(sim)} (--model #{model}), CONNECT #{elapsed} ms after configure, " <>
        ":internet #{internet} ms; the dial on the PPP port (first byte in to CONNECT) #{dial_ms} ms"
    )

    IO.puts("  #{length(lines)} lines; sent twice: #{if twice == [], do: "none", else: inspect(twice)}")

    lines
    |> Enum.with_index(1)
    |> Enum.each(fn {{port, line}, i} -> IO.puts("    #{pad(i)} #{String.pad_trailing(port, 3)} #{line}") end)

    facts =
      for key <- ["sim", "iccid", "imsi", "apn", "imei", "registration"],
          do: "#{key}=#{VintageNet.get(["interface", @ifname, "mobile", key])}"

    IO.puts("  what is known: #{Enum.join(facts, " ")}")
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

  # The trace's "<port> <- " entries give the order; the lines come from
  # the per-port transcripts, in their order.
  defp interleave(trace, at, ppp) do
    {lines, _, _} =
      Enum.reduce(trace, {[], at, ppp}, fn entry, {acc, at, ppp} ->
        cond do
          entry =~ " at <- " and at != [] -> {[{"at", VintageNetCellular.redact(hd(at))} | acc], tl(at), ppp}
          entry =~ " ppp <- " and ppp != [] -> {[{"ppp", hd(ppp)} | acc], at, tl(ppp)}
          true -> {acc, at, ppp}
        end
      end)

    Enum.reverse(lines)
  end

  defp pad(i), do: String.pad_leading("#{i}.", 3)

  defp ratio(a, b) when b > 0, do: :erlang.float_to_binary(a / b, decimals: 1)
  defp ratio(_a, _b), do: "-"
end

ConnectRoundTripsBench.run()
