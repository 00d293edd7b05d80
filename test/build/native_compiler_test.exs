defmodule Mix.Tasks.Compile.VintageNetCellularNativeTest do
  use ExUnit.Case, async: true

  alias Mix.Tasks.Compile.VintageNetCellularNative, as: Compiler

  @tag :tmp_dir
  test "the build id changes with any workspace source and ignores target/", %{tmp_dir: dir} do
    File.mkdir_p!(Path.join(dir, "crates/a/src"))
    File.mkdir_p!(Path.join(dir, "target/release"))
    File.write!(Path.join(dir, "Cargo.toml"), "[workspace]")
    File.write!(Path.join(dir, "crates/a/src/lib.rs"), "fn a() {}")
    id = Compiler.source_hash(dir)
    assert id =~ ~r/^[0-9a-f]{32}$/

    File.write!(Path.join(dir, "target/release/junk.rs"), "x")
    assert Compiler.source_hash(dir) == id

    File.write!(Path.join(dir, "crates/a/src/lib.rs"), "fn a() { }")
    refute Compiler.source_hash(dir) == id
  end

  test "the installed outputs carry the current build id" do
    priv = Path.join(:code.priv_dir(:vintage_net_cellular), "native")
    assert File.read!(Path.join(priv, "BUILD_ID")) == Compiler.source_hash()

    for bin <- ["vintage_net_cellular_nif.so", "cellular_port", "cellular_sim"] do
      assert File.exists?(Path.join(priv, bin)), "#{bin} missing from #{priv}"
    end
  end
end
