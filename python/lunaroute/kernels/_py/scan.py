"""Pure-Python delimiter scan: the reference semantics of kernel `scan` (docs/KERNELS.md §2).

`bytes.find` with an int needle is a `memchr`, which beats any per-byte Python loop and
even a compiled `re` character class. With several delimiters, each is looked for in a
window that grows geometrically, each search bounded by the best hit so far: the cost is
a few C-speed passes over the bytes up to the hit, never over the whole buffer.
"""

from __future__ import annotations

import re

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
    view = memoryview(data)  # type: ignore[arg-type]  # TypeError for anything that is not a buffer
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


# ---------------------------------------------------------------------------- top_level_span
# Moved from server/passthrough.py (`find_top_level_span`): the value of a top-level key in
# a JSON object, found by jumping between structural bytes. The body is assumed valid JSON;
# on anything else the answer is deterministic (every backend gives it) but meaningless,
# except that a string or container that never ends raises InvalidArgumentError.
#
# Why compiled byte classes and not find_any here: the walk makes one short search per
# key, bracket and value, where find_any's Python-level checks cost more than the search
# (measured 2-4x slower on a chat body). A class search is find_any's semantics exactly:
# the first byte of the set at or after `pos`.
_structural = re.compile(rb'["{}\[\]]').search
_scalar_stop = re.compile(rb"[,}\] \t\r\n]").search
# A whole string from its opening quote: any byte but a quote or backslash, or a backslash
# and the byte it escapes (whatever it is), up to the first unescaped quote. Possessive, so
# a string that never closes fails in linear time.
_string = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.S).match
_WS = b" \t\r\n"


def _skip_ws(body: bytes, i: int) -> int:
    n = len(body)
    while i < n and body[i] in _WS:
        i += 1
    return i


def _string_end(body: bytes, i: int) -> int:
    """Index just past the closing quote of the string whose opening quote is at i."""
    m = _string(body, i)
    if m is None:
        raise InvalidArgumentError(f"unterminated JSON string starting at byte {i}")
    return m.end()


def _value_end(body: bytes, v: int) -> int:
    """Index just past the JSON value that starts at v (v < len(body))."""
    c = body[v]
    if c == 0x22:
        return _string_end(body, v)
    if c != 0x7B and c != 0x5B:  # number, true, false, null
        m = _scalar_stop(body, v)
        return len(body) if m is None else m.start()
    depth = 0
    pos = v
    while True:
        m = _structural(body, pos)
        if m is None:
            raise InvalidArgumentError(f"unterminated JSON value starting at byte {v}")
        j = m.start()
        c = body[j]
        if c == 0x22:
            pos = _string_end(body, j)
            continue
        depth += 1 if c == 0x7B or c == 0x5B else -1
        pos = j + 1
        if depth == 0:
            return pos


def _bytes_arg(obj: object) -> bytes:
    if isinstance(obj, bytes):
        return obj
    if isinstance(obj, str):
        raise TypeError("top_level_span() takes bytes-like data, not str")
    return memoryview(obj).tobytes()  # type: ignore[arg-type]  # TypeError for anything that is not a buffer


def top_level_span(body: bytes | bytearray | memoryview, key: bytes) -> tuple[int, int] | None:
    """(start, end) of the value of the first top-level `key` of the JSON object `body`
    (compared as the raw bytes between the quotes), or None when absent or when the top
    level is not an object."""
    body = body if type(body) is bytes else _bytes_arg(body)
    key = key if type(key) is bytes else _bytes_arg(key)
    n = len(body)
    size = len(key)
    i = _skip_ws(body, 0)
    if i >= n or body[i] != 0x7B:
        return None
    depth = 0
    pos = i
    while pos < n:
        m = _structural(body, pos)
        if m is None:
            return None
        j = m.start()
        c = body[j]
        if c == 0x22:  # a string
            end = _string_end(body, j)
            if depth == 1:
                k = _skip_ws(body, end)
                if k < n and body[k] == 0x3A:  # it is a key
                    v = _skip_ws(body, k + 1)
                    if end - j - 2 == size and body.startswith(key, j + 1):
                        return (v, _value_end(body, v)) if v < n else None
                    # skip the value whole: nested keys must not be taken for top-level ones
                    pos = _value_end(body, v) if v < n else n
                    continue
            pos = end
        elif c == 0x7B or c == 0x5B:
            depth += 1
            pos = j + 1
        else:
            depth -= 1
            pos = j + 1
    return None
