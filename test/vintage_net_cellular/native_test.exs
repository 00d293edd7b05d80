defmodule VintageNetCellular.NativeTest do
  use ExUnit.Case, async: true
  doctest VintageNetCellular.Native

  alias VintageNetCellular.Native

  test "the library carries the build id of these sources" do
    assert Native.build_id() == Native.expected_build_id()
  end

  test "the stub list matches the #[rustler::nif] functions in the shim" do
    rust_nifs =
      Path.wildcard("native/crates/cellular_nif/src/*.rs")
      |> Enum.flat_map(fn file ->
        Regex.scan(~r/#\[rustler::nif[^\]]*\]\s*(?:pub\s+)?fn\s+(\w+)/, File.read!(file),
          capture: :all_but_first
        )
      end)
      |> Enum.map(fn [name] -> String.to_atom(name) end)
      |> Enum.sort()

    assert rust_nifs == Native.nifs() |> Enum.map(&elem(&1, 0)) |> Enum.sort()
  end
end
