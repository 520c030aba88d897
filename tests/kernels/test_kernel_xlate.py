"""Kernel `xlate`: a translated stream through the kernel (any backend) is byte for byte the
stream the reference decoder + encoder write, with the same usage read, on any event
sequence and any chunking: well-formed answers, answers written in unusual but valid JSON
(escapes, whitespace, extra keys, duplicate keys), and garbage."""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lunaroute.dialects import _ids, get_dialect
from lunaroute.errors import InvalidArgumentError, UpstreamError
from lunaroute.kernels import SOURCE_ANTHROPIC, SOURCE_OPENAI
from lunaroute.model import NormalizedRequest
from lunaroute.server.translate import ReferenceStream, TranslatedStream

from ..dialects.stream_checks import render_anthropic, render_openai
from ..dialects.test_stream_properties import plans
from .kernel_backends import BACKENDS, assert_all_backends_built, available, require

PAIRS = [("openai", "anthropic"), ("anthropic", "openai")]
KERNELS = available("xlate")


class _Ids:
    """uuid4 made deterministic, so the reference run and the kernel run draw the same ids."""

    def __init__(self) -> None:
        self.count = itertools.count()

    def uuid4(self) -> uuid.UUID:
        return uuid.UUID(int=next(self.count))


@pytest.fixture
def fixed_ids(monkeypatch: pytest.MonkeyPatch) -> _Ids:
    ids = _Ids()
    monkeypatch.setattr(_ids, "uuid", ids)
    return ids


def _pair(source: str, target: str, include_usage: bool) -> tuple[Any, Any, Any]:
    req = NormalizedRequest(target, "client-model")
    req.stream = True
    req.stream_include_usage = include_usage
    encoder = get_dialect(target).stream_encoder(model="client-model", request=req)
    if hasattr(encoder, "_created"):
        encoder._created = 1700000000  # both runs must agree on OpenAI's `created`
    return get_dialect(source), get_dialect(source).stream_decoder(), encoder


def reference(source: str, target: str, chunks: list[bytes], include_usage: bool) -> tuple[bytes, list[int]]:
    """The reference path (framer, usage tap, decoder, encoder), as the relay ran every
    translated stream before the kernel."""
    upstream, decoder, encoder = _pair(source, target, include_usage)
    usage = [0, 0]
    stream = ReferenceStream(upstream, decoder, encoder, usage)
    out = [stream.feed(chunk) for chunk in chunks]
    out.append(stream.finish())
    out.append(encoder.error(UpstreamError("after the end")))
    return b"".join(out), usage


def through_kernel(
    kernel: Any, source: str, target: str, chunks: list[bytes], include_usage: bool
) -> tuple[bytes, list[int]]:
    upstream, decoder, encoder = _pair(source, target, include_usage)
    usage = [0, 0]
    stream = TranslatedStream(upstream, decoder, encoder, usage, kernel=kernel.StreamTranslator)
    out = [stream.feed(chunk) for chunk in chunks]
    out.append(stream.finish())
    out.append(encoder.error(UpstreamError("after the end")))
    return b"".join(out), usage


# ----------------------------------------------------------------------------- events
# JSON written the unusual ways a provider may: whitespace between tokens, \u escapes and
# escaped slashes, keys in another order, extra keys, a duplicated key (the last wins).
@st.composite
def json_text(draw: Any, value: Any) -> str:
    def ws() -> str:
        return draw(st.sampled_from(["", "", "", " ", "\t", " \n "]))

    def string(s: str) -> str:
        style = draw(st.sampled_from(["plain", "plain", "ascii", "slash", "unicode"]))
        if style == "ascii":
            return json.dumps(s, ensure_ascii=True)
        body = json.dumps(s, ensure_ascii=False)
        if style == "slash":
            return body.replace("/", "\\/")
        if style == "unicode" and len(body) > 2:
            i = draw(st.integers(1, len(body) - 2))
            ch = body[i]
            if ch not in '\\"' and body[i - 1] != "\\" and ord(ch) < 0x10000:
                return body[:i] + f"\\u{ord(ch):04{draw(st.sampled_from(['x', 'X']))}}" + body[i + 1 :]
        return body

    def emit(v: Any) -> str:
        if isinstance(v, dict):
            items = [f"{ws()}{string(k)}{ws()}:{ws()}{emit(x)}{ws()}" for k, x in v.items()]
            if v and draw(st.integers(0, 9)) == 0:  # a duplicate key written first: the later one wins
                k = draw(st.sampled_from(sorted(v)))
                items.insert(0, f"{string(k)}:{emit(draw(st.sampled_from([0, 'dup', None, [1]])))}")
            return "{" + ",".join(items) + "}"
        if isinstance(v, list):
            return "[" + ",".join(f"{ws()}{emit(x)}{ws()}" for x in v) + "]"
        if isinstance(v, str):
            return string(v)
        return json.dumps(v)

    return emit(value)


