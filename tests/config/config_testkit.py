"""Helpers for the config tests (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import yaml

# The gateway benchmark's config (a copy of the shared bench setup), loaded as a real-world case.
BENCH_CONFIG = Path(__file__).resolve().parent.parent / "fixtures" / "config" / "bench"


def read_server(config_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((config_dir / "server.yaml").read_text())


def write_server(config_dir: Path, doc: dict[str, Any]) -> None:
    (config_dir / "server.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def write_json(path: Path, doc: Any) -> None:
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))


# A syntactically valid argon2id hash (of "lr-test"), for hand-written keys files.
SAMPLE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$3bDKw5Ie9fvUWfHrV0w7ik6A9KkQ0y1sXSMPbKZTYk0"
