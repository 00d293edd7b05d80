# Soak (issue 10, part 6): connect/drop cycles on a simulated EC25 through the
# VintageNet double, as in the end-to-end tests (real port program, connection
# manager, the dialer and the notifier (both cellular_port); test/support/fake_pppd
# for pppd).
#
# Cycles rotate through three drops, each followed by a wait for :connected:
#
# * hangup: the network drops the call (NO CARRIER); pppd (persist) redials;
# * replug: the modem is unplugged and plugged back under other tty numbers;
# * reconfigure: `VintageNet.deconfigure/1`, then `configure/2` again.
#
# After each cycle, once connected, it prints the counts and their change
# since the baseline (connected before cycle 1):
#
# * os: live OS processes descended from the VM (zombies not counted);
# * fds: open fds of the VM (/proc/self/fd);
# * ptys: fds on /dev/pts/* or /dev/ptmx held by the VM and its descendants;
# * procs: `:erlang.system_info(:process_count)`;
# * mem: `:erlang.memory(:total)` and the VM's RSS (VmRSS).
#
# At the end, after a full garbage collection, the leak per cycle
# ((last - baseline) / cycles) of each.
#
#     MIX_ENV=test mix run bench/soak_bench.exs        # 1,000 cycles
#     SOAK_CYCLES=100 MIX_ENV=test mix run bench/soak_bench.exs
#
# Prints figures only; nothing here asserts.

