"""The raw-body splice of same-dialect passthrough, against a real JSON parser."""

from __future__ import annotations

import json

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.dialects.splice import add_top_level_field, replace_model
from lunaroute.kernels import top_level_span as find_top_level_span

keys = st.text(alphabet=st.sampled_from('abmodelusg"\\é :{}[],'), min_size=0, max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from('ab"\\{}[],: \n\té😀model'), max_size=12)
)
values = st.recursive(scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(keys, c, max_size=3), max_leaves=10)
objects = st.dictionaries(keys, values, max_size=6)
layouts = st.sampled_from([dict(), dict(indent=2), dict(separators=(",", ":")), dict(separators=(" , ", " : "))])


def top_level_object(body: bytes, key: bytes):
    span = find_top_level_span(body, key)
    return None if span is None else orjson.loads(body[span[0] : span[1]])


@settings(max_examples=300, deadline=None)
@given(obj=objects, layout=layouts, ascii=st.booleans())
def test_every_top_level_value_is_found_exactly(obj, layout, ascii):
    body = json.dumps(obj, ensure_ascii=ascii, **layout).encode()
    for key, value in obj.items():
        got = top_level_object(body, json.dumps(key, ensure_ascii=ascii)[1:-1].encode())
        if "\\" not in json.dumps(key, ensure_ascii=ascii)[1:-1]:  # keys compared as raw JSON text
            assert got == orjson.loads(orjson.dumps(value))
    assert top_level_object(body, b"\x00absent\x00") is None


@settings(max_examples=300, deadline=None)
@given(obj=objects, layout=layouts, model=st.text(max_size=20), new=st.text(max_size=20))
def test_replace_model_changes_only_the_top_level_model(obj, layout, model, new):
    obj = {**obj, "model": model}
    body = json.dumps(obj, **layout).encode()
    out = replace_model(body, new)
    assert json.loads(out) == {**obj, "model": new}
    if model == new or json.dumps(model) == json.dumps(new):
        return
    # only the model value changed: the bytes around it are identical
    assert len(out) - len(orjson.dumps(new)) == len(body) - len(json.dumps(model).encode())


@given(obj=objects)
def test_add_top_level_field(obj):
    obj.pop("stream_options", None)
    body = json.dumps(obj).encode()
    out = add_top_level_field(body, "stream_options", {"include_usage": True})
    assert json.loads(out) == {**obj, "stream_options": {"include_usage": True}}
