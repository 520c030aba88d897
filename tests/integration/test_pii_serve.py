"""PII redaction end to end (issue 13): a real `lunaroute serve` with `pii` on, the strict mock
provider, the official SDKs. For every mode, both dialects, same-dialect and translated,
streamed and not, the provider never receives an email, phone, SSN, card, IP address or key
the client put in its system prompt, messages, tool-call arguments or tool results; nothing
raw reaches the disk with recording on; tokenize + restore_in_response hands the client its
values back where the model repeats the tokens, also when a token arrives split over stream
chunks and events; a rule with `options.pii: off` sends its traffic as it came; the pii
metrics count exactly what was replaced."""

from __future__ import annotations

import json
import time

import openai
import pytest
import yaml

from tests.mock_upstream.fixture import session_mock_upstream

from .conftest import standard_gateway
from .gateway import Gateway, rule
from .pii_kit import (
    EMAIL,
    IP,
    OPENAI_KEY,
    PER_TEXT,
    PHONE,
    PLACES,
    RAW_VALUES,
    ROUTES,
    SSN,
    TOKEN,
    chat,
    export,
    metric,
    raw_in,
)

MODES = ("remove", "mask", "partial", "tokenize")
# What each mode leaves of the email in the text the provider gets.
EMAIL_FORM = {
    "remove": "Reach [REDACTED_EMAIL] or",
    "mask": "Reach " + "*" * len(EMAIL) + " or",
    "partial": "Reach j*******@acme-mail.com or",
    "tokenize": "Reach <EMAIL_",
}
RECORDING = {"sessions": {"enabled": True, "flush_interval_ms": 100}, "compression": "none"}


def _start(root, mode: str, *, storage=None, extra_rules=()) -> Gateway:
    gw = standard_gateway(root, session_mock_upstream().url, storage=storage)
    pii = {"enabled": True, "mode": mode}
    if mode == "tokenize":
        pii["restore_in_response"] = True
    gw.server_yaml["pii"] = pii
    gw.write("server.yaml", yaml.safe_dump(gw.server_yaml))
    if extra_rules:
        rules = json.loads((gw.config_dir / "routes.json").read_text())["rules"]
        gw.write_routes([*extra_rules, *rules])
    return gw.start()


class Traffic:
    """One gateway per mode and what the mock received from it: every route, streamed and not."""

    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        self.sent = 0  # requests sent through it (each one a recorded session)
        mock = session_mock_upstream()
        mock.reset()
        self.answers = [self.chat(listener, model, stream) for listener, model in ROUTES for stream in (False, True)]
        self.bodies = [r["body"] for r in mock.requests()]

    def chat(self, listener: str, model: str, stream: bool):
        self.sent += 1
        return chat(self.gw, listener, model, stream)


@pytest.fixture(scope="module")
def traffic(tmp_path_factory):
    started: dict[str, Traffic] = {}

    def get(mode: str) -> Traffic:
        if mode not in started:
            started[mode] = Traffic(_start(tmp_path_factory.mktemp(mode), mode, storage=RECORDING))
        return started[mode]

    yield get
    for t in started.values():
        assert t.gw.stop() == 0, t.gw.logs()


@pytest.mark.parametrize("mode", MODES)
def test_the_provider_never_receives_the_raw_values(traffic, mode):
    t = traffic(mode)
    assert len(t.bodies) == 2 * len(ROUTES)
    for body in t.bodies:
        assert raw_in(body) == [], body
        # the text did arrive, in the mode's form, in each of its four places
        assert body.count(EMAIL_FORM[mode]) == PLACES, body
    # what the model echoed back is what it was given
    assert all(a.text.startswith("tool results: ") for a in t.answers)


@pytest.mark.parametrize("mode", MODES)
def test_the_metrics_count_what_was_replaced(traffic, mode):
    t = traffic(mode)
    text = t.gw.metrics()
    requests = len(t.bodies)
    for kind, n in PER_TEXT.items():
        assert metric(text, "lunaroute_pii_detections_total", f'{{type="{kind}"}}') == n * PLACES * requests, kind
    assert metric(text, "lunaroute_pii_redactions_total") == sum(PER_TEXT.values()) * PLACES * requests
    if mode == "remove":  # the count is what the provider got, marker by marker
        for kind, n in PER_TEXT.items():
            marker = f"[REDACTED_{kind.upper()}]"
            assert sum(b.count(marker) for b in t.bodies) == n * PLACES * requests


