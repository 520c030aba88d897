"""One stem, four formats: .yaml, .yml, .json and .toml read the same; two files per stem fail."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yaml

from lunaroute.config import ConfigError, load_config
from lunaroute.config.writers import dump_toml

from .config_testkit import SAMPLE_HASH, read_server


def _rewrite(cfg_dir: Path, stem: str, old_ext: str, new_ext: str) -> None:
    old = cfg_dir / f"{stem}{old_ext}"
    doc = yaml.safe_load(old.read_text())
    old.unlink()
    new = cfg_dir / f"{stem}{new_ext}"
    if new_ext == ".json":
        new.write_bytes(orjson.dumps(doc))
    elif new_ext == ".toml":
        new.write_text(dump_toml(doc))
    else:
        new.write_text(yaml.safe_dump(doc))


@pytest.mark.parametrize("ext", [".yml", ".json", ".toml"])
def test_server_file_in_every_format(cfg_dir: Path, ext: str) -> None:
    reference = load_config(cfg_dir, env={})
    _rewrite(cfg_dir, "server", ".yaml", ext)
    cfg = load_config(cfg_dir, env={})
    assert cfg.sources["server"].name == f"server{ext}"
    assert cfg.listeners == reference.listeners
    assert cfg.providers == reference.providers
    assert cfg.storage == reference.storage and cfg.observability == reference.observability


@pytest.mark.parametrize("ext", [".yaml", ".toml"])
def test_routes_keys_budgets_in_other_formats(cfg_dir: Path, ext: str) -> None:
    (cfg_dir / "keys.json").write_bytes(
        orjson.dumps(
            {"api_keys": [{"id": "k1", "name": "n", "key_hash": SAMPLE_HASH, "created_at": "2025-01-01T00:00:00Z"}]}
        )
    )
    for stem in ("routes", "keys", "budgets"):
        _rewrite(cfg_dir, stem, ".json", ext)
    cfg = load_config(cfg_dir, env={})
    assert [k.id for k in cfg.keys] == ["k1"]
    assert cfg.keys[0].created_at == "2025-01-01T00:00:00Z"
    assert len(cfg.routes) == 2


def test_unquoted_timestamps_of_yaml_and_toml(cfg_dir: Path) -> None:
    (cfg_dir / "keys.json").unlink()
    (cfg_dir / "keys.toml").write_text(
        f'[[api_keys]]\nid = "k"\nname = "n"\nkey_hash = \'{SAMPLE_HASH}\'\n'
        "created_at = 2025-10-01T02:00:00+02:00\nexpires_at = 2030-01-01\n"
    )
    key = load_config(cfg_dir, env={}).keys[0]
    assert key.created_at == "2025-10-01T00:00:00Z"
    assert key.expires_at == "2030-01-01T00:00:00Z"


def test_two_files_for_one_stem_is_an_error(cfg_dir: Path) -> None:
    (cfg_dir / "routes.yaml").write_text("rules: []\n")
    with pytest.raises(ConfigError) as info:
        load_config(cfg_dir, env={})
    assert "routes.json" in str(info.value) and "routes.yaml" in str(info.value)
    assert "keep only one" in str(info.value)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("server.yaml", "server: [1\n", "server.yaml: invalid YAML"),
        ("server.yaml", "listeners:\n\t- id: x\n", "server.yaml: invalid YAML"),
        ("routes.json", '{"rules": [}', "routes.json: invalid JSON"),
        ("routes.json", "// a comment\n{}", "routes.json: invalid JSON"),
        ("server.yaml", "- just\n- a list\n", "server.yaml: expected a mapping, got a list"),
        ("keys.json", '"text"', "keys.json: expected a mapping, got 'text'"),
    ],
)
def test_syntax_errors_are_one_line(cfg_dir: Path, name: str, content: str, expected: str) -> None:
    (cfg_dir / name).write_text(content)
    with pytest.raises(ConfigError) as info:
        load_config(cfg_dir, env={})
    message = str(info.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_toml_syntax_error(cfg_dir: Path) -> None:
    (cfg_dir / "budgets.json").unlink()
    (cfg_dir / "budgets.toml").write_text("budgets = [\n")
    with pytest.raises(ConfigError, match=r"^budgets\.toml: invalid TOML"):
        load_config(cfg_dir, env={})


def test_non_utf8_and_directories(cfg_dir: Path) -> None:
    (cfg_dir / "budgets.json").write_bytes(b'{"budgets": ["\xff"]}')
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        load_config(cfg_dir, env={})
    (cfg_dir / "budgets.json").unlink()
    (cfg_dir / "budgets.json").mkdir()
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(cfg_dir, env={})


def test_yaml_alias_bomb_and_self_reference(cfg_dir: Path) -> None:
    # "billion laughs": each level is ten aliases of the previous one (10^9 leaves).
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    previous = "a"
    for i in range(1, 9):
        name = "b" * i
        bomb.append(f"{name}: &{name} [{', '.join(['*' + previous] * 10)}]")
        previous = name
    (cfg_dir / "prompts.yaml").write_text("\n".join(bomb) + "\n")
    with pytest.raises(ConfigError, match="too large"):
        load_config(cfg_dir, env={})
    (cfg_dir / "prompts.yaml").write_text("loop: &l [*l]\n")
    with pytest.raises(ConfigError, match="prompts.yaml"):
        load_config(cfg_dir, env={})


def test_bom_is_accepted(cfg_dir: Path) -> None:
    text = (cfg_dir / "server.yaml").read_text()
    (cfg_dir / "server.yaml").write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert read_server(cfg_dir) is not None
    assert load_config(cfg_dir, env={}).listeners[0].port == 8080


def test_deeply_nested_documents_are_refused_not_crashed(cfg_dir: Path) -> None:
    cases = {
        "prompts.yaml": b"[" * 100_000,
        "prompts.json": b"[" * 100_000,
        "prompts.toml": b"a = " + b"[" * 100_000,
        "prompts.yml": b"- " * 100_000,
    }
    for name, raw in cases.items():
        (cfg_dir / name).write_bytes(raw)
        with pytest.raises(ConfigError) as info:
            load_config(cfg_dir, env={})
        assert info.value.file == name
        (cfg_dir / name).unlink()
