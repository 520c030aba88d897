"""Pure-Python chunked transfer-coding decoder: the reference semantics of
`ChunkedDecoder` in kernel `http1` (docs/KERNELS.md §6).

Extracted from the upstream client's original `_Conn._parse_chunked` (egress/h1.py), whose
results it keeps for every body that code accepted, with the stricter size-line checks the
contract lists (hex digits with optional SP/HT padding only; at most 2**63 - 1; a line
longer than `max_size_line` refused however it was split).

Every decision waits for the bytes it needs, so results never depend on how the input is
split. Chunk data is sliced straight out of the fed bytes (never buffered); only a size
line cut by a feed boundary is kept. Trailer lines are skipped as they stream, counted but
not stored.
"""

from __future__ import annotations

import re

from ....errors import ChunkedEncodingError, InvalidArgumentError

BAD_SIZE = "bad chunk size from upstream"
BAD_SIZE_LINE = "bad chunk size line from upstream"
BAD_ENCODING = "bad chunked encoding from upstream"

DEFAULT_MAX_SIZE_LINE = 1024
_MAX_CHUNK_SIZE = 2**63 - 1
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_PAD = b" \t"
_CR = 0x0D
_LF = 0x0A
# The size line nearly every upstream sends ("1a3\r\n"): matched and parsed in one C call.
# Such a line is at most 17 bytes before its LF (16 digits and a CR), so this shortcut is
# only taken when max_size_line allows 17; the general path judges everything else.
_PLAIN_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})\r?\n").match
_PLAIN_MAX = 17

# states
_SIZE = 0  # reading a size line (a part from an earlier feed is in _line)
_DATA = 1  # inside chunk data, _remaining bytes to come
_DATA_END = 2  # the CRLF after chunk data (_held: its first byte once that came alone)
_TRAILER = 3  # skipping trailer lines (_tlen bytes of the current one, _tcr: last is CR)
_DONE = 4  # complete: further bytes are `trailing`
_FAILED = 5  # refused: every later feed raises _error again


def parse_size_line(line: bytes) -> int:
    """The chunk size of a size line (the bytes before its LF), or -1 when it is bad.

    As the original: trailing CRs dropped, then everything from the first `;` cut.
    Stricter than its `int(line, 16)`: hex digits only, optionally padded with SP/HT.
    """
    line = line.rstrip(b"\r")
    semi = line.find(b";")
    if semi >= 0:
        line = line[:semi]
    line = line.strip(_PAD)
    # translate() deletes every hex digit: anything left (sign, x, _, space) is refused
    if not line or line.translate(None, _HEX_DIGITS):
        return -1
    size = int(line, 16)  # base 16 has no int-from-str digit limit
    return size if size <= _MAX_CHUNK_SIZE else -1


def _as_bytes(data: object) -> bytes:
    if isinstance(data, bytearray):
        return bytes(data)
    if isinstance(data, str):
        raise TypeError("feed() takes bytes-like data, not str")
    return memoryview(data).tobytes()  # type: ignore[arg-type]  # TypeError for anything that is not a buffer


