#!/usr/bin/env python3
"""Gateway CPU per long streamed answer: same-dialect relay vs translation, one sitting.

    python bench/e2e/long_stream_cpu.py                  # 1,000-event streams, 20 per scenario
    python bench/e2e/long_stream_cpu.py --events 30 --streams 200 --gap-us 0

An upstream of its own (this file, `--serve-upstream`, a subprocess on CPU 1) answers every
chat request with `--events` text deltas in the path's dialect, each written and flushed as
its own HTTP chunk (`--gap-us` apart, so the gateway reads them one by one as it would a
model's tokens). `lunaroute serve` (1 worker, CPU 0) relays them to a client in this process
(CPU 1) that reads each stream to its end. The gateway's CPU (utime + stime from procfs) over
`--streams` sequential streams (every thread's schedstat) gives CPU per stream for four routes: OpenAI → OpenAI and
Anthropic → Anthropic (relayed), OpenAI → Anthropic and Anthropic → OpenAI (translated), in
turns (`--rounds`). "translation adds" is translated minus relayed, per stream and per event.
Writes bench/results/<stamp>-long-streams/{report.md,results.json}.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable (PEP 366)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "bench.e2e"

from .configs import Ports, render_lunaroute_config
from .http_probe import port_busy
from .paced_upstream import stream_frames

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results"

# (name, client listener, model asked, upstream dialect): the bench config's stream routes
ROUTES = [
    ("oai_relay", "openai", "bench-gpt-stream", "openai"),
    ("anth_to_oai", "openai", "bench-claude-stream", "anthropic"),
    ("anth_relay", "anthropic", "bench-claude-stream", "anthropic"),
    ("oai_to_anth", "anthropic", "bench-gpt-stream", "openai"),
]


# ----------------------------------------------------------------------------- upstream
def _events(dialect: str, n: int) -> list[bytes]:
    """A whole answer of `n` text deltas in `dialect` (paced_upstream's frames, unpaced)."""
    head, delta, tail = stream_frames(dialect, 0, n)
    return [*head, *(delta(i) for i in range(n)), *tail]


async def _serve_upstream(port: int, events: int, gap_us: int) -> None:
    streams = {"openai": _events("openai", events), "anthropic": _events("anthropic", events)}
    gap = gap_us / 1e6

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                await reader.readexactly(length)
                dialect = "openai" if path.endswith("/chat/completions") else "anthropic"
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                )
                for event in streams[dialect]:
                    writer.write(b"%x\r\n%s\r\n" % (len(event), event))
                    await writer.drain()
                    if gap:
                        await asyncio.sleep(gap)
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()


