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
      deps: [],
      description: "VintageNet technology for USB cellular modems over PPP, with a Rust core",
      package: package(),
      docs: [main: "readme", extras: ["README.md", "CHANGELOG.md"], source_url: @source_url],
      test_coverage: [ignore_modules: [~r/^VintageNet\./, PropertyTable, MuonTrap.Daemon]]
    ]
  end

  def application do
    [
      extra_applications: [:logger],
      mod: {VintageNetCellular.Application, []}
    ]
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
