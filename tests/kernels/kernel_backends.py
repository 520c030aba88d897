"""Which backends of a kernel are built here, for the cross-backend tests.

A backend that is not built is skipped locally, but in CI (CI=true) every kernel must be
served by all three tiers: a native tier that silently failed to build must fail the run.
"""

from __future__ import annotations

import os
from types import ModuleType

import pytest

from lunaroute.kernels import KERNELS, module_for

BACKENDS: tuple[str, ...] = ("rust", "cython", "python")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def load(kernel: str, backend: str) -> ModuleType | None:
    """The backend's module for `kernel` if it is built and complete, else None."""
    mod = module_for(kernel, backend)
    if mod is None or not all(hasattr(mod, name) for name in KERNELS[kernel]):
        return None
    return mod


def available(kernel: str) -> dict[str, ModuleType]:
    """Every built backend of `kernel`, python always first (it is the reference)."""
    order = ("python", "rust", "cython")
    return {b: m for b in order if (m := load(kernel, b)) is not None}


def require(kernel: str, backend: str) -> ModuleType:
    """The backend's module, or skip the calling test when it is not built."""
    mod = load(kernel, backend)
    if mod is None:
        pytest.skip(f"{backend} backend of kernel {kernel!r} is not built")
    return mod


def assert_all_backends_built(kernel: str) -> None:
    """In CI, fail unless every tier serves `kernel`; elsewhere skip when one is missing."""
    missing = [b for b in BACKENDS if load(kernel, b) is None]
    if not missing:
        return
    if in_ci():
        pytest.fail(f"CI: kernel {kernel!r} has no {', '.join(missing)} backend (build failed?)")
    pytest.skip(f"kernel {kernel!r}: {', '.join(missing)} backend not built here")
