"""Translation benchmarks (pytest-benchmark). Run: python -m pytest bench/translation -q -p no:cacheprovider

- request+response: a 20-message conversation translated to the other dialect and the
  provider's answer translated back, with the JSON decode/encode the server does anyway;
  compared with passthrough-like work (decode + encode the same bodies, no translation).
- streams: events/s through decoder(provider dialect) -> encoder(client dialect), compared
  with a relay that decodes each event's JSON (usage tracking) and re-frames its bytes.

Rounds are few and short: the whole file runs in seconds. Figures land in extra_info and
are printed in the summary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from lunaroute.dialects import TargetOptions, get_dialect

from . import workloads

OPTIONS = TargetOptions()
STREAM_DELTAS = 1000
RESULTS: dict[str, float] = {}


def _nonstream_translate(client: str, provider: str, req_bytes: bytes, answer_bytes: bytes) -> Callable[[], bytes]:
    c, p = get_dialect(client), get_dialect(provider)

    def run() -> bytes:
        req = c.parse_request(orjson.loads(req_bytes))
        orjson.dumps(p.build_request(req, model="upstream-model", stream=False, options=OPTIONS))
        resp = p.parse_response(orjson.loads(answer_bytes))
        return orjson.dumps(c.build_response(resp, model="client-model", request=req))

    return run


def _nonstream_passthrough(req_bytes: bytes, answer_bytes: bytes) -> Callable[[], bytes]:
    def run() -> bytes:
        body = orjson.loads(req_bytes)
        body["model"] = "upstream-model"
        orjson.dumps(body)
        answer = orjson.loads(answer_bytes)
        answer["model"] = "client-model"
        return orjson.dumps(answer)

    return run


CASES = {
    "openai->anthropic": ("openai", "anthropic", workloads.openai_request, workloads.anthropic_answer),
    "anthropic->openai": ("anthropic", "openai", workloads.anthropic_request, workloads.openai_answer),
}


@pytest.mark.parametrize("name", list(CASES))
def test_request_response_translation(benchmark: Any, name: str) -> None:
    client, provider, make_req, make_answer = CASES[name]
    req_bytes, answer_bytes = orjson.dumps(make_req()), orjson.dumps(make_answer())
    translate = _nonstream_translate(client, provider, req_bytes, answer_bytes)
    benchmark.pedantic(translate, rounds=20, iterations=50, warmup_rounds=2)
    # CPU time of this thread, best of several short runs: the machine is shared, and wall
    # time would count the moments another process held the core.
    cost = _timed(translate, 500)
    base = _timed(_nonstream_passthrough(req_bytes, answer_bytes), 500)
    benchmark.extra_info.update(
        translate_us=cost * 1e6, passthrough_us=base * 1e6, added_us=(cost - base) * 1e6, ratio=cost / base
    )
    RESULTS[f"{name} request+response, with JSON I/O: us"] = cost * 1e6
    RESULTS[f"{name} passthrough-like (JSON decode+encode only): us"] = base * 1e6
    RESULTS[f"{name} added by translation: us"] = (cost - base) * 1e6
    RESULTS[f"{name} ratio to passthrough-like"] = cost / base


STREAMS = {
    "anthropic->openai": ("anthropic", "openai", workloads.anthropic_stream),
    "openai->anthropic": ("openai", "anthropic", workloads.openai_stream),
}


@pytest.mark.parametrize("name", list(STREAMS))
def test_stream_translation(benchmark: Any, name: str) -> None:
    provider, client, make_events = STREAMS[name]
    events = make_events(STREAM_DELTAS)
    c, p = get_dialect(client), get_dialect(provider)
    req = c.parse_request(
        orjson.loads(
            orjson.dumps(
                {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True, "max_tokens": 5}
            )
        )
    )

    def translate() -> int:
        decoder, encoder = p.stream_decoder(), c.stream_encoder(model="client-model", request=req)
        total = 0
        for event, data in events:
            total += len(encoder.encode(decoder.feed(event, data)))
        return total + len(encoder.finish())

    def relay() -> int:
        total = 0
        for event, data in events:
            if data != "[DONE]":
                orjson.loads(data)
            total += len(b"event: " + event.encode() + b"\ndata: " + data.encode() + b"\n\n")
        return total

    assert translate() > 0
    benchmark.pedantic(translate, rounds=8, iterations=1, warmup_rounds=1)
    cost = _timed(translate, 3)
    base = _timed(relay, 3)
    benchmark.extra_info.update(
        events_per_s=len(events) / cost, relay_events_per_s=len(events) / base, ratio=cost / base
    )
    RESULTS[f"{name} stream translation: events/s"] = len(events) / cost
    RESULTS[f"{name} stream relay (decode JSON, re-frame): events/s"] = len(events) / base
    RESULTS[f"{name} stream ratio to relay"] = cost / base


def test_zz_report(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints every figure (run last: names sort after the benchmarks)."""
    loop = _timed(lambda: None, 20000)
    with capsys.disabled():
        print(
            "\ntranslation figures (thread CPU time, best of 5; an empty Python call costs %.0f ns here):"
            % (loop * 1e9)
        )
        for key, value in RESULTS.items():
            print(f"  {key:62s} {value:12,.1f}")


def _timed(fn: Callable[[], Any], n: int) -> float:
    import time

    fn()
    best = float("inf")
    for _ in range(5):
        t = time.thread_time()
        for _ in range(n):
            fn()
        best = min(best, (time.thread_time() - t) / n)
    return best
