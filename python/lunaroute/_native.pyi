"""Type stub of `lunaroute._native`, the Rust (PyO3) tier of LunaRoute's kernels.

The kernels' types are defined once, in lunaroute/kernels/__init__.pyi (every backend keeps
the same contract, docs/KERNELS.md), and re-exported here (by `__all__`); errors come from `lunaroute.errors`.
"""

from typing import Final

from lunaroute.kernels import (
    BREAKER_SLOT_SIZE,
    BufferPool,
    ChunkedDecoder,
    CircuitBreaker,
    PatternMatcher,
    SseFramer,
    StreamTranslator,
    find_any,
    parse_response_head,
    simd_level,
    top_level_span,
)

__version__: Final[str]

def cpu_supported() -> bool:
    """True when this CPU runs every instruction the module was compiled to assume."""

__all__ = [
    "__version__",
    "cpu_supported",
    "find_any",
    "simd_level",
    "top_level_span",
    "SseFramer",
    "BufferPool",
    "BREAKER_SLOT_SIZE",
    "CircuitBreaker",
    "PatternMatcher",
    "parse_response_head",
    "ChunkedDecoder",
    "StreamTranslator",
]
