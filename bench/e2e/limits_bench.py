#!/usr/bin/env python3
"""Passthrough throughput with rate limits and budgets on, against the same gateway without.

    python bench/e2e/limits_bench.py                          # oai, c=16, 5 rounds of 8 s runs
    python bench/e2e/limits_bench.py --scenarios oai,anth --rounds 3 --duration 5
    python bench/e2e/limits_bench.py --variants bare,key,file,redis   # + the key's own cost

Variants of bench/e2e/lunaroute-config, run in turn — bare, file, redis, bare, file, redis...
— against one nginx mock, so a noisy shared machine drifts over all of them alike:

- `bare`: the stock config (local mode: no key, no limit);
- `key`: one client key (argon2id), no limit: what authentication alone costs;
- `file`: that key with a rate limit far above what a run sends and a budget of two windows
  (daily tokens/requests/cost, monthly cost) that no run reaches, counters on the `file`
  backend (shared memory);
- `redis`: the same on the `redis` backend, a redis-server on loopback pinned with the mock
  and wrk to CPU 1 (the gateway has CPU 0 to itself, as in run_bench.py).

Each file and redis run is checked afterwards with `lunaroute budgets --json`: the budget counted at
least every request wrk completed, so the limits were really on. Reported per variant: req/s
of every run, the ratio to the bare run of the same round (min / median), the gateway's CPU
µs per request and Redis's. Writes bench/results/<date>-limits/report.md and results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable (PEP 366)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "bench.e2e"

from . import gateways, procfs
from .configs import LIMITS_VARIANTS, Ports, render_limits_config, render_lunaroute_config, render_mock_conf
from .http_probe import port_busy, wait_first_200
from .quiet import Tracked, Window, log
from .scenarios import SCENARIOS, request_body
from .upstream_mock import MockError, start_mock, stop_group, stop_mock
from .wrk_run import WrkSettings, run_wrk

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results"
VARIANTS = ("bare", *LIMITS_VARIANTS)
WARMUP_S = 2.0
TARGETS = {"file": 0.90, "redis": 0.75}  # issue 12: req/s with limits ÷ req/s without


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", default="oai", help=f"comma list of: {', '.join(SCENARIOS)}")
    ap.add_argument("--variants", default="bare,file,redis", help=f"comma list of: {', '.join(VARIANTS)}")
    ap.add_argument("--rounds", type=int, default=5, help="runs of every variant per scenario, in turn")
    ap.add_argument("--duration", type=float, default=8.0, help="seconds per measured wrk run")
    ap.add_argument("--conc", type=int, default=16)
    ap.add_argument("--port-offset", type=int, default=0)
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/lunaroute-e2e"))
    ap.add_argument("--out-dir", type=Path, default=None, help="default: bench/results/<date>-limits")
    args = ap.parse_args(argv)
    unknown = [s for s in args.scenarios.split(",") if s not in SCENARIOS]
    if unknown:
        ap.error(f"unknown scenario(s): {', '.join(unknown)}")
    args.variants = args.variants.split(",")
    if "bare" not in args.variants or any(v not in VARIANTS for v in args.variants):
        ap.error(f"--variants: bare and any of {', '.join(LIMITS_VARIANTS)}")
    return args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(work: Path, cpu: int) -> tuple[subprocess.Popen, int]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("limits_bench: redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    cmd = ["taskset", "-c", str(cpu), binary, "--port", str(port), "--bind", "127.0.0.1"]
    cmd += ["--save", "", "--appendonly", "no", "--dir", str(work)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(200):
        if port_busy(port):
            return proc, port
        time.sleep(0.05)
    stop_group(proc)
    raise SystemExit("limits_bench: redis-server did not start")


class BenchTracked(Tracked):
    """The mock's process group and redis-server count as the benchmark's own load side."""

    def __init__(self, gateway_pid: int, mock_pid: int, redis_pid: int) -> None:
        super().__init__(gateway_pid=gateway_pid, mock_pid=mock_pid)
        self.redis_pid = redis_pid

    def mock_pids(self) -> list[int]:
        return super().mock_pids() + procfs.descendants(self.redis_pid)


def budget_requests(config: Path, data: Path) -> int:
    """Requests the bench budget's daily window has counted (`lunaroute budgets --json`)."""
    out = subprocess.run(
        [sys.executable, "-m", "lunaroute", "budgets", "--json", "--config-dir", str(config), "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    snap = json.loads(out.stdout)
    daily = next(w for w in snap["budgets"][0]["windows"] if w["type"] == "daily")
    return int(daily["usage"]["requests"])


class Bench:
    def __init__(self, args: argparse.Namespace, ports: Ports, work: Path, mock_pid: int, redis: tuple) -> None:
        from lunaroute.tenancy.keys import generate_key, hash_key

        self.args = args
        self.ports = ports
        self.work = work
        self.mock_pid = mock_pid
        self.redis_proc, redis_port = redis
        self.key = generate_key()
        key_hash = hash_key(self.key)  # as `lunaroute keys create` writes it
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        self.configs = {"bare": render_lunaroute_config(work, ports, name="lunaroute-bare-config")}
        for variant in LIMITS_VARIANTS:
            self.configs[variant] = render_limits_config(work, ports, variant, key_hash, redis_url)
        self.counted = {"file": 0, "redis": 0}  # redis keeps counting over the rounds

    def one_run(self, variant: str, scen_name: str, body_file: Path) -> dict:
        scen = SCENARIOS[scen_name]
        keyed = variant != "bare"
        run_dir = self.work / f"{variant}-{scen_name}-{time.monotonic_ns()}"
        data = run_dir / "data"
        data.mkdir(parents=True)
        config = self.configs[variant]
        env = {"LUNAROUTE_BENCH_UPSTREAM_KEY": "dummy"}
        cmd = [sys.executable, "-m", "lunaroute", "serve", "--config-dir", str(config), "--data-dir", str(data)]
        spec = gateways.GatewaySpec(variant, cmd, self.ports.openai, self.ports.anthropic, (scen_name,), env=env)
        running = gateways.start_gateway(spec, run_dir, cpu=0)
        api_key = self.key if keyed else None
        settings = WrkSettings(load_cpu=1)
        port = spec.port_for(scen)
        try:
            first, _, err = wait_first_200(running.proc, port, scen, 60.0, running.spawned_at, api_key)
            if err:
                raise SystemExit(f"{variant}: {err}; log: {running.log_path}")
            warm = run_wrk(settings, port, scen, self.args.conc, WARMUP_S, str(body_file), api_key=api_key)
            tracked = BenchTracked(running.proc.pid, self.mock_pid, self.redis_proc.pid)
            redis0 = procfs.cpu_seconds([self.redis_proc.pid])
            window = Window(tracked)
            window.start()
            res = run_wrk(settings, port, scen, self.args.conc, self.args.duration, str(body_file), api_key=api_key)
            acct = window.stop()
            redis_cpu = procfs.cpu_seconds([self.redis_proc.pid]) - redis0
        finally:
            code = gateways.stop_gateway(running.proc)
        errors = res["error_total"] + warm["error_total"]
        if errors:
            raise SystemExit(f"{variant} {scen_name}: {errors} wrk errors {res['errors']}; log: {running.log_path}")
        row = {
            "variant": variant,
            "scenario": scen_name,
            "rps": res["rps"],
            "requests": res["requests"],
            "p50_us": res["latency_us"]["p50"],
            "p99_us": res["latency_us"]["p99"],
            "gateway_cpu_us_per_req": round(1e6 * acct["gateway_cpu_s"] / res["requests"], 1),
            "redis_cpu_us_per_req": round(1e6 * redis_cpu / res["requests"], 1) if variant == "redis" else None,
            "foreign_cpu_pct": acct["foreign_cpu_pct"],
            "first_200_s": round(first or 0.0, 3),
            "exit_code": code,
        }
        if variant in TARGETS:
            total = budget_requests(config, data)
            counted = total - self.counted[variant] if variant == "redis" else total
            self.counted[variant] = total
            if counted < res["requests"] + warm["requests"]:
                raise SystemExit(f"{variant}: the budget counted {counted} requests, wrk completed more: limits off?")
            row["budget_counted"] = counted
        return row


def summarize(rows: list[dict]) -> list[dict]:
    """Per scenario and variant: its req/s ÷ the bare run of the same round."""
    out = []
    for scen in dict.fromkeys(r["scenario"] for r in rows):
        bare = [r for r in rows if r["scenario"] == scen and r["variant"] == "bare"]
        for variant in LIMITS_VARIANTS:
            mine = [r for r in rows if r["scenario"] == scen and r["variant"] == variant]
            if not mine:
                continue
            ratios = [m["rps"] / b["rps"] for b, m in zip(bare, mine) if b["rps"]]
            cpu = [m["gateway_cpu_us_per_req"] for m in mine]
            cpu_bare = [b["gateway_cpu_us_per_req"] for b in bare]
            out.append(
                {
                    "scenario": scen,
                    "variant": variant,
                    "ratio_min": round(min(ratios), 3),
                    "ratio_median": round(statistics.median(ratios), 3),
                    "ratio_max": round(max(ratios), 3),
                    "target": TARGETS.get(variant),
                    "met_by_median": statistics.median(ratios) >= TARGETS[variant] if variant in TARGETS else None,
                    "gateway_cpu_us_median": statistics.median(cpu),
                    "bare_cpu_us_median": statistics.median(cpu_bare),
                    "added_cpu_us_median": round(statistics.median(c - b for c, b in zip(cpu, cpu_bare)), 1),
                    "redis_cpu_us_median": statistics.median(r["redis_cpu_us_per_req"] for r in mine)
                    if variant == "redis"
                    else None,
                }
            )
    return out


def render(rows: list[dict], summary: list[dict], args: argparse.Namespace, facts: dict) -> str:
    lines = [
        "# Passthrough with a key, a rate limit and a budget vs without (issue 12)",
        "",
        f"{facts['date']}, commit {facts['commit']}, {facts['cpus']} CPUs, load average at start "
        f"{facts['loadavg']}. wrk c={args.conc}, {args.duration:g} s per run after a {WARMUP_S:g} s "
        f"warm-up, runs alternating {' / '.join(args.variants)}, {args.rounds} round(s) per scenario; gateway "
        "(1 worker) on CPU 0, nginx mock, redis-server and wrk on CPU 1. Ratio = req/s of the "
        "variant ÷ req/s of the bare run of the same round.",
        "",
        "| scenario | variant | ratio min | ratio median | target | gateway CPU µs/req (median) | "
        "added CPU µs/req | Redis CPU µs/req |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        redis_cpu = "-" if s["redis_cpu_us_median"] is None else f"{s['redis_cpu_us_median']:.0f}"
        target = "-" if s["target"] is None else f"≥ {s['target']:.2f}"
        lines.append(
            f"| {s['scenario']} | {s['variant']} | {s['ratio_min']:.2f} | {s['ratio_median']:.2f} | "
            f"{target} | {s['gateway_cpu_us_median']:.0f} (bare {s['bare_cpu_us_median']:.0f}) | "
            f"{s['added_cpu_us_median']:+.0f} | {redis_cpu} |"
        )
    lines += ["", "Every run (req/s, p50 µs, gateway CPU µs/req, other work on the machine % of a CPU):", ""]
    lines += [f"| scenario | round | {' | '.join(args.variants)} |", "|---|---|" + "---|" * len(args.variants)]
    for scen in dict.fromkeys(r["scenario"] for r in rows):
        by = {v: [r for r in rows if r["scenario"] == scen and r["variant"] == v] for v in args.variants}
        for i in range(len(by["bare"])):
            cells = [
                f"{r['rps']:,.0f} / {r['p50_us']} / {r['gateway_cpu_us_per_req']:.0f} / {r['foreign_cpu_pct']:.0f}%"
                for r in (by[v][i] for v in args.variants)
            ]
            lines.append(f"| {scen} | {i + 1} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ports = Ports.with_offset(args.port_offset)
    busy = [p for p in (ports.mock, ports.openai, ports.anthropic, ports.metrics) if port_busy(p)]
    if busy:
        raise SystemExit(f"limits_bench: ports in use: {busy} (try --port-offset)")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    work = args.scratch / f"limits-{stamp}"
    work.mkdir(parents=True)
    facts = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "commit": subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
        "cpus": os.cpu_count(),
        "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }
    try:
        mock = start_mock(work, render_mock_conf(work, ports), ports.mock, cpu=1)
    except MockError as e:
        raise SystemExit(str(e)) from None
    redis = start_redis(work, cpu=1)
    rows: list[dict] = []
    try:
        bench = Bench(args, ports, work, mock.pid, redis)
        for scen_name in args.scenarios.split(","):
            body_file = work / f"{scen_name}.json"
            body_file.write_bytes(request_body(SCENARIOS[scen_name]))
            for rnd in range(args.rounds):
                for variant in args.variants:
                    row = bench.one_run(variant, scen_name, body_file)
                    row["round"] = rnd + 1
                    log(
                        f"{variant} {scen_name} #{rnd + 1}: {row['rps']:,.0f} req/s p50 {row['p50_us']} µs, "
                        f"{row['gateway_cpu_us_per_req']:.0f} µs CPU/req, other work {row['foreign_cpu_pct']}%"
                    )
                    rows.append(row)
    finally:
        stop_group(redis[0])
        stop_mock(mock)
    summary = summarize(rows)
    out_dir = args.out_dir or RESULTS / f"{time.strftime('%Y%m%d')}-limits"
    out_dir.mkdir(parents=True, exist_ok=True)
    report = render(rows, summary, args, facts)
    (out_dir / "report.md").write_text(report)
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    doc = {"facts": facts, "settings": settings, "summary": summary, "runs": rows}
    (out_dir / "results.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(report)
    log(f"report: {out_dir / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
