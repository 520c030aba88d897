"""`pii.restore_in_response`: tokens a model repeats back (`<EMAIL_3f9a2c1b7d0e>`) are turned
into the values they stand for before the client sees the answer — whole answers by walking
their strings, streamed ones event by event with a restorer per content block, so a token
split over chunks and events is restored too."""

from __future__ import annotations

from typing import Any

import orjson

from ..model import InputJsonDelta, TextDelta
from ..pii import PiiEngine, StreamRestorer


def _walk(value: Any, restore: Any) -> Any:
    if type(value) is str:
        return restore(value)
    if type(value) is list:
        return [_walk(v, restore) for v in value]
    if type(value) is dict:
        return {k: _walk(v, restore) for k, v in value.items()}
    return value


def restore_body(raw: bytes, pii: PiiEngine) -> bytes:
    """A JSON answer with every token in its strings restored (unchanged bytes without one)."""
    if b"<" not in raw:
        return raw
    return orjson.dumps(_walk(orjson.loads(raw), pii.restore_text))


class EventRestorer:
    """Normalized stream events in, the same events with tokens restored out. Text held back
    (a possible token's start) is sent with the next piece of its block, or before the
    block ends."""

    __slots__ = ("pii", "blocks")

    def __init__(self, pii: PiiEngine) -> None:
        self.pii = pii
        self.blocks: dict[int, tuple[StreamRestorer, bool]] = {}

    def _restorer(self, index: int, json: bool) -> StreamRestorer:
        found = self.blocks.get(index)
        if found is None:
            restorer = self.pii.restorer()
            assert restorer is not None  # only built when restore_in_response is on
            found = self.blocks[index] = (restorer, json)
        return found[0]

    def apply(self, events: list[Any]) -> list[Any]:
        out: list[Any] = []
        for ev in events:
            kind = ev.kind
            if kind == "text_delta":
                text = self._restorer(ev.index, False).feed(ev.text)
                if text:
                    out.append(TextDelta(ev.index, text))
            elif kind == "input_json_delta":
                text = self._restorer(ev.index, True).feed(ev.partial_json)
                if text:
                    out.append(InputJsonDelta(ev.index, text))
            elif kind == "block_stop":
                self._flush(ev.index, out)
                out.append(ev)
            else:
                if kind == "message_delta" or kind == "message_stop":
                    for index in list(self.blocks):
                        self._flush(index, out)
                out.append(ev)
        return out

    def _flush(self, index: int, out: list[Any]) -> None:
        found = self.blocks.pop(index, None)
        if found is None:
            return
        rest = found[0].flush()
        if rest:
            out.append(InputJsonDelta(index, rest) if found[1] else TextDelta(index, rest))
