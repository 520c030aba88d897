"""`lunaroute serve` with the recorder's writer thread measured (for writer_cost.py).

    python bench/recording/serve_measured.py serve --config-dir DIR --data-dir DIR

The writer thread gets the OS name `lr-writer` (so /proc/<pid>/task/*/comm finds it while the
gateway runs), and when it ends (SIGTERM: the server drains, then closes the recorder) one
line goes to stderr: `WRITERCOST {json}` with the thread's user and system CPU over its whole
life and the recorder's counters; and at exit `GCSTATS {json}`: the garbage collections run
by the writer thread and by the others (count, CPU ms), recording on or off. The package
itself is not changed: Recorder._run and os._exit are wrapped.
With LUNAROUTE_RECORDING_SRC=<dir>, lunaroute.recording is loaded from that directory instead
(writer_cost.py --baseline-rev: another revision's recorder, in the same sitting).
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import json
import os
import resource
import sys
import threading
import time


def _recording_from(directory: str) -> None:
    """Serve with the recording package found in `directory` (another revision's copy)."""
    spec = importlib.util.spec_from_file_location(
        "lunaroute.recording", os.path.join(directory, "__init__.py"), submodule_search_locations=[directory]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["lunaroute.recording"] = module
    spec.loader.exec_module(module)


if os.environ.get("LUNAROUTE_RECORDING_SRC"):
    _recording_from(os.environ["LUNAROUTE_RECORDING_SRC"])

import lunaroute.recording.recorder as recorder_module  # noqa: E402

_PR_SET_NAME = 15
_original_run = recorder_module.Recorder._run
_WRITER_NAME = "lunaroute-recorder"
# Garbage collections by the thread that ran them: {"writer" | "other": [count, CPU seconds]}.
_gc_runs: dict[str, list[float]] = {"writer": [0, 0.0], "other": [0, 0.0]}
_gc_started = threading.local()


def _on_gc(phase: str, info: dict) -> None:
    if phase == "start":
        _gc_started.t = time.thread_time()
        return
    started = getattr(_gc_started, "t", None)
    if started is None:
        return
    who = _gc_runs["writer" if threading.current_thread().name == _WRITER_NAME else "other"]
    who[0] += 1
    who[1] += time.thread_time() - started


gc.callbacks.append(_on_gc)


def _measured_run(self: recorder_module.Recorder) -> None:
    try:
        ctypes.CDLL(None).prctl(_PR_SET_NAME, b"lr-writer", 0, 0, 0)
    except (OSError, AttributeError):
        pass
    start = resource.getrusage(resource.RUSAGE_THREAD)
    try:
        _original_run(self)
    finally:
        end = resource.getrusage(resource.RUSAGE_THREAD)
        written = max(1, self.written)
        line = {
            "user_s": round(end.ru_utime - start.ru_utime, 4),
            "sys_s": round(end.ru_stime - start.ru_stime, 4),
            "written": self.written,
            "spilled": self.spilled,
            "dropped": self.dropped,
            "errors": self.errors,
            "us_per_session": round((end.ru_utime + end.ru_stime - start.ru_utime - start.ru_stime) / written * 1e6, 1),
        }
        print("WRITERCOST " + json.dumps(line), file=sys.stderr, flush=True)


recorder_module.Recorder._run = _measured_run
_os_exit = os._exit


def _exit_with_gc_stats(code: int) -> None:
    """The server ends with os._exit: the collections are reported on the way out."""
    stats = {k: {"runs": int(n), "cpu_ms": round(t * 1e3, 1)} for k, (n, t) in _gc_runs.items()}
    print("GCSTATS " + json.dumps(stats), file=sys.stderr, flush=True)
    _os_exit(code)


os._exit = _exit_with_gc_stats

if __name__ == "__main__":
    from lunaroute.cli.main import main

    sys.exit(main(sys.argv[1:]))
