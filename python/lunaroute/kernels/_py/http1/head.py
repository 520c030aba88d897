"""Pure-Python HTTP/1.x response-head parser: the reference semantics of
`parse_response_head` in kernel `http1` (docs/KERNELS.md §6).

Extracted from the upstream client's original `read_head` (egress/h1.py), whose behaviour
it keeps for every head that client accepted, with the stricter checks the contract adds:
the status line must be `HTTP/1.<digit> <3 digits>[ reason]`, and a Content-Length must be
plain decimal digits (at most 2**63 - 1), the same in every copy of the header.
"""

from __future__ import annotations

from ....errors import HttpHeadError, InvalidArgumentError

__all__ = ["parse_response_head", "FLAG_CHUNKED", "FLAG_KEEP_ALIVE"]

FLAG_CHUNKED = 1
FLAG_KEEP_ALIVE = 2

_CRLF = b"\r\n"
_HEADER_END = b"\r\n\r\n"
_MAX_CONTENT_LENGTH = 2**63 - 1
_QUOTE = 80  # bytes of a bad line or value an error message shows


def _as_bytes(buf: object) -> bytes | bytearray:
    if isinstance(buf, (bytes, bytearray)):
        return buf
    if isinstance(buf, str):
        raise TypeError("parse_response_head() takes bytes-like data, not str")
    return memoryview(buf).tobytes()  # type: ignore[arg-type]  # TypeError for anything that is not a buffer


def _status(line: bytes) -> int:
    """The status of `HTTP/1.<digit> <3 digits>[ reason]`, else -1."""
    if (
        len(line) < 12
        or line[:7] != b"HTTP/1."
        or line[8] != 0x20
        or (len(line) > 12 and line[12] != 0x20)
        or not (line[7:8].isdigit() and line[9:12].isdigit())  # bytes.isdigit: ASCII only
    ):
        return -1
    return int(line[9:12])


def parse_response_head(
    buf: bytes | bytearray | memoryview, max_head: int = 65536
) -> tuple[int, int, list[tuple[str, str]], int, int] | None:
    """(head_len, status, headers, content_length, flags) of the head at the start of buf,
    or None while it is incomplete."""
    if type(buf) is not bytes and type(buf) is not bytearray:
        buf = _as_bytes(buf)
    if not isinstance(max_head, int):
        raise TypeError(f"max_head must be an int, not {type(max_head).__name__}")
    if max_head < 0:
        raise InvalidArgumentError(f"max_head must be >= 0, got {max_head}")
    # The terminator is looked for in everything buffered: max_head bounds the wait for
    # one, not the length of a head that has arrived (as the original client did).
    end = buf.find(_HEADER_END)
    if end < 0:
        if len(buf) > max_head:
            raise HttpHeadError("upstream response head too large")
        return None
    lines = bytes(buf[:end]).split(_CRLF)
    status_line = lines[0]
    status = _status(status_line)
    if status < 0:
        raise HttpHeadError(f"bad upstream status line {status_line[:_QUOTE]!r}")
    keep_alive = status_line[7] == 0x31  # HTTP/1.1
    chunked = False
    length = -1
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        i = line.find(b":")
        if i <= 0:
            continue  # no colon, or an empty name: skipped
        name = line[:i].strip().lower().decode("latin-1")
        raw = line[i + 1 :].strip()
        value = raw.decode("latin-1")
        headers.append((name, value))
        if name == "content-length":
            # Leading zeros dropped and the length checked before int(): a long run of
            # digits must not reach int()'s digit limit (a ValueError of its own).
            digits = raw.lstrip(b"0")
            n = int(digits) if raw.isdigit() and 0 < len(digits) <= 19 else 0
            if not raw.isdigit() or len(digits) > 19 or n > _MAX_CONTENT_LENGTH:
                raise HttpHeadError(f"bad upstream content-length {raw[:_QUOTE]!r}")
            if length >= 0 and n != length:
                raise HttpHeadError(f"conflicting upstream content-length values {length} and {n}")
            length = n
        elif name == "transfer-encoding":
            chunked = "chunked" in value.lower()  # the last one decides
        elif name == "connection":
            v = value.lower()
            if "close" in v:
                keep_alive = False
            elif "keep-alive" in v:
                keep_alive = True
    flags = (FLAG_CHUNKED if chunked else 0) | (FLAG_KEEP_ALIVE if keep_alive else 0)
    return end + 4, status, headers, length, flags
