defmodule VintageNetCellular.Build.HostAppTest do
  @moduledoc """
  This library as a dependency of a user's app, beside vintage_net.

  Hex can't be reached here, so the app's vintage_net, property_table and
  muontrap are path packages made from this project's VintageNet double
  (same module names, same application names and versions). The app is
  compiled from scratch in `:prod`, as a Nerves firmware build compiles
  dependencies. Mix must compile vintage_net before this library (so that
  `@behaviour VintageNet.Technology` is there), and this library's own
  compilation must print no warning, neither the first time nor on a forced
  recompile ("used but not depended on").
  """
  use ExUnit.Case, async: false

  @moduletag :tmp_dir
  @moduletag timeout: 300_000

  @root Path.expand("../..", __DIR__)
  @double Path.join(@root, "test/support")

  defp package(dir, app, version, files, deps) do
    File.mkdir_p!(Path.join(dir, "lib"))

    for file <- files, do: File.cp!(Path.join(@double, file), Path.join([dir, "lib", Path.basename(file)]))

    File.write!(Path.join(dir, "mix.exs"), """
    defmodule #{Macro.camelize(Atom.to_string(app))}.Fake.MixProject do
      use Mix.Project
      def project, do: [app: #{inspect(app)}, version: #{inspect(version)}, deps: #{inspect(deps)}, elixirc_options: [ignore_module_conflict: true]]
      def application, do: [extra_applications: [:logger]]
    end
    """)
  end

  defp mix!(dir, args) do
    env = [{"MIX_ENV", "prod"}, {"MIX_EXS", nil}, {"MIX_BUILD_PATH", nil}, {"MIX_DEPS_PATH", nil}]
    # `timeout`: Mix may wait on stdin (e.g. "Shall I install Hex?"); fail instead of hanging.
    System.cmd("timeout", ["240", System.find_executable("mix") | args], cd: dir, env: env, stderr_to_stdout: true)
  end

  # The output of one dependency's compilation: from its "==> app" line to the next "==> ".
  defp section(output, app) do
    output
    |> String.split(~r/^==> /m)
    |> Enum.filter(&String.starts_with?(&1, "#{app}\n"))
    |> Enum.join()
  end

  test "vintage_net is compiled first; the library compiles with no warning and has the behaviour", %{tmp_dir: tmp} do
    pt = Path.join(tmp, "property_table")
    mt = Path.join(tmp, "muontrap")
    vn = Path.join(tmp, "vintage_net")
    app = Path.join(tmp, "app")

    package(pt, :property_table, "0.3.1", ["vintage_net_double/property_table.ex"], [])
    package(mt, :muontrap, "1.6.1", ["vintage_net_double/muontrap_daemon.ex"], [])

    vn_files =
      ~w(vintage_net.ex technology.ex route_manager.ex name_resolver.ex internet_checker.ex interface.ex store.ex persistence.ex)
      |> Enum.map(&"vintage_net_double/#{&1}")

    package(vn, :vintage_net, "0.13.9", ["vintage_net_double.ex" | vn_files], [
      {:property_table, path: pt},
      {:muontrap, path: mt}
    ])

    package(app, :app, "0.1.0", [], [
      {:vintage_net, path: vn, override: true},
      {:property_table, path: pt, override: true},
      {:muontrap, path: mt, override: true},
      {:vintage_net_cellular, path: @root}
    ])

    {out, status} = mix!(app, ["compile"])
    assert status == 0, out

    order = Regex.scan(~r/^==> (\w+)$/m, out) |> Enum.map(fn [_, name] -> name end)
    mine = Enum.find_index(order, &(&1 == "vintage_net_cellular"))
    assert mine, out
    assert Enum.find_index(order, &(&1 == "vintage_net")) < mine, "vintage_net compiled after: #{inspect(order)}"

    ours = section(out, "vintage_net_cellular")
    refute ours =~ "warning", ours

    beam = Path.join(app, "_build/prod/lib/vintage_net_cellular/ebin/Elixir.VintageNetCellular.beam")
    {:ok, {_, [attributes: attributes]}} = :beam_lib.chunks(String.to_charlist(beam), [:attributes])
    behaviours = attributes |> Keyword.get_values(:behaviour) |> List.flatten()
    assert VintageNet.Technology in behaviours

    {out, status} = mix!(app, ["deps.compile", "vintage_net_cellular", "--force"])
    assert status == 0, out
    refute section(out, "vintage_net_cellular") =~ "warning", out
  end
end
