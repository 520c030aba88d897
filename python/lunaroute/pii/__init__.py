"""PII redaction: detectors on the matcher kernel, four modes, a vault for restoring tokens.

See docs/PII.md. The request pipeline builds one `PiiEngine.from_config(...)` per config.
"""

from __future__ import annotations

from .builtin import BUILTIN_TYPES
from .engine import Finding, PiiEngine, PiiSettings
from .modes import MODES
from .patterns import PatternProblem, check_custom
from .stream import MAX_HOLD, StreamRedactor, StreamRestorer

__all__ = [
    "BUILTIN_TYPES",
    "MAX_HOLD",
    "MODES",
    "Finding",
    "PatternProblem",
    "PiiEngine",
    "PiiSettings",
    "StreamRedactor",
    "StreamRestorer",
    "check_custom",
]
