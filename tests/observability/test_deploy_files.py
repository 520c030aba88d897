"""deploy/ checked by the tools that own each format, where they are installed (a test skips
only when its tool is missing): promtool (Prometheus config, alert rules, the rules' unit
tests, our exposition format), systemd-analyze (the unit, its security exposure), hadolint
(the Dockerfile). The dashboard and compose files are read against what LunaRoute exports and
what the repository holds; the container config is loaded as the server would."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from lunaroute.config import load_config
from lunaroute.observability.metrics import Metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "lunaroute.json"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def _run(*cmd: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=120, check=False)


def exported_series() -> set[str]:
    """Every series name LunaRoute's /metrics can show (each labelled family has a value)."""
    m = Metrics()
    m.use_config_models({"m"})
    m.served("l", "p", "m", 200, 1e-5, 1e-5, 1e-5, 0.1, 0.2, 1, 1)
    m.ttft.observe(0.1)
    m.attempt("p", "ok")
    m.cost("p", "m", 1.0)
    m.pii_detections = {"email": 1.0}
    m.budget_ratio = {("b", "daily"): 0.5}
    m.set_breaker_states({"p": 0})
    names = set()
    for line in m.render().decode().splitlines():
        if line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return names


# ---------------------------------------------------------------------- Prometheus
def test_prometheus_config_is_valid():
    done = _run(_tool("promtool"), "check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 1 rule files found" in done.stdout + done.stderr


def test_alert_rules_are_valid_and_name_only_exported_series():
    done = _run(_tool("promtool"), "check", "rules", str(PROMETHEUS / "rules.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    exported = exported_series()
    for rule in yaml.safe_load((PROMETHEUS / "rules.yml").read_text())["groups"][0]["rules"]:
        for name in re.findall(r"\blunaroute_[a-z_]+", rule["expr"]):
            assert name in exported, (rule["alert"], name)


def test_every_alert_has_a_unit_test_that_fires_it_and_they_pass():
    done = _run(_tool("promtool"), "test", "rules", str(DEPLOY / "tests" / "rules_test.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    alerts = {r["alert"] for r in yaml.safe_load((PROMETHEUS / "rules.yml").read_text())["groups"][0]["rules"]}
    fired, silent = set(), set()
    for case in yaml.safe_load((DEPLOY / "tests" / "rules_test.yml").read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check["exp_alerts"] else silent).add(check["alertname"])
    assert fired == alerts and silent == alerts  # each fires once and stays quiet once


def test_our_exposition_passes_promtool_lint():
    text = Metrics().render().decode()
    done = _run(_tool("promtool"), "check", "metrics", stdin=text)
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), done.stdout + done.stderr


# ---------------------------------------------------------------------- systemd
def _unit_with_real_binary(tmp_path: Path) -> Path:
    """systemd-analyze checks that ExecStart's program exists: point it at this install's."""
    binary = shutil.which("lunaroute")
    if binary is None:
        pytest.skip("the lunaroute entry point is not installed")
    text = (DEPLOY / "systemd" / "lunaroute.service").read_text()
    assert "ExecStart=/usr/local/bin/lunaroute serve " in text
    unit = tmp_path / "lunaroute.service"
    unit.write_text(text.replace("/usr/local/bin/lunaroute", binary))
    return unit


def test_systemd_unit_verifies(tmp_path):
    tool = _tool("systemd-analyze")
    done = _run(tool, "verify", str(_unit_with_real_binary(tmp_path)))
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_systemd_unit_is_hardened(tmp_path):
    tool = _tool("systemd-analyze")
    done = _run(tool, "security", "--offline=true", str(_unit_with_real_binary(tmp_path)))
    m = re.search(r"Overall exposure level for lunaroute\.service: ([0-9.]+)", done.stdout)
    if m is None and "offline" in done.stderr:
        pytest.skip("this systemd-analyze cannot score a unit offline")
    assert m is not None, done.stdout + done.stderr
    assert float(m.group(1)) <= 2.0, done.stdout  # "OK" on systemd's scale (0 safe, 10 exposed)
    text = (DEPLOY / "systemd" / "lunaroute.service").read_text()
    for line in (
        "NoNewPrivileges=true",
        "PrivateTmp=true",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/lunaroute",
    ):
        assert line in text.splitlines(), line  # the spec's hardening, kept


# ---------------------------------------------------------------------- Docker
def test_dockerfile_lints_clean():
    done = _run(_tool("hadolint"), "--no-color", str(DEPLOY / "Dockerfile"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_builds_a_wheel_and_runs_unprivileged():
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)$", text, re.M)
    assert [s[1] for s in stages] == ["build", "runtime"]
    assert all("slim" in image for image, _ in stages)
    assert "rustup" in text and "pip wheel" in text and "LUNAROUTE_REQUIRE_NATIVE=1" in text
    assert re.search(r"^USER 10001:10001$", text, re.M) and "HEALTHCHECK" in text and "/healthz" in text
    # every path the build copies is shipped in the repository and let through .dockerignore
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text()
    for src in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for path in src.split():
            assert (DEPLOY.parent / path).exists(), path
            assert f"!{path.rstrip('/')}" in ignore, path


def test_the_container_config_loads(tmp_path):
    cfg = load_config(DEPLOY / "config", tmp_path, env={"LUNAROUTE_STATE_BACKEND": "redis"})
    assert cfg.state.backend == "redis" and cfg.state.redis_url == "redis://redis:6379/0"
    assert {li.host for li in cfg.listeners} == {"0.0.0.0"} and cfg.observability.metrics_host == "0.0.0.0"
    assert [li.port for li in cfg.listeners] == [8080, 8081] and cfg.observability.metrics_port == 9090
    assert load_config(DEPLOY / "config", tmp_path, env={}).state.backend == "file"


# ---------------------------------------------------------------------- compose and Grafana
def test_compose_mounts_what_the_repository_holds():
    doc = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = doc["services"]
    assert set(services) == {"lunaroute", "redis", "prometheus", "grafana"}
    assert (DEPLOY / services["lunaroute"]["build"]["context"] / services["lunaroute"]["build"]["dockerfile"]).exists()
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), (name, source)
            else:
                assert source in doc["volumes"], (name, source)
    env = services["lunaroute"]["environment"]
    assert env["LUNAROUTE_STATE_BACKEND"] == "redis" and env["LUNAROUTE_REDIS_URL"].startswith("redis://redis:")
    prom = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert prom["scrape_configs"][0]["static_configs"][0]["targets"] == ["lunaroute:9090"]
    datasource = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/lunaroute.yml").read_text())
    mounted = {v.split(":")[1] for v in services["grafana"]["volumes"] if v.startswith("./grafana/dashboards")}
    assert provider["providers"][0]["options"]["path"] in mounted


def dashboard_targets() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every query of the shipped dashboard."""
    doc = json.loads(DASHBOARD.read_text())
    return [(p["title"], t["expr"]) for p in doc["panels"] if p["type"] != "row" for t in p["targets"]]


def test_the_dashboard_queries_only_what_we_export_and_covers_every_metric():
    doc = json.loads(DASHBOARD.read_text())
    exported = exported_series()
    used = set()
    for title, expr in dashboard_targets():
        names = re.findall(r"\blunaroute_[a-z_]+", expr)
        assert names, title
        for name in names:
            assert name in exported, (title, name)
        used.update(names)
    # every family LunaRoute exports is on some panel
    families = {re.sub(r"_(bucket|sum|count)$", "", n) for n in exported if n.startswith("lunaroute_")}
    shown = {re.sub(r"_(bucket|sum|count)$", "", n) for n in used}
    assert families <= shown, families - shown
    titles = " ".join(p["title"].lower() for p in doc["panels"])
    for topic in ("latency by phase", "requests per second", "error rate", "tokens", "cost", "circuit", "budget"):
        assert topic in titles, topic
    # panels use the dashboard's data source variable, which defaults to the provisioned uid
    variable = doc["templating"]["list"][0]
    datasource = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    assert variable["current"]["value"] == datasource["datasources"][0]["uid"]
    for panel in doc["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
    for panel in doc["panels"]:  # on the 24-column grid, no overlap within a row
        g = panel["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24, panel["title"]
