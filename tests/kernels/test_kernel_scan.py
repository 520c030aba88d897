"""Kernel `scan`: find_any on every backend against a naive reference."""

from __future__ import annotations

import os
import subprocess
import sys
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.errors import InvalidArgumentError

from .kernel_backends import BACKENDS, assert_all_backends_built, available, load, require

KERNEL = "scan"


def test_all_backends_built_in_ci() -> None:
    assert_all_backends_built(KERNEL)


@pytest.fixture(params=BACKENDS)
def scan(request: pytest.FixtureRequest) -> ModuleType:
    return require(KERNEL, request.param)


def naive(data: bytes, delims: bytes, start: int = 0, end: int | None = None) -> int:
    if not 1 <= len(delims) <= 16 or start < 0 or start > len(data):
        raise InvalidArgumentError("bad arguments")
    if end is not None and end < 0:
        raise InvalidArgumentError("bad arguments")
    stop = len(data) if end is None else min(end, len(data))
    return next((i for i in range(start, stop) if data[i] in delims), -1)


def outcome(fn, *args) -> object:  # type: ignore[no-untyped-def]
    try:
        return fn(*args)
    except InvalidArgumentError:
        return "InvalidArgumentError"


# ---------------------------------------------------------------------------- basics
def test_finds_first_of_several(scan: ModuleType) -> None:
    assert scan.find_any(b"hello: world\r\n", b"\r\n:") == 5
    assert scan.find_any(b"hello", b"xyz") == -1
    assert scan.find_any(b"", b"x") == -1


def test_start_end_window(scan: ModuleType) -> None:
    data = b"a:b:c:d"
    assert scan.find_any(data, b":", 2) == 3
    assert scan.find_any(data, b":", 3) == 3
    assert scan.find_any(data, b":", 4, 5) == -1
    assert scan.find_any(data, b":", 4, 6) == 5
    assert scan.find_any(data, b":", 0, 1) == -1
    assert scan.find_any(data, b":", 0, None) == 1
    assert scan.find_any(data, b"d", 0, 1000) == 6  # end is clamped
    assert scan.find_any(data, b":", 5, 5) == -1
    assert scan.find_any(data, b":", 6, 2) == -1
    assert scan.find_any(data, b":", len(data)) == -1


def test_duplicate_and_high_delims(scan: ModuleType) -> None:
    data = bytes(range(256)) * 2
    assert scan.find_any(data, b"\xff\xff\xff") == 255
    assert scan.find_any(data, b"\x80\x7f") == 127
    assert scan.find_any(data, b"\x00", 1) == 256
    assert scan.find_any(data, bytes(range(240, 256))) == 240


def test_buffer_types(scan: ModuleType) -> None:
    raw = b"0123456789" * 20 + b"!"
    assert scan.find_any(bytearray(raw), b"!") == 200
    assert scan.find_any(memoryview(raw), b"!") == 200
    view = memoryview(raw)[7:]  # a view that does not start at its buffer's start
    assert scan.find_any(view, b"!") == 193
    assert scan.find_any(view, b"0", 1) == 3


@pytest.mark.parametrize("delims", [b"", bytes(17), b"0123456789abcdefg"])
def test_delims_count_checked(scan: ModuleType, delims: bytes) -> None:
    with pytest.raises(InvalidArgumentError):
        scan.find_any(b"abc", delims)


@pytest.mark.parametrize("start,end", [(-1, None), (0, -1), (4, None), (4, 10), (-5, -1)])
def test_bad_bounds(scan: ModuleType, start: int, end: int | None) -> None:
    with pytest.raises(InvalidArgumentError):
        scan.find_any(b"abc", b"c", start, end)


def test_str_data_is_a_type_error(scan: ModuleType) -> None:
    with pytest.raises(TypeError):
        scan.find_any("abc", b"c")  # type: ignore[arg-type]


def test_simd_level_is_known(scan: ModuleType) -> None:
    level = scan.simd_level()
    assert level in ("avx2", "sse2", "neon", "scalar")
    if scan is not load(KERNEL, "rust"):
        assert level == "scalar"