def test_tokens_are_stable_and_distinct(traffic):
    per_body = [sorted({m.group(0) for m in TOKEN.finditer(b)}) for b in traffic("tokenize").bodies]
    assert len(per_body[0]) == len(RAW_VALUES) and all(tokens == per_body[0] for tokens in per_body)


def _tokens(body: str) -> dict[str, str]:
    """The token the gateway sent for each raw value (TEXT's values appear in a fixed order)."""
    start = body.index("Please file this: ") + len("Please file this: ")
    found = [m.group(0) for m in TOKEN.finditer(body, start)][: len(RAW_VALUES)]
    return dict(zip(RAW_VALUES, found))


@pytest.mark.parametrize("listener,model", ROUTES)
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_restore_in_response_gives_the_client_its_values(traffic, mock_upstream, listener, model, stream):
    t = traffic("tokenize")
    tokens = _tokens(t.bodies[0])
    assert tokens[EMAIL].startswith("<EMAIL_") and tokens[OPENAI_KEY].startswith("<API_KEY_")
    # The model repeats tokens in its text and in a tool call's arguments (sent in 12-byte
    # argument deltas, so a token is split over events), and the stream in 3-byte HTTP chunks.
    mock_upstream.script(
        [
            {
                "text": f"Mail {tokens[EMAIL]} or call {tokens[PHONE]}, not <EMAIL_000000000000>.",
                "tool_calls": [{"name": "send_note", "input": {"note": f"key {tokens[OPENAI_KEY]} ip {tokens[IP]}"}}],
                "stream_chunk_bytes": 3,
            }
        ]
    )
    got = t.chat(listener, model, stream)
    sent = mock_upstream.requests()[-1]
    assert tokens[EMAIL] in sent["response_body"] and raw_in(sent["body"]) == []
    assert got.text == f"Mail {EMAIL} or call {PHONE}, not <EMAIL_000000000000>."
    assert got.calls == [{"note": f"key {OPENAI_KEY} ip {IP}"}]


def test_a_rule_with_pii_off_sends_the_raw_values(tmp_path, mock_upstream):
    trusted = rule("trusted", None, "trusted-*", "up-openai", target_model="gpt-4o-mini", priority=1)
    trusted["options"] = {"pii": "off"}
    gw = _start(tmp_path, "mask", extra_rules=[trusted])
    try:
        for listener, _ in ROUTES[::2]:
            chat(gw, listener, "trusted-internal", stream=False)
        chat(gw, "openai", "gpt-4o", stream=False)
        bodies = [r["body"] for r in mock_upstream.requests()]
        assert [raw_in(b) for b in bodies[:2]] == [list(RAW_VALUES)] * 2
        assert raw_in(bodies[2]) == [] and SSN not in bodies[2]
        text = gw.metrics()
        # only the one redacted request counts
        assert metric(text, "lunaroute_pii_detections_total", '{type="api_key"}') == PER_TEXT["api_key"] * PLACES
    finally:
        assert gw.stop() == 0, gw.logs()


@pytest.mark.parametrize("mode", MODES)
def test_nothing_raw_reaches_the_disk(traffic, mock_upstream, mode):
    t = traffic(mode)
    if mode == "tokenize":  # answers whose tokens the client gets restored, whole and streamed
        tokens = _tokens(t.bodies[0])
        mock_upstream.script([{"text": f"Mail {tokens[EMAIL]} now"}] * 2)
        assert [t.chat("openai", "gpt-4o", stream).text for stream in (False, True)] == [f"Mail {EMAIL} now"] * 2
    # a request no rule routes is recorded too (its error), redacted like the rest
    with pytest.raises(openai.NotFoundError):
        t.chat("openai", "unrouted-model", False)
    data = t.gw.config_dir / "data"
    deadline = time.monotonic() + 10
    sessions: list[dict] = []
    while time.monotonic() < deadline:
        sessions = [json.loads(line) for line in export(t.gw).splitlines() if line.strip()]
        if len(sessions) >= t.sent:
            break
        time.sleep(0.2)
    assert len(sessions) == t.sent and [s["status"] for s in sessions].count(404) == 1
    exported = json.dumps(sessions)
    assert raw_in(exported) == []
    assert EMAIL_FORM[mode] in exported  # the redacted request is what was recorded
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.suffix == ".session" for p in files)
    for path in [*files, t.gw.root / "lunaroute.log"]:
        assert raw_in(path.read_bytes()) == [], path
    if mode == "tokenize":  # restored answers are recorded as the model gave them
        assert f"Mail {tokens[EMAIL]} now" in exported and (data / "pii" / "vault.bin").stat().st_size > 0
