"""Live tests: the paced upstream, the stream clients, the TTFB client, and one tiny run of
the whole driver (nginx mock + LunaRoute + wrk) on 127.0.0.1. A few seconds each."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import configs, gateways, run_bench
from .http_probe import one_request, sanity_check, wait_first_200
from .scenarios import SCENARIOS, request_body, request_headers
from .stream_clients import Target
from .stream_clients import run as run_streams
from .ttfb_client import measure

HERE = Path(__file__).resolve().parent


@pytest.fixture
def paced_port() -> Iterator[int]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "paced_upstream.py"), "--port", "0", "--events", "3", "--interval-ms", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("PORT "), line
        yield int(line.split()[1])
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("dialect", ["openai", "anthropic"])
def test_stream_clients_measure_every_paced_event(paced_port: int, dialect: str) -> None:
    res = asyncio.run(run_streams(Target(paced_port, dialect, "m", events=3), streams=25, ramp_s=0.1, deadline_s=20))
    assert res["outcomes"] == {"completed": 25}
    assert res["short_streams"] == 0
    assert res["events_received"] == res["events_expected"] == 75
    assert 0 < res["gap_us"]["p50"] <= res["gap_us"]["max"] < 1_000_000
    # the first paced event leaves one interval (20 ms) after the request
    assert res["first_event_us"]["p50"] >= 19_000
    assert res["timeline"] and sum(b["events"] for b in res["timeline"]) == 75


def test_stream_clients_report_a_refused_connection() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = asyncio.run(run_streams(Target(port, "openai", "m", events=3), streams=3, ramp_s=0, deadline_s=5))
    assert res["events_received"] == 0
    assert "completed" not in res["outcomes"] and sum(res["outcomes"].values()) == 3


def test_ttfb_client_times_the_paced_stream(paced_port: int) -> None:
    res = asyncio.run(measure(paced_port, SCENARIOS["oai_stream"], conc=2, duration_s=5, max_requests=6, warmup=1))
    assert res["requests"] == 6 and res["errors"] == 0 and res["bad_answers"] == 0
    assert res["headers_us"]["p50"] <= res["ttfb_us"]["p50"] <= res["first_event_us"]["p50"] <= res["total_us"]["p50"]
    assert res["total_us"]["p50"] >= 3 * 20_000 * 0.9  # three paced events, 20 ms apart


def test_paced_upstream_refuses_unknown_paths(paced_port: int) -> None:
    from .http_probe import one_request

    status, _, body, _ = one_request(paced_port, "/v1/embeddings", b"{}", {"Content-Type": "application/json"})
    assert status == 404 and b"cannot serve" in body


@pytest.mark.skipif(not (shutil.which("nginx") and shutil.which("taskset")), reason="needs nginx and taskset")
def test_mock_streams_on_plain_paths_when_accept_asks_and_the_nginx_proxy_forwards(
    tmp_path: Path, port_offset: int
) -> None:
    from .upstream_mock import start_mock, stop_mock

    ports = configs.Ports.with_offset(port_offset)
    mock = start_mock(tmp_path, configs.render_mock_conf(tmp_path, ports), ports.mock, cpu=1)
    try:
        for name, content_type in (("oai", "application/json"), ("oai_stream", "text/event-stream")):
            scen = SCENARIOS[name]
            status, headers, body, _ = one_request(
                ports.mock, "/v1/chat/completions", request_body(scen), request_headers(scen)
            )
            assert status == 200 and headers["content-type"] == content_type, name
            assert (b"[DONE]" in body) == scen.stream
        for name in ("oai_stream", "anth_stream"):  # how the Rust LunaRoute reaches the streams
            assert sanity_check(ports.mock, SCENARIOS[name])["ok"], name
        spec = gateways.nginx_proxy_spec(ports, tmp_path)
        running = gateways.start_gateway(spec, tmp_path, cpu=0)
        try:
            _, _, err = wait_first_200(running.proc, ports.nginx_proxy, SCENARIOS["oai"], 20.0, running.spawned_at)
            assert err is None, gateways.tail(running.log_path)
            for scen in spec.scenario_list():
                check = sanity_check(ports.nginx_proxy, scen, spec.stream_prefix)
                assert check["ok"] and check["text_chars"] > 0, (scen.name, check)
        finally:
            assert gateways.stop_gateway(running.proc) is not None
    finally:
        stop_mock(mock)


@pytest.mark.slow
@pytest.mark.skipif(
    not (shutil.which("nginx") and shutil.which("wrk") and shutil.which("taskset")),
    reason="needs nginx, wrk and taskset",
)
def test_driver_tiny_run(tmp_path: Path, port_offset: int) -> None:
    """The whole harness once: mock, direct, LunaRoute; 1-second runs at c=1, no waiting for quiet."""
    out = tmp_path / "out"
    rc = run_bench.main(
        [
            "--quick",
            "--conc",
            "1",
            "--duration",
            "1",
            "--warmup",
            "0",
            "--verify",
            "1",
            "--ttfb-duration",
            "0.3",
            "--quiet-wait",
            "0",
            "--port-offset",
            str(port_offset),
            "--out-dir",
            str(out),
            "--scratch",
            str(tmp_path / "scratch"),
        ]
    )
    doc = json.loads((out / "results.json").read_text())
    assert doc["summary"]["lunaroute_problems"] == [] and rc == 0
    rows = {(r["gateway"], r["scenario"]): r for r in doc["summary"]["rows"]}
    assert len([k for k in rows if k[0] == "lunaroute"]) == 8
    assert rows[("direct", "oai")]["rps_c1"] > 0
    lr = rows[("lunaroute", "anth_to_oai_stream")]
    assert lr["rps_c1"] > 0 and lr["verify_bad"] == 0 and "added_p50_us_c1" in lr
    assert lr["ttfb_p50_us_c1"] > 0 and "ttfb_added_p50_us_c1" in lr
    assert doc["summary"]["footprint"][0]["first_200_s"] > 0
    report = (out / "report.md").read_text()
    assert "## Headline: `lunaroute` vs direct" in report
