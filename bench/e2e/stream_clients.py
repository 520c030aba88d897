"""Many concurrent long-lived SSE clients (raw asyncio sockets) that measure, for every paced
event, the gap between the upstream's send time (`ts=<CLOCK_MONOTONIC ns>;` inside the event,
see paced_upstream.py) and the moment this process received it.

    python bench/e2e/stream_clients.py --port P --dialect openai --model paced-gpt \
        --streams 2000 --ramp-s 4 --events 40 --out gaps.json

Streams start evenly spread over --ramp-s; each reads its whole stream on its own connection.
The result (JSON) holds gap percentiles over all events and over the steady window (every
stream open: from the last stream's first event to the first stream's end), a per-second
timeline, the time to the response head and to the first paced event (which the upstream
sends one interval after the request), and the outcome of every stream.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import sys
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable (PEP 366)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "bench.e2e"

from .stats import percentile, percentiles

TS = re.compile(rb"ts=(\d+);")
END_MARKERS = {"openai": b"[DONE]", "anthropic": b"message_stop"}


class ChunkedError(ValueError):
    """Malformed chunked transfer coding."""


class ChunkedDecoder:
    """Incremental decoder of HTTP/1.1 chunked bodies: feed() raw bytes, get payload bytes."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._left = 0  # payload bytes still due in the current chunk
        self._state = "size"  # size | data | crlf | trailer | done

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, data: bytes) -> bytes:
        self._buf += data
        out = bytearray()
        while self._buf and self._state != "done":
            if self._state == "size" or self._state == "trailer":
                i = self._buf.find(b"\r\n")
                if i < 0:
                    if len(self._buf) > 4096:
                        raise ChunkedError("chunk size line too long")
                    break
                line = bytes(self._buf[:i])
                del self._buf[: i + 2]
                if self._state == "trailer":
                    if not line:
                        self._state = "done"
                    continue
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError as e:
                    raise ChunkedError(f"bad chunk size line {line[:40]!r}") from e
                self._state, self._left = ("trailer", 0) if size == 0 else ("data", size)
            elif self._state == "data":
                take = min(self._left, len(self._buf))
                out += self._buf[:take]
                del self._buf[:take]
                self._left -= take
                if self._left == 0:
                    self._state = "crlf"
            else:  # crlf after a chunk's data
                if len(self._buf) < 2:
                    break
                if self._buf[:2] != b"\r\n":
                    raise ChunkedError("chunk data not followed by CRLF")
                del self._buf[:2]
                self._state = "size"
        return bytes(out)


@dataclass
class Target:
    port: int
    dialect: str  # ingress dialect the client speaks
    model: str
    events: int  # paced events each stream should carry

    def request(self) -> bytes:
        if self.dialect == "openai":
            body = {
                "model": self.model,
                "stream": True,
                "max_tokens": 1024,
                "messages": [{"role": "user", "content": "stream the paced events"}],
            }
            path, auth = "/v1/chat/completions", "Authorization: Bearer sk-bench-dummy\r\n"
        else:
            body = {
                "model": self.model,
                "stream": True,
                "max_tokens": 1024,
                "messages": [{"role": "user", "content": "stream the paced events"}],
            }
            path, auth = "/v1/messages", "x-api-key: sk-ant-bench-dummy\r\nanthropic-version: 2023-06-01\r\n"
        raw = json.dumps(body, separators=(",", ":")).encode()
        return (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
            f"Accept: text/event-stream\r\n{auth}Content-Length: {len(raw)}\r\n\r\n"
        ).encode() + raw


@dataclass
class Collected:
    gaps_us: array = field(default_factory=lambda: array("d"))
    recv_ns: array = field(default_factory=lambda: array("q"))
    first_event_us: array = field(default_factory=lambda: array("d"))
    head_us: array = field(default_factory=lambda: array("d"))  # request written -> response head
    opened_ns: list[int] = field(default_factory=list)  # first paced event of each stream
    closed_ns: list[int] = field(default_factory=list)  # end of each completed stream
    outcomes: Counter = field(default_factory=Counter)
    short_streams: int = 0  # completed with fewer paced events than due


