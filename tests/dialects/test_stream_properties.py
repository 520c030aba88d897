"""Property tests for streamed translation: random answers rendered as upstream SSE of one
dialect come out as well-formed streams of the other (and of the same) dialect carrying the
same text, tool calls, stop reason and usage; random garbage never breaks a stream."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lunaroute.dialects import get_dialect
from lunaroute.model import NormalizedRequest

from .stream_checks import OPENAI_FINISH, assemble_anthropic, assemble_openai, render_anthropic, render_openai

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHUNK = st.text(min_size=1, max_size=6)


@st.composite
def plans(draw: Any, thinking: bool = True) -> dict[str, Any]:
    blocks: list[tuple] = []
    kinds = draw(st.lists(st.sampled_from(["text", "tool", "thinking"] if thinking else ["text", "tool"]), max_size=5))
    for n, kind in enumerate(kinds):
        if kind == "text":
            blocks.append(("text", draw(st.lists(CHUNK, min_size=1, max_size=4))))
        elif kind == "tool":
            args = json.dumps(draw(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(), max_size=3)))
            cuts = sorted(draw(st.lists(st.integers(0, len(args)), max_size=3)))
            pieces = [args[i:j] for i, j in zip([0] + cuts, cuts + [len(args)])]
            blocks.append(
                ("tool", f"toolu_{n}", draw(st.sampled_from(["get", "put", "find_all"])), [p for p in pieces if p])
            )
        else:
            blocks.append(("thinking", draw(st.lists(CHUNK, min_size=1, max_size=3))))
    has_tool = any(b[0] == "tool" for b in blocks)
    stop = draw(st.sampled_from(["tool_use"] if has_tool else ["end_turn", "max_tokens", "stop_sequence"]))
    usage = (
        draw(st.integers(0, 5000)),
        draw(st.integers(0, 5000)),
        draw(st.integers(0, 3000)),
        draw(st.integers(0, 300)),
    )
    return {"blocks": blocks, "stop": stop, "usage": usage, "pings": draw(st.booleans())}


def _request(dialect: str, include_usage: bool = False) -> NormalizedRequest:
    req = NormalizedRequest(dialect, "client-model")
    req.stream = True
    req.stream_include_usage = include_usage
    return req


def _translate(events: list[tuple[str, str]], source: str, target: str, req: NormalizedRequest, split: int) -> bytes:
    decoder = get_dialect(source).stream_decoder()
    encoder = get_dialect(target).stream_encoder(model="client-model", request=req)
    out = []
    first = True
    for event, data in events:
        piece = encoder.encode(decoder.feed(event, data))
        if first:
            assert piece, "the first upstream event yields client bytes"
            first = False
        out.append(piece)
    out.append(encoder.encode(decoder.finish()))
    out.append(encoder.finish())
    return b"".join(out)


def _plan_text(plan: dict[str, Any]) -> str:
    return "".join("".join(b[1]) for b in plan["blocks"] if b[0] == "text")


def _plan_tools(plan: dict[str, Any]) -> list[list[str]]:
    return [[b[1], b[2], "".join(b[3])] for b in plan["blocks"] if b[0] == "tool"]


@SETTINGS
@given(plans(), st.booleans(), st.integers(0, 3))
def test_anthropic_upstream_to_openai_client(plan: dict[str, Any], include_usage: bool, split: int) -> None:
    raw = _translate(render_anthropic(plan), "anthropic", "openai", _request("openai", include_usage), split)
    got = assemble_openai(raw, include_usage=include_usage)
    assert got.error is None
    assert got.text == _plan_text(plan)
    assert got.tools == _plan_tools(plan)
    assert got.stop == OPENAI_FINISH[plan["stop"]]
    i, o, cr, cc = plan["usage"]
    assert got.usage == {
        "prompt_tokens": i + cr + cc,
        "completion_tokens": o,
        "total_tokens": i + cr + cc + o,
        "prompt_tokens_details": {"cached_tokens": cr},
    }


@SETTINGS
@given(plans(thinking=False), st.integers(0, 3))
def test_openai_upstream_to_anthropic_client(plan: dict[str, Any], split: int) -> None:
    raw = _translate(render_openai(plan), "openai", "anthropic", _request("anthropic"), split)
    got = assemble_anthropic(raw)
    assert got.error is None
    assert got.text == _plan_text(plan)
    assert got.tools == _plan_tools(plan)
    # OpenAI has no stop_sequence: "stop" reads back as end_turn
    expected_stop = {"stop_sequence": "end_turn"}.get(plan["stop"], plan["stop"])
    assert got.stop == expected_stop
    i, o, cr, cc = plan["usage"]
    # OpenAI reports no cache writes: they stay in input_tokens
    assert got.usage == {
        "input_tokens": i + cc,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cr,
        "output_tokens": o,
    }
    # OpenAI marks no block boundaries: consecutive text pieces make one text block
    assert all(not (a == b == "text") for a, b in zip(got.blocks, got.blocks[1:]))


@SETTINGS
@given(plans(), st.integers(0, 3))
def test_anthropic_same_dialect_stream_keeps_everything(plan: dict[str, Any], split: int) -> None:
    raw = _translate(render_anthropic(plan), "anthropic", "anthropic", _request("anthropic"), split)
    got = assemble_anthropic(raw)
    assert got.blocks == [{"tool": "tool_use"}.get(b[0], b[0]) for b in plan["blocks"]]
    assert got.text == _plan_text(plan)
    assert got.thinking == "".join("".join(b[1]) for b in plan["blocks"] if b[0] == "thinking")
    assert got.tools == _plan_tools(plan)
    assert got.stop == plan["stop"]
    i, o, cr, cc = plan["usage"]
    assert got.usage == {
        "input_tokens": i,
        "cache_creation_input_tokens": cc,
        "cache_read_input_tokens": cr,
        "output_tokens": o,
    }


@SETTINGS
@given(plans(thinking=False), st.booleans(), st.integers(0, 3))
def test_openai_same_dialect_stream_keeps_everything(plan: dict[str, Any], include_usage: bool, split: int) -> None:
    raw = _translate(render_openai(plan), "openai", "openai", _request("openai", include_usage), split)
    got = assemble_openai(raw, include_usage=include_usage)
    assert got.text == _plan_text(plan)
    assert got.tools == _plan_tools(plan)
    assert got.stop == OPENAI_FINISH[plan["stop"]]


@st.composite
def truncated(draw: Any) -> tuple[str, list[tuple[str, str]]]:
    source = draw(st.sampled_from(["openai", "anthropic"]))
    plan = draw(plans(thinking=source == "anthropic"))
    events = render_anthropic(plan) if source == "anthropic" else render_openai(plan)
    cut = draw(st.integers(0, len(events)))
    events = events[:cut]
    # sprinkle garbage: unknown events, non-JSON data, wrong shapes
    garbage = st.sampled_from(
        [
            ("message", "{not json"),
            ("mystery", "{}"),
            ("message", "[1,2]"),
            (
                "content_block_delta",
                '{"type":"content_block_delta","index":9,"delta":{"type":"text_delta","text":"x"}}',
            ),
            ("message", '{"choices":[{"index":0,"delta":{"tool_calls":[{"index":5,"function":{"arguments":"z"}}]}}]}'),
            ("message", '{"choices": 3}'),
        ]
    )
    for _ in range(draw(st.integers(0, 2))):
        events.insert(draw(st.integers(0, len(events))), draw(garbage))
    return source, events


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(truncated(), st.sampled_from(["openai", "anthropic"]), st.booleans())
def test_cut_or_garbled_upstream_streams_still_end_well_formed(
    case: tuple[str, list[tuple[str, str]]], target: str, include_usage: bool
) -> None:
    source, events = case
    decoder = get_dialect(source).stream_decoder()
    encoder = get_dialect(target).stream_encoder(model="m", request=_request(target, include_usage))
    out = []
    for event, data in events:
        out.append(encoder.encode(decoder.feed(event, data)))
    out.append(encoder.encode(decoder.finish()))
    out.append(encoder.finish())
    raw = b"".join(out)
    if target == "openai":
        assemble_openai(raw, include_usage=include_usage)
    else:
        assemble_anthropic(raw)
