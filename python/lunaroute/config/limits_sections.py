"""server.yaml `rate_limits` and `pricing` (docs/LIMITS.md).

rate_limits:
  global: {requests_per_second: 500, burst: 1000, tokens_per_minute: 2000000}
  tenants:
    "*":  {requests_per_second: 50, burst: 100}     # each tenant without its own entry
    acme: {requests_per_second: 200, tokens_per_minute: 500000}
pricing:
  my-finetune:  {input: 3.0, output: 12.0}           # USD per million tokens
  local/gpt-4o: {input: 0, output: 0}                # provider/model: that provider only
  gpt-4o:       {input: 2.5, output: 10.0, cache_read: 1.25, cheaper: gpt-4o-mini}
"""

from __future__ import annotations

from typing import Any

from ..bad_value import describe
from .reader import Obj
from .schema import RateLimit, RateLimitsConfig
from .vocabulary import TENANT

MAX_PRICE = 1_000_000.0  # USD per million tokens


def parse_rate_limit(sec: Obj) -> RateLimit | None:
    """A `{requests_per_second, burst, tokens_per_minute}` object; None when it sets nothing."""
    rps = sec.num("requests_per_second", None, min=0.0, max=1_000_000.0, min_exclusive=True)
    burst = sec.int("burst", None, min=1, max=100_000_000)
    tpm = sec.int("tokens_per_minute", None, min=1, max=10**12)
    if burst is not None and rps is None:
        raise sec.error("burst", "needs requests_per_second")
    sec.finish()
    if rps is None and tpm is None:
        return None
    return RateLimit(requests_per_second=rps, burst=burst, tokens_per_minute=tpm)


def parse_rate_limits(doc: Obj) -> RateLimitsConfig:
    sec = doc.obj("rate_limits")
    global_limit = parse_rate_limit(sec.obj("global"))
    tenants_sec = sec.obj("tenants")
    tenants: dict[str, RateLimit] = {}
    for name in tenants_sec.data:
        if name != "*" and not TENANT.fullmatch(name):
            raise tenants_sec.error(name, f"not a tenant name (letters, digits or '_.:@-', or '*'): {describe(name)}")
        limit = parse_rate_limit(tenants_sec.obj(name, required=True))
        if limit is not None:
            tenants[name] = limit
    tenants_sec.finish()
    sec.finish()
    return RateLimitsConfig(global_limit=global_limit, tenants=tenants)


def parse_pricing(doc: Obj) -> dict[str, dict[str, Any]]:
    """model → price line; `input` and `output` are required, the cache prices default to the
    shipped table's (a known model) or to the input price."""
    sec = doc.obj("pricing")
    out: dict[str, dict[str, Any]] = {}
    for model in sec.data:
        if not model.strip() or any(c in model for c in "\r\n\0"):
            raise sec.error(model, "not a model name")
        entry = sec.obj(model, required=True)
        line: dict[str, Any] = {
            "input": entry.num("input", min=0.0, max=MAX_PRICE),
            "output": entry.num("output", min=0.0, max=MAX_PRICE),
        }
        for name in ("cache_read", "cache_write"):
            value = entry.num(name, None, min=0.0, max=MAX_PRICE)
            if value is not None:
                line[name] = value
        cheaper = entry.str("cheaper", None)
        if cheaper is not None:
            line["cheaper"] = cheaper
        entry.finish()
        out[model] = line
    sec.finish()
    return out
