"""How FileSessionStore puts a file in place: unnamed (O_TMPFILE) then linked under its name,
or, where that is unavailable, a hidden temp file renamed. Either way a file that can be seen
is whole, nothing else is ever seen in the directory, and a rewritten session is replaced."""

from __future__ import annotations

import ctypes
import mmap
import os
import shutil
import stat
import threading
from pathlib import Path

import orjson
import pytest

from lunaroute.recording import store as store_module
from lunaroute.recording.format import Codec
from lunaroute.recording.store import FileSessionStore

TS = 1_700_000_000.0


def _store(root: Path, fsync: str = "batch") -> FileSessionStore:
    store = FileSessionStore(root, Codec("none"), fsync=fsync)
    store.ensure_root()
    return store


def _without_o_tmpfile(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a kernel without O_TMPFILE does: O_TMPFILE carries O_DIRECTORY precisely so that
    such kernels fail the open (EISDIR for a directory opened for writing) instead of
    creating a file; opening with O_DIRECTORY alone gets that real answer from this kernel."""
    monkeypatch.setattr(store_module, "_O_TMPFILE", os.O_DIRECTORY)


@pytest.mark.parametrize("placement", ["tmpfile", "rename"])
def test_a_visible_file_is_always_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, placement: str) -> None:
    if placement == "rename":
        _without_o_tmpfile(monkeypatch)
    store = _store(tmp_path / "sessions")
    # Big, uncompressed documents: each write takes long enough for a reader to catch it midway.
    docs = [orjson.dumps({"id": f"sess_{i:03d}", "timestamp": TS, "pad": "x" * (2 << 20)}) for i in range(40)]
    day = store.path_of(store.relative_path("sess_000", TS)).parent
    day.mkdir(parents=True)
    seen: dict[str, int] = {}
    problems: list[str] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            for name in os.listdir(day):
                if name.startswith("."):
                    seen[name] = seen.get(name, 0) + 1
                    continue
                if not name.endswith(".session"):
                    problems.append(f"unexpected entry {name}")
                    continue
                try:
                    doc = store.read_document(day / name)
                except Exception as exc:  # a partly written file would fail its length or checksum
                    problems.append(f"{name}: {exc}")
                    continue
                seen[name] = seen.get(name, 0) + 1
                if len(doc["pad"]) != 2 << 20:
                    problems.append(f"{name}: short document")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i, doc in enumerate(docs):
            store.write(store.relative_path(f"sess_{i:03d}", TS), doc, None)
    finally:
        done.set()
        thread.join()

    assert problems == []
    assert sorted(os.listdir(day)) == [f"sess_{i:03d}.session" for i in range(40)]
    assert any(not n.startswith(".") for n in seen), "the reader never saw a file: the test proved nothing"
    if placement == "tmpfile":
        assert store.tmpfile, "O_TMPFILE is expected on Linux file systems the tests run on"
        assert not [n for n in seen if n.startswith(".")], "an unnamed file never has a name to be seen"
    else:
        assert not store.tmpfile


def test_without_o_tmpfile_files_are_renamed_into_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _without_o_tmpfile(monkeypatch)
    store = _store(tmp_path / "sessions", fsync="always")
    events = [orjson.dumps({"seq": i, "t_ms": 0.0, "event": "delta", "data": "d"}) for i in range(5)]
    relative = store.relative_path("sess_old_kernel", TS)
    store.write(relative, orjson.dumps({"id": "sess_old_kernel", "timestamp": TS}), events)
    path = store.path_of(relative)

    assert store.tmpfile is False
    assert store.read_document(path) == {"id": "sess_old_kernel", "timestamp": TS}
    assert [e["seq"] for e in store.iter_events(path)] == list(range(5))
    assert sorted(os.listdir(path.parent)) == ["sess_old_kernel.session", "sess_old_kernel.stream"]
    assert {stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()} == {0o600}


@pytest.mark.parametrize("placement", ["tmpfile", "rename"])
def test_a_session_written_again_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, placement: str) -> None:
    if placement == "rename":
        _without_o_tmpfile(monkeypatch)
    store = _store(tmp_path / "sessions")
    relative = store.relative_path("sess_twice", TS)
    store.write(relative, orjson.dumps({"id": "sess_twice", "n": 1}), None)
    store.write(relative, orjson.dumps({"id": "sess_twice", "n": 2}), None)  # a replayed spill does this

    path = store.path_of(relative)
    assert store.read_document(path) == {"id": "sess_twice", "n": 2}
    assert os.listdir(path.parent) == ["sess_twice.session"]
    assert store.tmpfile is (placement == "tmpfile")


@pytest.mark.parametrize("placement", ["tmpfile", "rename"])
def test_a_day_directory_removed_under_the_writer_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, placement: str
) -> None:
    if placement == "rename":
        _without_o_tmpfile(monkeypatch)
    store = _store(tmp_path / "sessions")
    first = store.relative_path("sess_first", TS)
    store.write(first, orjson.dumps({"id": "sess_first"}), None)
    day = store.path_of(first).parent
    shutil.rmtree(day)  # what a sweep does to a day it found empty, while the writer holds it open

    second = store.relative_path("sess_second", TS)
    store.write(second, orjson.dumps({"id": "sess_second"}), None)

    assert store.read_document(store.path_of(second)) == {"id": "sess_second"}
    assert os.listdir(day) == ["sess_second.session"]
    assert stat.S_IMODE(day.stat().st_mode) == 0o700
    # O_TMPFILE in the removed directory failed (EPERM): that is no reason to give it up.
    assert store.tmpfile is (placement == "tmpfile")
    store.close_dirs()


def _resident_pages(path: Path) -> int:
    """How many of the file's pages are in the page cache (mincore(2) on a shared mapping)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    size = path.stat().st_size
    pages = -(-size // mmap.PAGESIZE)
    fd = os.open(path, os.O_RDONLY)
    try:
        addr = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        assert addr not in (None, ctypes.c_void_p(-1).value), ctypes.get_errno()
        try:
            vec = ctypes.create_string_buffer(pages)
            assert libc.mincore(addr, size, vec) == 0, ctypes.get_errno()
            return sum(b & 1 for b in vec.raw)
        finally:
            libc.munmap(addr, size)
    finally:
        os.close(fd)


@pytest.mark.parametrize("fsync", ["batch", "always", "never"])
def test_synced_files_leave_the_page_cache(tmp_path: Path, fsync: str) -> None:
    store = FileSessionStore(tmp_path / "sessions", Codec("none"), fsync=fsync)
    store.ensure_root()
    relative = store.relative_path("sess_cached", TS)
    events = [orjson.dumps({"seq": i, "t_ms": 0.0, "event": "delta", "data": "e" * 500}) for i in range(40)]
    store.write(relative, orjson.dumps({"id": "sess_cached", "pad": "p" * 20000}), events)
    files = [store.path_of(relative), store.stream_path(store.path_of(relative))]
    whole = [-(-f.stat().st_size // mmap.PAGESIZE) for f in files]
    assert min(whole) >= 5
    if fsync != "always":  # `always` syncs and drops each file as it is written
        assert [_resident_pages(f) for f in files] == whole  # dirty, not yet on disk

    store.sync_batch()

    # Unsynced pages cannot be dropped (nor should they be).
    assert [_resident_pages(f) for f in files] == (whole if fsync == "never" else [0, 0])
    session = files[0]
    assert store.read_document(session)["pad"] == "p" * 20000
    store.close_dirs()