# ---------------------------------------------------------------------------- long inputs
DELIM_SETS = [
    b"\n",
    b"\r\n",
    b":\r\n",
    b'"\\',
    b"\x80\xff",
    bytes(range(0xF0, 0xF8)),
    bytes(range(0x70, 0x80)) + b"",
    b"\x00",
]


@pytest.mark.parametrize("delims", DELIM_SETS, ids=lambda d: d.hex())
def test_match_at_every_alignment_incl_the_tail(scan: ModuleType, delims: bytes) -> None:
    filler = next(b for b in b"abcdefghijklmnopqrstuvwxyz0123456789" if b not in delims)
    for size in (1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 97, 130):
        base = bytearray([filler]) * size
        assert scan.find_any(bytes(base), delims) == -1
        for pos in range(size):
            data = bytearray(base)
            data[pos] = delims[pos % len(delims)]
            data_b = bytes(data)
            assert scan.find_any(data_b, delims) == pos, (size, pos)
            # a hit before `start` and after `end` must be invisible
            assert scan.find_any(data_b, delims, pos + 1) == -1
            assert scan.find_any(data_b, delims, 0, pos) == -1
            assert scan.find_any(data_b, delims, pos, pos + 1) == pos


def test_long_input_all_starts(scan: ModuleType) -> None:
    data = bytes((i * 7919) % 251 for i in range(4096))
    delims = b"\xf0\x03\x99"
    for start in range(300):
        assert scan.find_any(data, delims, start) == naive(data, delims, start)
    for end in range(0, 300, 7):
        assert scan.find_any(data, delims, 100, end) == naive(data, delims, 100, end)


@pytest.mark.parametrize("delims", [b"\r\n", b"\n\r", b"\x00\x01\x02\x03\x04\x05\x06\n"], ids=lambda d: d.hex())
def test_hits_around_window_boundaries(scan: ModuleType, delims: bytes) -> None:
    # An absent delimiter next to a present one: the case a windowed search must get right.
    for pos in (0, 63, 64, 255, 256, 257, 1279, 1280, 1281, 5375, 5376, 5377, 9999):
        data = bytearray(b"a" * 10_000)
        data[pos] = ord("\n")
        for start in (0, 1, 100, 256):
            expected = pos if pos >= start else -1
            assert scan.find_any(bytes(data), delims, start) == expected, (pos, start)
        assert scan.find_any(bytes(data), delims, 0, pos) == -1


def test_one_megabyte_with_late_match(scan: ModuleType) -> None:
    data = bytearray(b"x" * 1_000_000)
    data[999_993] = ord(";")
    assert scan.find_any(bytes(data), b"\r\n;{}[]") == 999_993
    assert scan.find_any(data, b"\r\n;{}[]", 999_994) == -1


# ---------------------------------------------------------------------------- differential
bounds = st.one_of(st.none(), st.integers(-3, 320))


@settings(max_examples=300, deadline=None)
@given(
    data=st.one_of(
        st.binary(max_size=300), st.binary(min_size=64, max_size=300).map(lambda b: b.replace(b"\x00", b"a"))
    ),
    delims=st.binary(max_size=18),
    start=st.integers(-2, 320),
    end=bounds,
)
def test_every_backend_matches_naive(data: bytes, delims: bytes, start: int, end: int | None) -> None:
    expected = outcome(naive, data, delims, start, end)
    for name, mod in available(KERNEL).items():
        assert outcome(mod.find_any, data, delims, start, end) == expected, name
        if end is None:
            assert outcome(mod.find_any, data, delims, start) == expected, name


@pytest.mark.skipif(load(KERNEL, "rust") is None, reason="rust backend not built")
def test_rust_scalar_path_forced_by_env() -> None:
    code = (
        "from lunaroute.kernels import module_for as m\n"
        "s = m('scan', 'rust')\n"
        "d = bytes(200) + b'\\n' + bytes(50)\n"
        "print(s.simd_level(), s.find_any(d, b'\\r\\n'), s.find_any(d, b'\\r\\n', 201))\n"
    )
    env = dict(os.environ, LUNAROUTE_SIMD="scalar")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert out == ["scalar", "200", "-1"]
