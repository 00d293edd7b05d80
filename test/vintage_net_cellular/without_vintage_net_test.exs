defmodule VintageNetCellular.WithoutVintageNetTest do
  # The console helpers return errors, never raise, when VintageNet is not
  # running (e.g. typed at an iex prompt before it has started, or after it
  # crashed). The double is global, so this module stops it and starts it
  # again.
  use ExUnit.Case, async: false

  setup do
    VintageNet.Double.reset()
    :ok
  end

  defp without_vintage_net(fun) do
    :ok = VintageNet.Double.stop()

    try do
      fun.()
    after
      {:ok, _} = VintageNet.Double.start()
    end
  end

  test "at/1 and at/3 return {:error, :vintage_net_not_running}" do
    without_vintage_net(fn ->
      assert VintageNetCellular.at("AT+CSQ") == {:error, :vintage_net_not_running}
      assert VintageNetCellular.at("ppp1", "ATI", 1_000) == {:error, :vintage_net_not_running}
    end)
  end

  test "quick_configure/1 returns {:error, :vintage_net_not_running}" do
    without_vintage_net(fn ->
      assert VintageNetCellular.quick_configure("internet") == {:error, :vintage_net_not_running}
    end)
  end

  test "at/1 for an interface that was never configured is {:error, :unconfigured}" do
    assert VintageNetCellular.at("ppp9", "AT", 1_000) == {:error, :unconfigured}
  end
end
