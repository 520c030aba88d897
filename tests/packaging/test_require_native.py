"""The build never drops the Rust tier silently: without cargo it says so, and with
LUNAROUTE_REQUIRE_NATIVE=1 (production builds, CI) it refuses to build at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _setup_py(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # A PATH with no cargo on it (an empty directory): the build cannot find a Rust toolchain.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LUNAROUTE_")}
    clean.update(PATH=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "setup.py", "--name"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_require_native_without_cargo_is_an_error(tmp_path: Path) -> None:
    out = _setup_py(tmp_path, LUNAROUTE_REQUIRE_NATIVE="1")
    assert out.returncode != 0
    assert "LUNAROUTE_REQUIRE_NATIVE=1 but cargo was not found" in out.stderr


def test_without_cargo_the_build_warns_how_to_fix(tmp_path: Path) -> None:
    out = _setup_py(tmp_path)
    assert "building WITHOUT the Rust tier (cargo not found)" in out.stderr
    assert "LUNAROUTE_REQUIRE_NATIVE=1" in out.stderr
