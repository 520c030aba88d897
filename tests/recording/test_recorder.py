"""The Recorder on real files: what a session holds, streams assembled for both dialects,
queue-full policies, journal and spill recovery, errors counted, retention."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from lunaroute.config.schema import StorageConfig
from lunaroute.recording import Recorder, RecorderSettings
from lunaroute.recording.capture import capture, encode_captured
from lunaroute.recording.format import KIND_SPILL, Codec
from lunaroute.recording.keys import KeyRing, create_key_file
from lunaroute.recording.maintenance import sweep
from lunaroute.recording.query import open_reader
from lunaroute.recording.session import build_session
from lunaroute.recording.store import FileSessionStore

from .helpers import FIXTURES, KINDS, exchange, split


def _settings(**kw) -> RecorderSettings:
    kw.setdefault("flush_interval_s", 0.05)
    kw.setdefault("fsync", "never")
    return RecorderSettings(**kw)


def _all(data_dir: Path, key_file: Path | None = None) -> dict[str, dict]:
    reader = open_reader(data_dir, key_file)
    try:
        from lunaroute.recording.index import SessionFilter

        return {row["id"]: reader.session(row) for row in reader.index.query(SessionFilter())}
    finally:
        reader.close()


def _index_count(data_dir: Path) -> int:
    conn = sqlite3.connect(data_dir / "sessions" / "index.sqlite")
    try:
        return conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    finally:
        conn.close()


def test_every_kind_of_exchange_is_recorded_with_the_contract_fields(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, _settings())
    for i, kind in enumerate(KINDS):
        rec.observe(exchange(i, kind))
    assert rec.close(10)
    assert (rec.written, rec.errors, rec.dropped) == (len(KINDS), 0, 0)
    got = _all(tmp_path)
    assert len(got) == len(KINDS)
    for i, kind in enumerate(KINDS):
        s = got[f"sess_t{i:06d}"]
        for field in (
            "id",
            "timestamp",
            "tenant",
            "key_id",
            "listener",
            "request_model",
            "provider",
            "model",
            "status",
            "stream",
            "latency_ms",
            "ttft_ms",
            "usage",
            "request",
            "response",
            "fallbacks_tried",
        ):
            assert field in s, (kind, field)
        assert s["timestamp"].endswith("Z") and s["timestamp"][10] == "T"
        assert s["request"]["messages"][-1]["content"]
        assert s["usage"]["input_tokens"] == (0 if kind == "failed" else 10 + i)
        assert s["latency_ms"] == 250.0
        assert s["stream"] == kind.endswith("_stream")
        assert s["tenant"] == f"tenant_{i % 2}" and s["key_id"] == f"key_{i % 3}"
    assert got["sess_t000000"]["response"]["choices"][0]["message"]["content"] == "answer 0"
    assert got["sess_t000004"]["fallbacks_tried"] == [
        {"provider": "openai", "model": "gpt-4o", "outcome": "503 from upstream"}
    ]
    assert got["sess_t000005"]["status"] == 502 and got["sess_t000005"]["error"] == "every target failed"
    # Claude Code's metadata.user_id carries the conversation; the id is taken from it.
    assert got["sess_t000001"]["conversation_id"] == "conv-0001-x"
    # An OpenAI stream: the answer rebuilt (text + tool call) and the events in order.
    s = got["sess_t000002"]
    message = s["response"]["choices"][0]["message"]
    assert message["content"] == "stream answer 2"
    assert message["tool_calls"][0]["function"] == {"name": "fetch", "arguments": '{"url": "x"}'}
    assert s["response"]["choices"][0]["finish_reason"] == "tool_calls"
    assert s["response"]["usage"]["prompt_tokens"] == 20
    assert s["ttft_ms"] == 50.0
    assert [e["seq"] for e in s["events"]] == list(range(len(s["events"])))
    assert s["events"][-1]["data"] == "[DONE]"
    assert all(a["t_ms"] <= b["t_ms"] for a, b in zip(s["events"], s["events"][1:]))
    # An Anthropic stream.
    s = got["sess_t000003"]
    assert s["response"]["content"] == [{"type": "text", "text": "streamed 3"}]
    assert s["response"]["stop_reason"] == "end_turn"
    assert [e["event"] for e in s["events"]][:3] == ["message_start", "content_block_start", "ping"]
    assert s["events"][0]["data"]["message"]["id"] == "msg_s3"


@pytest.mark.parametrize(("name", "dialect"), [("openai_chat.sse", "openai"), ("anthropic_messages.sse", "anthropic")])
def test_long_recorded_streams_reassemble_exactly(tmp_path: Path, name: str, dialect: str) -> None:
    manifest = json.loads((FIXTURES / "manifest.json").read_text())[name]
    raw = (FIXTURES / name).read_bytes()
    rec = Recorder(tmp_path, _settings())
    rec.observe(exchange(1, f"{dialect}_stream", stream_chunks=split(raw, 1499)))
    assert rec.close(10)
    s = _all(tmp_path)["sess_t000001"]
    assert len(s["events"]) == manifest["events"] == s["events"][-1]["seq"] + 1
    if dialect == "openai":
        message = s["response"]["choices"][0]["message"]
        assert message["content"] == manifest["text"]
        assert message["tool_calls"][0]["function"]["arguments"] == manifest["arguments"]
    else:
        text, tool = s["response"]["content"]
        assert text == {"type": "text", "text": manifest["text"]}
        assert tool["type"] == "tool_use" and tool["input"]["days"] == manifest["tool_input"]["days"]


def test_a_minimal_exchange_and_request_data_fallback(tmp_path: Path) -> None:
    """Only the original Exchange fields: no session id, no timestamp, no bodies."""
    ex = SimpleNamespace(request_id="r1", listener="l", dialect="openai", request_model="m", provider="p", model="m")
    rec = Recorder(tmp_path, _settings())
    before = time.time()
    rec.observe(ex, {"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert rec.close(10)
    (s,) = _all(tmp_path).values()
    assert s["id"].startswith("sess_")
    assert s["request"] == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert s["response"] is None and s["fallbacks_tried"] == [] and s["status"] == 0
    assert abs(time.mktime(time.strptime(s["timestamp"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone - before) < 5


def test_unsafe_session_ids_never_become_paths(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, _settings())
    rec.observe(exchange(1, session_id="../../escape"))
    assert rec.close(10)
    (sid,) = _all(tmp_path)
    assert sid.startswith("sess_") and "/" not in sid
    assert not (tmp_path / "escape.session").exists()


class _Blocking(SimpleNamespace):
    """An exchange whose first attribute read holds the writer thread until released."""

    def __init__(self, inner, gate: threading.Event, entered: threading.Event) -> None:
        super().__init__(**vars(inner))
        object.__setattr__(self, "_gate", (gate, entered))

    def __getattribute__(self, name: str):
        if name == "request_id":
            gate, entered = object.__getattribute__(self, "_gate")
            entered.set()
            gate.wait(10)
        return object.__getattribute__(self, name)


def _hold_writer(rec: Recorder) -> threading.Event:
    gate, entered = threading.Event(), threading.Event()
    rec.observe(_Blocking(exchange(0), gate, entered))
    assert entered.wait(5)
    return gate


def test_full_queue_drop_policy_counts_and_never_blocks(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, _settings(queue_size=4, queue_full="drop"))
    gate = _hold_writer(rec)
    t0 = time.monotonic()
    for i in range(1, 11):
        rec.observe(exchange(i))
    assert time.monotonic() - t0 < 0.5
    assert rec.dropped == 6
    gate.set()
    assert rec.close(10)
    assert rec.written == 5 and _index_count(tmp_path) == 5


def test_full_queue_spill_policy_loses_nothing(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, _settings(queue_size=4, queue_full="spill"))
    gate = _hold_writer(rec)
    for i in range(1, 11):
        rec.observe(exchange(i))
    deadline = time.monotonic() + 5
    while rec.spilled < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert rec.spilled == 6 and rec.dropped == 0
    spill_dir = tmp_path / "sessions" / "spill"
    assert any(p.stat().st_size for p in spill_dir.iterdir())  # parked on disk, not in memory
    gate.set()
    assert rec.flush(10)
    assert sorted(_all(tmp_path)) == [f"sess_t{i:06d}" for i in range(11)]
    assert list(spill_dir.iterdir()) == []  # replayed, then removed
    assert rec.close(10)


def test_spill_files_of_a_dead_process_are_replayed_at_start(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "session.key"
    create_key_file(key_file)
    spill_dir = tmp_path / "sessions" / "spill"
    spill_dir.mkdir(parents=True)
    codec = Codec(keyring=KeyRing.load(key_file, required=True), encrypt=True)
    records = b"".join(codec.seal(KIND_SPILL, encode_captured(capture(exchange(i))), "none") for i in range(3))
    torn = codec.seal(KIND_SPILL, encode_captured(capture(exchange(3))), "none")[:-7]
    (spill_dir / "4242-1-1.spill").write_bytes(records + torn)
    rec = Recorder(tmp_path, _settings(encrypt=True, key_file=key_file, queue_full="drop"))
    assert rec.flush(10)
    assert sorted(_all(tmp_path, key_file)) == [f"sess_t{i:06d}" for i in range(3)]
    assert list(spill_dir.iterdir()) == []
    assert rec.errors == 1  # the torn record: counted, not fatal
    assert rec.close(10)


def test_journal_of_a_dead_writer_is_indexed_at_start(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path / "sessions", Codec())
    store.ensure_root()
    relatives = []
    for i in range(3):
        built = build_session(capture(exchange(i)))
        relatives.append(store.relative_path(built.id, built.timestamp))
        if i < 2:  # the third was listed, but the writer died before writing it
            store.write(relatives[-1], built.document, None)
    journal = tmp_path / "sessions" / ".journal-99999-1"
    journal.write_text("\n".join(relatives) + "\n2026/01/0")  # and a torn last line
    rec = Recorder(tmp_path, _settings())
    assert rec.flush(10)
    assert sorted(_all(tmp_path)) == ["sess_t000000", "sess_t000001"]
    assert not journal.exists()
    assert rec.close(10)
    assert [p.name for p in (tmp_path / "sessions").iterdir() if p.name.startswith(".journal")] == []


def test_write_failures_are_counted_and_the_writer_survives(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, _settings())
    now = time.time()
    year = time.strftime("%Y", time.gmtime(now - 400 * 86400))
    (tmp_path / "sessions" / year).write_text("a file where a directory should be")
    rec.observe(exchange(1, timestamp=now - 400 * 86400))
    rec.observe(exchange(2))
    assert rec.flush(10)
    assert rec.errors == 1 and rec.written == 1
    assert list(_all(tmp_path)) == ["sess_t000002"]
    assert rec.close(10)


def test_close_flushes_everything_and_later_exchanges_are_dropped(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, _settings(flush_interval_s=30.0, fsync="batch"))
    for i in range(300):
        rec.observe(exchange(i, KINDS[i % len(KINDS)]))
    assert rec.close(20)
    rec.observe(exchange(999))
    assert rec.dropped == 1
    assert rec.written == 300 and _index_count(tmp_path) == 300


def test_from_config(tmp_path: Path) -> None:
    assert Recorder.from_config(StorageConfig(sessions_enabled=False), tmp_path) is None
    key_file = tmp_path / "keys" / "session.key"
    create_key_file(key_file)
    cfg = StorageConfig(compression="lz4", encryption_enabled=True, key_file=key_file, fsync="always")
    rec = Recorder.from_config(cfg, tmp_path)
    assert rec is not None
    rec.observe(exchange(1))
    assert rec.close(10)
    path = next((tmp_path / "sessions").rglob("*.session"))
    assert path.read_bytes()[5] == 0x02 | 0x04  # lz4, encrypted
    assert _all(tmp_path, key_file)["sess_t000001"]["request"]["model"] == "gpt-4o"
    with pytest.raises(ValueError, match="session key"):
        Recorder.from_config(StorageConfig(encryption_enabled=True, key_file=tmp_path / "none.key"), tmp_path)


def test_retention_and_disk_cap(tmp_path: Path) -> None:
    now = time.time()
    rec = Recorder(tmp_path, _settings())
    for i in range(10):
        rec.observe(exchange(i, timestamp=now - 40 * 86400 + i))  # past retention
    for i in range(10, 30):
        rec.observe(exchange(i, timestamp=now - 3600 + i))
    assert rec.close(10)
    old_day = tmp_path / "sessions" / time.strftime("%Y/%m/%d", time.gmtime(now - 40 * 86400))
    assert len(list(old_day.iterdir())) == 10
    (old_day / "stray.session").write_bytes(b"unindexed leftovers of a day past retention")

    reader = open_reader(tmp_path, None)
    try:
        result = sweep(reader.store, reader.index, retention_days=30, max_bytes=None, now=now)
        assert result.removed == 10
        assert not old_day.exists()
        assert reader.index.count(_flt()) == 20
        size_each = reader.index.total_size() // 20
        result = sweep(reader.store, reader.index, retention_days=30, max_bytes=size_each * 12, now=now)
        assert reader.index.total_size() <= size_each * 12 + 20
        remaining = [r["id"] for r in reader.index.query(_flt())]
        assert remaining == [f"sess_t{i:06d}" for i in range(30 - len(remaining), 30)]  # oldest went first
        assert len(list(reader.store.iter_session_files())) == len(remaining)
    finally:
        reader.close()


def test_the_writer_sweeps_on_its_own(tmp_path: Path) -> None:
    now = time.time()
    rec = Recorder(tmp_path, _settings(retention_days=1))
    rec.observe(exchange(1, timestamp=now - 5 * 86400))
    rec.observe(exchange(2))
    assert rec.flush(10)
    rec.sweep_now()
    deadline = time.monotonic() + 5
    while _index_count(tmp_path) != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(_all(tmp_path)) == ["sess_t000002"]
    assert rec.close(10)


def _flt():
    from lunaroute.recording.index import SessionFilter

    return SessionFilter()


def test_files_and_index_are_private(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, _settings())
    rec.observe(exchange(1))
    assert rec.close(10)
    assert (tmp_path / "sessions" / "index.sqlite").stat().st_mode & 0o077 == 0
    for path in (tmp_path / "sessions").rglob("*"):
        assert path.stat().st_mode & 0o077 == 0, path
