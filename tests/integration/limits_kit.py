"""Helpers of the limits integration tests: client keys with real argon2 hashes, budgets,
concurrent bursts through a running gateway, `lunaroute budgets --json`, metric values."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx
from argon2 import PasswordHasher

from lunaroute.tenancy.keys import generate_key

from .gateway import Gateway

# Real argon2id hashes, verified by the server as any other, with a lower cost than
# `lunaroute keys create` uses (64 MiB, 3 passes: ~0.7 s per hash or check on this loaded
# 2-core box), so that creating keys and each process's first check stay quick.
_TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)

OPENAI_PATH = "/v1/chat/completions"
ANTHROPIC_PATH = "/v1/messages"


@dataclass(frozen=True)
class ClientKey:
    secret: str  # what a client sends
    entry: dict[str, Any]  # its keys.json entry

    @property
    def id(self) -> str:
        return self.entry["id"]


def client_key(
    key_id: str,
    *,
    tenant: str = "default",
    rate: dict[str, Any] | None = None,
    budget: str | None = None,
) -> ClientKey:
    """A key as `lunaroute keys create` stores it: only its argon2id hash goes to keys.json."""
    secret = generate_key()
    entry: dict[str, Any] = {
        "id": key_id,
        "name": key_id,
        "key_hash": _TEST_HASHER.hash(secret),
        "tenant": tenant,
        "scopes": ["openai_ingress", "anthropic_ingress"],
    }
    if rate is not None:
        entry["rate_limit"] = rate
    if budget is not None:
        entry["budget_id"] = budget
    return ClientKey(secret, entry)


def with_rate(key: ClientKey, rate: dict[str, Any] | None) -> dict[str, Any]:
    """The key's keys.json entry with another rate limit (same secret, same hash)."""
    entry = {k: v for k, v in key.entry.items() if k != "rate_limit"}
    if rate is not None:
        entry["rate_limit"] = rate
    return entry


def budget(
    budget_id: str,
    scope: dict[str, Any],
    limits: dict[str, int],
    *,
    window: str = "daily",
    soft: float | None = None,
    actions: list[str] | None = None,
    **enforcement: Any,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": budget_id, "scope": scope, "windows": [{"type": window, "limits": limits}]}
    rules: dict[str, Any] = dict(enforcement)
    if soft is not None:
        rules["soft_limit_percent"] = soft
    if actions is not None:
        rules["actions"] = actions
    if rules:
        entry["enforcement"] = rules
    return entry


def chat_body(dialect: str, model: str, text: str = "hi", stream: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": text}]}
    if dialect == "anthropic":
        body["max_tokens"] = 50
    if stream:
        body["stream"] = True
    return body


def headers_for(dialect: str, secret: str) -> dict[str, str]:
    if dialect == "anthropic":
        return {"x-api-key": secret, "anthropic-version": "2023-06-01"}
    return {"authorization": f"Bearer {secret}"}


def url_for(gw: Gateway, dialect: str) -> str:
    return gw.anthropic_url + ANTHROPIC_PATH if dialect == "anthropic" else gw.openai_url + OPENAI_PATH


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


def send(
    gw: Gateway, dialect: str, secret: str, model: str, *, stream: bool = False, text: str = "hi", timeout: float = 10
) -> Reply:
    t0 = time.monotonic()
    with httpx.Client(timeout=timeout) as client:
        r = client.post(
            url_for(gw, dialect), json=chat_body(dialect, model, text, stream), headers=headers_for(dialect, secret)
        )
        return Reply(r.status_code, r.headers, r.content, time.monotonic() - t0)


def burst(targets: list[tuple[Gateway, str]], secret: str, model: str, n: int, timeout: float = 10) -> list[Reply]:
    """`n` requests at once, spread round-robin over `targets` (gateway, dialect), each on its
    own connection (so a multi-worker server spreads them over its workers)."""

    async def one(client: httpx.AsyncClient, i: int) -> Reply:
        gw, dialect = targets[i % len(targets)]
        t0 = time.monotonic()
        r = await client.post(
            url_for(gw, dialect), json=chat_body(dialect, model), headers=headers_for(dialect, secret)
        )
        return Reply(r.status_code, r.headers, r.content, time.monotonic() - t0)

    async def run() -> list[Reply]:
        limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
            return await asyncio.gather(*(one(client, i) for i in range(n)))

    return asyncio.run(run())


def budgets_json(gw: Gateway) -> dict[str, Any]:
    """`lunaroute budgets --json` on the gateway's config: what a person sees."""
    out = subprocess.run(
        [sys.executable, "-m", "lunaroute", "budgets", "--json", "--config-dir", str(gw.config_dir)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **gw.env},
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def usage_of(snapshot: dict[str, Any], budget_id: str, window: str = "daily") -> dict[str, Any]:
    budget = next(b for b in snapshot["budgets"] if b["id"] == budget_id)
    return next(w for w in budget["windows"] if w["type"] == window)["usage"]


def metric(text: str, name: str, labels: dict[str, str] | None = None) -> float | None:
    """The value of one series in a Prometheus exposition, None when absent."""
    want = labels or {}
    for line in text.splitlines():
        m = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if not m:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1) or ""))
        if all(have.get(k) == v for k, v in want.items()):
            return float(m.group(2))
    return None


def wait_for(check, timeout: float, interval: float = 0.05) -> float | None:
    """Seconds until `check()` held, None when it never did within `timeout`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if check():
            return time.monotonic() - t0
        time.sleep(interval)
    return None


def warm(gw: Gateway, secret: str) -> None:
    """One authenticated GET on a fresh connection: the serving process verifies the key's
    argon2 hash now and caches it, so later bursts measure the limits, not argon2."""
    with httpx.Client(timeout=30) as client:
        r = client.get(gw.openai_url + "/v1/models", headers=headers_for("openai", secret))
        assert r.status_code == 200, r.text
