#!/usr/bin/env python3
"""LunaRoute end-to-end benchmark: LunaRoute (and optionally LiteLLM) against direct-to-upstream.

    python bench/e2e/run_bench.py                 # full run (~15 min): c=1,16,64,256, 10 s runs
    python bench/e2e/run_bench.py --quick         # smoke test (~3 min): 2 s runs, c=1,64,256
    python bench/e2e/run_bench.py --with-litellm  # also LiteLLM (bash bench/e2e/setup.sh --with-litellm)
    python bench/e2e/run_bench.py --with-rust-peer --with-nginx-proxy --with-features
    python bench/e2e/run_bench.py --port-offset 100   # when the default ports are taken

Entries in order: `direct` (wrk -> nginx mock: the floor), `nginx-proxy` (--with-nginx-proxy),
`lunaroute` (`lunaroute-rec` with --with-recording, `lunaroute-pii` with --with-pii,
`lunaroute-features` with --with-features), `lunaroute-rs` (the Rust LunaRoute, --with-rust-peer),
`litellm` (--with-litellm), `direct-end` (the floor again: drift).
Pinning: gateway (1 worker) on CPU 0; nginx mock, wrk and the TTFB client on CPU 1.
Writes bench/results/<stamp>/{report.md, results.json, *.png}; scratch (logs, rendered configs,
LunaRoute's data dir) goes to /tmp/lunaroute-e2e/run-<stamp>/. See bench/e2e/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable (PEP 366)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "bench.e2e"

from . import gateways, plots, report_md, summary
from .configs import Ports, render_mock_conf
from .http_probe import port_busy
from .measure import EntryRunner, Settings
from .quiet import log
from .scenarios import SCENARIOS, request_body
from .upstream_mock import MockError, start_mock, stop_mock
from .wrk_run import WrkSettings

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results"


def sh(cmd: list[str]) -> str | None:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=REPO)
        return (r.stdout.strip() or r.stderr.strip()) or None
    except (OSError, subprocess.SubprocessError):
        return None


def read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def rust_peer_version(binary: Path) -> str | None:
    return sh([str(binary), "--version"]) if os.access(binary, os.X_OK) else None


def machine_facts(with_litellm: bool, rust_peer_bin: Path | None = None) -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    return {
        "host": platform.node(),
        "kernel": platform.release(),
        "cpu_model": cpu,
        "cpus": os.cpu_count(),
        "mem_total_kb": int(next(ln.split()[1] for ln in open("/proc/meminfo") if ln.startswith("MemTotal"))),
        "cpuidle_driver": read("/sys/devices/system/cpu/cpuidle/current_driver"),
        "nginx": sh(["nginx", "-v"]),
        "wrk": (sh(["wrk", "-v"]) or "wrk ?").split("Copyright")[0].strip(),
        "python": platform.python_version(),
        "lunaroute_version": sh([sys.executable, "-c", "import lunaroute; print(lunaroute.__version__)"]),
        "git_commit": sh(["git", "rev-parse", "--short", "HEAD"]),
        "git_dirty": bool(sh(["git", "status", "--porcelain", "--untracked-files=no"])),
        "litellm": (
            sh(
                [
                    str(gateways.LITELLM_VENV / "bin" / "python"),
                    "-c",
                    "import importlib.metadata as m; print(m.version('litellm'))",
                ]
            )
            if with_litellm
            else None
        ),
        "lunaroute_rs": rust_peer_version(rust_peer_bin) if rust_peer_bin else None,
        "loadavg_at_start": read("/proc/loadavg"),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 2 s runs, c=1,64,256, 1 s warm-up/verify, "
        "short quiet wait, no retries, no closing direct run",
    )
    ap.add_argument("--duration", type=float, help="seconds per measured wrk run (default 10; quick 2)")
    ap.add_argument("--warmup", type=float, help="seconds of c=16 warm-up per scenario (default 3; quick 1)")
    ap.add_argument("--verify", type=float, help="seconds of the body-checking pass per scenario (default 3; quick 1)")
    ap.add_argument("--conc", help="wrk concurrencies (default 1,16,64,256; quick 1,64,256)")
    ap.add_argument("--ttfb-conc", help="TTFB client concurrencies (default 1)")
    ap.add_argument("--ttfb-duration", type=float, help="seconds per TTFB pass, at most (default 5; quick 1)")
    ap.add_argument("--ttfb-max-requests", type=int, default=5000, help="measured streams per TTFB pass, at most")
    ap.add_argument(
        "--with-litellm",
        action="store_true",
        help="also measure LiteLLM (from $LITELLM_VENV, default /tmp/litellm-venv)",
    )
    ap.add_argument("--with-recording", action="store_true", help="also measure LunaRoute with session recording on")
    ap.add_argument("--with-pii", action="store_true", help="also measure LunaRoute with PII redaction on (mask)")
    ap.add_argument(
        "--with-features",
        action="store_true",
        help="also measure LunaRoute with a client key, a rate limit, a budget, PII redaction and recording, all on",
    )
    ap.add_argument(
        "--with-rust-peer",
        action="store_true",
        help="also measure the public Rust LunaRoute (erans/lunaroute; build: bash bench/e2e/rust-peer/build.sh)",
    )
    ap.add_argument(
        "--rust-peer-bin",
        type=Path,
        default=gateways.RUST_PEER_BIN,
        help="its lunaroute-server binary (default $LUNAROUTE_RS_BIN, else bench/e2e/rust-peer/target/release/)",
    )
    ap.add_argument(
        "--with-nginx-proxy",
        action="store_true",
        help="also measure nginx proxy_pass in front of the mock (1 worker on the gateway CPU): one proxy hop",
    )
    ap.add_argument(
        "--scenarios",
        help=f"only these scenarios (comma list of {', '.join(SCENARIOS)}); direct runs their baselines",
    )
    ap.add_argument("--no-lunaroute", action="store_true", help="leave LunaRoute out (e.g. only direct + LiteLLM)")
    ap.add_argument(
        "--lunaroute-cmd",
        help="command that takes `serve --config-dir D --data-dir D` (default: `<this python> -m lunaroute`)",
    )
    ap.add_argument(
        "--port-offset",
        type=int,
        default=0,
        help="add N to every port (mock 18000, LunaRoute 8080/8081/9090, LiteLLM 4000)",
    )
    ap.add_argument("--no-drift", action="store_true", help="skip the closing direct run")
    ap.add_argument("--quiet-threshold", type=float, default=5.0, help="outside work allowed, %% of one CPU")
    ap.add_argument(
        "--quiet-wait",
        type=float,
        help="seconds to wait for a quiet machine before a run (default 300; quick 5; 0 = never wait)",
    )
    ap.add_argument("--retries", type=int, help="repeats of a disturbed run (default 2; quick 0)")
    ap.add_argument("--gateway-cpu", type=int, default=0)
    ap.add_argument("--load-cpu", type=int, default=1)
    ap.add_argument("--out-dir", type=Path, help="report directory (default bench/results/<stamp>[-quick])")
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/lunaroute-e2e"), help="root of scratch dirs")
    ap.add_argument(
        "--write-bodies",
        type=Path,
        metavar="DIR",
        help="only write every scenario's request body to DIR (for manual wrk runs) and exit",
    )
    args = ap.parse_args(argv)
    q = args.quick
    args.duration = args.duration if args.duration is not None else (2.0 if q else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if q else 3.0)
    args.verify = args.verify if args.verify is not None else (1.0 if q else 3.0)
    args.ttfb_duration = args.ttfb_duration if args.ttfb_duration is not None else (1.0 if q else 5.0)
    args.quiet_wait = args.quiet_wait if args.quiet_wait is not None else (5.0 if q else 300.0)
    args.retries = args.retries if args.retries is not None else (0 if q else 2)
    try:
        args.concs = [int(c) for c in (args.conc or ("1,64,256" if q else "1,16,64,256")).split(",") if c]
        args.ttfb_concs = [int(c) for c in (args.ttfb_conc or "1").split(",") if c]
    except ValueError:
        ap.error("--conc and --ttfb-conc take comma-separated integers")
    if not args.concs or min(args.concs + args.ttfb_concs) < 1:
        ap.error("concurrencies must be positive integers")
    if args.duration < 1:
        ap.error("--duration must be at least 1 second (wrk's resolution)")
    args.scenario_names = [s for s in (args.scenarios or "").split(",") if s] or list(SCENARIOS)
    unknown = [s for s in args.scenario_names if s not in SCENARIOS]
    if unknown:
        ap.error(f"unknown scenario(s): {', '.join(unknown)}")
    if q:
        args.no_drift = True
    return args


def preflight(args: argparse.Namespace, ports: Ports) -> None:
    for tool in ("nginx", "wrk", "taskset"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found: run bash bench/e2e/setup.sh")
    if (os.cpu_count() or 1) < 2 or max(args.gateway_cpu, args.load_cpu) >= (os.cpu_count() or 1):
        raise SystemExit("needs 2 CPUs (gateway on --gateway-cpu, wrk + mock on --load-cpu)")
    want = (
        [ports.mock]
        + ([] if args.no_lunaroute else [ports.openai, ports.anthropic, ports.metrics])
        + ([ports.litellm] if args.with_litellm else [])
        + ([ports.rust_peer] if args.with_rust_peer else [])
        + ([ports.nginx_proxy] if args.with_nginx_proxy else [])
    )
    busy = [p for p in want if port_busy(p)]
    if busy:
        raise SystemExit(
            f"ports already in use on 127.0.0.1: {busy}; stop what holds them or pass --port-offset N (e.g. 100)"
        )


def restrict(spec: gateways.GatewaySpec, names: list[str]) -> gateways.GatewaySpec:
    """Keep the entry's scenarios that are in `names`; the bare mock keeps their baselines."""
    if spec.skipped:
        return spec
    wanted = {SCENARIOS[n].baseline for n in names} if spec.cmd is None else set(names)
    spec.scenarios = tuple(s for s in spec.scenarios if s in wanted)
    if not spec.scenarios:
        spec.skipped = "none of its scenarios is in --scenarios"
    return spec


