"""Running the real `python -m lunaroute` in a subprocess, isolated from the user's setup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Variables of the developer's shell that would change what the CLI does.
_SCRUB = ("LUNAROUTE_CONFIG_DIR", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LUNAROUTE_DEBUG")


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env["HOME"] = str(home)
    env.update(extra)
    return env


def run_cli(
    *args: str,
    home: Path,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lunaroute", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env if env is not None else cli_env(home),
        timeout=timeout,
        check=False,
    )


def one_line(stderr: str) -> str:
    """The single error line of the CLI (log records, e.g. the kernels' one-time backend
    notice, are not CLI output and are left out)."""
    lines = [ln for ln in stderr.splitlines() if ln.startswith("lunaroute")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]
