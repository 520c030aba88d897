"""The UI's parts on their own: loopback rules, paging, the rollup, charts, masking, transcripts."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from lunaroute.recording import SessionFilter
from lunaroute.ui import charts, config_view, transcript
from lunaroute.ui.auth import Sessions, host_of, is_loopback_host, login_required
from lunaroute.ui.http import safe_next
from lunaroute.ui.recordings import Recordings
from lunaroute.ui.rollup import Rollup, total
from lunaroute.ui.rollup import latency_bin as _bin

from .seed import seed_sessions

# The rollup builds from the real clock: the seeded sessions must be recent.
NOW = float(int(time.time()))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("127.255.1.9", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("128.0.0.1", False),
        ("ui.example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_loopback_is_127_8_and_ipv6_1(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_login_needed_beyond_loopback_or_with_keys() -> None:
    key = SimpleNamespace(id="k", scopes=("openai_ingress",))
    assert login_required("127.0.0.1", []) is False
    assert login_required("127.0.0.1", [key]) is True
    assert login_required("0.0.0.0", []) is True
    assert host_of("127.0.0.1:8082") == "127.0.0.1"
    assert host_of("[::1]:8082") == "::1"
    assert host_of("evil.example") == "evil.example"


def test_sessions_refuse_a_wrong_key_and_drop_a_deleted_one() -> None:
    from lunaroute.config.schema import ApiKey
    from lunaroute.tenancy.keys import hash_key

    admin = ApiKey(id="k_admin", name="ops", key_hash=hash_key("lr-right"), scopes=("admin",))
    plain = ApiKey(id="k_plain", name="ci", key_hash=hash_key("lr-plain"), scopes=("openai_ingress",))
    sessions = Sessions()
    assert sessions.login([admin, plain], "lr-wrong", 60) is None
    assert sessions.login([admin, plain], "lr-plain", 60) is None  # valid key, no admin scope
    token, session = sessions.login([admin, plain], "lr-right", 60)
    assert session.key_id == "k_admin" and "lr-right" not in token
    assert sessions.check(token, [admin, plain]) is not None
    assert sessions.check(token, [plain]) is None  # the key was deleted: the login ends
    assert sessions.check(token, [admin, plain]) is None
    token2, _ = sessions.login([admin], "lr-right", 60)
    sessions.logout(token2)
    assert sessions.check(token2, [admin]) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("/sessions?x=1", "/sessions?x=1"), ("//evil.example/", "/"), ("https://evil.example/", "/"), ("/\\evil", "/")],
)
def test_login_redirects_stay_on_the_site(value: str, expected: str) -> None:
    assert safe_next(value) == expected


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("ui-data")
    seed_sessions(data, 1200, now=NOW, span_s=86400.0)
    return data


def test_keyset_pages_walk_every_session_once_both_ways(seeded: Path) -> None:
    rec = Recordings(seeded, None)
    flt = SessionFilter(status=(200, 299))
    expected = rec.reader().index.count(flt)
    seen: list[str] = []
    page = rec.page(flt, size=97)
    pages = [page]
    while True:
        assert all(200 <= r["status"] <= 299 for r in page.rows)
        seen += [r["id"] for r in page.rows]
        if page.older is None:
            break
        page = rec.page(flt, before=page.older, size=97)
        pages.append(page)
    assert len(seen) == len(set(seen)) == expected == page.total
    keys = [(r["ts"], r["id"]) for p in pages for r in p.rows]
    assert keys == sorted(keys, reverse=True)
    # Back from the last page with `after`: the same pages, newest first on each.
    back = pages[-1]
    for previous in reversed(pages[:-1]):
        back = rec.page(flt, after=back.newer, size=97)
        assert [r["id"] for r in back.rows] == [r["id"] for r in previous.rows]
    assert back.newer is None
    rec.close()


def test_rollup_matches_the_index_and_tracks_new_rows(seeded: Path) -> None:
    index = seeded / "sessions" / "index.sqlite"
    rollup = Rollup(str(index), first_build_wait_s=30.0)
    conn = sqlite3.connect(index)
    rollup.refresh(conn, NOW)
    starts, cells = rollup.series("24h", NOW)
    assert len(starts) == 96 and starts == sorted(starts)
    summed = total(cells)
    first = starts[0]
    count, errors, tin, cost = conn.execute(
        "SELECT COUNT(*), SUM(status >= 400 OR status = 0), SUM(input_tokens), SUM(cost_cents) FROM sessions "
        "WHERE ts >= ? AND ts < ?",
        (first, NOW + 1),
    ).fetchone()
    assert (summed.requests, summed.errors, summed.input_tokens) == (count, errors, tin)
    assert summed.cost_cents == pytest.approx(cost)
    latencies = sorted(r[0] for r in conn.execute("SELECT latency_ms FROM sessions WHERE ts >= ?", (first,)))
    exact_p95 = latencies[int(len(latencies) * 0.95) - 1]
    assert summed.percentile(0.95) == pytest.approx(exact_p95, rel=0.05)
    by_provider = rollup.by("24h", 0, NOW)
    assert sum(c.requests for c in by_provider.values()) == count
    # A session written later shows up on the next refresh, counted once.
    seed_more = seeded.parent / "more"
    seed_sessions(seed_more, 3, now=NOW, span_s=60.0, seed=99)
    rows = sqlite3.connect(seed_more / "sessions" / "index.sqlite").execute("SELECT * FROM sessions").fetchall()
    with conn:
        conn.executemany(f"INSERT INTO sessions VALUES ({', '.join('?' * len(rows[0]))})", rows)
    rollup.refresh(conn, NOW)
    rollup.refresh(conn, NOW)
    assert total(rollup.series("24h", NOW)[1]).requests == count + 3
    conn.close()


def test_latency_bins_are_within_five_percent() -> None:
    from lunaroute.ui.rollup import bin_value

    for ms in (1.5, 12.0, 480.0, 9_999.0, 120_000.0):
        assert bin_value(_bin(ms)) == pytest.approx(ms, rel=0.05)


def test_charts_are_svg_with_classes_and_titles_only() -> None:
    starts = [NOW + 60 * i for i in range(5)]
    svg = charts.bar_chart("r", starts, 60, [("bar ok", "ok", [1, 2, 0, 4, None])], str)
    assert svg.startswith("<svg") and svg.count("<rect") == 3 and "style=" not in svg
    assert "<title>" in svg and "ok: 4" in svg
    line = charts.line_chart("l", starts, 60, [("line p50", "p50", [1.0, None, 3.0, 4.0, 5.0])], str)
    assert line.count("<polyline") == 1 and line.count("<circle") == 4  # the gap breaks the line
    assert charts.nice_ceiling(0) == 1.0 and charts.nice_ceiling(3.2) == 5.0 and charts.nice_ceiling(1200) == 2000


def test_config_view_masks_secrets() -> None:
    assert config_view.mask_url("redis://:hunter2@redis.internal:6380/0") == "redis://:***@redis.internal:6380/0"
    assert config_view.mask_url("https://user:pw@[::1]:8443/x") == "https://user:***@[::1]:8443/x"
    assert config_view.mask_url("https://api.openai.com") == "https://api.openai.com"
    masked = config_view.plain(
        {
            "api_key": "sk-secret",
            "key_hash": "$argon2id$x",
            "extra_headers": {"X-Api-Key": "abc", "Authorization": "Bearer t", "x-trace": "keep"},
            "tokens_per_minute": 100,
            "url": "redis://u:pw@h/0",
        }
    )
    text = repr(masked)
    for secret in ("sk-secret", "argon2id", "abc", "Bearer t", "pw@"):
        assert secret not in text
    assert masked["tokens_per_minute"] == 100 and masked["extra_headers"]["x-trace"] == "keep"


def test_transcript_reads_thinking_tools_and_new_input() -> None:
    obj = {
        "request": {
            "system": "Be careful.",
            "messages": [
                {"role": "user", "content": "write a.txt"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "I should use Write", "signature": "s"},
                        {"type": "tool_use", "id": "toolu_1", "name": "Write", "input": {"path": "a.txt"}},
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "written", "is_error": False}
                    ],
                },
            ],
        },
        "response": {"type": "message", "content": [{"type": "text", "text": "Done."}], "stop_reason": "end_turn"},
    }
    turns = transcript.request(obj)
    assistant = next(t for t in turns if t.role == "assistant")
    assert [p.kind for p in assistant.parts] == ["thinking", "call"]
    assert assistant.parts[0].text == "I should use Write" and '"path": "a.txt"' in assistant.parts[1].text
    fresh = transcript.new_input(turns, first_of_conversation=False)
    assert [(t.role, t.parts[0].kind, t.parts[0].text) for t in fresh] == [("user", "result", "written")]
    assert transcript.new_input(turns, first_of_conversation=True)[0].role == "system"
    parts, stop = transcript.answer(obj)
    assert (parts[0].text, stop) == ("Done.", "end_turn")


def test_event_summaries_pick_the_delta() -> None:
    rows = transcript.event_rows(
        [
            {"seq": 0, "t_ms": 10.0, "event": "content_block_delta", "data": {"delta": {"text": "Hel"}}},
            {"seq": 1, "t_ms": 25.5, "event": "message", "data": '{"choices": [{"delta": {"content": "lo"}}]}'},
        ],
        None,
    )
    assert rows[0]["what"] == "text: 'Hel'" and rows[1]["what"] == "content: 'lo'"
    assert rows[0]["gap_ms"] is None and rows[1]["gap_ms"] == pytest.approx(15.5)


def test_seeding_writes_readable_sessions(tmp_path: Path) -> None:
    started = time.perf_counter()
    result = seed_sessions(tmp_path, 200, now=NOW, span_s=3600.0)
    assert result.count == 200 and time.perf_counter() - started < 30
    rec = Recordings(tmp_path, None)
    rows = rec.latest(200)
    assert len(rows) == 200
    streamed = next(r for r in rows if r["stream"] and r["status"] == 200)
    doc = rec.document(streamed)
    assert doc["stream_events"] > 3 and rec.events(streamed, 0, 2)[0]["seq"] == 0
    assert transcript.answer(doc)[0][0].text.startswith("Line ")
    rec.close()


def test_counting_stops_past_the_cap(seeded: Path, monkeypatch) -> None:
    from lunaroute.ui import recordings

    monkeypatch.setattr(recordings, "COUNT_CAP", 100)
    rec = Recordings(seeded, None)
    page = rec.page(SessionFilter())
    assert page.total == 101 and len(page.rows) == 50  # "more than 100"; the page itself is whole
    assert rec.page(SessionFilter(key_id="no-such-key")).total == 0
    rec.close()


def test_first_build_in_sql_equals_row_by_row(seeded: Path) -> None:
    from lunaroute.ui.rollup import GRIDS, _aggregate, _ingest

    conn = sqlite3.connect(seeded / "sessions" / "index.sqlite")
    by_sql: dict = {name: {} for name in GRIDS}
    by_rows: dict = {name: {} for name in GRIDS}
    _aggregate(conn, by_sql)
    _ingest(conn, by_rows, "ts >= ?", 0.0)
    conn.close()
    for name in GRIDS:
        assert by_sql[name].keys() == by_rows[name].keys(), name
        for index, cells in by_sql[name].items():
            for dims, cell in cells.items():
                other = by_rows[name][index][dims]
                assert (cell.requests, cell.errors, cell.input_tokens, cell.latency) == (
                    other.requests,
                    other.errors,
                    other.input_tokens,
                    other.latency,
                )
                assert cell.cost_cents == pytest.approx(other.cost_cents)


def test_pages_do_not_wait_for_a_slow_first_build(seeded: Path, monkeypatch) -> None:
    import threading

    from lunaroute.ui import rollup as rollup_module

    release = threading.Event()
    real = rollup_module._aggregate

    def slow(conn, grids):
        release.wait(10)
        real(conn, grids)

    monkeypatch.setattr(rollup_module, "_aggregate", slow)
    index = seeded / "sessions" / "index.sqlite"
    rollup = Rollup(str(index), first_build_wait_s=0.05)
    rollup.start()
    conn = sqlite3.connect(index)
    started = time.perf_counter()
    assert rollup.refresh(conn) is False and time.perf_counter() - started < 2
    release.set()
    deadline = time.monotonic() + 10
    while not rollup.refresh(conn) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert rollup.ready and total(rollup.series("24h")[1]).requests > 0
    conn.close()
