# Shared helpers for the scripts in this folder. Sourced, not run.
# shellcheck shell=bash

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/native/target}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else
    echo "error: '$*' needs root and sudo is not available; run it as root" >&2
    exit 1
  fi
}

APT_UPDATED=0
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing $*; this script installs them with apt-get, which this system lacks." >&2
    echo "Install the equivalents of these Debian packages by hand: $*" >&2
    exit 1
  fi
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ensure_tools TOOL:PACKAGE... installs the Debian package of every tool that is missing.
# A TOOL starting with / is a file that must exist.
ensure_tools() {
  local missing=()
  local spec tool pkg
  for spec in "$@"; do
    tool="${spec%%:*}"; pkg="${spec#*:}"
    if [[ "$tool" == /* ]]; then [ -e "$tool" ] || missing+=("$pkg")
    else command -v "$tool" >/dev/null 2>&1 || missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    # shellcheck disable=SC2207
    missing=($(printf '%s\n' "${missing[@]}" | sort -u))
    apt_install "${missing[@]}"
  fi
}

# What the library and its demo need on a development machine. gcc only
# recommends libc6-dev (crt files, libc.so), and apt runs with
# --no-install-recommends here, so it is named: Rust links through cc.
ensure_base() {
  command -v cargo >/dev/null 2>&1 || {
    echo "error: cargo is missing. Install Rust with rustup (https://rustup.rs), then rerun." >&2
    exit 1
  }
  ensure_tools elixir:elixir erl:erlang-base /usr/lib/erlang/usr/include/erl_nif.h:erlang-dev \
    python3:python3 ps:procps strip:binutils cc:gcc \
    /usr/include/stdio.h:libc6-dev
}

# Everything the full test run needs on top of that.
ensure_test_tools() {
  ensure_base
  # The cross compilers alone do not bring the target's C library (crti.o,
  # Scrt1.o, libc.so): the libc6-dev-*-cross packages do.
  ensure_tools dialyzer:erlang-dialyzer \
    aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu \
    /usr/aarch64-linux-gnu/lib/crti.o:libc6-dev-arm64-cross \
    arm-linux-gnueabihf-gcc:gcc-arm-linux-gnueabihf \
    /usr/arm-linux-gnueabihf/lib/crti.o:libc6-dev-armhf-cross
  local have
  have="$(rustup target list --installed 2>/dev/null || true)"
  for t in aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf; do
    if ! grep -qx "$t" <<<"$have"; then
      say "rustup target add $t"
      rustup target add "$t"
    fi
  done
  command -v cargo-clippy >/dev/null 2>&1 || rustup component add clippy
  command -v rustfmt >/dev/null 2>&1 || rustup component add rustfmt
  ensure_netns_tools
}

# The namespace rig of the USB network function tests
# (test/support/net_namespace.ex): ip, dnsmasq, busybox's udhcpc and nc.
# Files, not commands: /sbin is not on every user's PATH.
# dnsmasq-base is the program alone. The dnsmasq package would add a system
# service that starts on install (where no policy-rc.d forbids it) and at
# every boot, binding ports 53 and 67 on the host; the rig starts its own
# dnsmasq inside a network namespace and needs no service.
ensure_netns_tools() {
  ensure_tools /bin/ip:iproute2 /usr/sbin/dnsmasq:dnsmasq-base \
    /bin/busybox:busybox /sbin/udhcpc:udhcpc timeout:coreutils
}

# The fuzz targets in native/fuzz run under libFuzzer (libfuzzer-sys builds it
# from C++ sources, hence g++). On nightly they also get AddressSanitizer; on
# stable they are built with the same coverage instrumentation
# (-Cpasses=sancov-module, stable flags) and no sanitizer. VNC_FUZZ_TOOLCHAIN
# (stable or nightly) forces one; otherwise nightly when rustup has it.
ensure_fuzz_tools() {
  command -v cargo >/dev/null 2>&1 || {
    echo "error: cargo is missing. Install Rust with rustup (https://rustup.rs), then rerun." >&2
    exit 1
  }
  ensure_tools c++:g++ cc:gcc /usr/include/stdio.h:libc6-dev
}

fuzz_toolchain() {
  case "${VNC_FUZZ_TOOLCHAIN:-}" in
    stable|nightly) echo "$VNC_FUZZ_TOOLCHAIN"; return ;;
    "") ;;
    *) echo "error: VNC_FUZZ_TOOLCHAIN must be stable or nightly, not '$VNC_FUZZ_TOOLCHAIN'" >&2; exit 1 ;;
  esac
  if command -v rustup >/dev/null 2>&1 && rustup run nightly rustc --version >/dev/null 2>&1; then
    echo nightly
  else
    echo stable
  fi
}
