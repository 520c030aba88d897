"""Taking the usage-only events out of a relayed chunk: the quick path (plain `\\n\\n`
boundaries, only events holding a usage object looked at) gives exactly what the event-by-
event path gives, on any chunk; and it does take the usage-only chunk out."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.dialects import get_dialect
from lunaroute.server.relay import _without_usage_only, _without_usage_only_split

OPENAI = get_dialect("openai")

_CHUNK = {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "x"}}]}


@st.composite
def events(draw) -> bytes:
    parts = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["delta", "delta_null_usage", "usage_only", "usage_and_choice", "odd", "comment"]))
        if kind == "delta":
            data = json.dumps(_CHUNK)
        elif kind == "delta_null_usage":
            data = json.dumps({**_CHUNK, "usage": None})
        elif kind == "usage_only":
            data = json.dumps({"id": "c", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}})
        elif kind == "usage_and_choice":
            data = json.dumps({**_CHUNK, "usage": {"prompt_tokens": 1}})
        elif kind == "odd":
            data = draw(st.sampled_from(['"usage"\n\n{', '{"usage" : {', "[DONE]", '{"usage":{"a":1},"choices":[]']))
        else:
            parts.append(b": ping")
            parts.append(draw(st.sampled_from([b"\n\n", b"\n\n\n", b"\r\n\r\n", b"\n"])))
            continue
        lines = data.split("\n")
        parts.append("\n".join("data: " + line for line in lines).encode())
        parts.append(draw(st.sampled_from([b"\n\n", b"\n\n", b"\n\n", b"\r\n\r\n", b"\n\n\n", b""])))
    return b"".join(parts)


@settings(max_examples=500, deadline=None)
@given(events())
def test_the_quick_path_is_the_event_by_event_path(out: bytes) -> None:
    assert _without_usage_only(out, OPENAI) == _without_usage_only_split(out, OPENAI)


def test_the_usage_only_chunk_is_taken_out() -> None:
    delta = b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}\n\n'
    usage = b'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\n'
    done = b"data: [DONE]\n\n"
    assert _without_usage_only(delta * 30 + usage + done, OPENAI) == delta * 30 + done
