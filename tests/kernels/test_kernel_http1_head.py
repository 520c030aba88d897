"""Kernel `http1`: parse_response_head on every backend, against a model of the heads it
builds and against the upstream client's original parser (http1_head_legacy.py)."""

from __future__ import annotations

import re
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.errors import HttpHeadError, InvalidArgumentError, KernelError

from .http1_head_legacy import LegacyHeadError, legacy_read_head
from .kernel_backends import BACKENDS, assert_all_backends_built, available, require

KERNEL = "http1"
CHUNKED, KEEP_ALIVE = 1, 2

TYPICAL = (
    b"HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
    b"Content-Type: application/json\r\nContent-Length: 1234\r\n"
    b"Connection: keep-alive\r\nx-request-id: req_8f3a2b1c9d\r\n"
    b"openai-processing-ms: 312\r\nServer: cloudflare\r\n\r\n"
)


def test_all_backends_built_in_ci() -> None:
    assert_all_backends_built(KERNEL)


@pytest.fixture(params=BACKENDS)
def http1(request: pytest.FixtureRequest) -> ModuleType:
    return require(KERNEL, request.param)


def outcome(mod: ModuleType, buf: object, *args: object) -> object:
    """The result, or the error class and message (which every backend must share)."""
    try:
        return mod.parse_response_head(buf, *args)
    except HttpHeadError as exc:
        return ("HttpHeadError", str(exc))


def agreed(buf: bytes, *args: object) -> object:
    """The outcome every built backend gives (asserting they all give the same)."""
    results = {name: outcome(mod, buf, *args) for name, mod in available(KERNEL).items()}
    first = results["python"]
    for name, got in results.items():
        assert got == first, (name, buf)
    return first


# ---------------------------------------------------------------------------- examples
def test_typical_head(http1: ModuleType) -> None:
    got = http1.parse_response_head(TYPICAL + b'{"id":1}')
    assert got == (
        len(TYPICAL),
        200,
        [
            ("date", "Mon, 01 Jan 2024 00:00:00 GMT"),
            ("content-type", "application/json"),
            ("content-length", "1234"),
            ("connection", "keep-alive"),
            ("x-request-id", "req_8f3a2b1c9d"),
            ("openai-processing-ms", "312"),
            ("server", "cloudflare"),
        ],
        1234,
        KEEP_ALIVE,
    )
    assert all(type(n) is str and type(v) is str for n, v in got[2])


def test_incomplete_head_waits(http1: ModuleType) -> None:
    for cut in range(len(TYPICAL)):
        assert http1.parse_response_head(TYPICAL[:cut]) is None, cut
    assert http1.parse_response_head(b"") is None
    assert http1.parse_response_head(b"HTTP/1.1 200 OK\r\n", 17) is None


def test_too_large_without_terminator(http1: ModuleType) -> None:
    with pytest.raises(HttpHeadError, match="^upstream response head too large$"):
        http1.parse_response_head(b"HTTP/1.1 200 OK\r\n", 16)
    with pytest.raises(HttpHeadError):
        http1.parse_response_head(b"x" * 65537)
    assert http1.parse_response_head(b"x" * 65536) is None
    # a terminator that has arrived is honoured whatever max_head says (as h1.py did)
    assert http1.parse_response_head(b"HTTP/1.1 204 No Content\r\n\r\n", 0)[1] == 204


def test_error_class_is_a_kernel_and_value_error() -> None:
    assert issubclass(HttpHeadError, KernelError) and issubclass(HttpHeadError, ValueError)


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"HTTP/2 200 OK",
        b"HTTP/1.1 2000",
        b"HTTP/1.1 20",
        b"HTTP/1.1  200",
        b"HTTP/1.1 200\tOK",
        b"http/1.1 200 OK",
        b"HTTP/1.x 200 OK",
        b"HTTP/1.1 2a0",
        b"HTTP/1.1 +20",
        b"ICY 200 OK",
        b"HTTP/1.1 \xd9\xa0\xd9\xa0\xd9\xa0",
    ],
)
def test_bad_status_lines(http1: ModuleType, line: bytes) -> None:
    with pytest.raises(HttpHeadError) as err:
        http1.parse_response_head(line + b"\r\nA: b\r\n\r\n")
    assert str(err.value) == f"bad upstream status line {line!r}"


