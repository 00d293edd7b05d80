defmodule VintageNetCellular.Build.NervesTargetTest do
  use ExUnit.Case, async: true

  alias VintageNetCellular.Build.NervesTarget

  defp nerves_env(arch, cpu, abi, extra \\ %{}) do
    Map.merge(
      %{
        "NERVES_SDK_SYSROOT" => "/nerves/sysroot",
        "CC" => "/nerves/bin/#{arch}-nerves-linux-#{abi}-gcc",
        "TARGET_ARCH" => arch,
        "TARGET_CPU" => cpu,
        "TARGET_OS" => "linux",
        "TARGET_ABI" => abi
      },
      extra
    )
  end

  # Real Nerves systems' TARGET_* values.
  @systems [
    {"rpi0 / rpi (ARMv6)", "arm", "arm1176jzf_s", "gnueabihf", "arm-unknown-linux-gnueabihf"},
    {"rpi2", "arm", "cortex_a7", "gnueabihf", "armv7-unknown-linux-gnueabihf"},
    {"rpi3a 32-bit", "arm", "cortex_a53", "gnueabihf", "armv7-unknown-linux-gnueabihf"},
    {"bbb", "arm", "cortex_a8", "gnueabihf", "armv7-unknown-linux-gnueabihf"},
    {"rpi3/rpi4/rpi5 64-bit", "aarch64", "cortex_a53", "gnu", "aarch64-unknown-linux-gnu"},
    {"rpi4 musl", "aarch64", "cortex_a72", "musl", "aarch64-unknown-linux-musl"},
    {"armv6 musl", "arm", "arm1176jzf_s", "musleabihf", "arm-unknown-linux-musleabihf"},
    {"armv7 musl", "arm", "cortex_a7", "musleabihf", "armv7-unknown-linux-musleabihf"},
    {"x86_64", "x86_64", "x86_64", "gnu", "x86_64-unknown-linux-gnu"},
    {"x86_64 musl", "x86_64", "x86_64", "musl", "x86_64-unknown-linux-musl"},
    {"riscv64", "riscv64", "rv64gc", "gnu", "riscv64gc-unknown-linux-gnu"},
    {"armv5 (arm926)", "arm", "arm926ej_s", "gnueabi", "armv5te-unknown-linux-gnueabi"}
  ]

  for {system, arch, cpu, abi, triple} <- @systems do
    test "#{system} maps to #{triple}" do
      env = nerves_env(unquote(arch), unquote(cpu), unquote(abi))
      assert {:ok, target} = NervesTarget.from_env(env)
      assert target.triple == unquote(triple)
      assert target.linker == env["CC"]
      assert target.env == [{NervesTarget.linker_var(unquote(triple)), env["CC"]}]
    end
  end

  test "ARMv6 never goes to an armv7 triple" do
    for cpu <- ["arm1176jzf_s", "arm1136jf_s", "arm1176jz_s", "arm11mpcore"] do
      assert {:ok, "arm-unknown-linux-gnueabihf"} = NervesTarget.triple("arm", cpu, "gnueabihf")
    end
  end

  test "no Nerves environment means a host build" do
    assert NervesTarget.from_env(%{}) == :host

    assert NervesTarget.from_env(%{"TARGET_ARCH" => "aarch64", "NERVES_SDK_SYSROOT" => ""}) ==
             :host
  end

  test "the linker variable follows cargo's naming" do
    assert NervesTarget.linker_var("aarch64-unknown-linux-gnu") ==
             "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"

    assert NervesTarget.linker_var("riscv64gc-unknown-linux-gnu") ==
             "CARGO_TARGET_RISCV64GC_UNKNOWN_LINUX_GNU_LINKER"
  end

  test "a linker the user already chose is kept and RUSTFLAGS is never touched" do
    var = "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"
    env = nerves_env("aarch64", "cortex_a53", "gnu", %{var => "/my/ld", "RUSTFLAGS" => "-C x"})
    assert {:ok, %{linker: "/my/ld", env: []}} = NervesTarget.from_env(env)

    {:ok, target} = NervesTarget.from_env(nerves_env("aarch64", "cortex_a53", "gnu"))
    refute Enum.any?(target.env, fn {k, _} -> String.contains?(k, "RUSTFLAGS") end)
  end

  test "an unknown combination names the variables" do
    assert {:error, message} = NervesTarget.from_env(nerves_env("mips", "mips32", "gnu"))
    assert message =~ "TARGET_ARCH=\"mips\""
    assert message =~ "VINTAGE_NET_CELLULAR_TARGET"
    assert {:error, message} = NervesTarget.triple("arm", nil, "gnueabihf")
    assert message =~ "TARGET_CPU"
  end

  test "VINTAGE_NET_CELLULAR_TARGET overrides the mapping" do
    env =
      nerves_env("arm", "cortex_a7", "gnueabihf", %{
        "VINTAGE_NET_CELLULAR_TARGET" => "thumbv7neon-unknown-linux-gnueabihf"
      })

    assert {:ok, %{triple: "thumbv7neon-unknown-linux-gnueabihf"}} = NervesTarget.from_env(env)
  end
end
