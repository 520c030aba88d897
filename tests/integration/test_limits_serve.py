"""Rate limits and budgets through real `lunaroute serve` processes and the strict mock:
429s in each dialect, budgets charged from scripted usage (streamed, not, translated), soft
limits, three workers on one shared table, hot reload, and usage that survives a restart."""

from __future__ import annotations

import signal
import time

import pytest

from lunaroute.limits import shipped_prices

from .conftest import standard_gateway
from .limits_kit import (
    budget,
    budgets_json,
    burst,
    client_key,
    metric,
    send,
    usage_of,
    wait_for,
    warm,
    with_rate,
)

SLOW = 0.01  # requests per second of a bucket that must not refill during a test


def _statuses(replies) -> list[int]:
    return sorted(r.status for r in replies)


def _rate_limited_total(gw) -> float:
    return metric(gw.metrics(), "lunaroute_rate_limited_total") or 0.0


# ---------------------------------------------------------------- one gateway, several keys
RATE = client_key("k_rate", rate={"requests_per_second": SLOW, "burst": 5})
SPEND = client_key("k_spend", budget="b_spend")
THROTTLE = client_key("k_throttle")
REROUTE = client_key("k_reroute")
CHEAPER = client_key("k_cheaper")

# (ingress dialect, requested model, stream, upstream path): both dialects, relayed and
# translated, each streamed and not; the usage each answer reports is scripted below.
SPEND_CASES = [
    ("openai", "gpt-4o", False, "/v1/chat/completions"),
    ("openai", "gpt-4o", True, "/v1/chat/completions"),
    ("anthropic", "claude-sonnet-4-5", False, "/v1/messages"),
    ("anthropic", "claude-sonnet-4-5", True, "/v1/messages"),
    ("openai", "claude-sonnet-4-5", False, "/v1/messages"),
    ("openai", "claude-sonnet-4-5", True, "/v1/messages"),
    ("anthropic", "gpt-4o", False, "/v1/chat/completions"),
    ("anthropic", "gpt-4o", True, "/v1/chat/completions"),
]
SPEND_USAGE = [(1000 + 37 * i, 200 + 11 * i) for i in range(len(SPEND_CASES))]
SPEND_TOKENS = sum(i + o for i, o in SPEND_USAGE)


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    from tests.mock_upstream.fixture import session_mock_upstream

    keys = [RATE.entry, SPEND.entry, THROTTLE.entry, REROUTE.entry, CHEAPER.entry]
    budgets = [
        budget("b_spend", {"type": "key", "id": "k_spend"}, {"tokens": SPEND_TOKENS}),
        budget(
            "b_throttle",
            {"type": "key", "id": "k_throttle"},
            {"requests": 1000},
            soft=0.45,  # from the 6th of 1000 requests
            actions=["throttle"],
            throttle={"requests_per_second": SLOW, "burst": 1},
        ),
        budget(
            "b_reroute",
            {"type": "key", "id": "k_reroute"},
            {"requests": 1000},
            soft=0.25,  # from the 4th of 1000
            actions=["reroute_to_cheaper"],
            reroute_to={"gpt-4o": "gpt-4o-mini"},
        ),
        budget(
            "b_cheaper",
            {"type": "key", "id": "k_cheaper"},
            {"requests": 1000},
            soft=0.05,  # from the 2nd of 1000: the price table picks the cheaper model
            actions=["reroute_to_cheaper"],
        ),
    ]
    gw = standard_gateway(
        tmp_path_factory.mktemp("limits"), session_mock_upstream().url, keys=keys, budgets=budgets
    ).start()
    for key in (RATE, SPEND, THROTTLE, REROUTE, CHEAPER):
        warm(gw, key.secret)  # argon2 once per key, before any burst
    yield gw
    assert gw.stop() == 0, gw.logs()