def test_status_line_quote_is_repr_of_80_bytes(http1: ModuleType) -> None:
    line = b"HTTP/9 \x00\x7f\xff'\"\\\t" + bytes(range(200, 256))
    with pytest.raises(HttpHeadError) as err:
        http1.parse_response_head(line + b"\r\n\r\n")
    assert str(err.value) == f"bad upstream status line {line[:80]!r}"
    for quotes in (b"it's", b"'\"", b'"'):
        with pytest.raises(HttpHeadError) as err:
            http1.parse_response_head(quotes + b"\r\n\r\n")
        assert str(err.value) == f"bad upstream status line {quotes!r}"


@pytest.mark.parametrize(
    "line,status,flags",
    [
        (b"HTTP/1.1 204", 204, KEEP_ALIVE),
        (b"HTTP/1.1 404 ", 404, KEEP_ALIVE),
        (b"HTTP/1.0 000 x y", 0, 0),
        (b"HTTP/1.7 200 OK", 200, 0),
        (b"HTTP/1.1 200 OK\nfolded\r", 200, KEEP_ALIVE),
    ],
)
def test_good_status_lines(http1: ModuleType, line: bytes, status: int, flags: int) -> None:
    got = http1.parse_response_head(line + b"\r\n\r\n")
    assert got == (len(line) + 4, status, [], -1, flags)


def test_header_lines_split_stripped_and_skipped_like_h1(http1: ModuleType) -> None:
    head = (
        b"HTTP/1.1 200 OK\r\n  X-A \t:\x0b v a l \x0c\r\nno colon\r\n: empty name\r\n"
        b" : spaced name\r\na:\r\nB:b:c\r\nX: one\nY: two\r\nX-\xc4\xe9: \xe9\xa0\r\n\r\n"
    )
    got = http1.parse_response_head(head)
    assert got[2] == [
        ("x-a", "v a l"),
        ("", "spaced name"),
        ("a", ""),
        ("b", "b:c"),
        ("x", "one\nY: two"),
        ("x-\xc4\xe9", "\xe9\xa0"),
    ]
    assert got[2] == legacy_read_head(head)[2]


def test_long_header_names_are_lowered(http1: ModuleType) -> None:
    name = "X-" + "Ab" * 100
    got = http1.parse_response_head(f"HTTP/1.1 200 OK\r\n{name}: v\r\n\r\n".encode())
    assert got[2] == [(name.lower(), "v")]


@pytest.mark.parametrize(
    "values,length",
    [
        ([], -1),
        (["0"], 0),
        (["7", "007"], 7),
        (["9223372036854775807"], 2**63 - 1),
        (["000000000000000000000000000000042"], 42),
    ],
)
def test_content_length(http1: ModuleType, values: list[str], length: int) -> None:
    extra = "".join(f"Content-Length: {v}\r\n" for v in values)
    got = http1.parse_response_head(f"HTTP/1.1 200 OK\r\n{extra}\r\n".encode())
    assert got[3] == length


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"-1",
        b"+5",
        b"1_000",
        b"5 5",
        b"0x10",
        b"5,5",
        b"\xb2",
        b"9223372036854775808",
        b"99999999999999999999999",
        b"1" * 5000,
    ],
)
def test_bad_content_length(http1: ModuleType, value: bytes) -> None:
    with pytest.raises(HttpHeadError) as err:
        http1.parse_response_head(b"HTTP/1.1 200 OK\r\nContent-Length: " + value + b"\r\n\r\n")
    assert str(err.value) == f"bad upstream content-length {value[:80]!r}"


