#!/usr/bin/env python3
"""Render the canned upstream bodies and the nginx mock config of the end-to-end benchmark.

Outputs (all beside this file; they are committed, re-run this script after editing it):
  fixtures/openai_chat.json        non-streaming OpenAI chat.completion      (695 B)
  fixtures/anthropic_message.json  non-streaming Anthropic message           (453 B)
  fixtures/openai_stream.sse       OpenAI chat.completion.chunk stream, 30 `data:` events
  fixtures/anthropic_stream.sse    Anthropic message stream, 30 events
  mock.conf    the upstream mock, 127.0.0.1:18000 (run with `nginx -p PREFIX -c mock.conf`)
  proxy.conf   nginx as a plain reverse proxy in front of the mock, 127.0.0.1:18080 (the
               `nginx-proxy` entry: what one proxy hop costs)

The mock answers from memory with `return 200 ...` (no file I/O, no body parsing).  nginx
limits one config token to 4 KiB, so each body is split at event boundaries into `set`
variables and returned as their concatenation.  SSE bodies go through a no-op `sub_filter`
only to drop Content-Length, so they leave as `Transfer-Encoding: chunked` like a real
provider's stream (the whole stream is still written at once: see README caveats).

Routing of the mock (any method; the body is discarded unread):
  [/stream](/v1)?/chat/completions   -> OpenAI JSON, or the OpenAI SSE stream under /stream
  [/stream](/v1)?/messages           -> Anthropic JSON, or the Anthropic SSE stream under /stream
  /v1/models, /healthz               -> small JSON
A request on a plain path whose Accept header asks for text/event-stream gets the stream too:
the Rust LunaRoute has one base URL per provider and forwards the client's Accept header, so
that is how it reaches the streams. (Every other entry asks for SSE only under /stream.)
Re-run after editing:  python bench/e2e/nginx/gen_conf.py
(Adapted from the shared benchmark harness.)
"""

from __future__ import annotations

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CREATED = 1730000000

OPENAI_MODEL = "gpt-4o-mini-2024-07-18"
ANTHROPIC_MODEL = "claude-haiku-4-5-20251001"

ANSWER = (
    "Measure the median and p99 latency the gateway adds under a steady load, "
    "then its throughput on one core and its peak memory."
)


def compact(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def split_tokens(text: str, n: int) -> list[str]:
    """Split text into n token-like pieces of about equal length (like BPE deltas)."""
    cuts = [round(len(text) * k / n) for k in range(n + 1)]
    out = [text[cuts[k] : cuts[k + 1]] for k in range(n)]
    assert len(out) == n and "".join(out) == text and all(out)
    return out


def openai_chat() -> str:
    return compact(
        {
            "id": "chatcmpl-bench0000000000000000000001",
            "object": "chat.completion",
            "created": CREATED,
            "model": OPENAI_MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": ANSWER, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": 61,
                "completion_tokens": 26,
                "total_tokens": 87,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_bench0001",
        }
    )


def anthropic_message() -> str:
    return compact(
        {
            "id": "msg_01BenchBenchBenchBench0001",
            "type": "message",
            "role": "assistant",
            "model": ANTHROPIC_MODEL,
            "content": [{"type": "text", "text": ANSWER}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": 61,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": 24,
                "service_tier": "standard",
            },
        }
    )


def openai_stream_events() -> list[str]:
    """30 `data:` events: role, 26 content deltas, finish, usage, [DONE]."""
    base = {
        "id": "chatcmpl-bench0000000000000000000002",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": OPENAI_MODEL,
        "service_tier": "default",
        "system_fingerprint": "fp_bench0001",
    }

    def chunk(delta: dict, finish: str | None = None, **extra: object) -> str:
        c = dict(base)
        c["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        c.update(extra)
        return "data: " + compact(c) + "\n\n"

    ev = [chunk({"role": "assistant", "content": "", "refusal": None})]
    ev += [chunk({"content": piece}) for piece in split_tokens(ANSWER, 26)]
    ev.append(chunk({}, "stop"))
    usage = dict(base)
    usage["choices"] = []
    usage["usage"] = {"prompt_tokens": 61, "completion_tokens": 26, "total_tokens": 87}
    ev.append("data: " + compact(usage) + "\n\n")
    ev.append("data: [DONE]\n\n")
    assert len(ev) == 30
    return ev


def anthropic_stream_events() -> list[str]:
    """30 events: message_start, content_block_start, ping, 24 deltas, block stop, message_delta, message_stop."""

    def event(name: str, data: dict) -> str:
        return "event: " + name + "\ndata: " + compact(data) + "\n\n"

    ev = [
        event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_01BenchBenchBenchBench0002",
                    "type": "message",
                    "role": "assistant",
                    "model": ANTHROPIC_MODEL,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": 61,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                        "output_tokens": 1,
                    },
                },
            },
        ),
        event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        event("ping", {"type": "ping"}),
    ]
    ev += [
        event(
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
        )
        for piece in split_tokens(ANSWER, 24)
    ]
    ev.append(event("content_block_stop", {"type": "content_block_stop", "index": 0}))
    ev.append(
        event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 24},
            },
        )
    )
    ev.append(event("message_stop", {"type": "message_stop"}))
    assert len(ev) == 30
    return ev


def nginx_quote(s: str) -> str:
    assert "$" not in s, "a '$' would be read as an nginx variable"
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def pieces(parts: list[str], limit: int = 3000) -> list[str]:
    """Group strings into chunks whose nginx-quoted form stays under the 4 KiB token limit."""
    out, cur = [], ""
    for p in parts:
        if cur and len(nginx_quote(cur + p)) > limit:
            out.append(cur)
            cur = ""
        cur += p
    out.append(cur)
    assert all(len(nginx_quote(c)) < 4000 for c in out)
    return out


