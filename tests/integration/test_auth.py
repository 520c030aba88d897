"""Client keys from `lunaroute keys create`, enforced by a running server (CONTRACT §4)."""

from __future__ import annotations

import subprocess
import sys

import anthropic
import openai
import pytest

from .conftest import standard_gateway


def _create_key(config_dir, name: str, *scopes: str) -> str:
    args = [sys.executable, "-m", "lunaroute", "keys", "create", name, "--config-dir", str(config_dir)]
    for s in scopes:
        args += ["--scope", s]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0].startswith("lr-") and out[1].startswith("id: key_")
    return out[0]


def test_keys_are_required_and_scoped(tmp_path, mock_upstream):
    gw = standard_gateway(tmp_path, mock_upstream.url)
    both = _create_key(gw.config_dir, "both")
    oai_only = _create_key(gw.config_dir, "oai-only", "openai_ingress")
    gw.start()
    try:
        with (
            openai.OpenAI(base_url=gw.openai_url + "/v1", api_key=both, max_retries=0) as ok,
            openai.OpenAI(base_url=gw.openai_url + "/v1", api_key="lr-wrong", max_retries=0) as wrong,
            anthropic.Anthropic(base_url=gw.anthropic_url, api_key=oai_only, max_retries=0) as anth_oai_only,
            anthropic.Anthropic(base_url=gw.anthropic_url, api_key=both, max_retries=0) as anth,
        ):
            assert (
                ok.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
                .choices[0]
                .message.content
                == "echo: hi"
            )
            assert ok.models.list().data is not None
            with pytest.raises(openai.AuthenticationError):
                wrong.models.list()
            with pytest.raises(openai.AuthenticationError) as ei:
                wrong.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
            assert ei.value.body["type"] == "authentication_error"
            with pytest.raises(anthropic.PermissionDeniedError) as ei2:
                anth_oai_only.messages.create(
                    model="claude-x", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
                )
            assert ei2.value.body["error"]["type"] == "permission_error"
            m = anth.messages.create(model="claude-x", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
            assert m.content[0].text == "echo: hi"
        # the client's own key never reaches the provider: the configured provider key does
        hdrs = {k.lower(): v for k, v in mock_upstream.requests()[-1]["headers"]}
        assert both not in str(hdrs)
    finally:
        assert gw.stop() == 0
    assert both not in gw.logs()
