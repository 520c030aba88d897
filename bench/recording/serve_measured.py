"""`lunaroute serve` with the recorder's writer thread measured (for writer_cost.py).

    python bench/recording/serve_measured.py serve --config-dir DIR --data-dir DIR

The writer thread gets the OS name `lr-writer` (so /proc/<pid>/task/*/comm finds it while the
gateway runs), and when it ends (SIGTERM: the server drains, then closes the recorder) one
line goes to stderr: `WRITERCOST {json}` with the thread's user and system CPU over its whole
life and the recorder's counters. The package itself is not changed: Recorder._run is wrapped.
With LUNAROUTE_RECORDING_SRC=<dir>, lunaroute.recording is loaded from that directory instead
(writer_cost.py --baseline-rev: another revision's recorder, in the same sitting).
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import resource
import sys


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

if __name__ == "__main__":
    from lunaroute.cli.main import main

    sys.exit(main(sys.argv[1:]))
