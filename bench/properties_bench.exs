# Live properties: how fast a modem's URC becomes a property event, and how
# many AT commands the monitor sends while nothing happens.
#
#     MIX_ENV=test mix run bench/properties_bench.exs
#     MIX_ENV=test FULL_MINUTE=1 mix run bench/properties_bench.exs   # 60 s windows in real time
#
# Runs the simulated modem (cellular_sim), a real ATPort and the real monitor
# against the VintageNet double's PropertyTable. Prints figures only; nothing
# here asserts a timing.
#
# 1. Latency: `signal N` on the simulator's control channel makes the modem
#    push a `+QIND: "csq"` (Quectel, AT+QINDCFG) or `+CSQ` (SIMCom,
#    AT+AUTOCSQ) URC; the clock runs from writing that control line until the
#    `{VintageNet, [..., "signal_asu"], old, new, meta}` event arrives. It
#    includes the simulator, the pty, the port program, ATPort, parsing, the
#    monitor and the PropertyTable.
# 2. AT commands per minute, counted by the monitor itself
#    (`VintageNetCellular.Monitor.stats/1`: every command it hands to the
#    ATPort), in steady state (after the start-up reads), while idle and
#    while a data call is up on the second port (ATD*99# -> CONNECT). By
#    default the monitor's intervals (30 s signal, 60 s cell) are divided by
#    20 and counted over 5 minutes of the monitor's time (15 s), then averaged
#    per minute; FULL_MINUTE=1 uses the real intervals and a real 60 s window.

