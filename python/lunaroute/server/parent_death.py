"""A worker process never outlives the supervisor that forked it.

Whatever ends the supervisor (SIGKILL, a crash, a signal that arrives before it can handle
signals), its workers must stop too, or they keep serving on the client ports with nobody
to stop them. On Linux the kernel does it: PR_SET_PDEATHSIG sends the worker a signal when
its parent dies. Elsewhere a thread watches `os.getppid()`.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
WATCH_INTERVAL_S = 0.25


def exit_with_parent(parent_pid: int, sig: int = signal.SIGTERM) -> None:
    """Have `sig` sent to this process when `parent_pid` (its parent) exits.

    Exits at once when the parent is already gone: it may have died between the fork and
    this call, and then no signal would ever come.
    """
    if not _set_pdeathsig(sig):
        watch_parent(parent_pid, sig)
    if os.getppid() != parent_pid:
        os._exit(0)


def _set_pdeathsig(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(int(sig)), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def watch_parent(parent_pid: int, sig: int = signal.SIGTERM, interval_s: float = WATCH_INTERVAL_S) -> threading.Thread:
    """The portable way: poll the parent pid (an orphan is re-parented, so it changes)."""

    def watch() -> None:
        while True:
            time.sleep(interval_s)
            if os.getppid() != parent_pid:
                os.kill(os.getpid(), sig)
                return

    thread = threading.Thread(target=watch, name="lunaroute-parent-watch", daemon=True)
    thread.start()
    return thread
