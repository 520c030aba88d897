"""Deadlines: one heap and one loop timer instead of a timer handle per request."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.egress.deadlines import Deadlines


class Item:
    def __init__(self) -> None:
        self.deadline = 0.0
        self.deadline_entry = 0.0
        self.fired_at: list[float] = []

    def on_deadline(self) -> None:
        self.fired_at.append(asyncio.get_running_loop().time())


def run(coro):
    return asyncio.run(coro)


def test_fires_once_after_the_deadline():
    async def main():
        d, it = Deadlines(), Item()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        d.arm(it, 0.05)
        await asyncio.sleep(0.2)
        assert len(it.fired_at) == 1
        assert 0.045 <= it.fired_at[0] - t0 < 0.15
        assert it.deadline == 0.0 and len(d) == 0

    run(main())


def test_disarm_prevents_firing_and_the_entry_is_dropped():
    async def main():
        d, it = Deadlines(), Item()
        d.arm(it, 0.03)
        d.disarm(it)
        await asyncio.sleep(0.1)
        assert it.fired_at == []
        assert len(d) == 0

    run(main())


def test_rearming_later_postpones_without_a_second_entry():
    async def main():
        d, it = Deadlines(), Item()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        d.arm(it, 0.04)
        for _ in range(5):  # a stream re-arming on every chunk
            await asyncio.sleep(0.02)
            d.arm(it, 0.04)
            assert len(d) == 1
        assert it.fired_at == []
        await asyncio.sleep(0.15)
        assert len(it.fired_at) == 1
        assert it.fired_at[0] - t0 >= 0.1 + 0.04 - 0.002

    run(main())


def test_rearming_earlier_moves_the_deadline_up():
    async def main():
        d, it = Deadlines(), Item()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        d.arm(it, 30.0)
        d.disarm(it)
        d.arm(it, 0.03)  # a reused connection with a shorter timeout
        await asyncio.sleep(0.12)
        assert len(it.fired_at) == 1 and it.fired_at[0] - t0 < 0.1

    run(main())


def test_a_callback_may_arm_again():
    async def main():
        d = Deadlines()

        class Again(Item):
            def on_deadline(self) -> None:
                super().on_deadline()
                if len(self.fired_at) < 3:
                    d.arm(self, 0.01)

        it = Again()
        d.arm(it, 0.01)
        await asyncio.sleep(0.2)
        assert len(it.fired_at) == 3

    run(main())


def test_a_new_loop_starts_over():
    d, it = Deadlines(), Item()

    async def arm_only():
        d.arm(it, 10.0)

    run(arm_only())
    assert len(d) == 1

    async def main():
        d.arm(it, 0.02)
        await asyncio.sleep(0.1)
        assert len(it.fired_at) == 1

    run(main())


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(["arm", "disarm"]), st.integers(1, 40)), min_size=1, max_size=30
    )
)
def test_fires_exactly_the_items_left_armed(ops):
    """Whatever the order of arms and disarms, exactly the items armed last fire, once."""

    async def main():
        d = Deadlines()
        items = [Item() for _ in range(6)]
        last: dict[int, str] = {}
        for idx, op, ms in ops:
            if op == "arm":
                d.arm(items[idx], ms / 1000)
            else:
                d.disarm(items[idx])
            last[idx] = op
        await asyncio.sleep(0.1)
        for idx, it in enumerate(items):
            assert len(it.fired_at) == (1 if last.get(idx) == "arm" else 0), (idx, ops)
        assert len(d) == 0

    run(main())


def test_an_armed_item_nobody_holds_is_freed_before_its_deadline():
    """A connection dropped mid-request must not live on until a long timeout comes due."""
    import gc
    import weakref

    async def main():
        d = Deadlines()
        it = Item()
        d.arm(it, 600.0)
        ref = weakref.ref(it)
        del it
        gc.collect()
        assert ref() is None
        keep = Item()
        d.arm(keep, 0.02)  # the heap still works around the dead entry
        await asyncio.sleep(0.08)
        assert len(keep.fired_at) == 1

    run(main())
