#!/usr/bin/env python3
"""The recorder's writer alone: CPU per session with no gateway around it.

    python bench/recording/writer_micro.py                       # 15,000 sessions at 3,000/s
    python bench/recording/writer_micro.py --rate 0 --fsync never  # all at once
    python bench/recording/writer_micro.py --stream               # streamed exchanges

Exchanges shaped like the e2e benchmark's OpenAI passthrough (its request body, the nginx
mock's answer; with --stream, the mock's SSE answer as 30 chunks) are handed to a real
Recorder in a scratch data directory, `--rate` per second in 10 ms ticks (as the event loop
of a gateway at that rate would), then flushed. Printed: the writer thread's user and
system CPU per session (from /proc, so only that thread), batches and wall time. This
isolates what writer_cost.py measures inside the gateway; it does not show GIL contention
with an event loop.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "bench.recording"

from bench.e2e.nginx.gen_conf import openai_chat, openai_stream_events
from bench.e2e.scenarios import SCENARIOS, request_body

from lunaroute.recording import Recorder, RecorderSettings, new_session_id
from lunaroute.server.exchange import Exchange

CLK_TCK = os.sysconf("SC_CLK_TCK")
SCRATCH = Path("/tmp/lunaroute-writer-micro")
# Nothing is deleted: on ext4 without a journal (this VM's), every file creation skips, one
# by one, the inodes of its block group freed in the last 1-6 minutes, so deleting a run's
# files would slow the next run's creations by hundreds of µs per file. Remove old runs under
# --scratch by hand, and not just before measuring (fs_probe shows the file system's state).


def fresh_dir(scratch: Path) -> Path:
    path = scratch / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    path.mkdir(parents=True)
    return path


def fs_probe(base: Path, n: int = 2000) -> float:
    """System CPU µs per plain file creation (open, write 1 KiB, close) in a fresh directory
    under `base`: the file system's own state, which moves a lot on a shared machine."""
    directory = base / "probe"
    directory.mkdir()
    data = os.urandom(1024)
    start = os.times().system
    for i in range(n):
        fd = os.open(directory / f"f{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, data)
        os.close(fd)
    return (os.times().system - start) / n * 1e6


def exchanges(n: int, stream: bool) -> list[Exchange]:
    scen = SCENARIOS["oai_stream" if stream else "oai"]
    body = request_body(scen)
    answer = openai_chat().encode()
    pieces = [e.encode() for e in openai_stream_events()] if stream else []
    out = []
    for i in range(n):
        ex = Exchange(
            request_id=f"req_{i:08d}",
            listener="openai",
            dialect="openai",
            request_model=scen.model,
            provider="mock-openai",
            model="gpt-4o-mini",
            stream=stream,
            status=200,
            latency_s=0.0012,
            ttft_s=0.0008 if stream else None,
            input_tokens=61,
            output_tokens=26,
            cost_cents=0.0021,
        )
        ex.session_id = new_session_id()
        ex.request_body = body
        ex.fallbacks = [("mock-openai", "gpt-4o-mini", "ok")]
        if stream:
            ex.stream_chunks = [(0.0008 + k * 1e-4, p) for k, p in enumerate(pieces)]
        else:
            ex.response_body = answer
        out.append(ex)
    return out


def thread_ticks(tid: int) -> tuple[int, int]:
    with open(f"/proc/self/task/{tid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=15000)
    ap.add_argument("--rate", type=float, default=3000.0, help="exchanges per second (0: all at once)")
    ap.add_argument("--fsync", choices=("always", "batch", "never"), default="batch")
    ap.add_argument("--stream", action="store_true")
    ap.add_argument("--flush-ms", type=int, default=1000)
    ap.add_argument(
        "--placement", choices=("tmpfile", "rename"), default="tmpfile", help="rename: as without O_TMPFILE"
    )
    ap.add_argument("--scratch", type=Path, default=SCRATCH)
    args = ap.parse_args(argv)
    items = exchanges(args.sessions, args.stream)
    base = fresh_dir(args.scratch)
    settings = RecorderSettings(fsync=args.fsync, flush_interval_s=args.flush_ms / 1000.0, queue_size=100_000)
    probe_us = fs_probe(base)
    rec = Recorder(base, settings)
    if args.placement == "rename":
        rec.store.tmpfile = False
    time.sleep(0.2)  # start-up (index, journal) is not what is measured
    tid = rec._thread.native_id
    assert tid is not None
    u0, s0 = thread_ticks(tid)
    t0 = time.perf_counter()
    if args.rate > 0:
        per_tick = max(1, round(args.rate / 100))
        next_tick = time.perf_counter()
        for i in range(0, len(items), per_tick):
            for ex in items[i : i + per_tick]:
                rec.observe(ex)
            next_tick += per_tick / args.rate
            pause = next_tick - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
    else:
        for ex in items:
            rec.observe(ex)
    if not rec.flush(120):
        raise SystemExit("flush timed out")
    wall = time.perf_counter() - t0
    u1, s1 = thread_ticks(tid)
    rec.close()
    n = max(1, rec.written)
    tick = 1e6 / CLK_TCK
    print(
        f"fsync={args.fsync} stream={args.stream} rate={args.rate:g}/s placement={args.placement} "
        f"(fs probe: {probe_us:.0f} us sys per create): {rec.written} written, "
        f"{rec.errors} errors, wall {wall:.2f} s; writer CPU per session: user {(u1 - u0) * tick / n:.1f} us, "
        f"sys {(s1 - s0) * tick / n:.1f} us, total {((u1 - u0) + (s1 - s0)) * tick / n:.1f} us"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
