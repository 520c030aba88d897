"""Kernel `sse`: every backend against the WHATWG rules and against each other."""

from __future__ import annotations

from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lunaroute.errors import InvalidArgumentError, SseLineTooLongError

from .kernel_backends import BACKENDS, assert_all_backends_built, available, require
from .sse_oracle import interpret, line_too_long_at

KERNEL = "sse"


def test_all_backends_built_in_ci() -> None:
    assert_all_backends_built(KERNEL)


@pytest.fixture(params=BACKENDS)
def sse(request: pytest.FixtureRequest) -> ModuleType:
    return require(KERNEL, request.param)


def feed_all(framer: object, *chunks: bytes) -> list[tuple]:
    events: list[tuple] = []
    for chunk in chunks:
        events += framer.feed(chunk)  # type: ignore[attr-defined]
    return events


# ---------------------------------------------------------------------------- basics
def test_simple_event_is_a_plain_tuple(sse: ModuleType) -> None:
    f = sse.SseFramer()
    events = f.feed(b"data: hello\n\n")
    assert events == [("message", "hello", "", None)]
    assert type(events) is list and type(events[0]) is tuple


def test_event_id_retry_fields(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.feed(b'event: delta\nid: 7\nretry: 1500\ndata: {"a":1}\n\n') == [("delta", '{"a":1}', "7", 1500)]
    assert (f.last_event_id, f.retry) == ("7", 1500)


def test_accepts_bytearray_and_memoryview(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.feed(bytearray(b"data: a\n")) == []
    assert f.feed(memoryview(b"xx\n\n")[2:]) == [("message", "a", "", None)]


def test_str_input_is_a_type_error(sse: ModuleType) -> None:
    f = sse.SseFramer()
    with pytest.raises(TypeError):
        f.feed("data: x\n\n")  # type: ignore[arg-type]


def test_empty_feed_changes_nothing(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.feed(b"") == []
    assert f.feed(b"data: a\r") == []
    assert f.feed(b"") == []
    assert f.feed(b"\n\n") == [("message", "a", "", None)]


# ---------------------------------------------------------------------------- line endings
def test_cr_then_lf_in_next_chunk_is_one_line_ending(sse: ModuleType) -> None:
    # Were the LF a second line ending, the empty line would dispatch "a" on its own.
    f = sse.SseFramer()
    events = feed_all(f, b"data: a\r", b"\ndata: b\r", b"\n\r\n")
    assert events == [("message", "a\nb", "", None)]


def test_lone_cr_and_crlf_and_lf_all_end_lines(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.feed(b"data: 1\rdata: 2\r\ndata: 3\n\r") == [("message", "1\n2\n3", "", None)]


def test_crlf_split_between_chunks_byte_by_byte(sse: ModuleType) -> None:
    f = sse.SseFramer()
    stream = b"data: x\r\n\r\ndata: y\r\r"
    events = feed_all(f, *(stream[i : i + 1] for i in range(len(stream))))
    assert events == [("message", "x", "", None), ("message", "y", "", None)]


# ---------------------------------------------------------------------------- BOM and UTF-8
def test_bom_split_across_chunks_is_dropped(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert feed_all(f, b"\xef", b"\xbb", b"\xbfdata: x\n\n") == [("message", "x", "", None)]


def test_bom_is_dropped_only_once(sse: ModuleType) -> None:
    # The second BOM becomes part of the field name, which is then unknown.
    f = sse.SseFramer()
    assert f.feed(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n") == []


def test_incomplete_bom_is_line_content(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert feed_all(f, b"\xef\xbb", b"data: x\n\n") == []  # field "\ufffddata": ignored
    g = sse.SseFramer()
    assert feed_all(g, b"\xef\xbb", b"\n", b"data: x\n\n") == [("message", "x", "", None)]


def test_bom_not_at_start_is_data(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.feed(b"data: \xef\xbb\xbfx\n\n") == [("message", "\ufeffx", "", None)]


def test_invalid_utf8_decodes_like_python_replace(sse: ModuleType) -> None:
    raw = b"ok \xff \xe2\x82 \xed\xa0\x80 \xf0\x9f\x9a \xc3\xa9"
    f = sse.SseFramer()
    assert f.feed(b"data: " + raw + b"\n\n") == [("message", raw.decode("utf-8", "replace"), "", None)]


def test_multibyte_char_split_across_chunks(sse: ModuleType) -> None:
    f = sse.SseFramer()
    rocket = "🚀".encode()
    events = feed_all(f, b"data: a" + rocket[:1], rocket[1:3], rocket[3:] + b"\xc3", b"\xa9\n\n")
    assert events == [("message", "a🚀é", "", None)]


# ---------------------------------------------------------------------------- fields
def test_comments_and_unknown_fields_are_ignored(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.feed(b": keep-alive\nfoo: bar\n:\ndata: x\nDATA: y\n\n") == [("message", "x", "", None)]


def test_value_loses_exactly_one_leading_space(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.feed(b"data:a\ndata: b\ndata:  c\ndata:d: e\n\n") == [("message", "a\nb\n c\nd: e", "", None)]


def test_field_without_colon_has_empty_value(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.feed(b"data\n\n") == [("message", "", "", None)]
    assert f.feed(b"data\ndata\n\n") == [("message", "\n", "", None)]


def test_only_one_trailing_newline_is_removed(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.feed(b"data: a\ndata:\n\n") == [("message", "a\n", "", None)]


def test_event_type_resets_after_each_block(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.feed(b"event: foo\ndata: 1\n\ndata: 2\n\n") == [("foo", "1", "", None), ("message", "2", "", None)]
    # ... also after a block that dispatched nothing
    assert f.feed(b"event: bar\n\ndata: 3\n\n") == [("message", "3", "", None)]
    # an empty event name means "message"
    assert f.feed(b"event:\ndata: 4\n\n") == [("message", "4", "", None)]


def test_no_dispatch_on_empty_data_but_id_sticks(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.feed(b"event: x\nid: 1\n\n") == []
    assert f.last_event_id == "1"
    assert f.feed(b"data: y\n\n") == [("message", "y", "1", None)]


def test_id_with_nul_is_ignored(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.feed(b"id: ok\ndata: 1\n\nid: a\x00b\ndata: 2\n\n") == [
        ("message", "1", "ok", None),
        ("message", "2", "ok", None),
    ]
    assert f.last_event_id == "ok"


def test_empty_id_resets_last_event_id(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.feed(b"id: 5\ndata: a\n\nid\ndata: b\n\n") == [("message", "a", "5", None), ("message", "b", "", None)]


@pytest.mark.parametrize("bad", [b"12a", b"-5", b"", b" 5", b"5 ", b"1.5", "١٢".encode(), b"+3"])
def test_retry_non_digits_are_ignored(sse: ModuleType, bad: bytes) -> None:
    f = sse.SseFramer()
    assert f.feed(b"retry: 100\ndata: a\n\n") == [("message", "a", "", 100)]
    assert f.feed(b"retry: " + bad + b"\ndata: b\n\n") == [("message", "b", "", None)]
    assert f.retry == 100


def test_retry_leading_zeros_and_persistence(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.retry is None
    assert f.feed(b"retry: 0042\ndata: a\n\ndata: b\n\n") == [("message", "a", "", 42), ("message", "b", "", None)]
    assert f.retry == 42
    assert f.feed(b"retry: 0\ndata: c\n\n") == [("message", "c", "", 0)]


def test_retry_beyond_u64_is_ignored(sse: ModuleType) -> None:
    f = sse.SseFramer()
    f.feed(b"retry: 18446744073709551615\n")
    assert f.retry == 2**64 - 1
    f.feed(b"retry: 18446744073709551616\nretry: 99999999999999999999999\n")
    assert f.retry == 2**64 - 1


# ---------------------------------------------------------------------------- close()
def test_close_discards_pending_event(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.feed(b"data: x\n") == []
    assert f.close() == []
    assert f.feed(b"\n") == []  # the pending "x" is gone
    assert f.feed(b"data: y\n\n") == [("message", "y", "", None)]


def test_close_processes_unterminated_last_line(sse: ModuleType) -> None:
    f = sse.SseFramer()
    assert f.feed(b"id: 9\ndata: a\n\nretry: 250") == [("message", "a", "9", None)]
    assert f.buffered == len(b"retry: 250")
    assert f.close() == []
    assert f.retry == 250
    assert f.buffered == 0
    assert f.last_event_id == "9"  # id and retry outlive the stream, as in EventSource


def test_close_resets_bom_handling(sse: ModuleType) -> None:
    f = sse.SseFramer()
    f.feed(b"\xef\xbb\xbfdata: a\n\n")
    f.close()
    assert f.feed(b"\xef\xbb\xbfdata: b\n\n") == [("message", "b", "", None)]


def test_close_resets_pending_cr(sse: ModuleType) -> None:
    f = sse.SseFramer()
    f.feed(b"data: a\r")
    f.close()
    # In the new stream the leading LF is a line ending of its own: an empty line.
    assert f.feed(b"\ndata: b\n\n") == [("message", "b", "", None)]


# ---------------------------------------------------------------------------- bounded lines
def test_max_line_bytes_must_be_positive(sse: ModuleType) -> None:
    for bad in (0, -1):
        with pytest.raises(InvalidArgumentError):
            sse.SseFramer(max_line_bytes=bad)


def test_line_of_exactly_max_bytes_is_fine(sse: ModuleType) -> None:
    f = sse.SseFramer(max_line_bytes=8)
    assert f.feed(b"data: 12\r") == []
    assert f.feed(b"\ndata: 34\n\n") == [("message", "12\n34", "", None)]


def test_complete_line_too_long_raises_and_poisons(sse: ModuleType) -> None:
    f = sse.SseFramer(max_line_bytes=8)
    with pytest.raises(SseLineTooLongError):
        f.feed(b"data: 1\n\ndata: 123\n\n")
    with pytest.raises(SseLineTooLongError):
        f.feed(b"data: ok\n\n")
    with pytest.raises(SseLineTooLongError):
        f.close()


def test_unfinished_line_too_long_raises_as_soon_as_held(sse: ModuleType) -> None:
    f = sse.SseFramer(max_line_bytes=8)
    assert f.feed(b"data: 1") == []
    assert f.buffered == 7
    assert f.feed(b"2") == []
    with pytest.raises(SseLineTooLongError):
        f.feed(b"3")


def test_line_too_long_is_a_value_error(sse: ModuleType) -> None:
    f = sse.SseFramer(max_line_bytes=1)
    with pytest.raises(ValueError):
        f.feed(b"ab")


# ---------------------------------------------------------------------------- differential
SSE_FRAGMENTS = [
    b"data",
    b"data:",
    b"data: ",
    b"event",
    b"event: ",
    b"event:x",
    b"id",
    b"id: ",
    b"id:1",
    b"retry",
    b"retry:",
    b"retry: ",
    b"retry: 10",
    b"0",
    b"123",
    b"-1",
    b":",
    b": c",
    b" ",
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b"\r\r",
    b"\xef\xbb\xbf",
    b"\xef",
    b"\xbb",
    b"\xbf",
    b"\x00",
    b"x",
    b"hello",
    b"message",
    b"foo",
    b"\xc3\xa9",
    b"\xe2\x82\xac",
    b"\xf0\x9f\x9a\x80",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\xed\xa0\x80",
    b"\xf0\x9f",
    b"\t",
    b'{"a":[1,2]}',
]
fragment = st.one_of(st.sampled_from(SSE_FRAGMENTS), st.binary(max_size=4))
fragment_streams = st.builds(
    lambda bom, parts: (b"\xef\xbb\xbf" if bom else b"") + b"".join(parts),
    st.booleans(),
    st.lists(fragment, max_size=40),
)
# Line-structured streams: real fields, blank lines that dispatch, every terminator kind.
field_value = st.one_of(
    st.sampled_from(
        [
            b"",
            b"x",
            b"hello world",
            b"123",
            b"0",
            b"-1",
            b" lead",
            b"a\x00b",
            b"\xc3\xa9\xe2\x82\xac",
            b"\xff\xfe",
            b"\xf0\x9f\x9a",
            b":",
            b"\xef\xbb\xbf",
        ]
    ),
    st.binary(max_size=6).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
)
field_line = st.builds(
    lambda name, sep, value: name + sep + value,
    st.sampled_from([b"data", b"data", b"event", b"id", b"retry", b"foo", b"", b"DATA", b"dat"]),
    st.sampled_from([b"", b":", b": ", b":  "]),
    field_value,
)
sse_line = st.one_of(
    field_line, field_line, st.just(b""), st.just(b""), st.sampled_from([b":", b": comment"]), st.binary(max_size=6)
)
structured_streams = st.builds(
    lambda bom, lines, last: (b"\xef\xbb\xbf" if bom else b"") + b"".join(line + end for line, end in lines) + last,
    st.booleans(),
    st.lists(st.tuples(sse_line, st.sampled_from([b"\n", b"\r", b"\r\n"])), max_size=25),
    st.one_of(st.just(b""), sse_line),
)
streams = st.one_of(structured_streams, fragment_streams)


def chunked(stream: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(stream) + 1) for c in cuts})
    bounds = [0, *points, len(stream)]
    return [stream[a:b] for a, b in zip(bounds, bounds[1:])]


def run(mod: ModuleType, chunks: list[bytes], max_line_bytes: int = 1_048_576) -> tuple:
    """Everything observable: per feed its events and `buffered`, then close() and state."""
    f = mod.SseFramer(max_line_bytes)
    trace: list[object] = []
    for chunk in chunks:
        try:
            trace.append((f.feed(chunk), f.buffered))
        except SseLineTooLongError:
            trace.append("too long")
            return tuple(trace), "poisoned"
    return tuple(trace), (f.close(), f.last_event_id, f.retry, f.buffered)


def events_of(trace: tuple) -> list[tuple]:
    return [e for step in trace for e in step[0]]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=streams, cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_backends_agree_with_oracle_whatever_the_chunking(stream: bytes, cuts: list[int]) -> None:
    expected = interpret(stream)
    for name, mod in available(KERNEL).items():
        whole = run(mod, [stream])
        pieces = run(mod, chunked(stream, cuts))
        bytewise = run(mod, [stream[i : i + 1] for i in range(len(stream))])
        for trace, (closed, last_id, retry, buffered) in (whole, pieces, bytewise):
            assert events_of(trace) == expected.events, name
            assert (closed, last_id, retry, buffered) == ([], expected.last_event_id, expected.retry, 0), name
        if name == "python":
            reference = pieces
        else:
            assert pieces == reference, name  # identical per-feed events and buffered


@settings(max_examples=200, deadline=None)
@given(
    stream=streams.filter(lambda s: not s.startswith(b"\xef")),
    cuts=st.lists(st.integers(0, 10_000), max_size=8),
    max_line=st.integers(1, 24),
)
def test_line_limit_trips_on_the_same_feed_everywhere(stream: bytes, cuts: list[int], max_line: int) -> None:
    chunks = chunked(stream, cuts)
    at = line_too_long_at(stream, max_line)
    if at is None:
        expected_feed = None
    else:
        ends = [sum(len(c) for c in chunks[: i + 1]) for i in range(len(chunks))]
        expected_feed = next(i for i, end in enumerate(ends) if end > at)
    for name, mod in available(KERNEL).items():
        trace, tail = run(mod, chunks, max_line)
        if expected_feed is None:
            assert tail != "poisoned", name
            assert events_of(trace) == interpret(stream).events, name
        else:
            assert tail == "poisoned" and len(trace) == expected_feed + 1, name
            # every feed before the one that tripped returned what the oracle says
            assert trace[:-1] == run(mod, chunks[:expected_feed], max_line)[0], name


def test_reuse_after_close_matches_a_fresh_framer(sse: ModuleType) -> None:
    stream = b"\xef\xbb\xbfevent: e\ndata: 1\n\nretry: 5\ndata: 2\r\n\r\n"
    f = sse.SseFramer()
    first = f.feed(stream)
    f.close()
    assert f.feed(stream) == first
