#!/usr/bin/env python3
"""Throughput of two LunaRoute revisions, side by side in one sitting.

    python bench/e2e/compare_revisions.py --base HEAD~5
    python bench/e2e/compare_revisions.py --base v0.1.0 --scenarios oai,oai_stream --rounds 3

Why a separate driver: on a shared, noisy machine a figure from another day means nothing,
so "how much faster is this change" is measured as a ratio of runs taken in turn — base,
head, base, head — against the same nginx mock, with the same wrk script and pinning as
run_bench.py. The base revision is built from a git worktree into a private target
directory (Rust and Cython included) and run with it first on PYTHONPATH; the head is the
installed package. Prints a Markdown table and writes it with the raw runs under
bench/results/<stamp>-revisions/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable (PEP 366)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "bench.e2e"

from . import gateways
from .configs import Ports, render_mock_conf
from .http_probe import port_busy, wait_first_200
from .quiet import log
from .scenarios import SCENARIOS, request_body
from .upstream_mock import MockError, start_mock, stop_mock
from .wrk_run import WrkSettings, run_wrk

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="git revision to compare the installed package against")
    ap.add_argument("--scenarios", default="oai,oai_stream,oai_to_anth", help=f"comma list of: {', '.join(SCENARIOS)}")
    ap.add_argument("--rounds", type=int, default=2, help="base/head pairs per scenario")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    ap.add_argument("--conc", type=int, default=16)
    ap.add_argument("--port-offset", type=int, default=0)
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/lunaroute-e2e"))
    args = ap.parse_args(argv)
    unknown = [s for s in args.scenarios.split(",") if s not in SCENARIOS]
    if unknown:
        ap.error(f"unknown scenario(s): {', '.join(unknown)}")
    return args


def build_base(rev: str, work: Path) -> Path:
    """Install revision `rev` (compiled tiers included) into work/base-site; return that path."""
    src, site = work / "base-src", work / "base-site"
    sha = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", rev + "^{commit}"], capture_output=True, text=True
    )
    if sha.returncode != 0:
        raise SystemExit(f"compare_revisions: --base {rev!r} is not a commit of {REPO}")
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(src), sha.stdout.strip()],
        check=True,
        capture_output=True,
    )
    try:
        log(f"building {rev} ({sha.stdout.strip()[:10]}) into {site}")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--no-build-isolation",
                "--target",
                str(site),
                str(src),
            ],
            check=True,
        )
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(src)], capture_output=True)
    return site


def one_run(
    label: str, site: Path | None, scen_name: str, args: argparse.Namespace, ports: Ports, work: Path, body_file: Path
) -> dict:
    scen = SCENARIOS[scen_name]
    run_dir = work / f"{label}-{scen_name}-{time.monotonic_ns()}"
    run_dir.mkdir(parents=True)
    spec = gateways.lunaroute_spec(ports, run_dir)
    if site is not None:
        spec.env["PYTHONPATH"] = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    running = gateways.start_gateway(spec, run_dir, cpu=0)
    try:
        first, _, err = wait_first_200(running.proc, spec.port_for(scen), scen, 60.0, running.spawned_at)
        if err:
            raise SystemExit(f"{label}: {err}; log: {running.log_path}")
        res = run_wrk(WrkSettings(load_cpu=1), spec.port_for(scen), scen, args.conc, args.duration, str(body_file))
    finally:
        gateways.stop_gateway(running.proc)
    if res["error_total"]:
        raise SystemExit(f"{label} {scen_name}: {res['error_total']} wrk errors {res['errors']}")
    return {
        "label": label,
        "scenario": scen_name,
        "rps": res["rps"],
        "p50_us": res["latency_us"]["p50"],
        "p99_us": res["latency_us"]["p99"],
        "first_200_s": round(first or 0.0, 3),
    }


def render(rows: list[dict], args: argparse.Namespace) -> str:
    lines = [
        f"# {args.base} (base) vs the installed package (head)",
        "",
        f"wrk c={args.conc}, {args.duration:g} s per run, runs alternating base/head, "
        f"{args.rounds} pair(s) per scenario; gateway on CPU 0, mock and wrk on CPU 1.",
        "",
        "| scenario | base req/s | head req/s | head ÷ base (per pair) |",
        "|---|---|---|---|",
    ]
    for scen in dict.fromkeys(r["scenario"] for r in rows):
        base = [r["rps"] for r in rows if r["scenario"] == scen and r["label"] == "base"]
        head = [r["rps"] for r in rows if r["scenario"] == scen and r["label"] == "head"]
        ratios = [h / b for b, h in zip(base, head) if b]
        lines.append(
            f"| {scen} | {' / '.join(f'{v:,.0f}' for v in base)} | "
            f"{' / '.join(f'{v:,.0f}' for v in head)} | "
            f"{min(ratios):.2f}–{max(ratios):.2f}× |"
            if ratios
            else f"| {scen} | - | - | - |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ports = Ports.with_offset(args.port_offset)
    busy = [p for p in (ports.mock, ports.openai, ports.anthropic, ports.metrics) if port_busy(p)]
    if busy:
        raise SystemExit(f"compare_revisions: ports in use: {busy} (try --port-offset)")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    work = args.scratch / f"revisions-{stamp}"
    work.mkdir(parents=True)
    site = build_base(args.base, work)
    try:
        mock = start_mock(work, render_mock_conf(work, ports), ports.mock, cpu=1)
    except MockError as e:
        raise SystemExit(str(e)) from None
    rows: list[dict] = []
    try:
        for scen_name in args.scenarios.split(","):
            body_file = work / f"{scen_name}.json"
            body_file.write_bytes(request_body(SCENARIOS[scen_name]))
            for _ in range(args.rounds):
                for label, path in (("base", site), ("head", None)):
                    row = one_run(label, path, scen_name, args, ports, work, body_file)
                    log(f"{label} {scen_name}: {row['rps']:,.0f} req/s p50 {row['p50_us']} µs")
                    rows.append(row)
    finally:
        stop_mock(mock)
    out_dir = RESULTS / f"{stamp}-revisions"
    out_dir.mkdir(parents=True)
    report = render(rows, args)
    (out_dir / "report.md").write_text(report)
    (out_dir / "results.json").write_text(json.dumps({"base": args.base, "runs": rows}, indent=2) + "\n")
    print(report)
    log(f"report: {out_dir / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
