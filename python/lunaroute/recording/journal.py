"""The writer's journal: which session files a batch is about to create, until the index has them.

A batch is noted here before its files are written and cleared after the index commit, so a
process killed in between leaves a list of exactly the files the index may lack. Each
writer holds an flock on its own journal (`.journal-<pid>-<n>`); a journal nobody holds
belongs to a dead process, and the next writer to start indexes what it lists.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from pathlib import Path

_PREFIX = ".journal-"
# Only paths the store itself writes: YYYY/MM/DD/<id>.session.
_RELATIVE = re.compile(r"\d{4}/\d{2}/\d{2}/[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\.session")


class Journal:
    def __init__(self, root: Path, fsync: bool) -> None:
        self.path = Path(root) / f"{_PREFIX}{os.getpid()}-{time.time_ns()}"
        self._fsync = fsync
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._dirty = False

    def note(self, relatives: list[str]) -> None:
        if not relatives:
            return
        data = ("\n".join(relatives) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        if self._fsync:
            os.fsync(self._fd)
        self._dirty = True

    def clear(self) -> None:
        if self._dirty:
            os.ftruncate(self._fd, 0)
            self._dirty = False

    def abandon(self) -> None:
        """Release the journal but keep it: it lists files the index still lacks."""
        os.close(self._fd)

    def close(self) -> None:
        """Only once the index has every file noted: the journal is removed."""
        os.close(self._fd)
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def orphaned_journals(root: Path) -> list[tuple[Path, list[str], int]]:
    """(journal, the session paths it lists, its locked fd) of every journal whose writer is
    gone. The caller indexes the paths, then `release_journal(path, fd)`."""
    found: list[tuple[Path, list[str], int]] = []
    try:
        names = sorted(n for n in os.listdir(root) if n.startswith(_PREFIX))
    except OSError:
        return found
    for name in names:
        path = Path(root) / name
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # a live writer's
        with os.fdopen(os.dup(fd), "rb") as fh:
            text = fh.read().decode("utf-8", "replace")
        # A torn last line (killed mid-write) fails the pattern and is dropped.
        paths = [line for line in text.splitlines() if _RELATIVE.fullmatch(line)]
        found.append((path, list(dict.fromkeys(paths)), fd))
    return found


def release_journal(path: Path, fd: int) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.close(fd)
