"""Client API keys: creating, listing and deleting them in the config directory's keys file.

A key is `lr-` followed by 40 random base62 characters (about 238 bits). Only its argon2id
hash is stored; the key itself is shown once by `lunaroute keys create` and never again.
Edits are whole-file atomic rewrites under an exclusive lock on the config directory, so two
concurrent `keys create` never lose each other's key, and a running server's hot reload
never reads half a file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import string
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..config.atomic import write_atomic
from ..config.budgets_file import parse_budgets
from ..config.envsubst import substitute
from ..config.files import DEFAULT_NAMES, discover, read_document
from ..config.keys_file import parse_keys
from ..config.schema import ApiKey
from ..config.timestamps import format_timestamp, now_utc
from ..config.vocabulary import DEFAULT_SCOPES
from ..config.writers import dump_document
from ..errors import ConfigError

KEY_PREFIX = "lr-"
KEY_CHARS = 40
_ALPHABET = string.ascii_letters + string.digits
# argon2-cffi's defaults are RFC 9106's low-memory profile (t=3, m=64 MiB, p=4), type id.
_HASHER = PasswordHasher()


def generate_key() -> str:
    return KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(KEY_CHARS))


def hash_key(key: str) -> str:
    """The argon2id hash (PHC string, `$argon2id$v=19$...`) of `key`."""
    return _HASHER.hash(key)


def verify_key(key_hash: str, key: str) -> bool:
    try:
        return _HASHER.verify(key_hash, key)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def keys_file_path(config_dir: Path) -> Path:
    """The keys file of `config_dir` (whatever its extension), else where keys.json goes."""
    return discover(config_dir).get("keys", config_dir / DEFAULT_NAMES["keys"])


def list_keys(config_dir: Path) -> list[ApiKey]:
    path = keys_file_path(config_dir)
    if not path.exists():
        return []
    return parse_keys(substitute(read_document(path), path.name), path.name)


def create_key(
    config_dir: Path,
    name: str,
    *,
    scopes: Sequence[str] | None = None,
    tenant: str = "default",
    rps: float | None = None,
    burst: int | None = None,
    budget_id: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[str, ApiKey]:
    """Add a key to the keys file. Returns (the key in clear, its stored entry)."""
    key = generate_key()
    key_hash = hash_key(key)  # slow on purpose (argon2): done before taking the lock
    with _locked(config_dir):
        path, doc = _load_raw(config_dir)
        existing = {k.id for k in parse_keys(substitute(doc, path.name), path.name)}
        if budget_id is not None:
            _check_budget(config_dir, budget_id)
        key_id = _new_id(existing)
        entry: dict[str, Any] = {
            "id": key_id,
            "name": name,
            "key_hash": key_hash,
            "tenant": tenant,
            "scopes": list(scopes) if scopes else list(DEFAULT_SCOPES),
        }
        if rps is not None or burst is not None:
            entry["rate_limit"] = {k: v for k, v in (("requests_per_second", rps), ("burst", burst)) if v is not None}
        entry["budget_id"] = budget_id
        entry["created_at"] = format_timestamp(now_utc().replace(microsecond=0))
        entry["expires_at"] = format_timestamp(expires_at) if expires_at is not None else None
        new_doc = {**doc, "api_keys": [*(doc.get("api_keys") or []), entry]}
        # Validate the result exactly as the server will read it before it replaces the file.
        stored = parse_keys(substitute(new_doc, path.name), path.name)[-1]
        write_atomic(path, dump_document(new_doc, path.name), _mode_for(path))
    return key, stored


def delete_key(config_dir: Path, key_id: str) -> bool:
    """Remove the key `key_id`; False when there is no such key."""
    with _locked(config_dir):
        path, doc = _load_raw(config_dir)
        parse_keys(substitute(doc, path.name), path.name)  # refuse to rewrite a broken file
        entries = doc.get("api_keys") or []
        kept = [e for e in entries if e.get("id") != key_id]
        if len(kept) == len(entries):
            return False
        write_atomic(path, dump_document({**doc, "api_keys": kept}, path.name), _mode_for(path))
    return True


def _load_raw(config_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The keys file and its decoded, not env-substituted content (what gets written back)."""
    path = keys_file_path(config_dir)
    doc = read_document(path) if path.exists() else {"api_keys": []}
    if not isinstance(doc, dict):
        raise ConfigError(path.name, "", "expected a mapping with an 'api_keys' list")
    return path, doc


def _check_budget(config_dir: Path, budget_id: str) -> None:
    path = discover(config_dir).get("budgets")
    budgets = parse_budgets(substitute(read_document(path), path.name), path.name) if path else []
    if budget_id not in {b["id"] for b in budgets}:
        name = path.name if path else DEFAULT_NAMES["budgets"]
        raise ConfigError(name, "budgets", f"no budget with id '{budget_id}'")


def _new_id(existing: set[str]) -> str:
    while True:
        key_id = "key_" + secrets.token_hex(8)
        if key_id not in existing:
            return key_id


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o600


@contextlib.contextmanager
def _locked(config_dir: Path) -> Iterator[None]:
    """An exclusive advisory lock on the config directory itself (no lock file left behind)."""
    if not config_dir.is_dir():
        raise ConfigError(str(config_dir), "", "config directory not found (run `lunaroute init`)")
    try:
        fd = os.open(config_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise ConfigError(str(config_dir), "", f"cannot open: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
