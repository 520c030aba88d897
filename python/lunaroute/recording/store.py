"""FileSessionStore: one file per session under `<data>/sessions/YYYY/MM/DD/`.

`<id>.session` holds one record (the session document, JSON); `<id>.stream` holds the
stream's events as NDJSON split over records of about 1 MiB, so a long stream is read back
piece by piece. Files appear atomically, whole or not at all: each is written to an unnamed
file in its directory (O_TMPFILE) that is then linked under its name, so no reader or crash
ever sees it half written. Where the file system has no O_TMPFILE (or /proc is not mounted
to link it through), a hidden temp file in the same directory is renamed instead. The
writer keeps its day directory open and names files relative to it. Directories are 0700,
files 0600.

Durability (`fsync` policy):
- `always`: every file is fsynced before it is named and its directory after; a batch is on
  disk before the index learns of it, even across a power cut.
- `batch` (default): files are named as written; one sync of the file system per batch,
  before the index commit. A power cut mid-batch can leave torn files, which readers skip.
Once on disk (`always`, `batch`), a file's pages are dropped from the page cache.
- `never`: no sync. Safe against a crashed or killed process (the kernel still holds every
  completed write), not against a power cut.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from .format import KIND_SESSION, KIND_STREAM, Codec, RecordError

log = logging.getLogger("lunaroute.recording")

FSYNC_POLICIES = ("always", "batch", "never")
SESSION_SUFFIX = ".session"
STREAM_SUFFIX = ".stream"
TMP_SUFFIX = ".tmp"
STREAM_RECORD_BYTES = 1 << 20
DIR_MODE = 0o700
FILE_MODE = 0o600
_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
# What open(O_TMPFILE) fails with where the kernel or file system lacks it (or a security
# module refuses it), and what linking it through /proc/self/fd fails with where that is not
# allowed (ENOENT: /proc is not mounted). Unless the directory itself is gone: then the
# caller makes it again.
_NO_TMPFILE = frozenset({errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.EACCES})
_NO_LINK = frozenset({errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.EPERM, errno.EACCES})
_DONTNEED: int | None = getattr(os, "POSIX_FADV_DONTNEED", None)
_OPEN_DIRS = 4  # day directories kept open (only today's, and yesterday's around midnight, are written)


@functools.lru_cache(maxsize=16)
def _day_dir_of(day_number: int) -> str:
    return datetime.fromtimestamp(day_number * 86400, UTC).strftime("%Y/%m/%d")


def day_dir(timestamp: float) -> str:
    """`YYYY/MM/DD` (UTC) of a unix time."""
    return _day_dir_of(int(timestamp // 86400))


class FileSessionStore:
    def __init__(self, root: Path, codec: Codec, fsync: str = "batch") -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"unknown fsync policy {fsync!r}")
        self.root = Path(root)
        self._root = str(self.root)
        self.codec = codec
        self.fsync = fsync
        self._dirs_made: set[str] = set()
        self._dirty_dirs: set[str] = set()
        self._dir_fds: dict[str, int] = {}
        self._to_drop: list[tuple[str, str]] = []  # (directory, name) written since the last sync
        self.tmpfile = bool(_O_TMPFILE) and os.path.isdir("/proc/self/fd")

    # ------------------------------------------------------------------ paths
    def ensure_root(self) -> None:
        make_private_dir(self.root)

    def relative_path(self, session_id: str, timestamp: float) -> str:
        return f"{day_dir(timestamp)}/{session_id}{SESSION_SUFFIX}"

    def path_of(self, relative: str) -> Path:
        return self.root / relative

    @staticmethod
    def stream_path(session_path: Path) -> Path:
        return session_path.with_suffix(STREAM_SUFFIX)

    # ------------------------------------------------------------------ writing
    def write(self, relative: str, document: bytes, stream_lines: list[bytes] | None) -> int:
        """Write a session (and its stream events, when given); returns the bytes written.
        The `.stream` file is renamed into place first, so a `.session` file that exists
        always has its stream beside it."""
        # Plain strings, not Path objects: this runs once per session on the writer thread.
        directory, _, name = f"{self._root}/{relative}".rpartition("/")
        size = 0
        if stream_lines:
            stream_data = b"".join(self._stream_records(stream_lines))
            self._write_file(directory, name[: -len(SESSION_SUFFIX)] + STREAM_SUFFIX, stream_data)
            size += len(stream_data)
        data = self.codec.seal(KIND_SESSION, document)
        self._write_file(directory, name, data)
        return size + len(data)

    def _stream_records(self, lines: list[bytes]) -> Iterator[bytes]:
        part: list[bytes] = []
        size = 0
        for line in lines:
            part.append(line)
            size += len(line) + 1
            if size >= STREAM_RECORD_BYTES:
                yield self.codec.seal(KIND_STREAM, b"\n".join(part) + b"\n")
                part, size = [], 0
        if part:
            yield self.codec.seal(KIND_STREAM, b"\n".join(part) + b"\n")

    def _write_file(self, directory: str, name: str, data: bytes) -> None:
        try:
            self._place(directory, name, data)
        except OSError:
            # A retention sweep (ours or another process's) may have removed the emptied
            # directory we keep open (O_TMPFILE in it then fails with EPERM, a link with ENOENT).
            if not self._dir_replaced(directory):
                raise
            self._forget_dir(directory)
            self._place(directory, name, data)
        if self.fsync == "always":
            self._dirty_dirs.add(directory)
        elif self.fsync == "batch" and _DONTNEED is not None:
            self._to_drop.append((directory, name))

    def _place(self, directory: str, name: str, data: bytes) -> None:
        dir_fd = self._dir_fd(directory)
        if self.tmpfile:
            try:
                fd = os.open(".", os.O_WRONLY | _O_TMPFILE, FILE_MODE, dir_fd=dir_fd)
            except OSError as exc:
                if exc.errno not in _NO_TMPFILE or self._dir_replaced(directory):
                    raise  # (O_TMPFILE in a removed directory fails with EPERM)
                self._no_tmpfile(exc)
            else:
                try:
                    self._fill(fd, data)
                    os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dir_fd)
                    return
                except FileExistsError:
                    pass  # the same session written again (a replay): replaced below, as a rename does
                except OSError as exc:
                    unsupported = exc.errno in _NO_LINK or (exc.errno == errno.ENOENT and _no_proc())
                    if not unsupported or self._dir_replaced(directory):
                        raise
                    self._no_tmpfile(exc)
                finally:
                    os.close(fd)  # an unnamed file that was not linked vanishes with its last fd
        self._place_by_rename(dir_fd, name, data)

    def _place_by_rename(self, dir_fd: int, name: str, data: bytes) -> None:
        tmp = f".{name}.{os.getpid()}{TMP_SUFFIX}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE, dir_fd=dir_fd)
        try:
            self._fill(fd, data)
        except BaseException:
            os.close(fd)
            _unlink(tmp, dir_fd)
            raise
        os.close(fd)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)

    def _fill(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if self.fsync == "always":
            os.fsync(fd)
            if _DONTNEED is not None:
                os.posix_fadvise(fd, 0, 0, _DONTNEED)

    def _no_tmpfile(self, exc: OSError) -> None:
        self.tmpfile = False
        log.info("recording: no O_TMPFILE here (%s); files are placed by rename", exc.strerror or exc)

    def _dir_fd(self, directory: str) -> int:
        fd = self._dir_fds.get(directory)
        if fd is None:
            self._ensure_dir(directory)
            if len(self._dir_fds) >= _OPEN_DIRS:
                self.close_dirs()
            fd = self._dir_fds[directory] = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        return fd

    def _dir_replaced(self, directory: str) -> bool:
        """Whether the directory kept open is no longer the one at its path (or none is)."""
        fd = self._dir_fds.get(directory)
        try:
            now = os.stat(directory)
        except FileNotFoundError:
            return True
        if fd is None:
            return False
        held = os.fstat(fd)
        return (held.st_dev, held.st_ino) != (now.st_dev, now.st_ino)

    def _forget_dir(self, directory: str) -> None:
        self._dirs_made.discard(directory)
        fd = self._dir_fds.pop(directory, None)
        if fd is not None:
            os.close(fd)

    def close_dirs(self) -> None:
        """Close the directories kept open for writing (they are reopened when needed)."""
        fds, self._dir_fds = self._dir_fds, {}
        for fd in fds.values():
            os.close(fd)

    def _ensure_dir(self, directory: str) -> None:
        if directory in self._dirs_made:
            return
        make_private_dir(Path(directory), stop_at=self.root)
        if len(self._dirs_made) > 64:  # old days are never written again
            self._dirs_made.clear()
        self._dirs_made.add(directory)

    def sync_batch(self) -> None:
        """Make the batch written since the last call durable, as the policy asks."""
        if self.fsync == "always":
            for directory in self._dirty_dirs:
                fd = self._dir_fds.get(directory)
                if fd is None:
                    fsync_dir(directory)
                else:
                    os.fsync(fd)
            self._dirty_dirs.clear()
        elif self.fsync == "batch":
            to_drop, self._to_drop = self._to_drop, []
            sync_filesystem(self.root)
            self._drop_cached(to_drop)

    def _drop_cached(self, files: list[tuple[str, str]]) -> None:
        """Drop synced files from the page cache. A session file is written once and seldom
        read again, and the pages freed are the next ones written: cheaper than fresh ones
        (on a VM whose memory is touched for the first time, by far), and the page cache
        keeps what is read (the index)."""
        advice = _DONTNEED
        if advice is None:
            return
        for directory, name in files:
            dir_fd = self._dir_fds.get(directory)
            try:
                fd = os.open(name if dir_fd is not None else f"{directory}/{name}", os.O_RDONLY, dir_fd=dir_fd)
            except OSError:
                continue  # removed meanwhile (a sweep, a replaced session): nothing to drop
            try:
                os.posix_fadvise(fd, 0, 0, advice)
            except OSError:
                pass
            finally:
                os.close(fd)

    # ------------------------------------------------------------------ reading
    def read_document(self, path: Path) -> dict[str, Any]:
        """The session document of a `.session` file; RecordError when it is unreadable."""
        try:
            with open(path, "rb") as fh:
                records = list(self.codec.records(fh))
        except OSError as exc:
            raise RecordError(f"cannot read: {exc.strerror or exc}") from None
        if len(records) != 1 or records[0][0] != KIND_SESSION:
            raise RecordError("not a session file (expected exactly one session record)")
        try:
            doc = orjson.loads(records[0][1])
        except orjson.JSONDecodeError as exc:
            raise RecordError(f"session document is not JSON: {exc}") from None
        if not isinstance(doc, dict) or "id" not in doc:
            raise RecordError("session document lacks an id")
        return doc

    def iter_events(self, session_path: Path) -> Iterator[dict[str, Any]]:
        """The stream events of a session, one at a time; RecordError on a damaged record
        (the events before it have been yielded)."""
        path = self.stream_path(session_path)
        try:
            fh = open(path, "rb")
        except OSError as exc:
            raise RecordError(f"stream file: {exc.strerror or exc}") from None
        with fh:
            for kind, data in self.codec.records(fh):
                if kind != KIND_STREAM:
                    raise RecordError("stream file holds a record of another kind")
                for line in data.splitlines():
                    if line:
                        yield orjson.loads(line)

    def iter_session_files(self) -> Iterator[Path]:
        """Every `.session` file, oldest day first (names sort by time within a day when
        the ids are LunaRoute's own)."""
        for year in _sorted_numeric_dirs(self.root, 4):
            for month in _sorted_numeric_dirs(year, 2):
                for day in _sorted_numeric_dirs(month, 2):
                    try:
                        names = sorted(os.listdir(day))
                    except OSError:
                        continue
                    for name in names:
                        if name.endswith(SESSION_SUFFIX) and not name.startswith("."):
                            yield day / name

    def day_dirs(self) -> Iterator[tuple[Path, str]]:
        """(directory, `YYYY-MM-DD`) of every day directory, oldest first."""
        for year in _sorted_numeric_dirs(self.root, 4):
            for month in _sorted_numeric_dirs(year, 2):
                for day in _sorted_numeric_dirs(month, 2):
                    yield day, f"{year.name}-{month.name}-{day.name}"


def make_private_dir(directory: Path, stop_at: Path | None = None) -> None:
    """mkdir -p with mode 0700 on every directory it creates (whatever the umask)."""
    missing: list[Path] = []
    current = Path(directory)
    while not current.is_dir():
        missing.append(current)
        if stop_at is not None and current == stop_at:
            break
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(path, DIR_MODE)


def fsync_dir(directory: str | Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_libc: Any = None


def sync_filesystem(path: Path) -> None:
    """syncfs(2) of the file system holding `path` (Linux); os.sync() elsewhere."""
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        try:
            _libc = ctypes.CDLL(name, use_errno=True) if name else False
        except OSError:
            _libc = False
    syncfs = getattr(_libc, "syncfs", None) if _libc else None
    if syncfs is None:
        os.sync()
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        os.sync()
        return
    try:
        if syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def _sorted_numeric_dirs(parent: Path, width: int) -> list[Path]:
    try:
        names = os.listdir(parent)
    except OSError:
        return []
    return [parent / n for n in sorted(names) if len(n) == width and n.isdigit() and (parent / n).is_dir()]


def _unlink(path: str, dir_fd: int | None = None) -> None:
    try:
        os.unlink(path, dir_fd=dir_fd)
    except FileNotFoundError:
        pass


def _no_proc() -> bool:
    return not os.path.isdir("/proc/self/fd")