# ----------------------------------------------------------------------------- client
def _request(port: int, listener: str, model: str) -> bytes:
    body = {
        "model": model,
        "max_tokens": 4096,
        "stream": True,
        "messages": [{"role": "user", "content": "Write a long answer."}],
    }
    data = json.dumps(body).encode()
    path = "/v1/chat/completions" if listener == "openai" else "/v1/messages"
    extra = (
        "authorization: Bearer sk-bench\r\n"
        if listener == "openai"
        else "x-api-key: sk-bench\r\nanthropic-version: 2023-06-01\r\n"
    )
    head = (
        f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        f"accept: text/event-stream\r\n{extra}content-length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


def _read_stream(sock: socket.socket, end: bytes) -> int:
    """Read one chunked response until its last chunk; the bytes of the body."""
    buf = b""
    while not buf.endswith(b"0\r\n\r\n"):
        part = sock.recv(65536)
        if not part:
            raise ConnectionError("gateway closed the connection mid-stream")
        buf += part
    if b" 200 " not in buf[:16] or end not in buf:
        raise RuntimeError(f"bad stream: {buf[:300]!r} ... {buf[-200:]!r}")
    return len(buf)


def _gateway_cpu(pid: int) -> float:
    """CPU seconds of every thread of the gateway (schedstat: nanoseconds, where /proc's
    stat counts 10 ms ticks)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return total / 1e9


def _measure(pid: int, port: int, listener: str, model: str, streams: int) -> float:
    """Gateway CPU seconds per stream over `streams` streams on one keep-alive connection."""
    end = b"[DONE]" if listener == "openai" else b"message_stop"
    request = _request(port, listener, model)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        _read_stream(sock, end)  # warm: pool connection, caches
        time.sleep(0.05)
        before = _gateway_cpu(pid)
        for _ in range(streams):
            sock.sendall(request)
            _read_stream(sock, end)
        time.sleep(0.05)
        return (_gateway_cpu(pid) - before) / streams


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1000, help="text deltas per answer")
    ap.add_argument("--streams", type=int, default=20, help="streams per measurement")
    ap.add_argument("--rounds", type=int, default=3, help="turns over the four routes")
    ap.add_argument("--gap-us", type=int, default=200, help="pause after each upstream event (0: as fast as possible)")
    ap.add_argument("--port-offset", type=int, default=800)
    ap.add_argument("--gateway-cpu", type=int, default=0)
    ap.add_argument("--load-cpu", type=int, default=1)
    ap.add_argument("--serve-upstream", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out-dir", type=Path)
    args = ap.parse_args()
    if args.serve_upstream:
        asyncio.run(_serve_upstream(args.serve_upstream, args.events, args.gap_us))
        return 0

    ports = Ports.with_offset(args.port_offset)
    for p in (ports.mock, ports.openai, ports.anthropic, ports.metrics):
        if port_busy(p):
            print(f"port {p} is taken; use --port-offset", file=sys.stderr)
            return 2
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    work = Path("/tmp/lunaroute-e2e") / f"long-{stamp}"
    work.mkdir(parents=True, exist_ok=True)
    config = render_lunaroute_config(work, ports)
    os.sched_setaffinity(0, {args.load_cpu})
    upstream = subprocess.Popen(
        [sys.executable, __file__, "--serve-upstream", str(ports.mock), "--events", str(args.events)]
        + ["--gap-us", str(args.gap_us)],
        stdout=subprocess.PIPE,
        text=True,
    )
    gateway = None
    try:
        assert upstream.stdout is not None and upstream.stdout.readline().strip() == "READY"
        env = dict(os.environ, LUNAROUTE_BENCH_UPSTREAM_KEY="sk-upstream")
        cmd = ["taskset", "-c", str(args.gateway_cpu), sys.executable, "-m", "lunaroute", "serve"]
        cmd += ["--config-dir", str(config), "--data-dir", str(work / "data")]
        gateway = subprocess.Popen(cmd, env=env, stdout=open(work / "gateway.log", "wb"), stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while not port_busy(ports.anthropic) or not port_busy(ports.openai):
            if time.time() > deadline or gateway.poll() is not None:
                raise RuntimeError(f"gateway did not start: see {work / 'gateway.log'}")
            time.sleep(0.1)
        samples: dict[str, list[float]] = {r[0]: [] for r in ROUTES}
        for _ in range(args.rounds):
            for name, listener, model, _up in ROUTES:
                port = ports.openai if listener == "openai" else ports.anthropic
                samples[name].append(_measure(gateway.pid, port, listener, model, args.streams))
    finally:
        for proc in (gateway, upstream):
            if proc is not None:
                proc.terminate()
                proc.wait(30)

    med = {k: statistics.median(v) for k, v in samples.items()}
    rows = [
        ("OpenAI upstream", med["oai_relay"], med["oai_to_anth"]),
        ("Anthropic upstream", med["anth_relay"], med["anth_to_oai"]),
    ]
    lines = [
        f"# Gateway CPU per {args.events}-event stream ({stamp})",
        "",
        f"{args.streams} streams per measurement, {args.rounds} rounds in turns, upstream gap {args.gap_us} µs; "
        "median of the rounds. Gateway: 1 worker on one CPU.",
        "",
        "| upstream | relayed (ms/stream) | translated (ms/stream) | translation adds (ms) | per event (µs) |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, relay, trans in rows:
        add = trans - relay
        lines.append(
            f"| {label} | {relay * 1e3:.2f} | {trans * 1e3:.2f} | {add * 1e3:.2f} | {add / args.events * 1e6:.2f} |"
        )
    report = "\n".join(lines) + "\n"
    print(report)
    out = args.out_dir or RESULTS / f"{stamp}-long-streams"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(report)
    (out / "results.json").write_text(
        json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "samples": samples}, indent=2)
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
