#!/usr/bin/env python3
"""Checks that ELF files were built for the expected machine.

usage: check_elf.py aarch64|armv7hf|x86_64 FILE...

Reads the ELF header itself (class, byte order, e_machine and, for ARM, the
hard-float EABI flag), so it needs nothing but Python.
"""
import struct
import sys

EXPECT = {
    # name: (ELF class, e_machine, required e_flags bits)
    "aarch64": (2, 183, 0),
    "armv7hf": (1, 40, 0x400),  # EF_ARM_ABI_FLOAT_HARD
    "x86_64": (2, 62, 0),
}
MACHINES = {3: "x86", 40: "ARM", 62: "x86-64", 183: "AArch64", 243: "RISC-V"}


def check(path, want):
    cls, machine, flags = EXPECT[want]
    with open(path, "rb") as f:
        head = f.read(64)
    if head[:4] != b"\x7fELF":
        return f"{path}: not an ELF file"
    if head[4] != cls:
        return f"{path}: ELF class {head[4]} (1=32-bit, 2=64-bit), expected {cls}"
    if head[5] != 1:
        return f"{path}: not little-endian"
    e_machine = struct.unpack_from("<H", head, 18)[0]
    if e_machine != machine:
        got = MACHINES.get(e_machine, str(e_machine))
        return f"{path}: machine {got}, expected {MACHINES[machine]}"
    e_flags = struct.unpack_from("<I", head, 48 if cls == 2 else 36)[0]
    if e_flags & flags != flags:
        return f"{path}: e_flags 0x{e_flags:x} lack 0x{flags:x} (hard-float EABI)"
    print(f"ok  {path}: {MACHINES[machine]}, {32 * cls}-bit, e_flags 0x{e_flags:x}")
    return None


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in EXPECT:
        sys.exit(__doc__)
    errors = [e for e in (check(p, sys.argv[1]) for p in sys.argv[2:]) if e]
    for e in errors:
        print("FAIL " + e, file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