def test_conflicting_content_lengths(http1: ModuleType) -> None:
    with pytest.raises(HttpHeadError) as err:
        http1.parse_response_head(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nCONTENT-LENGTH: 6\r\n\r\n")
    assert str(err.value) == "conflicting upstream content-length values 5 and 6"


@pytest.mark.parametrize(
    "version,extra,flags",
    [
        ("1.1", "", KEEP_ALIVE),
        ("1.0", "", 0),
        ("1.0", "Connection: keep-alive\r\n", KEEP_ALIVE),
        ("1.1", "Connection: Close\r\n", 0),
        ("1.1", "Connection: keep-alive, close\r\n", 0),
        ("1.1", "Connection: close\r\nConnection: upgrade\r\n", 0),
        ("1.1", "Connection: close\r\nConnection: KEEP-ALIVE\r\n", KEEP_ALIVE),
        ("1.1", "Transfer-Encoding: gzip, Chunked\r\n", CHUNKED | KEEP_ALIVE),
        ("1.0", "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", 0),
        ("1.0", "Transfer-Encoding: chunkedx\r\n", CHUNKED),
    ],
)
def test_flags(http1: ModuleType, version: str, extra: str, flags: int) -> None:
    got = http1.parse_response_head(f"HTTP/{version} 200 OK\r\n{extra}\r\n".encode())
    assert got[4] == flags


def test_first_terminator_wins(http1: ModuleType) -> None:
    head = b"HTTP/1.1 200 OK\r\nA: \r\r\n\r\nB: c\r\n\r\n"
    assert http1.parse_response_head(head) == (25, 200, [("a", "")], -1, KEEP_ALIVE)


def test_buffer_types(http1: ModuleType) -> None:
    expected = http1.parse_response_head(TYPICAL)
    assert http1.parse_response_head(bytearray(TYPICAL)) == expected
    assert http1.parse_response_head(memoryview(TYPICAL)) == expected
    assert http1.parse_response_head(memoryview(b"xx" + TYPICAL)[2:]) == expected
    strided = memoryview(bytes(b for c in TYPICAL for b in (c, 0)))[::2]
    assert http1.parse_response_head(strided) == expected


def test_argument_errors(http1: ModuleType) -> None:
    with pytest.raises(TypeError):
        http1.parse_response_head(TYPICAL.decode())
    with pytest.raises(TypeError):
        http1.parse_response_head(12)
    with pytest.raises(TypeError):
        http1.parse_response_head(TYPICAL, 1.5)
    with pytest.raises(TypeError):
        http1.parse_response_head(TYPICAL, None)
    with pytest.raises(InvalidArgumentError):
        http1.parse_response_head(TYPICAL, -1)
    assert http1.parse_response_head(b"x", 2**80) is None


# ---------------------------------------------------------------------------- properties
NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_!#$%&'*+.^`|~\xc9"
VALUE_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f")
PAD = st.text(alphabet=" \t", max_size=3)
SPECIAL = {"content-length", "transfer-encoding", "connection"}


def ascii_lower(text: str) -> str:
    """`bytes.lower()` on the latin-1 text: only A-Z change (É stays É)."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


@st.composite
def random_case(draw: st.DrawFn, word: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.upper() if f else c.lower() for c, f in zip(word, flips))


@st.composite
def valid_heads(draw: st.DrawFn) -> tuple[bytes, tuple]:
    """A head, built from parts, and the tuple the contract says it parses to."""
    minor = draw(st.sampled_from("0111123456789"))
    status = draw(st.integers(0, 999))
    reason = draw(st.one_of(st.none(), st.text(alphabet=VALUE_CHARS, max_size=20)))
    lines = [f"HTTP/1.{minor} {status:03d}" + ("" if reason is None else " " + reason)]
    length = draw(st.integers(0, 2**63 - 1))
    chunked, keep_alive = False, minor == "1"
    headers, seen_length = [], False
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["other", "other", "length", "te", "conn", "junk"]))
        if kind == "junk":  # skipped lines: no colon, or a colon first
            junk = draw(st.text(alphabet=VALUE_CHARS.filter(lambda c: c != ":"), min_size=1, max_size=15))
            lines.append(draw(st.sampled_from([junk, ":" + junk])))
            continue
        if kind == "length":
            name = "content-length"
            value = "0" * draw(st.integers(0, 3)) + str(length)
            seen_length = True
        elif kind == "te":
            name = "transfer-encoding"
            value = draw(st.sampled_from(["chunked", "gzip", "gzip, chunked", "identity", "CHUNKED", "Chunked;q=1"]))
            chunked = "chunked" in value.lower()
        elif kind == "conn":
            name = "connection"
            value = draw(
                st.sampled_from(["close", "keep-alive", "Keep-Alive", "upgrade", "te", "keep-alive, Close", "CLOSE"])
            )
            if "close" in value.lower():
                keep_alive = False
            elif "keep-alive" in value.lower():
                keep_alive = True
        else:
            name = draw(
                st.text(alphabet=NAME_CHARS, min_size=1, max_size=12).filter(lambda n: n.lower() not in SPECIAL)
            )
            value = draw(st.text(alphabet=VALUE_CHARS, max_size=30)).strip(" \t")
        shown = draw(random_case(name))
        lines.append(draw(PAD) + shown + draw(PAD) + ":" + draw(PAD) + value + draw(PAD))
        headers.append((ascii_lower(shown), value))
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    flags = (CHUNKED if chunked else 0) | (KEEP_ALIVE if keep_alive else 0)
    return head, (len(head), status, headers, length if seen_length else -1, flags)


@settings(max_examples=200, deadline=None)
@given(case=valid_heads(), body=st.binary(max_size=40))
def test_random_valid_heads_parse_to_the_model(case: tuple[bytes, tuple], body: bytes) -> None:
    head, expected = case
    assert agreed(head + body) == expected
    # and the original client read them the same way
    old = legacy_read_head(head + body)
    assert old is not None
    assert (old[0], old[1], old[2], old[3]) == expected[:4]
    assert (CHUNKED if old[4] else 0) | (KEEP_ALIVE if old[5] else 0) == expected[4]


@settings(max_examples=100, deadline=None)
@given(case=valid_heads())
def test_any_prefix_waits_then_the_whole_head_parses(case: tuple[bytes, tuple]) -> None:
    head, expected = case
    mods = available(KERNEL).values()
    fed = bytearray()
    for i in range(len(head)):
        fed += head[i : i + 1]
        done = i == len(head) - 1
        for mod in mods:
            got = mod.parse_response_head(fed, len(head))
            assert (got == expected) if done else (got is None), (i, mod)


STRICT_STATUS = re.compile(rb"HTTP/1\.[0-9] [0-9]{3}(?: .*)?\Z", re.S)


def tightened(buf: bytes) -> bool:
    """Whether the contract rejects, on purpose, a head the original client accepted: a
    status line or Content-Length it let through, or Content-Lengths that disagree."""
    head = buf[: buf.find(b"\r\n\r\n")]
    lines = head.split(b"\r\n")
    if not STRICT_STATUS.match(lines[0]):
        return True
    lengths = set()
    for line in lines[1:]:
        i = line.find(b":")
        if i > 0 and line[:i].strip().lower() == b"content-length":
            value = line[i + 1 :].strip()
            if not value.isdigit() or int(value) > 2**63 - 1:
                return True
            lengths.add(int(value))
    return len(lengths) > 1


def mutated(head: bytes, edits: list[tuple[int, bytes]]) -> bytes:
    out = bytearray(head)
    for pos, chunk in edits:
        at = pos % (len(out) + 1)
        out[at : at + 1] = chunk
    return bytes(out)


noise = st.one_of(
    st.binary(max_size=200),
    st.tuples(
        valid_heads(),
        st.lists(
            st.tuples(
                st.integers(0, 500),
                st.sampled_from([b"", b"\r", b"\n", b":", b" ", b"\x00", b"\xff", b"\r\n\r\n", b"-", b"9", b"x"]),
            ),
            min_size=1,
            max_size=4,
        ),
    ).map(lambda t: mutated(t[0][0], t[1])),
    st.binary(max_size=120).map(lambda b: b"HTTP/1.1 200 OK\r\n" + b + b"\r\n\r\n"),
)


@settings(max_examples=300, deadline=None)
@given(buf=noise, max_head=st.sampled_from([0, 16, 65536]))
def test_arbitrary_bytes_agree_and_never_crash(buf: bytes, max_head: int) -> None:
    got = agreed(buf, max_head)  # any other exception fails the test
    try:
        old = legacy_read_head(buf, max_head)
    except LegacyHeadError:
        assert isinstance(got, tuple) and got[0] == "HttpHeadError"  # stricter, never looser
        return
    if old is None:
        assert got is None
    elif isinstance(got, tuple) and got[0] == "HttpHeadError":
        assert tightened(buf), buf
    else:
        flags = (CHUNKED if old[4] else 0) | (KEEP_ALIVE if old[5] else 0)
        assert got == (old[0], old[1], old[2], old[3], flags)
