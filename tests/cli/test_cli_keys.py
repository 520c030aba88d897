"""`lunaroute keys create/list/delete` end to end, and the key store underneath."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import orjson
import pytest
import yaml

from lunaroute.config import ConfigError, load_config
from lunaroute.dialects import get_dialect
from lunaroute.tenancy import keys as key_store
from lunaroute.tenancy.auth import Authenticator

from .cli_testkit import one_line, run_cli


def test_create_list_delete(cfg: Path, home: Path) -> None:
    done = run_cli(
        "keys",
        "create",
        "CI runner",
        "--scope",
        "openai_ingress",
        "--tenant",
        "acme",
        "--rps",
        "5",
        "--burst",
        "10",
        "--expires",
        "2099-01-01T00:00:00Z",
        "--config-dir",
        str(cfg),
        home=home,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    key, id_line = lines
    assert re.fullmatch(r"lr-[A-Za-z0-9]{40}", key)
    assert re.fullmatch(r"id: key_[0-9a-f]{16}", id_line)
    key_id = id_line.removeprefix("id: ")

    stored = (cfg / "keys.json").read_text()
    assert key not in stored and key[3:] not in stored
    entry = json.loads(stored)["api_keys"][0]
    assert entry["key_hash"].startswith("$argon2id$")
    assert entry["scopes"] == ["openai_ingress"] and entry["tenant"] == "acme"
    assert entry["rate_limit"] == {"requests_per_second": 5.0, "burst": 10}
    assert entry["expires_at"] == "2099-01-01T00:00:00Z"
    assert key_store.verify_key(entry["key_hash"], key)
    assert not key_store.verify_key(entry["key_hash"], key + "x")

    listed = run_cli("keys", "list", "--json", "--config-dir", str(cfg), home=home)
    assert listed.returncode == 0
    rows = json.loads(listed.stdout)
    assert [r["id"] for r in rows] == [key_id]
    assert rows[0]["name"] == "CI runner" and rows[0]["scopes"] == ["openai_ingress"]
    assert "argon2" not in listed.stdout and "key_hash" not in listed.stdout

    table = run_cli("keys", "list", "--config-dir", str(cfg), home=home)
    assert table.returncode == 0 and key_id in table.stdout and "CI runner" in table.stdout
    assert "argon2" not in table.stdout

    # The server's config sees the key, with its limits.
    api_key = load_config(cfg, env={}).keys[0]
    assert (api_key.id, api_key.tenant, api_key.rps, api_key.burst) == (key_id, "acme", 5.0, 10)

    gone = run_cli("keys", "delete", key_id, "--config-dir", str(cfg), home=home)
    assert gone.returncode == 0 and key_id in gone.stdout
    assert json.loads((cfg / "keys.json").read_text()) == {"api_keys": []}
    again = run_cli("keys", "delete", key_id, "--config-dir", str(cfg), home=home)
    assert again.returncode == 1
    assert one_line(again.stderr) == f"lunaroute: no API key with id '{key_id}'"


def test_default_scopes_and_empty_list(cfg: Path, home: Path) -> None:
    empty = run_cli("keys", "list", "--json", "--config-dir", str(cfg), home=home)
    assert empty.returncode == 0 and json.loads(empty.stdout) == []
    done = run_cli("keys", "create", "plain", "--config-dir", str(cfg), home=home)
    assert done.returncode == 0
    entry = json.loads((cfg / "keys.json").read_text())["api_keys"][0]
    assert entry["scopes"] == ["openai_ingress", "anthropic_ingress"]
    assert entry["tenant"] == "default" and entry["expires_at"] is None
    assert "rate_limit" not in entry


def test_create_refuses_bad_arguments(cfg: Path, home: Path) -> None:
    past = run_cli("keys", "create", "x", "--expires", "2001-01-01", "--config-dir", str(cfg), home=home)
    assert past.returncode == 2 and "in the past" in one_line(past.stderr)
    bad = run_cli("keys", "create", "x", "--expires", "tomorrow", "--config-dir", str(cfg), home=home)
    assert bad.returncode == 2 and "ISO 8601" in one_line(bad.stderr)
    budget = run_cli("keys", "create", "x", "--budget", "b9", "--config-dir", str(cfg), home=home)
    assert budget.returncode == 2
    assert one_line(budget.stderr) == "lunaroute: budgets.json: budgets: no budget with id 'b9'"
    assert json.loads((cfg / "keys.json").read_text()) == {"api_keys": []}


def test_broken_keys_file_is_not_rewritten(cfg: Path, home: Path) -> None:
    (cfg / "keys.json").write_text('{"api_keys": [{"id": "k"}]}')
    done = run_cli("keys", "create", "x", "--config-dir", str(cfg), home=home)
    assert done.returncode == 2
    assert one_line(done.stderr).startswith("lunaroute: keys.json: api_keys[0]")
    assert (cfg / "keys.json").read_text() == '{"api_keys": [{"id": "k"}]}'


def test_budget_reference_and_yaml_keys_file(cfg: Path) -> None:
    (cfg / "budgets.json").write_bytes(
        orjson.dumps(
            {
                "budgets": [
                    {
                        "id": "b1",
                        "scope": {"type": "tenant", "id": "t"},
                        "windows": [{"type": "daily", "limits": {"tokens": 5}}],
                    }
                ]
            }
        )
    )
    (cfg / "keys.json").unlink()
    (cfg / "keys.yaml").write_text("# my keys\napi_keys: []\n")
    key, entry = key_store.create_key(cfg, "yaml key", budget_id="b1")
    assert entry.budget_id == "b1"
    doc = yaml.safe_load((cfg / "keys.yaml").read_text())
    assert doc["api_keys"][0]["id"] == entry.id and key not in (cfg / "keys.yaml").read_text()
    assert [k.id for k in key_store.list_keys(cfg)] == [entry.id]
    assert key_store.delete_key(cfg, entry.id) and key_store.list_keys(cfg) == []


def test_toml_keys_file(cfg: Path) -> None:
    (cfg / "keys.json").unlink()
    (cfg / "keys.toml").write_text("api_keys = []\n")
    _, entry = key_store.create_key(cfg, "toml key", rps=2.5)
    loaded = load_config(cfg, env={}).keys
    assert [(k.id, k.rps, k.expires_at) for k in loaded] == [(entry.id, 2.5, None)]


def test_concurrent_creates_keep_every_key(cfg: Path) -> None:
    results: list[str] = []
    errors: list[BaseException] = []

    def create(i: int) -> None:
        try:
            results.append(key_store.create_key(cfg, f"k{i}")[1].id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(k.id for k in key_store.list_keys(cfg)) == sorted(results)
    assert len(results) == 4


def test_created_key_authenticates(cfg: Path) -> None:
    import asyncio

    key, entry = key_store.create_key(cfg, "auth", scopes=["anthropic_ingress"])
    auth = Authenticator(load_config(cfg, env={}).keys)
    found = asyncio.run(auth.authenticate({"x-api-key": key}, get_dialect("anthropic")))
    assert found.id == entry.id


def test_missing_config_dir(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config directory not found"):
        key_store.create_key(tmp_path / "nope", "x")
    assert key_store.list_keys(tmp_path / "nope") == []
