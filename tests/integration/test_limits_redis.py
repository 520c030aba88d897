"""Three `lunaroute serve` instances on one real redis-server: one rate limit and one budget
held together, usage kept over a restart of every instance, and a Redis outage mid-run that
follows each instance's `on_redis_error` policy without a 5xx or a hang."""

from __future__ import annotations

import shutil
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.limits.limits_testkit import RedisServer

from .conftest import standard_gateway
from .limits_kit import budget, budgets_json, burst, client_key, send, usage_of, wait_for, warm

SLOW = 0.01  # requests per second of a bucket that must not refill during a test
FAST = {"requests_per_second": 1000, "burst": 1000}

RATE = client_key("k_rate", rate={"requests_per_second": SLOW, "burst": 15})
COUNTED = client_key("k_counted", budget="b_requests")
SPEND = client_key("k_spend", budget="b_tokens")
OPEN = client_key("k_open", rate=FAST, budget="b_open")  # busy during the outage
AFTER = client_key("k_after", rate={"requests_per_second": SLOW, "burst": 4})
PROBES = [client_key(f"k_probe{i}", rate={"requests_per_second": SLOW, "burst": 1}) for i in range(3)]
KEYS = [RATE, COUNTED, SPEND, OPEN, AFTER, *PROBES]
BUDGETS = [
    budget("b_requests", {"type": "key", "id": "k_counted"}, {"requests": 20}),
    budget("b_tokens", {"type": "key", "id": "k_spend"}, {"tokens": 45}),
    budget("b_open", {"type": "key", "id": "k_open"}, {"requests": 100000}),
]
# the first two instances serve without limits while Redis is away, the third refuses
POLICIES = ["fail_open", "fail_open", "fail_closed"]


def _served(mock) -> int:
    return len(mock.requests("/v1/chat/completions")) + len(mock.requests("/v1/messages"))


def _statuses(replies) -> list[int]:
    return sorted(r.status for r in replies)


def _start_all(gateways) -> None:
    with ThreadPoolExecutor(len(gateways)) as pool:
        list(pool.map(lambda gw: gw.start(timeout=40), gateways))


def _stop_all(gateways) -> list[int]:
    with ThreadPoolExecutor(len(gateways)) as pool:
        return list(pool.map(lambda gw: gw.stop(signal.SIGTERM), gateways))


@pytest.fixture(scope="module")
def redis(tmp_path_factory):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (scripts/test installs it)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def trio(tmp_path_factory, redis):
    from tests.mock_upstream.fixture import session_mock_upstream

    mock = session_mock_upstream()
    gateways = [
        standard_gateway(
            tmp_path_factory.mktemp(f"instance{i}"),
            mock.url,
            keys=[k.entry for k in KEYS],
            budgets=BUDGETS,
            # 1 s rather than 250 ms: on this shared 2-core box a busy Redis can take longer than
            # 250 ms to answer, and a fail_open instance would then admit without counting
            sections={
                "state": {
                    "backend": "redis",
                    "redis_url": redis.url,
                    "on_redis_error": policy,
                    "redis_timeout_ms": 1000,
                }
            },
        )
        for i, policy in enumerate(POLICIES)
    ]
    try:
        _start_all(gateways)
        _warm_all(gateways)
        yield gateways
    finally:
        codes = _stop_all(gateways)
        assert codes == [0, 0, 0], [gw.logs()[-3000:] for gw in gateways]


def _warm_all(gateways) -> None:
    with ThreadPoolExecutor(len(gateways)) as pool:
        list(pool.map(lambda gw: [warm(gw, k.secret) for k in KEYS], gateways))


def _everywhere(gateways) -> list:
    return [(gw, dialect) for gw in gateways for dialect in ("openai", "anthropic")]


