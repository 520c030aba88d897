"""Kernel `bufpool`: counts and stats identical across backends and to a model."""

from __future__ import annotations

import threading
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.errors import BufferPoolError, InvalidArgumentError

from .kernel_backends import BACKENDS, assert_all_backends_built, available, require

KERNEL = "bufpool"


def test_all_backends_built_in_ci() -> None:
    assert_all_backends_built(KERNEL)


@pytest.fixture(params=BACKENDS)
def bufpool(request: pytest.FixtureRequest) -> ModuleType:
    return require(KERNEL, request.param)


# ---------------------------------------------------------------------------- basics
def test_defaults_and_lazy_start(bufpool: ModuleType) -> None:
    pool = bufpool.BufferPool()
    assert (pool.capacity, pool.buffer_size, pool.available()) == (1024, 65536, 0)
    assert pool.stats() == {"hits": 0, "misses": 0, "released": 0, "dropped": 0}


def test_acquire_release_cycle(bufpool: ModuleType) -> None:
    pool = bufpool.BufferPool(capacity=2, buffer_size=16)
    a = pool.acquire()
    assert type(a) is bytearray and len(a) == 0
    a += b"payload"
    assert pool.release(a) is True
    assert len(a) == 0  # cleared on release
    assert pool.available() == 1
    b = pool.acquire()
    assert len(b) == 0
    assert pool.stats() == {"hits": 1, "misses": 1, "released": 1, "dropped": 0}
    assert pool.available() == 0


def test_full_pool_drops(bufpool: ModuleType) -> None:
    pool = bufpool.BufferPool(capacity=1, buffer_size=8)
    assert pool.release(bytearray(b"x")) is True
    extra = bytearray(b"yy")
    assert pool.release(extra) is False
    assert len(extra) == 0
    assert pool.available() == 1
    assert pool.stats() == {"hits": 0, "misses": 0, "released": 2, "dropped": 1}


def test_oversize_buffer_is_dropped(bufpool: ModuleType) -> None:
    pool = bufpool.BufferPool(capacity=4, buffer_size=8)
    assert pool.release(bytearray(32)) is True  # exactly 4 * buffer_size: kept
    big = bytearray(33)
    assert pool.release(big) is False  # more: dropped, but still cleared
    assert len(big) == 0
    assert pool.available() == 1
    assert pool.stats()["dropped"] == 1


def test_zero_capacity_keeps_nothing(bufpool: ModuleType) -> None:
    pool = bufpool.BufferPool(capacity=0, buffer_size=1)
    assert pool.release(pool.acquire()) is False
    assert pool.available() == 0
    assert pool.stats() == {"hits": 0, "misses": 1, "released": 1, "dropped": 1}


@pytest.mark.parametrize("bad", [b"bytes", memoryview(bytearray(4)), "str", None, [1, 2], 3])
def test_release_of_non_bytearray_is_rejected(bufpool: ModuleType, bad: object) -> None:
    pool = bufpool.BufferPool()
    with pytest.raises(BufferPoolError):
        pool.release(bad)
    assert pool.stats()["released"] == 0
    assert pool.available() == 0


@pytest.mark.parametrize("capacity,size", [(-1, 10), (4, 0), (4, -8)])
def test_bad_arguments(bufpool: ModuleType, capacity: int, size: int) -> None:
    with pytest.raises(InvalidArgumentError):
        bufpool.BufferPool(capacity=capacity, buffer_size=size)


def test_python_refuses_buffer_with_live_view() -> None:
    # A bytearray that a memoryview still exports cannot be cleared: a clear error, not a crash.
    py = require(KERNEL, "python")
    pool = py.BufferPool()
    buf = bytearray(b"abc")
    view = memoryview(buf)
    with pytest.raises(BufferPoolError):
        pool.release(buf)
    view.release()
    assert pool.release(buf) is True


# ---------------------------------------------------------------------------- differential
ops = st.lists(
    st.one_of(
        st.just(("acquire",)),
        st.tuples(st.just("release_held"), st.integers(0, 50), st.integers(0, 40)),
        st.tuples(st.just("release_new"), st.integers(0, 40)),
    ),
    max_size=60,
)


def play(mod: ModuleType, capacity: int, size: int, script: list[tuple]) -> list[object]:
    pool = mod.BufferPool(capacity=capacity, buffer_size=size)
    held: list[bytearray] = []
    trace: list[object] = []
    for op in script:
        if op[0] == "acquire":
            buf = pool.acquire()
            trace.append(len(buf))
            held.append(buf)
        elif op[0] == "release_held" and held:
            buf = held.pop(op[1] % len(held))
            buf += b"z" * op[2]
            trace.append((pool.release(buf), len(buf)))
        elif op[0] == "release_new":
            trace.append(pool.release(bytearray(op[1])))
        trace.append((pool.available(), tuple(sorted(pool.stats().items()))))
    return trace


def model(capacity: int, size: int, script: list[tuple]) -> list[object]:
    idle = hits = misses = released = dropped = 0
    held = 0
    trace: list[object] = []
    for op in script:
        if op[0] == "acquire":
            if idle:
                idle -= 1
                hits += 1
            else:
                misses += 1
            held += 1
            trace.append(0)
        elif (op[0] == "release_held" and held) or op[0] == "release_new":
            length = op[2] if op[0] == "release_held" else op[1]
            if op[0] == "release_held":
                held -= 1
            released += 1
            keep = length <= 4 * size and idle < capacity
            if keep:
                idle += 1
            else:
                dropped += 1
            trace.append((keep, 0) if op[0] == "release_held" else keep)
        stats = {"dropped": dropped, "hits": hits, "misses": misses, "released": released}
        trace.append((idle, tuple(sorted(stats.items()))))
    return trace


@settings(max_examples=200, deadline=None)
@given(capacity=st.integers(0, 5), size=st.integers(1, 10), script=ops)
def test_every_backend_matches_the_model(capacity: int, size: int, script: list[tuple]) -> None:
    expected = model(capacity, size, script)
    for name, mod in available(KERNEL).items():
        assert play(mod, capacity, size, script) == expected, name


def test_threads_hammering_one_pool(bufpool: ModuleType) -> None:
    pool = bufpool.BufferPool(capacity=3, buffer_size=64)
    threads_n, rounds = 4, 2000
    errors: list[str] = []
    start = threading.Barrier(threads_n)

    def worker(tag: int) -> None:
        start.wait()
        mark = bytes([tag]) * 16
        for _ in range(rounds):
            buf = pool.acquire()
            if len(buf):
                errors.append("acquired a non-empty buffer")
            buf += mark
            # Were this buffer handed to two threads at once, the other's bytes would show.
            if bytes(buf) != mark:
                errors.append("buffer shared between threads")
            pool.release(buf)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    stats = pool.stats()
    total = threads_n * rounds
    assert stats["hits"] + stats["misses"] == total
    assert stats["released"] == total
    # every accepted release adds one idle buffer, every hit takes one away
    assert pool.available() == stats["released"] - stats["dropped"] - stats["hits"]
    assert 0 < pool.available() <= 3
