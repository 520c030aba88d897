"""The file format and FileSessionStore on real files: round trips for every compression ×
encryption pair, permissions, key rotation, and damaged files reported, never crashed on."""

from __future__ import annotations

import os
import stat
import struct
import zlib
from pathlib import Path

import orjson
import pytest

from lunaroute.recording.format import HEADER, HEADER_SIZE, KIND_SESSION, MAGIC, Codec, RecordError
from lunaroute.recording.keys import KeyRing, create_key_file, key_id_of
from lunaroute.recording.store import STREAM_RECORD_BYTES, FileSessionStore

DOC = {"id": "sess_one", "timestamp": 1_700_000_000.5, "request": {"messages": ["héllo 🚀"] * 50}, "stream": True}


def _events(n: int, size: int = 40) -> list[bytes]:
    return [orjson.dumps({"seq": i, "t_ms": i * 0.5, "event": "delta", "data": "x" * size}) for i in range(n)]


def _store(root: Path, compression: str, encrypt: bool, keyring: KeyRing | None = None) -> FileSessionStore:
    if encrypt and keyring is None:
        keyring = KeyRing(os.urandom(32))
    return FileSessionStore(root, Codec(compression, 5, keyring, encrypt), fsync="always")


@pytest.mark.parametrize("encrypt", [False, True], ids=["plain", "aes-gcm"])
@pytest.mark.parametrize("compression", ["zstd", "lz4", "none"])
def test_round_trip(tmp_path: Path, compression: str, encrypt: bool) -> None:
    store = _store(tmp_path / "sessions", compression, encrypt)
    store.ensure_root()
    events = _events(3000)  # > 1 MiB of events when uncompressed: several stream records
    relative = store.relative_path("sess_one", DOC["timestamp"])
    size = store.write(relative, orjson.dumps(DOC), events)
    path = store.path_of(relative)

    assert relative == "2023/11/14/sess_one.session"
    assert size == path.stat().st_size + store.stream_path(path).stat().st_size
    assert store.read_document(path) == DOC
    back = list(store.iter_events(path))
    assert [e["seq"] for e in back] == list(range(3000))
    assert back[-1] == orjson.loads(events[-1])
    assert list(store.iter_session_files()) == [path]

    raw = path.read_bytes()
    magic, version, flags, kind, _, key_id, length, crc = HEADER.unpack(raw[:HEADER_SIZE])
    assert (magic, version, kind) == (MAGIC, 1, KIND_SESSION)
    assert flags & 0x03 == {"none": 0, "zstd": 1, "lz4": 2}[compression]
    assert bool(flags & 0x04) == encrypt
    assert (key_id != bytes(8)) == encrypt
    assert length == len(raw) - HEADER_SIZE and crc == zlib.crc32(raw[HEADER_SIZE:])
    # Encrypted, nothing of the content is readable on disk.
    assert (b"sess_one" in raw) != encrypt or compression == "zstd"
    with open(store.stream_path(path), "rb") as fh:
        records = sum(1 for _ in store.codec.records(fh))
    # Events go to disk in records of about STREAM_RECORD_BYTES (read back piece by piece).
    assert records == -(-sum(len(e) + 1 for e in events) // STREAM_RECORD_BYTES)

    # 0700 directories, 0600 files, no temp file left behind.
    for directory in (tmp_path / "sessions", path.parent, path.parent.parent, path.parent.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    for file in path.parent.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    assert sorted(p.name for p in path.parent.iterdir()) == ["sess_one.session", "sess_one.stream"]


def test_fresh_nonce_per_record(tmp_path: Path) -> None:
    codec = Codec("none", keyring=KeyRing(os.urandom(32)), encrypt=True)
    a, b = codec.seal(KIND_SESSION, b"same"), codec.seal(KIND_SESSION, b"same")
    assert a[HEADER_SIZE : HEADER_SIZE + 12] != b[HEADER_SIZE : HEADER_SIZE + 12]
    assert a != b


def _write_one(tmp_path: Path, encrypt: bool, compression: str = "zstd") -> tuple[FileSessionStore, Path]:
    store = _store(tmp_path / "sessions", compression, encrypt)
    store.ensure_root()
    relative = store.relative_path("sess_one", DOC["timestamp"])
    store.write(relative, orjson.dumps(DOC), _events(10))
    return store, store.path_of(relative)


def _fix_crc(data: bytearray) -> None:
    struct.pack_into("<I", data, 24, zlib.crc32(bytes(data[HEADER_SIZE:])))


def test_tampered_ciphertext_fails_authentication(tmp_path: Path) -> None:
    store, path = _write_one(tmp_path, encrypt=True)
    data = bytearray(path.read_bytes())
    data[HEADER_SIZE + 20] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(RecordError, match="checksum"):
        store.read_document(path)
    _fix_crc(data)  # a deliberate forger also fixes the CRC: GCM still catches it
    path.write_bytes(bytes(data))
    with pytest.raises(RecordError, match="authentication failed"):
        store.read_document(path)


def test_tampered_header_fails_authentication(tmp_path: Path) -> None:
    store, path = _write_one(tmp_path, encrypt=True)
    data = bytearray(path.read_bytes())
    data[6] = 2  # claims to be a stream record: the header is authenticated data
    path.write_bytes(bytes(data))
    with pytest.raises(RecordError, match="authentication failed"):
        store.read_document(path)


def test_damaged_plain_file_is_caught_by_the_checksum(tmp_path: Path) -> None:
    store, path = _write_one(tmp_path, encrypt=False, compression="none")
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x20
    path.write_bytes(bytes(data))
    with pytest.raises(RecordError, match="checksum"):
        store.read_document(path)


@pytest.mark.parametrize("keep", [0, 10, HEADER_SIZE, HEADER_SIZE + 5, -1])
def test_truncated_session_file(tmp_path: Path, keep: int) -> None:
    store, path = _write_one(tmp_path, encrypt=True)
    data = path.read_bytes()
    path.write_bytes(data[:keep] if keep >= 0 else data[:-1])
    with pytest.raises(RecordError) as err:
        store.read_document(path)
    assert "truncated" in str(err.value) or "exactly one" in str(err.value)


def test_truncated_stream_yields_events_before_the_damage(tmp_path: Path) -> None:
    store = _store(tmp_path / "sessions", "none", False)
    store.ensure_root()
    relative = store.relative_path("sess_one", DOC["timestamp"])
    store.write(relative, orjson.dumps(DOC), _events(12_000, 100))  # several records
    path = store.path_of(relative)
    stream = store.stream_path(path)
    stream.write_bytes(stream.read_bytes()[:-100])
    seen = []
    with pytest.raises(RecordError, match="truncated"):
        for ev in store.iter_events(path):
            seen.append(ev["seq"])
    assert seen and seen == list(range(len(seen)))  # whole records before the cut, in order


def test_not_a_recording(tmp_path: Path) -> None:
    store, path = _write_one(tmp_path, encrypt=False)
    path.write_bytes(b"hello, this is not a session file at all....")
    with pytest.raises(RecordError, match="bad magic"):
        store.read_document(path)


def test_key_rotation_and_missing_keys(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    old = create_key_file(keys / "old.key")
    assert stat.S_IMODE((keys / "old.key").stat().st_mode) == 0o600
    store_old = _store(tmp_path / "sessions", "zstd", True, KeyRing(old))
    store_old.ensure_root()
    rel_old = store_old.relative_path("sess_old", 1_700_000_000)
    store_old.write(rel_old, orjson.dumps({"id": "sess_old"}), None)

    new = create_key_file(keys / "session.key")
    ring = KeyRing.load(keys / "session.key", required=True)
    assert ring.current == new and ring.current_id == key_id_of(new) and len(ring) == 2
    store_new = _store(tmp_path / "sessions", "zstd", True, ring)
    rel_new = store_new.relative_path("sess_new", 1_700_000_000)
    store_new.write(rel_new, orjson.dumps({"id": "sess_new"}), None)
    # The rotated ring reads both generations.
    assert store_new.read_document(store_new.path_of(rel_old))["id"] == "sess_old"
    assert store_new.read_document(store_new.path_of(rel_new))["id"] == "sess_new"
    # A ring without the old key says which key is missing.
    only_new = FileSessionStore(tmp_path / "sessions", Codec(keyring=KeyRing(new)))
    with pytest.raises(RecordError, match=f"no key with id {key_id_of(old).hex()}"):
        only_new.read_document(only_new.path_of(rel_old))
    # And a wrong key of the same id is impossible to mistake for the right one.
    with pytest.raises(RecordError, match="no key"):
        FileSessionStore(tmp_path / "sessions", Codec()).read_document(only_new.path_of(rel_new))


def test_key_file_must_be_32_bytes(tmp_path: Path) -> None:
    bad = tmp_path / "session.key"
    bad.write_bytes(b"short")
    with pytest.raises(ValueError, match="32 raw bytes"):
        KeyRing.load(bad, required=True)
    with pytest.raises(ValueError, match="cannot read"):
        KeyRing.load(tmp_path / "missing.key", required=True)
    assert KeyRing.load(tmp_path / "missing.key", required=False).current is None


def test_compression_level_changes_the_output(tmp_path: Path) -> None:
    data = orjson.dumps([{"n": i, "text": f"word {i % 97} " * 5} for i in range(2000)])
    fast = Codec("zstd", 1).seal(KIND_SESSION, data)
    small = Codec("zstd", 19).seal(KIND_SESSION, data)
    assert len(small) < len(fast) < len(data)
    assert Codec().open(small[:HEADER_SIZE], small[HEADER_SIZE:]) == (KIND_SESSION, data)
