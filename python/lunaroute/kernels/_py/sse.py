"""Pure-Python SSE framer: the reference semantics of kernel `sse` (docs/KERNELS.md §1).

Speed comes from never looking at bytes one by one: each feed finds its last line
terminator with `rfind`, normalises CR/CRLF to LF with `bytes.replace` and splits once.
Lines are interpreted as bytes and only the finished event's data (and a new id) is
decoded. Only the unfinished tail is kept, in a `bytearray`, so that a line arriving byte
by byte costs amortised O(1) per byte.

Working on bytes and decoding pieces is equivalent to decoding the stream first: every
cut (line terminators, the `:` and the space after it) is at an ASCII byte, and
`decode("utf-8", "replace")` never folds an ASCII byte into a replacement character.
"""

from __future__ import annotations

from ...errors import InvalidArgumentError, SseLineTooLongError

Event = tuple[str, str, str, "int | None"]

_BOM = b"\xef\xbb\xbf"
_CR = 0x0D
_LF = 0x0A
_COLON = 0x3A
# The reconnection time is a u64 in the native tiers; a larger value is ignored like any
# other unusable `retry` value, so that every backend agrees.
_RETRY_MAX = 2**64 - 1
# Without leading zeros, a u64 has at most 20 digits; checked before int() so that
# Python's int-from-str digit limit is never reached.
_RETRY_MAX_DIGITS = 20


# Event names repeat endlessly ("content_block_delta", ...): decode each once. Bounded so
# that a stream of unique names cannot grow it.
_NAMES: dict[bytes, str] = {b"": "message"}
_NAMES_MAX = 256


def _event_name(raw: bytes) -> str:
    name = _NAMES.get(raw)
    if name is None:
        name = raw.decode("utf-8", "replace")
        if len(_NAMES) < _NAMES_MAX:
            _NAMES[bytes(raw)] = name
    return name


class SseFramer:
    """Incremental `text/event-stream` parser (WHATWG "Interpreting an event stream")."""

    __slots__ = (
        "_max",
        "_buf",
        "_bom",
        "_cr",
        "_data",
        "_event",
        "_retry_block",
        "_last_id",
        "_retry",
        "_poisoned",
    )

    def __init__(self, max_line_bytes: int = 1_048_576) -> None:
        if not isinstance(max_line_bytes, int):
            raise TypeError(f"max_line_bytes must be an int, not {type(max_line_bytes).__name__}")
        if max_line_bytes < 1:
            raise InvalidArgumentError(f"max_line_bytes must be >= 1, got {max_line_bytes}")
        self._max = max_line_bytes
        self._last_id = ""
        self._retry: int | None = None
        self._poisoned = False
        self._reset_parse_state()

    def _reset_parse_state(self) -> None:
        # Everything a new stream starts without; last_event_id and retry outlive close()
        # the way EventSource keeps them across reconnections.
        self._buf = bytearray()  # bytes of the unfinished line
        self._bom: bytes | None = b""  # None once the BOM question is settled
        self._cr = False  # last chunk ended with CR: a leading LF is its pair
        self._data: list[bytes] = []  # data field values of the pending event (raw)
        self._event = b""  # event field of the pending event (raw)
        self._retry_block: int | None = None

    # ------------------------------------------------------------------ properties
    @property
    def last_event_id(self) -> str:
        return self._last_id

    @property
    def retry(self) -> int | None:
        return self._retry

    @property
    def buffered(self) -> int:
        return len(self._buf)

    # ------------------------------------------------------------------ feeding
    def _too_long(self) -> SseLineTooLongError:
        self._poisoned = True
        self._buf = bytearray()
        return SseLineTooLongError(f"SSE line longer than max_line_bytes={self._max} bytes without a line ending")

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[Event]:
        if isinstance(chunk, bytes):
            data = chunk
        elif isinstance(chunk, (bytearray, memoryview)):
            data = bytes(chunk)
        else:
            raise TypeError(f"feed() takes bytes, bytearray or memoryview, not {type(chunk).__name__}")
        if self._poisoned:
            raise SseLineTooLongError("SSE framer is unusable after a line-too-long error")
        if not data:
            return []
        if self._bom is not None:
            data = self._bom + data
            if len(data) < 3 and _BOM.startswith(data):
                self._bom = data  # could still become a BOM: wait for more
                return []
            self._bom = None
            if data.startswith(_BOM):
                data = data[3:]
                if not data:
                    return []
        if self._cr:
            self._cr = False
            if data[0] == _LF:
                data = data[1:]
                if not data:
                    return []

        cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
        buf = self._buf
        if cut < 0:
            buf += data
            if len(buf) > self._max:
                raise self._too_long()
            return []

        tail = data[cut + 1 :]
        if len(tail) > self._max:
            raise self._too_long()
        if buf:
            buf += data[: cut + 1]
            head = bytes(buf)
        else:
            head = data[: cut + 1]
        if b"\r" in head:
            head = head.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = head.split(b"\n")
        lines.pop()  # the empty piece after the final terminator
        if len(head) > self._max and max(map(len, lines)) > self._max:
            raise self._too_long()
        self._buf = bytearray(tail)
        self._cr = not tail and data[cut] == _CR
        return self._process(lines)

    def _process(self, lines: list[bytes]) -> list[Event]:
        events: list[Event] = []
        append = events.append
        data = self._data
        event = self._event
        retry_block = self._retry_block
        for line in lines:
            if not line:
                if data:
                    raw = data[0] if len(data) == 1 else b"\n".join(data)
                    text = raw.decode("utf-8", "replace")
                    append((_event_name(event), text, self._last_id, retry_block))
                    data = []
                    retry_block = None
                event = b""
                continue
            if line[:6] == b"data: ":  # the overwhelmingly common line, first
                data.append(line[6:])
                continue
            if line[0] == _COLON:
                continue
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                data.append(value)
            elif name == b"event":
                event = value
            elif name == b"id":
                if b"\x00" not in value:
                    self._last_id = value.decode("utf-8", "replace")
            elif name == b"retry":
                if value.isdigit():  # bytes.isdigit: ASCII 0-9 only, False when empty
                    digits = value.lstrip(b"0") or b"0"
                    ms = int(digits) if len(digits) <= _RETRY_MAX_DIGITS else _RETRY_MAX + 1
                    if ms <= _RETRY_MAX:
                        self._retry = ms
                        retry_block = ms
        self._data = data
        self._event = event
        self._retry_block = retry_block
        return events

    def close(self) -> list[Event]:
        """End of stream: the undispatched event is discarded; the framer is ready again."""
        if self._poisoned:
            raise SseLineTooLongError("SSE framer is unusable after a line-too-long error")
        if self._buf:
            # A last line without a terminator is still interpreted (it may set id/retry),
            # but it can never be the blank line that dispatches.
            self._process([bytes(self._buf)])
        self._reset_parse_state()
        return []
