"""A real `lunaroute serve` with the web UI on, and plain HTTP against it."""

from __future__ import annotations

import http.client
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lunaroute.tenancy.keys import hash_key
from tests.integration.gateway import Gateway, free_port, provider, rule

UPSTREAM_SECRET = "sk-upstream-DO-NOT-SHOW-4f9c"
ADMIN_KEY = "lr-" + "A" * 40
CLIENT_KEY = "lr-" + "C" * 40


def admin_keys() -> list[dict[str, Any]]:
    """One admin key and one plain client key (argon2id hashes, as keys.json holds them)."""
    return [
        {"id": "key_ops", "name": "ops", "key_hash": hash_key(ADMIN_KEY), "tenant": "acme", "scopes": ["admin"]},
        {
            "id": "key_ci",
            "name": "ci",
            "key_hash": hash_key(CLIENT_KEY),
            "tenant": "acme",
            "scopes": ["openai_ingress", "anthropic_ingress"],
            "rate_limit": {"requests_per_second": 5, "burst": 10},
            "budget_id": "acme-daily",
        },
    ]


BUDGETS = [
    {
        "id": "acme-daily",
        "scope": {"type": "tenant", "id": "acme"},
        "windows": [{"type": "daily", "limits": {"requests": 1000, "cost_cents": 500}}],
    }
]


def ui_gateway(
    root: Path, upstream_url: str, *, ui_host: str = "127.0.0.1", keys: list[dict] | None = None, **kwargs: Any
) -> tuple[Gateway, int]:
    """A gateway recording sessions (data dir `<root>/config/data`) with its UI on `ui_host`."""
    ui_port = free_port()
    providers = [
        provider("up-openai", "openai", upstream_url, api_key_env="LR_UI_UPSTREAM_KEY"),
        provider("up-anthropic", "anthropic", upstream_url, api_key_env="LR_UI_UPSTREAM_KEY"),
    ]
    rules = [
        rule("oai", "openai", "gpt-*", "up-openai", priority=10),
        rule("anth", "anthropic", "claude-*", "up-anthropic", priority=20),
    ]
    gw = Gateway(
        root,
        providers,
        rules,
        keys=keys,
        budgets=BUDGETS if keys else None,
        storage={"sessions": {"enabled": True, "flush_interval_ms": 50}},
        sections={"ui": {"enabled": True, "bind": f"{ui_host}:{ui_port}"}},
        env={"LR_UI_UPSTREAM_KEY": UPSTREAM_SECRET},
        **kwargs,
    )
    return gw, ui_port


def data_dir(gw: Gateway) -> Path:
    return gw.config_dir / "data"


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            get(port, "/static/ui.css")
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the UI did not answer on port {port}")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    cookies: list[str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    host: str = "127.0.0.1",
) -> Answer:
    conn = http.client.HTTPConnection(host, port, timeout=15)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return Answer(
            resp.status,
            {k.lower(): v for k, v in resp.getheaders()},
            resp.headers.get_all("set-cookie") or [],
            data,
        )
    finally:
        conn.close()


def get(port: int, path: str, cookie: str | None = None, **kwargs: Any) -> Answer:
    headers = dict(kwargs.pop("headers", {}) or {})
    if cookie:
        headers["cookie"] = cookie
    return request(port, "GET", path, headers=headers, **kwargs)


def login(port: int, key: str, next_path: str = "/", origin: str | None = None) -> Answer:
    from urllib.parse import urlencode

    headers = {"content-type": "application/x-www-form-urlencoded", "host": f"127.0.0.1:{port}"}
    if origin is not None:
        headers["origin"] = origin
    return request(port, "POST", "/login", body=urlencode({"key": key, "next": next_path}).encode(), headers=headers)


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
_INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=|\son[a-z]+\s*=", re.I)


def inline_code(html: str) -> list[str]:
    """Inline scripts, style blocks or attributes and event handlers: what the CSP forbids."""
    return _INLINE_SCRIPT.findall(html) + _INLINE_STYLE.findall(html)
