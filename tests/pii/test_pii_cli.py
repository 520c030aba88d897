"""`lunaroute pii test FILE|-`, run as a real subprocess."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from lunaroute.config import load_config, write_default_config
from lunaroute.pii import PiiEngine

from ..cli.cli_testkit import one_line, run_cli

SAMPLE = (
    "Hi, I'm Jane (jane.doe@example.com, (415) 555-0123).\n"
    "My card 4111 1111 1111 1111 and version 1.2.3.4.\n"
    "OPENAI_API_KEY=sk-proj-Nc3icPatpvNATkJEMh2whjcxJgjSBCjfJMAKih9YeVaMl3yG\n"
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    target = tmp_path / "home"
    target.mkdir()
    return target


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    target = tmp_path / "cfg"
    write_default_config(target)  # what `lunaroute init` writes (tests/cli runs init itself)
    return target


def set_pii(cfg: Path, **pii: object) -> None:
    doc = yaml.safe_load((cfg / "server.yaml").read_text())
    doc.setdefault("pii", {}).update(pii)
    (cfg / "server.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def test_lists_findings_and_the_redacted_text(cfg: Path, home: Path, tmp_path: Path) -> None:
    sample = tmp_path / "prompt.txt"
    sample.write_text(SAMPLE)
    done = run_cli("pii", "test", str(sample), "--config-dir", str(cfg), "--redacted", home=home)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("4 redactions (mode mask, min_confidence 0.5")
    assert re.match(r"1:15\s+\[14,34\)\s+email\s+0\.95\s+email\s+'jane\.doe@example\.com'\s+-> '\*{20}'", lines[1])
    assert "phone_nanp" in lines[2] and "card_grouped" in lines[3] and "luhn ok, visa" in lines[3]
    assert "openai_anthropic" in lines[4] and "1.2.3.4" not in done.stdout.split("\n\n")[0]
    assert done.stdout.split("\n\n")[1] == (
        "Hi, I'm Jane (********************, **************).\n"
        "My card ******************* and version 1.2.3.4.\n"
        "OPENAI_API_KEY=" + "*" * 56 + "\n"
    )
    assert "pii.enabled is false" in done.stderr


def test_all_explains_what_is_kept(cfg: Path, home: Path) -> None:
    done = run_cli("pii", "test", "-", "--all", "--config-dir", str(cfg), home=home, stdin=SAMPLE)
    assert done.returncode == 0, done.stderr
    kept = [line for line in done.stdout.splitlines() if "(kept)" in line]
    assert any("'1.2.3.4'" in k and "below min_confidence 0.5 (version-like context)" in k for k in kept)
    assert any("assignment:api_key" in k and "overlaps a finding that wins" in k for k in kept)


def test_json_from_stdin(cfg: Path, home: Path) -> None:
    set_pii(cfg, enabled=True, mode="partial", custom=[{"name": "codename", "keywords": ["bluebird"]}])
    done = run_cli(
        "--config-dir", str(cfg), "pii", "test", "-", "--json", "--redacted", home=home, stdin=SAMPLE + "Bluebird!"
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["enabled"] is True and doc["mode"] == "partial"
    types = [f["type"] for f in doc["findings"]]
    assert types == ["email", "phone", "credit_card", "api_key", "codename"]
    email = doc["findings"][0]
    assert (email["line"], email["column"], email["start"], email["end"]) == (1, 15, 14, 34)
    assert email["replacement"] == "j*******@example.com" and email["redacted"] is True
    assert doc["redacted"].endswith("****bird!")


def test_tokenize_uses_the_server_key_and_writes_nothing(cfg: Path, home: Path) -> None:
    set_pii(cfg, mode="tokenize", restore_in_response=True)
    done = run_cli("pii", "test", "-", "--json", "--config-dir", str(cfg), home=home, stdin="a@example.com")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"<EMAIL_[0-9a-f]{12}>", json.loads(done.stdout)["findings"][0]["replacement"])
    assert not (cfg / "keys" / "pii.key").exists() and not (cfg / "data" / "pii").exists()
    # With the server's key present the tokens are the server's.
    (cfg / "keys").mkdir(exist_ok=True)
    (cfg / "keys" / "pii.key").write_bytes(bytes(range(32)))
    done = run_cli("pii", "test", "-", "--json", "--config-dir", str(cfg), home=home, stdin="a@example.com")
    config = load_config(cfg, env={})
    server = PiiEngine.from_config(config.pii, cfg / "keys", config.data_dir)
    assert json.loads(done.stdout)["findings"][0]["replacement"] == server.redact_text("a@example.com")[0]


def test_errors_are_one_line(cfg: Path, home: Path, tmp_path: Path) -> None:
    done = run_cli("pii", "test", str(tmp_path / "absent.txt"), "--config-dir", str(cfg), home=home)
    assert done.returncode == 2 and "absent.txt: cannot read" in one_line(done.stderr)
    set_pii(cfg, custom=[{"name": "emp", "pattern": "(?<=EMP-)[0-9]+"}])
    done = run_cli("pii", "test", "-", "--config-dir", str(cfg), home=home, stdin="x")
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        "lunaroute: server.yaml: pii.custom[0].pattern: look-ahead and look-behind are not supported"
    )
