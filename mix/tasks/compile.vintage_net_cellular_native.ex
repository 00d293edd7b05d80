defmodule Mix.Tasks.Compile.VintageNetCellularNative do
  @shortdoc "Builds the Rust NIF and helper programs of vintage_net_cellular"
  @moduledoc """
  A small Mix compiler that runs `cargo build --release` on `native/` and
  copies the results into the application's `priv/native/` under `_build`:

  * `vintage_net_cellular_nif.so`: the NIF behind `VintageNetCellular.Native`;
  * `cellular_port`: the serial port program (one per tty), also pppd's
    ip-up/ip-down notifier and connect program (one program for the device);
  * `cellular_sim`: the modem simulator (host builds only, for tests and the demo).

  The NIF (and the simulator) are built with the `release` profile, which
  unwinds on panic (rustler catches panics only then); `cellular_port` with
  `release-program`, which aborts (see `native/Cargo.toml`): two cargo runs.

  Every output carries a build id: an MD5 over the Cargo workspace's sources.
  `VintageNetCellular.Native` embeds the same id when it is compiled and refuses
  a library with another one, so a stale `.so` never runs silently.

  Cargo is skipped when the id recorded in `priv/native/BUILD_ID` matches and all
  outputs are present. In a Nerves build the Rust triple and linker come from
  `VintageNetCellular.Build.NervesTarget`.

  Environment:
  * `CARGO`: the cargo executable (default `cargo`);
  * `CARGO_TARGET_DIR`: honoured; default `native/target`.
  """
  use Mix.Task.Compiler

  alias VintageNetCellular.Build.NervesTarget

  @nif_name "vintage_net_cellular_nif"
  @device_bins ["cellular_port"]
  @host_bins ["cellular_sim"]

  @impl Mix.Task.Compiler
  def run(_args) do
    native_dir = native_dir()
    priv_dir = Path.join(Mix.Project.app_path(), "priv/native")
    build_id = source_hash(native_dir)

    case NervesTarget.from_env(System.get_env()) do
      {:error, message} ->
        Mix.raise("vintage_net_cellular: #{message}")

      resolved ->
        target = with {:ok, target} <- resolved, do: target
        bins = if target == :host, do: @device_bins ++ @host_bins, else: @device_bins
        outputs = [@nif_name <> ".so" | bins]

        if up_to_date?(priv_dir, build_id, outputs) do
          {:noop, []}
        else
          build!(native_dir, priv_dir, target, build_id, bins)
          {:ok, []}
        end
    end
  end

  @impl Mix.Task.Compiler
  def clean do
    File.rm_rf!(Path.join(Mix.Project.app_path(), "priv/native"))
    :ok
  end

  @doc "The directory of the Cargo workspace."
  @spec native_dir() :: Path.t()
  def native_dir, do: Path.expand("../../native", __DIR__)

  @doc """
  The build id: an MD5 (hex) over every source file of the Cargo workspace.

  `VintageNetCellular.Native` computes it at compile time and the NIF embeds
  it, so the two can be compared when the library loads.
  """
  @spec source_hash(Path.t()) :: String.t()
  def source_hash(native_dir \\ native_dir()) do
    native_dir
    |> source_files()
    |> Enum.reduce(:erlang.md5_init(), fn path, acc ->
      acc
      |> :erlang.md5_update(Path.relative_to(path, native_dir))
      |> :erlang.md5_update(File.read!(path))
    end)
    |> :erlang.md5_final()
    |> Base.encode16(case: :lower)
  end

  @doc "The source files that make up the build id."
  @spec source_files(Path.t()) :: [Path.t()]
  def source_files(native_dir \\ native_dir()) do
    [
      Path.wildcard(Path.join(native_dir, "Cargo.{toml,lock}")),
      Path.wildcard(Path.join(native_dir, "crates/*/Cargo.toml")),
      Path.wildcard(Path.join(native_dir, "crates/*/{src,benches}/**/*.rs")),
      Path.wildcard(Path.join(native_dir, "crates/*/build.rs"))
    ]
    |> List.flatten()
    |> Enum.sort()
  end

  defp up_to_date?(priv_dir, build_id, outputs) do
    File.read(Path.join(priv_dir, "BUILD_ID")) == {:ok, build_id} and
      Enum.all?(outputs, &File.exists?(Path.join(priv_dir, &1)))
  end

  defp build!(native_dir, priv_dir, target, build_id, bins) do
    cargo = System.get_env("CARGO", "cargo")

    unless System.find_executable(cargo) do
      Mix.raise("""
      vintage_net_cellular needs cargo to build its native code, and #{inspect(cargo)} was not found.
      Install Rust (https://rustup.rs) or set CARGO to the cargo executable.
      """)
    end

    target_dir = System.get_env("CARGO_TARGET_DIR") || Path.join(native_dir, "target")

    {triple_args, triple_dir, extra_env} =
      case target do
        :host ->
          {[], target_dir, []}

        %{triple: triple, env: env} ->
          check_rust_target!(triple)
          {["--target", triple], Path.join(target_dir, triple), env}
      end

    env = [
      {"VINTAGE_NET_CELLULAR_BUILD_ID", build_id},
      {"CARGO_TARGET_DIR", target_dir} | extra_env
    ]

    {device, host} = Enum.split_with(bins, &(&1 in @device_bins))
    cargo!(cargo, native_dir, "release", ["cellular_nif" | host], triple_args, env)
    if device != [], do: cargo!(cargo, native_dir, "release-program", device, triple_args, env)

    File.mkdir_p!(priv_dir)
    File.rm(Path.join(priv_dir, "BUILD_ID"))
    install!(Path.join([triple_dir, "release", "libcellular_nif.so"]), Path.join(priv_dir, @nif_name <> ".so"))
    Enum.each(host, &install!(Path.join([triple_dir, "release", &1]), Path.join(priv_dir, &1)))
    Enum.each(device, &install!(Path.join([triple_dir, "release-program", &1]), Path.join(priv_dir, &1)))
    File.write!(Path.join(priv_dir, "BUILD_ID"), build_id)
  end

  defp cargo!(cargo, native_dir, profile, packages, triple_args, env) do
    args =
      ["build", "--profile", profile, "--manifest-path", Path.join(native_dir, "Cargo.toml")] ++
        Enum.flat_map(packages, &["-p", &1]) ++ triple_args

    Mix.shell().info("==> vintage_net_cellular: cargo #{Enum.join(args, " ")}")

    case System.cmd(cargo, args, env: env, into: IO.stream(:stdio, :line), stderr_to_stdout: true) do
      {_, 0} ->
        :ok

      {_, status} ->
        Mix.raise("vintage_net_cellular: cargo build failed (exit #{status}); see the output above")
    end
  end

  # A running VM keeps the old .so mapped: remove it rather than overwrite it in place.
  defp install!(from, to) do
    File.rm(to)
    File.cp!(from, to)
  end

  defp check_rust_target!(triple) do
    with rustup when is_binary(rustup) <- System.find_executable("rustup"),
         {installed, 0} <-
           System.cmd(rustup, ["target", "list", "--installed"], stderr_to_stdout: true),
         false <- triple in String.split(installed) do
      Mix.raise("""
      vintage_net_cellular: the Rust standard library for #{triple} is not installed.
      Install it with:

          rustup target add #{triple}
      """)
    else
      _ -> :ok
    end
  end
end
