# USB tty discovery: scan time of a generated 200-device sysfs tree, through
# the NIF (VintageNetCellular.Discovery.scan/1), and the same tree scanned by
# the Rust core alone (cargo example `discovery_bench`).
#
#     mix run bench/discovery_bench.exs [runs]
#
# Prints figures only (goal: median <= 5 ms); nothing here asserts a timing.
# The tree is built in /dev/shm when it exists (sysfs lives in memory too),
# else in the system temp dir; the directory used is printed.

defmodule DiscoveryBench do
  alias VintageNetCellular.Discovery
  alias VintageNetCellular.Native
  alias VintageNetCellular.SysfsFixture, as: F

  @modems [:ec25, :sim7600, :sim7080_secondary, :lara_r2, :e3372, :bg96, :a7600, :le910, :eg95, :lara_r6]
  @adapters [:ftdi, :cp210x, :ch340, :pl2303]

  def run(runs) do
    dir = tree_dir()
    {items, counts} = items()
    F.build!(dir, items)

    devices = Discovery.scan(dir)
    modems = Discovery.modems(devices)

    IO.puts(
      "discovery bench: #{counts.modems + counts.adapters} USB devices (#{counts.modems} modems, #{counts.adapters} adapters) behind 20 hubs on 4 buses"
    )

    IO.puts("  tree: #{dir}")
    IO.puts("  scan reports #{length(devices)} devices, #{length(modems)} with a modem profile")

    overrides = VintageNetCellular.ModemProfile.role_overrides()
    report("NIF discovery_scan/2", runs, fn -> Native.discovery_scan(dir, overrides) end)
    report("Discovery.scan/1 (NIF + profiles)", runs, fn -> Discovery.scan(dir) end)
    report("Discovery.usb_system/1", runs, fn -> Discovery.usb_system(dir) end)
    rust(dir)
    File.rm_rf!(dir)
  end

  defp tree_dir() do
    base = if File.dir?("/dev/shm"), do: "/dev/shm", else: System.tmp_dir!()
    Path.join(base, "vnc-discovery-bench-#{System.unique_integer([:positive])}")
  end

  # 4 buses x 5 hubs x 10 ports: 3 modems for every 2 USB-serial adapters,
  # ttys numbered in enumeration order as the kernel would.
  defp items() do
    {devices, {_usb, _acm, counts}} =
      for bus <- 1..4, hub <- 1..5, port <- 1..10, reduce: {[], {0, 0, %{modems: 0, adapters: 0}}} do
        {acc, {usb, acm, counts}} ->
          n = length(acc)
          path = "#{bus}-#{hub}.#{port}"

          if rem(n, 5) in [1, 3] do
            kind = Enum.at(@adapters, rem(n, length(@adapters)))
            dev = F.usb_serial_adapter(kind, usb_path: path, tty: "ttyUSB#{usb}")
            {[dev | acc], {usb + 1, acm, %{counts | adapters: counts.adapters + 1}}}
          else
            model = Enum.at(@modems, rem(div(n, 5) * 3 + rem(n, 5), length(@modems)))
            base = if model == :lara_r2, do: acm, else: usb
            dev = F.modem(model, usb_path: path, tty_base: base)
            used = map_size(F.ttys(dev))
            {usb, acm} = if model == :lara_r2, do: {usb, acm + used}, else: {usb + used, acm}
            {[dev | acc], {usb, acm, %{counts | modems: counts.modems + 1}}}
          end
      end

    hosts = for bus <- 1..4, do: F.host_controller(bus: bus, driver: "xhci-hcd")
    {hosts ++ Enum.reverse(devices), counts}
  end

  defp report(label, runs, fun) do
    for _ <- 1..5, do: fun.()

    times =
      for _ <- 1..runs do
        {us, _} = :timer.tc(fun)
        us
      end
      |> Enum.sort()

    IO.puts(
      "  #{String.pad_trailing(label, 36)} #{runs} runs: median #{ms(percentile(times, 0.5))} ms, " <>
        "p99 #{ms(percentile(times, 0.99))} ms, min #{ms(hd(times))} ms (goal <= 5 ms)"
    )
  end

  defp rust(dir) do
    native = Path.expand("../native", __DIR__)

    case System.find_executable("cargo") do
      nil ->
        IO.puts("  rust: cargo not found, skipped")

      cargo ->
        args = ["run", "--release", "-q", "-p", "cellular_core", "--example", "discovery_bench", "--", dir]

        case System.cmd(cargo, args, cd: native, stderr_to_stdout: true) do
          {out, 0} -> out |> String.split("\n", trim: true) |> Enum.each(&IO.puts("  " <> &1))
          {out, status} -> IO.puts("  rust: cargo exited #{status}: #{String.slice(out, -300, 300)}")
        end
    end
  end

  defp percentile(sorted, p), do: Enum.at(sorted, min(round((length(sorted) - 1) * p), length(sorted) - 1))
  defp ms(us), do: :erlang.float_to_binary(us / 1000, decimals: 3)
end

runs =
  case System.argv() do
    [n] -> String.to_integer(n)
    _ -> 200
  end

DiscoveryBench.run(runs)
