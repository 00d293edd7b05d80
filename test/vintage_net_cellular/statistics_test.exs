defmodule VintageNetCellular.StatisticsTest do
  # The statistics poller on a fixture sysfs, through the VintageNet double's
  # real PropertyTable.
  use ExUnit.Case, async: false

  alias VintageNetCellular.Statistics

  doctest Statistics

  @ifname "ppp0"
  @name ["interface", @ifname, "mobile", "statistics"]

  setup do
    VintageNet.Double.reset()
    root = Path.join(System.tmp_dir!(), "vnc_stats_#{System.unique_integer([:positive])}")
    on_exit(fn -> File.rm_rf!(root) end)
    %{root: root}
  end

  defp dir(root, ifname \\ @ifname), do: Path.join([root, "class", "net", ifname, "statistics"])

  defp write_counters(root, counters, ifname \\ @ifname) do
    File.mkdir_p!(dir(root, ifname))
    for {file, value} <- counters, do: File.write!(Path.join(dir(root, ifname), file), "#{value}\n")
  end

  @all %{
    "rx_bytes" => 123_456,
    "tx_bytes" => 7890,
    "rx_packets" => 321,
    "tx_packets" => 98,
    "rx_errors" => 1,
    "tx_errors" => 2,
    "rx_dropped" => 3,
    "tx_dropped" => 4
  }

  describe "read/2" do
    test "reads every counter, with vintage_net_qmi's key names", %{root: root} do
      write_counters(root, @all)

      assert Statistics.read(root, @ifname) == %{
               rx_bytes: 123_456,
               tx_bytes: 7890,
               rx_packets: 321,
               tx_packets: 98,
               rx_errors: 1,
               tx_errors: 2,
               rx_drops: 3,
               tx_drops: 4
             }
    end

    test "a missing or garbled file is nil; the others are read", %{root: root} do
      write_counters(root, Map.drop(@all, ["tx_packets", "rx_dropped"]))
      File.write!(Path.join(dir(root), "tx_errors"), "lots\n")

      stats = Statistics.read(root, @ifname)
      assert stats.rx_bytes == 123_456
      assert stats.tx_packets == nil
      assert stats.rx_drops == nil
      assert stats.tx_errors == nil
      assert stats.rx_packets == 321
    end

    test "no interface, or no counter at all: nil", %{root: root} do
      assert Statistics.read(root, @ifname) == nil
      File.mkdir_p!(dir(root))
      assert Statistics.read(root, @ifname) == nil
      # Another interface's counters are not this one's.
      write_counters(root, @all, "ppp1")
      assert Statistics.read(root, @ifname) == nil
    end
  end

  describe "the poller" do
    test "publishes at once, then every interval, with a monotonic timestamp", %{root: root} do
      write_counters(root, @all)
      :ok = VintageNet.subscribe(@name)
      start_supervised!({Statistics, ifname: @ifname, sysfs_root: root, interval: 50})

      assert_receive {VintageNet, @name, nil, first, _}, 1_000
      assert first.rx_bytes == 123_456 and first.tx_bytes == 7890
      assert first.rx_packets == 321 and first.tx_packets == 98
      assert is_integer(first.timestamp) and first.timestamp <= System.monotonic_time()

      write_counters(root, %{"rx_bytes" => 200_000, "tx_packets" => 120})
      assert_receive {VintageNet, @name, _, %{rx_bytes: 200_000} = later, _}, 1_000
      assert later.tx_packets == 120
      assert later.timestamp > first.timestamp
    end

    test "missing files never stop it: it publishes once they appear", %{root: root} do
      :ok = VintageNet.subscribe(@name)
      pid = start_supervised!({Statistics, ifname: @ifname, sysfs_root: root, interval: 30})

      refute_receive {VintageNet, @name, _, _, _}, 150
      assert Process.alive?(pid)
      assert VintageNet.get(@name) == nil

      write_counters(root, Map.take(@all, ["rx_bytes"]))
      assert_receive {VintageNet, @name, nil, %{rx_bytes: 123_456, tx_bytes: nil}, _}, 1_000
      assert Process.alive?(pid)
    end
  end
end
