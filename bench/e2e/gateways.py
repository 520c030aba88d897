"""The entries of a run (direct, LunaRoute, LiteLLM) and how a gateway process is started,
pinned and stopped.

Every gateway runs one worker process pinned to the gateway CPU (taskset), in its own process
group, so stopping it (SIGTERM to that group, SIGKILL after a grace period) ends exactly what
the harness started.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import configs
from .configs import Ports
from .scenarios import DIRECT_SCENARIOS, LITELLM_SCENARIOS, LUNAROUTE_SCENARIOS, SCENARIOS, Scenario
from .upstream_mock import STREAM_PREFIX, stop_group

LITELLM_VENV = Path(os.environ.get("LITELLM_VENV", "/tmp/litellm-venv"))
LITELLM_ENV = {
    # LiteLLM's documented switches that stop every request it makes on its own
    # (docs: proxy/outbound_requests), and error-level logging.
    "LITELLM_OFFLINE_MODE": "true",
    "LITELLM_LOCAL_MODEL_COST_MAP": "true",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "true",
    "LITELLM_DISABLE_LATEST_RELEASE_CHECK": "true",
    "LITELLM_LOCAL_BLOG_POSTS": "true",
    "LITELLM_LOG": "ERROR",
}


@dataclass
class GatewaySpec:
    name: str
    cmd: list[str] | None  # None: nothing to start (the bare mock)
    openai_port: int
    anthropic_port: int
    scenarios: tuple[str, ...]
    stream_prefix: str = ""  # only the bare mock selects SSE by path
    env: dict[str, str] = field(default_factory=dict)
    startup_timeout_s: float = 120.0
    skipped: str | None = None  # why this entry is not measured
    config: str | None = None  # the rendered config it runs with

    def port_for(self, scen: Scenario) -> int:
        return self.openai_port if scen.dialect == "openai" else self.anthropic_port

    def scenario_list(self) -> list[Scenario]:
        return [SCENARIOS[s] for s in self.scenarios]


def direct_spec(ports: Ports, name: str = "direct") -> GatewaySpec:
    return GatewaySpec(name, None, ports.mock, ports.mock, DIRECT_SCENARIOS, stream_prefix=STREAM_PREFIX)


def lunaroute_spec(
    ports: Ports,
    workdir: Path,
    command: str | None = None,
    recording: bool = False,
    scenarios: tuple[str, ...] = LUNAROUTE_SCENARIOS,
    pii: bool = False,
) -> GatewaySpec:
    """`python -m lunaroute serve` (or `command serve`) with a rendered copy of lunaroute-config/."""
    name = "lunaroute" + ("-rec" if recording else "") + ("-pii" if pii else "")
    cfg = configs.render_lunaroute_config(workdir, ports, name=f"{name}-config", recording=recording, pii=pii)
    data = workdir / f"{name}-data"
    data.mkdir(parents=True, exist_ok=True)
    prefix = shlex.split(command) if command else [sys.executable, "-m", "lunaroute"]
    cmd = prefix + ["serve", "--config-dir", str(cfg), "--data-dir", str(data)]
    return GatewaySpec(
        name,
        cmd,
        ports.openai,
        ports.anthropic,
        scenarios,
        env={"LUNAROUTE_BENCH_UPSTREAM_KEY": "dummy"},
        config=str(cfg),
    )


def litellm_spec(ports: Ports, workdir: Path, venv: Path = LITELLM_VENV) -> GatewaySpec:
    exe = venv / "bin" / "litellm"
    if not os.access(exe, os.X_OK):
        return GatewaySpec(
            "litellm",
            None,
            ports.litellm,
            ports.litellm,
            LITELLM_SCENARIOS,
            skipped=f"{exe} not found (run: bash bench/e2e/setup.sh --with-litellm)",
        )
    cfg = configs.render_litellm_config(workdir, ports)
    cmd = [str(exe), "--config", str(cfg), "--host", "127.0.0.1", "--port", str(ports.litellm), "--num_workers", "1"]
    return GatewaySpec(
        "litellm",
        cmd,
        ports.litellm,
        ports.litellm,
        LITELLM_SCENARIOS,
        env=dict(LITELLM_ENV),
        startup_timeout_s=300.0,
        config=str(cfg),
    )


@dataclass
class Running:
    proc: subprocess.Popen
    spawned_at: float  # time.monotonic() just before the spawn
    log_path: Path


def start_gateway(spec: GatewaySpec, workdir: Path, cpu: int) -> Running:
    assert spec.cmd is not None
    env = dict(os.environ, **spec.env)
    log_path = workdir / f"{spec.name}.log"
    with open(log_path, "wb") as logf:
        spawned_at = time.monotonic()
        proc = subprocess.Popen(
            ["taskset", "-c", str(cpu)] + spec.cmd,
            env=env,
            cwd=workdir,
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Running(proc, spawned_at, log_path)


def stop_gateway(proc: subprocess.Popen, grace_s: float = 35.0) -> int | None:
    """Stop the gateway's process group; the grace covers LunaRoute's drain of in-flight
    requests (up to 30 s)."""
    return stop_group(proc, grace_s)


def tail(path: Path, n: int = 3000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - n))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""
