#!/usr/bin/env python3
"""What PII redaction costs end to end, in one sitting: LunaRoute with `pii` off and on.

    python bench/pii/e2e_ratio.py                        # 4 scenarios, 4 rounds, 5 s runs at c=16
    python bench/pii/e2e_ratio.py --rounds 6 --scenarios oai,oai_stream
    python bench/pii/e2e_ratio.py --restore              # tokenize + restore_in_response instead of mask
    python bench/pii/e2e_ratio.py --port-offset 100      # when the e2e ports are taken

Issue 13's budget: PII on costs at most 10 % of passthrough throughput on the benchmark's
chat requests and adds at most 50 µs to a streamed answer's time to first byte. A figure
from another day means nothing on a shared machine, so three gateways run side by side
against the e2e harness's nginx mock (bench/e2e: same request bodies, wrk script and
pinning: gateways on CPU 0, mock, wrk and the TTFB client on CPU 1) and take turns, the
order rotating every round: `bare` (bench/e2e/lunaroute-config as committed), `pii` (the
same with `pii.enabled: true`: mask mode, every built-in detector) and `control` (bare
again: what it shows against `bare` is the noise of the sitting). Per run: 1 s warm-up, a
wrk run (req/s, the gateway's CPU per request from /proc), and for streams a TTFB pass
(ttfb_client.py, c=1). Before measuring, a request carrying an email through the pii
gateway must move lunaroute_pii_redactions_total.

Writes bench/results/<date>-pii/report.md and results.json (every run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable (PEP 366)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "bench.pii"

from bench.e2e import gateways, procfs
from bench.e2e.configs import Ports, render_mock_conf
from bench.e2e.http_probe import one_request, port_busy, wait_first_200
from bench.e2e.quiet import log
from bench.e2e.scenarios import SCENARIOS, Scenario, request_body, request_headers, request_path
from bench.e2e.upstream_mock import MockError, start_mock, stop_mock
from bench.e2e.wrk_run import WrkSettings, run_wrk

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results"
TTFB_CLIENT = REPO / "bench" / "e2e" / "ttfb_client.py"
PORT_SHIFT = {"bare": 0, "pii": 10, "control": 20}  # each gateway's listeners above the bare one's
LABELS = tuple(PORT_SHIFT)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", default="oai,oai_stream,anth_stream,oai_to_anth", help=", ".join(SCENARIOS))
    ap.add_argument("--rounds", type=int, default=4, help="runs of each gateway per scenario")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    ap.add_argument("--conc", type=int, default=16)
    ap.add_argument("--ttfb-duration", type=float, default=3.0, help="seconds per TTFB pass (streams)")
    ap.add_argument(
        "--restore",
        action="store_true",
        help="pii in tokenize mode with restore_in_response (streams are then decoded and re-encoded)",
    )
    ap.add_argument("--port-offset", type=int, default=0)
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/lunaroute-e2e"))
    ap.add_argument("--out-dir", type=Path, help="default bench/results/<date>-pii")
    args = ap.parse_args(argv)
    unknown = [s for s in args.scenarios.split(",") if s not in SCENARIOS]
    if unknown:
        ap.error(f"unknown scenario(s): {', '.join(unknown)}")
    if args.rounds < 1 or args.duration < 1:
        ap.error("--rounds and --duration must be at least 1")
    return args


def shifted(bare: Ports, label: str) -> Ports:
    s = PORT_SHIFT[label]
    return replace(bare, openai=bare.openai + s, anthropic=bare.anthropic + s, metrics=bare.metrics + s)


def restoring(spec: gateways.GatewaySpec) -> None:
    """The pii gateway's config switched to tokenize mode with restore_in_response."""
    server = Path(spec.config or "") / "server.yaml"
    text = server.read_text()
    on = "\npii:\n  enabled: true\n"
    if on not in text:
        raise SystemExit(f"{server}: no 'pii: enabled: true' to extend")
    server.write_text(text.replace(on, on + "  mode: tokenize\n  restore_in_response: true\n"))


