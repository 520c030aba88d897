"""Recorded sessions written straight into a data directory, for UI tests and the UI benchmark.

Everything goes through the recording package's own code: `build_session` makes each
session document (and stream events), `FileSessionStore.write` the files, `SessionIndex`
the rows, committed in batches. So what the UI reads is exactly what a running recorder
would have written, 100,000 sessions in well under a minute.

    python -m tests.ui.seed DATA_DIR [--count 100000] [--days 7]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lunaroute.recording import Codec, FileSessionStore, SessionIndex
from lunaroute.recording.capture import Captured
from lunaroute.recording.index import INDEX_NAME
from lunaroute.recording.maintenance import index_row
from lunaroute.recording.session import build_session

MODELS = (
    ("up-openai", "gpt-4o-mini", "openai"),
    ("up-openai", "gpt-4o", "openai"),
    ("up-anthropic", "claude-sonnet-4-5", "anthropic"),
    ("up-anthropic", "claude-haiku-4-5", "anthropic"),
)
TENANTS = ("acme", "globex", "initech")
KEYS = ("key_alpha", "key_beta", "key_gamma", "key_delta")
# Mostly fine, some client errors, a few upstream failures and limits.
STATUSES = (200,) * 90 + (400, 401, 404, 429, 429, 500, 502, 502, 504, 200)


@dataclass(slots=True)
class SeedResult:
    count: int
    first_ts: float
    last_ts: float
    seconds: float


def seed_sessions(
    data_dir: Path,
    count: int,
    *,
    now: float | None = None,
    span_s: float = 7 * 86400.0,
    batch: int = 5000,
    stream_every: int = 25,
    seed: int = 7,
) -> SeedResult:
    """`count` sessions spread evenly over the `span_s` seconds before `now`, oldest first."""
    started = time.perf_counter()
    now = time.time() if now is None else now
    rng = random.Random(seed)
    root = Path(data_dir) / "sessions"
    store = FileSessionStore(root, Codec("zstd", 1), fsync="never")
    store.ensure_root()
    index = SessionIndex(root / INDEX_NAME)
    rows: list[tuple[Any, ...]] = []
    first = now - span_s
    step = span_s / max(1, count)
    try:
        for i in range(count):
            ts = first + i * step + rng.random() * step
            cap = _captured(i, ts, rng, stream=stream_every > 0 and i % stream_every == 0)
            built = build_session(cap)
            relative = store.relative_path(built.id, built.timestamp)
            size = store.write(relative, built.document, built.stream_lines)
            rows.append(index_row(built.row_values, relative, size))
            if len(rows) >= batch:
                index.insert(rows)
                rows = []
        if rows:
            index.insert(rows)
    finally:
        index.close()
    return SeedResult(count, first, now, time.perf_counter() - started)


def _captured(i: int, ts: float, rng: random.Random, *, stream: bool) -> Captured:
    provider, model, dialect = MODELS[i % len(MODELS)]
    status = STATUSES[rng.randrange(len(STATUSES))]
    ok = status == 200
    latency_s = rng.lognormvariate(-0.7, 0.6)
    input_tokens = rng.randrange(200, 6000) if ok else 0
    output_tokens = rng.randrange(20, 900) if ok else 0
    conversation = f"conv-{i // 6:06d}"
    question = f"question {i}: what does line {rng.randrange(1, 500)} of main.py do?"
    if dialect == "anthropic":
        request = {
            "model": model,
            "max_tokens": 1024,
            "stream": stream,
            "system": "You are a careful coding assistant.",
            "messages": [{"role": "user", "content": question}],
        }
    else:
        request = {"model": model, "stream": stream, "messages": [{"role": "user", "content": question}]}
    chunks: list[tuple[float, bytes]] = []
    response: bytes | None = None
    if stream and ok:
        chunks = _stream_chunks(dialect, model, i, latency_s, output_tokens)
    elif ok:
        response = json.dumps(_answer(dialect, model, i, input_tokens, output_tokens)).encode()
    else:
        response = json.dumps({"error": {"message": f"upstream said {status}", "type": "api_error"}}).encode()
    meta = {
        "request_id": f"req_seed{i:08x}",
        "listener": dialect,
        "dialect": dialect,
        "request_model": model,
        "provider": provider,
        "model": model,
        "stream": stream,
        "attempts": 1 if status < 500 else 2,
        "key_id": KEYS[i % len(KEYS)],
        "tenant": TENANTS[i % len(TENANTS)],
        "status": status,
        "error": None if ok else f"upstream said {status}",
        "latency_s": latency_s,
        "ttft_s": latency_s * 0.3 if stream else None,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "cost_cents": round((input_tokens * 3 + output_tokens * 15) / 10_000, 6) if ok else 0.0,
        "conversation_id": conversation,
        "prompt_patches": (),
    }
    fallbacks = [{"provider": provider, "model": model, "outcome": f"status {status}"}] if status >= 500 else []
    return Captured(
        id=f"sess_{int(ts * 1e9):x}{i:012x}",
        timestamp=ts,
        meta=meta,
        fallbacks=fallbacks,
        request_body=json.dumps(request).encode(),
        response_body=response,
        chunks=chunks,
    )


def _answer(dialect: str, model: str, i: int, input_tokens: int, output_tokens: int) -> dict[str, Any]:
    text = f"Line {i} parses the arguments and returns early when none are given."
    if dialect == "anthropic":
        return {
            "id": f"msg_{i:08x}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        }
    return {
        "id": f"chatcmpl-{i:08x}",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens, "total_tokens": 0},
    }


def _stream_chunks(dialect: str, model: str, i: int, latency_s: float, output_tokens: int) -> list[tuple[float, bytes]]:
    pieces = ["Line ", f"{i} ", "parses ", "the ", "arguments."]
    times = [latency_s * (0.3 + 0.7 * n / len(pieces)) for n in range(len(pieces) + 2)]
    if dialect == "anthropic":
        events = [
            anthropic_event(
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": f"msg_s{i:08x}",
                        "type": "message",
                        "role": "assistant",
                        "content": [],
                        "model": model,
                        "stop_reason": None,
                        "usage": {"input_tokens": 100, "output_tokens": 1},
                    },
                },
            ),
            anthropic_event(
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            ),
        ]
        events += [
            anthropic_event(
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}},
            )
            for p in pieces
        ]
        events += [
            anthropic_event("content_block_stop", {"type": "content_block_stop", "index": 0}),
            anthropic_event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn"},
                    "usage": {"output_tokens": output_tokens},
                },
            ),
            anthropic_event("message_stop", {"type": "message_stop"}),
        ]
    else:
        base = {"id": f"chatcmpl-s{i:08x}", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": model}
        events = [openai_chunk(base, {"role": "assistant", "content": ""})]
        events += [openai_chunk(base, {"content": p}) for p in pieces]
        events.append(openai_chunk(base, {}, finish="stop"))
        events.append(b"data: [DONE]\n\n")
    out = []
    for n, event in enumerate(events):
        out.append((times[min(n, len(times) - 1)], event))
    return out


def anthropic_event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def openai_chunk(base: dict[str, Any], delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def seed_claude_conversation(data_dir: Path, conversation_id: str, *, now: float | None = None) -> list[str]:
    """Three streamed turns of a Claude-Code-style conversation (thinking, a Write tool call,
    its result, the answer), recorded the way the recorder records them; returns their ids."""
    now = time.time() if now is None else now
    root = Path(data_dir) / "sessions"
    store = FileSessionStore(root, Codec("zstd", 1), fsync="never")
    store.ensure_root()
    index = SessionIndex(root / INDEX_NAME)
    system = [{"type": "text", "text": "You are Claude Code, a coding assistant."}]
    tools = [{"name": "Write", "description": "Write a file", "input_schema": {"type": "object"}}]
    user = {"role": "user", "content": [{"type": "text", "text": "Create hello.py that prints hello"}]}
    call = {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "The user wants a file; I will call Write.", "signature": "sig"},
            {"type": "tool_use", "id": "toolu_01Write", "name": "Write", "input": {"file_path": "hello.py"}},
        ],
    }
    result = {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_01Write", "content": "File created successfully"}],
    }
    histories = [[user], [user, call, result], [user, call, result, {"role": "assistant", "content": "Done."}, user]]
    answers = [
        [("thinking", "The user wants a file; I will call Write."), ("tool_use", "Write", '{"file_path": "hello.py"}')],
        [("text", "I created hello.py; it prints hello.")],
        [("text", "hello.py already exists.")],
    ]
    ids = []
    rows = []
    try:
        for turn, (history, answer) in enumerate(zip(histories, answers)):
            ts = now - 300 + turn * 60
            request = {
                "model": "claude-sonnet-4-5",
                "max_tokens": 4096,
                "stream": True,
                "system": system,
                "tools": tools,
                "messages": history,
                "metadata": {"user_id": f"user_abc_account_0000_session_{conversation_id}"},
            }
            cap = Captured(
                id=f"sess_{int(ts * 1e9):x}cc{turn:010x}",
                timestamp=ts,
                meta={
                    "request_id": f"req_cc{turn}",
                    "listener": "anthropic",
                    "dialect": "anthropic",
                    "request_model": "claude-sonnet-4-5",
                    "provider": "up-anthropic",
                    "model": "claude-sonnet-4-5",
                    "stream": True,
                    "attempts": 1,
                    "key_id": "key_alpha",
                    "tenant": "acme",
                    "status": 200,
                    "latency_s": 1.2,
                    "ttft_s": 0.4,
                    "input_tokens": 1200 + turn * 300,
                    "output_tokens": 80,
                    "cost_cents": 0.48,
                },
                fallbacks=[],
                request_body=json.dumps(request).encode(),
                response_body=None,
                chunks=_claude_stream(turn, answer),
            )
            built = build_session(cap)
            relative = store.relative_path(built.id, built.timestamp)
            size = store.write(relative, built.document, built.stream_lines)
            rows.append(index_row(built.row_values, relative, size))
            ids.append(built.id)
        index.insert(rows)
    finally:
        index.close()
    return ids


def _claude_stream(turn: int, blocks: list[tuple[str, ...]]) -> list[tuple[float, bytes]]:
    events = [
        anthropic_event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": f"msg_cc{turn}",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": "claude-sonnet-4-5",
                    "stop_reason": None,
                    "usage": {"input_tokens": 1200, "output_tokens": 1},
                },
            },
        )
    ]
    stop = "end_turn"
    for i, block in enumerate(blocks):
        if block[0] == "thinking":
            start = {"type": "thinking", "thinking": ""}
            delta = {"type": "thinking_delta", "thinking": block[1]}
        elif block[0] == "tool_use":
            start = {"type": "tool_use", "id": "toolu_01Write", "name": block[1], "input": {}}
            delta = {"type": "input_json_delta", "partial_json": block[2]}
            stop = "tool_use"
        else:
            start = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block[1]}
        events.append(
            anthropic_event("content_block_start", {"type": "content_block_start", "index": i, "content_block": start})
        )
        events.append(
            anthropic_event("content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta})
        )
        events.append(anthropic_event("content_block_stop", {"type": "content_block_stop", "index": i}))
    events.append(
        anthropic_event(
            "message_delta", {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 80}}
        )
    )
    events.append(anthropic_event("message_stop", {"type": "message_stop"}))
    return [(0.4 + 0.05 * n, event) for n, event in enumerate(events)]


def seed_long_session(data_dir: Path, *, turns: int = 100, events: int = 450, now: float | None = None) -> str:
    """One streamed OpenAI session with a long history and many events; returns its id."""
    now = time.time() if now is None else now
    root = Path(data_dir) / "sessions"
    store = FileSessionStore(root, Codec("zstd", 1), fsync="never")
    store.ensure_root()
    index = SessionIndex(root / INDEX_NAME)
    messages = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"message number {i}"} for i in range(turns)]
    base = {"id": "chatcmpl-long", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "gpt-4o"}
    chunks = [(0.1, openai_chunk(base, {"role": "assistant", "content": ""}))]
    chunks += [(0.1 + 0.01 * n, openai_chunk(base, {"content": f"w{n} "})) for n in range(1, events - 2)]
    chunks += [(0.1 + 0.01 * events, openai_chunk(base, {}, finish="stop")), (0.1 + 0.01 * events, b"data: [DONE]\n\n")]
    cap = Captured(
        id=f"sess_{int(now * 1e9):x}10ng000000",
        timestamp=now - 30,
        meta={
            "listener": "openai",
            "dialect": "openai",
            "request_model": "gpt-4o",
            "provider": "up-openai",
            "model": "gpt-4o",
            "stream": True,
            "status": 200,
            "latency_s": 4.6,
            "ttft_s": 0.1,
        },
        fallbacks=[],
        request_body=json.dumps({"model": "gpt-4o", "stream": True, "messages": messages}).encode(),
        response_body=None,
        chunks=chunks,
    )
    try:
        built = build_session(cap)
        relative = store.relative_path(built.id, built.timestamp)
        size = store.write(relative, built.document, built.stream_lines)
        index.insert([index_row(built.row_values, relative, size)])
    finally:
        index.close()
    return built.id


def main() -> None:
    parser = argparse.ArgumentParser(description="seed recorded sessions into a data directory")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--days", type=float, default=7.0)
    args = parser.parse_args()
    result = seed_sessions(args.data_dir, args.count, span_s=args.days * 86400.0)
    print(f"seeded {result.count} sessions in {result.seconds:.1f} s")


if __name__ == "__main__":
    main()
