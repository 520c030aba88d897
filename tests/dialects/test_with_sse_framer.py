"""The golden upstream streams, cut into arbitrary byte chunks and framed by the real SSE
framer kernel (lunaroute.kernels.SseFramer), translate exactly as event by event."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lunaroute.dialects import client_dialect, get_dialect
from lunaroute.kernels import SseFramer

from .helpers import case_dirs, decoded_events, load_json, strip_keys

STREAM_CASES = [d for d in case_dirs() if (d / "upstream_stream.sse").exists()]


def _translate(case_dir: Path, cuts: list[int]) -> bytes:
    case = load_json(case_dir / "case.json")
    client, provider = client_dialect(case["client_dialect"]), get_dialect(case["provider_dialect"])
    req = client.parse_request(load_json(case_dir / "client_request.json"))
    raw = (case_dir / "upstream_stream.sse").read_bytes()
    framer, decoder = SseFramer(), provider.stream_decoder()
    encoder = client.stream_encoder(model=case["client_model"], request=req)
    out = []
    bounds = sorted({0, len(raw), *(c % (len(raw) + 1) for c in cuts)})
    for start, end in zip(bounds, bounds[1:]):
        for event_type, data, _id, _retry in framer.feed(raw[start:end]):
            out.append(encoder.encode(decoder.feed(event_type, data)))
    for event_type, data, _id, _retry in framer.close():
        out.append(encoder.encode(decoder.feed(event_type, data)))
    out.append(encoder.encode(decoder.finish()))
    out.append(encoder.finish())
    return b"".join(out)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(STREAM_CASES), st.lists(st.integers(0, 10_000), max_size=12))
def test_framed_chunks_translate_like_whole_events(case_dir: Path, cuts: list[int]) -> None:
    ignore = set(load_json(case_dir / "case.json")["ignore"])
    expected = decoded_events((case_dir / "client_stream.sse").read_text(encoding="utf-8"))
    assert strip_keys(decoded_events(_translate(case_dir, cuts)), ignore) == strip_keys(expected, ignore)
