"""A deliberately naive, whole-stream SSE interpreter written straight from the WHATWG
algorithm, character by character: the oracle the incremental framers are checked against.
"""

from __future__ import annotations

Event = tuple[str, str, str, "int | None"]

_U64_MAX = 2**64 - 1


class OracleResult:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.last_event_id = ""
        self.retry: int | None = None


def interpret(stream: bytes, last_event_id: str = "", retry: int | None = None) -> OracleResult:
    """Events of a complete stream (ended by close()), plus the final id and retry."""
    out = OracleResult()
    out.last_event_id = last_event_id
    out.retry = retry
    if stream.startswith(b"\xef\xbb\xbf"):
        stream = stream[3:]
    text = stream.decode("utf-8", "replace")

    lines: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\r":
            lines.append("".join(current))
            current = []
            if i + 1 < len(text) and text[i + 1] == "\n":
                i += 1
        elif ch == "\n":
            lines.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    unterminated = "".join(current) if current else None

    data = ""
    event_type = ""
    retry_block: int | None = None

    def process(line: str) -> None:
        nonlocal data, event_type, retry_block
        if line == "":
            if data == "":
                data = ""
                event_type = ""
                return
            if data.endswith("\n"):
                data = data[:-1]
            out.events.append((event_type or "message", data, out.last_event_id, retry_block))
            data = ""
            event_type = ""
            retry_block = None
            return
        if line.startswith(":"):
            return
        if ":" in line:
            name = line[: line.index(":")]
            value = line[line.index(":") + 1 :]
            if value.startswith(" "):
                value = value[1:]
        else:
            name, value = line, ""
        if name == "event":
            event_type = value
        elif name == "data":
            data += value + "\n"
        elif name == "id":
            if "\u0000" not in value:
                out.last_event_id = value
        elif name == "retry":
            if value and all(c in "0123456789" for c in value):
                ms = int(value)
                if ms <= _U64_MAX:
                    out.retry = ms
                    retry_block = ms

    for line in lines:
        process(line)
    if unterminated is not None:
        process(unterminated)  # close(): the last line counts, its pending event does not
    return out


def line_too_long_at(stream: bytes, max_line_bytes: int) -> int | None:
    """Index of the first byte that makes a line exceed max_line_bytes, or None.

    Only for streams that do not start with a BOM byte (0xEF), where the framer has no
    BOM decision to wait for.
    """
    count = 0
    for i, b in enumerate(stream):
        if b in (0x0A, 0x0D):
            count = 0
            continue
        count += 1
        if count > max_line_bytes:
            return i
    return None
