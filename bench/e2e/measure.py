"""Measure ONE entry (the bare mock, LunaRoute or LiteLLM): start-up, then per scenario a
sanity request, a warm-up, closed-loop wrk runs at each concurrency, a TTFB pass for streams
and a verification pass; finally the peak RSS of the gateway's process tree."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import procfs
from .gateways import GatewaySpec, Running, start_gateway, stop_gateway, tail
from .http_probe import port_busy, sanity_check, wait_first_200
from .quiet import QuietGuard, Tracked, Window, log
from .scenarios import SCENARIOS, Scenario, request_body
from .wrk_run import WrkError, WrkSettings, run_wrk

TTFB_CLIENT = Path(__file__).resolve().parent / "ttfb_client.py"


@dataclass
class Settings:
    concs: list[int] = field(default_factory=lambda: [1, 16, 64, 256])
    duration_s: float = 10.0  # per measured wrk run
    warmup_s: float = 3.0  # wrk at c=16 before a scenario's runs
    verify_s: float = 3.0  # wrk at c=16 checking every body (0 = skip)
    ttfb_concs: list[int] = field(default_factory=lambda: [1])
    ttfb_duration_s: float = 5.0
    ttfb_max_requests: int = 5000
    ttfb_warmup: int = 20  # uncounted requests per TTFB connection
    retries: int = 2  # repeats of a run disturbed by outside work
    gateway_cpu: int = 0
    load_cpu: int = 1
    quiet_threshold_pct: float = 5.0
    quiet_max_wait_s: float = 300.0
    wrk: WrkSettings = field(default_factory=WrkSettings)


def _accounted(result: dict, acct: dict, units: int | None, gateway: bool, mock: bool) -> dict:
    """Merge a Window's accounting into a run result, with per-request CPU figures."""
    wall = acct["wall_s"]
    result["cpu"] = acct["cpu"]
    result["load_cpu_s"] = acct["load_cpu_s"]
    for k in ("foreign_cpu_pct", "foreign_cpu_pct_stat", "foreign_cpu_pct_procs", "foreign_top"):
        result[k] = acct[k]
    if gateway:
        result["gateway_cpu_s"] = acct["gateway_cpu_s"]
        result["gateway_cpu_pct"] = round(100.0 * acct["gateway_cpu_s"] / wall, 1) if wall else None
        result["gateway_cpu_us_per_req"] = round(1e6 * acct["gateway_cpu_s"] / units, 1) if units else None
    if mock:
        result["mock_cpu_pct"] = round(100.0 * acct["mock_cpu_s"] / wall, 1) if wall else None
        result["mock_cpu_us_per_req"] = round(1e6 * acct["mock_cpu_s"] / units, 1) if units else None
    return result