def test_burst_then_429_in_each_dialect(limited, mock_upstream):
    before = _rate_limited_total(limited)
    replies = burst([(limited, "openai")], RATE.secret, "gpt-4o", 8)
    assert _statuses(replies) == [200] * 5 + [429] * 3
    for r in replies:
        if r.status == 429:
            # the bucket refills one request in 1/SLOW s: that is when to come back
            assert 1 <= int(r.headers["retry-after"]) <= 1 / SLOW, r.headers
            err = r.json()["error"]
            assert err["type"] == "rate_limit_error" and err["code"] is None, err
    refused = send(limited, "anthropic", RATE.secret, "claude-sonnet-4-5")
    assert refused.status == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 1 / SLOW
    body = refused.json()
    assert body["type"] == "error" and body["error"]["type"] == "rate_limit_error", body
    assert len(mock_upstream.requests()) == 5  # refused requests never reach the provider
    assert _rate_limited_total(limited) - before == 4


def test_budget_charged_from_every_kind_of_answer(limited, mock_upstream):
    prices = shipped_prices()
    cost = 0.0
    for (dialect, model, stream, path), (inp, out) in zip(SPEND_CASES, SPEND_USAGE):
        mock_upstream.script([{"path": path, "usage": {"input_tokens": inp, "output_tokens": out}}])
        r = send(limited, dialect, SPEND.secret, model, stream=stream)
        assert r.status == 200, (dialect, model, stream, r.body[:300])
        marker = (b"message_stop" if dialect == "anthropic" else b"[DONE]") if stream else b"echo: hi"
        assert marker in r.body, r.body[-300:]
        cost += prices.cost_cents(model, inp, out)
    assert mock_upstream.pending_script() == []  # every scripted usage was answered
    assert len(mock_upstream.requests()) == len(SPEND_CASES)

    # the last answer's charge lands just after its last byte: wait for it, never past it
    assert wait_for(lambda: usage_of(budgets_json(limited), "b_spend")["tokens"] >= SPEND_TOKENS, 5) is not None
    usage = usage_of(budgets_json(limited), "b_spend")
    assert usage["tokens"] == SPEND_TOKENS
    assert usage["requests"] == len(SPEND_CASES)
    assert usage["cost_cents"] == pytest.approx(cost, abs=1e-5)
    assert cost > 0
    ratio = metric(limited.metrics(), "lunaroute_budget_usage_ratio", {"budget": "b_spend", "window": "daily"})
    assert ratio == pytest.approx(1.0)

    over = send(limited, "openai", SPEND.secret, "gpt-4o")
    assert over.status == 429
    err = over.json()["error"]
    assert err["type"] == "rate_limit_error" and err["code"] == "budget_exceeded", err
    assert "b_spend" in err["message"]
    assert int(over.headers["retry-after"]) >= 1  # the end of the day
    over = send(limited, "anthropic", SPEND.secret, "claude-sonnet-4-5", stream=True)
    assert over.status == 429
    assert over.json()["error"]["type"] == "rate_limit_error"
    assert len(mock_upstream.requests()) == len(SPEND_CASES)
    assert usage_of(budgets_json(limited), "b_spend")["requests"] == len(SPEND_CASES)


def test_soft_limit_throttle_lowers_the_rate(limited, mock_upstream):
    # below the soft limit (5 requests): a burst of 5 goes through whole
    assert _statuses(burst([(limited, "openai")], THROTTLE.secret, "gpt-4o", 5)) == [200] * 5
    # past it, the budget's throttle bucket (burst 1, refilling every 100 s) holds every request
    replies = burst([(limited, "openai"), (limited, "anthropic")], THROTTLE.secret, "gpt-4o", 5)
    assert _statuses(replies) == [200] + [429] * 4
    for r in replies:
        if r.status == 429:
            assert int(r.headers["retry-after"]) >= 1
            err = r.json()["error"]
            assert err["type"] == "rate_limit_error" and err.get("code") is None, err
    assert len(mock_upstream.requests()) == 6


