"""Golden translation fixtures (tests/fixtures/translation/<case>/).

Each case: the client request, the upstream request LunaRoute must send, the upstream answer
(JSON or SSE) and the answer the client must get — written by hand from the providers' API
references. `case.json` names the dialects, models, target options and the keys to ignore
(generated timestamps only).
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from lunaroute.dialects import TargetOptions, client_dialect, get_dialect
from lunaroute.errors import GatewayError

from .helpers import case_dirs, decoded_events, load_json, parse_sse, strip_keys, upstream_validator

CASES = case_dirs()


def _setup(case_dir: Path):
    case = load_json(case_dir / "case.json")
    client = client_dialect(case["client_dialect"])
    provider = get_dialect(case["provider_dialect"])
    req = client.parse_request(load_json(case_dir / "client_request.json"))
    return case, client, provider, req


def _build(case, provider, req):
    return provider.build_request(
        req, model=case["upstream_model"], stream=req.stream, options=TargetOptions(**case["options"])
    )


def test_fixture_set_covers_both_directions_and_modes() -> None:
    kinds = set()
    for d in CASES:
        case = load_json(d / "case.json")
        kinds.add((case["client_dialect"], case["provider_dialect"], case["stream"]))
    for client in ("openai", "anthropic"):
        for provider in ("openai", "anthropic"):
            for stream in (False, True):
                if client != provider and not (client == "openai" and provider == "openai"):
                    assert (client, provider, stream) in kinds
    assert len(CASES) >= 20


@pytest.mark.parametrize("case_dir", CASES, ids=lambda p: p.name)
def test_upstream_request(case_dir: Path) -> None:
    case, _client, provider, req = _setup(case_dir)
    expected_error = case_dir / "expected_error.json"
    if expected_error.exists():
        spec = load_json(expected_error)
        with pytest.raises(GatewayError) as info:
            _build(case, provider, req)
        err = info.value
        assert type(err).__name__ == spec["class"]
        assert err.status == spec["status"]
        assert err.param == spec["param"]
        body = orjson.loads(_client.error_body(err))
        expected_body = spec["client_body"]
        openai_shape = case["client_dialect"] in ("openai", "responses")
        got = body["error"] if "error" in expected_body and openai_shape else body
        want = expected_body["error"] if openai_shape else expected_body
        for key, value in want.items():
            assert got[key] == value, key
        return
    body = _build(case, provider, req)
    assert body == load_json(case_dir / "upstream_request.json")
    assert upstream_validator(case["provider_dialect"])(body) == []


@pytest.mark.parametrize(
    "case_dir", [d for d in CASES if (d / "upstream_response.json").exists()], ids=lambda p: p.name
)
def test_client_response(case_dir: Path) -> None:
    case, client, provider, req = _setup(case_dir)
    resp = provider.parse_response(load_json(case_dir / "upstream_response.json"))
    out = client.build_response(resp, model=case["client_model"], request=req)
    ignore = set(case["ignore"])
    assert strip_keys(out, ignore) == strip_keys(load_json(case_dir / "client_response.json"), ignore)
    # the answer must survive a JSON round trip unchanged (no non-JSON values)
    assert orjson.loads(orjson.dumps(out)) == out
    _sdk_accepts_response(case["client_dialect"], out)


@pytest.mark.parametrize("case_dir", [d for d in CASES if (d / "upstream_stream.sse").exists()], ids=lambda p: p.name)
def test_client_stream(case_dir: Path) -> None:
    case, client, provider, req = _setup(case_dir)
    decoder = provider.stream_decoder()
    encoder = client.stream_encoder(model=case["client_model"], request=req)
    chunks: list[bytes] = []
    upstream = parse_sse((case_dir / "upstream_stream.sse").read_text(encoding="utf-8"))
    for n, (event, data) in enumerate(upstream):
        piece = encoder.encode(decoder.feed(event, data))
        if n == 0:
            assert piece, "the first upstream event must produce client bytes at once"
        chunks.append(piece)
    chunks.append(encoder.encode(decoder.finish()))
    chunks.append(encoder.finish())
    produced = b"".join(chunks)
    ignore = set(case["ignore"])
    expected = decoded_events((case_dir / "client_stream.sse").read_text(encoding="utf-8"))
    assert strip_keys(decoded_events(produced), ignore) == strip_keys(expected, ignore)
    assert encoder.finish() == b""  # closed exactly once


def _sdk_accepts_response(dialect: str, body: dict) -> None:
    """The official SDK's response model parses the answer with every declared field typed."""
    if dialect == "openai":
        from openai.types.chat import ChatCompletion

        parsed = ChatCompletion.model_validate(body)
        assert parsed.choices[0].message.role == "assistant"
    elif dialect == "responses":
        from openai.types.responses import Response

        response = Response.model_validate(body)
        assert response.object == "response" and response.output
    else:
        from anthropic.types import Message

        parsed = Message.model_validate(body)
        assert parsed.role == "assistant"
