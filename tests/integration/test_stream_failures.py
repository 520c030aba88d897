"""Streams through a real `lunaroute serve`: the usage chunk only for clients that asked for
it, and upstream streams that fail after the first event (CONTRACT §4: the stream ends with
one in-stream error event in the caller's dialect; never a 500, never a hang)."""

from __future__ import annotations

import json
import time

import anthropic
import httpx
import openai
import pytest

from tests.mock_upstream.fixture import session_mock_upstream

from .gateway import Gateway, provider, rule

KEY_ENV = {"LR_TEST_UPSTREAM_KEY": "sk-upstream-test"}
TIMEOUT_MS = 500
PROMPT = "one two three four five"  # answered "echo: one two three four five", a delta per word
FAST = 3.0  # seconds any of these streams may take, failure included
# Failures must not open a circuit for the next test.
NO_BREAKER = {"failure_threshold": 1000}
ANTHROPIC_VERSION = {"anthropic-version": "2023-06-01"}

# (listener dialect, provider dialect): same-dialect relays and translations.
ROUTES = [("openai", "openai"), ("anthropic", "anthropic"), ("openai", "anthropic"), ("anthropic", "openai")]
ROUTE_IDS = ["openai-relay", "anthropic-relay", "openai-to-anthropic", "anthropic-to-openai"]
MODEL = {"openai": "gpt-4o", "anthropic": "claude-sonnet-4-6"}
SHORT_MODEL = {"openai": "gpt-short", "anthropic": "claude-short"}  # providers with timeout_ms=500
# Upstream streams for PROMPT (with include_usage for OpenAI), one event per line:
# OpenAI: role, 6 text deltas, finish, usage, [DONE]. Anthropic: message_start,
# content_block_start, ping, 6 text deltas, content_block_stop, message_delta, message_stop.
UPSTREAM_EVENTS = {"openai": 10, "anthropic": 12}
AFTER = 4  # events sent before a failure: the stream has started and carries some text


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    mock = session_mock_upstream()
    key = {"api_key_env": "LR_TEST_UPSTREAM_KEY", "circuit_breaker": NO_BREAKER}
    providers = [
        provider("oai", "openai", mock.url, **key),
        provider("anth", "anthropic", mock.url, **key),
        provider("oai-short", "openai", mock.url, timeout_ms=TIMEOUT_MS, **key),
        provider("anth-short", "anthropic", mock.url, timeout_ms=TIMEOUT_MS, **key),
    ]
    rules = [
        rule("gpt-short", None, "gpt-short", "oai-short", priority=1),
        rule("claude-short", None, "claude-short", "anth-short", priority=2),
        rule("gpt", None, "gpt-*", "oai", priority=10),
        rule("claude", None, "claude-*", "anth", priority=20),
    ]
    g = Gateway(tmp_path_factory.mktemp("streams"), providers, rules, env=KEY_ENV).start()
    yield g
    assert g.stop() == 0, g.logs()


# ------------------------------------------------------------------ SSE on the wire
def sse_blocks(raw: bytes) -> list[bytes]:
    """Events as their exact bytes (each ending in its blank line); the stream must end on
    an event boundary."""
    blocks = [b + b"\n\n" for b in raw.split(b"\n\n")[:-1]]
    assert b"".join(blocks) == raw, f"stream does not end on an event boundary: ...{raw[-200:]!r}"
    return blocks


def parse_block(block: bytes) -> tuple[str | None, str | None]:
    """(event name or None, data, None for a block of comments only such as `: ping`)."""
    name, data = None, []
    for line in block.decode().split("\n"):
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    return name, "\n".join(data) if data else None


def events_only(blocks: list[bytes]) -> list[bytes]:
    """Blocks that dispatch an event (SSE comments dispatch nothing)."""
    return [b for b in blocks if parse_block(b)[1] is not None]


def json_or_none(data: str | None):
    try:
        return json.loads(data or "")
    except ValueError:
        return None


def is_error_event(block: bytes) -> bool:
    name, data = parse_block(block)
    obj = json_or_none(data)
    return name == "error" or (isinstance(obj, dict) and "error" in obj)


