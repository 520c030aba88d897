#!/usr/bin/env python3
"""Streams at scale: many concurrent long-lived streams through ONE LunaRoute worker.

    python bench/e2e/streams_at_scale.py                       # 2,000 streams, an event every 250 ms
    python bench/e2e/streams_at_scale.py --streams 500 --events 20
    python bench/e2e/streams_at_scale.py --scenario oai_to_anth_stream   # translated streams

A paced upstream (paced_upstream.py) sends each stream's events every --interval-ms with its
send time inside; --streams clients (stream_clients.py, raw asyncio sockets) open their streams
evenly over --ramp-s and measure, per event, upstream send -> client receive. Phase 1 (unless
--no-direct) points the clients straight at the upstream: the floor of the measurement itself.
Phase 2 goes through LunaRoute (1 worker, CPU 0) while its RSS, open files and CPU are sampled.
Pinning: LunaRoute on CPU 0; upstream and clients on CPU 1.
Targets (issue 6): gap p99 <= 5 ms through LunaRoute, LunaRoute RSS <= 300 MB.
Writes bench/results/<stamp>-streams/{report.md, results.json, *.png}; scratch under
/tmp/lunaroute-e2e/streams-<stamp>/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable (PEP 366)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "bench.e2e"

from . import procfs, streams_report
from .gateways import GatewaySpec, Running, start_gateway, stop_gateway, tail
from .http_probe import one_request
from .quiet import QuietGuard, Tracked, Window, log
from .stream_clients import raise_nofile
from .streams_config import STREAM_SCENARIOS, StreamScenario, render
from .upstream_mock import stop_group

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
UPSTREAM = HERE / "paced_upstream.py"
CLIENTS = HERE / "stream_clients.py"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--streams", type=int, default=2000)
    ap.add_argument("--interval-ms", type=float, default=250.0, help="between a stream's paced events")
    ap.add_argument("--events", type=int, default=40, help="paced events per stream (40 x 250 ms = 10 s)")
    ap.add_argument("--ramp-s", type=float, default=4.0, help="streams start evenly over this many seconds")
    ap.add_argument("--scenario", default="oai_stream", choices=sorted(STREAM_SCENARIOS))
    ap.add_argument("--no-direct", action="store_true", help="skip the clients -> upstream floor phase")
    ap.add_argument(
        "--lunaroute-cmd",
        help="command that takes `serve --config-dir D --data-dir D` (default: `<this python> -m lunaroute`)",
    )
    ap.add_argument("--sample-ms", type=float, default=250.0, help="LunaRoute RSS/CPU sampling period")
    ap.add_argument("--target-p99-ms", type=float, default=5.0)
    ap.add_argument("--target-rss-mb", type=float, default=300.0)
    ap.add_argument("--quiet-threshold", type=float, default=5.0, help="outside work allowed, %% of one CPU")
    ap.add_argument("--quiet-wait", type=float, default=120.0, help="seconds to wait for a quiet machine")
    ap.add_argument("--gateway-cpu", type=int, default=0)
    ap.add_argument("--load-cpu", type=int, default=1)
    ap.add_argument("--out-dir", type=Path, help="report directory (default bench/results/<stamp>-streams)")
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/lunaroute-e2e"))
    args = ap.parse_args(argv)
    if args.streams < 1 or args.events < 1 or args.interval_ms <= 0 or args.ramp_s < 0:
        ap.error("--streams and --events must be >= 1, --interval-ms > 0, --ramp-s >= 0")
    return args


def start_upstream(args: argparse.Namespace, work: Path) -> tuple[subprocess.Popen, int]:
    err = open(work / "paced-upstream.log", "wb")
    proc = subprocess.Popen(
        [
            "taskset",
            "-c",
            str(args.load_cpu),
            sys.executable,
            str(UPSTREAM),
            "--port",
            "0",
            "--events",
            str(args.events),
            "--interval-ms",
            str(args.interval_ms),
        ],
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
        start_new_session=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("PORT "):
        stop_group(proc)
        raise SystemExit(f"paced upstream did not start: {line!r}; see {work / 'paced-upstream.log'}")
    return proc, int(line.split()[1])


def upstream_stats(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def client_cmd(args: argparse.Namespace, port: int, dialect: str, model: str, out: Path) -> list[str]:
    deadline = args.ramp_s + args.events * args.interval_ms / 1000.0 + 60.0
    return [
        "taskset",
        "-c",
        str(args.load_cpu),
        sys.executable,
        str(CLIENTS),
        "--port",
        str(port),
        "--dialect",
        dialect,
        "--model",
        model,
        "--streams",
        str(args.streams),
        "--ramp-s",
        str(args.ramp_s),
        "--events",
        str(args.events),
        "--deadline-s",
        str(deadline),
        "--out",
        str(out),
    ]


def run_clients(args: argparse.Namespace, cmd: list[str], out: Path, tracked: Tracked, gateway_pid: int | None) -> dict:
    """Run the client process; meanwhile sample the gateway every --sample-ms."""
    w = Window(tracked)
    w.start()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    samples = []
    cpu_prev: float | None = None
    t_prev = 0.0
    while proc.poll() is None:
        time.sleep(args.sample_ms / 1000.0)
        if gateway_pid is None:
            continue
        pids = procfs.descendants(gateway_pid)
        now, cpu = time.monotonic(), procfs.cpu_seconds(pids)
        pct = round(100.0 * (cpu - cpu_prev) / (now - t_prev), 1) if cpu_prev is not None and t_prev else None
        samples.append(
            {
                "t_s": round(now - t0, 2),
                "rss_kb": procfs.status_kb(pids, "VmRSS"),
                "hwm_kb": procfs.status_kb(pids, "VmHWM"),
                "fds": procfs.open_fds(pids),
                "cpu_pct": pct,
            }
        )
        cpu_prev, t_prev = cpu, now
    stderr = proc.stderr.read() if proc.stderr else ""
    acct = w.stop()
    try:
        res = json.loads(out.read_text())
    except (OSError, ValueError):
        res = {"error": f"clients rc={proc.returncode}: {stderr.strip()[-600:]}"}
    res["clients_rc"] = proc.returncode
    res["accounting"] = acct
    if samples:
        res["gateway_samples"] = samples
    return res


def on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through main's `finally`, which stops what it started


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scen: StreamScenario = STREAM_SCENARIOS[args.scenario]
    # every process we start inherits this: clients, upstream and LunaRoute each hold ~1-2 fds per stream
    nofile = raise_nofile(2 * args.streams + 1024)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    work = args.scratch / f"streams-{stamp}"
    work.mkdir(parents=True, exist_ok=True)
    out_dir = args.out_dir or REPO / "bench" / "results" / f"{stamp}-streams"
    out_dir.mkdir(parents=True, exist_ok=True)
    doc: dict = {
        "meta": {
            "stamp": stamp,
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": " ".join(
                ["python bench/e2e/streams_at_scale.py"] + (argv if argv is not None else sys.argv[1:])
            ),
            "scratch": str(work),
            "python": platform.python_version(),
            "kernel": platform.release(),
            "loadavg_at_start": Path("/proc/loadavg").read_text().strip(),
            "nofile_limit": nofile,
            "settings": {
                "streams": args.streams,
                "interval_ms": args.interval_ms,
                "events": args.events,
                "ramp_s": args.ramp_s,
                "scenario": scen.name,
                "client_dialect": scen.client_dialect,
                "upstream_dialect": scen.upstream_dialect,
                "gateway_cpu": args.gateway_cpu,
                "load_cpu": args.load_cpu,
                "quiet_threshold_pct": args.quiet_threshold,
                "aggregate_events_per_s": round(args.streams * 1000.0 / args.interval_ms, 1),
            },
            "targets": {"gap_p99_ms": args.target_p99_ms, "rss_mb": args.target_rss_mb},
        },
        "phases": {},
    }
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    upstream, uport = start_upstream(args, work)
    log(f"paced upstream on 127.0.0.1:{uport} (pid {upstream.pid}): {args.events} events every {args.interval_ms} ms")
    tracked = Tracked(mock_pid=upstream.pid)
    guard = QuietGuard(tracked, args.quiet_threshold, args.quiet_wait)
    running = None
    try:
        if not args.no_direct:
            waited, busy = guard.wait()
            log(f"direct: {args.streams} streams straight to the upstream ({scen.upstream_dialect})")
            model = "gpt-4o-mini" if scen.upstream_dialect == "openai" else "claude-haiku-4-5"
            res = run_clients(
                args,
                client_cmd(args, uport, scen.upstream_dialect, model, work / "direct.json"),
                work / "direct.json",
                tracked,
                None,
            )
            res["waited_for_quiet_s"], res["not_quiet_before_run"] = waited, busy
            doc["phases"]["direct"] = res
            log(f"direct: {streams_report.one_line(res)}")
        cfg = render(work, uport, args.streams)
        prefix = shlex.split(args.lunaroute_cmd) if args.lunaroute_cmd else [sys.executable, "-m", "lunaroute"]
        data = work / "lunaroute-data"
        data.mkdir(exist_ok=True)
        cmd = prefix + ["serve", "--config-dir", str(cfg.config_dir), "--data-dir", str(data)]
        spec = GatewaySpec(
            "lunaroute",
            cmd,
            cfg.openai_port,
            cfg.anthropic_port,
            (),
            env={"LUNAROUTE_BENCH_UPSTREAM_KEY": "dummy"},
            config=str(cfg.config_dir),
        )
        log(f"lunaroute: starting: {' '.join(spec.cmd or [])}")
        running = start_gateway(spec, work, args.gateway_cpu)
        tracked.gateway_pid = running.proc.pid
        startup = wait_ready(running, cfg.port_for(scen.client_dialect), scen)
        doc["lunaroute_startup"] = startup
        if startup.get("error"):
            raise SystemExit(f"lunaroute did not start: {startup['error']}")
        waited, busy = guard.wait()
        pids = procfs.descendants(running.proc.pid)
        rss_before = procfs.status_kb(pids, "VmRSS")
        log(f"lunaroute: {args.streams} streams through LunaRoute ({scen.name})")
        res = run_clients(
            args,
            client_cmd(
                args, cfg.port_for(scen.client_dialect), scen.client_dialect, scen.model, work / "lunaroute.json"
            ),
            work / "lunaroute.json",
            tracked,
            running.proc.pid,
        )
        pids = procfs.descendants(running.proc.pid)
        res["rss_before_kb"] = rss_before
        res["peak_rss_kb"] = procfs.status_kb(pids, "VmHWM")
        res["rss_after_kb"] = procfs.status_kb(pids, "VmRSS")
        res["gateway_alive_at_end"] = running.proc.poll() is None
        res["waited_for_quiet_s"], res["not_quiet_before_run"] = waited, busy
        doc["phases"]["lunaroute"] = res
        log(f"lunaroute: {streams_report.one_line(res)}")
    finally:
        if running is not None:
            doc["lunaroute_exit_code"] = stop_gateway(running.proc)
            doc["lunaroute_log"] = str(running.log_path)
            doc["lunaroute_log_tail"] = tail(running.log_path, 2000)
        doc["upstream_stats"] = upstream_stats(uport)
        stop_group(upstream)
    doc["meta"]["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    doc["verdict"] = streams_report.verdict(doc)
    files = streams_report.write_plots(doc, out_dir)
    doc["meta"]["plots"] = files
    with open(out_dir / "results.json", "w") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
    (out_dir / "report.md").write_text(streams_report.render(doc, files) + "\n")
    log(f"verdict: {doc['verdict']}")
    log(f"report: {out_dir / 'report.md'}  (scratch: {work})")
    return 0 if doc["verdict"].get("all_streams_ok") else 1


def wait_ready(running: Running, port: int, scen: StreamScenario, timeout_s: float = 120.0) -> dict:
    """Spawn -> first 200 on a real (non-streaming) chat request through LunaRoute."""
    if scen.client_dialect == "openai":
        path, headers = "/v1/chat/completions", {"Authorization": "Bearer sk-bench-dummy"}
        body = {"model": scen.model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}
    else:
        path, headers = "/v1/messages", {"x-api-key": "sk-ant-bench-dummy", "anthropic-version": "2023-06-01"}
        body = {"model": scen.model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}
    headers["Content-Type"] = "application/json"
    raw = json.dumps(body).encode()
    last = None
    while time.monotonic() - running.spawned_at < timeout_s:
        if running.proc.poll() is not None:
            return {"error": f"exited with code {running.proc.returncode}: {tail(running.log_path, 800)}"}
        try:
            status, _, data, _ = one_request(port, path, raw, headers, timeout=5.0)
            if status == 200:
                return {"first_200_s": round(time.monotonic() - running.spawned_at, 3)}
            last = f"status {status}: {data[:200]!r}"
        except OSError as e:
            last = f"{type(e).__name__}: {e}"
        time.sleep(0.05)
    return {"error": f"no 200 within {timeout_s}s (last: {last})"}


if __name__ == "__main__":
    sys.exit(main())
