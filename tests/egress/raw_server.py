"""A loopback TCP server for tests that script an upstream's bytes themselves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handle: Handler) -> AsyncIterator[int]:
    """Serve `handle(reader, writer)` for each connection on 127.0.0.1; yields the port.

    On exit every connection is closed and every handler has ended, so no socket or
    transport outlives the event loop (its ResourceWarning would fail the run).
    """
    writers: list[asyncio.StreamWriter] = []
    handlers: list[asyncio.Future[None]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            await handle(reader, writer)
        finally:
            writer.close()

    def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A task of ours rather than start_server's, so that the exit below can wait for it.
        handlers.append(asyncio.ensure_future(serve(reader, writer)))

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.close()  # a handler still waiting to read sees the end of its stream
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()