def assert_error_event(dialect: str, block: bytes) -> dict:
    """One in-stream error in the dialect's shape (CONTRACT §4); returns the error object."""
    name, data = parse_block(block)
    obj = json.loads(data or "")
    if dialect == "openai":
        assert name is None, block
        assert set(obj) == {"error"}, obj
        err = obj["error"]
        assert {"message", "type", "param", "code"} <= set(err), err
    else:
        assert name == "error", block
        assert obj["type"] == "error", obj
        err = obj["error"]
        assert {"type", "message"} <= set(err), err
    assert isinstance(err["type"], str) and err["type"], err
    assert isinstance(err["message"], str) and err["message"], err
    return err


def assert_dialect_events(dialect: str, blocks: list[bytes]) -> None:
    """Translated events are well-formed in the caller's dialect, in order so far."""
    blocks = events_only(blocks)
    assert blocks, "no event before the error"
    for block in blocks:
        name, data = parse_block(block)
        obj = json.loads(data)
        if dialect == "openai":
            assert name is None and obj["object"] == "chat.completion.chunk", block
        else:
            assert name == obj["type"], block
    if dialect == "anthropic":
        assert parse_block(blocks[0])[0] == "message_start"


def text_of(dialect: str, blocks: list[bytes]) -> str:
    """The answer text carried by a dialect's events (non-JSON events are skipped)."""
    out = []
    for block in blocks:
        obj = json_or_none(parse_block(block)[1])
        if not isinstance(obj, dict):
            continue
        if dialect == "openai":
            for choice in obj.get("choices") or []:
                out.append((choice.get("delta") or {}).get("content") or "")
        elif obj.get("type") == "content_block_delta" and obj["delta"].get("type") == "text_delta":
            out.append(obj["delta"]["text"])
    return "".join(out)


# ------------------------------------------------------------------ requests
def stream_request(gw: Gateway, dialect: str, model: str, **extra) -> tuple[httpx.Response, bytes, float]:
    """One streamed request in `dialect` on its listener: (response, body bytes, seconds).
    The body must end as HTTP (no cut connection) and in time."""
    if dialect == "openai":
        url = gw.openai_url + "/v1/chat/completions"
        body = {"model": model, "stream": True, "messages": [{"role": "user", "content": PROMPT}], **extra}
        headers = {}
    else:
        url = gw.anthropic_url + "/v1/messages"
        body = {"model": model, "max_tokens": 100, "stream": True, "messages": [{"role": "user", "content": PROMPT}]}
        headers = ANTHROPIC_VERSION
    started = time.monotonic()
    with httpx.Client(trust_env=False, timeout=httpx.Timeout(FAST + 2)) as http:
        with http.stream("POST", url, json=body, headers=headers) as resp:
            raw = resp.read()
    return resp, raw, time.monotonic() - started


def upstream_record(mock) -> dict:
    records = mock.requests()
    assert len(records) == 1, [(r["path"], r["outcome"]) for r in records]  # a started stream is never retried
    return records[0]


# ------------------------------------------------------------------ 1. the usage chunk
def _usage_chunks(chunks) -> list:
    return [c for c in chunks if not c.choices]


