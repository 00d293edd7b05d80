#!/usr/bin/env python3
"""Crate hygiene for the Cargo workspace under native/, run by scripts/test.

Checks, for every workspace member:
  * its Cargo.toml inherits the workspace's rust-version (`rust-version.workspace = true`),
    and cargo metadata reports that same version for it. Cargo then refuses an older
    rustc, and clippy's incompatible_msrv lint flags std APIs newer than that version;
  * every crate root (lib.rs, main.rs, and each bin, example, test and bench) of a package
    whose sources contain no `unsafe` declares `#![forbid(unsafe_code)]`;
  * a package that does contain `unsafe` denies `clippy::undocumented_unsafe_blocks` at
    each of its lib/bin roots, so each unsafe block must carry a SAFETY comment.

Exits 1 and names each offending file. Python 3.11 standard library only.
"""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys

NATIVE = pathlib.Path(__file__).resolve().parent.parent / "native"
UNSAFE = re.compile(r"\bunsafe\b")
FORBID = "#![forbid(unsafe_code)]"
MOD_DECL = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*;", re.M)
DOCUMENTED = re.compile(r"#!\[deny\([^)]*clippy::undocumented_unsafe_blocks")


def code_only(text: str) -> str:
    """Drops // comments and string literals so that the word `unsafe` in prose doesn't count."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def main() -> int:
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline"],
            cwd=NATIVE, check=True, capture_output=True, text=True,
        ).stdout
    )
    workspace_toml = (NATIVE / "Cargo.toml").read_text(encoding="utf-8")
    m = re.search(r'^rust-version\s*=\s*"([^"]+)"', workspace_toml, re.M)
    if not m:
        print("check_crates: native/Cargo.toml has no [workspace.package] rust-version")
        return 1
    msrv = m.group(1)
    members = set(meta["workspace_members"])
    problems: list[str] = []
    for pkg in meta["packages"]:
        if pkg["id"] not in members:
            continue
        manifest = pathlib.Path(pkg["manifest_path"])
        rel = manifest.relative_to(NATIVE.parent)
        if not re.search(r"^rust-version\.workspace\s*=\s*true", manifest.read_text(encoding="utf-8"), re.M):
            problems.append(f"{rel}: does not inherit rust-version from the workspace")
        if pkg.get("rust_version") != msrv:
            problems.append(f"{rel}: rust-version is {pkg.get('rust_version')!r}, the workspace says {msrv!r}")
        roots = {pathlib.Path(t["src_path"]) for t in pkg["targets"]}
        for target in pkg["targets"]:
            root = pathlib.Path(target["src_path"])
            text = root.read_text(encoding="utf-8")
            rel_root = root.relative_to(NATIVE.parent)
            # The code this root compiles: itself, plus the module files beside it when it declares modules.
            files = [root]
            if MOD_DECL.search(code_only(text)):
                files += [f for f in root.parent.rglob("*.rs") if f not in roots]
            if not any(UNSAFE.search(code_only(f.read_text(encoding="utf-8"))) for f in files):
                if FORBID not in text:
                    problems.append(f"{rel_root}: has no unsafe code, so it must declare {FORBID}")
            elif not DOCUMENTED.search(text):
                problems.append(f"{rel_root}: uses unsafe, so it must deny clippy::undocumented_unsafe_blocks")
    for p in problems:
        print(f"check_crates: {p}")
    if problems:
        return 1
    print(f"check_crates: {len(members)} crates inherit rust-version {msrv}; unsafe is forbidden or documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())
