"""The entries of a run (direct, LunaRoute and its variants, the Rust LunaRoute, nginx as a
proxy, LiteLLM) and how a gateway process is started, pinned and stopped.

Every gateway runs one worker pinned to the gateway CPU (taskset), in its own process group,
so stopping it (SIGTERM to that group, SIGKILL after a grace period) ends exactly what the
harness started.
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
from .scenarios import (
    DIRECT_SCENARIOS,
    LITELLM_SCENARIOS,
    LUNAROUTE_SCENARIOS,
    RUST_PEER_SCENARIOS,
    SCENARIOS,
    Scenario,
)
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
REPO = Path(__file__).resolve().parents[2]
# Where bench/e2e/rust-peer/build.sh puts the binary; LUNAROUTE_RS_BIN or --rust-peer-bin
# point elsewhere.
RUST_PEER_BIN = Path(
    os.environ.get("LUNAROUTE_RS_BIN")
    or REPO / "bench" / "e2e" / "rust-peer" / "target" / "release" / "lunaroute-server"
)
# Environment the Rust LunaRoute must not inherit: its merge_env lets provider keys and any
# LUNAROUTE_* variable (port, dialect, config path, log level...) override its config file.
RUST_PEER_DROP_ENV = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LUNAROUTE_")


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
    api_key: str | None = None  # a client key every request carries (else the dummy provider key)
    drop_env: tuple[str, ...] = ()  # prefixes of inherited environment variables to leave out

    def port_for(self, scen: Scenario) -> int:
        return self.openai_port if scen.dialect == "openai" else self.anthropic_port

    def scenario_list(self) -> list[Scenario]:
        return [SCENARIOS[s] for s in self.scenarios]


def direct_spec(ports: Ports, name: str = "direct") -> GatewaySpec:
    return GatewaySpec(name, None, ports.mock, ports.mock, DIRECT_SCENARIOS, stream_prefix=STREAM_PREFIX)


def lunaroute_command(command: str | None, config_dir: Path, data_dir: Path) -> list[str]:
    prefix = shlex.split(command) if command else [sys.executable, "-m", "lunaroute"]
    return prefix + ["serve", "--config-dir", str(config_dir), "--data-dir", str(data_dir)]


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
    return GatewaySpec(
        name,
        lunaroute_command(command, cfg, data),
        ports.openai,
        ports.anthropic,
        scenarios,
        env={"LUNAROUTE_BENCH_UPSTREAM_KEY": "dummy"},
        config=str(cfg),
    )


def lunaroute_features_spec(
    ports: Ports, workdir: Path, command: str | None = None, scenarios: tuple[str, ...] = LUNAROUTE_SCENARIOS
) -> GatewaySpec:
    """LunaRoute with every per-request feature on at once (configs.render_features_config);
    the load sends the client key the config requires."""
    from lunaroute.tenancy.keys import generate_key, hash_key

    key = generate_key()
    cfg = configs.render_features_config(workdir, ports, hash_key(key))
    data = workdir / "lunaroute-features-data"
    data.mkdir(parents=True, exist_ok=True)
    return GatewaySpec(
        "lunaroute-features",
        lunaroute_command(command, cfg, data),
        ports.openai,
        ports.anthropic,
        scenarios,
        env={"LUNAROUTE_BENCH_UPSTREAM_KEY": "dummy"},
        config=str(cfg),
        api_key=key,
    )


def rust_peer_spec(ports: Ports, workdir: Path, binary: Path = RUST_PEER_BIN) -> GatewaySpec:
    """The public Rust LunaRoute (erans/lunaroute): one process, one port for both dialects,
    one tokio worker thread; same-dialect scenarios only (rust-peer/config.yaml says why)."""
    name = "lunaroute-rs"
    if not os.access(binary, os.X_OK):
        return GatewaySpec(
            name,
            None,
            ports.rust_peer,
            ports.rust_peer,
            RUST_PEER_SCENARIOS,
            skipped=f"{binary} not found (build it: bash bench/e2e/rust-peer/build.sh; "
            "or pass --rust-peer-bin / set LUNAROUTE_RS_BIN)",
        )
    cfg = configs.render_rust_peer_config(workdir, ports)
    home = workdir / "rust-peer-home"
    home.mkdir(parents=True, exist_ok=True)
    return GatewaySpec(
        name,
        [str(binary), "serve", "--config", str(cfg)],
        ports.rust_peer,
        ports.rust_peer,
        RUST_PEER_SCENARIOS,
        env={"HOME": str(home), "TOKIO_WORKER_THREADS": "1"},
        drop_env=RUST_PEER_DROP_ENV,
        config=str(cfg),
    )


def nginx_proxy_spec(ports: Ports, workdir: Path, nginx: str = "nginx") -> GatewaySpec:
    """nginx (1 worker) as a plain reverse proxy to the mock (nginx/proxy.conf): the floor of
    what one proxy hop costs. It cannot read the model, so it gets the direct scenarios, by path."""
    conf = configs.render_nginx_proxy_conf(workdir, ports)
    prefix = workdir / "nginx-proxy"
    for d in ("logs", "tmp"):
        (prefix / d).mkdir(parents=True, exist_ok=True)
    return GatewaySpec(
        "nginx-proxy",
        [nginx, "-p", f"{prefix}/", "-c", str(conf), "-g", "daemon off;"],
        ports.nginx_proxy,
        ports.nginx_proxy,
        DIRECT_SCENARIOS,
        stream_prefix=STREAM_PREFIX,
        config=str(conf),
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
    env = {k: v for k, v in os.environ.items() if not (spec.drop_env and k.startswith(spec.drop_env))}
    env.update(spec.env)
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
