"""`${ENV_VAR}` substitution in every string value of every config file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.config import ConfigError, load_config
from lunaroute.config.envsubst import substitute, substitute_string

from .config_testkit import read_server, write_server


def test_substitution_in_server_file(cfg_dir: Path) -> None:
    doc = read_server(cfg_dir)
    doc["providers"][0]["base_url"] = "http://${UP_HOST}:${UP_PORT}"
    doc["providers"][0]["api_key"] = "${MY_KEY}"
    doc["listeners"][0]["bind"] = "127.0.0.1:${LISTEN_PORT:-8085}"
    write_server(cfg_dir, doc)
    cfg = load_config(cfg_dir, env={"UP_HOST": "10.0.0.7", "UP_PORT": "9000", "MY_KEY": "sk-1"})
    assert cfg.providers["openai"].base_url == "http://10.0.0.7:9000"
    assert cfg.providers["openai"].api_key == "sk-1"
    assert cfg.listeners[0].port == 8085  # the fallback after :-


def test_unset_variable_names_file_field_and_variable(cfg_dir: Path) -> None:
    doc = read_server(cfg_dir)
    doc["providers"][1]["base_url"] = "https://${ANTHROPIC_HOST}"
    write_server(cfg_dir, doc)
    with pytest.raises(ConfigError) as info:
        load_config(cfg_dir, env={})
    assert str(info.value) == ("server.yaml: providers[1].base_url: environment variable ANTHROPIC_HOST is not set")


def test_substitution_in_json_files(cfg_dir: Path) -> None:
    (cfg_dir / "routes.json").write_text(
        '{"rules": [{"id": "r", "match": {"model": "${MODEL}"}, "target": {"provider": "openai"}}]}'
    )
    cfg = load_config(cfg_dir, env={"MODEL": "gpt-x"})
    assert cfg.routes[0].match.models[0].source == "gpt-x"
    assert cfg.routes_raw["rules"][0]["match"]["model"] == "gpt-x"


def test_escape_and_lone_dollars() -> None:
    assert substitute_string("$${HOME} and ${A}", "f", "x", {"A": "1"}) == "${HOME} and 1"
    assert substitute_string("$argon2id$v=19$m=1", "f", "x", {}) == "$argon2id$v=19$m=1"
    assert substitute_string("cost: $5", "f", "x", {}) == "cost: $5"


@pytest.mark.parametrize("text", ["${", "${1ABC}", "${A B}", "x${A"])
def test_malformed_references(text: str) -> None:
    with pytest.raises(ConfigError, match="malformed"):
        substitute_string(text, "server.yaml", "a.b", {"A": "1"})


def test_keys_are_not_substituted() -> None:
    assert substitute({"${A}": "${A}"}, "f", {"A": "v"}) == {"${A}": "v"}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_text_without_references_is_unchanged(text: str) -> None:
    if "${" in text:
        text = text.replace("${", "$ {")
    assert substitute_string(text, "f", "x", {}) == text


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.text(alphabet="abc $", max_size=10),
)
def test_reference_is_replaced_by_value(name: str, value: str, around: str) -> None:
    around = around.replace("$", "")  # keep the surrounding text free of references
    assert substitute_string(f"{around}${{{name}}}{around}", "f", "x", {name: value}) == (f"{around}{value}{around}")
