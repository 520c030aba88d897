"""Run wrk (closed loop, one thread, fixed connections) with wrk/chat.lua and parse its result.

Latency is wrk's: request written -> whole response (whole SSE stream) read, in microseconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .scenarios import Scenario, request_path

LUA = Path(__file__).resolve().parent / "wrk" / "chat.lua"
PREFIX = "WRKJSON "


class WrkError(RuntimeError):
    """wrk failed or printed no result line."""


@dataclass(frozen=True)
class WrkSettings:
    wrk: str = shutil.which("wrk") or "wrk"
    load_cpu: int = 1  # wrk is pinned here (with the mock)
    timeout_s: int = 10  # per-request timeout: a slower answer counts as an error


def wrk_command(settings: WrkSettings, port: int, conc: int, duration_s: float) -> list[str]:
    return [
        "taskset",
        "-c",
        str(settings.load_cpu),
        settings.wrk,
        "-t",
        "1",
        "-c",
        str(conc),
        "-d",
        f"{max(1, round(duration_s))}s",
        "--timeout",
        f"{settings.timeout_s}s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
    ]


def wrk_env(
    scen: Scenario, body_file: str, stream_prefix: str, verify: bool, api_key: str | None = None
) -> dict[str, str]:
    env = {"BENCH_API_KEY": api_key} if api_key else {}
    return dict(
        os.environ,
        **env,
        BENCH_BODY_FILE=body_file,
        BENCH_DIALECT=scen.dialect,
        BENCH_PATH=request_path(scen, stream_prefix),
        BENCH_STREAM="1" if scen.stream else "0",
        BENCH_VERIFY="1" if verify else "0",
        BENCH_MARKER=scen.marker,
    )


def parse_wrk_output(stdout: str) -> dict:
    """The WRKJSON line chat.lua's done() prints, plus derived req/s and error total."""
    line = next((ln for ln in stdout.splitlines() if ln.startswith(PREFIX)), None)
    if line is None:
        raise WrkError(f"no {PREFIX.strip()} line in wrk output: {stdout[-400:]!r}")
    w = json.loads(line[len(PREFIX) :])
    secs = w["duration_us"] / 1e6
    n = w["requests"]
    return {
        "duration_s": round(secs, 3),
        "requests": n,
        "rps": round(n / secs, 1) if secs else 0.0,
        "latency_us": w["latency_us"],
        "errors": w["errors"],
        "error_total": sum(w["errors"].values()),
        "bytes_per_response": round(w["bytes"] / n) if n else None,
        "verify": w["verify"],
    }


def run_wrk(
    settings: WrkSettings,
    port: int,
    scen: Scenario,
    conc: int,
    duration_s: float,
    body_file: str,
    stream_prefix: str = "",
    verify: bool = False,
    api_key: str | None = None,
) -> dict:
    cmd = wrk_command(settings, port, conc, duration_s)
    out = subprocess.run(
        cmd,
        env=wrk_env(scen, body_file, stream_prefix, verify, api_key),
        capture_output=True,
        text=True,
        timeout=duration_s + settings.timeout_s + 60,
    )
    if out.returncode != 0:
        raise WrkError(f"wrk rc={out.returncode}: {out.stderr.strip()[-400:]} {out.stdout.strip()[-400:]}")
    res = parse_wrk_output(out.stdout)
    res["concurrency"] = conc
    return res
