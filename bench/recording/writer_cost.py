#!/usr/bin/env python3
"""What session recording costs a gateway worker, in one sitting: recording on vs off.

    python bench/recording/writer_cost.py                  # 2 rounds of on/off, 6 s runs, c=16
    python bench/recording/writer_cost.py --rounds 3 --fsync never
    python bench/recording/writer_cost.py --port-offset 700
    python bench/recording/writer_cost.py --baseline-rev HEAD~3   # also `base`: that revision's recorder

The nginx mock (bench/e2e, CPU 1) answers; `lunaroute serve` runs one worker pinned to CPU 0
with bench/e2e/lunaroute-config, `storage.sessions.enabled` true (`on`, the contract's
default) or false (`off`), started through serve_measured.py (names the writer thread
`lr-writer`, prints its lifetime CPU at exit). wrk (CPU 1) drives OpenAI passthrough (the
`oai` scenario) for a 1 s warm-up, then `--duration` seconds; on and off alternate, the
order rotating every round. With --baseline-rev, a third gateway, `base`, records
with python/lunaroute/recording as it was at that git revision (extracted into the scratch
directory), so a change's before and after come from one sitting. Each run starts with an
empty data directory. Nothing is deleted: on ext4 without a journal (this VM's), every file
creation skips, one by one, the inodes of its block group freed in the last 1-6 minutes, so
deleting a sitting's files would slow the next sitting's file creation by hundreds of µs per
file. Remove old sittings under --scratch by hand, and not just before measuring. Before
each run, a probe times plain file creations in the data directory's file system (system
CPU µs per file), to show the file system's state.

Per run: req/s; the gateway's CPU per request (/proc over the measured window); the main
(event loop) thread's and the writer thread's user and system CPU and context switches over
the window per request (every request is one session);
and its lifetime µs per session from serve_measured.py. The summary: req/s on ÷ off per
round and overall, and the writer's µs per session. A figure from another sitting means
little on a shared machine: compare within one run of this script.

Prints a Markdown summary; writes results.json (every run) into the scratch directory.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable (PEP 366)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "bench.recording"

from bench.e2e import gateways, procfs
from bench.e2e.configs import Ports, render_lunaroute_config, render_mock_conf
from bench.e2e.http_probe import wait_first_200
from bench.e2e.scenarios import SCENARIOS, request_body
from bench.e2e.upstream_mock import MockError, start_mock, stop_mock
from bench.e2e.wrk_run import WrkSettings, run_wrk
from bench.recording.writer_micro import fs_probe

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LAUNCHER = HERE / "serve_measured.py"
WRITER_THREAD = "lr-writer"
COST_PREFIX = "WRITERCOST "
GC_PREFIX = "GCSTATS "


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2, help="on/off pairs")
    ap.add_argument("--duration", type=float, default=6.0, help="seconds per measured wrk run")
    ap.add_argument("--conc", type=int, default=16)
    ap.add_argument("--fsync", choices=("always", "batch", "never"), help="storage.sessions.fsync (default: config's)")
    ap.add_argument("--baseline-rev", help="git revision whose recording package runs as `base`")
    ap.add_argument("--port-offset", type=int, default=600)
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/lunaroute-writer-cost"))
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.duration < 1:
        ap.error("--rounds and --duration must be at least 1")
    return args


def extract_recording(rev: str, work: Path) -> Path:
    """python/lunaroute/recording at `rev`, as files under `work`."""
    target = work / f"recording-{rev.replace('/', '_')}"
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "python/lunaroute/recording"], capture_output=True, check=True
    ).stdout
    target.mkdir()
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "python" / "lunaroute" / "recording"


def render_configs(work: Path, ports: Ports, fsync: str | None) -> dict[str, Path]:
    on = render_lunaroute_config(work, ports, name="rec-on-config", recording=True)
    if fsync:
        server = on / "server.yaml"
        enabled = "  sessions:\n    enabled: true\n"
        server.write_text(server.read_text().replace(enabled, enabled + f"    fsync: {fsync}\n"))
    off = render_lunaroute_config(work, ports, name="rec-off-config", recording=False)
    return {"on": on, "off": off, "base": on}


def thread_counters(pid: int) -> dict[str, tuple[int, int, int, int]]:
    """{thread name: (utime ticks, stime ticks, voluntary, involuntary context switches)} of
    the gateway's threads (threads of one name summed)."""
    out: dict[str, tuple[int, int, int, int]] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                head, rest = f.read().rsplit(")", 1)
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
        except (OSError, ValueError):
            continue
        fields = rest.split()
        name = head.split("(", 1)[1]
        name = name if name == WRITER_THREAD or tid != str(pid) else "main"
        vals = (
            int(fields[11]),
            int(fields[12]),
            int(status["voluntary_ctxt_switches"]),
            int(status["nonvoluntary_ctxt_switches"]),
        )
        if name in (WRITER_THREAD, "main"):
            prev = out.get(name, (0, 0, 0, 0))
            out[name] = tuple(a + b for a, b in zip(prev, vals))  # type: ignore[assignment]
    return out


