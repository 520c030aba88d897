"""The `file` backend: one limit and one budget for every process of the host, kept across
restarts (the live shared table, or its snapshot after a reboot)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from lunaroute.config import load_config
from lunaroute.errors import RateLimitedError
from lunaroute.limits import LimitsEngine
from lunaroute.state import snapshot
from lunaroute.state.file_store import SNAPSHOT_NAME, TABLE_NAME
from lunaroute.state.file_table import RecordTable

from .limits_testkit import T0, Clock, budget_entry, key_entry, key_of, make_config, make_config_dir

PROCESSES = 3


def hammer(config_dir: str, data_dir: str, tries: int, tokens: int, start, results) -> None:
    """One worker process: admit `tries` times on a frozen clock, settling each admitted
    request with `tokens` tokens before the next (so at most one is in flight here)."""
    config = load_config(Path(config_dir), Path(data_dir), env={})
    key = key_of(config, "k")

    async def run() -> tuple[int, int]:
        engine = LimitsEngine.from_config(config, Path(data_dir), clock=lambda: T0)
        admitted = refused = 0
        start.wait(30)
        for _ in range(tries):
            try:
                ticket = await engine.admit(key, "gpt-4o")
            except RateLimitedError:
                refused += 1
                continue
            admitted += 1
            if tokens:
                await engine.settle(ticket, "openai", "gpt-4o", tokens // 2, tokens - tokens // 2)
        await engine.aclose()
        return admitted, refused

    results.put(asyncio.run(run()))


def _run_processes(config_dir: Path, data_dir: Path, tries: int, tokens: int) -> list[tuple[int, int]]:
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=hammer, args=(str(config_dir), str(data_dir), tries, tokens, start, results))
        for _ in range(PROCESSES)
    ]
    for proc in procs:
        proc.start()
    time.sleep(0.5)
    start.set()
    out = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(30)
        assert proc.exitcode == 0
    return out


def _usage(config_dir: Path, data_dir: Path) -> dict:
    config = load_config(config_dir, data_dir, env={})

    async def read() -> dict:
        engine = LimitsEngine.from_config(config, data_dir, clock=lambda: T0)
        snap = engine.snapshot()
        await engine.aclose()
        return snap

    return asyncio.run(read())["budgets"][0]["windows"][0]["usage"]


def test_processes_share_one_rate_limit(tmp_path: Path) -> None:
    config_dir = make_config_dir(tmp_path, keys=[key_entry("k", rate={"requests_per_second": 1, "burst": 40})])
    results = _run_processes(config_dir, tmp_path / "data", tries=60, tokens=0)
    assert sum(a for a, _ in results) == 40  # the clock is frozen: the burst, once, for all
    assert all(a + r == 60 for a, r in results)


def test_processes_share_one_budget(tmp_path: Path) -> None:
    budgets = [budget_entry("b", {"type": "key", "id": "k"}, {"daily": {"requests": 100, "tokens": 20_000}})]
    config_dir = make_config_dir(tmp_path, keys=[key_entry("k")], budgets=budgets)
    results = _run_processes(config_dir, tmp_path / "data", tries=60, tokens=300)
    admitted = sum(a for a, _ in results)
    usage = _usage(config_dir, tmp_path / "data")
    assert usage["requests"] == admitted
    assert usage["tokens"] == admitted * 300
    # Tokens are known only when an answer ends: the overshoot is at most one answer per
    # process (each has at most one request in flight).
    assert 20_000 <= usage["tokens"] <= 20_000 + PROCESSES * 300
    assert admitted < 100


def _increment(table: RecordTable, rounds: int) -> None:
    for _ in range(rounds):
        with table.locked():
            level = table.get("n")[0]
            table.put("n", (level + 1.0, 0.0, 0.0, 0.0))
    os._exit(0)


def test_forked_children_take_their_own_lock(tmp_path: Path) -> None:
    """A table opened before a fork: each child must lock with its own descriptor (flock is
    shared by every holder of one open file), or increments get lost."""
    table = RecordTable(str(tmp_path / "t.shm"))
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_increment, args=(table, 3000)) for _ in range(PROCESSES)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    with table.locked():
        assert table.get("n")[0] == PROCESSES * 3000
    table.close()


async def _spend(engine: LimitsEngine, key, times: int) -> None:
    for _ in range(times):
        ticket = await engine.admit(key, "gpt-4o")
        await engine.settle(ticket, "openai", "gpt-4o", 100, 50)


def test_usage_survives_a_restart_a_crash_and_a_reboot(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    budgets = [budget_entry("b", {"type": "key", "id": "k"}, {"monthly": {"tokens": 10**9}})]
    config = make_config(tmp_path, keys=[key_entry("k")], budgets=budgets)
    data = tmp_path / "data"
    key = key_of(config, "k")
    clock = Clock()

    def usage() -> dict:
        async def read() -> dict:
            engine = LimitsEngine.from_config(config, data, clock=clock)
            snap = engine.snapshot()["budgets"][0]["windows"][0]["usage"]
            await engine.aclose()
            return snap

        return asyncio.run(read())

    async def first_run() -> None:
        engine = LimitsEngine.from_config(config, data, clock=clock)
        await _spend(engine, key, 4)
        await engine.aclose()

    asyncio.run(first_run())
    assert usage()["tokens"] == 600  # a restart: the live table

    # A crash: a process killed mid-run never closes its engine.
    code = (
        "import asyncio, sys; from pathlib import Path\n"
        "from lunaroute.config import load_config\n"
        "from lunaroute.limits import LimitsEngine\n"
        "config = load_config(Path(sys.argv[1]), Path(sys.argv[2]), env={})\n"
        "key = config.keys[0]\n"
        "async def main():\n"
        "    engine = LimitsEngine.from_config(config, Path(sys.argv[2]), clock=lambda: float(sys.argv[3]))\n"
        "    ticket = await engine.admit(key, 'gpt-4o')\n"
        "    await engine.settle(ticket, 'openai', 'gpt-4o', 1000, 0)\n"
        "    print('charged', flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code, str(config.config_dir), str(data), repr(clock.now)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    ) as proc:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"charged"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert usage()["tokens"] == 1600

    # A reboot: the live table is gone (or from another boot); the snapshot brings usage back.
    (data / "state" / TABLE_NAME).unlink()
    assert usage()["tokens"] == 1600

    # A damaged snapshot is refused with a warning, not restored as garbage.
    (data / "state" / TABLE_NAME).unlink()
    path = data / "state" / SNAPSHOT_NAME
    path.write_bytes(path.read_bytes()[:-3] + b"xyz")
    with caplog.at_level("WARNING", logger="lunaroute.state"):
        assert usage()["tokens"] == 0
    assert any("damaged limits snapshot" in r.getMessage() for r in caplog.records)


def test_snapshots_are_written_on_the_interval(tmp_path: Path) -> None:
    budgets = [budget_entry("b", {"type": "key", "id": "k"}, {"daily": {"requests": 1000}})]
    config = make_config(
        tmp_path, keys=[key_entry("k")], budgets=budgets, server={"performance": {"state_persist_interval_secs": 0.2}}
    )
    key = key_of(config, "k")
    path = tmp_path / "data" / "state" / SNAPSHOT_NAME

    def requests_in_snapshot() -> float:
        records = dict(snapshot.read(path))
        return records.get(b"w:b:daily", (0.0, 0.0, 0.0, 0.0))[2]

    async def scenario() -> None:
        engine = LimitsEngine.from_config(config, tmp_path / "data", clock=Clock())
        for _ in range(3):
            await engine.admit(key, "m")
        deadline = time.monotonic() + 10
        while requests_in_snapshot() != 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert requests_in_snapshot() == 3  # without any close
        await engine.admit(key, "m")
        await engine.aclose()
        assert requests_in_snapshot() == 4

    asyncio.run(scenario())


def _cli(config, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "lunaroute",
            *args,
            "--config-dir",
            str(config.config_dir),
            "--data-dir",
            str(config.data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def test_cli_lists_and_resets_what_a_running_engine_counts(tmp_path: Path) -> None:
    budgets = [
        budget_entry("b", {"type": "key", "id": "k"}, {"daily": {"requests": 3, "tokens": 10_000}}),
        budget_entry("other", {"type": "global"}, {"monthly": {"cost_cents": 500}}),
    ]
    config = make_config(tmp_path, keys=[key_entry("k")], budgets=budgets)
    key = key_of(config, "k")

    async def scenario() -> None:
        # The real clock: the CLI process reads the windows of today.
        engine = LimitsEngine.from_config(config, config.data_dir)
        for _ in range(3):
            ticket = await engine.admit(key, "gpt-4o")
            await engine.settle(ticket, "openai", "gpt-4o", 1000, 0)
        with pytest.raises(RateLimitedError):
            await engine.admit(key, "gpt-4o")

        listed = await asyncio.to_thread(_cli, config, "budgets", "--json")
        assert listed.returncode == 0, listed.stderr
        snap = {b["id"]: b for b in orjson.loads(listed.stdout)["budgets"]}
        daily = snap["b"]["windows"][0]
        assert daily["usage"] == {"tokens": 3000, "requests": 3, "cost_cents": pytest.approx(0.75)}
        assert daily["limits"] == {"tokens": 10_000, "requests": 3, "cost_cents": None}
        assert daily["ratio"] == 1.0
        assert snap["other"]["windows"][0]["usage"]["cost_cents"] == pytest.approx(0.75)

        table = await asyncio.to_thread(_cli, config, "budgets")
        assert table.returncode == 0 and "3000/10000" in table.stdout and "3/3" in table.stdout

        reset = await asyncio.to_thread(_cli, config, "budgets", "reset", "b")
        assert reset.returncode == 0, reset.stderr
        await engine.admit(key, "gpt-4o")  # the running engine sees the reset at once
        missing = await asyncio.to_thread(_cli, config, "budgets", "reset", "nope")
        assert missing.returncode == 1 and "no budget with id 'nope'" in missing.stderr
        await engine.aclose()

    asyncio.run(scenario())
