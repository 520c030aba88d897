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

import json
from functools import cache
from typing import Any

import pytest
from kernel_workloads import BACKENDS, fixture, load

from lunaroute.dialects import get_dialect
from lunaroute.kernels._py.sse import SseFramer
from lunaroute.model import NormalizedRequest
from lunaroute.server.translate import TranslatedStream

PAIRS = [("openai", "anthropic"), ("anthropic", "openai")]
SIZES = (30, 1000)
REFERENCE = "reference"


@cache
def upstream_chunks(source: str, events: int) -> tuple[bytes, ...]:
    """`events` events of the source's fixture: its first ones, then the close of the stream
    (the open block's stop, message_delta and message_stop; or the finish chunk, the usage
    chunk and [DONE])."""
    name = "anthropic_messages.sse" if source == "anthropic" else "openai_chat.sse"
    recorded = [e for e in fixture(name).split(b"\n\n") if e]
    head = recorded[: events - 3]
    if source == "openai":
        tail = recorded[-3:]
    else:
        starts = [e for e in head if e.startswith(b"event: content_block_start")]
        index = json.loads(starts[-1].split(b"data: ", 1)[1])["index"]
        stop = b'event: content_block_stop\ndata: {"type":"content_block_stop","index":%d}' % index
        tail = [stop, *recorded[-2:]]
    return tuple(e + b"\n\n" for e in head + tail)


def _pair(source: str, target: str) -> tuple[Any, Any, Any]:
    req = NormalizedRequest(target, "client-model")
    req.stream = True
    req.stream_include_usage = True
    encoder = get_dialect(target).stream_encoder(model="client-model", request=req)
    if hasattr(encoder, "_created"):
        encoder._created = 1700000000  # OpenAI's `created` is the clock's: fixed, so runs compare
    upstream = get_dialect(source)
    return upstream, upstream.stream_decoder(), encoder


def reference(source: str, target: str, chunks: tuple[bytes, ...]) -> bytes:
    """The relay's loop without the kernel: framer, usage tap, decoder, encoder."""
    upstream, decoder, encoder = _pair(source, target)
    framer = SseFramer()
    usage = [0, 0]
    out = []
    for chunk in chunks:
        events = []
        for ev in framer.feed(chunk):
            if '"usage"' in ev[1]:
                upstream.stream_usage(ev[1], usage)
            events.extend(decoder.feed(ev[0], ev[1]))
        if events:
            out.append(encoder.encode(events))
    out.append(encoder.encode(decoder.finish()) + encoder.finish())
    return b"".join(out)


def through_kernel(kernel: Any, source: str, target: str, chunks: tuple[bytes, ...]) -> bytes:
    upstream, decoder, encoder = _pair(source, target)
    stream = TranslatedStream(upstream, decoder, encoder, [0, 0], kernel=kernel)
    out = [stream.feed(chunk) for chunk in chunks]
    out.append(stream.finish())
    return b"".join(out)


@pytest.mark.parametrize("backend", (*BACKENDS, REFERENCE))
@pytest.mark.parametrize("events", SIZES)
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p[0]}_to_{p[1]}")
def test_translated_stream(benchmark: Any, pair: tuple[str, str], events: int, backend: str) -> None:
    source, target = pair
    chunks = upstream_chunks(source, events)
    assert len(chunks) == events
    if backend == REFERENCE:
        args: tuple[Any, ...] = (source, target, chunks)
        run: Any = reference
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
    assert result == reference(source, target, chunks)
