"""Integration fixtures: one strict mock upstream and one real `lunaroute serve` per module."""

from __future__ import annotations

import anthropic
import openai
import pytest

from tests.mock_upstream.fixture import mock_upstream, session_mock_upstream  # noqa: F401

from .gateway import Gateway, free_port, provider, rule

UPSTREAM_KEY = "sk-upstream-test"


def standard_gateway(root, mock_url: str, **kwargs) -> Gateway:
    """Providers of both dialects on the mock, catch-all and translating routes."""
    providers = [
        provider("up-openai", "openai", mock_url, api_key_env="LR_TEST_UPSTREAM_KEY"),
        provider("up-anthropic", "anthropic", mock_url, api_key_env="LR_TEST_UPSTREAM_KEY"),
        provider("slow-openai", "openai", mock_url, api_key_env="LR_TEST_UPSTREAM_KEY", timeout_ms=400),
        provider("dead", "openai", f"http://127.0.0.1:{free_port()}", api_key_env="LR_TEST_UPSTREAM_KEY"),
    ]
    rules = [
        rule("oai-renamed", "openai", "renamed", "up-openai", target_model="gpt-4o-mini", priority=10),
        rule("oai-slow", "openai", "slow-model", "slow-openai", priority=11),
        rule("oai-dead", "openai", "dead-model", "dead", priority=12),
        rule("oai-gpt", "openai", "gpt-*", "up-openai", priority=20),
        rule("oai-claude", "openai", "claude-*", "up-anthropic", priority=30),
        rule("anth-claude", "anthropic", "claude-*", "up-anthropic", priority=40),
        rule("anth-gpt", "anthropic", "gpt-*", "up-openai", priority=50),
    ]
    return Gateway(root, providers, rules, env={"LR_TEST_UPSTREAM_KEY": UPSTREAM_KEY}, **kwargs)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    mock = session_mock_upstream()
    gw = standard_gateway(tmp_path_factory.mktemp("gw"), mock.url).start()
    yield gw
    code = gw.stop()
    assert code == 0, gw.logs()


@pytest.fixture
def oai(gateway):
    return openai.OpenAI(base_url=gateway.openai_url + "/v1", api_key="client-key", max_retries=0)


@pytest.fixture
def anth(gateway):
    return anthropic.Anthropic(base_url=gateway.anthropic_url, api_key="client-key", max_retries=0)