def test_soft_limit_reroutes_to_the_cheaper_model(limited, mock_upstream):
    for _ in range(3):
        assert send(limited, "openai", REROUTE.secret, "gpt-4o").status == 200
    rerouted = send(limited, "openai", REROUTE.secret, "gpt-4o")
    assert rerouted.status == 200
    assert rerouted.headers["x-lunaroute-model"] == "gpt-4o-mini"
    translated = send(limited, "anthropic", REROUTE.secret, "gpt-4o", stream=True)
    assert translated.status == 200 and b"message_stop" in translated.body
    seen = [r["json"]["model"] for r in mock_upstream.requests()]
    assert seen == ["gpt-4o"] * 3 + ["gpt-4o-mini"] * 2

    # without `reroute_to` the shipped price table names the cheaper model
    mock_upstream.reset()
    prices = shipped_prices()
    assert send(limited, "anthropic", CHEAPER.secret, "claude-opus-4-1").status == 200
    assert send(limited, "anthropic", CHEAPER.secret, "claude-opus-4-1").status == 200
    first, second = (r["json"]["model"] for r in mock_upstream.requests())
    assert first == "claude-opus-4-1"
    assert second == prices.cheaper("claude-opus-4-1") and second.startswith("claude-")
    assert prices.cost_cents(second, 1000, 1000) < prices.cost_cents(first, 1000, 1000)


# ---------------------------------------------------------------- three workers, one table
def test_three_workers_hold_one_rate_limit_and_one_budget(tmp_path, mock_upstream):
    rate = client_key("k_w_rate", rate={"requests_per_second": SLOW, "burst": 12})
    spend = client_key("k_w_spend", budget="b_w")
    counted = client_key("k_w_req", budget="b_req")
    gw = standard_gateway(
        tmp_path,
        mock_upstream.url,
        workers=3,
        keys=[rate.entry, spend.entry, counted.entry],
        budgets=[
            budget("b_w", {"type": "key", "id": "k_w_spend"}, {"tokens": 45}),
            budget("b_req", {"type": "key", "id": "k_w_req"}, {"requests": 17}),
        ],
    ).start()
    try:
        for key in (rate, spend, counted):
            for _ in range(3):  # each worker checks a key once: spread the warm-ups
                warm(gw, key.secret)
        replies = burst([(gw, "openai"), (gw, "anthropic")], rate.secret, "gpt-4o", 30)
        assert _statuses(replies) == [200] * 12 + [429] * 18
        # the supervisor sums its workers' counters
        assert wait_for(lambda: _rate_limited_total(gw) == 18, 5) is not None, gw.metrics()

        # requests are counted at admission: exact, however many arrive at once
        replies = burst([(gw, "openai"), (gw, "anthropic")], counted.secret, "claude-sonnet-4-5", 30)
        assert _statuses(replies) == [200] * 17 + [429] * 13
        assert all(r.json()["error"]["type"] == "rate_limit_error" for r in replies if r.status == 429)

        # each answer is 3 tokens ("hi" in, "echo: hi" out): 15 answers reach the limit of 45;
        # tokens are known when an answer ends, so the answers in flight may overshoot it
        wave, admitted = 6, 0
        for _ in range(6):
            admitted += sum(r.status == 200 for r in burst([(gw, "openai")], spend.secret, "gpt-4o", wave))
        assert 15 <= admitted <= 15 + wave - 1
        assert send(gw, "openai", spend.secret, "gpt-4o").status == 429

        snap = budgets_json(gw)
        assert usage_of(snap, "b_req")["requests"] == 17
        usage = usage_of(snap, "b_w")
        assert (usage["tokens"], usage["requests"]) == (3 * admitted, admitted)
        assert usage["cost_cents"] == pytest.approx(admitted * shipped_prices().cost_cents("gpt-4o", 1, 2), abs=1e-5)
    finally:
        assert gw.stop() == 0, gw.logs()


