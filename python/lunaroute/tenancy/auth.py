"""Client authentication against keys.json (CONTRACT §4).

Keys are stored as argon2id hashes only. Verifying argon2 costs tens of milliseconds on
purpose, so a verified credential is remembered by its SHA-256 (never the key itself) and
later requests cost one dict lookup. Unknown credentials are remembered too (bounded), so a
client hammering a wrong key cannot make every request pay for argon2. Concurrent requests
with the same new credential share one verification: a client opening 16 connections at once
must not start 16 argon2 runs (64 MiB each), which on one core took seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..config.schema import ApiKey
from ..dialects.base import ClientDialect
from ..errors import AuthenticationError, PermissionDeniedError

_NEG_CACHE = 4096
# Every LunaRoute client key starts so (`lunaroute keys create`); such a value is never a
# provider credential, whatever header it came in.
CLIENT_KEY_PREFIX = "lr-"


def _bearer(headers: Mapping[str, str]) -> str | None:
    auth = headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
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
    def __init__(self, keys: list[ApiKey]) -> None:
        self.keys = list(keys)
        self.required = bool(self.keys)
        self._hasher = PasswordHasher()
        self._known: dict[bytes, ApiKey] = {}
        self._unknown: OrderedDict[bytes, None] = OrderedDict()
        self._pending: dict[bytes, asyncio.Future[ApiKey | None]] = {}  # verifications running

    def _verify(self, credential: str) -> ApiKey | None:
        for key in self.keys:
            try:
                if self._hasher.verify(key.key_hash, credential):
                    return key
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                continue
        return None

    async def authenticate(self, headers: Mapping[str, str], dialect: ClientDialect) -> ApiKey:
        """The ApiKey of the caller, or raises 401/403 in the contract's terms."""
        cred = dialect.client_credential(headers)
        if cred is None:
            raise AuthenticationError(f"missing API key: send {dialect.credential_hint}")
        digest = hashlib.sha256(cred.encode()).digest()
        key = self._known.get(digest)
        if key is None:
            if digest in self._unknown:
                raise AuthenticationError("invalid API key")
            key = await self._verify_once(digest, cred)
            if key is None:
                raise AuthenticationError("invalid API key")
        scope = dialect.ingress_scope
        if scope not in key.scopes:
            raise PermissionDeniedError(f"this key lacks the '{scope}' scope")
        if _expired(key.expires_at):
            raise PermissionDeniedError("this key has expired")
        return key

    async def _verify_once(self, digest: bytes, cred: str) -> ApiKey | None:
        """The argon2 verdict for `cred`, computed once however many requests wait for it.
        The verification is a task of its own: a waiter that gives up (client gone) does not
        cancel it for the others."""
        task = self._pending.get(digest)
        if task is None:
            task = asyncio.ensure_future(asyncio.to_thread(self._verify, cred))
            self._pending[digest] = task
            task.add_done_callback(lambda done: self._remember(digest, done))
        return await asyncio.shield(task)

    def _remember(self, digest: bytes, task: asyncio.Future[ApiKey | None]) -> None:
        del self._pending[digest]
        if task.cancelled() or task.exception() is not None:
            return
        key = task.result()
        if key is None:
            self._unknown[digest] = None
            if len(self._unknown) > _NEG_CACHE:
                self._unknown.popitem(last=False)
        else:
            self._known[digest] = key

    def upstream_credential(self, headers: Mapping[str, str], dialect: ClientDialect, key: ApiKey | None) -> str | None:
        """The client's own provider key, passed upstream when the provider has none
        configured. Never a LunaRoute key: with client keys on, the credential that
        authenticated stays here, and only a second, provider credential (e.g. `x-api-key`
        beside a Bearer LunaRoute key) may go on."""
        if key is None:
            cred = dialect.client_credential(headers)
            return None if cred is None or cred.startswith(CLIENT_KEY_PREFIX) else cred
        used = dialect.client_credential(headers)
        for cred in (_bearer(headers), headers.get("x-api-key")):
            if cred and cred != used and not cred.startswith(CLIENT_KEY_PREFIX):
                return cred
        return None