async def one_stream(target: Target, request: bytes, start_at: float, deadline: float, col: Collected) -> None:
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    writer = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
        t_req = time.monotonic_ns()
        writer.write(request)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), max(1.0, deadline - time.monotonic()))
        col.head_us.append((time.monotonic_ns() - t_req) / 1000.0)
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            col.outcomes[f"status {status}"] += 1
            return
        chunked = b"transfer-encoding: chunked" in head.lower()
        dec = ChunkedDecoder() if chunked else None
        pending = bytearray()
        seen = 0
        ended = False
        while not ended:
            left = deadline - time.monotonic()
            if left <= 0:
                col.outcomes["deadline passed"] += 1
                return
            data = await asyncio.wait_for(reader.read(65536), left)
            now = time.monotonic_ns()
            if not data:
                col.outcomes["closed before the end marker"] += 1
                return
            pending += dec.feed(data) if dec else data
            while (i := pending.find(b"\n\n")) >= 0:
                event = bytes(pending[:i])
                del pending[: i + 2]
                m = TS.search(event)
                if m:
                    if seen == 0:
                        col.first_event_us.append((now - t_req) / 1000.0)
                        col.opened_ns.append(now)
                    seen += 1
                    col.gaps_us.append((now - int(m.group(1))) / 1000.0)
                    col.recv_ns.append(now)
                elif END_MARKERS[target.dialect] in event:
                    ended = True
        col.closed_ns.append(time.monotonic_ns())
        col.outcomes["completed"] += 1
        if seen < target.events:
            col.short_streams += 1
    except TimeoutError:
        col.outcomes["deadline passed"] += 1
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ChunkedError, ValueError) as e:
        col.outcomes[f"{type(e).__name__}: {str(e)[:80]}"] += 1
    finally:
        if writer is not None:
            writer.close()


def summarize(col: Collected, streams: int, target: Target, t0_ns: int) -> dict:
    gaps = list(col.gaps_us)
    res: dict = {
        "streams": streams,
        "outcomes": dict(col.outcomes),
        "short_streams": col.short_streams,
        "events_received": len(gaps),
        "events_expected": streams * target.events,
    }
    if not gaps:
        return res
    res["gap_us"] = percentiles(gaps)
    s = sorted(gaps)
    res["gap_cdf_us"] = [[p, round(percentile(s, p), 1)] for p in list(range(1, 100)) + [99.5, 99.9, 99.99, 100]]
    if col.opened_ns and col.closed_ns and len(col.opened_ns) == streams:
        lo, hi = max(col.opened_ns), min(col.closed_ns)
        steady = [g for g, t in zip(col.gaps_us, col.recv_ns) if lo <= t <= hi]
        res["steady_window_s"] = round(max(0, hi - lo) / 1e9, 2)
        if steady:
            res["gap_us_steady"] = percentiles(steady)
    if col.first_event_us:
        res["first_event_us"] = percentiles(list(col.first_event_us))
    if col.head_us:
        res["head_us"] = percentiles(list(col.head_us))
    # per-second timeline: open streams, events, gap p50/p99/max
    buckets: dict[int, list[float]] = {}
    for g, t in zip(col.gaps_us, col.recv_ns):
        buckets.setdefault((t - t0_ns) // 1_000_000_000, []).append(g)
    opened = sorted((t - t0_ns) / 1e9 for t in col.opened_ns)
    closed = sorted((t - t0_ns) / 1e9 for t in col.closed_ns)
    timeline = []
    for sec in sorted(buckets):
        vals = sorted(buckets[sec])
        open_now = sum(1 for t in opened if t <= sec + 1) - sum(1 for t in closed if t <= sec + 1)
        timeline.append(
            {
                "t_s": sec,
                "open_streams": open_now,
                "events": len(vals),
                "p50_us": round(percentile(vals, 50), 1),
                "p99_us": round(percentile(vals, 99), 1),
                "max_us": round(vals[-1], 1),
            }
        )
    res["timeline"] = timeline
    return res


async def run(target: Target, streams: int, ramp_s: float, deadline_s: float) -> dict:
    col = Collected()
    request = target.request()
    t0 = time.monotonic()
    t0_ns = time.monotonic_ns()
    deadline = t0 + deadline_s
    step = ramp_s / streams if streams > 1 else 0.0
    await asyncio.gather(*(one_stream(target, request, t0 + i * step, deadline, col) for i in range(streams)))
    res = summarize(col, streams, target, t0_ns)
    res["wall_s"] = round(time.monotonic() - t0, 2)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    res["client_cpu_s"] = round(ru.ru_utime + ru.ru_stime, 2)
    return res


def raise_nofile(want: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    new = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if new > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dialect", choices=sorted(END_MARKERS), default="openai")
    ap.add_argument("--model", default="paced-gpt")
    ap.add_argument("--streams", type=int, default=2000)
    ap.add_argument("--ramp-s", type=float, default=4.0)
    ap.add_argument("--events", type=int, default=40, help="paced events each stream should carry")
    ap.add_argument("--deadline-s", type=float, default=120.0, help="give up on streams after this long")
    ap.add_argument("--out", type=Path, help="write the JSON here (default: stdout)")
    args = ap.parse_args(argv)
    if args.streams < 1:
        ap.error("--streams must be >= 1")
    limit = raise_nofile(args.streams + 256)
    if limit < args.streams + 64:
        ap.error(f"open-file limit {limit} is too low for {args.streams} streams")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    res = asyncio.run(
        run(Target(args.port, args.dialect, args.model, args.events), args.streams, args.ramp_s, args.deadline_s)
    )
    text = json.dumps(res)
    if args.out:
        args.out.write_text(text + "\n")
    else:
        print(text)
    return 0 if res["outcomes"].get("completed") == args.streams and not res["short_streams"] else 1


if __name__ == "__main__":
    sys.exit(main())
