"""Pure-Python delimiter scan: the reference semantics of kernel `scan` (docs/KERNELS.md §2).

`bytes.find` with an int needle is a `memchr`, which beats any per-byte Python loop and
even a compiled `re` character class. With several delimiters, each is looked for in a
window that grows geometrically, each search bounded by the best hit so far: the cost is
a few C-speed passes over the bytes up to the hit, never over the whole buffer.
"""
from __future__ import annotations

from ...errors import InvalidArgumentError

_MAX_DELIMS = 16
_FIRST_WINDOW = 256


def simd_level() -> str:
    """The vector instruction set in use: always "scalar" for this tier."""
    return "scalar"


def _as_searchable(data: object) -> bytes | bytearray | memoryview:
    if isinstance(data, (bytes, bytearray)):
        return data
    if isinstance(data, str):
        raise TypeError("find_any() takes bytes-like data, not str")
    view = memoryview(data)  # TypeError for anything that is not a buffer
    if view.ndim != 1 or view.itemsize != 1 or not view.c_contiguous:
        view = memoryview(view.tobytes())
    return view


def find_any(
    data: bytes | bytearray | memoryview,
    delims: bytes,
    start: int = 0,
    end: int | None = None,
) -> int:
    """The smallest index i in [start, end) with data[i] in delims, else -1."""
    # Called once per line by framers: the common case (bytes, a few delimiters) takes as
    # few Python steps as possible.
    buf = data if type(data) is bytes or type(data) is bytearray else _as_searchable(data)
    if type(delims) is not bytes and not isinstance(delims, (bytes, bytearray)):
        raise TypeError(f"delims must be bytes, not {type(delims).__name__}")
    if not 0 < len(delims) <= _MAX_DELIMS:
        raise InvalidArgumentError(f"delims must hold 1 to {_MAX_DELIMS} bytes, got {len(delims)}")
    size = len(buf)
    if start < 0:
        raise InvalidArgumentError(f"start must be >= 0, got {start}")
    if start > size:
        raise InvalidArgumentError(f"start {start} is past the end of the data ({size} bytes)")
    if end is None or end > size:
        end = size
    elif end < 0:
        raise InvalidArgumentError(f"end must be >= 0, got {end}")
    if start >= end:
        return -1

    base = 0
    if type(buf) is memoryview:
        # memoryview has no find(): copy just the range asked about.
        buf = buf[start:end].tobytes()
        base, start, end = start, 0, end - start
    if len(delims) == 1:
        i = buf.find(delims, start, end)
        return i if i < 0 else i + base

    # One find() per delimiter over a window that grows 4x each round: a delimiter that
    # never occurs costs a scan of the window, not of everything up to `end`, so finding
    # a near hit stays cheap however long the buffer is.
    find = buf.find
    lo = start
    window = _FIRST_WINDOW
    while lo < end:
        hi = lo + window
        if hi > end:
            hi = end
        best = -1
        for d in delims:
            i = find(d, lo, hi)
            if i >= 0:
                best = hi = i  # later delimiters only need to look before this hit
                if i == lo:
                    break
        if best >= 0:
            return best + base
        lo = hi
        window <<= 2
    return -1
