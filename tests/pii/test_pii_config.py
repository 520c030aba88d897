"""The pii section of server.yaml and what the engine makes of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lunaroute.config import load_config, write_default_config
from lunaroute.errors import ConfigError
from lunaroute.pii import PiiEngine


def load_with(tmp_path: Path, pii: dict[str, Any]) -> Any:
    cfg = tmp_path / "cfg"
    write_default_config(cfg)
    doc = yaml.safe_load((cfg / "server.yaml").read_text())
    doc["pii"] = pii
    (cfg / "server.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_config(cfg, env={})


def test_new_fields_parse_and_build_an_engine(tmp_path: Path) -> None:
    config = load_with(
        tmp_path,
        {
            "enabled": True,
            "mode": "partial",
            "reveal_chars": 2,
            "min_confidence": 0.7,
            "custom": [
                {"name": "employee_id", "pattern": r"\bEMP-[0-9]{6}\b", "confidence": 0.6},
                {"name": "codename", "keywords": ["Bluebird"], "case_sensitive": True},
            ],
        },
    )
    pii = config.pii
    assert (pii.mode, pii.reveal_chars, pii.min_confidence) == ("partial", 2, 0.7)
    eng = PiiEngine.from_config(pii, config.config_dir / "keys", config.data_dir)
    out, found = eng.redact_text("EMP-123456 Bluebird bluebird xEMP-123456")
    # EMP: confidence 0.6 < min_confidence 0.7; keywords are case sensitive here.
    assert [f.type for f in found] == ["codename"] and out == "EMP-123456 ******rd bluebird xEMP-123456"
    assert eng.min_confidence == 0.7


def test_defaults(tmp_path: Path) -> None:
    pii = load_with(tmp_path, {"enabled": True}).pii
    assert (pii.mode, pii.reveal_chars, pii.min_confidence) == ("mask", None, 0.5)


@pytest.mark.parametrize(
    ("pii", "message"),
    [
        ({"custom": [{"name": "a", "pattern": "(?<=x)y"}]}, "pii.custom[0].pattern: look-ahead and look-behind"),
        ({"custom": [{"name": "a", "pattern": "^EMP"}]}, "pii.custom[0].pattern: anchors and \\b are only"),
        ({"custom": [{"name": "a", "pattern": r"(a)\1"}]}, "pii.custom[0].pattern: back-references"),
        ({"custom": [{"name": "a", "pattern": r"\bx|y\b"}]}, "pii.custom[0].pattern: put alternatives"),
        ({"custom": [{"name": "a", "pattern": r"(?a)x"}]}, "pii.custom[0].pattern: the (?a) and (?L) flags"),
        ({"custom": [{"name": "a", "pattern": "x(?#note)y"}]}, "pii.custom[0].pattern:"),
        ({"custom": [{"name": "a", "pattern": "x", "confidence": 2}]}, "pii.custom[0].confidence: must be at most 1"),
        ({"custom": [{"name": "a", "keywords": ["x"], "case_sensitive": "yes"}]}, "expected true or false"),
        ({"min_confidence": -0.1}, "pii.min_confidence: must be at least 0"),
        ({"reveal_chars": -1}, "pii.reveal_chars: must be at least 0"),
        ({"mode": "hash"}, "expected one of mask, remove, partial, tokenize"),
    ],
)
def test_errors_name_the_field(tmp_path: Path, pii: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_with(tmp_path, pii)
    assert message in str(info.value)


def test_engine_rejects_what_config_would(tmp_path: Path) -> None:
    from .engines import engine

    with pytest.raises(ValueError, match=r"pii\.custom\[0\]\.pattern: look-ahead"):
        engine(tmp_path, custom=({"name": "a", "pattern": "(?=x)x"},))
    with pytest.raises(ValueError, match="unknown detector 'passport'"):
        engine(tmp_path, detectors=("email", "passport"))
    with pytest.raises(ValueError, match="unknown PII mode"):
        engine(tmp_path, mode="hash")


def test_detectors_can_be_turned_off(tmp_path: Path) -> None:
    from .engines import engine

    eng = engine(tmp_path, mode="remove", detectors=("email",))
    out, _ = eng.redact_text("a@example.com (415) 555-0123 4111 1111 1111 1111")
    assert out == "[REDACTED_EMAIL] (415) 555-0123 4111 1111 1111 1111"
    none = engine(tmp_path, mode="remove", detectors=())
    assert none.redact_text("a@example.com")[0] == "a@example.com"
    assert none.stream_redactor().feed("a@example.com") == "a@example.com"
