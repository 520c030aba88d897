"""The tokenize key and the vault that maps tokens back to the values they replaced.

One random 32-byte key file (`<config>/keys/pii.key`, mode 0600, created when missing) is
the root secret; HKDF-SHA256 derives from it the HMAC key that names tokens and the
AES-256-GCM key that seals the vault. The vault is an append-only file
(`<data>/pii/vault.bin`, mode 0600) of records `u32 length | 12-byte nonce | ciphertext`,
each sealing `token NUL value`; several processes may append to it (one `write` per record
on an O_APPEND descriptor), and a reader that misses a token re-reads what others added.
"""

from __future__ import annotations

import hmac
import logging
import os
import struct
from hashlib import sha256
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger("lunaroute.pii")

KEY_FILE = "pii.key"
KEY_BYTES = 32
VAULT_FILE = "vault.bin"
_AAD = b"lunaroute pii vault v1"
_NONCE = 12
_HEADER = struct.Struct(">I")


def load_or_create_key(keys_dir: Path) -> bytes:
    """The root key, created (0600) on first use. A key file of the wrong size is an error:
    silently replacing it would orphan every token issued so far."""
    path = keys_dir / KEY_FILE
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it meanwhile
            key = path.read_bytes()
        else:
            key = os.urandom(KEY_BYTES)
            with os.fdopen(fd, "wb") as f:
                f.write(key)
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path}: a PII key file must hold exactly {KEY_BYTES} raw bytes, it has {len(key)}")
    return key


def derive(root: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(root)


class Tokenizer:
    """Stable tokens: the same type and value always give the same token under one key."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = key

    def token(self, kind: str, value: str) -> str:
        label = kind.upper()
        digest = hmac.new(self._key, f"{label}\x00{value}".encode(), sha256).hexdigest()
        return f"<{label}_{digest[:12]}>"


class Vault:
    """token -> original value, in memory, and sealed on disk when given a path."""

    __slots__ = ("_aead", "_path", "_values", "_offset")

    def __init__(self, key: bytes, path: Path | None) -> None:
        self._aead = AESGCM(key)
        self._path = path
        self._values: dict[str, str] = {}
        self._offset = 0
        if path is not None:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._read_new()

    def __len__(self) -> int:
        return len(self._values)

    def put(self, token: str, value: str) -> None:
        known = self._values.get(token)
        if known is not None:
            if known != value:
                log.warning("pii vault: token %s already names another value; keeping the first", token)
            return
        self._values[token] = value
        if self._path is not None:
            nonce = os.urandom(_NONCE)
            sealed = nonce + self._aead.encrypt(nonce, f"{token}\x00{value}".encode(), _AAD)
            fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, _HEADER.pack(len(sealed)) + sealed)
            finally:
                os.close(fd)

    def get(self, token: str) -> str | None:
        value = self._values.get(token)
        if value is None and self._path is not None and self._read_new():
            value = self._values.get(token)
        return value

    def _read_new(self) -> bool:
        """Load records appended since the last read; whether any were."""
        assert self._path is not None
        try:
            with open(self._path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return False
        pos = 0
        added = False
        while pos + _HEADER.size <= len(data):
            (size,) = _HEADER.unpack_from(data, pos)
            if pos + _HEADER.size + size > len(data):
                break  # a record still being written
            blob = data[pos + _HEADER.size : pos + _HEADER.size + size]
            pos += _HEADER.size + size
            try:
                plain = self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], _AAD)
            except InvalidTag:
                log.warning("pii vault %s: a record does not decrypt with this key; skipped", self._path)
                continue
            token, _, value = plain.decode().partition("\x00")
            self._values.setdefault(token, value)
            added = True
        self._offset += pos
        return added
