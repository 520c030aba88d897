"""Deadlines for upstream connections without a timer handle per request.

Why not `loop.call_later` per request: every request arms a deadline and disarms it a few
hundred microseconds later, and a stream re-arms it on every chunk; a TimerHandle created
and cancelled each time was ~4 µs a go here, a measurable share of a passthrough. Here arming
is an attribute store. Each connection owns at most one live entry in one heap, ordered by
the time the entry was pushed for; when an entry comes due, the connection's *current*
deadline decides: passed → it fires; moved later (re-armed) → the entry is pushed again for
the new time; disarmed → the entry is dropped. Only a deadline earlier than the live entry
pushes a new one (the old one is then skipped when it comes due). A connection is
re-pushed at most once per timeout period, so the heap stays about as small as the number
of connections. One loop timer sits at the earliest entry; it moves only when an earlier
entry arrives. Entries hold their owner weakly: a connection dropped mid-request is freed
at once, not when its (possibly minutes-long) timeout comes due.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import weakref
from typing import TYPE_CHECKING, Protocol

# Entries due within this much of each other fire in the same pass.
_SLACK_S = 0.001


class Timed(Protocol):
    # Loop time the owner must be stopped by, 0.0 when disarmed (kept by Deadlines).
    deadline: float
    # Due time of the owner's live heap entry, 0.0 when it has none (kept by Deadlines).
    deadline_entry: float

    def on_deadline(self) -> None: ...


class Deadlines:
    __slots__ = ("_heap", "_seq", "_timer", "_timer_at", "_loop")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, weakref.ref[Timed]]] = []
        self._seq = itertools.count(1)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None

    def __len__(self) -> int:
        return len(self._heap)

    def arm(self, item: Timed, seconds: float) -> None:
        """(Re)start `item`'s deadline: `item.on_deadline()` runs `seconds` from now unless
        it is re-armed or disarmed first."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._adopt(loop)
        when = loop.time() + seconds
        item.deadline = when
        entry = item.deadline_entry
        if entry and entry <= when:
            # Its entry comes due no later than the new deadline: it re-checks then.
            return
        self._push(item, when)

    def _adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        # A pool outliving its loop (tests, a restarted server) starts over on the new one.
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for _, _, ref in self._heap:
            item = ref()
            if item is not None:
                item.deadline_entry = 0.0
        self._heap.clear()
        self._loop = loop

    @staticmethod
    def disarm(item: Timed) -> None:
        item.deadline = 0.0

    def _push(self, item: Timed, when: float) -> None:
        item.deadline_entry = when
        heap = self._heap
        heapq.heappush(heap, (when, next(self._seq), weakref.ref(item)))
        if self._timer is None or when < self._timer_at:
            self._schedule(heap[0][0])

    def _schedule(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = when
        if TYPE_CHECKING:
            assert self._loop is not None  # adopted by arm() before anything is scheduled
        self._timer = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._timer = None
        heap = self._heap
        if TYPE_CHECKING:
            assert self._loop is not None  # the timer that fires was scheduled on it
        now = self._loop.time() + _SLACK_S
        due: list[Timed] = []
        while heap and heap[0][0] <= now:
            when, _, ref = heapq.heappop(heap)
            item = ref()
            if item is None or item.deadline_entry != when:
                continue  # its owner is gone, or an earlier entry of the same owner superseded it
            item.deadline_entry = 0.0
            deadline = item.deadline
            if deadline == 0.0:
                continue  # disarmed since
            if deadline <= now:
                item.deadline = 0.0
                due.append(item)
            else:
                self._push_quiet(item, deadline)
        if heap and self._timer is None:
            self._schedule(heap[0][0])
        # Fired after the heap is consistent: a callback may arm other deadlines.
        for item in due:
            item.on_deadline()

    def _push_quiet(self, item: Timed, when: float) -> None:
        item.deadline_entry = when
        heapq.heappush(self._heap, (when, next(self._seq), weakref.ref(item)))