class ChunkedDecoder:
    """Incremental decoder of an HTTP/1.1 `Transfer-Encoding: chunked` body."""

    __slots__ = ("_max", "_state", "_remaining", "_line", "_held", "_tlen", "_tcr", "_trailing", "_error")

    def __init__(self, max_size_line: int = DEFAULT_MAX_SIZE_LINE) -> None:
        if not isinstance(max_size_line, int):
            raise TypeError(f"max_size_line must be an int, not {type(max_size_line).__name__}")
        if max_size_line < 1:
            raise InvalidArgumentError(f"max_size_line must be >= 1, got {max_size_line}")
        self._max = max_size_line
        self._state = _SIZE
        self._remaining = 0
        self._line = bytearray()
        self._held = -1
        self._tlen = 0
        self._tcr = False
        self._trailing = bytearray()
        self._error = ""

    @property
    def done(self) -> bool:
        return self._state == _DONE

    @property
    def trailing(self) -> bytes:
        return bytes(self._trailing)

    @property
    def buffered(self) -> int:
        state = self._state
        if state == _SIZE:
            return len(self._line)
        if state == _DATA_END:
            return 1 if self._held >= 0 else 0
        if state == _TRAILER:
            return self._tlen
        return 0

    def _fail(self, message: str) -> ChunkedEncodingError:
        self._state = _FAILED
        self._error = message
        self._line = bytearray()
        return ChunkedEncodingError(message)

    def feed(self, data: bytes | bytearray | memoryview) -> bytes:
        """Decodes `data`; returns the chunk data it completed (b"" when none)."""
        if type(data) is not bytes:
            data = _as_bytes(data)
        state = self._state
        if state == _DONE:
            self._trailing += data
            return b""
        if state == _FAILED:
            raise ChunkedEncodingError(self._error)
        out = []
        pos = 0
        n = len(data)
        while pos < n:
            if state == _DATA:
                end = pos + self._remaining
                if end > n:
                    out.append(data[pos:])
                    self._remaining = end - n
                    break
                out.append(data[pos:end])
                pos = end
                # the CRLF nearly always follows in the same read: take it here
                if data.startswith(b"\r\n", pos):
                    pos += 2
                    state = _SIZE
                else:
                    state = _DATA_END
            elif state == _SIZE:
                line = self._line
                if not line and self._max >= _PLAIN_MAX:
                    m = _PLAIN_SIZE_LINE(data, pos)
                    if m is not None:
                        size = int(m.group(1), 16)
                        if 0 < size <= _MAX_CHUNK_SIZE:
                            pos = m.end()
                            self._remaining = size
                            state = _DATA
                            continue
                room = self._max - len(line)
                # a LF further than `room` bytes away would make the line too long anyway
                lf = data.find(b"\n", pos, pos + room + 1)
                if lf < 0:
                    if n - pos > room:
                        raise self._fail(BAD_SIZE_LINE)
                    line += data[pos:]
                    break
                if line:
                    size = parse_size_line(bytes(line) + data[pos:lf])
                    line.clear()
                else:
                    size = parse_size_line(data[pos:lf])
                if size < 0:
                    raise self._fail(BAD_SIZE)
                pos = lf + 1
                if size:
                    self._remaining = size
                    state = _DATA
                else:
                    self._tlen = 0
                    self._tcr = False
                    state = _TRAILER
            elif state == _DATA_END:
                # judged only once both bytes are here, as the original did
                held = self._held
                if held < 0:
                    if pos + 1 == n:
                        self._held = data[pos]
                        break
                    ok = data[pos] == _CR and data[pos + 1] == _LF
                    pos += 2
                else:
                    ok = held == _CR and data[pos] == _LF
                    self._held = -1
                    pos += 1
                if not ok:
                    raise self._fail(BAD_ENCODING)
                state = _SIZE
            else:
                pos = self._skip_trailers(data, pos)
                if pos < 0:
                    state = _DONE
                    break
        self._state = state
        if not out:
            return b""
        return out[0] if len(out) == 1 else b"".join(out)

    def _skip_trailers(self, data: bytes, pos: int) -> int:
        """Skips trailer lines (each ended by CRLF; a bare LF is part of the line) from
        `pos`: returns len(data), or -1 after the empty line (the rest is `trailing`)."""
        tlen, tcr = self._tlen, self._tcr
        n = len(data)
        while True:
            lf = data.find(b"\n", pos)
            if lf < 0:
                if pos < n:
                    tlen += n - pos
                    tcr = data[n - 1] == _CR
                self._tlen, self._tcr = tlen, tcr
                return n
            after_cr = data[lf - 1] == _CR if lf > pos else tcr
            if after_cr:
                # the line's bytes before its CRLF: the earlier ones, these, minus the CR
                if tlen + lf - pos == 1:
                    self._tlen, self._tcr = 0, False
                    self._trailing += data[lf + 1 :]
                    return -1
                tlen = 0
            else:
                tlen += lf - pos + 1
            tcr = False
            pos = lf + 1
