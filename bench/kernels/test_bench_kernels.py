"""pytest-benchmark suite: every kernel workload on every built backend.

    python -m pytest bench/kernels/test_bench_kernels.py -p no:cacheprovider
    python -m pytest bench/kernels/test_bench_kernels.py --benchmark-disable  # correctness only

Every timed result must equal the python backend's (a faster wrong answer fails). For
MB/s and the native/python ratio in one table, run bench/kernels/report.py.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from kernel_workloads import BACKENDS, Workload, by_name, load, workloads

WORKLOADS = workloads()


@cache
def python_result(name: str) -> object:
    work = by_name(name)
    mod = load(work.kernel, "python")
    assert mod is not None, "the python backend always exists"
    return work.run(mod)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("work", WORKLOADS, ids=lambda w: w.name)
def test_kernel_benchmark(benchmark: Any, work: Workload, backend: str) -> None:
    mod = load(work.kernel, backend)
    if mod is None:
        pytest.skip(f"{backend} backend of kernel {work.kernel!r} is not built")
    benchmark.group = work.name
    benchmark.extra_info.update(unit=work.unit, amount=work.amount, backend=backend)
    result = benchmark.pedantic(work.run, args=(mod,), rounds=work.rounds, iterations=1, warmup_rounds=1)
    assert result == python_result(work.name)
