"""One circuit breaker per provider, optionally shared by every worker process on a host.

The counters and transitions are the `breaker` kernel's (docs/KERNELS.md §4); this module
only decides where each provider's breaker keeps its state (see `slots.py`) and remembers,
per process, when a provider last succeeded or failed (for the health snapshot).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from ..errors import ConfigError
from .slots import LocalSlots, SharedSlotFile, SlotStore

log = logging.getLogger("lunaroute.routing")

CLOSED, OPEN, HALF_OPEN = 0, 1, 2
STATE_NAMES = {CLOSED: "closed", OPEN: "open", HALF_OPEN: "half_open"}

# Spare private slots for providers first seen through `get()` (not in the config).
_SPARE_LOCAL_SLOTS = 16


class CircuitBreakerLike(Protocol):
    """What a `breaker` kernel's `CircuitBreaker` offers (any backend)."""

    def state(self, now_ms: int | None = None) -> int: ...
    def allow(self, now_ms: int | None = None) -> bool: ...
    def record_success(self, now_ms: int | None = None) -> None: ...
    def record_failure(self, now_ms: int | None = None) -> None: ...
    def reset(self) -> None: ...
    def snapshot(self) -> tuple[int, int, int, int, int]: ...


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """A provider's `circuit_breaker` block (CONTRACT §3)."""

    failure_threshold: int = 5
    reset_timeout_ms: int = 30000
    half_open_requests: int = 3

    @classmethod
    def from_config(cls, data: object, *, file: str, field: str) -> BreakerSettings:
        """Validate a decoded `circuit_breaker` object (None → defaults) or raise ConfigError."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise ConfigError(file, field, "must be an object")
        limits = {"failure_threshold": (1, 65535), "reset_timeout_ms": (0, 2**62), "half_open_requests": (1, 65535)}
        values: dict[str, int] = {}
        for key, value in data.items():
            if key not in limits:
                raise ConfigError(file, f"{field}.{key}", f"unknown field (allowed: {', '.join(sorted(limits))})")
            low, high = limits[key]
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(file, f"{field}.{key}", "must be an integer")
            if not low <= value <= high:
                raise ConfigError(file, f"{field}.{key}", f"must be between {low} and {high}")
            values[key] = value
        return cls(**values)


@dataclass(slots=True)
class ProviderActivity:
    """When a provider last answered well or badly, as seen by this process (wall clock)."""

    last_ok: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None


def _default_kernel() -> ModuleType:
    # Imported on first use: the rule engine (config validation, `route --dry-run`) works
    # without loading the kernels.
    from .. import kernels

    module = kernels.module_for("breaker", kernels.backend_of("breaker"))
    if module is None:  # cannot happen: the chosen backend loaded at import
        raise ImportError("no breaker kernel available")
    return module


class BreakerRegistry:
    """The breakers of the configured providers.

    `shm_path`: keep every breaker in one file-backed mmap so all processes opening the
    same path share circuit state. Without it, state is private to the process; pass
    `previous=` (the registry being replaced on a config reload) to carry it over. With
    `shm_path`, a reload keeps state by itself (a provider keeps its slot in the file).
    `kernel` picks a backend's `breaker` module (tests compare backends); default: the one
    `lunaroute.kernels` chose.
    """

    def __init__(
        self,
        configs: dict[str, BreakerSettings],
        shm_path: str | None = None,
        *,
        previous: BreakerRegistry | None = None,
        kernel: ModuleType | None = None,
    ) -> None:
        self._kernel = kernel if kernel is not None else _default_kernel()
        slot_size: int = self._kernel.BREAKER_SLOT_SIZE
        self._settings: dict[str, BreakerSettings] = dict(configs)
        self._breakers: dict[str, CircuitBreakerLike] = {}
        self._activity: dict[str, ProviderActivity] = {}
        self._store: SlotStore
        self._shared = shm_path is not None
        if shm_path is not None:
            self._store = SharedSlotFile(shm_path, slot_size)
        else:
            self._store = LocalSlots(len(configs) + _SPARE_LOCAL_SLOTS, slot_size)
        try:
            for name in sorted(configs):
                self._breakers[name] = self._make(name, configs[name])
            if previous is not None:
                self._adopt(previous, copy_state=shm_path is None)
        except BaseException:
            self.close()
            raise

    def _make(self, name: str, settings: BreakerSettings) -> CircuitBreakerLike:
        offset = self._store.offset_of(name)
        args: dict[str, Any] = {
            "failure_threshold": settings.failure_threshold,
            "reset_timeout_ms": settings.reset_timeout_ms,
            "half_open_requests": settings.half_open_requests,
        }
        # Typed locals: the kernel module's attributes are untyped to the checker.
        if offset is None:
            if self._shared:
                log.warning("shared circuit-breaker file is full: provider %r keeps process-private state", name)
            private: CircuitBreakerLike = self._kernel.CircuitBreaker(**args)
            return private
        shared: CircuitBreakerLike = self._kernel.CircuitBreaker(**args, buffer=self._store.buffer, offset=offset)
        return shared

    def _adopt(self, previous: BreakerRegistry, *, copy_state: bool) -> None:
        """Carry over what a replaced registry knew about providers that still exist."""
        for name in self._breakers:
            if name in previous._activity:
                self._activity[name] = previous._activity[name]
            if not copy_state or name not in previous._breakers:
                continue
            old_at = previous._store.offset_of(name)
            new_at = self._store.offset_of(name)
            if old_at is None or new_at is None:
                continue
            size = self._kernel.BREAKER_SLOT_SIZE
            self._store.buffer[new_at : new_at + size] = previous._store.buffer[old_at : old_at + size]

    @property
    def providers(self) -> list[str]:
        return sorted(self._breakers)

    def settings(self, provider: str) -> BreakerSettings:
        return self._settings.get(provider, BreakerSettings())

    def get(self, provider: str) -> CircuitBreakerLike:
        """The provider's breaker; one with default settings for a provider not configured."""
        breaker = self._breakers.get(provider)
        if breaker is None:
            settings = self._settings.setdefault(provider, BreakerSettings())
            breaker = self._breakers[provider] = self._make(provider, settings)
        return breaker

    def states(self) -> dict[str, int]:
        """provider → 0 closed, 1 open, 2 half-open (an expired OPEN reads as half-open)."""
        return {name: breaker.state() for name, breaker in self._breakers.items()}

    # ------------------------------------------------------------------ activity (health)
    def note_success(self, provider: str) -> None:
        activity = self._activity.get(provider)  # not setdefault: no throwaway object per request
        if activity is None:
            activity = self._activity[provider] = ProviderActivity()
        activity.last_ok = time.time()

    def note_failure(self, provider: str, reason: str) -> None:
        activity = self._activity.setdefault(provider, ProviderActivity())
        activity.last_error = reason
        activity.last_error_at = time.time()

    def activity(self, provider: str) -> ProviderActivity:
        return self._activity.get(provider, ProviderActivity())

    def close(self) -> None:
        """Release the buffer. The registry must not be used afterwards."""
        self._breakers.clear()
        store = getattr(self, "_store", None)
        if store is not None:
            store.close()

    def __enter__(self) -> BreakerRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
