"""The SIMD levels of the Rust scan, seen from Python: which ones this CPU runs and whether a
`LUNAROUTE_SIMD` request was honoured.

The Rust module chooses the level itself (read once at import, docs/KERNELS.md); this module
only explains its choice, so a request that cannot be met (neon on x86_64, avx2 on a CPU
without it, a typo, a tier that has no vector paths) is said once in the log and by
`lunaroute doctor` instead of passing unnoticed.
"""

from __future__ import annotations

import os
import platform

# best first, as the Rust `SimdLevel` orders them
LEVELS = ("avx2", "sse2", "neon", "scalar")
ENV = "LUNAROUTE_SIMD"
# the Rust kernels whose byte searches run on the SIMD scan (bufpool and breaker have none)
SIMD_KERNELS = ("sse", "scan", "matcher", "http1")


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name.strip() in ("flags", "Features"):
                    return set(value.split())
    except OSError:
        pass
    return set()


def cpu_levels() -> tuple[str, ...]:
    """The levels this CPU runs, best first (what the Rust scan can be forced to)."""
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        # SSE2 is part of the x86_64 baseline; AVX2 is detected.
        return ("avx2", "sse2", "scalar") if "avx2" in _cpu_flags() else ("sse2", "scalar")
    if machine in ("aarch64", "arm64"):
        # Advanced SIMD (NEON) is mandatory in AArch64: the Rust module detects it the same way.
        return ("neon", "scalar")
    return ("scalar",)


def requested() -> str | None:
    """The level LUNAROUTE_SIMD asks for, normalised as the Rust module reads it; None if unset."""
    value = os.environ.get(ENV, "").strip().lower()
    return value or None


def mismatch(level_in_use: str, scan_backend: str) -> str | None:
    """Why LUNAROUTE_SIMD did not get what it asked for, or None when it did (or is unset)."""
    want = requested()
    if want is None or want == level_in_use:
        return None
    if want not in LEVELS:
        return f"{ENV}={want!r} is not a SIMD level (one of {', '.join(LEVELS)}); the scan uses {level_in_use}"
    if scan_backend != "rust":
        return f"{ENV}={want} has no effect: the {scan_backend} tier serves kernel scan and has no vector paths"
    return (
        f"{ENV}={want} is not a level this CPU runs ({platform.machine()}: {', '.join(cpu_levels())}); "
        f"the scan uses {level_in_use}"
    )