class EntryRunner:
    def __init__(self, spec: GatewaySpec, settings: Settings, workdir: Path, mock_pid: int | None):
        self.spec = spec
        self.s = settings
        self.workdir = workdir
        self.tracked = Tracked(gateway_pid=None, mock_pid=mock_pid)
        self.guard = QuietGuard(self.tracked, settings.quiet_threshold_pct, settings.quiet_max_wait_s)
        self.bodies: dict[str, str] = {}

    # ------------------------------------------------------------ one guarded run
    def guarded(self, label: str, run: Callable[[], dict], units: Callable[[dict], int | None]) -> dict:
        """Wait for a quiet machine, run, account CPU; repeat a run disturbed by outside work."""
        discarded: list[dict] = []
        for attempt in range(self.s.retries + 1):
            waited, busy = self.guard.wait() if self.s.quiet_max_wait_s > 0 else (0.0, None)
            w = Window(self.tracked)
            w.start()
            try:
                res = run()
            except (WrkError, subprocess.SubprocessError, OSError, ValueError) as e:
                w.stop()
                return {"error": f"{type(e).__name__}: {e}"}
            res = _accounted(
                res, w.stop(), units(res), self.tracked.gateway_pid is not None, self.tracked.mock_pid is not None
            )
            res["waited_for_quiet_s"] = waited
            if busy:
                res["not_quiet_before_run"] = busy
            if not self.guard.disturbed(res) or attempt == self.s.retries:
                break
            log(
                f"{label}: other work used {res['foreign_cpu_pct']}% of a CPU during the run "
                f"({res['foreign_top']}); discarding it and measuring again"
            )
            discarded.append(
                {k: res.get(k) for k in ("rps", "latency_us", "ttfb_us", "foreign_cpu_pct", "foreign_top")}
            )
        if discarded:
            res["discarded_attempts"] = discarded
        res["disturbed"] = self.guard.disturbed(res)
        return res

    def wrk_run(self, scen: Scenario, conc: int, duration_s: float, verify: bool = False) -> dict:
        return run_wrk(
            self.s.wrk,
            self.spec.port_for(scen),
            scen,
            conc,
            duration_s,
            self.bodies[scen.name],
            self.spec.stream_prefix,
            verify=verify,
            api_key=self.spec.api_key,
        )

    def ttfb_run(self, scen: Scenario, conc: int) -> dict:
        cmd = [
            "taskset",
            "-c",
            str(self.s.load_cpu),
            sys.executable,
            str(TTFB_CLIENT),
            "--port",
            str(self.spec.port_for(scen)),
            "--scenario",
            scen.name,
            "--stream-prefix",
            self.spec.stream_prefix,
            "--conc",
            str(conc),
            "--duration",
            str(self.s.ttfb_duration_s),
            "--max-requests",
            str(self.s.ttfb_max_requests),
            "--warmup",
            str(self.s.ttfb_warmup),
        ]
        if self.spec.api_key:
            cmd += ["--api-key", self.spec.api_key]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=self.s.ttfb_duration_s + 60)
        if not out.stdout.strip():
            raise ValueError(f"ttfb client rc={out.returncode}: {out.stderr.strip()[-400:]}")
        return json.loads(out.stdout)

    # ------------------------------------------------------------ one scenario
    def scenario(self, scen: Scenario) -> dict:
        name = f"{self.spec.name}/{scen.name}"
        port = self.spec.port_for(scen)
        sres: dict = {
            "dialect": scen.dialect,
            "model": scen.model,
            "stream": scen.stream,
            "port": port,
            "baseline": scen.baseline,
            "translated": scen.translated,
            "request_body_bytes": len(request_body(scen)),
        }
        sres["sanity"] = sanity_check(port, scen, self.spec.stream_prefix, self.spec.api_key)
        if not sres["sanity"]["ok"]:
            log(f"{name}: sanity check FAILED: {sres['sanity'].get('error')}")
            sres["error"] = "sanity check failed"
            return sres
        if self.s.warmup_s > 0:
            try:
                w = self.wrk_run(scen, 16, self.s.warmup_s)
                sres["warmup"] = {k: w.get(k) for k in ("rps", "error_total")}
            except (WrkError, subprocess.SubprocessError) as e:
                sres["warmup"] = {"error": str(e)}
        sres["runs"] = {}
        for c in self.s.concs:
            r = self.guarded(
                f"{name} c={c}", lambda c=c: self.wrk_run(scen, c, self.s.duration_s), lambda r: r.get("requests")
            )
            sres["runs"][f"c{c}"] = r
            if "error" in r:
                log(f"{name} c={c}: {r['error']}")
                continue
            lat = r["latency_us"]
            gw = (
                f" gw_cpu={r.get('gateway_cpu_pct')}% {r.get('gateway_cpu_us_per_req')}us/req"
                if "gateway_cpu_pct" in r
                else ""
            )
            log(
                f"{name} c={c}: {r['rps']:.0f} req/s p50={lat['p50']}us p99={lat['p99']}us "
                f"errors={r['error_total']}{gw} other={r['foreign_cpu_pct']}%"
            )
        if scen.stream:
            sres["ttfb"] = {}
            for c in self.s.ttfb_concs:
                t = self.guarded(f"{name} ttfb c={c}", lambda c=c: self.ttfb_run(scen, c), lambda r: r.get("requests"))
                sres["ttfb"][f"c{c}"] = t
                if "error" in t:
                    log(f"{name} ttfb c={c}: {t['error']}")
                elif t.get("ttfb_us"):
                    log(
                        f"{name} ttfb c={c}: p50={t['ttfb_us']['p50']}us p99={t['ttfb_us']['p99']}us "
                        f"n={t['requests']} bad={t['bad_answers']} errors={t['errors']}"
                    )
        if self.s.verify_s > 0:
            try:
                v = self.wrk_run(scen, 16, self.s.verify_s, verify=True)
                sres["verify"] = {
                    "requests": v["requests"],
                    "checked": v["verify"]["checked"],
                    "bad_bodies": v["verify"]["bad"],
                    "errors": v["error_total"],
                }
            except (WrkError, subprocess.SubprocessError) as e:
                sres["verify"] = {"error": str(e)}
            if sres["verify"].get("error") or sres["verify"].get("bad_bodies") or sres["verify"].get("errors"):
                log(f"{name}: verification pass found problems: {sres['verify']}")
        return sres

    # ------------------------------------------------------------ the whole entry
    def run(self) -> dict:
        spec = self.spec
        result: dict = {
            "name": spec.name,
            "cmd": spec.cmd,
            "config": spec.config,
            "ports": {"openai": spec.openai_port, "anthropic": spec.anthropic_port},
            "stream_prefix": spec.stream_prefix,
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "scenarios": {},
        }
        bodies = self.workdir / "bodies"
        bodies.mkdir(parents=True, exist_ok=True)
        for scen in spec.scenario_list():
            p = bodies / f"{scen.name}.json"
            p.write_bytes(request_body(scen))
            self.bodies[scen.name] = str(p)
        running: Running | None = None
        try:
            if spec.cmd is not None:
                running = self.start(result)
                if running is None:
                    return result
            for scen in spec.scenario_list():
                result["scenarios"][scen.name] = self.scenario(scen)
            if running is not None:
                pids = procfs.descendants(running.proc.pid)
                result["memory"] = {
                    "peak_rss_kb": procfs.status_kb(pids, "VmHWM"),
                    "rss_end_kb": procfs.status_kb(pids, "VmRSS"),
                    "processes": len(pids),
                }
                result["gateway_alive_at_end"] = running.proc.poll() is None
        finally:
            if running is not None:
                result["exit_code"] = stop_gateway(running.proc)
                result["log_file"] = str(running.log_path)
                if result.get("error") or not result.get("gateway_alive_at_end", True):
                    result["log_tail"] = tail(running.log_path)
        result["errors_total"] = sum(
            (r.get("error_total") or 0) + (1 if "error" in r else 0)
            for s in result["scenarios"].values()
            for r in (s.get("runs") or {}).values()
        )
        result["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return result

    def start(self, result: dict) -> Running | None:
        spec = self.spec
        busy = [p for p in {spec.openai_port, spec.anthropic_port} if port_busy(p)]
        if busy:
            result["error"] = f"port(s) {busy} already in use before start (use --port-offset)"
            log(f"{spec.name}: {result['error']}")
            return None
        log(f"{spec.name}: starting: {' '.join(spec.cmd or [])}")
        running = start_gateway(spec, self.workdir, self.s.gateway_cpu)
        self.tracked.gateway_pid = running.proc.pid
        probe = SCENARIOS["oai"]
        secs, port_open, err = wait_first_200(
            running.proc, spec.port_for(probe), probe, spec.startup_timeout_s, running.spawned_at, spec.api_key
        )
        pids = procfs.descendants(running.proc.pid)
        result["startup"] = {
            "first_200_s": round(secs, 3) if secs is not None else None,
            "port_open_s": round(port_open, 3) if port_open is not None else None,
            "probe": probe.name,
            "rss_after_start_kb": procfs.status_kb(pids, "VmRSS"),
            "processes": len(pids),
        }
        if err:
            result["error"] = f"startup failed: {err}"
            log(f"{spec.name}: {result['error']}")
            result["exit_code"] = stop_gateway(running.proc)
            result["log_file"] = str(running.log_path)
            result["log_tail"] = tail(running.log_path)
            return None
        log(f"{spec.name}: first 200 after {secs:.3f}s ({len(pids)} process(es))")
        return running
