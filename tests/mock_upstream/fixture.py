"""Run the mock upstream as a subprocess and drive its control API from tests.

    from tests.mock_upstream.fixture import mock_upstream   # pytest fixture

    def test_x(mock_upstream):
        mock_upstream.script([{"status": 500}])
        ... point a provider at mock_upstream.url ...
        assert mock_upstream.requests()[0]["json"]["model"] == "gpt-4o"

`mock_upstream` is backed by one server per test session (started on first use, stopped at
interpreter exit) and is reset before each test. `MockUpstream` can also be used directly
(e.g. with `api_keys=` or `path_prefix=`), as a context manager.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
_START_TIMEOUT_S = 15.0
# Loopback traffic must never go through an HTTP proxy configured in the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MockUpstreamError(RuntimeError):
    """The mock could not start, or its control API refused a call."""


class MockUpstream:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        path_prefix: str = "",
        api_keys: Iterable[str] | None = None,
    ):
        self.host = host
        self.path_prefix = path_prefix
        self.api_keys = list(api_keys) if api_keys is not None else None
        self.port: int | None = None
        self._proc: subprocess.Popen[str] | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> MockUpstream:
        if self._proc is not None:
            return self
        cmd = [sys.executable, "-m", "tests.mock_upstream", "--host", self.host, "--port", "0"]
        if self.path_prefix:
            cmd += ["--path-prefix", self.path_prefix]
        for key in self.api_keys or []:
            cmd += ["--api-key", key]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        self._proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True)
        self.port = self._read_port()
        return self

    def _read_port(self) -> int:
        assert self._proc is not None and self._proc.stdout is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self._proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(_START_TIMEOUT_S)
        first = line[0].strip() if line else ""
        if not first.startswith("PORT "):
            self.stop()
            raise MockUpstreamError(f"mock upstream did not start (first line: {first!r})")
        return int(first.split()[1])

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> MockUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def url(self) -> str:
        """Origin, e.g. http://127.0.0.1:43121 (append /v1 for the openai SDK's base_url)."""
        if self.port is None:
            raise MockUpstreamError("mock upstream is not started")
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------ control API
    def _control(self, method: str, name: str, payload: Any = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(
            f"{self.url}/_control/{name}",
            data=data,
            method=method,
            headers={"content-type": "application/json"},
        )
        try:
            with _OPENER.open(req, timeout=10) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise MockUpstreamError(f"control {method} {name}: {exc.code} {exc.read().decode()}") from exc

    def script(self, behaviours: list[dict[str, Any]]) -> int:
        """Queue behaviours; returns how many are now pending."""
        return self._control("POST", "script", behaviours)["pending"]

    def pending_script(self) -> list[dict[str, Any]]:
        return self._control("GET", "script")

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """Recorded API requests, oldest first; `path` keeps those whose path ends with it."""
        records = self._control("GET", "requests")
        return [r for r in records if path is None or r["path"].endswith(path)]

    def stats(self) -> dict[str, Any]:
        return self._control("GET", "stats")

    def reset(self) -> None:
        self._control("POST", "reset")

    def wait_for_stat(self, name: str, at_least: int, timeout: float = 5.0) -> dict[str, Any]:
        """Poll stats until `name` >= `at_least` (raises on timeout); returns the stats."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if stats.get(name, 0) >= at_least:
                return stats
            if time.monotonic() > deadline:
                raise MockUpstreamError(f"stat {name} stayed at {stats.get(name)} (< {at_least}): {stats}")
            time.sleep(0.02)


_session_mock: MockUpstream | None = None
_session_lock = threading.Lock()


def session_mock_upstream() -> MockUpstream:
    """The per-process shared server, started on first use and stopped at exit."""
    global _session_mock
    with _session_lock:
        if _session_mock is None or not _session_mock.running:
            _session_mock = MockUpstream().start()
            atexit.register(_session_mock.stop)
        return _session_mock


@pytest.fixture
def mock_upstream() -> Iterator[MockUpstream]:
    """The session's mock upstream, reset (script, records, stats, cache) before the test."""
    mock = session_mock_upstream()
    mock.reset()
    yield mock