# ---------------------------------------------------------------- hot reload
def test_edited_keys_and_budgets_apply_within_seconds(tmp_path, mock_upstream):
    key = client_key("k_hot", rate={"requests_per_second": SLOW, "burst": 1})
    gw = standard_gateway(tmp_path, mock_upstream.url, keys=[key.entry]).start()
    try:
        assert send(gw, "openai", key.secret, "gpt-4o").status == 200
        assert send(gw, "openai", key.secret, "gpt-4o").status == 429

        gw.write_keys([with_rate(key, {"requests_per_second": 4, "burst": 2})])
        took = wait_for(lambda: send(gw, "openai", key.secret, "gpt-4o").status == 200, 5, interval=0.1)
        assert took is not None and took < 2.5, took
        time.sleep(0.6)  # the new bucket is full again (2 at 4/s)
        assert sorted(r.status for r in burst([(gw, "openai")], key.secret, "gpt-4o", 8)).count(200) in (2, 3)

        gw.write_keys([with_rate(key, {"requests_per_second": 1000, "burst": 1000})])
        took = wait_for(lambda: send(gw, "openai", key.secret, "gpt-4o").status == 200, 5, interval=0.1)
        assert took is not None and took < 2.5, took

        gw.write_budgets([budget("b_hot", {"type": "key", "id": "k_hot"}, {"requests": 3})])
        t0 = time.monotonic()
        took = wait_for(lambda: send(gw, "openai", key.secret, "gpt-4o").status == 429, 5, interval=0.1)
        assert took is not None and time.monotonic() - t0 < 3, took
        refused = send(gw, "anthropic", key.secret, "claude-sonnet-4-5")
        assert refused.status == 429 and "b_hot" in refused.json()["error"]["message"]

        gw.write_budgets([])  # no budget, the fast rate: served again
        took = wait_for(lambda: send(gw, "openai", key.secret, "gpt-4o").status == 200, 5, interval=0.1)
        assert took is not None and took < 2.5, took
    finally:
        assert gw.stop() == 0, gw.logs()


# ---------------------------------------------------------------- restart
def test_usage_survives_a_restart_and_a_reboot(tmp_path, mock_upstream):
    key = client_key("k_keep", budget="b_keep")
    gw = standard_gateway(
        tmp_path,
        mock_upstream.url,
        keys=[key.entry],
        budgets=[budget("b_keep", {"type": "key", "id": "k_keep"}, {"requests": 5, "tokens": 100000})],
    ).start()
    try:
        for n in range(3):
            mock_upstream.script([{"usage": {"input_tokens": 100 + n, "output_tokens": 10}}])
            assert send(gw, "openai", key.secret, "gpt-4o").status == 200
        assert gw.stop(signal.SIGTERM) == 0, gw.logs()  # in-flight answers are settled before it exits
        kept = {"tokens": 333, "requests": 3}

        gw.start()
        assert {k: usage_of(budgets_json(gw), "b_keep")[k] for k in kept} == kept
        assert send(gw, "openai", key.secret, "gpt-4o").status == 200
        assert send(gw, "anthropic", key.secret, "claude-sonnet-4-5").status == 200
        refused = send(gw, "openai", key.secret, "gpt-4o")
        assert refused.status == 429 and refused.json()["error"]["code"] == "budget_exceeded"
        assert gw.stop(signal.SIGTERM) == 0, gw.logs()

        # After a reboot the shared-memory table is gone; the snapshot written at stop remains.
        (gw.config_dir / "data" / "state" / "limits.shm").unlink()
        gw.start()
        # the two unscripted answers after the restart: "hi" in, "echo: hi" out, 3 tokens each
        assert {k: usage_of(budgets_json(gw), "b_keep")[k] for k in kept} == {"tokens": 339, "requests": 5}
        refused = send(gw, "openai", key.secret, "gpt-4o")
        assert refused.status == 429 and refused.json()["error"]["code"] == "budget_exceeded"
    finally:
        assert gw.stop() == 0, gw.logs()