def test_usage_chunk_not_sent_to_a_client_that_did_not_ask(gw, mock_upstream):
    client = openai.OpenAI(base_url=gw.openai_url + "/v1", api_key="client-key", max_retries=0, timeout=FAST + 2)
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hello there"}], stream=True
        )
    )
    assert mock_upstream.requests()[0]["json"]["stream_options"] == {"include_usage": True}
    assert _usage_chunks(chunks) == [], [c.model_dump() for c in _usage_chunks(chunks)]
    assert all(len(c.choices) >= 1 and c.usage is None for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "echo: hello there"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_usage_chunk_sent_once_to_a_client_that_asked(gw, mock_upstream):
    client = openai.OpenAI(base_url=gw.openai_url + "/v1", api_key="client-key", max_retries=0, timeout=FAST + 2)
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hello there"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert mock_upstream.requests()[0]["json"]["stream_options"] == {"include_usage": True}
    usage = _usage_chunks(chunks)
    assert len(usage) == 1 and usage[0] is chunks[-1]
    # "hello there" is 2 prompt tokens, "echo: hello there" 3 completion tokens (mock rules)
    assert (usage[0].usage.prompt_tokens, usage[0].usage.completion_tokens, usage[0].usage.total_tokens) == (2, 3, 5)
    assert all(len(c.choices) >= 1 for c in chunks[:-1])


@pytest.mark.parametrize("chunk_bytes", [None, 5, 64], ids=["event-per-chunk", "5-byte-chunks", "64-byte-chunks"])
@pytest.mark.parametrize("asked", [None, False, True], ids=["no-stream-options", "include-usage-false", "asked"])
def test_relayed_bytes_are_the_upstream_bytes_minus_unasked_usage(gw, mock_upstream, asked, chunk_bytes):
    if chunk_bytes:
        mock_upstream.script([{"stream_chunk_bytes": chunk_bytes}])
    extra = {} if asked is None else {"stream_options": {"include_usage": asked}}
    resp, raw, seconds = stream_request(gw, "openai", "gpt-4o", **extra)
    assert resp.status_code == 200 and seconds < FAST
    record = upstream_record(mock_upstream)
    assert record["json"]["stream_options"] == {"include_usage": True}  # LunaRoute's own accounting
    sent = sse_blocks(record["response_body"].encode())
    usage = [b for b in sent if (json_or_none(parse_block(b)[1]) or {}).get("choices") == []]
    assert len(usage) == 1
    expected = sent if asked else [b for b in sent if b not in usage]
    assert sse_blocks(raw) == expected
    assert raw == b"".join(expected)


# ------------------------------------------------------------------ 2. failures mid-stream
# Each failure: the scripted behaviour (for an upstream of a dialect), and how many of the
# upstream's events precede it (those must reach the client, translated or not).
FAILURES = {
    "reset": (lambda up: {"stream_reset_after": AFTER}, lambda up: AFTER),
    "line-over-cap": (
        lambda up: {"stream_inject_after": AFTER, "stream_inject": "data: " + "x" * (1 << 20) + "x\n\n"},
        lambda up: AFTER,
    ),
    "stall": (lambda up: {"stream_stall_after": AFTER, "stream_stall_ms": 5000}, lambda up: AFTER),
    "clean-end-without-final-marker": (
        lambda up: {"stream_end_after": UPSTREAM_EVENTS[up] - 1},
        lambda up: UPSTREAM_EVENTS[up] - 1,
    ),
    "clean-end-mid-answer": (lambda up: {"stream_end_after": AFTER}, lambda up: AFTER),
}


@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize(("listener", "upstream"), ROUTES, ids=ROUTE_IDS)
def test_failed_stream_ends_with_one_error_event(gw, mock_upstream, listener, upstream, failure):
    script, before = FAILURES[failure]
    model = SHORT_MODEL[upstream] if failure == "stall" else MODEL[upstream]
    mock_upstream.script([{"model": model, **script(upstream)}])
    # (OpenAI clients ask for usage, so that a relay has nothing to leave out)
    extra = {"stream_options": {"include_usage": True}} if listener == "openai" else {}
    resp, raw, seconds = stream_request(gw, listener, model, **extra)

    assert resp.status_code == 200, raw
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert seconds < FAST
    record = upstream_record(mock_upstream)
    assert record["json"]["model"] == model
    upstream_sent = first_events(record, before(upstream))

    got = sse_blocks(raw)
    errors = [i for i, b in enumerate(got) if is_error_event(b)]
    if failure == "clean-end-without-final-marker" and listener != upstream:
        # A translation has read the finish reason and the usage: the answer is whole, and
        # the client's stream is closed properly in its own dialect (the stream decoders
        # treat only the final marker as missing). A relay cannot add the marker itself.
        assert errors == [], got[-3:]
        events = got[:-1] if listener == "openai" else got
        assert_dialect_events(listener, events)
        assert text_of(listener, events) == text_of(upstream, upstream_sent)
        assert got[-1] == b"data: [DONE]\n\n" if listener == "openai" else b"message_stop" in got[-1]
        return
    assert errors == [len(got) - 1], got[-3:]  # exactly one error event, and nothing after it
    assert_error_event(listener, got[-1])
    if listener == upstream:
        assert got[:-1] == upstream_sent  # relayed intact, byte for byte
    else:
        assert_dialect_events(listener, got[:-1])
        assert text_of(listener, got[:-1]) == text_of(upstream, upstream_sent)
    if failure == "stall":
        # LunaRoute hung up on the stalled upstream (the mock saw the peer leave)
        mock_upstream.wait_for_stat("streams_aborted_by_peer", 1, timeout=2)


def first_events(record: dict, count: int) -> list[bytes]:
    """The first `count` events the mock sent (it must have sent that many)."""
    blocks = record["response_body"].encode().split(b"\n\n")[:count]
    assert len(blocks) == count and all(blocks), record["response_body"][:2000]
    return [b + b"\n\n" for b in blocks]


@pytest.mark.parametrize(("listener", "upstream"), ROUTES[2:], ids=ROUTE_IDS[2:])
def test_translated_malformed_event_ends_with_one_error_event(gw, mock_upstream, listener, upstream):
    """A translation has to read every event: one that is not JSON cannot be translated.
    (A relay does not parse every event, CONTRACT §5, so it is not asked to notice.)"""
    bad = 'data: {"choices": [\n\n' if upstream == "openai" else 'event: content_block_delta\ndata: {"type": \n\n'
    mock_upstream.script([{"model": MODEL[upstream], "stream_inject_after": AFTER, "stream_inject": bad}])
    resp, raw, seconds = stream_request(gw, listener, MODEL[upstream])
    assert resp.status_code == 200 and seconds < FAST
    got = sse_blocks(raw)
    errors = [i for i, b in enumerate(got) if is_error_event(b)]
    assert errors == [len(got) - 1], got[-3:]
    assert_error_event(listener, got[-1])
    assert_dialect_events(listener, got[:-1])
    sent = sse_blocks(upstream_record(mock_upstream)["response_body"].encode())
    assert text_of(listener, got[:-1]) == text_of(upstream, sent[:AFTER])


@pytest.mark.parametrize(("listener", "upstream"), ROUTES, ids=ROUTE_IDS)
def test_sdks_raise_on_the_error_after_the_text(gw, mock_upstream, listener, upstream):
    """The official SDKs see the text that arrived, then an error (not a silent end)."""
    mock_upstream.script([{"model": MODEL[upstream], "stream_reset_after": AFTER}])
    text = []
    if listener == "openai":
        client = openai.OpenAI(base_url=gw.openai_url + "/v1", api_key="k", max_retries=0, timeout=FAST + 2)
        stream = client.chat.completions.create(
            model=MODEL[upstream], messages=[{"role": "user", "content": PROMPT}], stream=True
        )
        with pytest.raises(openai.APIError) as info:
            for chunk in stream:
                text.extend(c.delta.content or "" for c in chunk.choices)
        # an in-stream error event, not a status and not a cut connection
        assert not isinstance(info.value, (openai.APIStatusError, openai.APIConnectionError)), info.value
    else:
        client = anthropic.Anthropic(base_url=gw.anthropic_url, api_key="k", max_retries=0, timeout=FAST + 2)
        stream = client.messages.create(
            model=MODEL[upstream], max_tokens=100, messages=[{"role": "user", "content": PROMPT}], stream=True
        )
        with pytest.raises(anthropic.APIError) as info:
            for event in stream:
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    text.append(event.delta.text)
        assert not isinstance(info.value, anthropic.APIConnectionError), info.value
    sent = sse_blocks(upstream_record(mock_upstream)["response_body"].encode())
    assert "".join(text) == text_of(upstream, sent)
    assert "".join(text).startswith("echo:")
