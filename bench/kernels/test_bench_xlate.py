"""pytest-benchmark: a translated stream through `TranslatedStream` (kernel `xlate`) on every
built backend, and on the reference path the relay took before the kernel.

    python -m pytest bench/kernels/test_bench_xlate.py -p no:cacheprovider
    python -m pytest bench/kernels/test_bench_xlate.py --benchmark-disable  # correctness only

Streams of 30 and 1,000 upstream events, OpenAI→Anthropic and Anthropic→OpenAI, cut from the
recorded-style fixtures of tests/fixtures/streams/, one event per chunk as a streaming
upstream flushes them. A round is one whole stream: decoder, encoder and kernel made, every
chunk fed, the stream finished. Per-event cost = a round's time / `events` (extra_info).
Every result must equal the reference's bytes (a faster wrong answer fails).
"""

from __future__ import annotations

from typing import Any

import pytest
from kernel_workloads import BACKENDS, load, through_kernel, upstream_chunks, xlate_reference

PAIRS = [("openai", "anthropic"), ("anthropic", "openai")]
SIZES = (30, 1000)
REFERENCE = "reference"


@pytest.mark.parametrize("backend", (*BACKENDS, REFERENCE))
@pytest.mark.parametrize("events", SIZES)
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p[0]}_to_{p[1]}")
def test_translated_stream(benchmark: Any, pair: tuple[str, str], events: int, backend: str) -> None:
    source, target = pair
    chunks = upstream_chunks(source, events)
    assert len(chunks) == events
    if backend == REFERENCE:
        args: tuple[Any, ...] = (source, target, chunks)
        run: Any = xlate_reference
    else:
        mod = load("xlate", backend)
        if mod is None:
            pytest.skip(f"{backend} backend of kernel 'xlate' is not built")
        args = (mod.StreamTranslator, source, target, chunks)
        run = through_kernel
    benchmark.group = f"xlate_{source}_to_{target}_{events}"
    benchmark.extra_info.update(unit="event", events=events, backend=backend)
    rounds = 200 if events == 30 else 20
    result = benchmark.pedantic(run, args=args, rounds=rounds, iterations=1, warmup_rounds=1)
    assert result == xlate_reference(source, target, chunks)
