"""DisconnectWatcher: fast requests never pay for a watcher; slow ones are cancelled when
their client leaves."""

from __future__ import annotations

import asyncio

from lunaroute.server.disconnect import DisconnectWatcher


class Proto:
    """granian's RSGI protocol as far as the watcher uses it."""

    def __init__(self) -> None:
        self.calls = 0
        self.gone = asyncio.get_running_loop().create_future()

    async def client_disconnect(self) -> None:
        self.calls += 1
        await self.gone


def test_fast_requests_never_arm_a_watcher():
    async def main():
        w = DisconnectWatcher()
        protos = []
        for _ in range(200):
            p = Proto()
            protos.append(p)
            token = w.watch(p, asyncio.current_task())
            await asyncio.sleep(0)
            w.done(token)
        await asyncio.sleep(w.ARM_AFTER_S * 3)
        assert sum(p.calls for p in protos) == 0
        assert w.watched == 0

    asyncio.run(main())


def test_a_slow_request_is_cancelled_when_its_client_leaves():
    async def main():
        w = DisconnectWatcher()
        p = Proto()
        started = asyncio.Event()

        async def request():
            token = w.watch(p, asyncio.current_task())
            try:
                started.set()
                await asyncio.sleep(10)
            finally:
                w.done(token)

        task = asyncio.ensure_future(request())
        await started.wait()
        await asyncio.sleep(w.ARM_AFTER_S * 2.5)
        assert p.calls == 1 and not task.done()
        t0 = asyncio.get_running_loop().time()
        p.gone.set_result(None)
        try:
            await task
        except asyncio.CancelledError:
            pass
        assert task.cancelled()
        assert asyncio.get_running_loop().time() - t0 < 0.05
        assert w.watched == 0

    asyncio.run(main())


def test_finishing_after_arming_cancels_the_watch_future():
    async def main():
        w = DisconnectWatcher()
        p = Proto()
        token = w.watch(p, asyncio.current_task())
        await asyncio.sleep(w.ARM_AFTER_S * 2.5)
        assert p.calls == 1 and w.watched == 1
        w.done(token)
        await asyncio.sleep(0.01)
        assert w.watched == 0
        assert p.gone.cancelled()  # the watch itself was stopped...
        assert asyncio.current_task().cancelling() == 0  # ...and the request was left alone

    asyncio.run(main())
