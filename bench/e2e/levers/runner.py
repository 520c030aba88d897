"""One measured setting: bench/e2e's EntryRunner (start, sanity check, warm-up, wrk runs with
procfs accounting, verification pass, stop) plus the gateway's CPU split by thread, so a lever
that moves work between granian's Rust threads and the Python thread shows where it went."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from .. import measure, procfs
from ..gateways import tail
from ..measure import EntryRunner
from ..scenarios import Scenario

# LunaRoute drains in-flight requests for up to 30 s on SIGTERM; a stop that takes longer than
# this says the drain waited for something (the stop time is recorded), and the sitting moves on.
STOP_GRACE_S = 12.0

# {(pid, tid): (utime + stime ticks, thread name)}
ThreadTicks = dict[tuple[int, int], tuple[int, str]]


def thread_ticks(pids: list[int]) -> ThreadTicks:
    out: ThreadTicks = {}
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    raw = f.read()
            except OSError:
                continue
            name = raw[raw.index("(") + 1 : raw.rindex(")")]
            fields = raw.rsplit(")", 1)[1].split()
            out[(pid, int(tid))] = (int(fields[11]) + int(fields[12]), name)
    return out


def by_thread(before: ThreadTicks, after: ThreadTicks, python_pid: int | None) -> dict[str, float]:
    """CPU seconds per thread group: `main` is the main thread of the process that runs the app
    (the event loop), every other thread is grouped as `thread:<name>` (granian's single-threaded
    runtime threads keep the process's name, `python`)."""
    out: dict[str, float] = {}
    for key, (ticks, name) in after.items():
        pid, tid = key
        used = ticks - before.get(key, (0, name))[0]
        if used <= 0:
            continue
        group = "main" if tid == pid and pid == python_pid else f"thread:{name}"
        out[group] = round(out.get(group, 0.0) + used / procfs.CLK_TCK, 3)
    return out


class LeverRunner(EntryRunner):
    def app_pid(self) -> int | None:
        """The process whose main thread runs the app: the gateway itself, or the granian
        CLI's worker (the deepest process of the tree)."""
        pids = self.tracked.gateway_pids()
        return pids[-1] if pids else None

    def wrk_run(self, scen: Scenario, conc: int, duration_s: float, verify: bool = False) -> dict:
        pids = self.tracked.gateway_pids()
        before = thread_ticks(pids)
        res = super().wrk_run(scen, conc, duration_s, verify)
        res["threads_cpu_s"] = by_thread(before, thread_ticks(pids), self.app_pid())
        return res

    def run(self) -> dict:
        """EntryRunner.run, with how long the gateway took to stop after SIGTERM."""
        stopped: dict[str, float] = {}
        real_stop = measure.stop_gateway

        def timed_stop(proc: subprocess.Popen, grace_s: float = STOP_GRACE_S) -> int | None:
            t0 = time.monotonic()
            try:
                return real_stop(proc, min(grace_s, STOP_GRACE_S))
            finally:
                stopped["stop_s"] = round(time.monotonic() - t0, 2)

        measure.stop_gateway = timed_stop  # type: ignore[assignment]
        try:
            result = super().run()
        finally:
            measure.stop_gateway = real_stop
        result.update(stopped)
        if result.get("exit_code") not in (0, None) and result.get("log_file") and not result.get("log_tail"):
            result["log_tail"] = tail(Path(result["log_file"]), 600)
        return result
