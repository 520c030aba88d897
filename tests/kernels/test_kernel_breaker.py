"""Kernel `breaker`: every backend in lockstep with a model, and the shared 64-byte slot."""

from __future__ import annotations

import itertools
import mmap
import multiprocessing
import struct
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from lunaroute.errors import InvalidArgumentError

from .breaker_model import BreakerModel
from .breaker_worker import hammer_failures, open_breaker
from .kernel_backends import BACKENDS, assert_all_backends_built, available, require

KERNEL = "breaker"
CLOSED, OPEN, HALF_OPEN = 0, 1, 2
HEAD = struct.Struct("<QQ")


def test_all_backends_built_in_ci() -> None:
    assert_all_backends_built(KERNEL)


@pytest.fixture(params=BACKENDS)
def breaker(request: pytest.FixtureRequest) -> ModuleType:
    return require(KERNEL, request.param)


def packed(state: int, failures: int = 0, successes: int = 0, inflight: int = 0) -> int:
    return state | failures << 8 | successes << 24 | inflight << 40


# ---------------------------------------------------------------------------- basics
def test_constants(breaker: ModuleType) -> None:
    assert breaker.BREAKER_SLOT_SIZE == 64
    cb = breaker.CircuitBreaker
    assert (cb.CLOSED, cb.OPEN, cb.HALF_OPEN) == (0, 1, 2)


def test_full_cycle(breaker: ModuleType) -> None:
    cb = breaker.CircuitBreaker(failure_threshold=2, reset_timeout_ms=100, half_open_requests=2)
    assert cb.snapshot() == (CLOSED, 0, 0, 0, 0)
    assert cb.allow(0) is True
    cb.record_failure(10)
    cb.record_success(11)  # a success in CLOSED clears the failure streak
    assert cb.snapshot() == (CLOSED, 0, 0, 0, 0)
    cb.record_failure(20)
    cb.record_failure(30)
    assert cb.snapshot() == (OPEN, 2, 0, 0, 30)
    assert cb.allow(129) is False
    cb.record_success(129)  # late results while OPEN change nothing
    cb.record_failure(129)
    assert cb.snapshot() == (OPEN, 2, 0, 0, 30)
    assert cb.state(130) == HALF_OPEN
    assert cb.allow(130) is True
    assert cb.allow(130) is True
    assert cb.allow(130) is False  # only half_open_requests trial slots
    assert cb.snapshot() == (HALF_OPEN, 2, 0, 2, 30)
    cb.record_success(131)
    assert cb.snapshot() == (HALF_OPEN, 2, 1, 1, 30)
    assert cb.allow(131) is True
    cb.record_success(132)
    assert cb.snapshot() == (CLOSED, 0, 0, 0, 30)  # counters zeroed, opened_at kept


def test_half_open_failure_reopens(breaker: ModuleType) -> None:
    cb = breaker.CircuitBreaker(failure_threshold=1, reset_timeout_ms=50, half_open_requests=3)
    cb.record_failure(1000)
    assert cb.allow(1050) is True
    cb.record_failure(1060)
    assert cb.snapshot() == (OPEN, 1, 0, 0, 1060)
    assert cb.allow(1109) is False
    assert cb.allow(1110) is True


def test_zero_timeout_promotes_at_once(breaker: ModuleType) -> None:
    cb = breaker.CircuitBreaker(failure_threshold=1, reset_timeout_ms=0, half_open_requests=1)
    cb.record_failure(100)
    assert cb.state(99) == OPEN  # a clock reading before opened_at (skew) never promotes
    assert cb.state(100) == HALF_OPEN


def test_reset(breaker: ModuleType) -> None:
    cb = breaker.CircuitBreaker(failure_threshold=1)
    cb.record_failure(77)
    cb.reset()
    assert cb.snapshot() == (CLOSED, 0, 0, 0, 0)


def test_clock_is_monotonic_milliseconds(breaker: ModuleType) -> None:
    cb = breaker.CircuitBreaker(failure_threshold=1, reset_timeout_ms=60_000)
    before = time.monotonic_ns() // 1_000_000
    cb.record_failure()
    after = time.monotonic_ns() // 1_000_000
    assert before <= cb.snapshot()[4] <= after
    assert cb.state() == OPEN and cb.allow() is False


@pytest.mark.parametrize(
    "kwargs",
    [
        {"failure_threshold": 0},
        {"failure_threshold": 65536},
        {"reset_timeout_ms": -1},
        {"reset_timeout_ms": 2**62 + 1},
        {"half_open_requests": 0},
        {"half_open_requests": 65536},
    ],
)
def test_bad_configuration(breaker: ModuleType, kwargs: dict[str, int]) -> None:
    with pytest.raises(InvalidArgumentError):
        breaker.CircuitBreaker(**kwargs)


