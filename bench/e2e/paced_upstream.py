"""A paced SSE upstream for the streams-at-scale measurement (asyncio, standard library +
optional uvloop).

It speaks just enough of both provider APIs for LunaRoute to proxy it:
  POST /v1/chat/completions  OpenAI:    role chunk, N content chunks, finish chunk, [DONE]
  POST /v1/messages          Anthropic: message_start, content_block_start, N text deltas,
                                        content_block_stop, message_delta, message_stop
  (a request without "stream": true gets a small JSON answer of the dialect at once)
  GET /stats                 counters as JSON
The N content events of a stream leave every `interval_ms`, on a fixed schedule from the
request's arrival (no drift), and each carries the send time in its text as
`ts=<CLOCK_MONOTONIC ns>;`. CLOCK_MONOTONIC is one clock for every process on the machine, so a
client compares it with its own receive time to get the upstream-send -> client-receive gap.
One SSE event per HTTP chunk, `Transfer-Encoding: chunked`, keep-alive.

    python bench/e2e/paced_upstream.py --port 0 --events 40 --interval-ms 250
prints `PORT <n>` on its first stdout line and serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from dataclasses import asdict, dataclass


@dataclass
class Pacing:
    events: int = 40  # content events per stream
    interval_ms: float = 250  # between content events


@dataclass
class Counters:
    connections: int = 0
    open_connections: int = 0
    streams_started: int = 0
    streams_completed: int = 0
    streams_aborted: int = 0
    json_answers: int = 0
    bad_requests: int = 0


def _c(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def openai_event(n: int, delta: dict, finish: str | None = None) -> bytes:
    return (
        b"data: "
        + _c(
            {
                "id": f"chatcmpl-paced{n}",
                "object": "chat.completion.chunk",
                "created": 1730000000,
                "model": "gpt-4o-mini",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
        )
        + b"\n\n"
    )


def anthropic_event(name: str, data: dict) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + _c(data) + b"\n\n"


def stream_frames(dialect: str, n: int, events: int) -> tuple[list[bytes], object, list[bytes]]:
    """(events before the paced ones, a function ts_ns -> paced event, events after)."""
    if dialect == "openai":
        head = [openai_event(n, {"role": "assistant", "content": ""})]
        tail = [openai_event(n, {}, "stop"), b"data: [DONE]\n\n"]
        return head, (lambda ts: openai_event(n, {"content": f"ts={ts}; "})), tail
    head = [
        anthropic_event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": f"msg_paced{n}",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-haiku-4-5",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 5, "output_tokens": 1},
                },
            },
        ),
        anthropic_event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
    ]
    tail = [
        anthropic_event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        anthropic_event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": events},
            },
        ),
        anthropic_event("message_stop", {"type": "message_stop"}),
    ]
    return (
        head,
        (
            lambda ts: anthropic_event(
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f"ts={ts}; "}},
            )
        ),
        tail,
    )


def json_answer(dialect: str, n: int) -> bytes:
    if dialect == "openai":
        return _c(
            {
                "id": f"chatcmpl-paced{n}",
                "object": "chat.completion",
                "created": 1730000000,
                "model": "gpt-4o-mini",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "ok"},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
            }
        )
    return _c(
        {
            "id": f"msg_paced{n}",
            "type": "message",
            "role": "assistant",
            "model": "claude-haiku-4-5",
            "content": [{"type": "text", "text": "ok"}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 5, "output_tokens": 1},
        }
    )


class PacedUpstream:
    def __init__(self, pacing: Pacing):
        self.pacing = pacing
        self.counters = Counters()
        self._seq = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counters.connections += 1
        self.counters.open_connections += 1
        try:
            while await self.one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self.counters.open_connections -= 1
            writer.close()

    async def one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; False when the connection should close."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, path, *_ = lines[0].split(" ") + ["", ""]
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
        body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        if method == "GET" and path == "/stats":
            self.respond(writer, 200, "application/json", _c(asdict(self.counters)))
            return True
        dialect = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}.get(path)
        try:
            req = json.loads(body) if body else {}
        except ValueError:
            req = None
        if method != "POST" or dialect is None or not isinstance(req, dict):
            self.counters.bad_requests += 1
            self.respond(
                writer,
                404 if dialect is None else 400,
                "application/json",
                _c({"error": {"message": f"paced upstream: cannot serve {method} {path}"}}),
            )
            return True
        self._seq += 1
        if not req.get("stream"):
            self.counters.json_answers += 1
            self.respond(writer, 200, "application/json", json_answer(dialect, self._seq))
            return True
        await self.stream(writer, dialect, self._seq)
        return True

    def respond(self, writer: asyncio.StreamWriter, status: int, ctype: str, body: bytes) -> None:
        writer.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n%s"
            % (status, b"OK" if status == 200 else b"Error", ctype.encode(), len(body), body)
        )

    async def stream(self, writer: asyncio.StreamWriter, dialect: str, n: int) -> None:
        self.counters.streams_started += 1
        t0 = time.monotonic()
        head, paced, tail = stream_frames(dialect, n, self.pacing.events)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            b"transfer-encoding: chunked\r\n\r\n" + b"".join(chunk(e) for e in head)
        )
        step = self.pacing.interval_ms / 1000.0
        for k in range(1, self.pacing.events + 1):
            delay = t0 + k * step - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if writer.is_closing():
                self.counters.streams_aborted += 1
                raise ConnectionResetError("client went away mid-stream")
            writer.write(chunk(paced(time.monotonic_ns())))
            try:
                await writer.drain()  # raises once the peer is gone
            except ConnectionError:
                self.counters.streams_aborted += 1
                raise
        writer.write(b"".join(chunk(e) for e in tail) + b"0\r\n\r\n")
        await writer.drain()
        self.counters.streams_completed += 1


async def serve(host: str, port: int, pacing: Pacing) -> None:
    up = PacedUpstream(pacing)
    server = await asyncio.start_server(up.handle, host, port, backlog=8192)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    print(json.dumps(asdict(up.counters)), file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--events", type=int, default=40, help="paced content events per stream")
    ap.add_argument("--interval-ms", type=float, default=250.0, help="between paced events")
    args = ap.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        ap.error("loopback only")
    if args.events < 1 or args.interval_ms <= 0:
        ap.error("--events must be >= 1 and --interval-ms > 0")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(args.host, args.port, Pacing(args.events, args.interval_ms)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
