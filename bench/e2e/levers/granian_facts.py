"""What granian's embedded server does with the levers that need no load to answer: the
defaults it derives, and the values it refuses. Checked on the installed granian, in process,
without binding a port (granian validates before it binds)."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from typing import Any


def _refusal(**kwargs: Any) -> str | None:
    """The error granian's embedded serve() raises for these settings, or None if accepted."""
    from granian.constants import Interfaces
    from granian.server.embed import Server

    async def noop(scope: Any, proto: Any) -> None:
        return None

    server = Server(noop, interface=Interfaces.RSGI, port=1, log_enabled=False, **kwargs)
    validated = False

    async def stop_at_bind(*_a: Any, **_k: Any) -> None:
        nonlocal validated
        validated = True

    server._serve = stop_at_bind  # type: ignore[method-assign]
    try:
        asyncio.run(server.serve())
    except Exception as exc:  # granian's ConfigurationError carries the setting's name
        return f"{type(exc).__name__}: {exc}"
    return None if validated else "not validated"


def granian_facts() -> dict[str, Any]:
    import granian
    from granian.constants import Interfaces, TaskImpl
    from granian.http import HTTP1Settings
    from granian.server.embed import Server

    async def noop(scope: Any, proto: Any) -> None:
        return None

    default = Server(noop, interface=Interfaces.RSGI, backlog=2048, log_enabled=False)
    embed_params = inspect.signature(Server.__init__).parameters
    return {
        "version": granian.__version__,
        "embedded_defaults": {
            "blocking_threads": default.blocking_threads,
            "runtime_blocking_threads": default.runtime_blocking_threads,
            "backpressure_without_setting": default.backpressure,
            "task_impl": str(default.task_impl),
            "http1": dataclasses.asdict(HTTP1Settings()),
        },
        "embedded_accepts_runtime_mode": "runtime_mode" in embed_params,
        "embedded_accepts_loop": "loop" in embed_params,
        "refused": {
            "blocking_threads=2": _refusal(blocking_threads=2),
            "blocking_threads=1": _refusal(blocking_threads=1),
            "task_impl=rust": _refusal(task_impl=TaskImpl.rust),
        },
    }