def test_configuration_limits_are_inclusive(breaker: ModuleType) -> None:
    breaker.CircuitBreaker(failure_threshold=65535, reset_timeout_ms=2**62, half_open_requests=65535)
    breaker.CircuitBreaker(failure_threshold=1, reset_timeout_ms=0, half_open_requests=1)


def _bad_buffers() -> list[tuple[str, object, int]]:
    page = mmap.mmap(-1, 256)
    return [
        ("too small", bytearray(63), 0),
        ("too small at offset", mmap.mmap(-1, 64), 8),
        ("read-only", bytes(64), 0),
        ("offset not a multiple of 8", page, 4),
        ("misaligned view", memoryview(page)[1:], 0),
    ]


@pytest.mark.parametrize("why,buffer,offset", _bad_buffers(), ids=lambda v: v if isinstance(v, str) else "")
def test_bad_buffer(breaker: ModuleType, why: str, buffer: object, offset: int) -> None:
    with pytest.raises(InvalidArgumentError):
        breaker.CircuitBreaker(buffer=buffer, offset=offset)


# ---------------------------------------------------------------------------- the slot
def test_slot_layout_is_the_documented_one(breaker: ModuleType) -> None:
    mm = mmap.mmap(-1, 192)
    cb = breaker.CircuitBreaker(failure_threshold=3, reset_timeout_ms=100, half_open_requests=2, buffer=mm, offset=64)
    cb.record_failure(10)
    cb.record_failure(11)
    assert HEAD.unpack_from(mm, 64) == (packed(CLOSED, 2), 0)
    cb.record_failure(1234)
    assert HEAD.unpack_from(mm, 64) == (packed(OPEN, 3), 1234)
    assert cb.allow(1334) is True
    assert HEAD.unpack_from(mm, 64) == (packed(HALF_OPEN, 3, 0, 1), 1234)
    cb.record_success(1335)
    assert HEAD.unpack_from(mm, 64) == (packed(HALF_OPEN, 3, 1, 0), 1234)
    # reserved bytes and the neighbouring slots are never touched
    assert mm[80:192] == bytes(112) and mm[0:64] == bytes(64)


def test_attaching_to_a_slot_does_not_reset_it(breaker: ModuleType) -> None:
    mm = mmap.mmap(-1, 64)
    HEAD.pack_into(mm, 0, packed(OPEN, 4), 500)
    cb = breaker.CircuitBreaker(failure_threshold=4, reset_timeout_ms=100, buffer=mm)
    assert cb.snapshot() == (OPEN, 4, 0, 0, 500)
    assert cb.state(599) == OPEN and cb.state(600) == HALF_OPEN


def test_failures_saturate_at_u16(breaker: ModuleType) -> None:
    mm = mmap.mmap(-1, 64)
    HEAD.pack_into(mm, 0, packed(CLOSED, 65534), 0)
    cb = breaker.CircuitBreaker(failure_threshold=65535, buffer=mm)
    cb.record_failure(9)
    assert cb.snapshot() == (OPEN, 65535, 0, 0, 9)


def test_bits_56_to_63_are_kept_as_found(breaker: ModuleType) -> None:
    # They belong to no field; no tier may clear them (a future field may live there).
    mm = mmap.mmap(-1, 64)
    HEAD.pack_into(mm, 0, 0xA5 << 56, 0)
    cb = breaker.CircuitBreaker(failure_threshold=1, reset_timeout_ms=0, half_open_requests=1, buffer=mm)
    cb.record_failure(3)
    assert cb.allow(3) is True
    cb.record_success(4)
    cb.reset()
    assert HEAD.unpack_from(mm, 0) == (0xA5 << 56, 0)
    assert cb.snapshot() == (CLOSED, 0, 0, 0, 0)


@pytest.mark.parametrize("first,second", list(itertools.product(BACKENDS, repeat=2)))
def test_two_objects_on_one_slot_share_state(first: str, second: str) -> None:
    a_mod, b_mod = require(KERNEL, first), require(KERNEL, second)
    mm = mmap.mmap(-1, 4096)
    config = {"failure_threshold": 2, "reset_timeout_ms": 10, "half_open_requests": 1}
    a = a_mod.CircuitBreaker(**config, buffer=mm, offset=128)
    b = b_mod.CircuitBreaker(**config, buffer=mm, offset=128)
    a.record_failure(100)
    b.record_failure(101)
    assert a.snapshot() == b.snapshot() == (OPEN, 2, 0, 0, 101)
    assert a.allow(111) is True  # a takes the only trial slot ...
    assert b.allow(111) is False  # ... which b sees as taken
    b.record_success(112)
    assert a.snapshot()[:4] == (CLOSED, 0, 0, 0)
    a.reset()
    assert b.snapshot() == (CLOSED, 0, 0, 0, 0)


