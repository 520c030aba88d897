"""Documents written back (keys create/delete) read back identically in every format."""

from __future__ import annotations

import math
import tomllib
from datetime import UTC, datetime

import orjson
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.config.files import decode
from lunaroute.config.writers import dump_document, dump_toml

keys = st.text(min_size=1, max_size=10)
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),  # JSON has neither
    st.text(max_size=20),
)
tables = st.recursive(
    st.dictionaries(keys, scalars, max_size=4),
    lambda inner: st.dictionaries(
        keys,
        st.one_of(
            scalars,
            inner,
            st.lists(scalars, max_size=3),
            st.lists(inner, min_size=1, max_size=2),
        ),
        max_size=4,
    ),
    max_leaves=10,
)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b and type(a) is type(b)


@settings(max_examples=150, deadline=None)
@given(tables)
def test_toml_round_trip(doc: dict) -> None:
    assert _same(tomllib.loads(dump_toml(doc)), doc)


@settings(max_examples=75, deadline=None)
@given(tables)
def test_every_format_reads_back(doc: dict) -> None:
    for name in ("keys.json", "keys.yaml", "keys.toml"):
        assert _same(decode(dump_document(doc, name), name), doc), name


def test_toml_leaves_out_nulls_and_writes_datetimes() -> None:
    when = datetime(2025, 10, 1, tzinfo=UTC)
    doc = {
        "api_keys": [
            {"id": "k", "expires_at": None, "created_at": when, "rate_limit": {"burst": 3}, "scopes": ["a", "b"]}
        ]
    }
    text = dump_toml(doc)
    assert "expires_at" not in text
    assert tomllib.loads(text) == {
        "api_keys": [
            {
                "id": "k",
                "created_at": when,
                "rate_limit": {"burst": 3},
                "scopes": ["a", "b"],
            }
        ]
    }


def test_json_and_yaml_keep_nulls() -> None:
    doc = {"api_keys": [{"id": "k", "expires_at": None}]}
    assert orjson.loads(dump_document(doc, "keys.json")) == doc
    assert yaml.safe_load(dump_document(doc, "keys.yml")) == doc
