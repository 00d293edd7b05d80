defmodule VintageNetCellular.PropertyWriterTest do
  # Writes through the VintageNet double's PropertyTable, which dispatches an
  # event for `nil` put under a new name, as property_table 0.3 does.
  use ExUnit.Case, async: false

  alias VintageNetCellular.PropertyWriter

  @ifname "ppp7"

  setup do
    VintageNet.Double.reset()
    VintageNet.subscribe(["interface", @ifname, "mobile"])
    :ok
  end

  defp name(key), do: PropertyWriter.name(@ifname, key)

  test "the table itself sends nil -> nil for a new name (the behaviour the writer must avoid)" do
    PropertyTable.put(VintageNet, name("raw"), nil)
    assert_receive {VintageNet, ["interface", @ifname, "mobile", "raw"], nil, nil, _}
  end

  test "put/3 of nil under a name that never existed writes nothing and sends no event" do
    assert :ok = PropertyWriter.put(@ifname, "signal_rsrp", nil)
    refute_receive {VintageNet, _, _, _, _}, 100
    assert VintageNet.get_by_prefix(name("signal_rsrp")) == []
  end

  test "put_many/2 skips nil for new names and writes the rest" do
    assert :ok = PropertyWriter.put_many(@ifname, [{"signal_rsrq", nil}, {"signal_sinr", nil}, {"signal_dbm", -71}])
    assert_receive {VintageNet, ["interface", @ifname, "mobile", "signal_dbm"], nil, -71, _}
    refute_receive {VintageNet, _, _, _, _}, 100
    assert VintageNet.get_by_prefix(name("signal_rsrq")) == []
  end

  test "nil over an existing value is written: the fact became unknown" do
    PropertyWriter.put(@ifname, "lac", 0x1A2B)
    assert_receive {VintageNet, _, nil, 0x1A2B, _}
    PropertyWriter.put_many(@ifname, %{"lac" => nil})
    assert_receive {VintageNet, ["interface", @ifname, "mobile", "lac"], 0x1A2B, nil, _}
    # and then nil again is no change
    PropertyWriter.put(@ifname, "lac", nil)
    refute_receive {VintageNet, _, _, _, _}, 100
  end

  test "an unchanged value sends nothing; delete of an absent key sends nothing" do
    PropertyWriter.put(@ifname, "iccid", "89014103211118510720")
    assert_receive {VintageNet, _, nil, "89014103211118510720", _}
    PropertyWriter.put(@ifname, "iccid", "89014103211118510720")
    PropertyWriter.delete(@ifname, "imsi")
    refute_receive {VintageNet, _, _, _, _}, 100
  end
end
