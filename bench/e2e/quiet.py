"""Quiet-machine guard and per-run CPU bookkeeping.

The box is shared with other sessions' test suites, so before every measured run the harness
waits until work outside the benchmark is below a threshold (% of one CPU), and during every
run it records that outside work (`foreign_cpu_pct`) so a disturbed run can be discarded and
measured again. "Outside work" is the larger of two estimates: the /proc/stat residual (all
busy CPU time minus the gateway, the mock and the load generator) and the CPU of the other
live processes (the residual reads low at c=1 across vCPUs; the process scan misses
short-lived processes).
"""

from __future__ import annotations

import os
import resource
import sys
import time
from dataclasses import dataclass, field

from . import procfs


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass
class Tracked:
    """The processes that belong to the benchmark (their CPU is not "outside work")."""

    gateway_pid: int | None = None
    mock_pid: int | None = None

    def gateway_pids(self) -> list[int]:
        return procfs.descendants(self.gateway_pid) if self.gateway_pid else []

    def mock_pids(self) -> list[int]:
        return procfs.descendants(self.mock_pid) if self.mock_pid else []

    def mine(self) -> set[int]:
        return set(self.gateway_pids()) | set(self.mock_pids()) | {os.getpid(), os.getppid()}


@dataclass
class Window:
    """CPU accounting of one measured interval. `start()`, run the load, `stop()`."""

    tracked: Tracked
    _t0: float = 0.0
    _gw0: float = 0.0
    _mock0: float = 0.0
    _cpus0: procfs.CpuTimes = field(default_factory=dict)
    _procs0: procfs.ProcTicks = field(default_factory=dict)
    _ru0: float = 0.0

    def start(self) -> None:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._ru0 = ru.ru_utime + ru.ru_stime
        self._procs0 = procfs.all_proc_ticks()
        self._gw0 = procfs.cpu_seconds(self.tracked.gateway_pids())
        self._mock0 = procfs.cpu_seconds(self.tracked.mock_pids())
        self._cpus0 = procfs.cpu_times()
        self._t0 = time.monotonic()

    def stop(self) -> dict:
        cpus1, t1 = procfs.cpu_times(), time.monotonic()
        gw1 = procfs.cpu_seconds(self.tracked.gateway_pids())
        mock1 = procfs.cpu_seconds(self.tracked.mock_pids())
        procs1 = procfs.all_proc_ticks()
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = t1 - self._t0
        load_cpu = (ru.ru_utime + ru.ru_stime) - self._ru0  # finished children: wrk / TTFB client
        gw, mock = gw1 - self._gw0, mock1 - self._mock0
        residual = None
        if wall > 0:
            residual = round(100.0 * (procfs.busy_seconds(self._cpus0, cpus1) - gw - mock - load_cpu) / wall, 1)
        procs_pct, top = procfs.foreign_procs(self._procs0, procs1, self.tracked.mine(), wall)
        return {
            "wall_s": round(wall, 3),
            "gateway_cpu_s": round(gw, 3),
            "mock_cpu_s": round(mock, 3),
            "load_cpu_s": round(load_cpu, 3),
            "cpu": procfs.cpu_util(self._cpus0, cpus1),
            "foreign_cpu_pct_stat": residual,
            "foreign_cpu_pct_procs": procs_pct,
            "foreign_cpu_pct": max(residual or 0.0, procs_pct or 0.0),
            "foreign_top": top,
        }


@dataclass
class QuietGuard:
    tracked: Tracked
    threshold_pct: float = 5.0  # outside work allowed before / during a run, % of one CPU
    max_wait_s: float = 300.0  # give up waiting after this long and measure anyway (recorded)
    probe_s: float = 1.0

    def wait(self) -> tuple[float, list[str] | None]:
        """Block until outside work < threshold. Returns (seconds waited, the busiest outside
        processes if it gave up, else None)."""
        t0 = time.monotonic()
        announced = False
        while True:
            w = Window(self.tracked)
            w.start()
            time.sleep(self.probe_s)
            r = w.stop()
            waited = time.monotonic() - t0
            if r["foreign_cpu_pct"] < self.threshold_pct:
                return round(waited, 1), None
            if waited >= self.max_wait_s:
                log(
                    f"machine still busy after {waited:.0f}s ({r['foreign_cpu_pct']}% of a CPU: "
                    f"{r['foreign_top']}); measuring anyway"
                )
                return round(waited, 1), r["foreign_top"]
            if not announced:
                log(
                    f"waiting for other work on the machine to stop ({r['foreign_cpu_pct']}% of a CPU: "
                    f"{r['foreign_top']})"
                )
                announced = True
            time.sleep(2.0)

    def disturbed(self, window: dict) -> bool:
        return (window.get("foreign_cpu_pct") or 0.0) > self.threshold_pct
