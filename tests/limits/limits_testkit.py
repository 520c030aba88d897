"""Helpers of the limits tests: real config directories, a settable clock, a redis-server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
import yaml

from lunaroute.config import load_config, write_default_config
from lunaroute.config.schema import Config

# A syntactically valid argon2id hash, for hand-written keys files (never verified here).
SAMPLE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$3bDKw5Ie9fvUWfHrV0w7ik6A9KkQ0y1sXSMPbKZTYk0"

# 2025-03-14T12:00:00Z: mid-day, mid-month, a weekday.
T0 = 1741953600.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def key_entry(key_id: str, *, tenant: str = "default", rate: dict[str, Any] | None = None, budget: str | None = None):
    entry: dict[str, Any] = {"id": key_id, "name": key_id, "key_hash": SAMPLE_HASH, "tenant": tenant}
    if rate:
        entry["rate_limit"] = rate
    if budget:
        entry["budget_id"] = budget
    return entry


def budget_entry(
    budget_id: str,
    scope: dict[str, Any],
    windows: dict[str, dict[str, int]],
    *,
    soft: float | None = None,
    actions: list[str] | None = None,
    **more: Any,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": budget_id,
        "scope": scope,
        "windows": [{"type": kind, "limits": limits} for kind, limits in windows.items()],
    }
    enforcement: dict[str, Any] = {}
    if soft is not None:
        enforcement["soft_limit_percent"] = soft
    if actions is not None:
        enforcement["actions"] = actions
    enforcement.update(more.pop("enforcement", {}))
    if enforcement:
        entry["enforcement"] = enforcement
    entry.update(more)
    return entry


def make_config_dir(
    root: Path,
    *,
    keys: list[dict[str, Any]] | None = None,
    budgets: list[dict[str, Any]] | None = None,
    server: dict[str, Any] | None = None,
) -> Path:
    """A config directory: `lunaroute init`'s defaults plus the given keys, budgets and
    top-level server.yaml sections."""
    config_dir = root / "cfg"
    if not config_dir.exists():
        write_default_config(config_dir)
    doc = yaml.safe_load((config_dir / "server.yaml").read_text())
    doc.update(server or {})
    (config_dir / "server.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    (config_dir / "keys.json").write_bytes(orjson.dumps({"api_keys": keys or []}))
    (config_dir / "budgets.json").write_bytes(orjson.dumps({"budgets": budgets or []}))
    return config_dir


def make_config(root: Path, **kwargs: Any) -> Config:
    return load_config(make_config_dir(root, **kwargs), root / "data", env={})


def key_of(config: Config, key_id: str) -> Any:
    return next(k for k in config.keys if k.id == key_id)


# ---------------------------------------------------------------------- redis-server
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A real redis-server on a free loopback port, without persistence, that tests can kill
    and start again on the same port."""

    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("redis-server")
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.binary is not None
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self.proc = None
