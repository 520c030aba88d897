"""Error bodies (CONTRACT §4) and upstream error translation."""

from __future__ import annotations

import orjson
import pytest

from lunaroute.dialects import get_dialect
from lunaroute.errors import (
    AuthenticationError,
    GatewayError,
    InvalidRequestError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitedError,
    RequestTooLargeError,
    UpstreamError,
    UpstreamStatusError,
    UpstreamTimeoutError,
)

OPENAI = get_dialect("openai")
ANTHROPIC = get_dialect("anthropic")

# CONTRACT §4: situation → (status, openai type, anthropic type)
TABLE = [
    (InvalidRequestError("bad", param="messages"), 400, "invalid_request_error", "invalid_request_error"),
    (AuthenticationError("who"), 401, "authentication_error", "authentication_error"),
    (PermissionDeniedError("no"), 403, "permission_error", "permission_error"),
    (NotFoundError("no route"), 404, "not_found_error", "not_found_error"),
    (RequestTooLargeError("too big"), 413, "invalid_request_error", "request_too_large"),
    (RateLimitedError("slow", retry_after=3), 429, "rate_limit_error", "rate_limit_error"),
    (RateLimitedError("budget", code="budget_exceeded"), 429, "rate_limit_error", "rate_limit_error"),
    (UpstreamError("all failed"), 502, "api_error", "api_error"),
    (UpstreamTimeoutError("timed out"), 504, "api_error", "api_error"),
    (OverloadedError("busy"), 503, "api_error", "overloaded_error"),
]


@pytest.mark.parametrize(("err", "status", "openai_type", "anthropic_type"), TABLE)
def test_error_bodies_follow_the_contract(
    err: GatewayError, status: int, openai_type: str, anthropic_type: str
) -> None:
    assert err.status == status
    assert orjson.loads(OPENAI.error_body(err)) == {
        "error": {"message": err.message, "type": openai_type, "param": err.param, "code": err.code}
    }
    assert orjson.loads(ANTHROPIC.error_body(err)) == {
        "type": "error",
        "error": {"type": anthropic_type, "message": err.message},
    }


def test_budget_code_reaches_openai_clients() -> None:
    body = orjson.loads(OPENAI.error_body(RateLimitedError("budget", code="budget_exceeded")))
    assert body["error"]["code"] == "budget_exceeded"


@pytest.mark.parametrize(
    ("upstream_type", "status", "openai_type", "anthropic_type"),
    [
        ("invalid_request_error", 400, "invalid_request_error", "invalid_request_error"),
        ("insufficient_quota", 403, "insufficient_quota", "permission_error"),  # OpenAI-only type
        ("billing_error", 402, "invalid_request_error", "billing_error"),  # Anthropic-only type
        ("request_too_large", 413, "invalid_request_error", "request_too_large"),
        ("not_found_error", 404, "not_found_error", "not_found_error"),
        (None, 422, "invalid_request_error", "invalid_request_error"),
        (None, 401, "authentication_error", "authentication_error"),
        # OpenAI files a bad key (401) and an unknown model (404) under the generic type:
        # the status decides what the other dialect's client is told
        ("invalid_request_error", 401, "authentication_error", "authentication_error"),
        ("invalid_request_error", 404, "not_found_error", "not_found_error"),
        ("invalid_request_error", 403, "permission_error", "permission_error"),
        ("invalid_request_error", 422, "invalid_request_error", "invalid_request_error"),
    ],
)
def test_upstream_4xx_types_are_kept_or_translated(
    upstream_type: str | None, status: int, openai_type: str, anthropic_type: str
) -> None:
    err = UpstreamStatusError("upstream says no", status=status, upstream_type=upstream_type)
    assert orjson.loads(OPENAI.error_body(err))["error"]["type"] == openai_type
    assert orjson.loads(ANTHROPIC.error_body(err))["error"]["type"] == anthropic_type


def test_parse_openai_upstream_errors() -> None:
    body = b'{"error": {"message": "Invalid model", "type": "invalid_request_error", "param": "model", "code": "model_not_found"}}'
    err = OPENAI.parse_upstream_error(404, body)
    assert isinstance(err, UpstreamStatusError)
    assert (err.status, err.message, err.upstream_type, err.param, err.code) == (
        404,
        "Invalid model",
        "invalid_request_error",
        "model",
        "model_not_found",
    )
    # relayed to an Anthropic client, the upstream message survives and the status picks
    # the type (OpenAI files an unknown model under the generic invalid_request_error)
    assert orjson.loads(ANTHROPIC.error_body(err)) == {
        "type": "error",
        "error": {"type": "not_found_error", "message": "Invalid model"},
    }
    # an OpenAI client gets it exactly as OpenAI said it
    assert orjson.loads(OPENAI.error_body(err))["error"]["type"] == "invalid_request_error"
    limited = OPENAI.parse_upstream_error(
        429, b'{"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}'
    )
    assert isinstance(limited, RateLimitedError) and limited.status == 429 and limited.code == "rate_limit_exceeded"
    server = OPENAI.parse_upstream_error(500, b'{"error": {"message": "boom", "type": "server_error"}}')
    assert type(server) is UpstreamError and server.status == 502 and server.message == "boom"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"error": "model not loaded"}', "model not loaded"),
        (b'{"detail": "Not Found"}', "Not Found"),
        (b'{"message": "bad"}', "bad"),
        (b"<html>gateway</html>", "upstream answered HTTP 400: <html>gateway</html>"),
        (b"", "upstream answered HTTP 400"),
        (b"[1]", "upstream answered HTTP 400: [1]"),
    ],
)
def test_parse_loose_openai_compatible_error_bodies(body: bytes, message: str) -> None:
    err = OPENAI.parse_upstream_error(400, body)
    assert err.status == 400 and err.message == message


def test_parse_anthropic_upstream_errors() -> None:
    err = ANTHROPIC.parse_upstream_error(
        400, b'{"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: too big"}}'
    )
    assert (
        isinstance(err, UpstreamStatusError)
        and err.upstream_type == "invalid_request_error"
        and err.message == "max_tokens: too big"
    )
    assert orjson.loads(OPENAI.error_body(err))["error"] == {
        "message": "max_tokens: too big",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    over = ANTHROPIC.parse_upstream_error(
        529, b'{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}'
    )
    assert isinstance(over, UpstreamError) and over.upstream_type == "overloaded_error"
    big = ANTHROPIC.parse_upstream_error(
        413, b'{"type": "error", "error": {"type": "request_too_large", "message": "too large"}}'
    )
    assert orjson.loads(OPENAI.error_body(big))["error"]["type"] == "invalid_request_error"
    assert orjson.loads(ANTHROPIC.error_body(big))["error"]["type"] == "request_too_large"
    assert ANTHROPIC.parse_upstream_error(418, b"teapot").message == "upstream answered HTTP 418: teapot"


def test_in_stream_error_forms() -> None:
    err = UpstreamError("upstream died")
    enc = OPENAI.stream_encoder(model="m", request=_req("openai"))
    assert (
        enc.error(err) == b'data: {"error":{"message":"upstream died","type":"api_error","param":null,"code":null}}\n\n'
    )
    assert enc.error(err) == b"" and enc.finish() == b"" and enc.encode([]) == b""
    enc = ANTHROPIC.stream_encoder(model="m", request=_req("anthropic"))
    assert (
        enc.error(err)
        == b'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"upstream died"}}\n\n'
    )
    assert enc.finish() == b""


def _req(dialect: str):
    from lunaroute.model import NormalizedRequest

    return NormalizedRequest(dialect, "m")
