"""The official OpenAI SDK's Responses client reads what the Responses encoder writes.

A small HTTP server on 127.0.0.1 answers `client.responses.create` / `.stream` with bytes
made by the real translation code from the golden fixtures' upstream answers; the SDK runs
with strict response validation, so every field it declares must be there and typed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openai
import orjson
import pytest

from lunaroute.dialects import client_dialect, get_dialect
from lunaroute.errors import UpstreamError

from .helpers import FIXTURES, load_json, parse_sse

TOOLS = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}]


class _Canned:
    status = 200
    content_type = "application/json"
    body = b""


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        c = self.server.canned  # type: ignore[attr-defined]
        self.send_response(c.status)
        self.send_header("content-type", c.content_type)
        self.send_header("content-length", str(len(c.body)))
        self.end_headers()
        self.wfile.write(c.body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[openai.OpenAI, _Canned]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.canned = _Canned()  # type: ignore[attr-defined]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    client = openai.OpenAI(
        base_url=f"http://127.0.0.1:{httpd.server_address[1]}/v1",
        api_key="test",
        max_retries=0,
        timeout=20,
        _strict_response_validation=True,
    )
    yield client, httpd.canned  # type: ignore[attr-defined]
    client.close()
    httpd.shutdown()
    httpd.server_close()


def _case(name: str):
    d: Path = FIXTURES / name
    spec = load_json(d / "case.json")
    client = client_dialect(spec["client_dialect"])
    req = client.parse_request(load_json(d / "client_request.json"))
    return d, spec, client, get_dialect(spec["provider_dialect"]), req


def _stream(name: str) -> bytes:
    d, spec, client, provider, req = _case(name)
    decoder, encoder = provider.stream_decoder(), client.stream_encoder(model=spec["client_model"], request=req)
    out = [encoder.encode(decoder.feed(e, data)) for e, data in parse_sse((d / "upstream_stream.sse").read_text())]
    return b"".join([*out, encoder.encode(decoder.finish()), encoder.finish()])


def _answer(name: str) -> bytes:
    d, spec, client, provider, req = _case(name)
    resp = provider.parse_response(load_json(d / "upstream_response.json"))
    return orjson.dumps(client.build_response(resp, model=spec["client_model"], request=req))


def _serve(canned: _Canned, body: bytes, stream: bool) -> None:
    canned.body, canned.status = body, 200
    canned.content_type = "text/event-stream" if stream else "application/json"


def test_stream_helper_assembles_text_and_parallel_calls(served: tuple[openai.OpenAI, _Canned]) -> None:
    client, canned = served
    _serve(canned, _stream("responses_to_anthropic_stream_tools"), True)
    deltas = []
    with client.responses.stream(model="claude-sonnet-4-5", input="x", tools=TOOLS) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
            elif event.type == "response.function_call_arguments.delta":
                assert event.snapshot.endswith(event.delta)  # the SDK appended it to arguments ""
        final = stream.get_final_response()
    assert deltas == ["Checking ", "both."] and final.output_text == "Checking both."
    calls = [(o.call_id, o.name, json.loads(o.arguments)) for o in final.output if o.type == "function_call"]
    assert calls == [
        ("toolu_01Paris", "get_weather", {"city": "Paris"}),
        ("toolu_02Rome", "get_weather", {"city": "Rome"}),
    ]
    assert (final.usage.input_tokens, final.usage.input_tokens_details.cached_tokens) == (250, 200)


def test_stream_helper_reports_an_incomplete_answer(served: tuple[openai.OpenAI, _Canned]) -> None:
    client, canned = served
    _serve(canned, _stream("responses_to_openai_stream_tools_length"), True)
    with client.responses.stream(model="gpt-4o", input="x") as stream:
        types = [event.type for event in stream]
        final = stream.get_final_response() if "response.completed" in types else None
    assert types[-1] == "response.incomplete" and final is None


def test_a_failed_stream_ends_with_response_failed(served: tuple[openai.OpenAI, _Canned]) -> None:
    client, canned = served
    _serve(canned, _stream("responses_to_anthropic_stream_error"), True)
    with client.responses.stream(model="claude-sonnet-4-5", input="x") as stream:
        events = list(stream)
        with pytest.raises(RuntimeError, match="response.completed"):
            stream.get_final_response()
    assert events[-2].type == "response.output_text.delta" and events[-2].delta == "Once upon"
    failed = events[-1]
    assert failed.type == "response.failed" and failed.response.status == "failed"
    assert (failed.response.error.code, failed.response.error.message) == ("server_error", "Overloaded")


def test_the_error_event_raises_api_error(served: tuple[openai.OpenAI, _Canned]) -> None:
    client, canned = served
    _serve(canned, client_dialect("responses").stream_error(UpstreamError("the stream could not be relayed")), True)
    with pytest.raises(openai.APIError, match="could not be relayed"):
        for _ in client.responses.create(model="m", input="x", stream=True):
            pass


@pytest.mark.parametrize(
    "case", [d.name for d in sorted(FIXTURES.glob("responses_*")) if (d / "upstream_response.json").exists()]
)
def test_create_reads_every_translated_answer(served: tuple[openai.OpenAI, _Canned], case: str) -> None:
    client, canned = served
    _serve(canned, _answer(case), False)
    response = client.responses.create(model="m", input="x")
    expected = load_json(FIXTURES / case / "client_response.json")
    assert response.status == expected["status"]
    assert [o.type for o in response.output] == [o["type"] for o in expected["output"]]
    assert response.usage.total_tokens == expected["usage"]["total_tokens"]
