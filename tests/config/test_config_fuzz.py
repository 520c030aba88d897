"""Whatever a user writes, loading raises ConfigError or succeeds: never anything else."""

from __future__ import annotations

import copy
import math
import tempfile
from pathlib import Path
from typing import Any

import orjson
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lunaroute.config import ConfigError, load_config, write_default_config
from lunaroute.config.files import decode
from lunaroute.config.writers import dump_toml

from .config_testkit import BENCH_CONFIG, SAMPLE_HASH

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _base_docs() -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "cfg"
        write_default_config(target)
        docs = {
            stem: yaml.safe_load((target / name).read_text())
            for stem, name in (("server", "server.yaml"), ("routes", "routes.json"))
        }
    docs["keys"] = {
        "api_keys": [
            {
                "id": "key_1",
                "name": "n",
                "key_hash": SAMPLE_HASH,
                "tenant": "t",
                "scopes": ["openai_ingress"],
                "rate_limit": {"requests_per_second": 5, "burst": 10},
                "budget_id": "b1",
                "created_at": "2025-10-01T00:00:00Z",
                "expires_at": None,
            }
        ]
    }
    docs["budgets"] = {
        "budgets": [
            {
                "id": "b1",
                "scope": {"type": "key", "id": "key_1"},
                "windows": [{"type": "daily", "limits": {"tokens": 100, "requests": 5}}],
                "enforcement": {"soft_limit_percent": 80, "actions": ["throttle"]},
            }
        ]
    }
    return docs


BASE = _base_docs()
BENCH = {
    "server": yaml.safe_load((BENCH_CONFIG / "server.yaml").read_text()),
    "routes": orjson.loads((BENCH_CONFIG / "routes.json").read_bytes()),
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "auto",
            "openai",
            "anthropic",
            "both",
            "127.0.0.1:1",
            "[::1]:9",
            "*",
            "${HOME}",
            "$${X}",
            "http://h",
            "https://h/v1",
            "zstd",
            "redis",
            "",
            " ",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=8), inner, max_size=3),
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _mutate(doc: Any, data: st.DataObject) -> Any:
    paths = _paths(doc)
    path = data.draw(st.sampled_from(paths))
    action = data.draw(st.sampled_from(["replace", "delete", "insert"]))
    if not path:
        return data.draw(values) if action == "replace" else doc
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "replace":
        parent[last] = data.draw(values)
    elif action == "delete":
        del parent[last]
    elif isinstance(parent, dict):
        parent[data.draw(st.text(max_size=10))] = data.draw(values)
    else:
        parent.insert(last, data.draw(values))
    return doc


def _write(directory: Path, stem: str, doc: Any, fmt: str) -> None:
    if fmt == "json":
        # JSON has no NaN/Infinity; orjson writes them as null, which is still a mutation.
        try:
            raw = orjson.dumps(doc)
        except TypeError:  # integers beyond 64 bits: write YAML instead
            fmt = "yaml"
        else:
            (directory / f"{stem}.json").write_bytes(raw)
            return
    if fmt == "toml" and isinstance(doc, dict):
        try:
            (directory / f"{stem}.toml").write_text(dump_toml(doc))
            return
        except TypeError:
            pass
    (directory / f"{stem}.yaml").write_text(yaml.safe_dump(doc))


def _load_or_config_error(directory: Path) -> None:
    try:
        cfg = load_config(directory, env={})
    except ConfigError as err:
        message = str(err)
        assert message, "a ConfigError must say what is wrong"
        if not err.file.startswith("routes."):  # routes.* errors come from lunaroute.routing
            assert "\n" not in message, message
        return
    # Whatever loaded is coherent: unique listener ports, providers known by name.
    ports = [lst.port for lst in cfg.listeners]
    assert len(ports) == len(set(ports))
    assert all(name == p.name for name, p in cfg.providers.items())
    assert all(math.isfinite(lst.max_body_size_mb) for lst in cfg.listeners)


@SETTINGS
@given(
    data=st.data(),
    base=st.sampled_from(["defaults", "bench"]),
    fmt=st.sampled_from(["json", "yaml", "toml"]),
    rounds=st.integers(1, 3),
)
def test_mutated_configs_only_raise_config_error(data: st.DataObject, base: str, fmt: str, rounds: int) -> None:
    docs = copy.deepcopy(BASE)
    if base == "bench":
        docs.update(copy.deepcopy(BENCH))
    stem = data.draw(st.sampled_from(sorted(docs)))
    for _ in range(rounds):
        docs[stem] = _mutate(docs[stem], data)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for name, doc in docs.items():
            _write(directory, name, doc, fmt if name == stem else "json")
        _load_or_config_error(directory)


@SETTINGS
@given(
    stem=st.sampled_from(["server", "routes", "keys", "budgets", "prompts"]),
    ext=st.sampled_from(["json", "yaml", "yml", "toml"]),
    garbage=st.binary(max_size=200),
)
def test_garbage_bytes_only_raise_config_error(stem: str, ext: str, garbage: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for name, doc in BASE.items():
            if name != stem:
                (directory / f"{name}.json").write_bytes(orjson.dumps(doc))
        (directory / f"{stem}.{ext}").write_bytes(garbage)
        _load_or_config_error(directory)


@SETTINGS
@given(text=st.text(max_size=200), ext=st.sampled_from(["json", "yaml", "toml"]))
def test_decoding_random_text_only_raises_config_error(text: str, ext: str) -> None:
    try:
        decode(text.encode("utf-8", "surrogatepass"), f"server.{ext}")
    except ConfigError as err:
        assert "\n" not in str(err)
