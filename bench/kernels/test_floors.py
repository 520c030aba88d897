"""CI gate: each native backend must beat the pure-Python twin by a floor ratio.

Ratios, not absolute times: python and native take turns in ONE process (median of
several short runs each), so a noisy neighbour on a shared 2-core machine slows both
alike. The floors are conservative (well under what this machine measures, see
bench/kernels/report.py); a failure means a native tier lost most of its reason to
exist, e.g. a debug build, a lost SIMD path or an accidental per-byte Python call.
A backend that is not built is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from kernel_workloads import Workload, by_name, interleaved_medians, load, matcher_workload


@dataclass(frozen=True)
class Gate:
    workload: str
    backend: str
    floor: float
    needs_simd: bool = False  # only meaningful when the Rust scan has a vector path

    def __str__(self) -> str:
        return f"{self.workload}-{self.backend}>={self.floor:g}x"


# Measured on this 2-core machine when quiet (report.py): sse 7-8x both tiers, scan_lines
# rust 10x / cython 3x, scan_rare rust 6x, bufpool rust 19x / cython 4.5x, breaker 20x
# both, matcher rust 18x / cython 1.1x, scan_json_span rust 27-30x / cython 20x,
# http1_head rust 8.5x / cython 7.7-8x, http1_chunked_whole rust 24-25x / cython 27-28x,
# http1_chunked_4reads rust 23-24x / cython 23-24x. Floors sit at about half of that or lower.
GATES = [
    Gate("sse_anthropic", "rust", 3.5),
    Gate("sse_anthropic", "cython", 3.0),
    Gate("sse_openai", "rust", 3.0),
    Gate("sse_openai", "cython", 3.0),
    # find_any called once per line: the per-call cost a framer pays
    Gate("scan_lines", "rust", 4.0),
    Gate("scan_lines", "cython", 1.5),
    # one pass for 8 delimiters vs python's 8 memchr passes: only SIMD can win that
    Gate("scan_rare_1mb", "rust", 2.0, needs_simd=True),
    # top_level_span on a 450-byte chat body: a walk of Python-level steps vs one call
    Gate("scan_json_span", "rust", 10.0),
    Gate("scan_json_span", "cython", 7.0),
    # parse_response_head on a 7-header head: mostly the cost of the result's str objects
    Gate("http1_head", "rust", 3.5),
    Gate("http1_head", "cython", 3.0),
    # ChunkedDecoder on a 30-chunk stream: one C pass vs a Python step per chunk and state
    Gate("http1_chunked_whole", "rust", 8.0),
    Gate("http1_chunked_whole", "cython", 8.0),
    Gate("http1_chunked_4reads", "rust", 8.0),
    Gate("http1_chunked_4reads", "cython", 8.0),
    Gate("bufpool_cycle", "rust", 3.0),
    Gate("bufpool_cycle", "cython", 1.5),
    Gate("breaker_ops", "rust", 4.0),
    Gate("breaker_ops", "cython", 2.0),
    Gate("matcher_pii_str_256k", "rust", 3.0),
    Gate("matcher_pii_bytes_256k", "rust", 3.0),
    # the Cython matcher may lean on Python's `re`, but must never be markedly slower
    Gate("matcher_pii_str_256k", "cython", 0.7),
    # a 1,000-event translated stream: measured rust 9-13x, cython 2.3-2.8x
    Gate("xlate_oai_to_anth_1000", "rust", 4.0),
    Gate("xlate_oai_to_anth_1000", "cython", 1.4),
    Gate("xlate_anth_to_oai_1000", "rust", 4.0),
    Gate("xlate_anth_to_oai_1000", "cython", 1.4),
]

# The matcher gates use a quarter of the prompt: the ratio does not depend on the size,
# and the python side would otherwise dominate the gate's run time.
_SMALL = {w.name: w for w in (matcher_workload(api, 256 * 1024) for api in (False, True))}


def workload(name: str) -> Workload:
    return _SMALL[name] if name in _SMALL else by_name(name)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.mark.parametrize("gate", GATES, ids=str)
def test_native_beats_python_by_the_floor(gate: Gate) -> None:
    work = workload(gate.workload)
    native = load(work.kernel, gate.backend)
    if native is None:
        message = f"{gate.backend} backend of kernel {work.kernel!r} is not built"
        if in_ci():
            pytest.fail(f"CI: {message}")
        pytest.skip(message)
    if gate.needs_simd and native.simd_level() == "scalar":
        pytest.skip("the rust scan runs its scalar path here (no SIMD or LUNAROUTE_SIMD=scalar)")
    python = load(work.kernel, "python")
    assert work.run(native) == work.run(python), "native and python results differ"

    ratio = 0.0
    for attempt in range(2):  # one re-measure absorbs a burst of load from a neighbour
        medians = interleaved_medians(
            work, {"python": python, gate.backend: native}, rounds=7 + 4 * attempt, budget_s=1.0 + attempt
        )
        ratio = medians["python"] / medians[gate.backend]
        if ratio >= gate.floor:
            break
    print(f"{gate}: measured {ratio:.1f}x")
    assert ratio >= gate.floor, f"{gate.backend} {work.name} is only {ratio:.2f}x python (floor {gate.floor}x)"
