defmodule VintageNetCellular.Build.NervesTarget do
  @moduledoc """
  Picks the Rust target triple and linker for a Nerves build.

  Nerves exports its toolchain through environment variables when it
  compiles a project for a device: `NERVES_SDK_SYSROOT`, `CC`,
  `TARGET_ARCH`, `TARGET_CPU`, `TARGET_OS` and `TARGET_ABI`. When
  `NERVES_SDK_SYSROOT` is absent, the build is for the host.

  | TARGET_ARCH | TARGET_CPU          | TARGET_ABI   | Rust triple                      |
  |-------------|---------------------|--------------|----------------------------------|
  | aarch64     | any                 | gnu          | aarch64-unknown-linux-gnu        |
  | aarch64     | any                 | musl         | aarch64-unknown-linux-musl       |
  | arm         | arm11* (rpi0, rpi1) | gnueabihf    | arm-unknown-linux-gnueabihf      |
  | arm         | arm11*              | musleabihf   | arm-unknown-linux-musleabihf     |
  | arm         | arm926ej_s          | gnueabi      | armv5te-unknown-linux-gnueabi    |
  | arm         | other (cortex_a*)   | gnueabihf    | armv7-unknown-linux-gnueabihf    |
  | arm         | other (cortex_a*)   | musleabihf   | armv7-unknown-linux-musleabihf   |
  | x86_64      | any                 | gnu          | x86_64-unknown-linux-gnu         |
  | x86_64      | any                 | musl         | x86_64-unknown-linux-musl        |
  | riscv64     | any                 | gnu          | riscv64gc-unknown-linux-gnu      |

  ARMv6 CPUs (the `arm11` family: `arm1176jzf_s` on the Raspberry Pi Zero
  and 1) never go to an `armv7` triple: that code would die with SIGILL.

  The linker is the Nerves `CC`, passed to cargo as
  `CARGO_TARGET_<TRIPLE>_LINKER`. `RUSTFLAGS` and any linker the user has
  already set for that triple are left alone. `VINTAGE_NET_CELLULAR_TARGET`
  overrides the triple for an unusual toolchain.

      iex> env = %{"NERVES_SDK_SYSROOT" => "/sdk", "CC" => "/sdk/bin/aarch64-nerves-linux-gnu-gcc",
      ...>         "TARGET_ARCH" => "aarch64", "TARGET_CPU" => "cortex_a53", "TARGET_OS" => "linux",
      ...>         "TARGET_ABI" => "gnu"}
      iex> {:ok, target} = VintageNetCellular.Build.NervesTarget.from_env(env)
      iex> target.triple
      "aarch64-unknown-linux-gnu"
      iex> target.env
      [{"CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER", "/sdk/bin/aarch64-nerves-linux-gnu-gcc"}]

      iex> VintageNetCellular.Build.NervesTarget.from_env(%{"PATH" => "/usr/bin"})
      :host
  """

  @typedoc "A resolved cross-compilation target"
  @type t :: %{triple: String.t(), linker: String.t() | nil, env: [{String.t(), String.t()}]}

  @override_var "VINTAGE_NET_CELLULAR_TARGET"

  @doc """
  Resolves the target from an environment map (`System.get_env/0`).

  Returns `:host` outside a Nerves build, `{:ok, target}` for a known
  target, or `{:error, message}` naming the variable that can't be mapped.
  """
  @spec from_env(%{optional(String.t()) => String.t()}) ::
          :host | {:ok, t()} | {:error, String.t()}
  def from_env(env) when is_map(env) do
    cond do
      present?(env[@override_var]) -> {:ok, with_linker(env[@override_var], env)}
      present?(env["NERVES_SDK_SYSROOT"]) -> nerves_target(env)
      true -> :host
    end
  end

  @doc """
  Maps TARGET_ARCH, TARGET_CPU and TARGET_ABI to a Rust triple.

      iex> VintageNetCellular.Build.NervesTarget.triple("arm", "arm1176jzf_s", "gnueabihf")
      {:ok, "arm-unknown-linux-gnueabihf"}
      iex> VintageNetCellular.Build.NervesTarget.triple("arm", "cortex_a7", "gnueabihf")
      {:ok, "armv7-unknown-linux-gnueabihf"}
  """
  @spec triple(String.t() | nil, String.t() | nil, String.t() | nil) ::
          {:ok, String.t()} | {:error, String.t()}
  def triple("aarch64", _cpu, "gnu"), do: {:ok, "aarch64-unknown-linux-gnu"}
  def triple("aarch64", _cpu, "musl"), do: {:ok, "aarch64-unknown-linux-musl"}
  def triple("x86_64", _cpu, "gnu"), do: {:ok, "x86_64-unknown-linux-gnu"}
  def triple("x86_64", _cpu, "musl"), do: {:ok, "x86_64-unknown-linux-musl"}
  def triple("riscv64", _cpu, "gnu"), do: {:ok, "riscv64gc-unknown-linux-gnu"}
  def triple("arm", "arm926ej_s", "gnueabi"), do: {:ok, "armv5te-unknown-linux-gnueabi"}

  def triple("arm", cpu, abi) when abi in ["gnueabihf", "musleabihf"] and is_binary(cpu) do
    prefix = if armv6?(cpu), do: "arm", else: "armv7"
    {:ok, "#{prefix}-unknown-linux-#{abi}"}
  end

  def triple("arm", nil, _abi),
    do: {:error, "TARGET_CPU is not set, so ARMv6 and ARMv7 can't be told apart"}

  def triple(arch, cpu, abi) do
    {:error,
     "no Rust target for TARGET_ARCH=#{inspect(arch)} TARGET_CPU=#{inspect(cpu)} " <>
       "TARGET_ABI=#{inspect(abi)}; set #{@override_var} to a Rust target triple"}
  end

  @doc """
  The environment variable cargo reads for a triple's linker.

      iex> VintageNetCellular.Build.NervesTarget.linker_var("armv7-unknown-linux-gnueabihf")
      "CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER"
  """
  @spec linker_var(String.t()) :: String.t()
  def linker_var(triple) do
    "CARGO_TARGET_" <> (triple |> String.upcase() |> String.replace(["-", "."], "_")) <> "_LINKER"
  end

  defp nerves_target(env) do
    with {:ok, triple} <- triple(env["TARGET_ARCH"], env["TARGET_CPU"], env["TARGET_ABI"]) do
      {:ok, with_linker(triple, env)}
    end
  end

  defp with_linker(triple, env) do
    var = linker_var(triple)
    linker = env["CC"]

    cond do
      present?(env[var]) -> %{triple: triple, linker: env[var], env: []}
      present?(linker) -> %{triple: triple, linker: linker, env: [{var, linker}]}
      true -> %{triple: triple, linker: nil, env: []}
    end
  end

  # The ARM11 cores (ARMv6): arm1136j_s, arm1136jf_s, arm1176jz_s, arm1176jzf_s, arm11mpcore.
  defp armv6?(cpu), do: String.starts_with?(cpu, "arm11")

  defp present?(value), do: is_binary(value) and value != ""
end
