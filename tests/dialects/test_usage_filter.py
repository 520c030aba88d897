"""The per-event usage filter of streams: parse only events that carry a usage object."""

from __future__ import annotations

import json

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.dialects.base import has_usage_object

_USAGE = st.one_of(
    st.none(), st.dictionaries(st.sampled_from(["prompt_tokens", "input_tokens"]), st.integers(0, 10**6), max_size=2)
)
_TEXT = st.text(max_size=30)


@settings(max_examples=300, deadline=None)
@given(usage=_USAGE, text=_TEXT, nested=st.booleans(), spaced=st.booleans())
def test_matches_exactly_the_events_with_a_usage_object(usage, text, nested, spaced):
    event = {"choices": [{"delta": {"content": text}}], "usage": usage}
    if nested:  # Anthropic message_start keeps usage inside the message
        event = {"type": "message_start", "message": {"content": text, "usage": usage}}
    data = json.dumps(event) if spaced else orjson.dumps(event).decode()
    assert has_usage_object(data) == (usage is not None)


def test_the_word_usage_in_text_is_not_a_usage_object():
    assert not has_usage_object(orjson.dumps({"delta": {"content": 'a "usage": {x}'}}).decode())
    assert not has_usage_object('{"usage":null}')
    assert has_usage_object('{"usage" :\n {"output_tokens": 3}}')
