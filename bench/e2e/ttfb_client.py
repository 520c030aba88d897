"""Time to first byte of streamed answers: a small asyncio HTTP/1.1 client.

For each request it records, from the moment the request is written:
  headers_us     the whole response head has arrived
  ttfb_us        the first byte of the body (first chunk's data) has arrived
  first_event_us the first complete SSE event (up to its blank line) has arrived
  total_us       the whole stream has been read
`conc` keep-alive connections each send requests back to back until `duration_s` has passed
or `max_requests` are done; the first `warmup` requests of every connection are not counted.
Every answer is checked (status 200 and the scenario's end marker in the body).

Run by the harness as a subprocess pinned beside the mock (CPU 1):
    python bench/e2e/ttfb_client.py --port 8080 --scenario oai_stream --conc 1 --duration 5
It prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable (PEP 366)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "bench.e2e"

from .scenarios import SCENARIOS, Scenario, request_body, request_headers, request_path
from .stats import percentiles


class ProtocolError(Exception):
    """The server's answer was not a well-formed HTTP/1.1 response."""


@dataclass
class Timing:
    headers_us: float
    ttfb_us: float | None
    first_event_us: float | None
    total_us: float


@dataclass
class Tally:
    timings: list[Timing] = field(default_factory=list)
    bad: int = 0  # non-200 or body without the end marker
    errors: int = 0  # connection / protocol errors
    reconnects: int = 0
    first_problem: str | None = None


def build_request(scen: Scenario, port: int, stream_prefix: str, api_key: str | None = None) -> bytes:
    body = request_body(scen)
    lines = [
        f"POST {request_path(scen, stream_prefix)} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Length: {len(body)}",
        "Connection: keep-alive",
    ]
    lines += [f"{k}: {v}" for k, v in request_headers(scen, api_key).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    try:
        status_line, *rest = head.decode("latin-1").split("\r\n")
        version, status, *_ = status_line.split(" ", 2)
        if not version.startswith("HTTP/1."):
            raise ValueError(version)
        headers = {}
        for ln in rest:
            if ln:
                k, _, v = ln.partition(":")
                headers[k.strip().lower()] = v.strip()
        return int(status), headers
    except ValueError as e:
        raise ProtocolError(f"bad response head: {head[:200]!r}") from e


async def read_response(reader: asyncio.StreamReader, t0: int) -> tuple[int, dict[str, str], bytes, Timing]:
    """Read one response; times are nanoseconds since t0 (time.perf_counter_ns())."""
    head = await reader.readuntil(b"\r\n\r\n")
    t_head = time.perf_counter_ns()
    status, headers = parse_head(head)
    body = bytearray()
    t_first = t_event = None
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            line = await reader.readuntil(b"\r\n")
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError as e:
                raise ProtocolError(f"bad chunk size line {line[:40]!r}") from e
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                break
            got = await reader.read(size)  # returns as soon as any of the chunk is here
            if not got:
                raise ProtocolError("connection closed inside a chunk")
            if t_first is None:
                t_first = time.perf_counter_ns()
            if len(got) < size:
                got += await reader.readexactly(size - len(got))
            body += got
            if t_event is None and b"\n\n" in body:
                t_event = time.perf_counter_ns()
            if await reader.readexactly(2) != b"\r\n":
                raise ProtocolError("chunk not followed by CRLF")
    else:
        n = int(headers.get("content-length", "0"))
        if n:
            got = await reader.read(n)
            if not got:
                raise ProtocolError("connection closed before the body")
            t_first = time.perf_counter_ns()
            body += got
            if len(got) < n:
                body += await reader.readexactly(n - len(got))
            if b"\n\n" in body:
                t_event = time.perf_counter_ns()
    t_end = time.perf_counter_ns()

    def us(t: int | None) -> float | None:
        return None if t is None else (t - t0) / 1000.0

    timing = Timing(us(t_head) or 0.0, us(t_first), us(t_event), us(t_end) or 0.0)
    return status, headers, bytes(body), timing


async def connection_loop(
    port: int, request: bytes, marker: bytes, deadline: float, budget: list[int], warmup: int, tally: Tally
) -> None:
    """Back-to-back requests on one keep-alive connection. `budget` (shared by all connections)
    is the number of measured requests still wanted; a connection reserves one before sending."""
    reader = writer = None
    done = 0
    while time.monotonic() < deadline:
        counts = done >= warmup
        if counts:
            if budget[0] <= 0:
                break
            budget[0] -= 1
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                if done:
                    tally.reconnects += 1
            assert reader is not None
            t0 = time.perf_counter_ns()
            writer.write(request)
            status, headers, body, timing = await read_response(reader, t0)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ProtocolError) as e:
            tally.errors += 1
            tally.first_problem = tally.first_problem or f"{type(e).__name__}: {e}"
            if counts:
                budget[0] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.01)
            continue
        done += 1
        if status != 200 or marker not in body:
            tally.bad += 1
            tally.first_problem = tally.first_problem or f"status {status}: {body[:200]!r}"
        elif counts:
            tally.timings.append(timing)
        if headers.get("connection", "").lower() == "close":
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def summarize(tally: Tally, wall_s: float) -> dict:
    def pct(values: list[float]) -> dict[str, float] | None:
        return percentiles(values) if values else None

    t = tally.timings
    return {
        "requests": len(t),
        "wall_s": round(wall_s, 3),
        "bad_answers": tally.bad,
        "errors": tally.errors,
        "reconnects": tally.reconnects,
        "first_problem": tally.first_problem,
        "headers_us": pct([x.headers_us for x in t]),
        "ttfb_us": pct([x.ttfb_us for x in t if x.ttfb_us is not None]),
        "first_event_us": pct([x.first_event_us for x in t if x.first_event_us is not None]),
        "total_us": pct([x.total_us for x in t]),
    }


async def measure(
    port: int,
    scen: Scenario,
    conc: int,
    duration_s: float,
    max_requests: int,
    warmup: int,
    stream_prefix: str = "",
    api_key: str | None = None,
) -> dict:
    request = build_request(scen, port, stream_prefix, api_key)
    tally = Tally()
    budget = [max_requests]
    t0 = time.monotonic()
    await asyncio.gather(
        *(
            connection_loop(port, request, scen.marker.encode(), t0 + duration_s, budget, warmup, tally)
            for _ in range(conc)
        )
    )
    res = summarize(tally, time.monotonic() - t0)
    res.update({"scenario": scen.name, "concurrency": conc})
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    ap.add_argument("--stream-prefix", default="", help="/stream for the bare mock")
    ap.add_argument("--conc", type=int, default=1)
    ap.add_argument("--duration", type=float, default=5.0, help="seconds, at most")
    ap.add_argument("--max-requests", type=int, default=5000, help="measured requests, at most")
    ap.add_argument("--warmup", type=int, default=20, help="uncounted requests per connection first")
    ap.add_argument("--api-key", help="a LunaRoute client key to send (a config with keys)")
    args = ap.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    res = asyncio.run(
        measure(
            args.port,
            SCENARIOS[args.scenario],
            args.conc,
            args.duration,
            args.max_requests,
            args.warmup,
            args.stream_prefix,
            args.api_key,
        )
    )
    print(json.dumps(res))
    return 0 if res["requests"] and not res["errors"] and not res["bad_answers"] else 1


if __name__ == "__main__":
    sys.exit(main())
