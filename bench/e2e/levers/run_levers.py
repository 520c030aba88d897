#!/usr/bin/env python3
"""granian's levers, measured in one sitting: LunaRoute under each setting, and the floor
granian itself imposes (minimal RSGI apps under the granian CLI, runtime modes st and mt).

    python bench/e2e/levers/run_levers.py                       # the whole sitting (~14 min)
    python bench/e2e/levers/run_levers.py --rounds 1 --duration 1 --only default,loop=rloop --floor empty-st-uvloop

Each round measures every setting once (round 2 in reverse order, so drift hits every setting
alike); a setting's figures are compared with the default's of the same round. LunaRoute:
`serve_with.py` (1 worker, pinned to CPU 0) on `oai` and `oai_stream`; floor apps on `oai`.
wrk (1 thread) and the nginx mock on CPU 1. Per run: req/s at c=16 and c=1, p50/p99, the
gateway's CPU µs per request from /proc (whole process tree, and split by thread).
Writes bench/results/<stamp>-levers/{report.md, results.json}; scratch in /tmp/lunaroute-levers/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable (PEP 366)
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    __package__ = "bench.e2e.levers"

from .. import gateways
from ..configs import Ports, render_mock_conf
from ..http_probe import port_busy
from ..measure import Settings
from ..quiet import QuietGuard, Tracked, log
from ..run_bench import machine_facts, read
from ..upstream_mock import MockError, start_mock, stop_mock
from ..wrk_run import WrkSettings
from . import report, settings
from .granian_facts import granian_facts
from .runner import LeverRunner

REPO = Path(__file__).resolve().parents[3]
RESULTS = REPO / "bench" / "results"
SCENARIOS = ("oai", "oai_stream")
FLOOR_SCENARIOS = ("oai",)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2, help="repeats of every setting, alternating order")
    ap.add_argument("--duration", type=float, default=3.0, help="seconds per measured wrk run")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds of c=16 warm-up per scenario")
    ap.add_argument("--verify", type=float, default=1.0, help="seconds of the body-checking pass (0 = none)")
    ap.add_argument("--conc", default="16,1", help="wrk concurrencies")
    ap.add_argument("--only", help="LunaRoute settings to measure (comma list of names; default all)")
    ap.add_argument("--floor", help="floor settings to measure (comma list of app-mode-loop; 'none' for none)")
    ap.add_argument("--port-offset", type=int, help="add N to every bench port (default: the first free of 700..1500)")
    ap.add_argument(
        "--extra-site",
        type=Path,
        default=Path("/tmp/lunaroute-levers/site"),
        help="directory with the bench-only packages (rloop), put first on every gateway's PYTHONPATH",
    )
    ap.add_argument("--quiet-threshold", type=float, default=10.0, help="outside work that marks a run disturbed")
    ap.add_argument("--quiet-wait", type=float, default=0.0, help="seconds to wait for a quiet machine per run")
    ap.add_argument("--retries", type=int, default=0, help="repeats of a disturbed run")
    ap.add_argument(
        "--start-quiet-wait",
        type=float,
        default=60.0,
        help="seconds to wait, once, for a quiet machine before starting",
    )
    ap.add_argument("--out-dir", type=Path)
    ap.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: summarize that results.json again and rewrite it and report.md beside it",
    )
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/lunaroute-levers"))
    args = ap.parse_args(argv)
    args.concs = [int(c) for c in args.conc.split(",") if c]
    names = {s.name: s for s in settings.LUNA_SETTINGS}
    wanted = [n for n in (args.only or "").split(",") if n] or list(names)
    if "default" not in wanted:
        wanted.insert(0, "default")  # every ratio is to the default of the same round
    unknown = [n for n in wanted if n not in names]
    if unknown:
        ap.error(f"unknown setting(s) {unknown}; known: {', '.join(names)}")
    args.luna = [names[n] for n in wanted]
    floors = {s.name: s for s in settings.FLOOR_SETTINGS}
    if args.floor == "none":
        args.floors = []
    else:
        fw = [n for n in (args.floor or "").split(",") if n] or list(floors)
        bad = [n for n in fw if n not in floors]
        if bad:
            ap.error(f"unknown floor setting(s) {bad}; known: {', '.join(floors)}")
        args.floors = [floors[n] for n in fw]
    return args


def free_offset(preferred: int | None) -> tuple[int, Ports]:
    candidates = [preferred] if preferred is not None else list(range(700, 1600, 100))
    for off in candidates:
        ports = Ports.with_offset(off)
        if not any(port_busy(p) for p in (ports.mock, ports.openai, ports.anthropic, ports.metrics)):
            return off, ports
    raise SystemExit(f"no free port set among offsets {candidates}")


def rloop_available(site: Path) -> str | None:
    """rloop's version when importable with `site` first on the path, else None."""
    import subprocess

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p))
    r = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as m; print(m.version('rloop'))"],
        env=env,
        capture_output=True,
        text=True,
    )
    return r.stdout.strip() if r.returncode == 0 else None


def with_site(spec: gateways.GatewaySpec, site: Path, extra: dict[str, str] | None = None) -> gateways.GatewaySpec:
    path = [str(site), str(REPO), os.environ.get("PYTHONPATH", "")]
    spec.env["PYTHONPATH"] = os.pathsep.join(p for p in path if p)
    spec.env.update(extra or {})
    return spec