ODD_STRINGS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from(list('"\\/\n\r\t\b\f\x00\x1f\x7f\u2028')),
    max_size=12,
)

# Events a provider should never send, or sends wrong: each must be handed back and then
# treated by the reference exactly as before.
GARBAGE = st.sampled_from(
    [
        ("message", "{not json"),
        ("message", "[1,2]"),
        ("message", '"just a string"'),
        ("mystery", "{}"),
        ("message", '{"choices": 3}'),
        ("message", '{"choices":[{"index":0,"delta":{"content":"a"}},{"index":0,"delta":{"content":"b"}}]}'),
        ("message", '{"choices":[{"index":0.0,"delta":{"content":"float index"}}]}'),
        ("message", '{"choices":[{"index":true,"delta":{"content":"bool index"}}]}'),
        ("message", '{"choices":[{"index":0,"delta":{"content":7}}]}'),
        ("message", '{"choices":[{"index":0,"delta":{"content":"x","refusal":"no"}}]}'),
        ("message", '{"choices":[{"index":0,"delta":{"content":"\\ud800"}}]}'),
        ("message", '{"choices":[{"index":0,"delta":{"content":"nan"}}],"x":NaN}'),
        ("message", '{"choices":[{"index":0,"delta":{"content":"big"}}],"x":1e400}'),
        ("message", '{"choices":[{"index":0,"delta":{"content":"ctl\x01"}}]}'),
        ("message", '{"choices":[{"index":0,"delta":{"tool_calls":[{"index":5,"function":{"arguments":"z"}}]}}]}'),
        ("message", '{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":1}}]}}]}'),
        ("message", '{"choices":[{"index":0,"delta":{"content":"u"}}],"usage":{"prompt_tokens":3}}'),
        ("message", '{"error":{"message":"overloaded","type":"server_error"}}'),
        ("message", "[DONE]"),
        ("content_block_delta", '{"type":"content_block_delta","index":9,"delta":{"type":"text_delta","text":"x"}}'),
        ("content_block_delta", '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":1}}'),
        ("content_block_delta", '{"type":"content_block_delta","index":"0","delta":{"type":"text_delta","text":"s"}}'),
        ("content_block_delta", '{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta"}}'),
        ("content_block_delta", '{"index":0,"delta":{"type":"text_delta","text":"typed by the event line"}}'),
        ("content_block_delta", '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}} x'),
        ("ping", '{"type":"ping","usage":{"output_tokens":5}}'),
        ("ping", '{"type": "ping", "extra": [1, {"a": null}]}'),
        ("error", '{"type":"error","error":{"type":"overloaded_error","message":"busy"}}'),
    ]
)


@st.composite
def streams(draw: Any) -> tuple[str, str, list[tuple[str, str]]]:
    source, target = draw(st.sampled_from(PAIRS))
    plan = draw(plans(thinking=source == "anthropic"))
    events = render_anthropic(plan) if source == "anthropic" else render_openai(plan)
    # rewrite some events' JSON unusually, give some deltas odd text
    out = []
    for event, data in events:
        obj = json.loads(data) if data.startswith("{") else None
        if obj is not None and draw(st.integers(0, 3)) == 0:
            delta = (obj.get("delta") or {}) if source == "anthropic" else {}
            if source == "openai" and obj.get("choices"):
                delta = obj["choices"][0].get("delta") or {}
            for key in ("text", "partial_json", "thinking", "content"):
                if isinstance(delta.get(key), str) and delta[key]:
                    delta[key] = draw(ODD_STRINGS)
            if draw(st.booleans()):
                obj["extra"] = draw(st.sampled_from([None, 12.5, -3, [], {"usage": None}, "x", True]))
            data = draw(json_text(obj))
        out.append((event, data))
    # cut the stream short, or sprinkle garbage
    if draw(st.integers(0, 4)) == 0:
        out = out[: draw(st.integers(0, len(out)))]
    for _ in range(draw(st.integers(0, 2))):
        out.insert(draw(st.integers(0, len(out))), draw(GARBAGE))
    return source, target, out