def redactions(metrics_port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("lunaroute_pii_redactions_total "):
                return float(line.split()[1])
    return 0.0


def prove_redaction(port: int, metrics_port: int) -> None:
    """A request with an email in it must be counted as redacted by the pii gateway."""
    scen = SCENARIOS["oai"]
    body = json.loads(request_body(scen))
    body["messages"][-1]["content"] += " Write to jane.doe@example.com."
    before = redactions(metrics_port)
    status, _, data, _ = one_request(port, request_path(scen), json.dumps(body).encode(), request_headers(scen))
    if status != 200 or redactions(metrics_port) <= before:
        raise SystemExit(f"the pii gateway did not redact (status {status}, {data[:200]!r})")


def ttfb_p50(port: int, scen: Scenario, duration_s: float) -> float:
    cmd = ["taskset", "-c", "1", sys.executable, str(TTFB_CLIENT), "--port", str(port), "--scenario", scen.name]
    cmd += ["--conc", "1", "--duration", str(duration_s), "--max-requests", "20000", "--warmup", "20"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 60)
    res = json.loads(out.stdout or "{}")
    if not res.get("ttfb_us") or res.get("bad_answers") or res.get("errors"):
        raise SystemExit(f"ttfb pass failed: {out.stderr.strip()[-300:]} {res}")
    return float(res["ttfb_us"]["p50"])


def one_run(label: str, running: gateways.Running, port: int, scen: Scenario, body: Path, args) -> dict:
    wrk = WrkSettings(load_cpu=1)
    run_wrk(wrk, port, scen, args.conc, 1.0, str(body))  # warm-up
    pids = procfs.descendants(running.proc.pid)
    cpu0 = procfs.cpu_seconds(pids)
    res = run_wrk(wrk, port, scen, args.conc, args.duration, str(body))
    cpu = procfs.cpu_seconds(pids) - cpu0
    if res["error_total"]:
        raise SystemExit(f"{label} {scen.name}: {res['error_total']} wrk errors {res['errors']}")
    requests = res["rps"] * args.duration
    row = {
        "label": label,
        "scenario": scen.name,
        "rps": res["rps"],
        "p50_us": res["latency_us"]["p50"],
        "cpu_us_per_req": round(cpu * 1e6 / requests, 1) if requests else None,
    }
    if scen.stream:
        row["ttfb_p50_us"] = ttfb_p50(port, scen, args.ttfb_duration)
    return row


def _fmt(values: list[float], spec: str = ",.0f") -> str:
    return " / ".join(format(v, spec) for v in values)


def _setup(args: argparse.Namespace) -> str:
    if args.restore:
        what = "tokenize mode with restore_in_response (streams decoded and re-encoded to restore tokens)"
    else:
        what = "mask mode"
    return (
        f"`python bench/pii/e2e_ratio.py --rounds {args.rounds} --duration {args.duration:g} --conc {args.conc}"
        f"{' --restore' if args.restore else ''}`: wrk c={args.conc}, {args.duration:g} s per run after 1 s of "
        "warm-up; the three gateways take turns, the order rotating every round; each 1 worker on CPU 0, "
        "nginx mock, wrk and the TTFB client on CPU 1. `pii`: `pii.enabled: true`, all six built-in "
        f"detectors, {what}. `control`: a second bare gateway, so its column is the noise of this sitting. "
        "The benchmark's requests hold no PII: this is the cost of looking."
    )


def render(rows: list[dict], args: argparse.Namespace, started: str, load: list[list[float]]) -> str:
    lines = [
        f"# PII redaction on vs off, one sitting ({started})",
        "",
        "Load average (1/5/15 min, 2 CPUs) at the start and the end: "
        + " → ".join("/".join(f"{x:.1f}" for x in la) for la in load)
        + ".",
        "",
        _setup(args),
        "",
        "| scenario | gateway | req/s per round | ÷ bare per round | ÷ bare min / median | "
        "CPU µs/req, median (vs bare) | TTFB p50 vs bare, µs per round (median) |",
        "|---|---|---|---|---|---|---|",
    ]
    for scen in dict.fromkeys(r["scenario"] for r in rows):
        by = {lab: [r for r in rows if r["scenario"] == scen and r["label"] == lab] for lab in LABELS}
        bare = by["bare"]
        bare_cpu = statistics.median(r["cpu_us_per_req"] for r in bare)
        lines.append(
            f"| {scen} | bare | {_fmt([r['rps'] for r in bare])} | | | {bare_cpu:.0f} | "
            + (f"p50 {_fmt([r['ttfb_p50_us'] for r in bare])}" if "ttfb_p50_us" in bare[0] else "—")
            + " |"
        )
        for lab in LABELS[1:]:
            runs = by[lab]
            ratios = [r["rps"] / b["rps"] for b, r in zip(bare, runs) if b["rps"]]
            cpu = statistics.median(r["cpu_us_per_req"] for r in runs)
            ttfb = [r["ttfb_p50_us"] - b["ttfb_p50_us"] for b, r in zip(bare, runs) if "ttfb_p50_us" in b]
            lines.append(
                f"| {scen} | {lab} | {_fmt([r['rps'] for r in runs])} | {_fmt(ratios, '.2f')} | "
                f"{min(ratios):.2f} / {statistics.median(ratios):.2f} | {cpu:.0f} ({cpu - bare_cpu:+.0f}) | "
                + (f"{_fmt(ttfb, '+.0f')} ({statistics.median(ttfb):+.0f})" if ttfb else "—")
                + " |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ports = Ports.with_offset(args.port_offset)
    each = {label: shifted(ports, label) for label in LABELS}
    wanted = {p for pp in each.values() for p in (pp.mock, pp.openai, pp.anthropic, pp.metrics)}
    busy = [p for p in wanted if port_busy(p)]
    if busy:
        raise SystemExit(f"e2e_ratio: ports in use: {sorted(busy)} (try --port-offset)")
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    load = [list(os.getloadavg())]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    work = args.scratch / f"pii-{stamp}"
    work.mkdir(parents=True)
    try:
        mock = start_mock(work, render_mock_conf(work, ports), ports.mock, cpu=1)
    except MockError as e:
        raise SystemExit(str(e)) from None
    for label in LABELS:
        (work / label).mkdir()
    specs = {label: gateways.lunaroute_spec(each[label], work / label, pii=label == "pii") for label in LABELS}
    if args.restore:
        restoring(specs["pii"])
    running: dict[str, gateways.Running] = {}
    rows: list[dict] = []
    try:
        for label, spec in specs.items():
            running[label] = gateways.start_gateway(spec, work / label, cpu=0)
            first, _, err = wait_first_200(
                running[label].proc, spec.openai_port, SCENARIOS["oai"], 60.0, running[label].spawned_at
            )
            if err:
                raise SystemExit(f"{label}: {err}; log: {running[label].log_path}")
        prove_redaction(specs["pii"].openai_port, each["pii"].metrics)
        for scen_name in args.scenarios.split(","):
            scen = SCENARIOS[scen_name]
            body = work / f"{scen_name}.json"
            body.write_bytes(request_body(scen))
            for turn in range(args.rounds):
                k = turn % len(LABELS)
                for label in LABELS[k:] + LABELS[:k]:
                    row = one_run(label, running[label], specs[label].port_for(scen), scen, body, args)
                    row["round"] = turn
                    log(f"{label} {scen_name}: {row['rps']:,.0f} req/s, {row['cpu_us_per_req']} µs CPU/req")
                    rows.append(row)
    finally:
        for r in running.values():
            gateways.stop_gateway(r.proc)
        stop_mock(mock)
    load.append(list(os.getloadavg()))
    out_dir = args.out_dir or RESULTS / f"{time.strftime('%Y%m%d')}-pii"
    out_dir.mkdir(parents=True, exist_ok=True)
    report = render(rows, args, started, load)
    (out_dir / "report.md").write_text(report)
    (out_dir / "results.json").write_text(
        json.dumps(
            {
                "started": started,
                "load_average": load,
                "args": vars(args) | {"scratch": str(args.scratch), "out_dir": str(out_dir)},
                "runs": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(report)
    log(f"report: {out_dir / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
