"""The on-disk record: a versioned header, then the payload (compressed, optionally encrypted).

Every recording file (`.session`, `.stream`, spill files) is a sequence of records:

    offset size field
    0      4    magic  b"LRSF"
    4      1    format version (1)
    5      1    flags: bits 0-1 compression (0 none, 1 zstd, 2 lz4), bit 2 encrypted
    6      1    kind (1 session, 2 stream events, 3 spilled exchange)
    7      1    reserved (0)
    8      8    key id (zeros when not encrypted)
    16     8    payload length (little endian)
    24     4    CRC-32 of the payload
    28     -    payload

An encrypted payload is nonce (12 bytes) + AES-256-GCM ciphertext + tag, with the first 24
header bytes as associated data, so a flipped flag or key id fails authentication too. The
CRC makes damage in unencrypted files (and torn writes) detectable before decompression.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .keys import KeyRing

MAGIC = b"LRSF"
VERSION = 1
HEADER = struct.Struct("<4sBBBB8sQI")
HEADER_SIZE = HEADER.size
_AAD_SIZE = 24  # the header up to (not including) the CRC

KIND_SESSION = 1
KIND_STREAM = 2
KIND_SPILL = 3

COMPRESSIONS = {"none": 0, "zstd": 1, "lz4": 2}
_COMPRESSION_NAMES = {v: k for k, v in COMPRESSIONS.items()}
_FLAG_ENCRYPTED = 0x04
_NONCE = 12
_NO_KEY = bytes(8)
# A length beyond this is a damaged header, not a record (nothing LunaRoute writes is near it).
MAX_PAYLOAD = 1 << 32


class RecordError(Exception):
    """A record that cannot be read: truncated, damaged, tampered with, or its key is missing."""


class Codec:
    """Seals and opens records. Not thread-safe (the zstd contexts are per object): one per
    thread. Opening handles every compression and any key of the ring, whatever `compression`
    and `encrypt` say (those choose how new records are written)."""

    def __init__(
        self, compression: str = "zstd", level: int = 3, keyring: KeyRing | None = None, encrypt: bool = False
    ) -> None:
        if compression not in COMPRESSIONS:
            raise ValueError(f"unknown compression {compression!r}")
        if encrypt and (keyring is None or keyring.current is None):
            raise ValueError("encryption needs a key")
        self.compression = compression
        self.level = level
        self.keyring = keyring or KeyRing()
        self.encrypt = encrypt
        self._zc: zstandard.ZstdCompressor | None = None
        self._zd: zstandard.ZstdDecompressor | None = None
        self._aead: dict[bytes, AESGCM] = {}

    # ------------------------------------------------------------------ writing
    def seal(self, kind: int, plaintext: bytes, compression: str | None = None) -> bytes:
        """Header + payload of one record; `compression` overrides the codec's for this record."""
        comp = COMPRESSIONS[compression or self.compression]
        body = self._compress(comp, plaintext)
        flags = comp
        key_id = _NO_KEY
        if self.encrypt:
            ring = self.keyring
            key_id = ring.current_id
            flags |= _FLAG_ENCRYPTED
            nonce = os.urandom(_NONCE)
            length = _NONCE + len(body) + 16
            aad = HEADER.pack(MAGIC, VERSION, flags, kind, 0, key_id, length, 0)[:_AAD_SIZE]
            body = nonce + self._cipher(key_id).encrypt(nonce, body, aad)
        header = HEADER.pack(MAGIC, VERSION, flags, kind, 0, key_id, len(body), zlib.crc32(body))
        return header + body

    def _compress(self, comp: int, data: bytes) -> bytes:
        if comp == 1:
            if self._zc is None:
                self._zc = zstandard.ZstdCompressor(level=self.level, write_checksum=True)
            return self._zc.compress(data)
        if comp == 2:
            import lz4.frame

            compressed: bytes = lz4.frame.compress(data, content_checksum=True)
            return compressed
        return data

    # ------------------------------------------------------------------ reading
    def open(self, header: bytes, payload: bytes) -> tuple[int, bytes]:
        """(kind, plaintext) of a record whose header and whole payload were read."""
        magic, version, flags, kind, _, key_id, length, crc = HEADER.unpack(header)
        if zlib.crc32(payload) != crc:
            raise RecordError("checksum mismatch (damaged file)")
        comp = flags & 0x03
        if comp not in _COMPRESSION_NAMES:
            raise RecordError(f"unknown compression code {comp}")
        body = payload
        if flags & _FLAG_ENCRYPTED:
            if len(body) < _NONCE + 16:
                raise RecordError("encrypted payload too short")
            try:
                cipher = self._cipher(key_id)
            except KeyError:
                raise RecordError(f"no key with id {key_id.hex()} (keep rotated keys beside the key file)") from None
            try:
                body = cipher.decrypt(body[:_NONCE], body[_NONCE:], header[:_AAD_SIZE])
            except InvalidTag:
                raise RecordError("authentication failed (tampered with, or the wrong key)") from None
        try:
            return kind, self._decompress(comp, body)
        except Exception as exc:  # every decompressor raises its own error types
            raise RecordError(f"cannot decompress ({_COMPRESSION_NAMES[comp]}): {exc}") from None

    def _decompress(self, comp: int, data: bytes) -> bytes:
        if comp == 1:
            if self._zd is None:
                self._zd = zstandard.ZstdDecompressor()
            return self._zd.decompress(data)
        if comp == 2:
            import lz4.frame

            plain: bytes = lz4.frame.decompress(data)
            return plain
        return data

    def _cipher(self, key_id: bytes) -> AESGCM:
        cipher = self._aead.get(key_id)
        if cipher is None:
            cipher = self._aead[key_id] = AESGCM(self.keyring.key(key_id))
        return cipher

    def records(self, fh: BinaryIO) -> Iterator[tuple[int, bytes]]:
        """Every record of a file, in order; a damaged record raises RecordError (the ones
        before it have been yielded)."""
        while True:
            header = fh.read(HEADER_SIZE)
            if not header:
                return
            if len(header) < HEADER_SIZE:
                raise RecordError("truncated record header")
            magic, version, _flags, _kind, _, _key, length, _crc = HEADER.unpack(header)
            if magic != MAGIC:
                raise RecordError("not a LunaRoute recording (bad magic)")
            if version != VERSION:
                raise RecordError(f"unsupported format version {version}")
            if length > MAX_PAYLOAD:
                raise RecordError("damaged record header (impossible length)")
            payload = fh.read(length)
            if len(payload) < length:
                raise RecordError(f"truncated record ({len(payload)} of {length} payload bytes)")
            yield self.open(header, payload)
