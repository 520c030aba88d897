"""The UI of a real `lunaroute serve` (granian, its own listener) over recorded sessions."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from tests.mock_upstream.fixture import session_mock_upstream

from .seed import seed_claude_conversation, seed_long_session, seed_sessions
from .ui_kit import (
    ADMIN_KEY,
    CLIENT_KEY,
    UPSTREAM_SECRET,
    admin_keys,
    data_dir,
    get,
    inline_code,
    login,
    request,
    ui_gateway,
    wait_for_port,
)

PAGES = ("/", "/?period=1h", "/?period=7d", "/sessions", "/providers", "/budgets", "/config")
CONVERSATION = "5d0c2c1e-7a11-4c6b-9f0e-claude"


@pytest.fixture(scope="module")
def open_ui(tmp_path_factory):
    """Loopback bind, no keys: the UI is open (local mode)."""
    gw, port = ui_gateway(tmp_path_factory.mktemp("ui-open"), session_mock_upstream().url)
    seed_sessions(data_dir(gw), 1500, span_s=2 * 86400.0)
    ids = seed_claude_conversation(data_dir(gw), CONVERSATION)
    ids.append(seed_long_session(data_dir(gw)))
    gw.start()
    wait_for_port(port)
    yield port, ids
    assert gw.stop() == 0, gw.logs()


@pytest.fixture(scope="module")
def guarded_ui(tmp_path_factory):
    """Bound to 0.0.0.0 (beyond loopback), with an admin key and a client key."""
    gw, port = ui_gateway(
        tmp_path_factory.mktemp("ui-guarded"), session_mock_upstream().url, ui_host="0.0.0.0", keys=admin_keys()
    )
    seed_sessions(data_dir(gw), 300, span_s=86400.0)
    gw.start()
    wait_for_port(port)
    yield gw, port
    assert gw.stop() == 0, gw.logs()


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


# ---------------------------------------------------------------------- open on loopback
@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_with_a_strict_csp_and_no_inline_code(open_ui, path: str) -> None:
    port, _ = open_ui
    answer = get(port, path)
    assert answer.status == 200, answer.text[:500]
    csp = answer.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    assert inline_code(answer.text) == []
    assert '<script src="/static/ui.js?v=' in answer.text


def test_overview_counts_what_the_index_holds(open_ui) -> None:
    port, _ = open_ui
    week = get(port, "/?period=7d").text
    total = re.search(r'id="total-requests">([^<]+)<', week).group(1)
    assert total == "1,504"  # 1500 seeded, the 3 turns of the conversation, the long one
    assert week.count('<svg class="chart"') == 4
    assert "up-anthropic" in week and "up-openai" in week


def test_open_ui_answers_loopback_host_names_only(open_ui) -> None:
    port, _ = open_ui
    assert get(port, "/", headers={"host": "localhost:1"}).status == 200
    rebinding = get(port, "/", headers={"host": "attacker.example"})
    assert rebinding.status == 403 and "loopback" in rebinding.text


def test_sessions_filters_narrow_the_list(open_ui) -> None:
    port, _ = open_ui
    everything = get(port, "/sessions").text
    assert "1,504 matching sessions" in everything
    for query, column_text in (
        ("provider=up-anthropic", "up-anthropic"),
        ("tenant=globex", "globex"),
        ("key=key_beta", "key_beta"),
        ("model=gpt-4o-mini", "gpt-4o-mini"),
    ):
        rows = _rows(get(port, f"/sessions?{query}").text)
        assert rows and all(column_text in row for row in rows), query
    failed = get(port, "/sessions?status=5xx").text
    statuses = re.findall(r'class="status (?:ok|warn|bad)">(\d+)<', failed.split("<tbody>", 1)[1])
    assert statuses and all(s.startswith("5") for s in statuses)
    cutoff = datetime.now(UTC) - timedelta(minutes=10, seconds=5)
    recent = get(port, "/sessions?since=10m").text
    shown = re.findall(r'href="/sessions/sess_[^"]+">([0-9-]+ [0-9:]+)<', recent)
    matching = int(re.search(r'id="match-count">([0-9,]+) matching', recent).group(1))
    assert 4 <= matching == len(shown) < 20  # the conversation, the long one and the last few seeded
    assert all(datetime.fromisoformat(t + "+00:00") >= cutoff for t in shown)
    conv = get(port, f"/sessions?conversation={CONVERSATION}").text
    assert "3 matching sessions" in conv
    bad = get(port, "/sessions?since=last+tuesday")
    assert bad.status == 200 and "since: expected a duration" in bad.text


def test_sessions_page_on_and_back(open_ui) -> None:
    port, _ = open_ui
    first = get(port, "/sessions?tenant=acme").text
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = get(port, older).text
    ids_first = set(re.findall(r'href="/sessions/(sess_[^"]+)"', first))
    ids_second = set(re.findall(r'href="/sessions/(sess_[^"]+)"', second))
    assert len(ids_first) == len(ids_second) == 50 and not ids_first & ids_second
    newer = re.search(r'rel="prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    assert set(re.findall(r'href="/sessions/(sess_[^"]+)"', get(port, newer).text)) == ids_first


def test_a_claude_code_turn_renders_thinking_tool_call_and_events(open_ui) -> None:
    port, ids = open_ui
    page = get(port, f"/sessions/{ids[0]}").text
    assert "Thinking" in page and "I will call Write." in page
    assert "tool call <b>Write</b>" in page and "hello.py" in page
    assert "stop: tool_use" in page
    assert "content_block_delta" in page and "thinking: " in page  # the events table
    second = get(port, f"/sessions/{ids[1]}").text
    assert "tool result" in second and "File created successfully" in second
    assert "I created hello.py" in second


def test_conversation_timeline_shows_each_turn_once(open_ui) -> None:
    port, ids = open_ui
    page = get(port, f"/conversations/{quote(CONVERSATION)}").text
    turns = re.findall(r'<li class="step" id="turn-(\d+)">', page)
    assert turns == ["1", "2", "3"]
    step2 = page.split('id="turn-2"', 1)[1].split('id="turn-3"', 1)[0]
    # Turn 2 shows what it added (the tool result), not the whole history again.
    assert "File created successfully" in step2 and "Create hello.py" not in step2
    assert "I created hello.py" in step2 and f"/sessions/{ids[1]}/raw" in step2
    assert "You are Claude Code" in page.split('id="turn-2"', 1)[0]  # the system prompt, on turn 1


def test_raw_view_is_the_exported_session(open_ui) -> None:
    port, ids = open_ui
    answer = get(port, f"/sessions/{ids[0]}/raw")
    assert answer.status == 200 and answer.headers["content-type"].startswith("application/json")
    obj = json.loads(answer.body)
    assert obj["id"] == ids[0] and obj["conversation_id"] == CONVERSATION
    assert obj["events"][0]["event"] == "message_start"
    assert obj["response"]["content"][1]["name"] == "Write"


def test_missing_things_are_404_and_writes_are_refused(open_ui) -> None:
    port, _ = open_ui
    assert get(port, "/sessions/sess_nothing_here").status == 404
    assert get(port, "/sessions/sess_nothing_here/raw").status == 404
    assert get(port, "/conversations/none-such").status == 404
    assert get(port, "/nope").status == 404
    assert get(port, "/static/missing.js").status == 404
    assert request(port, "POST", "/sessions", body=b"", headers={"content-length": "0"}).status == 405
    css = get(port, "/static/ui.css")
    assert css.status == 200 and css.headers["content-type"].startswith("text/css")
    assert "max-age" in css.headers["cache-control"]
    assert get(port, "/sessions?id=sess_nothing_here").status == 200


def test_session_lookup_by_prefix_redirects(open_ui) -> None:
    port, ids = open_ui
    answer = get(port, f"/sessions?id={ids[2][:14]}")
    assert answer.status == 303 and answer.headers["location"] == f"/sessions/{ids[2]}"


# ---------------------------------------------------------------------- beyond loopback
def test_beyond_loopback_every_page_asks_for_a_login(guarded_ui) -> None:
    _, port = guarded_ui
    for path in PAGES + ("/sessions/sess_x", "/conversations/c"):
        answer = get(port, path)
        assert answer.status == 303, path
        assert answer.headers["location"] == "/login?next=" + quote(path, safe="")
    page = get(port, "/login")
    assert page.status == 200 and 'type="password"' in page.text and inline_code(page.text) == []
    assert get(port, "/static/ui.css").status == 200  # the login page needs its stylesheet
    assert request(port, "POST", "/sessions", body=b"", headers={"content-length": "0"}).status == 403


def test_only_an_admin_key_logs_in_and_the_cookie_is_not_the_key(guarded_ui) -> None:
    _, port = guarded_ui
    wrong = login(port, "lr-" + "x" * 40)
    assert wrong.status == 200 and "not a key with the admin scope" in wrong.text and not wrong.cookies
    plain = login(port, CLIENT_KEY)
    assert plain.status == 200 and "login-error" in plain.text and not plain.cookies
    cross_site = login(port, ADMIN_KEY, origin="http://attacker.example")
    assert cross_site.status == 403 and not cross_site.cookies
    ok = login(port, ADMIN_KEY, next_path="/providers")
    assert ok.status == 303 and ok.headers["location"] == "/providers"
    (cookie,) = ok.cookies
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert ADMIN_KEY not in cookie and ADMIN_KEY[3:20] not in cookie
    pair = cookie.split(";", 1)[0]
    assert len(pair.split("=", 1)[1]) >= 40
    assert get(port, "/providers", cookie=pair).status == 200
    assert get(port, "/", cookie=pair.replace(pair[-6:], "AAAAAA")).status == 303
    off_site = login(port, ADMIN_KEY, next_path="//attacker.example/")
    assert off_site.headers["location"] == "/"
    out = request(port, "POST", "/logout", headers={"cookie": pair, "content-length": "0"})
    assert out.status == 303 and "Max-Age=0" in out.cookies[0]
    assert get(port, "/providers", cookie=pair).status == 303


def test_pages_never_show_a_secret(guarded_ui) -> None:
    gw, port = guarded_ui
    pair = login(port, ADMIN_KEY).cookies[0].split(";", 1)[0]
    keys_json = (gw.config_dir / "keys.json").read_text()
    hashes = re.findall(r"\$argon2id\$[^\"]+", keys_json)
    assert len(hashes) == 2
    for path in PAGES:
        text = get(port, path, cookie=pair).text
        assert UPSTREAM_SECRET not in text and "$argon2id$" not in text, path
        assert not any(h[-20:] in text for h in hashes), path
    budgets = get(port, "/budgets", cookie=pair).text
    assert "key_ops" in budgets and "key_ci" in budgets and "acme-daily" in budgets and "<meter" in budgets
    config = get(port, "/config", cookie=pair).text
    assert "set (from LR_UI_UPSTREAM_KEY)" in config


def test_config_page_shows_a_rejected_reload(guarded_ui) -> None:
    gw, port = guarded_ui
    pair = login(port, ADMIN_KEY).cookies[0].split(";", 1)[0]
    before = get(port, "/config", cookie=pair).text
    assert 'id="reload-error"><span class="muted">none' in before
    gw.write("routes.json", json.dumps({"rules": [{"id": "broken", "target": {"provider": "nobody"}}]}))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        page = get(port, "/config", cookie=pair).text
        if "rejected" in page:
            break
        time.sleep(0.1)
    assert "rejected" in page and "routes.json" in page


def test_with_workers_the_supervisor_serves_the_ui(tmp_path) -> None:
    """Workers serve clients; the supervisor serves the metrics listener and the UI, reading
    the workers' metrics snapshots and the shared limits store through an engine of its own."""
    mock = session_mock_upstream()
    gw, port = ui_gateway(tmp_path, mock.url, workers=2)
    gw.start()
    try:
        wait_for_port(port)
        for path in ("/", "/sessions", "/providers", "/budgets", "/config"):
            answer = get(port, path)
            assert answer.status == 200, (path, answer.text[:300])
        assert "workers: 2" in get(port, "/config").text
        assert 'id="provider-up-openai"' in get(port, "/providers").text
    finally:
        assert gw.stop() == 0, gw.logs()


def test_a_long_session_pages_its_turns_and_events(open_ui) -> None:
    port, ids = open_ui
    long_id = ids[3]
    page = get(port, f"/sessions/{long_id}").text
    assert "turns 61–100 of 100" in page and "message number 99" in page and "message number 59" not in page
    assert "450 events, page 1 of 3" in page
    seqs = [int(n) for n in re.findall(r'<tr><td class="num">(\d+)</td>', page.split('id="events"', 1)[1])]
    assert seqs == list(range(200))
    earlier = get(port, f"/sessions/{long_id}?turns=1").text
    assert "turns 21–60 of 100" in earlier and "message number 21" in earlier and "message number 99" not in earlier
    last = get(port, f"/sessions/{long_id}?events=2").text
    seqs = [int(n) for n in re.findall(r'<tr><td class="num">(\d+)</td>', last.split('id="events"', 1)[1])]
    assert seqs == list(range(400, 450))
    assert "w400 " in last or "content: 'w399 '" in last
