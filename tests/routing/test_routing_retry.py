"""RetryPolicy: full-jitter exponential backoff and Retry-After."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.routing import RetryPolicy


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2000), st.integers(0, 20000), st.integers(-3, 80), st.integers(0, 99))
def test_backoff_stays_within_the_exponential_ceiling(base: int, cap: int, attempt: int, seed: int) -> None:
    policy = RetryPolicy(base, cap, rng=random.Random(seed))
    ceiling = min(cap, base * 2 ** (max(attempt, 1) - 1)) / 1000
    assert policy.backoff_ceiling_s(attempt) == pytest.approx(ceiling)
    assert 0.0 <= policy.delay_s(attempt, None) <= ceiling


def test_ceiling_doubles_then_caps() -> None:
    policy = RetryPolicy(100, 1000)
    assert [policy.backoff_ceiling_s(a) for a in range(1, 7)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_full_jitter_spreads_over_the_whole_range() -> None:
    policy = RetryPolicy(1000, 1000, rng=random.Random(1))
    delays = [policy.delay_s(1, None) for _ in range(2000)]
    assert min(delays) < 0.05 and max(delays) > 0.95
    assert 0.45 < sum(delays) / len(delays) < 0.55


def test_retry_after_is_used_as_is_and_capped() -> None:
    policy = RetryPolicy(100, 5000, retry_after_cap_s=30)
    assert policy.delay_s(1, 2.5) == 2.5
    assert policy.delay_s(3, 0) == 0
    assert policy.delay_s(1, 120) == 30
    assert policy.delay_s(1, math.inf) == 30
    assert policy.honours(30) and policy.honours(None) and not policy.honours(30.5)


@pytest.mark.parametrize("bad", [-1.0, math.nan, True])
def test_unusable_retry_after_falls_back_to_backoff(bad: float) -> None:
    policy = RetryPolicy(100, 100, rng=random.Random(3))
    assert 0 <= policy.delay_s(1, bad) <= 0.1
    assert policy.honours(bad)


def test_negative_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(-1, 100)
