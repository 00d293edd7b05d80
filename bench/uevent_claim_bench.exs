# How soon a modem plugged in after configure is claimed (issue 11, point 6):
# from the moment it is in sysfs and the kernel's uevent is sent until the
# interface leaves :searching_modem. Goal: <= 100 ms (median), against the
# sysfs poll every scan_interval (2 s by default).
#
#     MIX_ENV=test mix run bench/uevent_claim_bench.exs [runs] [poll_runs]
#
# What runs: the whole technology on the VintageNet double, as in
# test/vintage_net_cellular/uevents_test.exs: a fixture sysfs, a simulated
# EC25, the connection manager, `VintageNetCellular.Uevents` and its
# `cellular_port uevents` program. Each run starts a world with no modem,
# configures ppp0, waits until the manager has looked once and found
# nothing, plugs the modem in (fixture sysfs and dev links), then:
#
# * kernel: root writes "change" to /sys/class/net/lo/uevent, so the real
#   kernel sends a uevent: netlink, the program, its frame, the burst window,
#   the manager's scan and claim are all on the path (scan_interval 60 s, so
#   only the uevent can find the modem). Only as root.
# * inject: the same, the event handed to `Uevents.inject/2` instead (a burst
#   of 8 events, as a USB modem brings), for systems where the kernel path
#   can't be taken.
# * poll: no event, scan_interval 2 s (the default), the modem plugged in at
#   a random moment of the interval, as a person would.
#
# Prints figures only; nothing here asserts a timing.

defmodule UeventClaimBench do
  alias VintageNetCellular.Test.Simulator
  alias VintageNetCellular.Test.World
  alias VintageNetCellular.Uevents

  @ifname "ppp0"
  @goal_ms 100
  @poll_interval 2_000
  @lo "/sys/class/net/lo/uevent"

  def run(runs, poll_runs) do
    Logger.configure(level: :warning)
    {:ok, _} = VintageNet.Double.start()

    unless Simulator.available?() and System.find_executable("chat") do
      raise "this bench needs the simulator (mix compile) and chat (apt-get install ppp)"
    end

    IO.puts("modem plugged in after configure -> claimed (leaves :searching_modem); goal <= #{@goal_ms} ms")
    IO.puts("listener: #{inspect(Uevents.status())}")

    kernel? = kernel_possible?()

    modes = if(kernel?, do: [{:kernel, runs}], else: []) ++ [{:inject, runs}, {:poll, poll_runs}]

    unless kernel?, do: IO.puts("kernel path skipped: #{kernel_skip_reason()}")

    results =
      for {mode, n} <- modes, into: %{} do
        times = for _ <- 1..n, do: claim(mode)
        {mode, Enum.sort(times)}
      end

    IO.puts("")
    poll_median = median(results.poll)

    for {mode, _n} <- modes do
      times = results[mode]
      m = median(times)

      goal =
        cond do
          mode == :poll -> "scan_interval #{@poll_interval} ms"
          m <= @goal_ms * 1000 -> "goal <= #{@goal_ms} ms: met"
          true -> "goal <= #{@goal_ms} ms: NOT met"
        end

      vs =
        if mode == :poll,
          do: "",
          else:
            "; #{ratio(poll_median, m)}x sooner than the poll path's median, #{ratio(@poll_interval * 1000, m)}x its worst case"

      IO.puts(
        "  #{String.pad_trailing(to_string(mode), 7)} #{length(times)} runs: median #{ms(m)} ms, " <>
          "min #{ms(hd(times))}, max #{ms(List.last(times))} (#{goal}#{vs})"
      )
    end
  end

  defp kernel_skip_reason do
    cond do
      not File.exists?(@lo) -> "no #{@lo}"
      Uevents.status().state != :listening -> "the listener is #{inspect(Uevents.status().state)}"
      true -> "#{@lo} is not writable (not root?)"
    end
  end

  defp kernel_possible? do
    Uevents.status().state == :listening and match?(:ok, File.write(@lo, "change"))
  end

  defp claim(mode) do
    VintageNet.Double.reset()
    interval = if mode == :poll, do: @poll_interval, else: 60_000
    world = World.start(env: [scan_interval: interval])

    config = %{type: VintageNetCellular, vintage_net_cellular: %{service_providers: [%{apn: "internet"}]}}
    :ok = VintageNet.configure(@ifname, config)
    VintageNet.Double.await(mobile("state"), :searching_modem, 5_000)
    VintageNet.Double.await(mobile("reason"), &(is_binary(&1) and &1 =~ "no cellular modem"), 5_000)
    if mode == :poll, do: Process.sleep(:rand.uniform(@poll_interval))

    world = World.add_modem(world, :m1)
    started = System.monotonic_time(:microsecond)

    case mode do
      :kernel ->
        :ok = File.write(@lo, "change")

      :inject ->
        for n <- 0..7 do
          Uevents.inject(%{action: "add", subsystem: "usb", devpath: "/devices/usb1/1-1/1-1.2/1-1.2:1.#{n}"})
        end

      :poll ->
        :ok
    end

    VintageNet.Double.await(mobile("state"), &(&1 not in [nil, :searching_modem]), 10_000)
    elapsed = System.monotonic_time(:microsecond) - started

    :ok = VintageNet.deconfigure(@ifname)
    VintageNet.Double.reset()
    Simulator.stop(World.sim(world, :m1))
    World.stop(world)
    elapsed
  end

  defp mobile(key), do: ["interface", @ifname, "mobile", key]

  defp median(sorted), do: Enum.at(sorted, div(length(sorted), 2))
  defp ms(us), do: :erlang.float_to_binary(us / 1000, decimals: 1)
  defp ratio(a, b) when b > 0, do: :erlang.float_to_binary(a / b, decimals: 0)
  defp ratio(_a, _b), do: "-"
end

{runs, poll_runs} =
  case System.argv() do
    [n, p] -> {String.to_integer(n), String.to_integer(p)}
    [n] -> {String.to_integer(n), 5}
    _ -> {20, 5}
  end

UeventClaimBench.run(runs, poll_runs)