defmodule PropertiesBench do
  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Monitor
  alias VintageNetCellular.Test.Simulator

  @ifname "bench0"
  @samples 300

  def run do
    Logger.configure(level: :warning)
    {:ok, _} = VintageNet.Double.start()

    full? = System.get_env("FULL_MINUTE") in ["1", "true"]
    # {time scale, minutes of the monitor's time per window}
    {scale, minutes} = if full?, do: {1, 1}, else: {20, 5}

    IO.puts("URC -> property event latency (#{@samples} signal changes each)")
    latency("EC25, +QIND: \"csq\" URC", "ec25", VintageNetCellular.Modem.QuectelEC25)

    latency(
      "SIM7600, AT+AUTOCSQ +CSQ URC",
      "sim7600",
      VintageNetCellular.Modem.SIMCom7600
    )

    IO.puts("")

    IO.puts(
      "AT commands per minute of the monitor's time (steady state; " <>
        if(full?,
          do: "real intervals, 60 s windows)",
          else: "intervals scaled 1/20, averaged over 5 minutes of the monitor's time = 15 s windows)"
        )
    )

    for {label, model, profile} <- [
          {"EC25 (Quectel profile)", "ec25", VintageNetCellular.Modem.QuectelEC25},
          {"SIM7600 (SIMCom profile)", "sim7600", VintageNetCellular.Modem.SIMCom7600},
          {"EC25 as a plain 3GPP modem (no profile)", "ec25", nil}
        ] do
      commands_per_minute(label, model, profile, scale, minutes)
    end
  end

  defp start(model, profile, config) do
    VintageNet.Double.reset()
    {:ok, sim} = Simulator.start_link(["--model", model, "--seed", "11", "--provisioned", "internet"])
    :ok = Simulator.control(sim, "signal auto off")
    :ok = Simulator.control(sim, "signal 20")
    %{at: at, ppp: ppp} = Simulator.ports(sim)
    {:ok, port} = ATPort.start_link(tty: at)
    {:ok, monitor} = Monitor.start_link(ifname: @ifname, at_port: port, profile: profile, config: config)
    await(["interface", @ifname, "mobile", "network"], &is_binary/1)
    await(["interface", @ifname, "mobile", "signal_4bars"], &is_integer/1)
    %{sim: sim, port: port, monitor: monitor, ppp: ppp}
  end

  defp stop(%{sim: sim, port: port, monitor: monitor}) do
    Monitor.stop(monitor)
    GenServer.stop(port)
    Simulator.stop(sim)
  end

  defp latency(label, model, profile) do
    env = start(model, profile, signal_poll_ms: 3_600_000, cell_poll_ms: 3_600_000)
    name = ["interface", @ifname, "mobile", "signal_asu"]
    :ok = VintageNet.subscribe(name)
    # The bench also listens to the AT port, to split the total into
    # "modem to ATPort" and "ATPort to property event" (the monitor's part).
    :ok = ATPort.subscribe(env.port, "+QIND")
    :ok = ATPort.subscribe(env.port, "+CSQ")

    samples =
      for i <- 1..@samples do
        value = if rem(i, 2) == 0, do: 20, else: 21
        t0 = System.monotonic_time(:microsecond)
        :ok = Simulator.control(env.sim, "signal #{value}")
        {t_urc, t_prop} = await_both(name, value, nil, nil)
        {t_prop - t0, max(t_prop - t_urc, 0)}
      end

    VintageNet.unsubscribe(name)
    stop(env)

    {total, monitor} = Enum.unzip(samples)

    IO.puts(
      :io_lib.format("  ~-34s total:          p50 ~6.2f ms   p99 ~6.2f ms   max ~7.2f ms   (goal: p99 <= 10 ms)", [
        label | percentiles(total)
      ])
    )

    IO.puts(
      :io_lib.format("  ~-34s ATPort -> event: p50 ~6.2f ms   p99 ~6.2f ms   max ~7.2f ms", ["" | percentiles(monitor)])
    )
  end

  # Waits for the URC at the AT port and the property event, in either order.
  defp await_both(_name, _value, t_urc, t_prop) when t_urc != nil and t_prop != nil, do: {t_urc, t_prop}

  defp await_both(name, value, t_urc, t_prop) do
    receive do
      {ATPort, _port, {:urc, _line, _parsed}} ->
        await_both(name, value, t_urc || System.monotonic_time(:microsecond), t_prop)

      {VintageNet, ^name, _old, ^value, _meta} ->
        await_both(name, value, t_urc, System.monotonic_time(:microsecond))
    after
      2_000 -> raise "no URC or signal_asu event for #{value}"
    end
  end

  defp percentiles(samples) do
    sorted = Enum.sort(samples)
    n = length(sorted)
    at = fn q -> Enum.at(sorted, min(max(round(q * n) - 1, 0), n - 1)) / 1000 end
    [at.(0.50), at.(0.99), List.last(sorted) / 1000]
  end

  defp commands_per_minute(label, model, profile, scale, minutes) do
    config = [signal_poll_ms: div(30_000, scale), cell_poll_ms: div(60_000, scale)]
    env = start(model, profile, config)
    window = div(60_000 * minutes, scale)

    # Let the start-up reads (identity, setup, first operator read) finish.
    Process.sleep(div(config[:cell_poll_ms], 2))
    idle = count(env.monitor, window, minutes)

    {:ok, ppp} = ATPort.start_link(tty: env.ppp)
    {:ok, connect} = ATPort.command(ppp, "ATD*99#", 10_000)
    true = connect == :connect or match?({:connect, _rate}, connect)
    {:ok, _} = Simulator.await(env.sim, "connected")
    connected = count(env.monitor, window, minutes)
    GenServer.stop(ppp)
    stop(env)

    IO.puts("  #{label}")
    IO.puts("    idle:      #{format(idle)}")
    IO.puts("    connected: #{format(connected)}")
  end

  defp count(monitor, window, minutes) do
    before = Monitor.stats(monitor)
    Process.sleep(window)
    later = Monitor.stats(monitor)

    per_command =
      for {cmd, n} <- later.by_command, d = n - Map.get(before.by_command, cmd, 0), d > 0, into: %{}, do: {cmd, d}

    per_minute = fn n -> Float.round(n / minutes, 1) end
    per_command = Map.new(per_command, fn {c, n} -> {c, per_minute.(n)} end)
    {per_minute.(later.commands - before.commands), per_minute.(later.urcs - before.urcs), per_command}
  end

  defp format({total, urcs, per_command}) do
    detail = per_command |> Enum.sort() |> Enum.map_join(", ", fn {c, n} -> "#{c} #{n}" end)
    "#{total} commands/min (#{detail}); #{urcs} URCs/min handled"
  end

  defp await(name, ok?) do
    VintageNet.Double.await(name, ok?, 10_000)
  end
end

PropertiesBench.run()
