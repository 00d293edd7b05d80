#!/usr/bin/env bash
# Builds the NIF and device programs for two Nerves targets under a simulated
# Nerves environment (Debian's cross gcc stands in for the Nerves toolchain)
# and checks each ELF's machine type.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

build() {
  local name=$1 triple=$2 gcc=$3 arch=$4 cpu=$5 abi=$6 elf=$7
  local build_path="$ROOT/_build/cross_$name"
  say "cross build for $triple (TARGET_ARCH=$arch TARGET_CPU=$cpu TARGET_ABI=$abi)"
  env MIX_ENV=prod MIX_BUILD_PATH="$build_path" \
    NERVES_SDK_SYSROOT="/usr/${gcc%-gcc}" CC="$gcc" CROSSCOMPILE="${gcc%-gcc}" \
    TARGET_ARCH="$arch" TARGET_CPU="$cpu" TARGET_OS=linux TARGET_ABI="$abi" \
    mix compile.vintage_net_cellular_native
  local priv="$build_path/lib/vintage_net_cellular/priv/native"
  python3 scripts/check_elf.py "$elf" "$priv/vintage_net_cellular_nif.so" "$priv/cellular_port"
  if [ -e "$priv/cellular_sim" ]; then
    echo "FAIL the simulator is a host tool and must not be cross-built" >&2
    exit 1
  fi
}

build aarch64 aarch64-unknown-linux-gnu aarch64-linux-gnu-gcc aarch64 cortex_a53 gnu aarch64
build armv7 armv7-unknown-linux-gnueabihf arm-linux-gnueabihf-gcc arm cortex_a7 gnueabihf armv7hf
