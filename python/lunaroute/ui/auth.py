"""Who may see the UI.

The UI is open only when it listens on loopback (127.0.0.0/8, ::1, `localhost`) and
keys.json holds no key at all, the same local mode the client listeners have. Otherwise
every page asks for a login: a client key with the `admin` scope, typed into a form. The key
is checked against its argon2id hash once; the browser gets a random session token in an
HttpOnly, SameSite=Strict cookie (never the key), which this process keeps in memory, so a
restart logs everyone out. A session ends when it expires, on logout, or as soon as its key
is deleted, expires or loses the scope (checked on every request against the live config).

Open on loopback, the UI still answers only requests whose Host is a loopback name: a web
page that points its own domain at 127.0.0.1 (DNS rebinding) gets nothing.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from ..config.schema import ApiKey
from ..tenancy.auth import _expired
from ..tenancy.keys import verify_key

ADMIN_SCOPE = "admin"
COOKIE = "lunaroute_ui"
MAX_SESSIONS = 1024
_NEG_CACHE = 1024


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 and `localhost`; anything else (0.0.0.0 too) is beyond loopback."""
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_of(header: str | None) -> str:
    """The host name of a Host header value (`[::1]:8082` → `::1`)."""
    if not header:
        return ""
    header = header.strip()
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


def login_required(bind_host: str, keys: Sequence[ApiKey]) -> bool:
    return not is_loopback_host(bind_host) or bool(keys)


def admin_keys(keys: Sequence[ApiKey]) -> list[ApiKey]:
    return [k for k in keys if ADMIN_SCOPE in k.scopes and not _expired(k.expires_at)]


@dataclass(slots=True)
class Session:
    key_id: str
    key_name: str
    expires_at: float


class Sessions:
    """Login tokens of this process. Thread-safe: logins are checked on worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._failed: OrderedDict[bytes, None] = OrderedDict()

    def login(self, keys: Sequence[ApiKey], credential: str, lifetime_s: float) -> tuple[str, Session] | None:
        """A new session token for an admin key, or None. Slow on purpose (argon2)."""
        digest = hashlib.sha256(credential.encode()).digest()
        candidates = admin_keys(keys)
        with self._lock:
            if digest in self._failed:
                return None
        for key in candidates:
            if verify_key(key.key_hash, credential):
                token = secrets.token_urlsafe(32)
                session = Session(key.id, key.name, time.time() + lifetime_s)
                with self._lock:
                    self._sessions[token] = session
                    while len(self._sessions) > MAX_SESSIONS:
                        self._sessions.popitem(last=False)
                return token, session
        with self._lock:
            # A wrong key is refused at once next time: guessing costs argon2 only once per guess.
            self._failed[digest] = None
            if len(self._failed) > _NEG_CACHE:
                self._failed.popitem(last=False)
        return None

    def check(self, token: str | None, keys: Sequence[ApiKey]) -> Session | None:
        if not token:
            return None
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if session.expires_at <= time.time() or not any(k.id == session.key_id for k in admin_keys(keys)):
                del self._sessions[token]
                return None
            return session

    def logout(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._sessions.pop(token, None)

    def forget_failures(self) -> None:
        """After a reload: a key refused before may be an admin key now."""
        with self._lock:
            self._failed.clear()
