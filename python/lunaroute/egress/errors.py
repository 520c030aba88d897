"""What can go wrong talking to a provider, independent of the transport that talked.

Both transports (the fast HTTP/1.1 pool and httpx) raise `TransportError`s; the attempt
path (`egress/upstream.py`) turns them into `UpstreamFailure`s (lunaroute/errors.py), the
one type routing's retry and fallback logic reads.
"""

from __future__ import annotations


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
