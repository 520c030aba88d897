"""What the kernel says about processes and sockets, read from /proc (no psutil)."""

from __future__ import annotations

import os
import time
from pathlib import Path

# /proc/net/tcp{,6} socket state of a listening socket
_TCP_LISTEN = "0A"


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm (field 2) may hold spaces and parentheses: everything after the last ")" is fixed
    return text[text.rindex(")") + 2 :].split()


def children_of(pid: int) -> set[int]:
    kids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and fields[1] == str(pid):
                kids.add(int(entry))
    return kids


def alive(pid: int) -> bool:
    """Running, not a zombie: an orphaned zombie may never be reaped in a container."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def listening(port: int) -> bool:
    """Whether any socket on this machine listens on the TCP port (any address)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == _TCP_LISTEN and int(cols[1].rsplit(":", 1)[1], 16) == port:
                return True
    return False


def wait_until(check, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def kill_all(pids) -> None:
    """Clean-up after a failed test: leave no stray gateway behind."""
    for pid in pids:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
