"""Tests of the levers harness that need no load: the launcher's patches reach granian's
Server, the floor app answers, the summary compares each round with its own default.

    python -m pytest bench/e2e/levers -q -p no:cacheprovider
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import pytest

from . import report, serve_with, settings
from .runner import by_thread


def test_launcher_merges_server_kwargs_and_http1_settings() -> None:
    from granian.constants import TaskImpl
    from granian.http import HTTP1Settings

    import lunaroute.server.run as run
    from lunaroute.config.schema import ServerConfig

    args, rest = serve_with.parse_args(
        ["--task-impl", "rust", "--backpressure", "64", "--http1", "pipeline_flush=on", "--", "serve", "-x"]
    )
    assert rest == ["serve", "-x"]
    patched = serve_with.wrap_granian_server(
        run._granian_server, serve_with.server_overrides(args), serve_with.parse_http1(args.http1)
    )
    server: Any = patched(object(), "127.0.0.1", 1, server_cfg=ServerConfig(keepalive_timeout_secs=7))
    assert server.task_impl == TaskImpl.rust
    assert server.backpressure == 64
    # LunaRoute's own HTTP/1 choice stays; only the asked field moves.
    assert server.http1_settings == HTTP1Settings(header_read_timeout=7000, pipeline_flush=True)
    assert server.runtime_threads == 1
    # The patch is undone after each build: the package's function builds the default again.
    plain: Any = run._granian_server(object(), "127.0.0.1", 1)
    assert plain.task_impl == TaskImpl.asyncio and plain.backpressure != 64


def test_launcher_rejects_unknown_http1_fields() -> None:
    with pytest.raises(SystemExit):
        serve_with.parse_http1(["keepalive=1"])
    assert serve_with.parse_http1(["max_buffer_size=8192", "keep_alive=off"]) == {
        "max_buffer_size": 8192,
        "keep_alive": False,
    }


def test_asyncio_loop_runner_runs_on_asyncio() -> None:
    async def which() -> int:
        return 7 if type(asyncio.get_running_loop()).__module__.startswith("asyncio") else 0

    assert serve_with.loop_runner("asyncio")(which) == 7


def test_launcher_passes_through_to_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, str(settings.SERVE_WITH), "--loop", "asyncio", "--", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and out.stdout.strip()


def test_floor_app_empty_reads_the_body_and_answers_the_fixture() -> None:
    from .rsgi_floor_app import ANSWER, empty

    class Proto:
        read = False
        sent: tuple | None = None

        async def __call__(self) -> bytes:
            self.read = True
            return b"{}"

        def response_bytes(self, status: int, headers: list, body: bytes) -> None:
            self.sent = (status, headers, body)

    proto = Proto()
    asyncio.run(empty(None, proto))
    assert proto.read and proto.sent is not None
    assert proto.sent[0] == 200 and json.loads(proto.sent[2])["object"] == "chat.completion"
    assert proto.sent[2] == ANSWER


def test_floor_commands_name_mode_and_loop() -> None:
    f = settings.FloorSetting("proxy", "mt", "rloop")
    cmd = f.command(8123)
    assert cmd[cmd.index("--runtime-mode") + 1] == "mt" and cmd[cmd.index("--loop") + 1] == "rloop"
    assert cmd[-1] == "rsgi_floor_app:proxy" and f.name == "proxy-mt-rloop"
    assert len({s.name for s in settings.FLOOR_SETTINGS}) == 12


def test_thread_groups_separate_the_loop_thread() -> None:
    before = {(10, 10): (100, "python"), (10, 11): (50, "python"), (10, 12): (0, "tokio-rt-worker")}
    after = {(10, 10): (300, "python"), (10, 11): (150, "python"), (10, 12): (20, "tokio-rt-worker")}
    got = by_thread(before, after, python_pid=10)
    assert got == {"main": 2.0, "thread:python": 1.0, "thread:tokio-rt-worker": 0.2}


def _run(setting: str, rnd: int, rps: float, cpu: float) -> dict:
    c16 = {"rps": rps, "requests": int(rps * 3), "gateway_cpu_us_per_req": cpu, "error_total": 0}
    c1 = {"latency_us": {"p50": 300, "p99": 900}, "error_total": 0}
    scen = {"runs": {"c16": c16, "c1": c1}, "verify": {"bad_bodies": 0, "errors": 0}}
    return {"kind": "lunaroute", "setting": setting, "round": rnd, "result": {"scenarios": {"oai": scen}}}


def test_summary_compares_each_round_with_its_own_default() -> None:
    doc = {
        "runs": [
            _run("default", 0, 4000, 200),
            _run("x", 0, 4400, 180),
            _run("x", 1, 3300, 190),
            _run("default", 1, 3000, 210),
        ]
    }
    rows = {r["setting"]: r for r in report.summarize(doc)["rows"]}
    assert rows["x"]["rps_ratio_per_round"] == [1.1, 1.1]
    assert rows["x"]["cpu_delta_us"] == -20.0
    assert rows["default"]["rps_ratio_per_round"] == [1.0, 1.0]
    assert report.summarize(doc)["problems"] == []


def test_summary_reports_bad_answers() -> None:
    bad = _run("default", 0, 4000, 200)
    bad["result"]["scenarios"]["oai"]["verify"]["bad_bodies"] = 3
    assert report.summarize({"runs": [bad]})["problems"]


def test_quiet_rule_uses_the_gateway_core_and_steal() -> None:
    run = {"rps": 100.0, "gateway_cpu_pct": 90.0, "cpu": {"cpu0": {"busy_pct": 98.0, "steal_pct": 2.0}}}
    assert report.is_quiet(run)
    assert not report.is_quiet({**run, "gateway_cpu_pct": 40.0})  # others took 58 % of CPU 0
    assert not report.is_quiet({**run, "cpu": {"cpu0": {"busy_pct": 98.0, "steal_pct": 20.0}}})
    assert not report.is_quiet({**run, "rps": 0.0})
