"""Error `type` strings of both dialects (CONTRACT §4) and the translation between them.

A GatewayError carries a `kind` (the contract's situation); each dialect maps it to its own
type string. An upstream 4xx (`UpstreamStatusError`) carries the upstream's own type in
`upstream_type`: kept when the caller's dialect has that type, otherwise chosen from the
HTTP status.
"""

from __future__ import annotations

from ..errors import GatewayError, RateLimitedError, UpstreamError, UpstreamStatusError

GENERIC_TYPE = "invalid_request_error"
# Types only the Anthropic API uses; every other type string is taken to be valid OpenAI.
ANTHROPIC_ONLY_TYPES = frozenset({"request_too_large", "overloaded_error", "billing_error", "timeout_error"})

ANTHROPIC_TYPES = (
    frozenset(
        {
            "invalid_request_error",
            "authentication_error",
            "permission_error",
            "not_found_error",
            "rate_limit_error",
            "api_error",
        }
    )
    | ANTHROPIC_ONLY_TYPES
)

OPENAI_TYPE_OF_KIND = {
    "invalid_request_error": "invalid_request_error",
    "authentication_error": "authentication_error",
    "permission_error": "permission_error",
    "not_found_error": "not_found_error",
    "request_too_large": "invalid_request_error",
    "rate_limit_error": "rate_limit_error",
    "api_error": "api_error",
    "overloaded_error": "api_error",
}

ANTHROPIC_TYPE_OF_KIND = {
    "invalid_request_error": "invalid_request_error",
    "authentication_error": "authentication_error",
    "permission_error": "permission_error",
    "not_found_error": "not_found_error",
    "request_too_large": "request_too_large",
    "rate_limit_error": "rate_limit_error",
    "api_error": "api_error",
    "overloaded_error": "overloaded_error",
}

_OPENAI_TYPE_OF_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}
_ANTHROPIC_TYPE_OF_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def openai_type_of_status(status: int) -> str:
    found = _OPENAI_TYPE_OF_STATUS.get(status)
    if found:
        return found
    return "api_error" if status >= 500 else "invalid_request_error"


def anthropic_type_of_status(status: int) -> str:
    found = _ANTHROPIC_TYPE_OF_STATUS.get(status)
    if found:
        return found
    return "api_error" if status >= 500 else "invalid_request_error"


def openai_type(err: GatewayError) -> str:
    if err.kind == "upstream":
        # A specific upstream type is kept; the generic `invalid_request_error` is not (OpenAI
        # sends a bad key's 401 under it): there the status says what happened.
        upstream = err.upstream_type
        if upstream and err.upstream_dialect == "openai":
            return upstream  # same dialect: relayed as the provider said it
        if upstream and upstream not in ANTHROPIC_ONLY_TYPES and upstream != GENERIC_TYPE:
            return upstream
        return openai_type_of_status(err.status)
    return OPENAI_TYPE_OF_KIND.get(err.kind) or openai_type_of_status(err.status)


def anthropic_type(err: GatewayError) -> str:
    if err.kind == "upstream":
        upstream = err.upstream_type
        if upstream and err.upstream_dialect == "anthropic":
            return upstream  # same dialect: relayed as the provider said it
        if upstream in ANTHROPIC_TYPES and upstream != GENERIC_TYPE:
            return upstream
        return anthropic_type_of_status(err.status)
    return ANTHROPIC_TYPE_OF_KIND.get(err.kind) or anthropic_type_of_status(err.status)


def upstream_gateway_error(
    dialect: str,
    status: int,
    message: str,
    upstream_type: str | None,
    param: str | None = None,
    code: str | None = None,
) -> GatewayError:
    """The GatewayError for an upstream non-2xx answer of a `dialect` provider: 429 →
    RateLimitedError, another 4xx → UpstreamStatusError with the same status, anything else →
    UpstreamError (502)."""
    err: GatewayError
    if status == 429:
        err = RateLimitedError(message, param=param, code=code, upstream_type=upstream_type)
    elif 400 <= status < 500:
        err = UpstreamStatusError(message, status=status, param=param, code=code, upstream_type=upstream_type)
    else:
        err = UpstreamError(message, param=param, code=code, upstream_type=upstream_type)
    err.upstream_dialect = dialect
    return err


def body_snippet(body: bytes, status: int, limit: int = 500) -> str:
    """A readable message from an upstream body that is not the dialect's error JSON."""
    text = body[:limit].decode("utf-8", "replace").strip()
    return f"upstream answered HTTP {status}" + (f": {text}" if text else "")
