"""keys.json (`api_keys: [...]`) → ApiKey list. Only argon2id hashes are ever stored."""

from __future__ import annotations

from typing import Any

from argon2 import extract_parameters
from argon2.exceptions import InvalidHashError

from ..bad_value import describe
from .reader import Obj, element, join
from .schema import ApiKey
from .timestamps import format_timestamp, parse_timestamp
from .vocabulary import DEFAULT_SCOPES, KEY_ID, SCOPES, TENANT


def parse_keys(doc: Any, file: str) -> list[ApiKey]:
    root = Obj(doc, file)
    out: list[ApiKey] = []
    seen: dict[str, int] = {}
    for i, value in root.items("api_keys"):
        item = element(value, file, join("api_keys", i))
        key = _parse_one(item)
        if key.id in seen:
            raise item.error("id", f"duplicate key id '{key.id}' (also api_keys[{seen[key.id]}])")
        seen[key.id] = i
        out.append(key)
    root.finish()
    return out


def _parse_one(item: Obj) -> ApiKey:
    key_id = item.str("id")
    if not KEY_ID.fullmatch(key_id):
        raise item.error("id", f"must be letters, digits, '_', '.' or '-' (at most 128), got {describe(key_id)}")
    key_hash = item.str("key_hash")
    if not key_hash.startswith("$argon2id$"):
        raise item.error("key_hash", "must be an argon2id hash ($argon2id$...); keys are never stored in clear")
    try:
        extract_parameters(key_hash)
    except (InvalidHashError, ValueError, TypeError):
        raise item.error("key_hash", "not a well-formed argon2id hash") from None
    tenant = item.str("tenant", "default")
    if not TENANT.fullmatch(tenant):
        raise item.error("tenant", f"must be letters, digits or '_.:@-' (at most 128), got {describe(tenant)}")
    scopes = item.str_list("scopes", list(DEFAULT_SCOPES), choices=SCOPES)
    rate = item.obj("rate_limit")
    rps = rate.num("requests_per_second", None, min=0.0, max=1_000_000.0, min_exclusive=True)
    burst = rate.int("burst", None, min=1, max=100_000_000)
    tpm = rate.int("tokens_per_minute", None, min=1, max=10**12)
    rate.finish()
    budget_id = item.str("budget_id", None)
    key = ApiKey(
        id=key_id,
        name=item.str("name"),
        key_hash=key_hash,
        tenant=tenant,
        scopes=tuple(scopes),
        rps=rps,
        burst=burst,
        budget_id=budget_id,
        created_at=_timestamp(item, "created_at") or "",
        expires_at=_timestamp(item, "expires_at"),
        tpm=tpm,
    )
    item.finish()
    return key


def _timestamp(item: Obj, key: str) -> str | None:
    value = item.raw(key, None)
    if value is None:
        return None
    when = parse_timestamp(value)
    if when is None:
        raise item.error(key, f"expected an ISO 8601 timestamp, got {describe(value)}")
    return format_timestamp(when)
