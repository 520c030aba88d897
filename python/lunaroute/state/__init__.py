"""Where counters live (spec §3.1): the StateStore interface and its `file` and `redis` backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import StateStore, StateUnavailableError
from .file_store import FileStateStore

DEFAULT_REDIS_TIMEOUT_MS = 250


def open_store(config: Any, data_dir: Path) -> StateStore:
    """The store `config.state` names: `file` under `<data_dir>/state/`, or `redis`."""
    state = config.state
    if state.backend == "redis":
        from .redis_store import RedisStateStore  # the client is only imported when used

        timeout_ms = getattr(state, "redis_timeout_ms", None) or DEFAULT_REDIS_TIMEOUT_MS
        return RedisStateStore(
            state.redis_url, timeout=timeout_ms / 1000.0, policy=getattr(state, "on_redis_error", "fail_open")
        )
    return FileStateStore(Path(data_dir) / "state", persist_interval=config.performance.state_persist_interval_secs)


__all__ = ["FileStateStore", "StateStore", "StateUnavailableError", "open_store"]
