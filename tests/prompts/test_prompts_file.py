"""prompts.json as a file: what it may hold, and a bad one as one line naming the file and
the field (through load_config and through the real CLI, exit 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.config import load_config, write_default_config
from lunaroute.errors import ConfigError
from lunaroute.prompts import parse_prompts
from tests.cli.cli_testkit import one_line, run_cli


@pytest.fixture
def cfg_dir(tmp_path: Path) -> Path:
    target = tmp_path / "cfg"
    write_default_config(target)
    return target


def write(cfg_dir: Path, doc: Any, name: str = "prompts.json") -> None:
    (cfg_dir / name).write_bytes(orjson.dumps(doc))


def test_absent_file_empty_file_and_empty_list_mean_no_patches(cfg_dir: Path) -> None:
    assert len(load_config(cfg_dir, env={}).prompts) == 0
    (cfg_dir / "prompts.yaml").write_text("")
    assert len(load_config(cfg_dir, env={}).prompts) == 0
    (cfg_dir / "prompts.yaml").unlink()
    for doc in ({}, {"patches": []}, {"version": 1, "$schema": "x", "patches": []}):
        write(cfg_dir, doc)
        assert len(load_config(cfg_dir, env={}).prompts) == 0


def test_a_full_patch_loads_with_every_field(cfg_dir: Path) -> None:
    write(
        cfg_dir,
        {
            "patches": [
                {
                    "id": "house",
                    "description": "house style for the team",
                    "priority": 3,
                    "enabled": True,
                    "listener": "openai",
                    "match": {"model": "gpt-*", "headers": {"X-Team": "red"}, "tenant": "acme"},
                    "prepend": "Be terse.",
                    "append": "${SIGNATURE}",
                }
            ]
        },
    )
    (patch,) = load_config(cfg_dir, env={"SIGNATURE": "-- LunaRoute"}).prompts
    assert (patch.id, patch.prepend, patch.append, patch.replace) == ("house", "Be terse.", "-- LunaRoute", None)
    assert patch.selector.listener == "openai" and patch.selector.priority == 3
    assert patch.selector.match.tenants == frozenset({"acme"})


def test_yaml_prompts_with_a_block_scalar(cfg_dir: Path) -> None:
    (cfg_dir / "prompts.yaml").write_text("patches:\n  - id: multi\n    replace: |\n      Line one.\n      Line two.\n")
    (patch,) = load_config(cfg_dir, env={}).prompts
    assert patch.replace == "Line one.\nLine two.\n"


BAD: list[tuple[Any, str]] = [
    ([1, 2], "prompts.json: must be an object, got a list"),
    ({"patch": []}, "prompts.json: patch: unknown field"),
    ({"patches": {}}, "prompts.json: patches: must be a list, got a mapping"),
    ({"patches": [{"append": "A"}]}, "prompts.json: patches[0].id: missing"),
    ({"patches": [{"id": "", "append": "A"}]}, "prompts.json: patches[0].id: must not be empty"),
    ({"patches": [{"id": "p"}]}, 'prompts.json: patches[0]: nothing to do: give "prepend", "append" or "replace"'),
    ({"patches": [{"id": "p", "prepend": 3}]}, "prompts.json: patches[0].prepend: must be a string, got 3"),
    ({"patches": [{"id": "p", "append": "  "}]}, "prompts.json: patches[0].append: must not be empty"),
    (
        {"patches": [{"id": "p", "replace": "R", "prepend": "P"}]},
        'prompts.json: patches[0].prepend: cannot be combined with "replace"',
    ),
    (
        {"patches": [{"id": "p", "append": "A"}, {"id": "p", "append": "B"}]},
        "prompts.json: patches[1].id: duplicate id 'p' (also patches[0])",
    ),
    ({"patches": [{"id": "p", "append": "A", "system": "x"}]}, "prompts.json: patches[0].system: unknown field"),
    ({"patches": [{"id": "p", "append": "A", "enabled": "yes"}]}, "prompts.json: patches[0].enabled: must be true"),
    ({"patches": [{"id": "p", "append": "A", "priority": 1.5}]}, "prompts.json: patches[0].priority: must be an"),
    ({"patches": [{"id": "p", "append": "A", "listener": 1}]}, "prompts.json: patches[0].listener: must be a string"),
    (
        {"patches": [{"id": "p", "append": "A", "match": {"model": "re:("}}]},
        "prompts.json: patches[0].match.model: bad regex '('",
    ),
    (
        {"patches": [{"id": "p", "append": "A", "match": {"provider": "openai"}}]},
        "prompts.json: patches[0].match.provider: unknown field",
    ),
    (
        {"patches": [{"id": "p", "append": "A", "match": {"headers": {"bad name": "x"}}}]},
        "prompts.json: patches[0].match.headers.bad name: not a valid header name",
    ),
    (
        {"patches": [{"id": "p", "append": "A", "description": 5}]},
        "prompts.json: patches[0].description: must be a string",
    ),
]


@pytest.mark.parametrize(("doc", "message"), BAD, ids=[m.split(": ", 1)[1][:40] for _, m in BAD])
def test_a_bad_file_is_one_line_naming_file_and_field(cfg_dir: Path, doc: Any, message: str) -> None:
    write(cfg_dir, doc)
    with pytest.raises(ConfigError) as info:
        load_config(cfg_dir, env={})
    text = str(info.value)
    assert text.startswith(message), text
    assert "\n" not in text and info.value.file == "prompts.json"


def test_the_file_is_named_as_written(cfg_dir: Path) -> None:
    (cfg_dir / "prompts.toml").write_text('[[patches]]\nid = "p"\n')
    with pytest.raises(ConfigError, match=r"^prompts\.toml: patches\[0\]: nothing to do"):
        load_config(cfg_dir, env={})


def test_the_cli_prints_one_line_and_exits_2(tmp_path: Path, cfg_dir: Path) -> None:
    write(cfg_dir, {"patches": [{"id": "p", "append": "A", "match": {"model": {"glob": 7}}}]})
    done = run_cli("doctor", "--config-dir", str(cfg_dir), home=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "prompts.json: patches[0].match.model.glob: must be a string, got 7" in one_line(done.stderr)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
KEYS = st.sampled_from(["id", "priority", "enabled", "listener", "match", "prepend", "append", "replace", "x"])
PATCH = st.dictionaries(KEYS, JSON | st.text(min_size=1, max_size=5), max_size=5)


@settings(max_examples=300, deadline=None)
@given(st.one_of(JSON, st.fixed_dictionaries({"patches": st.lists(PATCH, max_size=3)})))
def test_anything_decoded_is_patches_or_a_config_error(doc: Any) -> None:
    try:
        patches = parse_prompts(doc, file="prompts.json")
    except ConfigError as err:
        assert str(err).startswith("prompts.json: ") and "\n" not in str(err)
    else:
        assert all(p.prepend or p.append or p.replace for p in patches)