def luna_spec(s: settings.LunaSetting, ports: Ports, work: Path, site: Path) -> gateways.GatewaySpec:
    spec = gateways.lunaroute_spec(ports, work, s.command(), scenarios=SCENARIOS)
    spec.name = s.name
    spec.startup_timeout_s = 60.0
    return with_site(spec, site)


def floor_spec(s: settings.FloorSetting, ports: Ports, site: Path) -> gateways.GatewaySpec:
    spec = gateways.GatewaySpec(
        s.name, s.command(ports.openai), ports.openai, ports.openai, FLOOR_SCENARIOS, startup_timeout_s=60.0
    )
    return with_site(spec, site, {"LEVERS_UPSTREAM_PORT": str(ports.mock)})


def measure(spec: gateways.GatewaySpec, run_settings: Settings, work: Path, mock_pid: int) -> dict:
    entry_dir = work / f"{spec.name}-{time.monotonic_ns()}"
    entry_dir.mkdir(parents=True)
    return LeverRunner(spec, run_settings, entry_dir, mock_pid).run()


def on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the `finally`s that stop the gateway and the mock


def write_report(doc: dict, out_dir: Path) -> None:
    doc["summary"] = report.summarize(doc)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    (out_dir / "report.md").write_text(report.render(doc) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        write_report(json.loads(args.render.read_text()), args.render.parent)
        log(f"report: {args.render.parent / 'report.md'}")
        return 0
    for tool in ("nginx", "wrk", "taskset"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found: run bash bench/e2e/setup.sh")
    offset, ports = free_offset(args.port_offset)
    rloop_version = rloop_available(args.extra_site)
    skipped: dict[str, str] = {}
    if rloop_version is None:
        why = f"rloop not importable (pip install --target {args.extra_site} -r bench/e2e/levers/requirements.txt)"
        skipped.update({s.name: why for s in args.luna if "rloop" in s.args})
        skipped.update({s.name: why for s in args.floors if s.loop == "rloop"})
        args.luna = [s for s in args.luna if s.name not in skipped]
        args.floors = [s for s in args.floors if s.name not in skipped]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    work = args.scratch / f"run-{stamp}"
    work.mkdir(parents=True, exist_ok=True)
    out_dir = args.out_dir or RESULTS / f"{stamp}-levers"
    run_settings = Settings(
        concs=args.concs,
        duration_s=args.duration,
        warmup_s=args.warmup,
        verify_s=args.verify,
        ttfb_concs=[],
        retries=args.retries,
        quiet_threshold_pct=args.quiet_threshold,
        quiet_max_wait_s=args.quiet_wait,
        wrk=WrkSettings(load_cpu=1),
    )
    doc: dict = {
        "meta": {
            "stamp": stamp,
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": " ".join(["python bench/e2e/levers/run_levers.py"] + (argv or sys.argv[1:])),
            "ports": ports.as_dict(),
            "port_offset": offset,
            "machine": machine_facts(False),
            "rloop": rloop_version,
            "granian": granian_facts(),
            "settings": {
                "rounds": args.rounds,
                "duration_s": args.duration,
                "warmup_s": args.warmup,
                "verify_s": args.verify,
                "concurrency": args.concs,
                "scenarios": list(SCENARIOS),
                "floor_scenarios": list(FLOOR_SCENARIOS),
                "quiet_threshold_pct": args.quiet_threshold,
                "quiet_wait_s": args.quiet_wait,
                "gateway_cpu": 0,
                "load_cpu": 1,
            },
            "luna_settings": [
                {"name": s.name, "lever": s.lever, "args": list(s.args), "note": s.note} for s in args.luna
            ],
            "floor_settings": [s.name for s in args.floors],
            "skipped": skipped,
        },
        "runs": [],
    }
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        mock = start_mock(work, render_mock_conf(work, ports), ports.mock, cpu=1)
    except MockError as e:
        raise SystemExit(str(e)) from None
    log(f"mock nginx on 127.0.0.1:{ports.mock} (pid {mock.pid}); scratch {work}")
    try:
        if args.start_quiet_wait > 0:
            guard = QuietGuard(Tracked(mock_pid=mock.pid), args.quiet_threshold, args.start_quiet_wait)
            waited, busy = guard.wait()
            doc["meta"]["start_quiet_wait"] = {"waited_s": waited, "busy_when_started": busy}
        for rnd in range(args.rounds):
            luna = args.luna if rnd % 2 == 0 else list(reversed(args.luna))
            for s in luna:
                log(f"=== round {rnd + 1}: lunaroute {s.name}")
                res = measure(luna_spec(s, ports, work, args.extra_site), run_settings, work, mock.pid)
                doc["runs"].append({"kind": "lunaroute", "setting": s.name, "round": rnd, "result": res})
                if mock.poll() is not None:
                    raise SystemExit("the nginx mock died during the run")
            floors = args.floors if rnd % 2 == 0 else list(reversed(args.floors))
            for f in floors:
                log(f"=== round {rnd + 1}: floor {f.name}")
                res = measure(floor_spec(f, ports, args.extra_site), run_settings, work, mock.pid)
                doc["runs"].append({"kind": "floor", "setting": f.name, "round": rnd, "result": res})
                if mock.poll() is not None:
                    raise SystemExit("the nginx mock died during the run")
    finally:
        stop_mock(mock)
    doc["meta"]["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    doc["meta"]["loadavg_at_end"] = read("/proc/loadavg")
    write_report(doc, out_dir)
    log(f"report: {out_dir / 'report.md'}  (scratch: {work})")
    return 1 if doc["summary"]["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
