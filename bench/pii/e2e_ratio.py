#!/usr/bin/env python3
"""What PII redaction costs end to end, in one sitting: LunaRoute with `pii` off and on.

    python bench/pii/e2e_ratio.py                        # 4 scenarios, 4 pairs, 5 s runs at c=16
    python bench/pii/e2e_ratio.py --pairs 6 --scenarios oai,oai_stream
    python bench/pii/e2e_ratio.py --port-offset 100      # when the e2e ports are taken

Issue 13's budget: PII on costs at most 10 % of passthrough throughput on the benchmark's
chat requests and adds at most 50 µs to a streamed answer's time to first byte. A figure
from another day means nothing on a shared machine, so both gateways run side by side
against the e2e harness's nginx mock (bench/e2e: same request bodies, wrk script and
pinning: gateways on CPU 0, mock, wrk and the TTFB client on CPU 1), and runs alternate
bare / pii (the order flipping every pair, so drift falls on both). `bare` is
bench/e2e/lunaroute-config as committed; `pii` the same with `pii.enabled: true` (mask mode,
every built-in detector). Per run: 1 s warm-up, a wrk run (req/s, the gateway's CPU per
request from /proc), and for streams a TTFB pass (ttfb_client.py, c=1). Before measuring, a
request carrying an email through the pii gateway must move lunaroute_pii_redactions_total.

Writes bench/results/<date>-pii/report.md and results.json (every run).
"""

from __future__ import annotations

import argparse
import json
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
PII_PORT_SHIFT = 10  # the pii gateway's listeners sit this far above the bare one's
LABELS = ("bare", "pii")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", default="oai,oai_stream,anth_stream,oai_to_anth", help=", ".join(SCENARIOS))
    ap.add_argument("--pairs", type=int, default=4, help="bare/pii pairs per scenario")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    ap.add_argument("--conc", type=int, default=16)
    ap.add_argument("--ttfb-duration", type=float, default=3.0, help="seconds per TTFB pass (streams)")
    ap.add_argument("--port-offset", type=int, default=0)
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/lunaroute-e2e"))
    ap.add_argument("--out-dir", type=Path, help="default bench/results/<date>-pii")
    args = ap.parse_args(argv)
    unknown = [s for s in args.scenarios.split(",") if s not in SCENARIOS]
    if unknown:
        ap.error(f"unknown scenario(s): {', '.join(unknown)}")
    if args.pairs < 1 or args.duration < 1:
        ap.error("--pairs and --duration must be at least 1")
    return args


def pii_ports(bare: Ports) -> Ports:
    s = PII_PORT_SHIFT
    return replace(bare, openai=bare.openai + s, anthropic=bare.anthropic + s, metrics=bare.metrics + s)


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


def render(rows: list[dict], args: argparse.Namespace, started: str) -> str:
    lines = [
        f"# PII redaction on vs off, one sitting ({started})",
        "",
        f"`python bench/pii/e2e_ratio.py --pairs {args.pairs} --duration {args.duration:g} --conc {args.conc}`: "
        f"wrk c={args.conc}, {args.duration:g} s per run after 1 s of warm-up, runs alternating bare/pii "
        "(order flipped every pair); both gateways 1 worker on CPU 0, nginx mock, wrk and the TTFB client "
        "on CPU 1. `pii` = `pii.enabled: true` (mask, all six built-in detectors). The benchmark's requests "
        "hold no PII: this is the cost of looking.",
        "",
        "| scenario | bare req/s | pii req/s | cost per pair (1 − pii ÷ bare) | min / median cost | "
        "CPU µs/req bare → pii (median) | TTFB p50 added, µs (per pair) |",
        "|---|---|---|---|---|---|---|",
    ]
    for scen in dict.fromkeys(r["scenario"] for r in rows):
        by = {lab: [r for r in rows if r["scenario"] == scen and r["label"] == lab] for lab in LABELS}
        bare, pii = by["bare"], by["pii"]
        costs = [1 - p["rps"] / b["rps"] for b, p in zip(bare, pii) if b["rps"]]
        cpu = [statistics.median(r["cpu_us_per_req"] for r in by[lab] if r["cpu_us_per_req"]) for lab in LABELS]
        ttfb = [p["ttfb_p50_us"] - b["ttfb_p50_us"] for b, p in zip(bare, pii) if "ttfb_p50_us" in b]
        lines.append(
            f"| {scen} | {_fmt([r['rps'] for r in bare])} | {_fmt([r['rps'] for r in pii])} | "
            f"{' / '.join(f'{c:+.1%}' for c in costs)} | {min(costs):+.1%} / {statistics.median(costs):+.1%} | "
            f"{cpu[0]:.0f} → {cpu[1]:.0f} ({cpu[1] - cpu[0]:+.0f}) | "
            + (f"{_fmt(ttfb, '+.0f')} (median {statistics.median(ttfb):+.0f})" if ttfb else "—")
            + " |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ports = Ports.with_offset(args.port_offset)
    ports_pii = pii_ports(ports)
    busy = [p for p in {*ports.as_dict().values(), *ports_pii.as_dict().values()} - {ports.litellm} if port_busy(p)]
    if busy:
        raise SystemExit(f"e2e_ratio: ports in use: {sorted(busy)} (try --port-offset)")
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    work = args.scratch / f"pii-{stamp}"
    work.mkdir(parents=True)
    try:
        mock = start_mock(work, render_mock_conf(work, ports), ports.mock, cpu=1)
    except MockError as e:
        raise SystemExit(str(e)) from None
    specs = {"bare": gateways.lunaroute_spec(ports, work), "pii": gateways.lunaroute_spec(ports_pii, work, pii=True)}
    running: dict[str, gateways.Running] = {}
    rows: list[dict] = []
    try:
        for label, spec in specs.items():
            running[label] = gateways.start_gateway(spec, work, cpu=0)
            first, _, err = wait_first_200(
                running[label].proc, spec.openai_port, SCENARIOS["oai"], 60.0, running[label].spawned_at
            )
            if err:
                raise SystemExit(f"{label}: {err}; log: {running[label].log_path}")
        prove_redaction(specs["pii"].openai_port, ports_pii.metrics)
        for scen_name in args.scenarios.split(","):
            scen = SCENARIOS[scen_name]
            body = work / f"{scen_name}.json"
            body.write_bytes(request_body(scen))
            for pair in range(args.pairs):
                for label in LABELS if pair % 2 == 0 else LABELS[::-1]:
                    row = one_run(label, running[label], specs[label].port_for(scen), scen, body, args)
                    row["pair"] = pair
                    log(f"{label} {scen_name}: {row['rps']:,.0f} req/s, {row['cpu_us_per_req']} µs CPU/req")
                    rows.append(row)
    finally:
        for r in running.values():
            gateways.stop_gateway(r.proc)
        stop_mock(mock)
    out_dir = args.out_dir or RESULTS / f"{time.strftime('%Y%m%d')}-pii"
    out_dir.mkdir(parents=True, exist_ok=True)
    report = render(rows, args, started)
    (out_dir / "report.md").write_text(report)
    (out_dir / "results.json").write_text(
        json.dumps(
            {
                "started": started,
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