def test_three_instances_hold_one_rate_limit_and_one_budget(trio, mock_upstream):
    replies = burst(_everywhere(trio), RATE.secret, "gpt-4o", 36)
    assert _statuses(replies) == [200] * 15 + [429] * 21

    replies = burst(_everywhere(trio), COUNTED.secret, "claude-sonnet-4-5", 36)
    assert _statuses(replies) == [200] * 20 + [429] * 16
    assert all(r.json()["error"]["type"] == "rate_limit_error" for r in replies if r.status == 429)

    # 3 tokens an answer: 15 answers reach 45; answers in flight may overshoot, nothing else
    wave, admitted = 6, 0
    for _ in range(6):
        admitted += sum(r.status == 200 for r in burst(_everywhere(trio), SPEND.secret, "gpt-4o", wave))
    assert 15 <= admitted <= 15 + wave - 1
    snap = budgets_json(trio[0])
    assert snap["backend"] == "redis"
    assert usage_of(snap, "b_requests")["requests"] == 20
    assert (usage_of(snap, "b_tokens")["tokens"], usage_of(snap, "b_tokens")["requests"]) == (3 * admitted, admitted)
    assert _served(mock_upstream) == 15 + 20 + admitted


def test_restarting_every_instance_keeps_usage(trio, mock_upstream):
    before = budgets_json(trio[1])
    assert _stop_all(trio) == [0, 0, 0]
    _start_all(trio)
    _warm_all(trio)
    after = budgets_json(trio[2])
    for budget_id in ("b_requests", "b_tokens"):
        assert usage_of(after, budget_id) == usage_of(before, budget_id)
        assert usage_of(after, budget_id)["requests"] > 0
    # the limits still hold on every instance
    for gw in trio:
        assert send(gw, "openai", RATE.secret, "gpt-4o").status == 429
        over = send(gw, "anthropic", COUNTED.secret, "gpt-4o")
        assert over.status == 429 and "b_requests" in over.json()["error"]["message"]
        assert send(gw, "openai", SPEND.secret, "gpt-4o").json()["error"]["code"] == "budget_exceeded"
    assert _served(mock_upstream) == 0


def test_redis_outage_follows_each_policy_without_5xx_or_hang(trio, redis, mock_upstream):
    results: list[tuple[int, float, float, int]] = []  # instance, sent at, seconds, status
    stop = threading.Event()

    def load(i: int) -> None:
        while not stop.is_set():
            sent = time.monotonic()
            r = send(trio[i], ("openai", "anthropic")[len(results) % 2], OPEN.secret, "gpt-4o", timeout=5)
            results.append((i, sent, r.seconds, r.status))

    threads = [threading.Thread(target=load, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        killed_at = time.monotonic()
        redis.kill()
        time.sleep(2.5)
    finally:
        stop.set()
        for t in threads:
            t.join(10)

    assert not [r for r in results if r[3] >= 500], results
    slowest = max(r[2] for r in results)
    assert slowest < 1.5, slowest
    before = [r for r in results if r[1] + r[2] < killed_at]
    during = [r for r in results if r[1] > killed_at + 0.2]
    assert before and all(r[3] == 200 for r in before)
    assert {i for i, *_ in during} == {0, 1, 2}, results
    assert all(r[3] == 200 for r in during if POLICIES[r[0]] == "fail_open")
    assert all(r[3] == 429 for r in during if POLICIES[r[0]] == "fail_closed")
    refused = send(trio[2], "openai", OPEN.secret, "gpt-4o")
    assert refused.status == 429 and int(refused.headers["retry-after"]) >= 1
    assert "cannot be checked" in refused.json()["error"]["message"]

    # Redis comes back (empty: it kept nothing on disk); each instance finds it again after
    # its backoff, and then its own probe key's bucket (1 request) holds again.
    redis.start()

    def limited_again(gw, key) -> bool:
        first = send(gw, "openai", key.secret, "gpt-4o")
        if first.status == 429 and "rate limit reached" in first.json()["error"]["message"]:
            return True
        second = send(gw, "openai", key.secret, "gpt-4o")
        return second.status == 429 and "rate limit reached" in second.json()["error"]["message"]

    for gw, probe in zip(trio, PROBES):
        took = wait_for(lambda gw=gw, probe=probe: limited_again(gw, probe), 12, interval=0.2)
        assert took is not None, gw.logs()[-3000:]
    replies = burst(_everywhere(trio), AFTER.secret, "gpt-4o", 12)
    assert _statuses(replies) == [200] * 4 + [429] * 8
    for gw in trio:  # one log line for each transition
        logs = gw.logs()
        assert "redis state store unreachable" in logs and "redis state store reachable again" in logs
