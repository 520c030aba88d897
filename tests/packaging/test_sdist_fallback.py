"""The sdist installs where no wheel fits: without cargo it builds the Cython tier, without
any compiler the pure-Python one, and says which in the build log and in `lunaroute doctor`.

scripts/test builds the sdist and a wheelhouse of its build and run requirements
(.ci/wheel_check) and names them in LR_TEST_SDIST and LR_TEST_WHEELHOUSE; the installs here
use no network. Skipped without them, except under CI=true, where it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lunaroute.kernels import KERNELS


@pytest.fixture(scope="module")
def sdist() -> Path:
    path = os.environ.get("LR_TEST_SDIST")
    if not path:
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail("LR_TEST_SDIST is not set: scripts/test builds the sdist and names it")
        pytest.skip("no sdist built (scripts/test sets LR_TEST_SDIST)")
    return Path(path)


def _install(sdist: Path, root: Path, tools: tuple[str, ...]) -> tuple[Path, dict[str, str], str]:
    """A fresh venv with `sdist` installed; PATH holds only the venv and links to `tools`."""
    venv, bin_dir = root / "venv", root / "tools"
    bin_dir.mkdir()
    for tool in tools:
        found = shutil.which(tool)
        assert found, f"{tool} is needed for this test"
        (bin_dir / tool).symlink_to(found)
    path = f"{venv / 'bin'}{os.pathsep}{bin_dir}"
    assert shutil.which("cargo", path=path) is None
    env = {"PATH": path, "HOME": str(root), "LANG": "C.UTF-8"}
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-v", "--no-compile"]
        + ["--no-index", "--find-links", os.environ["LR_TEST_WHEELHOUSE"], str(sdist)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return venv, env, done.stdout + done.stderr


def _tiers(venv: Path, env: dict[str, str], root: Path) -> tuple[dict[str, list[str]], str]:
    done = subprocess.run(
        [str(venv / "bin" / "lunaroute"), "doctor", "--config-dir", str(root / "no-config")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {ln.split()[0]: ln.split()[1:] for ln in done.stdout.splitlines() if ln.startswith("  ")}, done.stderr


def test_without_cargo_the_sdist_builds_the_cython_tier(sdist: Path, tmp_path: Path) -> None:
    venv, env, log = _install(sdist, tmp_path, ("gcc", "cc", "ld", "as"))
    assert "building WITHOUT the Rust tier (cargo not found)" in log
    tiers, stderr = _tiers(venv, env, tmp_path)
    assert set(tiers) == set(KERNELS)
    assert all(columns[:2] == ["cython", "(fallback:"] for columns in tiers.values()), tiers
    # the one start-up line that names the slower tier, why, and the fix
    assert "native extension unavailable" in stderr and "reinstall with a Rust toolchain" in stderr


def test_without_any_compiler_the_sdist_installs_the_python_tier(sdist: Path, tmp_path: Path) -> None:
    venv, env, log = _install(sdist, tmp_path, ())
    assert "building WITHOUT the Rust tier (cargo not found)" in log
    assert "building WITHOUT the Cython tier (no C compiler found)" in log
    tiers, _ = _tiers(venv, env, tmp_path)
    assert set(tiers) == set(KERNELS)
    assert all(columns[0] == "python" for columns in tiers.values()), tiers
    kernel = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "from lunaroute.kernels import find_any; print(find_any(b'ab,c', b','))"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert kernel.stdout.strip() == "2", kernel.stderr
