"""The command line as a real subprocess: init, doctor, usage errors, bad configs, serve."""

from __future__ import annotations

import stat
from pathlib import Path

import yaml

from .cli_testkit import cli_env, one_line, run_cli


def test_init_writes_defaults_then_refuses(tmp_path: Path, home: Path) -> None:
    target = tmp_path / "fresh"
    done = run_cli("init", "--config-dir", str(target), home=home)
    assert done.returncode == 0, done.stderr
    assert str(target) in done.stdout
    for name in ("server.yaml", "routes.json", "keys.json", "budgets.json"):
        assert (target / name).is_file()
    for folder in ("data", "certs", "keys"):
        assert (target / folder).is_dir()
    key = target / "keys" / "session.key"
    assert len(key.read_bytes()) == 32 and stat.S_IMODE(key.stat().st_mode) == 0o600

    again = run_cli("init", "--config-dir", str(target), home=home)
    assert again.returncode == 1
    assert "already exist" in one_line(again.stderr) and "--force" in again.stderr

    (target / "server.yaml").write_text("server: {workers: 3}\n")
    forced = run_cli("init", "--force", "--config-dir", str(target), home=home)
    assert forced.returncode == 0
    assert "workers: auto" in (target / "server.yaml").read_text()


def test_config_dir_from_environment_and_home(tmp_path: Path, home: Path) -> None:
    via_env = tmp_path / "via-env"
    done = run_cli("init", home=home, env=cli_env(home, LUNAROUTE_CONFIG_DIR=str(via_env)))
    assert done.returncode == 0 and (via_env / "server.yaml").is_file()
    done = run_cli("init", home=home)
    assert done.returncode == 0 and (home / ".config" / "lunaroute" / "server.yaml").is_file()


def test_doctor_reports_backends_and_config(cfg: Path, home: Path) -> None:
    done = run_cli("doctor", "--config-dir", str(cfg), home=home)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "lunaroute 0.1.0" in out and "native extension:" in out
    for kernel in ("sse", "scan", "bufpool", "breaker", "matcher"):
        assert f"  {kernel}" in out
    assert "simd level:" in out
    assert "config: OK" in out


def test_doctor_module_and_python_fallback(cfg: Path, home: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "lunaroute.doctor", "--config-dir", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        env=cli_env(home, LUNAROUTE_NATIVE="0"),
    )
    assert done.returncode == 0, done.stderr
    backends = [ln.split() for ln in done.stdout.splitlines() if ln.startswith("  ")]
    assert backends and all(parts[1] == "python" for parts in backends)
    assert "LUNAROUTE_NATIVE=0" in done.stdout


def test_doctor_flags_an_invalid_config(cfg: Path, home: Path) -> None:
    (cfg / "routes.json").write_text('{"rules": 5}')
    done = run_cli("doctor", "--config-dir", str(cfg), home=home)
    assert done.returncode == 2
    assert "config: INVALID routes.json" in done.stdout
    assert one_line(done.stderr).startswith("lunaroute: routes.json: rules")


def test_bad_config_is_one_line_exit_2(cfg: Path, home: Path) -> None:
    doc = yaml.safe_load((cfg / "server.yaml").read_text())
    doc["listeners"][1]["bind"] = "abc"
    (cfg / "server.yaml").write_text(yaml.safe_dump(doc))
    for command in (["serve"], [], ["route", "--request", "x.json"], ["metrics"]):
        done = run_cli(*command, "--config-dir", str(cfg), home=home)
        if command and command[0] == "route":
            # the request file is read first: a missing one is its own one-line error
            assert done.returncode == 2 and "x.json" in one_line(done.stderr)
            continue
        assert done.returncode == 2, (command, done.stderr)
        assert one_line(done.stderr) == ("lunaroute: server.yaml: listeners[1].bind: expected host:port, got 'abc'")


def test_usage_errors_are_one_line_exit_2(home: Path) -> None:
    for args in (
        ["frobnicate"],
        ["keys"],
        ["keys", "create"],
        ["init", "--bogus"],
        ["keys", "create", "n", "--rps", "fast"],
        ["keys", "create", "n", "--scope", "admin"],
        ["metrics", "--window", "soon"],
        ["serve", "--log-level", "loud"],
    ):
        done = run_cli(*args, home=home)
        assert done.returncode == 2, (args, done.stderr)
        assert one_line(done.stderr).startswith("lunaroute"), args
        assert "usage:" not in done.stderr


def test_help_and_version(home: Path) -> None:
    done = run_cli("--help", home=home)
    assert done.returncode == 0 and "serve" in done.stdout and "keys" in done.stdout
    done = run_cli("--version", home=home)
    assert done.returncode == 0 and done.stdout.strip() == "lunaroute 0.1.0"
    done = run_cli("keys", "create", "--help", home=home)
    assert done.returncode == 0 and "--expires" in done.stdout


def test_serve_writes_defaults_into_an_empty_dir_first(tmp_path: Path, home: Path) -> None:
    empty = tmp_path / "empty"
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should go")
    # The data dir cannot be created, so serve stops right after writing the defaults and
    # loading them, before it would bind any port.
    done = run_cli("serve", "--config-dir", str(empty), "--data-dir", str(blocker / "data"), home=home)
    assert (empty / "server.yaml").is_file() and (empty / "keys" / "session.key").is_file()
    assert f"wrote a default config to {empty}" in done.stderr
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
