"""Audit lines (logger `lunaroute.audit`): what a configuration reload changed, and every
client key that appeared, went away or changed in keys.json, whoever edited it (`lunaroute
keys create|delete`, a person, a deployment tool).

A line names sections, providers, rule counts and key ids, names, tenants and scopes; never
a key hash, a provider key or any other value read from the files.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("lunaroute.audit")

# Config attributes whose change a reload reports, by the name a person knows them by.
_SECTIONS = (
    ("server", "server"),
    ("listeners", "listeners"),
    ("providers", "providers"),
    ("routes_raw", "routes"),
    ("keys", "keys"),
    ("budgets", "budgets"),
    ("prompts", "prompts"),
    ("storage", "storage"),
    ("pii", "pii"),
    ("state", "state"),
    ("observability", "observability"),
    ("performance", "performance"),
    ("rate_limits", "rate_limits"),
    ("pricing", "pricing"),
    ("bypass", "bypass"),
)
_KEY_FIELDS = ("name", "tenant", "scopes", "rps", "burst", "tpm", "budget_id", "expires_at", "key_hash")


def _emit(msg: str, **fields: Any) -> None:
    log.info(msg, extra={"fields": {"audit": True, **fields}})


def changed_sections(old: Any, new: Any) -> list[str]:
    return [name for attr, name in _SECTIONS if getattr(old, attr, None) != getattr(new, attr, None)]


def audit_reload(old: Any, new: Any) -> None:
    """One line for the reload, then one per key created, deleted or changed."""
    old_providers, new_providers = set(old.providers), set(new.providers)
    _emit(
        "config reloaded",
        event="config_reload",
        config_dir=str(new.config_dir),
        changed=changed_sections(old, new),
        providers_added=sorted(new_providers - old_providers),
        providers_removed=sorted(old_providers - new_providers),
        providers_changed=sorted(p for p in old_providers & new_providers if old.providers[p] != new.providers[p]),
        providers=len(new.providers),
        rules=len(new.routes),
        keys=len(new.keys),
    )
    audit_keys(old.keys, new.keys)


def audit_keys(old_keys: list[Any], new_keys: list[Any]) -> None:
    before = {k.id: k for k in old_keys}
    after = {k.id: k for k in new_keys}
    for key_id in sorted(after.keys() - before.keys()):
        key = after[key_id]
        _emit(
            "key created",
            event="key_created",
            key_id=key_id,
            name=key.name,
            tenant=key.tenant,
            scopes=list(key.scopes),
        )
    for key_id in sorted(before.keys() - after.keys()):
        key = before[key_id]
        _emit("key deleted", event="key_deleted", key_id=key_id, name=key.name, tenant=key.tenant)
    for key_id in sorted(before.keys() & after.keys()):
        was, now = before[key_id], after[key_id]
        fields = [f for f in _KEY_FIELDS if getattr(was, f, None) != getattr(now, f, None)]
        if fields:
            # "key_hash" changed means a new secret under the same id: said, never shown.
            _emit(
                "key changed",
                event="key_changed",
                key_id=key_id,
                fields=["secret" if f == "key_hash" else f for f in fields],
            )
