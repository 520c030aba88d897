"""`lunaroute env [--shell bash|fish|powershell] [--start]` (CONTRACT §9).

Prints the environment that points the official SDKs and Claude Code at this config's
listeners, so `eval "$(lunaroute env)"` followed by `claude` just works. With `--start` the
server is started in the background first when nothing answers on its health endpoint.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from .common import config_dir_of, data_dir_of, print_error

if TYPE_CHECKING:
    from ..config import Config

SHELLS = ("bash", "fish", "powershell")
START_TIMEOUT_S = 15.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "env",
        parents=parents,
        help="print the environment that points clients at LunaRoute",
        description="Print ANTHROPIC_BASE_URL and OPENAI_BASE_URL for this config's listeners, as "
        'shell commands: eval "$(lunaroute env)" then run claude or an SDK script.',
    )
    p.add_argument("--shell", choices=SHELLS, default="bash", help="output syntax (default: bash)")
    p.add_argument(
        "--start",
        action="store_true",
        help="start `lunaroute serve` in the background first when none answers",
    )
    p.set_defaults(run=run)


def _client_host(host: str) -> str:
    """Where a client on this machine reaches a listener bound to `host`."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def base_urls(config: Config) -> dict[str, str]:
    """{"OPENAI_BASE_URL": ..., "ANTHROPIC_BASE_URL": ...} from the first listener serving
    each dialect. The OpenAI SDKs expect the `/v1` prefix in the base URL; the Anthropic
    ones and Claude Code add it themselves."""
    out: dict[str, str] = {}
    for lst in config.listeners:
        origin = f"{'https' if lst.tls else 'http'}://{_client_host(lst.host)}:{lst.port}"
        if lst.type in ("openai", "both"):
            out.setdefault("OPENAI_BASE_URL", origin + "/v1")
        if lst.type in ("anthropic", "both"):
            out.setdefault("ANTHROPIC_BASE_URL", origin)
    return out


def render(values: dict[str, str], shell: str) -> str:
    lines = []
    for name, value in values.items():
        if shell == "fish":
            lines.append(f"set -gx {name} '{value}'")
        elif shell == "powershell":
            lines.append(f'$env:{name} = "{value}"')
        else:
            lines.append(f"export {name}='{value}'")
    return "\n".join(lines)


def _health_url(config: Config) -> str | None:
    obs = config.observability
    if not obs.metrics_enabled:
        return None
    return f"http://{_client_host(obs.metrics_host)}:{obs.metrics_port}/healthz"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _start(args: argparse.Namespace, config: Config, health: str) -> int:
    """Start `lunaroute serve` detached; wait until its health endpoint answers."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = config.data_dir / "lunaroute.log"
    cmd = [sys.executable, "-m", "lunaroute", "--config-dir", str(config_dir_of(args))]
    data_dir = data_dir_of(args)
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    cmd.append("serve")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if _answers(health):
            print(f"lunaroute: started (pid {proc.pid}), log: {log_path}", file=sys.stderr)
            return 0
        if proc.poll() is not None:
            print_error(f"the server exited with code {proc.returncode}; see {log_path}")
            return 1
        time.sleep(0.1)
    print_error(f"the server did not answer on {health} within {START_TIMEOUT_S:.0f} s; see {log_path}")
    return 1


def _load(args: argparse.Namespace) -> Config:
    """The config `serve` would run: the directory's, or the defaults `serve` would write
    to an empty one (not written here: printing must not create files)."""
    from ..config import load_config, write_default_config
    from ..config.defaults import existing_config_files

    config_dir = config_dir_of(args)
    if existing_config_files(config_dir):
        return load_config(config_dir, data_dir_of(args))
    with tempfile.TemporaryDirectory() as tmp:
        write_default_config(Path(tmp))
        return load_config(Path(tmp), data_dir_of(args) or config_dir / "data")


def run(args: argparse.Namespace) -> int:
    config = _load(args)
    if args.start:
        health = _health_url(config)
        if health is None:
            print_error("--start needs the metrics/health listener (observability.metrics.enabled)")
            return 1
        if not _answers(health):
            code = _start(args, config, health)
            if code:
                return code
    values = base_urls(config)
    if not values:
        print_error("no listener serves the openai or anthropic dialect")
        return 1
    print(render(values, args.shell))
    if config.keys:
        note = "client keys are on: set ANTHROPIC_API_KEY / OPENAI_API_KEY to a LunaRoute key (lunaroute keys create)"
        print(f"# {note}")
    return 0
