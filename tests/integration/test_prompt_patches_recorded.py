"""prompts.json and session recording: the session keeps the request as the client sent it
and names the patches it got (a real `lunaroute serve`, the strict mock, `lunaroute export`)."""

from __future__ import annotations

import json
import subprocess
import sys

import anthropic
import yaml

from .conftest import standard_gateway
from .test_prompt_patches import PATCHES, last


def test_the_recorded_session_names_the_patches_and_keeps_the_request_as_sent(tmp_path, mock_upstream) -> None:
    gw = standard_gateway(tmp_path, mock_upstream.url)
    gw.server_yaml["storage"] = {"sessions": {"enabled": True, "flush_interval_ms": 50}}
    gw.write("server.yaml", yaml.safe_dump(gw.server_yaml))
    gw.write("prompts.json", json.dumps(PATCHES))
    gw.start()
    try:
        client = anthropic.Anthropic(base_url=gw.anthropic_url, api_key="k", max_retries=0)
        client.messages.create(
            model="claude-sonnet-4", max_tokens=20, system="Mine.", messages=[{"role": "user", "content": "rec"}]
        )
        assert last(mock_upstream, "/v1/messages")["system"] == "PATCH-PREPEND\n\nMine.\n\nPATCH-APPEND"
    finally:
        assert gw.stop() == 0, gw.logs()  # stopping flushes the recorder
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lunaroute",
            "export",
            "--config-dir",
            str(gw.config_dir),
            "--since",
            "1h",
            "--output",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (session,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert session["prompt_patches"] == ["prefix", "suffix"]
    assert session["request"]["system"] == "Mine."