def logged(log_path: Path, prefix: str) -> dict | None:
    """The JSON of the last log line starting with `prefix` (serve_measured.py's reports)."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return None
    for line in reversed(text.splitlines()):
        if line.startswith(prefix):
            return json.loads(line[len(prefix) :])
    return None


def one_run(
    label: str, config: Path, work: Path, ports: Ports, body: Path, args: argparse.Namespace, env: dict[str, str]
) -> dict:
    data = work / f"data-{label}-{time.time_ns()}"
    data.mkdir(parents=True)
    probe_us = fs_probe(data)
    cmd = [sys.executable, str(LAUNCHER), "serve", "--config-dir", str(config), "--data-dir", str(data)]
    spec = gateways.GatewaySpec(
        f"rec-{label}",
        cmd,
        ports.openai,
        ports.anthropic,
        ("oai",),
        env={"LUNAROUTE_BENCH_UPSTREAM_KEY": "dummy", **env},
    )
    scen = SCENARIOS["oai"]
    running = gateways.start_gateway(spec, work, cpu=0)
    try:
        _, _, err = wait_first_200(running.proc, ports.openai, scen, 120.0, running.spawned_at)
        if err:
            raise SystemExit(f"{label}: gateway did not come up: {err}\n{gateways.tail(running.log_path)}")
        wrk = WrkSettings(load_cpu=1)
        run_wrk(wrk, ports.openai, scen, args.conc, 1.0, str(body))  # warm-up
        pid = running.proc.pid
        pids = procfs.descendants(pid)
        cpu0, t0 = procfs.cpu_seconds(pids), thread_counters(pid)
        res = run_wrk(wrk, ports.openai, scen, args.conc, args.duration, str(body))
        cpu1, t1 = procfs.cpu_seconds(pids), thread_counters(pid)
    finally:
        gateways.stop_gateway(running.proc)
    if res["error_total"]:
        raise SystemExit(f"{label}: {res['error_total']} wrk errors {res['errors']}")
    requests = res["requests"]
    row = {
        "label": label,
        "rps": res["rps"],
        "requests": requests,
        "p50_us": res["latency_us"]["p50"],
        "cpu_us_per_req": round((cpu1 - cpu0) * 1e6 / requests, 1) if requests else None,
        "fs_probe_us": round(probe_us, 1),
        "gc": logged(running.log_path, GC_PREFIX),
    }
    tick_us = 1e6 / procfs.CLK_TCK
    for name, key in ((WRITER_THREAD, "writer"), ("main", "loop")):
        if name in t0 and name in t1 and requests:
            d = [b - a for a, b in zip(t0[name], t1[name])]
            row[f"{key}_user_us_per_req"] = round(d[0] * tick_us / requests, 1)
            row[f"{key}_sys_us_per_req"] = round(d[1] * tick_us / requests, 1)
            row[f"{key}_switches_per_req"] = round((d[2] + d[3]) / requests, 2)
    if label != "off":
        row["lifetime"] = logged(running.log_path, COST_PREFIX)
        sessions = sum(1 for _ in data.glob("sessions/*/*/*/*.session"))
        row["session_files"] = sessions
    return row


def render(rows: list[dict], args: argparse.Namespace, load: list[tuple[float, ...]]) -> str:
    by = {label: [r for r in rows if r["label"] == label] for label in dict.fromkeys(r["label"] for r in rows)}
    off = by["off"]
    lines = [
        f"# Recording on vs off (fsync: {args.fsync or 'config default'}), c={args.conc}, {args.duration:g} s runs",
        "",
        "load average at start → end: " + " → ".join("/".join(f"{x:.1f}" for x in la) for la in load),
        "",
        "| run | gateway | fs probe µs | req/s | p50 µs | gateway CPU µs/req |"
        " loop thread user+sys µs/req, switches/req | writer user+sys µs/req, switches/req |"
        " writer µs/session (lifetime) | sessions written / files |"
        " GC runs, CPU ms (writer; others) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(rows, 1):
        threads = [
            f"{r[f'{k}_user_us_per_req']:.0f}+{r[f'{k}_sys_us_per_req']:.0f}, {r[f'{k}_switches_per_req']:.1f}"
            if f"{k}_user_us_per_req" in r
            else ""
            for k in ("loop", "writer")
        ]
        life = r.get("lifetime") or {}
        lifetime = f"{life['us_per_session']:.0f}" if life else ""
        files = f"{life.get('written', '?')} / {r['session_files']}" if "session_files" in r else ""
        gc = r.get("gc") or {}
        gcs = "; ".join(f"{gc[k]['runs']}, {gc[k]['cpu_ms']:.0f}" for k in ("writer", "other") if k in gc)
        lines.append(
            f"| {i} | {r['label']} | {r['fs_probe_us']:.0f} | {r['rps']:,.0f} | {r['p50_us']:,.0f} |"
            f" {r['cpu_us_per_req']:.0f} | {threads[0]} | {threads[1]} | {lifetime} | {files} | {gcs} |"
        )
    lines.append("")
    for label, runs in by.items():
        if label == "off":
            continue
        ratios = [a["rps"] / b["rps"] for a, b in zip(runs, off) if b["rps"]]
        overall = statistics.mean(r["rps"] for r in runs) / statistics.mean(r["rps"] for r in off)
        lifetimes = [r["lifetime"]["us_per_session"] for r in runs if r.get("lifetime")]
        lines.append(
            f"- {label} ÷ off, req/s per round: {' / '.join(f'{x:.2f}' for x in ratios)}; overall (mean ÷ mean): "
            f"{overall:.2f}; writer CPU µs per session (lifetime): {' / '.join(f'{x:.0f}' for x in lifetimes)}"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ports = Ports.with_offset(args.port_offset)
    work = args.scratch / time.strftime("%Y%m%d-%H%M%S")
    work.mkdir(parents=True)
    configs = render_configs(work, ports, args.fsync)
    envs: dict[str, dict[str, str]] = {"on": {}, "off": {}}
    if args.baseline_rev:
        envs["base"] = {"LUNAROUTE_RECORDING_SRC": str(extract_recording(args.baseline_rev, work))}
    labels = list(envs)
    body = work / "oai.json"
    body.write_bytes(request_body(SCENARIOS["oai"]))
    load = [os.getloadavg()]
    try:
        mock = start_mock(work, render_mock_conf(work, ports), ports.mock, cpu=1)
    except MockError as exc:
        raise SystemExit(str(exc)) from None
    rows: list[dict] = []
    try:
        for n in range(args.rounds):
            for label in labels[n % len(labels) :] + labels[: n % len(labels)]:  # the order rotates
                row = one_run(label, configs[label], work, ports, body, args, envs[label])
                row["round"] = n + 1
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    finally:
        stop_mock(mock)
    load.append(os.getloadavg())
    (work / "results.json").write_text(json.dumps({"args": vars(args) | {"scratch": str(args.scratch)}, "runs": rows}))
    print(render(rows, args, load))
    print(f"(runs and logs in {work})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
