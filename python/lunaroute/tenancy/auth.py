"""Client authentication against keys.json (CONTRACT §4).

Keys are stored as argon2id hashes only. Verifying argon2 costs tens of milliseconds on
purpose, so a verified credential is remembered by its SHA-256 (never the key itself) and
later requests cost one dict lookup. Unknown credentials are remembered too (bounded), so a
client hammering a wrong key cannot make every request pay for argon2.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import AuthenticationError, PermissionDeniedError

_SCOPES = {"openai": "openai_ingress", "anthropic": "anthropic_ingress"}
_NEG_CACHE = 4096


def credential_from(headers: Mapping[str, str], dialect: str) -> str | None:
    auth = headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    if dialect == "anthropic":
        return headers.get("x-api-key") or None
    return None


def _expired(expires_at: str | None) -> bool:
    if not expires_at:
        return False
    try:
        when = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
    except ValueError:
        return True  # an unreadable expiry must not mean "valid forever"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when <= datetime.now(UTC)


class Authenticator:
    def __init__(self, keys: list) -> None:
        self.keys = list(keys)
        self.required = bool(self.keys)
        self._hasher = PasswordHasher()
        self._known: dict[bytes, object] = {}
        self._unknown: OrderedDict[bytes, None] = OrderedDict()

    def _verify(self, credential: str):
        for key in self.keys:
            try:
                if self._hasher.verify(key.key_hash, credential):
                    return key
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                continue
        return None

    async def authenticate(self, headers: Mapping[str, str], dialect: str):
        """The ApiKey of the caller, or raises 401/403 in the contract's terms."""
        cred = credential_from(headers, dialect)
        if cred is None:
            want = "Authorization: Bearer <key>" + (" or x-api-key" if dialect == "anthropic" else "")
            raise AuthenticationError(f"missing API key: send {want}")
        digest = hashlib.sha256(cred.encode()).digest()
        key = self._known.get(digest)
        if key is None:
            if digest in self._unknown:
                raise AuthenticationError("invalid API key")
            key = await asyncio.to_thread(self._verify, cred)
            if key is None:
                self._unknown[digest] = None
                if len(self._unknown) > _NEG_CACHE:
                    self._unknown.popitem(last=False)
                raise AuthenticationError("invalid API key")
            self._known[digest] = key
        scope = _SCOPES[dialect]
        if scope not in key.scopes:  # type: ignore[attr-defined]
            raise PermissionDeniedError(f"this key lacks the '{scope}' scope")
        if _expired(key.expires_at):  # type: ignore[attr-defined]
            raise PermissionDeniedError("this key has expired")
        return key
