"""The upstream client's head parse as it was before kernel `http1` (egress/h1.py,
`_Conn.read_head`), frozen here as the oracle the kernel is held to: for every head this
code accepted, the kernel must give the same answer.

Kept verbatim except for the I/O around it: instead of waiting for more bytes it returns
None, and instead of H1Error it raises LegacyHeadError.
"""

from __future__ import annotations

_CRLF = b"\r\n"
_HEADER_END = b"\r\n\r\n"


class LegacyHeadError(Exception):
    pass


def legacy_read_head(
    buf: bytes, max_head: int = 65536
) -> tuple[int, int, list[tuple[str, str]], int, bool, bool] | None:
    """(head_len, status, headers, length, chunked, keep_alive), None to wait for more."""
    end = buf.find(_HEADER_END)
    if end < 0:
        if len(buf) > max_head:
            raise LegacyHeadError("upstream response head too large")
        return None
    head = bytes(buf[:end])
    lines = head.split(_CRLF)
    status_line = lines[0]
    try:
        version, code = status_line.split(b" ", 2)[:2]
        status = int(code)
    except ValueError:
        raise LegacyHeadError(f"bad upstream status line {status_line[:80]!r}") from None
    headers: list[tuple[str, str]] = []
    length = -1
    chunked = False
    keep_alive = version == b"HTTP/1.1"
    for line in lines[1:]:
        i = line.find(b":")
        if i <= 0:
            continue
        name = line[:i].strip().lower().decode("latin-1")
        value = line[i + 1 :].strip().decode("latin-1")
        headers.append((name, value))
        if name == "content-length":
            try:
                length = int(value)
            except ValueError:
                raise LegacyHeadError("bad upstream content-length") from None
        elif name == "transfer-encoding":
            chunked = "chunked" in value.lower()
        elif name == "connection":
            v = value.lower()
            if "close" in v:
                keep_alive = False
            elif "keep-alive" in v:
                keep_alive = True
    return end + 4, status, headers, length, chunked, keep_alive
