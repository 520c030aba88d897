"""`lunaroute route --dry-run` (the real CLI) shows the patches a request would get, why the
others would not apply, the system prompt that results, and the route decided on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.cli_testkit import run_cli


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    target = tmp_path / "cfg"
    done = run_cli("init", "--config-dir", str(target), home=tmp_path)
    assert done.returncode == 0, done.stderr
    (target / "prompts.json").write_text(
        json.dumps(
            {
                "patches": [
                    {"id": "house", "prepend": "Be terse."},
                    {"id": "gpt", "match": {"model": "gpt-*"}, "append": "Answer in French."},
                    {"id": "red-team", "match": {"headers": {"x-team": "red"}}, "replace": "Red team prompt."},
                ]
            }
        )
    )
    return target


def dry_run(cfg: Path, body: dict[str, Any], *args: str) -> dict[str, Any]:
    done = run_cli(
        "route", "--config-dir", str(cfg), "--request", "-", "--dry-run", *args, home=cfg.parent, stdin=json.dumps(body)
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_openai_request_shows_applied_skipped_and_the_resulting_system(cfg: Path) -> None:
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "system", "content": "You help."}, {"role": "user", "content": "hi"}],
    }
    out = dry_run(cfg, body)
    assert out["rule_id"] == "openai-default"
    assert out["prompt_patches"] == {
        "applied": ["house", "gpt"],
        "skipped": [{"patch_id": "red-team", "reason": "header x-team is missing (wanted 'red')"}],
    }
    assert out["system"] == ["Be terse.\n\nYou help.\n\nAnswer in French."]


def test_anthropic_blocks_and_a_header_condition(cfg: Path) -> None:
    body = {
        "model": "claude-sonnet-4",
        "max_tokens": 10,
        "system": [{"type": "text", "text": "Claude Code.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "hi"}],
    }
    out = dry_run(cfg, body, "--header", "X-Team: red")
    assert out["rule_id"] == "anthropic-default"
    assert out["prompt_patches"]["applied"] == ["house", "red-team"]
    assert out["system"] == ["Red team prompt."]


def test_no_prompts_file_shows_nothing_applied(cfg: Path) -> None:
    (cfg / "prompts.json").unlink()
    out = dry_run(cfg, {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    assert out["prompt_patches"] == {"applied": [], "skipped": []} and out["system"] == []


def test_the_route_is_decided_on_the_patched_request(cfg: Path) -> None:
    routes = json.loads((cfg / "routes.json").read_text())
    routes["rules"].insert(
        0,
        {
            "id": "long",
            "priority": 1,
            "match": {"min_prompt_tokens": 500},
            "target": {"provider": "openai", "model": "big"},
        },
    )
    (cfg / "routes.json").write_text(json.dumps(routes))
    (cfg / "prompts.json").write_text(json.dumps({"patches": [{"id": "manual", "append": "Rule. " * 1000}]}))
    out = dry_run(cfg, {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    assert out["prompt_patches"]["applied"] == ["manual"]
    assert out["rule_id"] == "long" and out["primary"] == {"provider": "openai", "model": "big"}
