"""A real `lunaroute serve` in a subprocess, configured in a temp dir, for integration tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def provider(name: str, ptype: str, base_url: str, **extra) -> dict:
    doc = {"name": name, "type": ptype, "base_url": base_url, "timeout_ms": 10000, "max_retries": 0}
    doc.update(extra)
    return doc


def rule(
    rid: str,
    listener: str | None,
    model: str,
    provider_name: str,
    target_model: str | None = None,
    priority: int = 100,
    fallbacks: list[dict] | None = None,
    **extra,
) -> dict:
    doc: dict = {
        "id": rid,
        "priority": priority,
        "match": {"model": model},
        "target": {"provider": provider_name},
        "fallbacks": fallbacks or [],
    }
    if listener:
        doc["listener"] = listener
    if target_model:
        doc["target"]["model"] = target_model
    doc.update(extra)
    return doc


class Gateway:
    def __init__(
        self,
        root: Path,
        providers: list[dict],
        rules: list[dict],
        *,
        workers: int = 1,
        server: dict | None = None,
        keys: list[dict] | None = None,
        listeners: list[dict] | None = None,
        env: dict | None = None,
        storage: dict | None = None,
        budgets: list[dict] | None = None,
        sections: dict | None = None,
    ) -> None:
        self.root = root
        self.config_dir = root / "config"
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.openai_port = free_port()
        self.anthropic_port = free_port()
        self.metrics_port = free_port()
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        server_doc = {"workers": workers, "hot_reload": True}
        server_doc.update(server or {})
        self.server_yaml = {
            "server": server_doc,
            "listeners": listeners
            or [
                {"id": "openai", "type": "openai", "bind": f"127.0.0.1:{self.openai_port}"},
                {"id": "anthropic", "type": "anthropic", "bind": f"127.0.0.1:{self.anthropic_port}"},
            ],
            "providers": providers,
            "storage": storage or {"sessions": {"enabled": False}},
            "observability": {
                "metrics": {"enabled": True, "bind": f"127.0.0.1:{self.metrics_port}"},
                "logging": {"level": "info", "format": "json"},
            },
        }
        # Other top-level server.yaml sections (state, rate_limits, pricing, performance...).
        self.server_yaml.update(sections or {})
        self.write("server.yaml", yaml.safe_dump(self.server_yaml))
        self.write_routes(rules)
        self.write_keys(keys or [])
        self.write_budgets(budgets or [])

    def write(self, name: str, text: str) -> None:
        tmp = self.config_dir / (name + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.config_dir / name)

    def write_routes(self, rules: list[dict]) -> None:
        self.write("routes.json", json.dumps({"rules": rules}))

    def write_keys(self, keys: list[dict]) -> None:
        self.write("keys.json", json.dumps({"api_keys": keys}))

    def write_budgets(self, budgets: list[dict]) -> None:
        self.write("budgets.json", json.dumps({"budgets": budgets}))

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.openai_port}"

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.anthropic_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    def start(self, timeout: float = 20.0, log_level: str = "info") -> Gateway:
        env = dict(os.environ)
        env.update(self.env)
        self.log_path = self.root / "lunaroute.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lunaroute",
                "serve",
                "--config-dir",
                str(self.config_dir),
                "--log-level",
                log_level,
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"lunaroute exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                with urllib.request.urlopen(self.metrics_url + "/healthz", timeout=1) as r:
                    if r.status == 200 and self._port_open(self.openai_port):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"lunaroute did not become healthy:\n{self.logs()}")

    @staticmethod
    def _port_open(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    def logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def metrics(self) -> str:
        with urllib.request.urlopen(self.metrics_url + "/metrics", timeout=5) as r:
            return r.read().decode()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode
