"""Cancelling a request's task when its client goes away, so the upstream call stops.

Watching a client costs a task and a granian future, ~15 % of a fast passthrough, and a
timer per request to delay it was another few percent. So requests are registered in a
dict (two dict operations per request) and one loop timer, running only while requests
are in flight, ticks every ARM_AFTER_S: a request still registered at two consecutive
ticks — so in flight for ARM_AFTER_S to twice that — gets its watcher then. A request that
fast is over before a disconnect could save anything, and LLM calls that take seconds still
stop within 2 × ARM_AFTER_S of the client leaving.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..rsgi import RsgiProtocol

_Watched = tuple["RsgiProtocol", "asyncio.Task[Any]"]


class DisconnectWatcher:
    ARM_AFTER_S = 0.05
    __slots__ = ("_young", "_old", "_armed", "_timer", "_ids")

    def __init__(self) -> None:
        self._young: dict[int, _Watched] = {}  # registered since the last tick
        self._old: dict[int, _Watched] = {}  # registered before the last tick: armed at the next
        self._armed: dict[int, asyncio.Future[None]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._ids = itertools.count(1)

    def watch(self, proto: RsgiProtocol, task: asyncio.Task[Any]) -> int:
        """Start watching; returns the token `done()` takes."""
        token = next(self._ids)
        self._young[token] = (proto, task)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.ARM_AFTER_S, self._tick)
        return token

    def done(self, token: int) -> None:
        if self._young.pop(token, None) is None and self._old.pop(token, None) is None:
            fut = self._armed.pop(token, None)
            if fut is not None:
                fut.cancel()

    @property
    def watched(self) -> int:
        return len(self._young) + len(self._old) + len(self._armed)

    def _tick(self) -> None:
        self._timer = None
        for token, (proto, task) in self._old.items():
            fut = asyncio.ensure_future(proto.client_disconnect())
            fut.add_done_callback(_canceller(task))
            self._armed[token] = fut
        self._old = self._young
        self._young = {}
        if self._old:
            self._timer = asyncio.get_running_loop().call_later(self.ARM_AFTER_S, self._tick)


def _canceller(task: asyncio.Task[Any]) -> Callable[[asyncio.Future[None]], None]:
    def fired(fut: asyncio.Future[None]) -> None:
        if not fut.cancelled() and not task.done():
            task.cancel()

    return fired
