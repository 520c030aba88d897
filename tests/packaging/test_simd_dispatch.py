"""LUNAROUTE_SIMD forces the Rust scan's level; every level this CPU runs gives the results
of the pure Python tier, and a level it cannot run is refused aloud, never silently.

Each level runs in its own process: the Rust module reads LUNAROUTE_SIMD once, at import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lunaroute.kernels import _simd, module_for

WORKLOAD = Path(__file__).with_name("simd_workload.py")


def _run(**env: str) -> tuple[dict[str, str], str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LUNAROUTE_")}
    clean.update(env)
    done = subprocess.run(
        [sys.executable, str(WORKLOAD)], env=clean, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


@pytest.fixture(scope="module")
def reference() -> str:
    out, _ = _run(LUNAROUTE_BACKEND="python")
    assert out["scan"] == "python" and out["level"] == "scalar"
    return out["digest"]


@pytest.fixture(scope="module")
def rust_built() -> None:
    if module_for("scan", "rust") is None:
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail("the Rust tier is not built; CI must test every SIMD level")
        pytest.skip("the Rust tier is not built here")


def test_this_cpu_runs_its_architecture_baseline() -> None:
    levels = _simd.cpu_levels()
    assert levels[-1] == "scalar"
    if _simd.platform.machine().lower() in ("x86_64", "amd64"):
        assert "sse2" in levels
    assert set(levels) <= set(_simd.LEVELS)


@pytest.mark.parametrize("level", _simd.LEVELS)
def test_forced_level_gives_the_python_tier_results(level: str, reference: str, rust_built: None) -> None:
    out, stderr = _run(LUNAROUTE_BACKEND="rust", LUNAROUTE_SIMD=level)
    assert out["scan"] == "rust"
    assert out["digest"] == reference, f"LUNAROUTE_SIMD={level} ({out['level']}) differs from the python tier"
    if level in _simd.cpu_levels():
        assert out["level"] == level
        assert "LUNAROUTE_SIMD" not in stderr
    else:
        # a level this CPU lacks keeps the best it has, and says so once
        assert out["level"] == _simd.cpu_levels()[0]
        assert f"LUNAROUTE_SIMD={level} is not a level this CPU runs" in stderr
        assert stderr.count("LUNAROUTE_SIMD") == 1


def test_unset_runs_the_best_level(rust_built: None) -> None:
    out, stderr = _run(LUNAROUTE_BACKEND="rust")
    assert out["level"] == _simd.cpu_levels()[0]
    assert "LUNAROUTE_SIMD" not in stderr


def test_unknown_value_is_named(rust_built: None) -> None:
    out, stderr = _run(LUNAROUTE_BACKEND="rust", LUNAROUTE_SIMD="avx512")
    assert out["level"] == _simd.cpu_levels()[0]
    assert "LUNAROUTE_SIMD='avx512' is not a SIMD level" in stderr


def test_fallback_tier_says_the_request_has_no_effect() -> None:
    out, stderr = _run(LUNAROUTE_BACKEND="python", LUNAROUTE_SIMD="sse2")
    assert out["level"] == "scalar"
    assert "LUNAROUTE_SIMD=sse2 has no effect: the python tier serves kernel scan" in stderr


def test_doctor_prints_the_level_and_each_kernels_tier(tmp_path: Path, rust_built: None) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LUNAROUTE_")}
    done = subprocess.run(
        [sys.executable, "-m", "lunaroute.doctor", "--config-dir", str(tmp_path / "none")],
        env=dict(clean, LUNAROUTE_SIMD="scalar", HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    tiers = {ln.split()[0]: ln.split()[1:] for ln in done.stdout.splitlines() if ln.startswith("  ")}
    assert tiers["scan"] == ["rust", "simd", "scalar"]
    assert tiers["http1"] == ["rust", "simd", "scalar"]
    assert tiers["breaker"] == ["rust"]
    assert "simd level: scalar (forced by LUNAROUTE_SIMD=scalar; this CPU runs " in done.stdout
