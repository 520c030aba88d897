"""Process and CPU accounting from /proc (Linux): CPU time of process trees, memory high-water
marks, per-CPU busy/steal shares, and the CPU use of every other process on the machine."""

from __future__ import annotations

import os

CLK_TCK = os.sysconf("SC_CLK_TCK")

# {cpuN: (busy jiffies, total jiffies, steal jiffies)}
CpuTimes = dict[str, tuple[int, int, int]]
# {pid: (utime + stime ticks, comm)}
ProcTicks = dict[int, tuple[int, str]]


def descendants(pid: int) -> list[int]:
    """pid and all its live descendants (via /proc/PID/task/*/children)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        if not os.path.exists(f"/proc/{p}"):
            continue
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (all their threads)."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def status_kb(pids: list[int], key: str) -> int:
    """Sum of one /proc/PID/status field in kB (VmHWM = peak RSS, VmRSS = current RSS)."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def open_fds(pids: list[int]) -> int:
    total = 0
    for p in pids:
        try:
            total += len(os.listdir(f"/proc/{p}/fd"))
        except OSError:
            pass
    return total


def all_proc_ticks() -> ProcTicks:
    """Every user-space process's CPU ticks. Kernel threads (children of kthreadd) are left
    out: under load they mostly serve our own traffic (softirqs)."""
    out: ProcTicks = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                raw = f.read()
            comm = raw[raw.index("(") + 1 : raw.rindex(")")]
            fields = raw.rsplit(")", 1)[1].split()
            if d == "2" or fields[1] == "2":
                continue
            out[int(d)] = (int(fields[11]) + int(fields[12]), comm)
        except (OSError, ValueError, IndexError):
            pass
    return out


def cpu_times() -> CpuTimes:
    out: CpuTimes = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *vals = line.split()
                v = [int(x) for x in vals] + [0] * 10
                user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
                total = user + nice + system + idle + iowait + irq + softirq + steal
                out[name] = (user + nice + system + irq + softirq, total, steal)
    return out


def cpu_util(before: CpuTimes, after: CpuTimes) -> dict[str, dict[str, float]]:
    """Busy and steal share of each CPU between two cpu_times() samples, in %."""
    res: dict[str, dict[str, float]] = {}
    for name, a in after.items():
        b = before.get(name)
        if not b or a[1] - b[1] <= 0:
            continue
        span = a[1] - b[1]
        res[name] = {
            "busy_pct": round(100.0 * (a[0] - b[0]) / span, 1),
            "steal_pct": round(100.0 * (a[2] - b[2]) / span, 1),
        }
    return res


def busy_seconds(before: CpuTimes, after: CpuTimes) -> float:
    """CPU-seconds of non-idle, non-steal time on all CPUs between two samples."""
    return sum(after[c][0] - before[c][0] for c in after if c in before) / CLK_TCK


def foreign_procs(
    before: ProcTicks, after: ProcTicks, mine: set[int], secs: float, top_n: int = 3
) -> tuple[float | None, list[str]]:
    """CPU of processes outside `mine` alive at the end of the window, in % of one CPU, and
    the biggest few. Misses processes that started and ended inside the window (the
    /proc/stat residual in quiet.py catches those)."""
    if secs <= 0:
        return None, []
    use: dict[str, int] = {}
    for pid, (ticks, comm) in after.items():
        if pid in mine:
            continue
        d = ticks - before.get(pid, (0, comm))[0]
        if d > 0:
            use[f"{comm}[{pid}]"] = d
    top = sorted(use.items(), key=lambda kv: -kv[1])[:top_n]
    return (
        round(100.0 * sum(use.values()) / CLK_TCK / secs, 1),
        [f"{k}:{round(100.0 * v / CLK_TCK / secs, 1)}%" for k, v in top],
    )
