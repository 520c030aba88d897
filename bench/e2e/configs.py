"""The ports of one run and the configs rendered for them.

The committed configs (nginx/mock.conf, nginx/proxy.conf, lunaroute-config/,
litellm/config.yaml, rust-peer/config.yaml) use the default ports. The machine is shared, so a run may move every port by `--port-offset`; each
run therefore renders its own copies into the scratch dir, with the ports replaced, and
records them in results.json.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MOCK_CONF = HERE / "nginx" / "mock.conf"
LUNAROUTE_CONFIG = HERE / "lunaroute-config"
LITELLM_CONFIG = HERE / "litellm" / "config.yaml"
NGINX_PROXY_CONF = HERE / "nginx" / "proxy.conf"
RUST_PEER_CONFIG = HERE / "rust-peer" / "config.yaml"

DEFAULTS = {
    "mock": 18000,
    "openai": 8080,
    "anthropic": 8081,
    "metrics": 9090,
    "litellm": 4000,
    "rust_peer": 8085,
    "nginx_proxy": 18080,
}


class TemplateError(RuntimeError):
    """A committed config no longer has the shape this module rewrites."""


@dataclass(frozen=True)
class Ports:
    mock: int = DEFAULTS["mock"]
    openai: int = DEFAULTS["openai"]  # LunaRoute's OpenAI listener
    anthropic: int = DEFAULTS["anthropic"]  # LunaRoute's Anthropic listener
    metrics: int = DEFAULTS["metrics"]  # LunaRoute's metrics/health listener
    litellm: int = DEFAULTS["litellm"]
    rust_peer: int = DEFAULTS["rust_peer"]  # the Rust LunaRoute: one port, both dialects
    nginx_proxy: int = DEFAULTS["nginx_proxy"]  # nginx proxy_pass in front of the mock

    @classmethod
    def with_offset(cls, offset: int) -> Ports:
        return cls(**{k: v + offset for k, v in DEFAULTS.items()})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _replace_all(text: str, pairs: list[tuple[str, str]], what: str) -> str:
    for old, new in pairs:
        if old not in text:
            raise TemplateError(f"{what}: expected {old!r} in the committed config")
        text = text.replace(old, new)
    return text


def _render(template: Path, pairs: list[tuple[str, str]], what: str, out: Path) -> Path:
    """`template` with every pair replaced (each must be there), written to `out`."""
    out.write_text(_replace_all(template.read_text(), pairs, what))
    return out


def render_mock_conf(workdir: Path, ports: Ports) -> Path:
    pair = (f"listen 127.0.0.1:{DEFAULTS['mock']} ", f"listen 127.0.0.1:{ports.mock} ")
    return _render(MOCK_CONF, [pair], "nginx/mock.conf", workdir / "mock.conf")


def render_lunaroute_config(
    workdir: Path, ports: Ports, name: str = "lunaroute-config", recording: bool = False, pii: bool = False
) -> Path:
    """A copy of lunaroute-config/ with the run's ports (and session recording or PII
    redaction on if asked: `pii` is mask mode with every built-in detector, the defaults)."""
    out = workdir / name
    shutil.copytree(LUNAROUTE_CONFIG, out, dirs_exist_ok=True)
    server = out / "server.yaml"
    pairs = [
        (f"bind: 127.0.0.1:{DEFAULTS['openai']}\n", f"bind: 127.0.0.1:{ports.openai}\n"),
        (f"bind: 127.0.0.1:{DEFAULTS['anthropic']}\n", f"bind: 127.0.0.1:{ports.anthropic}\n"),
        (f"bind: 127.0.0.1:{DEFAULTS['metrics']}\n", f"bind: 127.0.0.1:{ports.metrics}\n"),
        (f"base_url: http://127.0.0.1:{DEFAULTS['mock']}", f"base_url: http://127.0.0.1:{ports.mock}"),
    ]
    if recording:
        pairs.append(("  sessions:\n    enabled: false\n", "  sessions:\n    enabled: true\n"))
    if pii:
        pairs.append(("\npii:\n  enabled: false\n", "\npii:\n  enabled: true\n"))
    server.write_text(_replace_all(server.read_text(), pairs, "lunaroute-config/server.yaml"))
    return out


def render_nginx_proxy_conf(workdir: Path, ports: Ports) -> Path:
    pairs = [
        (f"listen 127.0.0.1:{DEFAULTS['nginx_proxy']} ", f"listen 127.0.0.1:{ports.nginx_proxy} "),
        (f"server 127.0.0.1:{DEFAULTS['mock']};", f"server 127.0.0.1:{ports.mock};"),
        (f"Host 127.0.0.1:{DEFAULTS['mock']};", f"Host 127.0.0.1:{ports.mock};"),
    ]
    return _render(NGINX_PROXY_CONF, pairs, "nginx/proxy.conf", workdir / "nginx-proxy.conf")


def render_rust_peer_config(workdir: Path, ports: Ports) -> Path:
    pairs = [
        (f"\nport: {DEFAULTS['rust_peer']}\n", f"\nport: {ports.rust_peer}\n"),
        (f"base_url: http://127.0.0.1:{DEFAULTS['mock']}", f"base_url: http://127.0.0.1:{ports.mock}"),
    ]
    return _render(RUST_PEER_CONFIG, pairs, "rust-peer/config.yaml", workdir / "rust-peer-config.yaml")


def render_litellm_config(workdir: Path, ports: Ports) -> Path:
    pair = (f"api_base: http://127.0.0.1:{DEFAULTS['mock']}", f"api_base: http://127.0.0.1:{ports.mock}")
    return _render(LITELLM_CONFIG, [pair], "litellm/config.yaml", workdir / "litellm-config.yaml")


# The limits variants (limits_bench.py). `key`: one client key (argon2id), nothing else; `file`
# and `redis`: that key with a rate limit far above what a run sends (so it never refuses, yet
# every request takes a token) and a budget of two windows with limits no run reaches, so every
# request is admitted and settled against both, on the `file` or the `redis` state backend.
LIMITS_VARIANTS = ("key", "file", "redis")
BENCH_RATE = {"requests_per_second": 1_000_000, "burst": 1_000_000}
BENCH_BUDGET = {
    "id": "bench-budget",
    "scope": {"type": "key", "id": "key_bench"},
    "windows": [
        {"type": "daily", "limits": {"tokens": 10**12, "requests": 10**9, "cost_cents": 10**9}},
        {"type": "monthly", "limits": {"cost_cents": 10**10}},
    ],
}


def render_limits_config(
    workdir: Path, ports: Ports, variant: str, key_hash: str, redis_url: str | None = None
) -> Path:
    """lunaroute-config/ with the run's ports plus one of LIMITS_VARIANTS."""
    if variant not in LIMITS_VARIANTS:
        raise TemplateError(f"unknown limits variant {variant!r}")
    out = render_lunaroute_config(workdir, ports, name=f"lunaroute-limits-{variant}-config")
    key = {"id": "key_bench", "name": "bench", "key_hash": key_hash, "tenant": "bench"}
    if variant != "key":
        key["rate_limit"] = BENCH_RATE
        (out / "budgets.json").write_text(json.dumps({"budgets": [BENCH_BUDGET]}, indent=2) + "\n")
    (out / "keys.json").write_text(json.dumps({"api_keys": [key]}, indent=2) + "\n")
    if variant == "redis":
        if redis_url is None:
            raise TemplateError("the redis variant needs a redis_url")
        server = out / "server.yaml"
        pair = ("state:\n  backend: file\n", f"state:\n  backend: redis\n  redis_url: {redis_url}\n")
        server.write_text(_replace_all(server.read_text(), [pair], "lunaroute-config/server.yaml"))
    return out


def render_features_config(workdir: Path, ports: Ports, key_hash: str) -> Path:
    """Every per-request feature on at once (run_bench.py --with-features): session recording,
    PII redaction (mask, every built-in detector), one client key that every request must
    carry, with the `file` limits variant's rate limit and budget (limits no run reaches)."""
    out = render_lunaroute_config(workdir, ports, name="lunaroute-features-config", recording=True, pii=True)
    key = {"id": "key_bench", "name": "bench", "key_hash": key_hash, "tenant": "bench", "rate_limit": BENCH_RATE}
    (out / "keys.json").write_text(json.dumps({"api_keys": [key]}, indent=2) + "\n")
    (out / "budgets.json").write_text(json.dumps({"budgets": [BENCH_BUDGET]}, indent=2) + "\n")
    return out
