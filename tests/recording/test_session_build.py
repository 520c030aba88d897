"""build_session: the index row the writer commits is the row reindex reads back from the
file, and request/response bodies keep their JSON values (written as the bytes they are)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from lunaroute.recording.capture import capture
from lunaroute.recording.format import Codec
from lunaroute.recording.maintenance import index_row, row_from_file
from lunaroute.recording.session import ROW_COLUMNS, build_session, row_values
from lunaroute.recording.store import FileSessionStore

from .helpers import KINDS, exchange

ODD = {
    "status": True,  # not an int: the row says 0, as reindex does
    "input_tokens": 3.5,
    "cost_cents": "12.5",
    "latency_s": None,
    "tenant": None,
    "conversation_id": "conv-7",
    "stream": 0,
    "timestamp": 0,
}


@pytest.mark.parametrize("odd", [False, True], ids=["usual", "odd-values"])
@pytest.mark.parametrize("kind", KINDS)
def test_the_writers_row_is_the_row_reindex_reads(tmp_path: Path, kind: str, odd: bool) -> None:
    store = FileSessionStore(tmp_path / "sessions", Codec())
    store.ensure_root()
    built = build_session(capture(exchange(3, kind, **(ODD if odd else {}))))
    relative = store.relative_path(built.id, built.timestamp)
    size = store.write(relative, built.document, built.stream_lines)

    from_file = row_from_file(store, store.path_of(relative))
    assert (*built.row, relative, size) == from_file
    assert index_row(built.row_values, relative, size) == from_file  # the dict form other callers use
    assert built.row_values == row_values(orjson.loads(built.document))
    assert len(built.row) == len(ROW_COLUMNS)


def test_json_bodies_keep_their_values_and_other_bodies_become_text() -> None:
    request = {"model": "m", "messages": [{"role": "user", "content": 'h\u00e9llo \\ "q" \U0001f680'}], "n": 1.5e300}
    body = json.dumps(request, indent=2, ensure_ascii=True).encode()  # spacing and escapes of its own
    doc = orjson.loads(
        build_session(capture(exchange(1, "openai", request_body=body, response_body=b"<html>502</html>"))).document
    )
    assert doc["request"] == request
    assert doc["response"] == "<html>502</html>"

    doc = orjson.loads(build_session(capture(exchange(2, "openai", request_body=b"{not json"))).document)
    assert doc["request"] == "{not json"
    assert doc["response"]["object"] == "chat.completion"


def test_claude_code_conversation_is_read_from_an_embedded_body() -> None:
    built = build_session(capture(exchange(4, "anthropic")))
    assert orjson.loads(built.document)["conversation_id"] == "conv-0004-x"
    assert built.row_values["conversation_id"] == "conv-0004-x"
