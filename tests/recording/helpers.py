"""Exchanges as the pipeline hands them to the recorder, and the CLI as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "streams"
_SCRUB = ("LUNAROUTE_CONFIG_DIR", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LUNAROUTE_DEBUG")


def openai_request(i: int, stream: bool = False) -> dict:
    return {
        "model": "gpt-4o",
        "stream": stream,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": f"question number {i}"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": f"call_{i}", "type": "function", "function": {"name": "lookup", "arguments": '{"n": 1}'}}
                ],
            },
            {"role": "tool", "tool_call_id": f"call_{i}", "content": f"result {i}"},
        ],
    }


def anthropic_request(i: int, stream: bool = False) -> dict:
    return {
        "model": "claude-sonnet-4",
        "max_tokens": 256,
        "stream": stream,
        "system": "Be brief.",
        "metadata": {"user_id": f"user_ab12_account_00000000-0000-0000-0000-000000000000_session_conv-{i % 7:04d}-x"},
        "messages": [{"role": "user", "content": f"question number {i}"}],
    }


def openai_answer(i: int) -> dict:
    return {
        "id": f"chatcmpl-{i}",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": f"answer {i}"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10 + i, "completion_tokens": 5, "total_tokens": 15 + i},
    }


def openai_stream(i: int) -> bytes:
    def chunk(delta: dict, finish: str | None = None, usage: dict | None = None) -> bytes:
        body = {
            "id": f"chatcmpl-s{i}",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": "gpt-4o",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if usage is None else [],
            "usage": usage,
        }
        return b"data: " + json.dumps(body).encode() + b"\n\n"

    parts = [chunk({"role": "assistant", "content": ""})]
    parts += [chunk({"content": piece}) for piece in ("stream ", "answer ", str(i))]
    parts.append(
        chunk({"tool_calls": [{"index": 0, "id": f"call_s{i}", "type": "function", "function": {"name": "fetch"}}]})
    )
    parts.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"url": '}}]}))
    parts.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"x"}'}}]}))
    parts.append(chunk({}, finish="tool_calls"))
    parts.append(chunk({}, usage={"prompt_tokens": 20, "completion_tokens": 7, "total_tokens": 27}))
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


def anthropic_stream(i: int) -> bytes:
    def ev(name: str, data: dict) -> bytes:
        return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

    return b"".join(
        [
            ev(
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": f"msg_s{i}",
                        "type": "message",
                        "role": "assistant",
                        "content": [],
                        "model": "claude-sonnet-4",
                        "stop_reason": None,
                        "usage": {"input_tokens": 30, "output_tokens": 1},
                    },
                },
            ),
            ev(
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            ),
            ev("ping", {"type": "ping"}),
            ev(
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f"streamed {i}"}},
            ),
            ev("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ev(
                "message_delta",
                {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}},
            ),
            ev("message_stop", {"type": "message_stop"}),
        ]
    )


def split(raw: bytes, size: int) -> list[tuple[float, bytes]]:
    """Bytes as the pipeline records a stream: chunks with growing time offsets."""
    return [(n * 0.002, raw[pos : pos + size]) for n, pos in enumerate(range(0, len(raw), size))]


def exchange(i: int, kind: str = "openai", **overrides) -> SimpleNamespace:
    """A duck-typed exchange with every field the pipeline provides.

    kinds: openai, anthropic (non-stream), openai_stream, anthropic_stream, translated
    (an OpenAI client served by an Anthropic provider), failed (502, no answer)."""
    dialect = "anthropic" if kind.startswith("anthropic") else "openai"
    stream = kind.endswith("_stream")
    request = anthropic_request(i, stream) if dialect == "anthropic" else openai_request(i, stream)
    ex = SimpleNamespace(
        session_id=f"sess_t{i:06d}",
        request_id=f"req_{i}",
        timestamp=time.time(),
        listener=dialect,
        dialect=dialect,
        request_model=request["model"],
        provider=dialect,
        model=request["model"],
        stream=stream,
        attempts=1,
        fallbacks_tried=0,
        fallbacks=[],
        key_id=f"key_{i % 3}",
        tenant=f"tenant_{i % 2}",
        status=200,
        error=None,
        latency_s=0.25,
        ttft_s=0.05 if stream else None,
        input_tokens=10 + i,
        output_tokens=5,
        cache_read_tokens=0,
        cache_write_tokens=0,
        cost_cents=0.01 * i,
        conversation_id=None,
        request_body=json.dumps(request).encode(),
        response_body=None,
        stream_chunks=[],
    )
    if kind == "openai":
        ex.response_body = json.dumps(openai_answer(i)).encode()
    elif kind == "anthropic":
        ex.response_body = json.dumps(
            {
                "id": f"msg_{i}",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4",
                "content": [{"type": "text", "text": f"answer {i}"}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 10 + i, "output_tokens": 5},
            }
        ).encode()
    elif kind == "openai_stream":
        ex.stream_chunks = split(openai_stream(i), 97)
    elif kind == "anthropic_stream":
        ex.stream_chunks = split(anthropic_stream(i), 61)
    elif kind == "translated":
        ex.provider, ex.model = "anthropic", "claude-sonnet-4"
        ex.response_body = json.dumps(openai_answer(i)).encode()
        ex.fallbacks = [("openai", "gpt-4o", "503 from upstream")]
        ex.fallbacks_tried = 1
    elif kind == "failed":
        ex.status, ex.error = 502, "every target failed"
        ex.input_tokens = ex.output_tokens = 0
        ex.response_body = b'{"error": {"message": "every target failed", "type": "api_error"}}'
    else:
        raise ValueError(kind)
    for name, value in overrides.items():
        setattr(ex, name, value)
    return ex


KINDS = ("openai", "anthropic", "openai_stream", "anthropic_stream", "translated", "failed")


def cli_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env["HOME"] = str(home)
    return env


def run_cli(*args: str, home: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lunaroute", *args],
        capture_output=True,
        text=True,
        env=cli_env(home),
        timeout=timeout,
        check=False,
    )


def ndjson(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
