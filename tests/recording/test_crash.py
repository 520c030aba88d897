"""kill -9 during heavy recording: what was observed before the last flush interval is
exported intact, nothing is corrupt, partial files are skipped with a warning, and the
index is rebuilt from the files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from lunaroute.recording import Recorder, RecorderSettings, SessionFilter
from lunaroute.recording.keys import create_key_file
from lunaroute.recording.query import open_reader

from .helpers import KINDS, cli_env, ndjson, run_cli

CHILD = Path(__file__).with_name("crash_child.py")
# The child flushes every 0.1 s; a second of margin absorbs a busy machine.
MARGIN_S = 1.0


def _expected_answer(session: dict, i: int) -> None:
    kind = KINDS[i % len(KINDS)]
    assert session["request"]["messages"][-1]["content"] in (f"question number {i}", f"result {i}")
    response = session["response"]
    if kind == "openai_stream":
        assert response["choices"][0]["message"]["content"] == f"stream answer {i}"
        assert session["events"][-1]["data"] == "[DONE]"
    elif kind == "anthropic_stream":
        assert response["content"][0]["text"] == f"streamed {i}"
    elif kind == "failed":
        assert session["status"] == 502 and response["error"]["message"] == "every target failed"
    elif kind == "anthropic":
        assert response["content"][0]["text"] == f"answer {i}"
    else:
        assert response["choices"][0]["message"]["content"] == f"answer {i}"


def test_kill_9_loses_at_most_the_last_flush_interval(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    cfg = tmp_path / "cfg"
    assert run_cli("init", "--config-dir", str(cfg), home=home).returncode == 0
    data, key_file = cfg / "data", cfg / "keys" / "session.key"

    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(data), str(key_file)],
        stdout=subprocess.PIPE,
        text=True,
        env=cli_env(home),
    )
    observed: list[tuple[float, int]] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            observed.append((time.monotonic(), int(line.split()[1])))
            if observed[-1][1] >= 250 and time.monotonic() - observed[0][0] > 1.5:
                break
        killed_at = time.monotonic()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    safe = max((n for t, n in observed if t <= killed_at - MARGIN_S), default=0)
    assert safe >= 100, observed[-5:]

    sessions = data / "sessions"
    files = sorted(sessions.rglob("*.session"))
    # Export straight after the crash (before any recovery): every safe exchange is there.
    done = run_cli("--config-dir", str(cfg), "export", "--since", "1h", "--output", "-", home=home)
    assert done.returncode == 0, done.stderr
    exported = {s["id"]: s for s in ndjson(done.stdout)}
    missing = [i for i in range(safe) if f"sess_t{i:06d}" not in exported]
    assert not missing, missing[:10]
    for i in range(safe):
        _expected_answer(exported[f"sess_t{i:06d}"], i)
    assert "warning" not in done.stderr  # a kill leaves no partial session file behind

    # A recorder starting on the same data dir indexes what the dead writer's journal lists.
    rec = Recorder(data, RecorderSettings(flush_interval_s=0.05, encrypt=True, key_file=key_file))
    assert rec.close(10)
    reader = open_reader(data, key_file)
    try:
        assert reader.index.count(SessionFilter()) == len(files) >= safe
    finally:
        reader.close()

    # A torn file (a power cut mid-write) and a lost index: reindex rebuilds from the files.
    torn = files[len(files) // 2]
    torn.write_bytes(torn.read_bytes()[:-10])
    (sessions / "index.sqlite").unlink()
    for extra in ("index.sqlite-wal", "index.sqlite-shm"):
        (sessions / extra).unlink(missing_ok=True)
    done = run_cli("--config-dir", str(cfg), "sessions", "reindex", home=home)
    assert done.returncode == 0, done.stderr
    assert f"indexed {len(files) - 1} sessions, 1 damaged skipped" in done.stdout
    assert "truncated" in done.stderr and torn.name in done.stderr
    reader = open_reader(data, key_file)
    try:
        ids = {row["id"] for row in reader.index.query(SessionFilter())}
    finally:
        reader.close()
    assert len(ids) == len(files) - 1 and torn.stem not in ids


def test_kill_9_between_the_files_and_the_index_is_recovered_from_the_journal(tmp_path: Path) -> None:
    """The index is held locked (as a long reindex would) so the writer's commits fail: its
    files are on disk and only its journal lists them when it is killed."""
    data, key_file = tmp_path / "data", tmp_path / "keys" / "session.key"
    create_key_file(key_file)
    child = subprocess.Popen([sys.executable, str(CHILD), str(data), str(key_file)], stdout=subprocess.PIPE, text=True)
    lock: sqlite3.Connection | None = None
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if int(line.split()[1]) >= 50:
                break
        lock = sqlite3.connect(data / "sessions" / "index.sqlite", timeout=10, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        indexed = lock.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
        deadline = time.monotonic() + 10
        while len(_session_files(data)) < indexed + 20 and time.monotonic() < deadline:
            child.stdout.readline()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        files = _session_files(data)
        assert len(files) >= indexed + 20  # written, not indexed
        listed = set()
        for journal in (data / "sessions").glob(".journal-*"):
            listed.update(journal.read_text().split())
        unindexed = {f for f in files if not lock.execute("SELECT 1 FROM sessions WHERE path = ?", (f,)).fetchone()}
        assert unindexed and unindexed <= listed
    finally:
        if lock is not None:
            lock.close()  # rolls back: the lock is released
        child.kill()
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()

    rec = Recorder(data, RecorderSettings(flush_interval_s=0.05, encrypt=True, key_file=key_file))
    assert rec.close(10)
    reader = open_reader(data, key_file)
    try:
        rows = {row["path"] for row in reader.index.query(SessionFilter())}
        assert rows == set(files)
        for row in reader.index.query(SessionFilter()):
            assert reader.session(row)["id"] == Path(row["path"]).stem
    finally:
        reader.close()
    assert list((data / "sessions").glob(".journal-*")) == []


def _session_files(data: Path) -> list[str]:
    root = data / "sessions"
    return sorted(p.relative_to(root).as_posix() for p in root.glob("*/*/*/*.session"))
