"""What a detected value becomes, per mode.

- remove:   `[REDACTED_EMAIL]`
- mask:     `*` for every character but the last `reveal_chars` (default 0)
- partial:  the value's shape kept (separators, an email's domain, a key's prefix), its
            letters and digits masked but the last `reveal_chars` (default 4)
- tokenize: `<EMAIL_3f9a2c1b7d0e>`, an HMAC of type and value (stable under one key)

Whatever `reveal_chars` says, at most half of a value's characters are ever shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .vault import Tokenizer, Vault

MODES = ("remove", "mask", "partial", "tokenize")
DEFAULT_REVEAL = {"mask": 0, "partial": 4}
_KEY_PREFIX = re.compile(r"^(?:[A-Za-z][A-Za-z0-9]{1,9}[-_]){1,3}")

Replacer = Callable[[str, str], str]


def replacer(mode: str, reveal: int | None, tokenizer: Tokenizer | None, vault: Vault | None) -> Replacer:
    """A function (type, value) -> replacement text."""
    if mode == "remove":
        return lambda kind, value: f"[REDACTED_{kind.upper()}]"
    shown = DEFAULT_REVEAL.get(mode, 0) if reveal is None else reveal
    if mode == "mask":
        return lambda kind, value: _mask(value, shown)
    if mode == "partial":
        return lambda kind, value: _partial(kind, value, shown)
    if mode == "tokenize":
        if tokenizer is None:
            raise ValueError("tokenize mode needs a key")
        token = tokenizer.token
        if vault is None:
            return token

        def tokenize(kind: str, value: str) -> str:
            name = token(kind, value)
            vault.put(name, value)
            return name

        return tokenize
    raise ValueError(f"unknown PII mode {mode!r} (one of {', '.join(MODES)})")


def _mask(value: str, shown: int) -> str:
    keep = min(shown, len(value) // 2)
    return "*" * (len(value) - keep) + (value[len(value) - keep :] if keep else "")


def _partial(kind: str, value: str, shown: int) -> str:
    if kind == "email" and "@" in value:
        local, _, domain = value.rpartition("@")
        return local[:1] + "*" * (len(local) - 1) + "@" + domain
    prefix = ""
    if kind == "api_key":
        m = _KEY_PREFIX.match(value)
        if m and m.end() < len(value) // 2:
            prefix = m.group()
    body = value[len(prefix) :]
    alnum = sum(1 for c in body if c.isalnum())
    keep = min(shown, alnum // 2)
    out = []
    masked_budget = alnum - keep
    for c in body:
        if c.isalnum() and masked_budget > 0:
            out.append("*")
            masked_budget -= 1
        else:
            out.append(c)
    return prefix + "".join(out)
