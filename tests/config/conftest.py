"""Fixtures of the config tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from lunaroute.config import write_default_config


@pytest.fixture
def cfg_dir(tmp_path: Path) -> Path:
    """A fresh config directory holding `lunaroute init`'s defaults."""
    target = tmp_path / "cfg"
    write_default_config(target)
    return target
