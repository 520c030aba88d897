"""parent_death: a forked child ends when its parent does (real processes, real signals)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.integration.procs import alive, kill_all, wait_until

# The parent forks a child that arms the mode's guard and then would sleep for a minute;
# the parent prints the child's pid and lives on for `parent_lives_s`.
SCRIPT = """
import os, sys, time
from lunaroute.server.parent_death import exit_with_parent, watch_parent

mode, parent_lives_s = sys.argv[1], float(sys.argv[2])
parent = os.getpid()
pid = os.fork()
if pid == 0:
    if mode == "prctl":
        exit_with_parent(parent)
    elif mode == "thread":
        watch_parent(parent, interval_s=0.05)
    elif mode == "late":
        exit_with_parent(parent + 1)  # as if the parent had died before the guard was armed
    time.sleep(60)
    os._exit(3)
print(pid, flush=True)
time.sleep(parent_lives_s)
"""


def _start(mode: str, parent_lives_s: float) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, mode, str(parent_lives_s)], stdout=subprocess.PIPE, text=True
    )
    return proc, int(proc.stdout.readline())


@pytest.mark.parametrize("mode", ["prctl", "thread"])
def test_child_ends_when_its_parent_ends(mode):
    proc, child = _start(mode, 0.5)
    try:
        assert alive(child)
        assert proc.wait(10) == 0
        assert wait_until(lambda: not alive(child), 3), f"child {child} outlived its parent ({mode})"
    finally:
        kill_all([proc.pid, child])
        proc.wait(5)
        proc.stdout.close()


def test_child_exits_at_once_when_its_parent_is_already_gone():
    proc, child = _start("late", 30)
    try:
        assert wait_until(lambda: not alive(child), 3)
        assert proc.poll() is None  # the real parent is still there: only the check ended the child
    finally:
        kill_all([proc.pid, child])
        proc.wait(5)
        proc.stdout.close()


def test_a_child_left_alone_keeps_running():
    """The control: without a guard the child outlives its parent (what the tests above rule out)."""
    proc, child = _start("none", 0.2)
    try:
        assert proc.wait(10) == 0
        assert not wait_until(lambda: not alive(child), 1)
    finally:
        kill_all([child])
        proc.wait(5)
        proc.stdout.close()
