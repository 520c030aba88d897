"""`lunaroute env`: the exports that point clients at the config's listeners, in each shell's
syntax, and `--start` bringing a server up in the background when none answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import yaml

from .cli_testkit import cli_env, run_cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(home: Path, listeners: list[dict], metrics_port: int) -> Path:
    cfg = home / "cfg"
    assert run_cli("--config-dir", str(cfg), "init", home=home).returncode == 0
    server = yaml.safe_load((cfg / "server.yaml").read_text())
    server["listeners"] = listeners
    server.setdefault("observability", {}).setdefault("metrics", {})["bind"] = f"127.0.0.1:{metrics_port}"
    (cfg / "server.yaml").write_text(yaml.safe_dump(server))
    return cfg


def test_env_prints_each_dialects_base_url_in_every_shell(tmp_path: Path) -> None:
    cfg = _config(
        tmp_path,
        [
            {"id": "both", "type": "both", "bind": "0.0.0.0:18090"},
            {"id": "anthropic", "type": "anthropic", "bind": "127.0.0.1:18091"},
        ],
        _free_port(),
    )
    bash = run_cli("--config-dir", str(cfg), "env", home=tmp_path)
    assert bash.returncode == 0, bash.stderr
    # the first listener serving each dialect wins; 0.0.0.0 is reached on loopback
    assert bash.stdout.splitlines() == [
        "export OPENAI_BASE_URL='http://127.0.0.1:18090/v1'",
        "export ANTHROPIC_BASE_URL='http://127.0.0.1:18090'",
    ]
    # what bash makes of it is what clients read
    shown = subprocess.run(
        ["bash", "-c", f'eval "{bash.stdout}"; echo "$OPENAI_BASE_URL|$ANTHROPIC_BASE_URL"'],
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == "http://127.0.0.1:18090/v1|http://127.0.0.1:18090"
    fish = run_cli("--config-dir", str(cfg), "env", "--shell", "fish", home=tmp_path)
    assert "set -gx ANTHROPIC_BASE_URL 'http://127.0.0.1:18090'" in fish.stdout.splitlines()
    ps = run_cli("--config-dir", str(cfg), "env", "--shell", "powershell", home=tmp_path)
    assert '$env:OPENAI_BASE_URL = "http://127.0.0.1:18090/v1"' in ps.stdout.splitlines()


def test_env_on_an_empty_config_dir_prints_the_defaults_and_writes_nothing(tmp_path: Path) -> None:
    cfg = tmp_path / "empty"
    out = run_cli("--config-dir", str(cfg), "env", home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "export OPENAI_BASE_URL='http://127.0.0.1:8080/v1'" in out.stdout
    assert "export ANTHROPIC_BASE_URL='http://127.0.0.1:8081'" in out.stdout
    assert not cfg.exists()


def test_env_start_launches_a_server_once(tmp_path: Path) -> None:
    metrics = _free_port()
    port = _free_port()
    cfg = _config(tmp_path, [{"id": "openai", "type": "openai", "bind": f"127.0.0.1:{port}"}], metrics)
    env = cli_env(tmp_path)
    first = run_cli("--config-dir", str(cfg), "env", "--start", home=tmp_path, env=env)
    pid = None
    try:
        assert first.returncode == 0, first.stderr
        assert f"export OPENAI_BASE_URL='http://127.0.0.1:{port}/v1'" in first.stdout
        assert "started (pid" in first.stderr
        pid = int(first.stderr.split("started (pid ")[1].split(")")[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics}/healthz", timeout=2) as resp:
            assert resp.status == 200
        # a second call finds it answering and starts nothing
        second = run_cli("--config-dir", str(cfg), "env", "--start", home=tmp_path, env=env)
        assert second.returncode == 0, second.stderr
        assert "started" not in second.stderr
    finally:
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