def entries(args: argparse.Namespace, ports: Ports, work: Path) -> list[gateways.GatewaySpec]:
    out = [gateways.direct_spec(ports)]
    if args.with_nginx_proxy:
        out.append(gateways.nginx_proxy_spec(ports, work))
    if not args.no_lunaroute:
        out.append(gateways.lunaroute_spec(ports, work, args.lunaroute_cmd))
        if args.with_recording:
            out.append(gateways.lunaroute_spec(ports, work, args.lunaroute_cmd, recording=True))
        if args.with_pii:
            out.append(gateways.lunaroute_spec(ports, work, args.lunaroute_cmd, pii=True))
        if args.with_features:
            out.append(gateways.lunaroute_features_spec(ports, work, args.lunaroute_cmd))
    if args.with_rust_peer:
        out.append(gateways.rust_peer_spec(ports, work, args.rust_peer_bin))
    if args.with_litellm:
        out.append(gateways.litellm_spec(ports, work))
    if not args.no_drift:
        out.append(gateways.direct_spec(ports, name="direct-end"))
    return [restrict(spec, args.scenario_names) for spec in out]


def on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the `finally`s that stop the gateway and the mock


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.write_bodies:
        args.write_bodies.mkdir(parents=True, exist_ok=True)
        for scen in SCENARIOS.values():
            (args.write_bodies / f"{scen.name}.json").write_bytes(request_body(scen))
        return 0
    ports = Ports.with_offset(args.port_offset)
    preflight(args, ports)
    stamp = time.strftime("%Y%m%d-%H%M%S") + ("-quick" if args.quick else "")
    work = args.scratch / f"run-{stamp}"
    work.mkdir(parents=True, exist_ok=True)
    out_dir = args.out_dir or RESULTS / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        concs=args.concs,
        duration_s=args.duration,
        warmup_s=args.warmup,
        verify_s=args.verify,
        ttfb_concs=args.ttfb_concs,
        ttfb_duration_s=args.ttfb_duration,
        ttfb_max_requests=args.ttfb_max_requests,
        retries=args.retries,
        gateway_cpu=args.gateway_cpu,
        load_cpu=args.load_cpu,
        quiet_threshold_pct=args.quiet_threshold,
        quiet_max_wait_s=args.quiet_wait,
        wrk=WrkSettings(load_cpu=args.load_cpu),
    )
    doc: dict = {
        "meta": {
            "stamp": stamp,
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": " ".join(["python bench/e2e/run_bench.py"] + (argv if argv is not None else sys.argv[1:])),
            "scratch": str(work),
            "ports": ports.as_dict(),
            "machine": machine_facts(args.with_litellm, args.rust_peer_bin if args.with_rust_peer else None),
            "settings": {
                "quick": args.quick,
                "concurrency": args.concs,
                "duration_s": args.duration,
                "warmup_s": args.warmup,
                "verify_s": args.verify,
                "ttfb_concurrency": args.ttfb_concs,
                "ttfb_duration_s": args.ttfb_duration,
                "ttfb_max_requests": args.ttfb_max_requests,
                "retries": args.retries,
                "gateway_cpu": args.gateway_cpu,
                "load_cpu": args.load_cpu,
                "scenarios": args.scenario_names,
                "quiet_threshold_pct": args.quiet_threshold,
                "quiet_max_wait_s": args.quiet_wait,
                "wrk_threads": 1,
                "wrk_timeout_s": settings.wrk.timeout_s,
            },
        },
        "results": {},
    }
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        mock = start_mock(work, render_mock_conf(work, ports), ports.mock, cpu=args.load_cpu)
    except MockError as e:
        raise SystemExit(str(e)) from None
    log(f"mock nginx up on 127.0.0.1:{ports.mock} (pid {mock.pid}); scratch {work}")
    try:
        for spec in entries(args, ports, work):
            if spec.skipped:
                log(f"{spec.name}: skipped: {spec.skipped}")
                doc["results"][spec.name] = {"name": spec.name, "skipped": spec.skipped}
                continue
            log(f"=== {spec.name}")
            entry_dir = work / spec.name
            entry_dir.mkdir(parents=True, exist_ok=True)
            doc["results"][spec.name] = EntryRunner(spec, settings, entry_dir, mock.pid).run()
            if mock.poll() is not None:
                raise SystemExit("the nginx mock died during the run")
    finally:
        stop_mock(mock)
    doc["meta"]["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    doc["meta"]["loadavg_at_end"] = read("/proc/loadavg")
    doc["summary"] = summary.summarize(doc["results"])
    problems = summary.gateway_problems(doc["results"])
    doc["summary"]["lunaroute_problems"] = problems
    doc["summary"]["peer_problems"] = summary.gateway_problems(doc["results"], summary.PEER_ENTRIES)
    doc["summary"]["features_ratio"] = summary.feature_ratios(doc["summary"]["rows"], args.concs)
    files, note = plots.write_plots(doc["summary"]["rows"], args.concs, args.ttfb_concs, out_dir)
    doc["meta"]["plots"] = files
    with open(out_dir / "results.json", "w") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
    (out_dir / "report.md").write_text(report_md.render(doc, files, note, problems) + "\n")
    for p in problems:
        log(f"LUNAROUTE PROBLEM: {p}")
    log(f"report: {out_dir / 'report.md'}  (scratch: {work})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