defmodule SoakBench do
  alias VintageNetCellular.Test.Simulator
  alias VintageNetCellular.Test.World

  @ifname "ppp0"
  @state ["interface", "ppp0", "mobile", "state"]

  def run(cycles) do
    Logger.configure(level: :error)
    {:ok, _} = VintageNet.Double.start()
    VintageNet.Double.reset()
    world = World.start()
    world = World.add_modem(world, :m1)
    :ok = VintageNet.configure(@ifname, config(0))
    await_connected()
    VintageNet.subscribe(@state)
    settle()
    base = measure()

    IO.puts("Soak: #{cycles} connect/drop cycles (hangup, replug, reconfigure) on a simulated EC25")
    IO.puts("baseline: #{format(base)}; OS processes: #{Enum.join(base.names, " ")}")

    IO.puts(
      String.pad_trailing("cycle kind", 20) <>
        " ms      os  fds ptys procs    mem MB  rss MB | change since baseline"
    )

    {world, _} =
      Enum.reduce(1..cycles, {world, 0}, fn i, {world, failures} ->
        kind = Enum.at([:hangup, :replug, :reconfigure], rem(i - 1, 3))
        t0 = System.monotonic_time(:millisecond)

        {world, ok?} =
          try do
            {cycle(kind, world, i), true}
          rescue
            e ->
              IO.puts("cycle #{i} #{kind} failed: #{Exception.message(e)}; #{where_it_stands()}")
              {recover(world), false}
          end

        ms = System.monotonic_time(:millisecond) - t0
        now = measure()
        IO.puts(line(i, kind, ms, now, base))
        {world, if(ok?, do: failures, else: failures + 1)}
      end)
      |> then(fn {world, failures} ->
        IO.puts("failed cycles: #{failures}")
        {world, failures}
      end)

    settle()
    last = measure()
    IO.puts("end (settled, after a full GC): #{format(last)}; OS processes: #{Enum.join(last.names, " ")}")

    IO.puts(
      "leak per cycle: os #{per(last.os - base.os, cycles)}, fds #{per(last.fds - base.fds, cycles)}, " <>
        "ptys #{per(last.ptys - base.ptys, cycles)}, procs #{per(last.procs - base.procs, cycles)}, " <>
        "mem #{per_kb(last.mem - base.mem, cycles)} KB, rss #{per_kb(last.rss - base.rss, cycles)} KB"
    )

    IO.puts("processes that grew most (bytes, baseline -> end):")

    for {pid, before, now} <- grown(base.heaps), do: IO.puts("  #{describe(pid)}: #{before} -> #{now}")

    IO.puts(
      "memory change by kind (:erlang.memory): " <>
        Enum.map_join([:processes, :ets, :binary, :code, :atom], ", ", fn k ->
          "#{k} #{delta_mb(last.kinds[k] - base.kinds[k])} MB"
        end)
    )

    :ok = VintageNet.deconfigure(@ifname)
    Simulator.stop(World.sim(world, :m1))
    World.stop(world)
  end

  defp config(i) do
    base = %{type: VintageNetCellular, vintage_net_cellular: %{service_providers: [%{apn: "internet"}]}}
    if rem(i, 2) == 0, do: base, else: Map.put(base, :hostname, "soak#{i}")
  end

  defp cycle(:hangup, world, _i) do
    :ok = Simulator.control(World.sim(world, :m1), "hangup")
    await_left_connected()
    await_connected()
    world
  end

  defp cycle(:replug, world, i) do
    world = World.unplug(world, :m1)
    await_left_connected()
    trace("left connected")
    world = World.replug(world, :m1, if(rem(i, 2) == 0, do: 0, else: 6))
    trace("replugged")
    await_connected()
    world
  end

  defp cycle(:reconfigure, world, i) do
    :ok = VintageNet.deconfigure(@ifname)
    await_left_connected()
    :ok = VintageNet.configure(@ifname, config(i))
    await_connected()
    world
  end

  # What the manager says after a failed cycle: enough to start a diagnosis.
  defp where_it_stands do
    mobile = fn key -> inspect(VintageNet.get(["interface", @ifname, "mobile", key])) end

    "state #{mobile.("state")}, reason #{mobile.("reason")}, status #{inspect(VintageNetCellular.Connection.status(@ifname))}"
  end

  # A failed cycle must not fail the ones after it: wait a while longer for
  # the manager to come back by itself, and configure again if it doesn't.
  defp recover(world) do
    try do
      VintageNet.Double.await(@state, :connected, 60_000)
      IO.puts("  recovered by itself")
    rescue
      _ ->
        IO.puts("  no recovery within 60 s more; configuring again")
        VintageNet.deconfigure(@ifname)
        :ok = VintageNet.configure(@ifname, config(0))
        VintageNet.Double.await(@state, :connected, 30_000)
    end

    flush()
    world
  end

  defp trace(what) do
    if System.get_env("SOAK_TRACE"),
      do:
        IO.puts(
          "  #{System.monotonic_time(:millisecond)} #{what} #{inspect(VintageNet.get(["interface", "ppp0", "mobile", "reason"]))}"
        )
  end

  defp await_left_connected do
    receive do
      {VintageNet, @state, :connected, new, _} when new != :connected -> flush()
    after
      15_000 -> raise "still connected 15 s after the drop"
    end
  end

  defp await_connected do
    VintageNet.Double.await(@state, :connected, 30_000)
    flush()
  end

  defp flush do
    receive do
      {VintageNet, @state, _, _, _} -> flush()
    after
      0 -> :ok
    end
  end

  defp heaps do
    for pid <- Process.list(), {:memory, m} <- [Process.info(pid, :memory)], into: %{}, do: {pid, m}
  end

  defp grown(before) do
    heaps()
    |> Enum.map(fn {pid, now} -> {pid, Map.get(before, pid, 0), now} end)
    |> Enum.sort_by(fn {_, b, n} -> b - n end)
    |> Enum.take(5)
  end

  defp describe(pid) do
    case Process.info(pid, [:registered_name, :dictionary, :initial_call]) do
      nil ->
        inspect(pid)

      info ->
        name =
          case info[:registered_name] do
            [] -> info[:dictionary][:"$initial_call"] || info[:initial_call]
            name -> name
          end

        "#{inspect(pid)} #{inspect(name)}"
    end
  end

  # The dialer, ip-up and the like finish a moment after :connected.
  defp settle do
    Process.sleep(2_000)
    full_gc()
  end

  defp comm(pid) do
    case File.read("/proc/#{pid}/comm") do
      {:ok, name} -> String.trim(name)
      {:error, _} -> "?"
    end
  end

  defp full_gc, do: Enum.each(Process.list(), &:erlang.garbage_collect/1)

  defp measure do
    beam = System.pid() |> String.to_integer()
    family = descendants(beam)

    %{
      os: length(family),
      names: family |> Enum.map(&comm/1) |> Enum.sort(),
      fds: length(fds("self")),
      ptys: Enum.sum(for pid <- ["self" | Enum.map(family, &Integer.to_string/1)], do: ptys(pid)),
      procs: :erlang.system_info(:process_count),
      mem: :erlang.memory(:total),
      kinds: Map.new(:erlang.memory()),
      heaps: heaps(),
      rss: rss_bytes()
    }
  end

  # Live processes whose parent chain leads to `root`.
  defp descendants(root) do
    parents =
      for entry <- File.ls!("/proc"),
          match?({_, ""}, Integer.parse(entry)),
          {:ok, stat} <- [File.read("/proc/#{entry}/stat")],
          {pid, ppid, state} <- [parse_stat(stat)],
          state != "Z",
          do: {pid, ppid}

    children = Enum.group_by(parents, &elem(&1, 1), &elem(&1, 0))
    walk(Map.get(children, root, []), children, [])
  end

  defp walk([], _children, acc), do: acc

  defp walk([pid | rest], children, acc) do
    walk(Map.get(children, pid, []) ++ rest, children, [pid | acc])
  end

  # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
  defp parse_stat(stat) do
    with [pid_text, rest] <- String.split(stat, " (", parts: 2),
         [_comm, after_comm] <- split_last(rest, ") "),
         [state, ppid_text | _] <- String.split(after_comm, " "),
         {pid, ""} <- Integer.parse(pid_text),
         {ppid, ""} <- Integer.parse(ppid_text) do
      {pid, ppid, state}
    else
      _ -> {-1, -1, "Z"}
    end
  end

  defp split_last(text, sep) do
    case :binary.matches(text, sep) do
      [] ->
        [text]

      matches ->
        {pos, len} = List.last(matches)
        [binary_part(text, 0, pos), binary_part(text, pos + len, byte_size(text) - pos - len)]
    end
  end

  defp fds(pid) do
    case File.ls("/proc/#{pid}/fd") do
      {:ok, fds} -> fds
      {:error, _} -> []
    end
  end

  defp ptys(pid) do
    Enum.count(fds(pid), fn fd ->
      case File.read_link("/proc/#{pid}/fd/#{fd}") do
        {:ok, "/dev/pts/" <> _} -> true
        {:ok, "/dev/ptmx"} -> true
        _ -> false
      end
    end)
  end

  defp rss_bytes do
    with {:ok, status} <- File.read("/proc/self/status"),
         [_, kb] <- Regex.run(~r/VmRSS:\s+(\d+)\s+kB/, status) do
      String.to_integer(kb) * 1024
    else
      _ -> 0
    end
  end

  defp line(i, kind, ms, now, base) do
    String.pad_trailing("#{i} #{kind}", 20) <>
      " " <>
      String.pad_trailing("#{ms}", 6) <>
      " " <>
      format_counts(now) <>
      " | os #{delta(now.os - base.os)} fds #{delta(now.fds - base.fds)} ptys #{delta(now.ptys - base.ptys)} " <>
      "procs #{delta(now.procs - base.procs)} mem #{delta_mb(now.mem - base.mem)} rss #{delta_mb(now.rss - base.rss)}"
  end

  defp format(m),
    do: "os #{m.os}, fds #{m.fds}, ptys #{m.ptys}, procs #{m.procs}, mem #{mb(m.mem)} MB, rss #{mb(m.rss)} MB"

  defp format_counts(m) do
    Enum.map_join([m.os, m.fds, m.ptys, m.procs], " ", &String.pad_leading("#{&1}", 4)) <>
      " " <> String.pad_leading(mb(m.mem), 9) <> " " <> String.pad_leading(mb(m.rss), 7)
  end

  defp mb(bytes), do: :erlang.float_to_binary(bytes / 1_048_576, decimals: 2)
  defp delta(n) when n >= 0, do: "+#{n}"
  defp delta(n), do: "#{n}"
  defp delta_mb(b) when b >= 0, do: "+#{mb(b)}"
  defp delta_mb(b), do: "-#{mb(-b)}"
  defp per(n, cycles), do: :erlang.float_to_binary(n / cycles, decimals: 3)
  defp per_kb(bytes, cycles), do: :erlang.float_to_binary(bytes / 1024 / cycles, decimals: 1)
end

cycles =
  case Integer.parse(System.get_env("SOAK_CYCLES", "1000")) do
    {n, ""} when n > 0 -> n
    _ -> 1000
  end

SoakBench.run(cycles)
