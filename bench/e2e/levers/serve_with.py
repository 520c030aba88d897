#!/usr/bin/env python3
"""`lunaroute ...` with granian's levers set from the command line, the package untouched.

    python bench/e2e/levers/serve_with.py --loop rloop --task-impl rust --backpressure 64 \\
        --http1 pipeline_flush=true --http1 max_buffer_size=65536 -- serve --config-dir D --data-dir D

Patches two functions of `lunaroute.server.run` before the CLI runs: `_run_loop` (which event
loop serves) and `_granian_server` (the keyword arguments of every embedded granian server:
the client listeners and the metrics listener alike). Everything after the options (or after
`--`) goes to `lunaroute.cli.main`, so run_bench.py's `--lunaroute-cmd` takes this script.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from collections.abc import Callable, Coroutine
from typing import Any

LOOPS = ("uvloop", "asyncio", "rloop")
HTTP1_FIELDS = {"header_read_timeout": int, "keep_alive": bool, "max_buffer_size": int, "pipeline_flush": bool}


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "on", "yes"):
        return True
    if text.lower() in ("0", "false", "off", "no"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def parse_http1(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in HTTP1_FIELDS:
            raise SystemExit(f"serve_with: --http1 takes NAME=VALUE with NAME one of {', '.join(HTTP1_FIELDS)}")
        kind = HTTP1_FIELDS[name]
        out[name] = _bool(value) if kind is bool else kind(value)
    return out


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loop", choices=LOOPS, default="uvloop", help="event loop (LunaRoute's default: uvloop)")
    ap.add_argument("--task-impl", choices=("asyncio", "rust"), help="granian's task implementation")
    ap.add_argument("--runtime-threads", type=int, help="granian's Rust runtime threads per server")
    ap.add_argument("--runtime-blocking-threads", type=int, help="tokio's blocking pool size (granian: 512)")
    ap.add_argument("--blocking-threads", type=int, help="granian's Python-side threads (RSGI accepts only 1)")
    ap.add_argument("--backpressure", type=int, help="requests in flight per server before granian stops reading")
    ap.add_argument("--http1", action="append", default=[], metavar="NAME=VALUE", help="an HTTP1Settings field")
    args, rest = ap.parse_known_args(argv)
    if rest and rest[0] == "--":
        rest = rest[1:]
    return args, rest


def server_overrides(args: argparse.Namespace) -> dict[str, Any]:
    from granian.constants import TaskImpl

    out: dict[str, Any] = {}
    if args.task_impl:
        out["task_impl"] = TaskImpl(args.task_impl)
    for name in ("runtime_threads", "runtime_blocking_threads", "blocking_threads", "backpressure"):
        value = getattr(args, name)
        if value is not None:
            out[name] = value
    return out


def wrap_granian_server(original: Callable[..., Any], overrides: dict[str, Any], http1: dict[str, Any]) -> Any:
    """`_granian_server` that builds its granian Server with `overrides` merged into the kwargs
    (and `http1` merged into whatever HTTP1Settings LunaRoute chose)."""
    import granian.server.embed as embed
    from granian.http import HTTP1Settings

    real = embed.Server

    def build(app: Any, **kwargs: Any) -> Any:
        kwargs.update(overrides)
        if http1:
            base = kwargs.get("http1_settings") or HTTP1Settings()
            kwargs["http1_settings"] = dataclasses.replace(base, **http1)
        return real(app, **kwargs)

    def patched(*args: Any, **kwargs: Any) -> Any:
        # _granian_server imports Server from granian.server.embed on every call.
        embed.Server = build  # type: ignore[misc,assignment]
        try:
            return original(*args, **kwargs)
        finally:
            embed.Server = real  # type: ignore[misc]

    return patched


def loop_runner(name: str) -> Callable[[Callable[[], Coroutine[Any, Any, int]]], int]:
    """A `_run_loop` on another loop than the package's uvloop."""
    factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop
    if name == "rloop":
        import rloop  # bench-only dependency: bench/e2e/levers/requirements.txt

        factory = rloop.new_event_loop

    def run(coro_factory: Callable[[], Coroutine[Any, Any, int]]) -> int:
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(coro_factory())

    return run


def main(argv: list[str] | None = None) -> int:
    args, rest = parse_args(sys.argv[1:] if argv is None else argv)
    import lunaroute.server.run as run
    from lunaroute.cli.main import main as cli_main

    # Untouched unless asked, so the default setting runs the package exactly as shipped.
    if args.loop != "uvloop":
        run._run_loop = loop_runner(args.loop)
    overrides, http1 = server_overrides(args), parse_http1(args.http1)
    if overrides or http1:
        run._granian_server = wrap_granian_server(run._granian_server, overrides, http1)
    return cli_main(rest)


if __name__ == "__main__":
    sys.exit(main())
