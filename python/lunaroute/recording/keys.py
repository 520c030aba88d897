"""Session encryption keys: the configured key file, plus the older keys beside it.

A key is 32 raw bytes. Its id (stored in every encrypted record's header) is the first 8
bytes of SHA-256 over a fixed label and the key, so it names the key without revealing it.
Rotating: write the new key to `key_file` and keep the old one in the same directory under
any other name ending in `.key`; records written under either key stay readable.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

KEY_BYTES = 32
_LABEL = b"lunaroute-session-key-id\0"

log = logging.getLogger("lunaroute.recording")


def key_id_of(key: bytes) -> bytes:
    return hashlib.sha256(_LABEL + key).digest()[:8]


def create_key_file(path: Path) -> bytes:
    """A fresh random key in a new file of mode 0600 (refuses to overwrite)."""
    key = os.urandom(KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


class KeyRing:
    """The keys records can be opened with; `current` is the one new records are sealed with."""

    def __init__(self, current: bytes | None = None, others: list[bytes] | tuple[bytes, ...] = ()) -> None:
        self._keys: dict[bytes, bytes] = {}
        for key in others:
            self._keys[key_id_of(key)] = key
        self.current = current
        self.current_id = key_id_of(current) if current is not None else bytes(8)
        if current is not None:
            self._keys[self.current_id] = current

    @classmethod
    def load(cls, key_file: Path, *, required: bool) -> KeyRing:
        """The key of `key_file` (an error when `required` and it is missing or not 32 bytes)
        and every other 32-byte `*.key` file of its directory."""
        current: bytes | None = None
        try:
            data = key_file.read_bytes()
        except OSError as exc:
            if required:
                raise ValueError(f"cannot read the session key {key_file}: {exc.strerror or exc}") from None
        else:
            if len(data) == KEY_BYTES:
                current = data
            elif required:
                raise ValueError(f"the session key {key_file} must hold exactly {KEY_BYTES} raw bytes")
        others: list[bytes] = []
        try:
            siblings = sorted(key_file.parent.glob("*.key"))
        except OSError:
            siblings = []
        for path in siblings:
            if path.name == key_file.name:
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if len(data) == KEY_BYTES:
                others.append(data)
        return cls(current, others)

    def key(self, key_id: bytes) -> bytes:
        return self._keys[key_id]

    def __len__(self) -> int:
        return len(self._keys)
