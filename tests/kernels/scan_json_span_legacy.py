"""`find_top_level_span` as it was in server/passthrough.py before it became the `scan`
kernel's `top_level_span`, frozen here as the oracle the kernel is held to. Verbatim,
helpers included; it raises ValueError (or InvalidArgumentError, one) on unterminated input.
"""

from __future__ import annotations

from lunaroute.kernels import find_any

_STRUCT = b'"{}[]'
_STR_END = b'"\\'
_WS = b" \t\r\n"


def _skip_ws(body: bytes, i: int) -> int:
    n = len(body)
    while i < n and body[i] in _WS:
        i += 1
    return i


def _string_end(body: bytes, i: int) -> int:
    """Index just past the closing quote of the string whose opening quote is at i."""
    pos = i + 1
    while True:
        j = find_any(body, _STR_END, pos)
        if j < 0:
            raise ValueError("unterminated string")
        if body[j] == 0x5C:  # backslash: skip the escaped byte
            pos = j + 2
            continue
        return j + 1


def _value_end(body: bytes, v: int) -> int:
    """Index just past the JSON value that starts at v (the body is known to be valid)."""
    c = body[v]
    if c == 0x22:
        return _string_end(body, v)
    if c != 0x7B and c != 0x5B:  # number, true, false, null
        j = find_any(body, b",}] \t\r\n", v)
        return len(body) if j < 0 else j
    depth = 0
    pos = v
    while True:
        j = find_any(body, _STRUCT, pos)
        if j < 0:
            raise ValueError("unterminated value")
        c = body[j]
        if c == 0x22:
            pos = _string_end(body, j)
            continue
        depth += 1 if c == 0x7B or c == 0x5B else -1
        pos = j + 1
        if depth == 0:
            return pos


def find_top_level_span(body: bytes, key: bytes) -> tuple[int, int] | None:
    """(start, end) of the value of top-level key `key`, whatever its type."""
    i = _skip_ws(body, 0)
    if i >= len(body) or body[i] != 0x7B:
        return None
    depth = 0
    pos = i
    n = len(body)
    while pos < n:
        j = find_any(body, _STRUCT, pos)
        if j < 0:
            return None
        c = body[j]
        if c == 0x22:  # a string
            end = _string_end(body, j)
            if depth == 1:
                k = _skip_ws(body, end)
                if k < n and body[k] == 0x3A:  # it is a key
                    v = _skip_ws(body, k + 1)
                    if body[j + 1 : end - 1] == key:
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
