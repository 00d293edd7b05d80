# The native build (a Mix compiler of our own, no Hex) lives in mix/ and is
# loaded here so that it also works when this library is a path or git
# dependency of a Nerves application.
for file <- [
      "mix/vintage_net_cellular/nerves_target.ex",
      "mix/tasks/compile.vintage_net_cellular_native.ex"
    ] do
  Code.require_file(file, __DIR__)
end

defmodule VintageNetCellular.MixProject do
  use Mix.Project

  @version "0.1.0"
  @source_url "https://github.com/nerves-networking/vintage_net_cellular"

  def project do
    [
      app: :vintage_net_cellular,
      version: @version,
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      compilers: [:vintage_net_cellular_native | Mix.compilers()],
      elixirc_paths: elixirc_paths(Mix.env()),
      deps: deps(),
      description: "VintageNet technology for USB cellular modems over PPP, with a Rust core",
      package: package(),
      docs: [main: "readme", extras: ["README.md", "CHANGELOG.md"], source_url: @source_url],
      test_coverage: [ignore_modules: [~r/^VintageNet\./, PropertyTable, MuonTrap.Daemon]]
    ]
  end

  def application do
    [
      extra_applications: [:logger, :crypto],
      mod: {VintageNetCellular.Application, []}
    ]
  end

  # vintage_net is a peer dependency. In a user's app, where this library is
  # someone's dependency (Mix.Project.get/0 then returns that parent project
  # while this project/0 runs), the relation is declared so that Mix compiles
  # vintage_net (and with it property_table and muontrap, its runtime
  # applications) first: @behaviour VintageNet.Technology is there and Elixir
  # doesn't warn about modules used without a dependency. The declaration is
  # the parent's own for :vintage_net (Hex, git or path alike, so it never
  # diverges from the user's choice), or "~> 0.13" when the parent doesn't
  # name it. In this repository itself (the root project) nothing is declared:
  # it builds and tests without Hex, against the double in test/support.
  defp deps do
    case Mix.Project.get() do
      nil -> []
      _parent -> [peer_dep(:vintage_net, "~> 0.13")]
    end
  end

  defp peer_dep(app, default_requirement) do
    parent_deps = Mix.Project.config() |> Keyword.get(:deps, [])

    case Enum.find(parent_deps, &(elem(&1, 0) == app)) do
      {^app, opts} when is_list(opts) -> {app, Keyword.delete(opts, :override)}
      {^app, requirement} when is_binary(requirement) -> {app, requirement}
      {^app, requirement, opts} -> {app, requirement, Keyword.delete(opts, :override)}
      nil -> {app, default_requirement}
    end
  end

  # test/support holds the faithful VintageNet double. It is compiled for dev
  # (the demo) and test, never for :prod, where the real vintage_net is present.
  defp elixirc_paths(:prod), do: ["lib"]
  defp elixirc_paths(_), do: ["lib", "test/support"]

  defp package do
    [
      files:
        ~w(lib mix native/Cargo.toml native/Cargo.lock native/crates mix.exs README.md CHANGELOG.md LICENSE NOTICE data),
      licenses: ["Apache-2.0"],
      links: %{"GitHub" => @source_url}
    ]
  end
end
