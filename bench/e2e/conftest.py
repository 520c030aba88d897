"""pytest helpers for the end-to-end harness's own tests."""

from __future__ import annotations

import random
import socket

import pytest


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@pytest.fixture
def port_offset() -> int:
    """An offset that moves every default bench port (configs.DEFAULTS) to a free one."""
    from .configs import DEFAULTS

    for _ in range(200):
        off = random.randrange(20000, 40000)
        if all(_free(p + off) for p in DEFAULTS.values()):
            return off
    pytest.skip("no free port range found")
