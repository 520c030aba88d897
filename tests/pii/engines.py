"""Settings and engines for the PII tests: a PiiConfig-shaped object and per-backend engines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lunaroute.pii import BUILTIN_TYPES, PiiEngine


@dataclass(frozen=True)
class Settings:
    mode: str = "mask"
    detectors: tuple[str, ...] = BUILTIN_TYPES
    custom: tuple[dict[str, Any], ...] = ()
    restore_in_response: bool = False
    reveal_chars: int | None = None
    min_confidence: float = 0.5
    enabled: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def settings(**changes: Any) -> Settings:
    return Settings(**changes)


CUSTOM = (
    {"name": "employee_id", "pattern": r"\bEMP-[0-9]{6}\b"},
    {"name": "codename", "keywords": ["bluebird", "nightjar", "Blue Heron"]},
    {"name": "ticket", "pattern": r"TCK-[A-Z]{2}[0-9]+", "confidence": 0.8},
    {"name": "Patient", "keywords": ["MRN-"], "case_sensitive": True},
)


def engine(tmp: Path, matcher: type | None = None, **changes: Any) -> PiiEngine:
    return PiiEngine.from_config(settings(**changes), tmp / "keys", tmp / "data", matcher=matcher)
