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
        Regex.scan(~r/#\[rustler::nif[^\]]*\]\s*(?:pub\s+)?fn\s+(\w+)/, File.read!(file), capture: :all_but_first)
      end)
      |> Enum.map(fn [name] -> String.to_atom(name) end)
      |> Enum.sort()

    assert rust_nifs == Native.nifs() |> Enum.map(&elem(&1, 0)) |> Enum.sort()
  end
end

defmodule VintageNetCellular.NativeLoadTest do
  # Runs a separate VM: a library can be loaded only once per VM.
  use ExUnit.Case, async: true

  @moduletag :tmp_dir

  defp run_isolated(dir, expr) do
    app = Path.join(dir, "vintage_net_cellular")
    File.mkdir_p!(app)
    File.cp_r!(Path.join(Mix.Project.app_path(), "ebin"), Path.join(app, "ebin"))
    elixir = System.find_executable("elixir")
    System.cmd(elixir, ["-pa", Path.join(app, "ebin"), "-e", expr], stderr_to_stdout: true)
  end

  test "a missing library gives an error that says how to build it", %{tmp_dir: dir} do
    {out, status} = run_isolated(dir, "VintageNetCellular.Native.build_id()")
    assert status != 0
    assert out =~ "could not be loaded"
    assert out =~ "mix compile"
  end

  test "a library built from other sources is refused as stale", %{tmp_dir: dir} do
    real = Path.join(:code.priv_dir(:vintage_net_cellular), "native/vintage_net_cellular_nif")

    expr = """
    VintageNetCellular.Native.load(#{inspect(real)}, "0123456789abcdef0123456789abcdef")
    IO.puts("loaded?=\#{VintageNetCellular.Native.loaded?()}")
    VintageNetCellular.Native.build_id()
    """

    {out, status} = run_isolated(dir, expr)
    assert status != 0
    assert out =~ "loaded?=false"
    assert out =~ "stale"
    assert out =~ "mix compile"
  end
end
