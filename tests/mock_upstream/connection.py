"""One accepted TCP connection: writes, peer-close detection, paced waits and RST."""

from __future__ import annotations

import asyncio
import socket
import struct

_POLL_SECONDS = 0.005


class Connection:
    def __init__(self, ident: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.ident = ident
        self.reader = reader
        self.writer = writer
        self.aborted = False

    def peer_closed(self) -> bool:
        """True once the peer sent FIN/RST (we never read ahead while answering, so EOF on
        the reader means the client went away)."""
        return self.reader.at_eof() or self.writer.transport.is_closing()

    async def pause(self, milliseconds: int) -> bool:
        """Sleep, watching the peer; False when the peer closed meanwhile."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + milliseconds / 1000
        while True:
            if self.peer_closed():
                return False
            left = deadline - loop.time()
            if left <= 0:
                return True
            await asyncio.sleep(min(_POLL_SECONDS, left))

    async def send(self, data: bytes) -> bool:
        """Write and flush; False when the peer is gone. (Reader EOF alone is not checked
        here, so a client that half-closes after its request still gets its answer.)"""
        if self.writer.transport.is_closing():
            return False
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, RuntimeError):
            return False
        return not self.writer.transport.is_closing()

    async def flush(self) -> None:
        """Wait until every written byte left our buffer for the kernel."""
        try:
            self.writer.transport.set_write_buffer_limits(0)
            await self.writer.drain()
        except (ConnectionError, RuntimeError):
            pass

    def reset(self) -> None:
        """Close abruptly: SO_LINGER 0 makes the kernel send RST instead of FIN."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.writer.transport.abort()
        self.aborted = True

    async def close(self) -> None:
        if self.aborted:
            return
        try:
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), timeout=2)
        except (TimeoutError, ConnectionError, RuntimeError):
            pass
