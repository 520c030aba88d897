"""The lever settings measured by run_levers.py: LunaRoute under serve_with.py, and the minimal
RSGI apps under the `granian` CLI (runtime modes, loops, the floor)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVE_WITH = HERE / "serve_with.py"
DEFAULT_BUFFER = 8192 + 4096 * 100  # granian's HTTP1Settings.max_buffer_size


@dataclass(frozen=True)
class LunaSetting:
    """LunaRoute (`lunaroute serve`, 1 worker) with one lever moved from the default."""

    name: str
    lever: str
    args: tuple[str, ...] = ()
    note: str = ""

    def command(self) -> str:
        return " ".join([sys.executable, str(SERVE_WITH), *self.args, "--"])


# LunaRoute's default: uvloop, task_impl asyncio, runtime_threads 1, blocking_threads 1 (granian's
# only value for RSGI), runtime_blocking_threads 512, backpressure = server.max_connections
# (10000 in the bench config), HTTP1Settings defaults but header_read_timeout = keep-alive (60 s).
LUNA_SETTINGS: tuple[LunaSetting, ...] = (
    LunaSetting("default", "default", (), "uvloop, asyncio tasks, 1 runtime thread, backpressure 10000"),
    LunaSetting("loop=asyncio", "event loop", ("--loop", "asyncio")),
    LunaSetting("loop=rloop", "event loop", ("--loop", "rloop"), "rloop 0.5.0 (granian's own Rust loop)"),
    LunaSetting("task_impl=rust", "task impl", ("--task-impl", "rust"), "granian's experimental Rust task (3.11)"),
    LunaSetting("runtime_threads=2", "runtime threads", ("--runtime-threads", "2"), "both threads on CPU 0"),
    LunaSetting("runtime_blocking_threads=1", "blocking threads", ("--runtime-blocking-threads", "1")),
    LunaSetting("backpressure=64", "backpressure", ("--backpressure", "64")),
    LunaSetting("backpressure=1024", "backpressure", ("--backpressure", "1024")),
    LunaSetting("pipeline_flush=on", "HTTP/1", ("--http1", "pipeline_flush=true")),
    LunaSetting("max_buffer_size=8KiB", "HTTP/1", ("--http1", "max_buffer_size=8192"), "granian's minimum"),
    LunaSetting("max_buffer_size=4MiB", "HTTP/1", ("--http1", "max_buffer_size=4194304")),
)


@dataclass(frozen=True)
class FloorSetting:
    """A minimal RSGI app (rsgi_floor_app.py) under the granian CLI, 1 worker."""

    app: str  # "empty" | "proxy"
    mode: str  # granian --runtime-mode: "st" | "mt"
    loop: str  # "asyncio" | "uvloop" | "rloop"

    @property
    def name(self) -> str:
        return f"{self.app}-{self.mode}-{self.loop}"

    def command(self, port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "rsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--runtime-threads",
            "1",
            "--runtime-mode",
            self.mode,
            "--loop",
            self.loop,
            "--http",
            "auto",
            "--no-ws",
            "--backlog",
            "2048",
            "--backpressure",
            "10000",
            "--log-level",
            "error",
            "--working-dir",
            str(HERE),
            f"rsgi_floor_app:{self.app}",
        ]


FLOOR_SETTINGS: tuple[FloorSetting, ...] = tuple(
    FloorSetting(app, mode, loop)
    for app in ("empty", "proxy")
    for loop in ("uvloop", "rloop", "asyncio")
    for mode in ("st", "mt")
)