@st.composite
def wire(draw: Any, events: list[tuple[str, str]]) -> list[bytes]:
    """The events as SSE bytes (line endings, `data:` spacing, comments vary), cut anywhere."""
    nl = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    parts = []
    for event, data in events:
        if draw(st.integers(0, 9)) == 0:
            parts.append(": keep-alive" + nl)
        lines = [f"event: {event}"] if event != "message" else []
        lines += [f"data:{draw(st.sampled_from([' ', '']))}{line}" for line in data.replace("\r", "\n").split("\n")]
        parts.append(nl.join(lines) + nl + nl)
    raw = "".join(parts).encode()
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(raw) - 1)), max_size=8))))
    return [raw[i:j] for i, j in zip([0, *cuts], [*cuts, len(raw)]) if raw[i:j]]


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("backend", BACKENDS)
@SETTINGS
@given(case=streams(), data=st.data(), include_usage=st.booleans())
def test_kernel_output_is_the_references(
    backend: str, case: tuple[str, str, list[tuple[str, str]]], data: Any, include_usage: bool
) -> None:
    kernel = require("xlate", backend)
    source, target, events = case
    chunks = data.draw(wire(events))
    ids = _Ids()
    saved = _ids.uuid
    try:
        _ids.uuid = ids  # type: ignore[assignment]
        want = reference(source, target, chunks, include_usage)
        ids.count = itertools.count()
        got = through_kernel(kernel, source, target, chunks, include_usage)
    finally:
        _ids.uuid = saved
    assert got == want


@pytest.mark.parametrize("backend", BACKENDS)
def test_plain_deltas_are_translated_by_the_kernel(backend: str) -> None:
    """The fast path really is taken: with routes set, a chunk of plain deltas comes back as
    bytes with nothing handed back."""
    kernel = require("xlate", backend)
    tr = kernel.StreamTranslator(SOURCE_ANTHROPIC)
    tr.route(3, 0, b"<", b">", True)
    tr.set_ping(b"P")
    tr.feed(
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":3,'
        b'"delta":{"type":"text_delta","text":"a\\u00e9\\/\\n"}}\n\n'
        b'event: ping\ndata: {"type":"ping"}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":3,'
        b'"delta":{"type":"text_delta","text":""}}\n\n'
    )
    assert tr.next() == ('<"a\u00e9/\\n">P<"">'.encode(), None)
    tr = kernel.StreamTranslator(SOURCE_OPENAI)
    tr.route(-1, 0, b"[", b"]", False)
    tr.feed(b'data: {"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}],"usage":null}\n\n')
    tr.feed(b'data: {"choices":[{"delta":{"content":""}}]}\n\ndata: [DONE]\n\n')
    assert tr.next() == (b'["hi"]', ("message", "[DONE]"))
    assert tr.next() == (b"", None)


@pytest.mark.parametrize("backend", BACKENDS)
def test_routes_are_cleared_and_misses_handed_back(backend: str) -> None:
    kernel = require("xlate", backend)
    tr = kernel.StreamTranslator(SOURCE_OPENAI)
    tr.route(2, 1, None, b"", False)  # deltas of tool call 2 are dropped
    call = b'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":%d,"function":{"arguments":"{}"}}]}}]}\n\n'
    tr.feed(call % 2 + call % 1)
    assert tr.next() == (b"", ("message", (call % 1)[6:-2].decode()))
    tr.clear()
    tr.feed(call % 2)
    assert tr.next() == (b"", ("message", (call % 2)[6:-2].decode()))


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_arguments(backend: str) -> None:
    kernel = require("xlate", backend)
    with pytest.raises(InvalidArgumentError):
        kernel.StreamTranslator(2)


def test_every_backend_is_built() -> None:
    assert_all_backends_built("xlate")
    assert set(KERNELS) == set(BACKENDS)
