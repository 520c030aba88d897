"""The limits' config fields: parsed into the Config, and each mistake is one line naming the
file, the field and the reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lunaroute.config import ConfigError
from lunaroute.config.schema import RateLimit

from .limits_testkit import budget_entry, key_entry, make_config

BUDGET_WINDOWS = {"daily": {"tokens": 10}}


def test_fields_reach_the_config(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        keys=[key_entry("k", rate={"requests_per_second": 2, "tokens_per_minute": 900})],
        budgets=[
            budget_entry(
                "b",
                {"type": "key", "id": "k"},
                BUDGET_WINDOWS,
                actions=["throttle", "reroute_to_cheaper"],
                timezone="America/New_York",
                enforcement={"throttle": {"requests_per_second": 0.5}, "reroute_to": "gpt-4o-mini"},
            )
        ],
        server={
            "rate_limits": {
                "global": {"requests_per_second": 100, "burst": 150},
                "tenants": {"*": {"tokens_per_minute": 10}},
            },
            "pricing": {"m": {"input": 1, "output": 2, "cache_read": 0.1}},
            "state": {"backend": "redis", "redis_url": "rediss://:pw@host:6380/1", "on_redis_error": "fail_closed"},
        },
    )
    assert config.keys[0].tpm == 900 and config.keys[0].rps == 2
    assert config.rate_limits.global_limit == RateLimit(100, 150, None)
    assert config.rate_limits.tenants == {"*": RateLimit(None, None, 10)}
    assert config.pricing == {"m": {"input": 1.0, "output": 2.0, "cache_read": 0.1}}
    assert config.state.on_redis_error == "fail_closed" and config.state.redis_timeout_ms == 250
    budget = config.budgets[0]
    assert budget["timezone"] == "America/New_York"
    assert budget["enforcement"]["throttle"] == {"requests_per_second": 0.5, "burst": 1}
    assert budget["enforcement"]["reroute_to"] == "gpt-4o-mini"


BAD: list[tuple[dict[str, Any], str]] = [
    (
        {"server": {"rate_limits": {"global": {"burst": 5}}}},
        "server.yaml: rate_limits.global.burst: needs requests_per_second",
    ),
    (
        {"server": {"rate_limits": {"tenants": {"bad tenant": {"requests_per_second": 1}}}}},
        "server.yaml: rate_limits.tenants['bad tenant']: not a tenant name",
    ),
    (
        {"server": {"rate_limits": {"per_key": {}}}},
        "server.yaml: rate_limits.per_key: unknown field",
    ),
    (
        {"server": {"pricing": {"m": {"input": 1}}}},
        "server.yaml: pricing.m.output: required field is missing",
    ),
    (
        {"server": {"pricing": {"m": {"input": -1, "output": 1}}}},
        "server.yaml: pricing.m.input: must be at least 0",
    ),
    (
        {"server": {"state": {"on_redis_error": "retry"}}},
        "server.yaml: state.on_redis_error: expected one of fail_open, fail_closed",
    ),
    (
        {"keys": [key_entry("k", rate={"tokens_per_minute": 0})]},
        "keys.json: api_keys[0].rate_limit.tokens_per_minute: must be at least 1",
    ),
    (
        {"budgets": [budget_entry("b", {"type": "global"}, BUDGET_WINDOWS, timezone="Mars/Olympus")]},
        "budgets.json: budgets[0].timezone: not an IANA time zone name: 'Mars/Olympus'",
    ),
    (
        {"budgets": [budget_entry("b", {"type": "global"}, BUDGET_WINDOWS, enforcement={"reroute_to": ["x"]})]},
        "budgets.json: budgets[0].enforcement.reroute_to: expected a model name or a mapping",
    ),
    (
        {"budgets": [budget_entry("b", {"type": "global"}, BUDGET_WINDOWS, enforcement={"throttle": {"burst": 0}})]},
        "budgets.json: budgets[0].enforcement.throttle.burst: must be at least 1",
    ),
]


@pytest.mark.parametrize(("files", "message"), BAD)
def test_mistakes_are_one_line(tmp_path: Path, files: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_config(tmp_path, **files)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)
