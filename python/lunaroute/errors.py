"""The one exception hierarchy of LunaRoute.

Every backend of every kernel (Rust, Cython, Python) raises these same classes, so callers
never need to know which backend served them. Gateway errors carry what the HTTP layer needs
to answer in the caller's dialect (status, error type, code, param, retry-after).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal


class LunaRouteError(Exception):
    """Base of everything LunaRoute raises on purpose."""


# --------------------------------------------------------------------------- kernels
class KernelError(LunaRouteError):
    """A native or fallback kernel refused its input."""


class SseLineTooLongError(KernelError, ValueError):
    """An SSE line grew past the framer's `max_line_bytes` without a line ending."""


class InvalidPatternError(KernelError, ValueError):
    """A matcher pattern (literal or regex) was rejected."""


class InvalidArgumentError(KernelError, ValueError):
    """A kernel argument is out of its documented range."""


class BufferPoolError(KernelError):
    """A buffer handed back to a pool is not one it can take."""


class HttpHeadError(KernelError, ValueError):
    """An upstream HTTP/1.x response head is malformed or too large (kernel `http1`)."""


class ChunkedEncodingError(KernelError, ValueError):
    """An upstream chunked body is malformed (kernel `http1`, `ChunkedDecoder`)."""


# --------------------------------------------------------------------------- config / CLI
class ConfigError(LunaRouteError):
    """A config file is unreadable or invalid. `str()` is the one-line user message."""

    def __init__(self, file: str, field: str, reason: str):
        self.file = file
        self.field = field
        self.reason = reason
        # One line, always: a key or value from the file may itself hold line breaks.
        where = _one_line(field)
        super().__init__(
            f"{_one_line(file)}: {where}: {_one_line(reason)}" if field else f"{_one_line(file)}: {_one_line(reason)}"
        )


def _one_line(text: str) -> str:
    return str(text).replace("\r", "\\r").replace("\n", "\\n")


# --------------------------------------------------------------------------- gateway
class GatewayError(LunaRouteError):
    """An error answered to a client. The ingress renders it in the caller's dialect.

    `kind` is one of the contract's situations; the dialect emitters map it to their
    `type` strings (see dialects/*/errors.py).
    """

    status = 500
    kind = "api_error"
    # The dialect of the provider whose error this relays (None: LunaRoute's own error).
    upstream_dialect: str | None = None
    # The recorded session of the failed request, for `x-lunaroute-session-id`.
    session_id: str | None = None
    # The upstream attempts made before it, (provider, model, outcome) each: the access log's.
    attempts: Sequence[tuple[str, str | None, str]] = ()

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        upstream_type: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.param = param
        self.code = code
        self.retry_after = retry_after
        # An upstream 4xx keeps the upstream's own error type where the dialects agree.
        self.upstream_type = upstream_type


class InvalidRequestError(GatewayError):
    status = 400
    kind = "invalid_request_error"


class AuthenticationError(GatewayError):
    status = 401
    kind = "authentication_error"


class PermissionDeniedError(GatewayError):
    status = 403
    kind = "permission_error"


class NotFoundError(GatewayError):
    status = 404
    kind = "not_found_error"


class RequestTooLargeError(GatewayError):
    status = 413
    kind = "request_too_large"


class RateLimitedError(GatewayError):
    status = 429
    kind = "rate_limit_error"


class BudgetExceededError(RateLimitedError):
    """A budget is exhausted: 429 `rate_limit_error` with the OpenAI code `budget_exceeded`."""

    def __init__(self, message: str, *, retry_after: float | None = None, budget_id: str | None = None):
        super().__init__(message, code="budget_exceeded", retry_after=retry_after)
        self.budget_id = budget_id


class UpstreamError(GatewayError):
    """Every target failed (after retries and fallbacks): 502."""

    status = 502
    kind = "api_error"


class UpstreamTimeoutError(UpstreamError):
    """Every target timed out: 504."""

    status = 504


class UpstreamStatusError(GatewayError):
    """An upstream 4xx (not 429) relayed with its own status, translated to the caller."""

    kind = "upstream"


class OverloadedError(GatewayError):
    status = 503
    kind = "overloaded_error"


# --------------------------------------------------------------------------- upstream attempts
FailureKind = Literal["connect", "timeout", "status", "reset"]
FAILURE_KINDS = frozenset({"connect", "timeout", "status", "reset"})


class UpstreamFailure(LunaRouteError):
    """How one upstream attempt failed, as routing's retry and fallback logic reads it
    (raised by egress/upstream.py, read by routing/attempts.py).

    `kind`: "connect" (could not connect), "timeout", "status" (an HTTP error status;
    `status` holds it) or "reset" (connection dropped mid-response). `error` is the
    upstream error already translated for the client (used for a 4xx that is relayed).
    `stream_started`: bytes already reached the client, so the attempt cannot be redone.
    """

    def __init__(
        self,
        kind: FailureKind,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
        error: GatewayError | None = None,
        stream_started: bool = False,
        message: str | None = None,
    ) -> None:
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown upstream failure kind {kind!r}")
        self.kind = kind
        self.status = status
        self.retry_after_s = retry_after_s
        self.error = error
        self.stream_started = stream_started
        super().__init__(message or (f"upstream status {status}" if kind == "status" else kind))

    @property
    def outcome(self) -> str:
        """The attempt-log word: "connect", "timeout", "reset" or "status_<code>"."""
        if self.kind == "status":
            return f"status_{self.status}" if self.status is not None else "status_unknown"
        return self.kind

    @property
    def is_client_error(self) -> bool:
        """A 4xx other than 429: the request itself was refused; never retried."""
        return self.kind == "status" and self.status is not None and 400 <= self.status < 500 and self.status != 429

    @property
    def is_rate_limit(self) -> bool:
        return self.kind == "status" and self.status == 429
