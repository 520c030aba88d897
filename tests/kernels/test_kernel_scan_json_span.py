"""Kernel `scan`, `top_level_span`: the value of a top-level key of a JSON object, on every
backend, against orjson and against the original passthrough code (scan_json_span_legacy.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.errors import InvalidArgumentError

from .kernel_backends import BACKENDS, available, require
from .scan_json_span_legacy import find_top_level_span as legacy_span

KERNEL = "scan"

CHAT = (
    b'{"messages":[{"role":"user","content":"say \\"model\\": hi"}],"model":"gpt-4o-mini",'
    b'"temperature":0.2,"stream":true,"meta":{"model":"inner"}}'
)


@pytest.fixture(params=BACKENDS)
def scan(request: pytest.FixtureRequest) -> ModuleType:
    return require(KERNEL, request.param)


def value(mod: ModuleType, body: bytes, key: bytes) -> bytes | None:
    span = mod.top_level_span(body, key)
    return None if span is None else body[span[0] : span[1]]


def outcome(mod: ModuleType, body: bytes, key: bytes) -> object:
    try:
        return mod.top_level_span(body, key)
    except InvalidArgumentError as exc:
        return ("InvalidArgumentError", str(exc))


def agreed(body: bytes, key: bytes) -> object:
    results = {name: outcome(mod, body, key) for name, mod in available(KERNEL).items()}
    for name, got in results.items():
        assert got == results["python"], (name, body, key)
    return results["python"]


# ---------------------------------------------------------------------------- examples
@pytest.mark.parametrize(
    "key,expected",
    [
        (b"model", b'"gpt-4o-mini"'),
        (b"temperature", b"0.2"),
        (b"stream", b"true"),
        (b"meta", b'{"model":"inner"}'),
        (b"messages", b'[{"role":"user","content":"say \\"model\\": hi"}]'),
        (b"role", None),
        (b"content", None),
        (b"absent", None),
        (b"mode", None),
        (b"", None),
    ],
)
def test_chat_body(scan: ModuleType, key: bytes, expected: bytes | None) -> None:
    assert value(scan, CHAT, key) == expected


def test_whitespace_escapes_and_first_match(scan: ModuleType) -> None:
    body = b' \r\n{ "a\\"b" :\t[1, {"k": "}"}] , "k" : 12 ,"k":3 }\n'
    assert value(scan, body, b'a\\"b') == b'[1, {"k": "}"}]'
    assert value(scan, body, b"k") == b"12"  # the first of duplicate keys wins
    assert value(scan, body, b'a"b') is None  # raw bytes between the quotes, no unescaping
    assert value(scan, b'{"n":-1.5e3}', b"n") == b"-1.5e3"
    assert value(scan, b'{"":1}', b"") == b"1"
    assert value(scan, b'{"a\\\\":1}', b"a\\\\") == b"1"
    assert value(scan, b'{"a":"\\\\"}', b"a") == b'"\\\\"'


@pytest.mark.parametrize("body", [b"", b"   ", b'[{"a":1}]', b'"a"', b"1", b'x{"a":1}', b"null"])
def test_top_level_not_an_object(scan: ModuleType, body: bytes) -> None:
    assert scan.top_level_span(body, b"a") is None


@pytest.mark.parametrize(
    "body,key,message",
    [
        (b'{"abc', b"x", "unterminated JSON string starting at byte 1"),
        (b'{"a\\', b"x", "unterminated JSON string starting at byte 1"),
        (b'{"a":"x\\"', b"a", "unterminated JSON string starting at byte 5"),
        (b'{"a":[1,2', b"a", "unterminated JSON value starting at byte 5"),
        (b'{"a":{"b":[]', b"z", "unterminated JSON value starting at byte 5"),
        (b'{"a":[1,"b', b"z", "unterminated JSON string starting at byte 8"),
    ],
)
def test_unterminated_input(scan: ModuleType, body: bytes, key: bytes, message: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        scan.top_level_span(body, key)
    assert str(err.value) == message
    with pytest.raises(ValueError):  # the original raised ValueError: callers still catch it
        scan.top_level_span(body, key)


def test_key_with_nothing_after_its_colon(scan: ModuleType) -> None:
    assert scan.top_level_span(b'{"a":  ', b"a") is None
    assert scan.top_level_span(b'{"a":  ', b"b") is None


def test_buffer_types(scan: ModuleType) -> None:
    start = CHAT.index(b'"gpt-4o-mini"')
    expected = (start, start + len(b'"gpt-4o-mini"'))
    assert scan.top_level_span(CHAT, b"model") == expected
    assert scan.top_level_span(bytearray(CHAT), b"model") == expected
    assert scan.top_level_span(memoryview(b"  " + CHAT)[2:], bytearray(b"model")) == expected
    assert scan.top_level_span(CHAT, memoryview(b"xmodel")[1:]) == expected
    with pytest.raises(TypeError):
        scan.top_level_span(CHAT.decode(), b"model")
    with pytest.raises(TypeError):
        scan.top_level_span(CHAT, "model")
    with pytest.raises(TypeError):
        scan.top_level_span(CHAT, None)


def test_long_strings_and_big_bodies(scan: ModuleType) -> None:
    for pad in range(70):
        p = "x" * pad
        body = f'{{"s":"{p}\\"{p}\\\\","model":"m{p}","t":[{{"model":1}}]}}'.encode()
        assert value(scan, body, b"model") == f'"m{p}"'.encode()
    big = orjson.dumps({"messages": [{"content": 'a"\\{' * 100_000}], "model": "m"})
    assert value(scan, big, b"model") == b'"m"'  # past the size where the GIL is released


# ---------------------------------------------------------------------------- properties
TRICKY = st.one_of(
    st.sampled_from('"\\{}[]:, \t\n/\x00\x1f\u00e9\u2028\U0001f600'), st.characters(blacklist_categories=("Cs",))
)
KEYS = st.one_of(st.sampled_from(["model", "key", 'k"q', "a\\b", "\u00e9", "", "{", "}"]), st.text(TRICKY, max_size=6))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(TRICKY, max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)

# name -> dumps(any) -> bytes; each keeps a key's raw bytes equal to dumps(key)[1:-1]
SERIALIZERS: dict[str, Callable[[Any], bytes]] = {
    "orjson": orjson.dumps,
    "orjson_indent": lambda v: orjson.dumps(v, option=orjson.OPT_INDENT_2),
    "json_ascii": lambda v: json.dumps(v).encode(),
    "json_spaced": lambda v: json.dumps(v, ensure_ascii=False, separators=(" , ", " :\t")).encode(),
    "json_tab_indent": lambda v: json.dumps(v, ensure_ascii=False, indent="\t").encode(),
}


@settings(max_examples=250, deadline=None)
@given(
    data=st.dictionaries(KEYS, VALUES, max_size=6),
    key=KEYS,
    style=st.sampled_from(sorted(SERIALIZERS)),
    lead=st.text(" \t\r\n", max_size=3),
)
def test_span_parses_to_the_keys_value(data: dict[str, Any], key: str, style: str, lead: str) -> None:
    dumps = SERIALIZERS[style]
    # also plant the key inside nested values: those must never be taken for the top one
    data = {**data, "nested": [{key: "inner"}, {"x": {key: 1}}]} if key != "nested" else data
    body = lead.encode() + dumps(data)
    raw_key = dumps(key)[1:-1]
    span = agreed(body, raw_key)
    assert span == legacy_span(body, raw_key)
    if key in data:
        assert span is not None
        assert orjson.loads(body[span[0] : span[1]]) == data[key]
    else:
        assert span is None


@settings(max_examples=100, deadline=None)
@given(data=VALUES.filter(lambda v: not isinstance(v, dict)), key=KEYS)
def test_top_level_that_is_not_an_object(data: Any, key: str) -> None:
    assert agreed(orjson.dumps(data), orjson.dumps(key)[1:-1]) is None


def legacy_outcome(body: bytes, key: bytes) -> object:
    try:
        return legacy_span(body, key)
    except ValueError:
        return "error"


def damaged(body: bytes, edits: list[tuple[int, bytes]], cut: int) -> bytes:
    out = bytearray(body)
    for pos, chunk in edits:
        at = pos % (len(out) + 1)
        out[at : at + 1] = chunk
    return bytes(out[:cut])


@st.composite
def damaged_cases(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A JSON object with a few bytes replaced and maybe cut short, and a key that is
    usually one of its own (so spans are found, not only misses)."""
    data = draw(st.dictionaries(KEYS, VALUES, max_size=5))
    edits = draw(
        st.lists(
            st.tuples(
                st.integers(0, 400),
                st.sampled_from([b"", b'"', b"\\", b"{", b"}", b"[", b"]", b":", b",", b" ", b"\xff"]),
            ),
            max_size=3,
        )
    )
    body = orjson.dumps(data)
    cut = draw(st.one_of(st.just(len(body)), st.integers(0, len(body))))  # often whole
    body = damaged(body, edits, cut)
    keys = st.sampled_from(sorted(data)) if data and draw(st.booleans()) else KEYS
    return body, orjson.dumps(draw(keys))[1:-1]


@settings(max_examples=300, deadline=None)
@given(case=st.one_of(st.tuples(st.binary(max_size=120), st.binary(max_size=4)), damaged_cases()))
def test_arbitrary_bytes_agree_with_the_original(case: tuple[bytes, bytes]) -> None:
    body, key = case
    got = agreed(body, key)  # any exception but InvalidArgumentError fails the test
    old = legacy_outcome(body, key)
    if old == "error":
        assert isinstance(got, tuple) and got[0] == "InvalidArgumentError", (body, key)
    else:
        assert got == old, (body, key)
