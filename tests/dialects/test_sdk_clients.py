"""The official OpenAI and Anthropic SDKs read what the translators produce.

A small HTTP server on 127.0.0.1 answers the SDK's request with bytes made by the real
translation code from the golden fixtures' upstream answers; the SDKs' own parsers and stream
accumulators must accept them and see the right content.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from lunaroute.dialects import get_dialect
from lunaroute.errors import InvalidRequestError, RateLimitedError, UpstreamError

from .helpers import FIXTURES, load_json, parse_sse


class _Canned:
    status = 200
    content_type = "application/json"
    body = b""


class _Handler(BaseHTTPRequestHandler):
    canned: _Canned

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
def server() -> Iterator[tuple[str, _Canned]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.canned = _Canned()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.canned  # type: ignore[attr-defined]
    httpd.shutdown()
    httpd.server_close()


def _openai_client(base: str):
    import openai

    return openai.OpenAI(base_url=base + "/v1", api_key="test", max_retries=0, timeout=20)


def _anthropic_client(base: str):
    import anthropic

    return anthropic.Anthropic(base_url=base, api_key="test", max_retries=0, timeout=20)


def _translated_stream(case: str) -> bytes:
    d: Path = FIXTURES / case
    spec = load_json(d / "case.json")
    client = get_dialect(spec["client_dialect"])
    provider = get_dialect(spec["provider_dialect"])
    req = client.parse_request(load_json(d / "client_request.json"))
    decoder = provider.stream_decoder()
    encoder = client.stream_encoder(model=spec["client_model"], request=req)
    out = [encoder.encode(decoder.feed(e, data)) for e, data in parse_sse((d / "upstream_stream.sse").read_text())]
    out.append(encoder.encode(decoder.finish()))
    out.append(encoder.finish())
    return b"".join(out)


def _translated_answer(case: str) -> bytes:
    d: Path = FIXTURES / case
    spec = load_json(d / "case.json")
    client = get_dialect(spec["client_dialect"])
    provider = get_dialect(spec["provider_dialect"])
    req = client.parse_request(load_json(d / "client_request.json"))
    resp = provider.parse_response(load_json(d / "upstream_response.json"))
    return orjson.dumps(client.build_response(resp, model=spec["client_model"], request=req))


def _serve(canned: _Canned, body: bytes, stream: bool, status: int = 200) -> None:
    canned.body = body
    canned.status = status
    canned.content_type = "text/event-stream" if stream else "application/json"


def test_openai_sdk_stream_helper_assembles_translated_tool_calls(server: tuple[str, _Canned]) -> None:
    base, canned = server
    _serve(canned, _translated_stream("openai_to_anthropic_stream_tools"), True)
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    with _openai_client(base).chat.completions.stream(
        model="gpt-4o", messages=[{"role": "user", "content": "x"}], tools=[tool]
    ) as stream:
        final = stream.get_final_completion()
    msg = final.choices[0].message
    assert msg.content == "Checking both."
    assert [(c.id, c.function.name, c.function.arguments) for c in msg.tool_calls] == [
        ("toolu_01Paris", "get_weather", '{"city": "Paris"}'),
        ("toolu_02Rome", "get_weather", '{"city": "Rome"}'),
    ]
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage.prompt_tokens == 250 and final.usage.completion_tokens == 60


def test_openai_sdk_raw_stream_with_usage_chunk(server: tuple[str, _Canned]) -> None:
    base, canned = server
    _serve(canned, _translated_stream("openai_to_anthropic_stream_text"), True)
    chunks = list(
        _openai_client(base).chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "x"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello, world!"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 18


def test_openai_sdk_raises_on_translated_in_stream_error(server: tuple[str, _Canned]) -> None:
    import openai

    base, canned = server
    _serve(canned, _translated_stream("openai_to_anthropic_stream_error"), True)
    seen = []
    with pytest.raises(openai.APIError, match="Overloaded"):
        for chunk in _openai_client(base).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True
        ):
            seen.append(chunk)
    assert seen[-1].choices[0].delta.content == "Once upon"


def test_openai_sdk_reads_translated_answer(server: tuple[str, _Canned]) -> None:
    base, canned = server
    _serve(canned, _translated_answer("openai_to_anthropic_tools"), False)
    done = _openai_client(base).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    call = done.choices[0].message.tool_calls[0]
    assert (call.function.name, call.function.arguments) == ("to_fahrenheit", '{"celsius":18}')
    assert done.usage.prompt_tokens == 500


def test_anthropic_sdk_stream_helper_assembles_translated_tool_use(server: tuple[str, _Canned]) -> None:
    base, canned = server
    _serve(canned, _translated_stream("anthropic_to_openai_stream_tools"), True)
    with _anthropic_client(base).messages.stream(
        model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "x"}]
    ) as stream:
        message = stream.get_final_message()
    assert [(b.type, b.id, b.name, b.input) for b in message.content] == [
        ("tool_use", "call_A", "get_weather", {"city": "Paris"}),
        ("tool_use", "call_B", "get_weather", {"city": "Rome"}),
    ]
    assert message.stop_reason == "tool_use"
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens, message.usage.output_tokens) == (
        72,
        128,
        40,
    )


def test_anthropic_sdk_text_stream(server: tuple[str, _Canned]) -> None:
    base, canned = server
    _serve(canned, _translated_stream("anthropic_to_openai_stream_text_then_tool_length"), True)
    with _anthropic_client(base).messages.stream(
        model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "x"}]
    ) as stream:
        text = "".join(stream.text_stream)
        message = stream.get_final_message()
    assert text == "Searching."
    assert message.stop_reason == "max_tokens"
    assert (message.content[1].type, message.content[1].id, message.content[1].name) == ("tool_use", "call_S", "search")


def test_anthropic_sdk_raises_on_translated_in_stream_error(server: tuple[str, _Canned]) -> None:
    import anthropic

    base, canned = server
    _serve(canned, _translated_stream("anthropic_to_openai_stream_cut"), True)
    with pytest.raises(anthropic.APIStatusError, match="before the answer was complete"):
        with _anthropic_client(base).messages.stream(
            model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        ) as stream:
            stream.get_final_message()


def test_anthropic_sdk_reads_translated_answer(server: tuple[str, _Canned]) -> None:
    base, canned = server
    _serve(canned, _translated_answer("anthropic_to_openai_tools"), False)
    message = _anthropic_client(base).messages.create(
        model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "x"}]
    )
    assert message.content[0].input == {"city": "Rome"} and message.stop_reason == "tool_use"


@pytest.mark.parametrize(
    ("error", "status", "openai_exc", "anthropic_exc", "anthropic_type"),
    [
        (
            InvalidRequestError("bad field", param="messages"),
            400,
            "BadRequestError",
            "BadRequestError",
            "invalid_request_error",
        ),
        (
            RateLimitedError("slow down", code="budget_exceeded"),
            429,
            "RateLimitError",
            "RateLimitError",
            "rate_limit_error",
        ),
        (UpstreamError("every target failed"), 502, "InternalServerError", "InternalServerError", "api_error"),
    ],
)
def test_sdks_read_error_bodies(
    server: tuple[str, _Canned], error, status, openai_exc, anthropic_exc, anthropic_type
) -> None:
    import anthropic
    import openai

    base, canned = server
    _serve(canned, get_dialect("openai").error_body(error), False, status)
    with pytest.raises(getattr(openai, openai_exc)) as oi:
        _openai_client(base).chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert oi.value.message == error.message or error.message in str(oi.value)
    assert oi.value.code == error.code and oi.value.param == error.param
    _serve(canned, get_dialect("anthropic").error_body(error), False, status)
    with pytest.raises(getattr(anthropic, anthropic_exc)) as ai:
        _anthropic_client(base).messages.create(model="m", max_tokens=1, messages=[{"role": "user", "content": "x"}])
    assert ai.value.body["error"]["type"] == anthropic_type
