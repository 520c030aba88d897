"""The kernels, each served by the fastest backend that loads here.

One module decides, at import, which backend serves each kernel (rust → cython → python),
like polars picks its runtime: `LUNAROUTE_BACKEND=rust|cython|python` forces one,
`LUNAROUTE_NATIVE=0` means python. The contract all three keep is docs/KERNELS.md.
"""

from __future__ import annotations

import importlib
import logging
import os
from types import ModuleType

from .. import __version__

log = logging.getLogger("lunaroute.kernels")

# kernel -> the names its backend module must provide
KERNELS: dict[str, tuple[str, ...]] = {
    "sse": ("SseFramer",),
    "scan": ("find_any", "simd_level", "top_level_span"),
    "bufpool": ("BufferPool",),
    "breaker": ("CircuitBreaker", "BREAKER_SLOT_SIZE"),
    "matcher": ("PatternMatcher",),
    "http1": ("parse_response_head", "ChunkedDecoder"),
    "xlate": ("StreamTranslator",),
}
ORDER = ("rust", "cython", "python")

_warned: set[str] = set()


def _warn_once(msg: str) -> None:
    if msg not in _warned:
        _warned.add(msg)
        log.warning(msg)


def _load_rust() -> ModuleType | None:
    try:
        mod = importlib.import_module("lunaroute._native")
    except ImportError as exc:
        _warn_once(
            f"native extension unavailable ({exc}); the Cython/Python kernels serve, slower. "
            "Fix: reinstall with a Rust toolchain (LUNAROUTE_REQUIRE_NATIVE=1 pip install ... makes a "
            "failed build an error); `lunaroute doctor` shows each kernel's tier"
        )
        return None
    version = getattr(mod, "__version__", None)
    if version != __version__:
        _warn_once(
            f"native extension version {version} does not match lunaroute {__version__}; "
            "not using it (reinstall the package)"
        )
        return None
    if not mod.cpu_supported():
        _warn_once(
            "native extension cannot serve this CPU (it was built for newer instructions); the "
            "Cython/Python kernels serve, slower. Fix: build from source on this machine "
            "(pip install --no-binary lunaroute lunaroute)"
        )
        return None
    return mod


def _load(backend: str, kernel: str) -> ModuleType | None:
    if backend == "rust":
        return _load_rust()
    if backend == "cython":
        try:
            return importlib.import_module(f"lunaroute._cy.{kernel}")
        except ImportError:
            return None
    return importlib.import_module(f"lunaroute.kernels._py.{kernel}")


def _requested() -> str | None:
    forced = os.environ.get("LUNAROUTE_BACKEND", "").strip().lower() or None
    if os.environ.get("LUNAROUTE_NATIVE", "").strip() == "0":
        forced = "python"
    if forced is not None and forced not in ORDER:
        raise ImportError(f"LUNAROUTE_BACKEND={forced!r} is not one of {', '.join(ORDER)}")
    return forced


def _select() -> dict[str, tuple[str, ModuleType]]:
    forced = _requested()
    chosen: dict[str, tuple[str, ModuleType]] = {}
    for kernel, names in KERNELS.items():
        for backend in (forced,) if forced else ORDER:
            mod = _load(backend, kernel)
            if mod is not None and all(hasattr(mod, n) for n in names):
                chosen[kernel] = (backend, mod)
                break
        else:
            raise ImportError(
                f"LUNAROUTE_BACKEND={forced} cannot serve kernel {kernel!r}"
                if forced
                else f"no backend serves kernel {kernel!r}"
            )
    return chosen


_CHOSEN = _select()


def _check_simd_request() -> None:
    from ._simd import mismatch

    why = mismatch(_CHOSEN["scan"][1].simd_level(), _CHOSEN["scan"][0])
    if why is not None:
        _warn_once(why)


_check_simd_request()


def backend_of(kernel: str) -> str:
    """The backend ('rust', 'cython' or 'python') serving `kernel`."""
    return _CHOSEN[kernel][0]


def backends() -> dict[str, str]:
    return {k: b for k, (b, _) in _CHOSEN.items()}


def module_for(kernel: str, backend: str) -> ModuleType | None:
    """A specific backend's module for `kernel` (tests use it to compare backends)."""
    if backend not in ORDER:
        raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(ORDER)}")
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; expected one of {', '.join(KERNELS)}")
    return _load(backend, kernel)


SseFramer = _CHOSEN["sse"][1].SseFramer
find_any = _CHOSEN["scan"][1].find_any
simd_level = _CHOSEN["scan"][1].simd_level
top_level_span = _CHOSEN["scan"][1].top_level_span
BufferPool = _CHOSEN["bufpool"][1].BufferPool
CircuitBreaker = _CHOSEN["breaker"][1].CircuitBreaker
BREAKER_SLOT_SIZE: int = _CHOSEN["breaker"][1].BREAKER_SLOT_SIZE
PatternMatcher = _CHOSEN["matcher"][1].PatternMatcher
parse_response_head = _CHOSEN["http1"][1].parse_response_head
ChunkedDecoder = _CHOSEN["http1"][1].ChunkedDecoder
StreamTranslator = _CHOSEN["xlate"][1].StreamTranslator
# StreamTranslator's `source`: which dialect's events it reads (the same in every backend).
SOURCE_OPENAI = 0
SOURCE_ANTHROPIC = 1

__all__ = [
    "SseFramer",
    "find_any",
    "simd_level",
    "top_level_span",
    "BufferPool",
    "CircuitBreaker",
    "BREAKER_SLOT_SIZE",
    "PatternMatcher",
    "parse_response_head",
    "ChunkedDecoder",
    "StreamTranslator",
    "SOURCE_OPENAI",
    "SOURCE_ANTHROPIC",
    "backend_of",
    "backends",
    "module_for",
]
