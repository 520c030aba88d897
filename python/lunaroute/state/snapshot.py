"""The file backend's on-disk copy: every record of the table, written by atomic rename.

Format: b"LRLSNAP1", u32 count, then per record u8 key length, the key, 4 doubles; a CRC-32
of everything before it closes the file. A torn or foreign file fails the check and is
ignored (with a warning) rather than restoring garbage.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..config.atomic import write_atomic
from .file_table import ENTRY_SIZE, HEADER_SIZE, RECORD, Record

log = logging.getLogger("lunaroute.state")

MAGIC = b"LRLSNAP1"
_COUNT = struct.Struct("<I")
_CRC = struct.Struct("<I")


def encode(entries: Iterable[tuple[bytes, Record]]) -> bytes:
    body = bytearray()
    count = 0
    for key, record in entries:
        body.append(len(key))
        body += key
        body += RECORD.pack(*record)
        count += 1
    data = MAGIC + _COUNT.pack(count) + bytes(body)
    return data + _CRC.pack(zlib.crc32(data))


def decode(data: bytes) -> list[tuple[bytes, Record]]:
    """The records of a snapshot; ValueError when it is not an intact one."""
    if len(data) < len(MAGIC) + _COUNT.size + _CRC.size or not data.startswith(MAGIC):
        raise ValueError("not a limits snapshot")
    body, (crc,) = data[: -_CRC.size], _CRC.unpack(data[-_CRC.size :])
    if zlib.crc32(body) != crc:
        raise ValueError("checksum mismatch")
    (count,) = _COUNT.unpack_from(body, len(MAGIC))
    at = len(MAGIC) + _COUNT.size
    out: list[tuple[bytes, Record]] = []
    for _ in range(count):
        length = body[at]
        key = bytes(body[at + 1 : at + 1 + length])
        at += 1 + length
        out.append((key, RECORD.unpack_from(body, at)))
        at += RECORD.size
    if at != len(body):
        raise ValueError("trailing bytes")
    return out


def entries_of_copy(copy: bytes, capacity: int) -> Iterator[tuple[bytes, Record]]:
    """The records of a raw copy of a table's directory and records (taken under its lock,
    decoded outside it so the lock is held only for one memory copy)."""
    records_at = capacity * ENTRY_SIZE
    for index in range(capacity):
        at = index * ENTRY_SIZE
        length = copy[at]
        if length:
            yield bytes(copy[at + 1 : at + 1 + length]), RECORD.unpack_from(copy, records_at + index * RECORD.size)


def table_copy(buffer: object, capacity: int) -> bytes:
    end = HEADER_SIZE + capacity * (ENTRY_SIZE + RECORD.size)
    return bytes(memoryview(buffer)[HEADER_SIZE:end])  # type: ignore[arg-type]


def write(path: Path, entries: Iterable[tuple[bytes, Record]]) -> None:
    write_atomic(path, encode(entries), mode=0o600)
    # The rename itself must reach the disk too, or a power cut could bring back the old file.
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path: Path) -> list[tuple[bytes, Record]]:
    """The snapshot's records; none when it is missing or damaged (a warning says which)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        log.warning("cannot read the limits snapshot %s: %s; starting from zero", path, exc)
        return []
    try:
        return decode(data)
    except (ValueError, struct.error, IndexError) as exc:
        log.warning("ignoring a damaged limits snapshot %s (%s); starting from zero", path, exc)
        return []
