"""Fixtures of the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .cli_testkit import run_cli


@pytest.fixture
def home(tmp_path: Path) -> Path:
    target = tmp_path / "home"
    target.mkdir()
    return target


@pytest.fixture
def cfg(tmp_path: Path, home: Path) -> Path:
    """A config dir initialised by the real `lunaroute init`."""
    target = tmp_path / "cfg"
    done = run_cli("init", "--config-dir", str(target), home=home)
    assert done.returncode == 0, done.stderr
    return target
