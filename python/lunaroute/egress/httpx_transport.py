"""The httpx transport: HTTP/2 (ALPN) and everything httpx does well, behind the same
small response interface as the fast HTTP/1.1 client (`egress/h1.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from .errors import ConnectFailed, ConnectTimedOut, TransportError, TransportTimeout


class HttpxResponse:
    __slots__ = ("status", "headers", "_resp", "_stream_ctx")

    def __init__(self, resp: httpx.Response):
        self.status = resp.status_code
        self.headers = [(k.lower(), v) for k, v in resp.headers.items()]
        self._resp = resp

    def header(self, name: str) -> str | None:
        value: str | None = self._resp.headers.get(name)  # httpx types Headers.get as Any
        return value

    async def read(self) -> bytes:
        try:
            return await self._resp.aread()
        except httpx.TimeoutException as exc:
            raise TransportTimeout(f"upstream body timed out: {exc}") from None
        except httpx.HTTPError as exc:
            raise TransportError(f"upstream body failed: {exc}") from None
        finally:
            await self._resp.aclose()

    async def iter_chunks(self, idle_timeout: float | None = None) -> AsyncIterator[bytes]:
        # httpx applies the request's read timeout to each read: that is the idle timeout.
        try:
            async for chunk in self._resp.aiter_raw():
                if chunk:
                    yield chunk
        except httpx.TimeoutException as exc:
            raise TransportTimeout(f"upstream stream timed out: {exc}") from None
        except httpx.HTTPError as exc:
            raise TransportError(f"upstream stream failed: {exc}") from None
        finally:
            await self._resp.aclose()

    def close(self, abort: bool = False) -> None:
        # aclose() is a coroutine; schedule it so callers can close synchronously.
        import asyncio

        if not self._resp.is_closed:
            asyncio.get_running_loop().create_task(self._resp.aclose())


class HttpxPool:
    """One httpx.AsyncClient per provider (its own pool), HTTP/2 when asked or offered."""

    def __init__(self, base: str, *, http2: bool, max_idle: int, max_connections: int, connect_timeout: float):
        self.base = base
        self.connect_timeout = connect_timeout
        self.client = httpx.AsyncClient(
            http2=http2,
            limits=httpx.Limits(
                max_keepalive_connections=max_idle,
                max_connections=max_connections or None,
            ),
            timeout=httpx.Timeout(None, connect=connect_timeout),
        )

    async def request(
        self, path: str, headers: list[tuple[str, str]], body: bytes, timeout: float | None = None
    ) -> HttpxResponse:
        req = self.client.build_request(
            "POST",
            self.base + path,
            headers=headers,
            content=body,
            timeout=httpx.Timeout(timeout, connect=self.connect_timeout),
        )
        try:
            resp = await self.client.send(req, stream=True)
        except httpx.ConnectTimeout as exc:
            raise ConnectTimedOut(f"connect timed out: {exc}") from None
        except httpx.ConnectError as exc:
            raise ConnectFailed(f"connect failed: {exc}") from None
        except httpx.TimeoutException as exc:
            raise TransportTimeout(f"upstream timed out: {exc}", before_response=True) from None
        except httpx.HTTPError as exc:
            raise TransportError(f"upstream request failed: {exc}", before_response=True) from None
        return HttpxResponse(resp)

    async def get(self, path: str, headers: list[tuple[str, str]]) -> int:
        resp = await self.client.get(self.base + path, headers=headers)
        return resp.status_code

    async def aclose(self) -> None:
        await self.client.aclose()
