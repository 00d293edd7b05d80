defmodule VintageNetCellular.PinLedgerTest do
  # Not async: a doctest sets the app environment's :state_dir for a moment.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog

  alias VintageNetCellular.PinLedger

  doctest PinLedger

  test "without a state_dir, the ledger lives beside VintageNet's persistence directory" do
    old = Application.fetch_env(:vintage_net_cellular, :state_dir)
    Application.delete_env(:vintage_net_cellular, :state_dir)

    try do
      assert PinLedger.dir() == "/root/vintage_net_cellular/sim_pins"
    after
      with {:ok, dir} <- old, do: Application.put_env(:vintage_net_cellular, :state_dir, dir)
    end
  end

  @iccid "89014103211118510720"

  setup do
    dir = Path.join(System.tmp_dir!(), "pin-ledger-test-#{System.unique_integer([:positive])}")
    on_exit(fn -> File.rm_rf!(dir) end)
    %{dir: dir}
  end

  test "each outcome is kept per ICCID and PIN", %{dir: dir} do
    for outcome <- [:sent, :wrong, :accepted] do
      assert :ok = PinLedger.record({:iccid, @iccid}, "1111", outcome, dir)
      assert PinLedger.lookup({:iccid, @iccid}, "1111", dir) == outcome
    end

    assert PinLedger.lookup({:iccid, "89014103211118510721"}, "1111", dir) == nil
    assert PinLedger.lookup({:iccid, @iccid}, "11111", dir) == nil
  end

  test "a SIM known only by its modem is not kept on disk", %{dir: dir} do
    assert :ok = PinLedger.record({:modem, "1-1.2"}, "1111", :wrong, dir)
    assert PinLedger.lookup({:modem, "1-1.2"}, "1111", dir) == nil
    refute File.exists?(dir)
  end

  test "a torn or foreign entry counts as sent: the PIN may have reached the SIM", %{dir: dir} do
    :ok = PinLedger.record({:iccid, @iccid}, "1111", :wrong, dir)
    [file] = Path.wildcard(Path.join(dir, "*"))
    File.write!(file, "wro")
    assert PinLedger.lookup({:iccid, @iccid}, "1111", dir) == :sent
  end

  test "the newest 64 entries are kept", %{dir: dir} do
    for i <- 1..70 do
      :ok = PinLedger.record({:iccid, @iccid}, "#{1000 + i}", :wrong, dir)
    end

    assert length(File.ls!(dir)) == 64
    assert PinLedger.lookup({:iccid, @iccid}, "1070", dir) == :wrong
  end

  test "a directory that can't be written is an error, logged", %{dir: dir} do
    File.mkdir_p!(Path.dirname(dir))
    File.write!(dir, "a file where the directory should be")

    log =
      capture_log(fn ->
        assert {:error, _} = PinLedger.record({:iccid, @iccid}, "1111", :wrong, dir)
      end)

    assert log =~ "could not record a SIM PIN outcome"
    refute log =~ "1111"
  end
end