def body_block(var: str, parts: list[str], indent: str) -> tuple[str, str]:
    """`set $var_N '...';` lines plus the expression that concatenates them."""
    chunks = pieces(parts)
    lines = [f"{indent}set ${var}_{i} {nginx_quote(c)};" for i, c in enumerate(chunks)]
    return "\n".join(lines), "".join(f"${var}_{i}" for i in range(len(chunks)))


COMMON_HTTP = """\
    access_log off;
    server_tokens off;
    sendfile on;
    tcp_nopush off;
    tcp_nodelay on;
    keepalive_timeout 600s;
    keepalive_requests 100000000;
    client_max_body_size 16m;
    client_body_buffer_size 256k;
    client_body_temp_path tmp/client_body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
"""

HEAD = """\
# GENERATED by gen_conf.py - edit that file and re-run it.
# Run: nginx -p PREFIX_DIR -c {conf} -g 'daemon off;'   (PREFIX_DIR must hold logs/ and tmp/)
worker_processes 1;
worker_rlimit_nofile 65536;
pid logs/nginx.pid;
error_log logs/error.log warn;
events {{
    worker_connections 16384;
    multi_accept on;
}}
"""


def mock_conf(oai_json: str, anth_json: str, oai_sse: list[str], anth_sse: list[str]) -> str:
    ind = "            "
    oai_stream_set, oai_stream_expr = body_block("oai_sse", oai_sse, ind)
    anth_stream_set, anth_stream_expr = body_block("anth_sse", anth_sse, ind)
    models = compact(
        {"object": "list", "data": [{"id": OPENAI_MODEL, "object": "model", "created": CREATED, "owned_by": "bench"}]}
    )
    return (
        HEAD.format(conf="mock.conf")
        + f"""\
http {{
{COMMON_HTTP}
    server {{
        listen 127.0.0.1:18000 backlog=4096;

        # --- streaming (SSE) variants: provider base_url = http://127.0.0.1:18000/stream ---
        location ~ ^/stream(/v1)?/chat/completions$ {{
            default_type text/event-stream;
            add_header Cache-Control no-cache;
            add_header x-request-id req_bench_stream;
            sub_filter_types text/event-stream;
            sub_filter '@@never-present@@' '';
{oai_stream_set}
            return 200 "{oai_stream_expr}";
        }}
        location ~ ^/stream(/v1)?/messages$ {{
            default_type text/event-stream;
            add_header Cache-Control no-cache;
            add_header request-id req_bench_stream;
            sub_filter_types text/event-stream;
            sub_filter '@@never-present@@' '';
{anth_stream_set}
            return 200 "{anth_stream_expr}";
        }}

        # --- non-streaming JSON (the stream when Accept asks for SSE) ---
        location ~ ^(/v1)?/chat/completions$ {{
            if ($http_accept ~* "text/event-stream") {{
                rewrite ^ /stream/v1/chat/completions last;
            }}
            default_type application/json;
            add_header x-request-id req_bench_json;
            add_header openai-processing-ms 1;
            return 200 {nginx_quote(oai_json)};
        }}
        location ~ ^(/v1)?/messages$ {{
            if ($http_accept ~* "text/event-stream") {{
                rewrite ^ /stream/v1/messages last;
            }}
            default_type application/json;
            add_header request-id req_bench_json;
            return 200 {nginx_quote(anth_json)};
        }}

        location ~ ^(/stream)?(/v1)?/models$ {{
            default_type application/json;
            return 200 {nginx_quote(models)};
        }}
        location = /healthz {{
            default_type text/plain;
            return 200 'ok';
        }}
        location / {{
            default_type application/json;
            return 404 '{{"error":{{"message":"bench mock: unknown path","type":"invalid_request_error","param":null,"code":null}}}}';
        }}
    }}
}}
"""
    )


def proxy_conf() -> str:
    return (
        HEAD.format(conf="proxy.conf")
        + f"""\
http {{
{COMMON_HTTP}
    upstream llm_mock {{
        server 127.0.0.1:18000;
        keepalive 256;
        keepalive_requests 100000000;
        keepalive_timeout 600s;
    }}

    server {{
        listen 127.0.0.1:18080 backlog=4096;

        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host 127.0.0.1:18000;

        # SSE: forwarded as it arrives, no response buffering (what an LLM gateway must do)
        location /stream/ {{
            proxy_buffering off;
            proxy_pass http://llm_mock;
        }}
        location / {{
            proxy_pass http://llm_mock;
        }}
    }}
}}
"""
    )


def main() -> None:
    oai_json = openai_chat()
    anth_json = anthropic_message()
    oai_sse = openai_stream_events()
    anth_sse = anthropic_stream_events()
    fx = os.path.join(HERE, "fixtures")
    os.makedirs(fx, exist_ok=True)
    files = {
        "openai_chat.json": oai_json,
        "anthropic_message.json": anth_json,
        "openai_stream.sse": "".join(oai_sse),
        "anthropic_stream.sse": "".join(anth_sse),
    }
    for name, text in files.items():
        with open(os.path.join(fx, name), "w") as f:
            f.write(text)
    with open(os.path.join(HERE, "mock.conf"), "w") as f:
        f.write(mock_conf(oai_json, anth_json, oai_sse, anth_sse))
    with open(os.path.join(HERE, "proxy.conf"), "w") as f:
        f.write(proxy_conf())
    for name, text in files.items():
        print(f"{name}: {len(text.encode())} bytes")


if __name__ == "__main__":
    main()
