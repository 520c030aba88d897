"""What can go wrong talking to a provider, independent of the transport that talked.

Both transports (the fast HTTP/1.1 pool and httpx) raise `TransportError`s; the attempt
path (`egress/upstream.py`) turns them into `UpstreamFailure`s, the one type routing's
retry and fallback logic reads.
"""

from __future__ import annotations

from typing import Literal

from ..errors import GatewayError, LunaRouteError


class TransportError(Exception):
    """The connection broke, or the peer spoke bad HTTP."""

    def __init__(self, message: str, *, before_response: bool = False):
        super().__init__(message)
        # True when no byte of a response arrived: a retry on a fresh connection is safe.
        self.before_response = before_response


class TransportTimeout(TransportError):
    """The upstream did not answer (or went quiet mid-body) within the deadline."""


class ConnectFailed(TransportError):
    """No connection could be made: nothing was sent."""

    def __init__(self, message: str, before_response: bool = True):
        super().__init__(message, before_response=True)


class ConnectTimedOut(ConnectFailed):
    pass


FailureKind = Literal["connect", "timeout", "status", "reset"]
FAILURE_KINDS = frozenset({"connect", "timeout", "status", "reset"})


class UpstreamFailure(LunaRouteError):
    """How one upstream attempt failed, as routing's retry and fallback logic reads it.

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