# ---------------------------------------------------------------------------- lockstep
class LockstepBreakers(RuleBasedStateMachine):
    """All backends and the model take the same calls; their answers and snapshots agree."""

    @initialize(threshold=st.integers(1, 4), timeout=st.integers(0, 50), trials=st.integers(1, 3), shared=st.booleans())
    def setup(self, threshold: int, timeout: int, trials: int, shared: bool) -> None:
        self.now = 1_000
        self.model = BreakerModel(threshold, timeout, trials)
        mods = available(KERNEL)
        self.mem = mmap.mmap(-1, 64 * (len(mods) + 1)) if shared else None
        self.breakers = {}
        for i, (name, mod) in enumerate(mods.items()):
            slot = {"buffer": self.mem, "offset": 64 * (i + 1)} if shared else {}
            self.breakers[name] = mod.CircuitBreaker(threshold, timeout, trials, **slot)

    @rule(dt=st.integers(0, 60))
    def advance(self, dt: int) -> None:
        self.now += dt

    @rule(op=st.sampled_from(["state", "allow", "record_success", "record_failure"]))
    def call(self, op: str) -> None:
        expected = getattr(self.model, op)(self.now)
        for name, cb in self.breakers.items():
            assert getattr(cb, op)(self.now) == expected, (name, op)

    @rule()
    def reset(self) -> None:
        self.model.reset()
        for cb in self.breakers.values():
            cb.reset()

    @invariant()
    def same_snapshot(self) -> None:
        if hasattr(self, "model"):
            for name, cb in self.breakers.items():
                assert cb.snapshot() == self.model.snapshot(), name


TestLockstepBreakers = LockstepBreakers.TestCase
TestLockstepBreakers.settings = settings(max_examples=80, stateful_step_count=30, deadline=None)


@settings(max_examples=100, deadline=None)
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(["allow", "record_success", "record_failure", "state"]), st.integers(0, 30)),
        max_size=80,
    )
)
def test_random_sequences_with_explicit_clock(ops: list[tuple[str, int]]) -> None:
    model = BreakerModel(3, 40, 2)
    breakers = {n: m.CircuitBreaker(3, 40, 2) for n, m in available(KERNEL).items()}
    now = 0
    for op, dt in ops:
        now += dt
        expected = getattr(model, op)(now)
        for name, cb in breakers.items():
            assert getattr(cb, op)(now) == expected, (name, op)
            assert cb.snapshot() == model.snapshot(), name


# ---------------------------------------------------------------------------- concurrency
def test_threads_count_every_failure(breaker: ModuleType) -> None:
    cb = breaker.CircuitBreaker(failure_threshold=65535)
    threads_n, rounds = 4, 5000
    gate = threading.Barrier(threads_n)

    def worker() -> None:
        gate.wait()
        for _ in range(rounds):
            cb.record_failure(1)

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert cb.snapshot() == (CLOSED, threads_n * rounds, 0, 0, 0)


def _slot_file(tmp_path: Path) -> Path:
    path = tmp_path / "breakers.bin"
    path.write_bytes(bytes(4096))
    return path


@pytest.mark.parametrize("backend", BACKENDS)
def test_another_process_sees_the_state(backend: str, tmp_path: Path) -> None:
    mod = require(KERNEL, backend)
    path = _slot_file(tmp_path)
    with open(path, "r+b") as fh:
        mm = mmap.mmap(fh.fileno(), 0)
    cb = mod.CircuitBreaker(failure_threshold=2, reset_timeout_ms=500, buffer=mm, offset=512)
    assert cb.state(1_000) == CLOSED
    ctx = multiprocessing.get_context("spawn")
    child = ctx.Process(target=open_breaker, args=(backend, str(path), 512, 1_000))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 0
    assert cb.snapshot() == (OPEN, 2, 0, 0, 1_000)
    assert cb.allow(1_499) is False and cb.allow(1_500) is True


@pytest.mark.parametrize("backend", ["rust", "cython"])
def test_two_processes_lose_no_update(backend: str, tmp_path: Path) -> None:
    # The native tiers update the slot with compare-and-swap, so concurrent writers in two
    # processes lose nothing (the Python tier is only best-effort across processes).
    mod = require(KERNEL, backend)
    path = _slot_file(tmp_path)
    rounds = 30_000
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    child = ctx.Process(target=hammer_failures, args=(backend, str(path), 64, rounds, barrier))
    child.start()
    hammer_failures(backend, str(path), 64, rounds, barrier)
    child.join(timeout=120)
    assert child.exitcode == 0
    with open(path, "r+b") as fh:
        mm = mmap.mmap(fh.fileno(), 0)
    assert mod.CircuitBreaker(failure_threshold=65535, buffer=mm, offset=64).snapshot() == (CLOSED, 2 * rounds, 0, 0, 0)
    reader = require(KERNEL, "python").CircuitBreaker(failure_threshold=65535, buffer=mm, offset=64)
    assert reader.snapshot()[1] == 2 * rounds  # the python tier agrees on the layout
