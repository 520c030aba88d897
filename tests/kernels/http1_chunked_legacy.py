"""The upstream client's chunked-body decoder as it was before `ChunkedDecoder` (egress/h1.py,
`_Conn._parse_chunked`), frozen here as the oracle the kernel is held to: for every input
this code accepted, the kernel must give the same answer, except where the contract is
stricter on purpose (see `tightened` in test_kernel_http1_chunked.py).

`_parse_chunked` is kept verbatim except for the I/O around it: the connection's buffer
and state live in `LegacyChunked`, `find_any(buf, b"\\n", pos)` is `buf.find(b"\\n", pos)`,
H1Error is LegacyChunkedError, the end of the body is the `done` flag instead of a None
pushed on the connection's queue, and every size line is recorded in `size_lines` (the
tests judge them) before it is parsed.
"""

from __future__ import annotations

_CRLF = b"\r\n"


class LegacyChunkedError(Exception):
    pass


class LegacyChunked:
    def __init__(self) -> None:
        self.buf = bytearray()
        self._state = 2  # 2 body (chunked), 4 done
        self._remaining = 0
        self.size_lines: list[bytes] = []

    @property
    def done(self) -> bool:
        return self._state == 4

    def feed(self, data: bytes) -> bytes:
        """The data decoded from what is buffered (the connection called _parse_chunked
        once per wake-up; it decodes everything it can in one call)."""
        self.buf += data
        if self._state == 4:
            return b""  # the client never read past the end of the message
        return self._parse_chunked() or b""

    def _parse_chunked(self) -> bytes | None:
        """Decode as much chunked data as is buffered: data, b"" at the end, None for more."""
        buf = self.buf
        out = []
        pos = 0
        n = len(buf)
        while True:
            if self._remaining > 0:
                take = min(self._remaining, n - pos)
                if take == 0:
                    break
                out.append(bytes(buf[pos : pos + take]))
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._remaining = -2  # expect the CRLF after the chunk data
                continue
            if self._remaining == -2:
                if n - pos < 2:
                    break
                if buf[pos : pos + 2] != _CRLF:
                    raise LegacyChunkedError("bad chunked encoding from upstream")
                pos += 2
                self._remaining = 0
                continue
            if self._remaining == -3:
                # trailers after the last chunk: skip lines until an empty one
                eol = buf.find(_CRLF, pos)
                if eol < 0:
                    break
                line_empty = eol == pos
                pos = eol + 2
                if line_empty:
                    del buf[:pos]
                    self._state = 4
                    self._remaining = 0
                    if out:
                        return b"".join(out)
                    return b""
                continue
            eol = buf.find(b"\n", pos)
            if eol < 0:
                if n - pos > 1024:
                    raise LegacyChunkedError("bad chunk size line from upstream")
                break
            self.size_lines.append(bytes(buf[pos:eol]))
            line = bytes(buf[pos:eol]).rstrip(b"\r")
            semi = line.find(b";")
            if semi >= 0:
                line = line[:semi]
            try:
                size = int(line, 16)
            except ValueError:
                raise LegacyChunkedError("bad chunk size from upstream") from None
            pos = eol + 1
            if size == 0:
                self._remaining = -3
                continue
            self._remaining = size
        del buf[:pos]
        if out:
            return b"".join(out)
        if self._state == 4:
            return b""
        return None
