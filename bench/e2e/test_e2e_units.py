"""Unit tests of the harness's parsers, statistics, config rendering and report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.config import load_config

from . import configs, report_md, streams_config, summary
from .nginx import gen_conf
from .scenarios import SCENARIOS, request_body, request_path
from .stats import percentile, percentiles
from .stream_clients import ChunkedDecoder, ChunkedError
from .ttfb_client import ProtocolError, parse_head
from .wrk_run import WrkError, parse_wrk_output


# ---------------------------------------------------------------- chunked decoding
def _chunked(parts: list[bytes]) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts if p) + b"0\r\n\r\n"


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.binary(min_size=1, max_size=300), max_size=12), cuts=st.lists(st.integers(1, 64), max_size=40))
def test_chunked_decoder_reassembles_any_split(parts: list[bytes], cuts: list[int]) -> None:
    wire = _chunked(parts)
    dec, out, i = ChunkedDecoder(), bytearray(), 0
    for n in cuts + [len(wire)]:
        out += dec.feed(wire[i : i + n])
        i += n
        if i >= len(wire):
            break
    assert bytes(out) == b"".join(parts)
    assert dec.done


def test_chunked_decoder_rejects_garbage() -> None:
    with pytest.raises(ChunkedError):
        ChunkedDecoder().feed(b"zz\r\nabc\r\n")
    with pytest.raises(ChunkedError):
        ChunkedDecoder().feed(b"3\r\nabcXX")


def test_chunked_decoder_waits_for_more() -> None:
    dec = ChunkedDecoder()
    assert dec.feed(b"5\r\nab") == b"ab"
    assert not dec.done
    assert dec.feed(b"cde\r\n0\r\n") == b"cde"
    assert not dec.done
    dec.feed(b"\r\n")
    assert dec.done


# ---------------------------------------------------------------- statistics
def test_percentile_is_nearest_rank() -> None:
    xs = [float(x) for x in range(1, 101)]
    assert percentile(xs, 50) == 50
    assert percentile(xs, 99) == 99
    assert percentile(xs, 99.9) == 100
    assert percentiles(xs)["p999"] == 100
    with pytest.raises(ValueError):
        percentile([], 50)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1e9, allow_nan=False), min_size=1, max_size=500))
def test_percentiles_are_ordered_members(values: list[float]) -> None:
    p = percentiles(values)
    assert min(values) - 0.1 <= p["p50"] <= p["p90"] <= p["p99"] <= p["p999"] <= p["max"] <= max(values) + 0.1
    assert p["n"] == len(values)


# ---------------------------------------------------------------- wrk and HTTP parsing
def test_parse_wrk_output() -> None:
    line = (
        'WRKJSON {"requests":2000,"duration_us":2000000,"bytes":1400000,"errors":{"connect":0,"read":1,'
        '"write":0,"status":2,"timeout":0},"verify":{"enabled":false,"checked":0,"bad":0},"latency_us":'
        '{"min":5,"mean":10.0,"stdev":1.0,"max":90,"p50":9,"p75":11,"p90":12,"p99":40,"p999":80},'
        '"request_body_bytes":436}'
    )
    r = parse_wrk_output("Running 2s test\n" + line + "\n")
    assert r["rps"] == 1000.0 and r["error_total"] == 3 and r["bytes_per_response"] == 700
    assert r["latency_us"]["p99"] == 40
    with pytest.raises(WrkError):
        parse_wrk_output("wrk: connection refused\n")


def test_parse_head() -> None:
    status, headers = parse_head(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    assert status == 200 and headers["transfer-encoding"] == "chunked"
    with pytest.raises(ProtocolError):
        parse_head(b"SSH-2.0-OpenSSH\r\n\r\n")


# ---------------------------------------------------------------- scenarios
def test_scenarios_translate_against_the_upstream_dialect() -> None:
    assert SCENARIOS["oai_to_anth"].baseline == "anth" and SCENARIOS["oai_to_anth"].translated
    assert SCENARIOS["anth_to_oai_stream"].baseline == "oai_stream"
    assert not SCENARIOS["oai_stream"].translated
    body = json.loads(request_body(SCENARIOS["anth_to_oai_stream"]))
    assert body["model"] == "bench-gpt-stream" and body["stream"] is True and "system" in body
    assert request_path(SCENARIOS["oai_stream"], "/stream") == "/stream/v1/chat/completions"
    assert request_path(SCENARIOS["oai"], "/stream") == "/v1/chat/completions"


# ---------------------------------------------------------------- configs
def test_committed_mock_conf_matches_its_generator() -> None:
    conf = gen_conf.mock_conf(
        gen_conf.openai_chat(),
        gen_conf.anthropic_message(),
        gen_conf.openai_stream_events(),
        gen_conf.anthropic_stream_events(),
    )
    assert conf == configs.MOCK_CONF.read_text()
    fixtures = configs.HERE / "nginx" / "fixtures"
    assert (fixtures / "openai_chat.json").read_text() == gen_conf.openai_chat()
    assert (fixtures / "anthropic_stream.sse").read_text() == "".join(gen_conf.anthropic_stream_events())


def test_rendered_lunaroute_config_loads_with_the_run_ports(tmp_path: Path) -> None:
    ports = configs.Ports.with_offset(123)
    cfg_dir = configs.render_lunaroute_config(tmp_path, ports, recording=True)
    cfg = load_config(cfg_dir, tmp_path / "data")
    assert {(lst.id, lst.port) for lst in cfg.listeners} == {("openai", 8203), ("anthropic", 8204)}
    assert cfg.observability.metrics_port == 9213
    assert cfg.server.workers == 1
    assert {p.base_url for p in cfg.providers.values()} == {"http://127.0.0.1:18123", "http://127.0.0.1:18123/stream"}
    assert "enabled: true" in (cfg_dir / "server.yaml").read_text().split("sessions:")[1][:30]
    assert "listen 127.0.0.1:18123 " in configs.render_mock_conf(tmp_path, ports).read_text()
    assert "http://127.0.0.1:18123/stream" in configs.render_litellm_config(tmp_path, ports).read_text()


def test_rendered_pii_config_turns_redaction_on(tmp_path: Path) -> None:
    cfg_dir = configs.render_lunaroute_config(tmp_path, configs.Ports(), name="pii", pii=True)
    cfg = load_config(cfg_dir, tmp_path / "data")
    assert cfg.pii.enabled and cfg.pii.mode == "mask" and not cfg.storage.sessions_enabled
    bare = load_config(configs.render_lunaroute_config(tmp_path, configs.Ports()), tmp_path / "data")
    assert not bare.pii.enabled
    from .gateways import lunaroute_spec

    assert lunaroute_spec(configs.Ports(), tmp_path, pii=True).name == "lunaroute-pii"


def test_rendered_limits_configs_turn_limits_on(tmp_path: Path) -> None:
    from lunaroute.limits import limits_configured
    from lunaroute.tenancy.keys import hash_key

    key_hash = hash_key("lr-bench")
    ports = configs.Ports.with_offset(7)
    loaded = {}
    for variant in configs.LIMITS_VARIANTS:
        cfg_dir = configs.render_limits_config(tmp_path, ports, variant, key_hash, "redis://127.0.0.1:1/0")
        loaded[variant] = load_config(cfg_dir, tmp_path / "data")
    for variant, cfg in loaded.items():
        assert [k.id for k in cfg.keys] == ["key_bench"]
        assert limits_configured(cfg) == (variant != "key")
        assert cfg.state.backend == ("redis" if variant == "redis" else "file")
        assert {(lst.id, lst.port) for lst in cfg.listeners} == {("openai", 8087), ("anthropic", 8088)}
    assert [b["id"] for b in loaded["file"].budgets] == ["bench-budget"]
    assert loaded["redis"].state.redis_url == "redis://127.0.0.1:1/0"
    with pytest.raises(configs.TemplateError):
        configs.render_limits_config(tmp_path, ports, "redis", key_hash)


def test_committed_lunaroute_config_routes_every_scenario_model() -> None:
    routes = json.loads((configs.LUNAROUTE_CONFIG / "routes.json").read_text())["rules"]
    pairs = {(r["listener"], r["match"]["model"]) for r in routes}
    for s in SCENARIOS.values():
        assert (s.dialect, s.model) in pairs, s.name


def test_streams_config_loads(tmp_path: Path) -> None:
    sc = streams_config.render(tmp_path, 45678, streams=3000)
    cfg = load_config(sc.config_dir, tmp_path / "data")
    assert {p.base_url for p in cfg.providers.values()} == {"http://127.0.0.1:45678"}
    assert all(p.pool_max_connections >= 6000 for p in cfg.providers.values())
    assert cfg.server.max_connections >= 6000
    assert {lst.port for lst in cfg.listeners} == {sc.openai_port, sc.anthropic_port}


# ---------------------------------------------------------------- summary and report
def _run(rps: float, p50: int, p99: int, errors: int = 0, gw_cpu: float | None = None) -> dict:
    r = {
        "rps": rps,
        "requests": int(rps),
        "latency_us": {"p50": p50, "p90": p50, "p99": p99},
        "error_total": errors,
        "errors": {"status": errors},
        "cpu": {"cpu0": {"busy_pct": 50.0}, "cpu1": {"busy_pct": 90.0}},
        "foreign_cpu_pct": 1.0,
    }
    if gw_cpu is not None:
        r.update(gateway_cpu_us_per_req=gw_cpu, gateway_cpu_pct=99.0)
    return r


def _results() -> dict:
    ttfb = {"c1": {"requests": 100, "bad_answers": 0, "errors": 0, "ttfb_us": {"p50": 50.0, "p99": 90.0}}}
    direct = {
        "name": "direct",
        "scenarios": {
            "anth": {"runs": {"c1": _run(50000, 15, 30), "c64": _run(90000, 500, 900)}},
            "anth_stream": {"runs": {"c1": _run(40000, 20, 40)}, "ttfb": ttfb},
        },
    }
    lr_ttfb = {
        "c1": {
            "requests": 100,
            "bad_answers": 0,
            "errors": 0,
            "ttfb_us": {"p50": 450.0, "p99": 990.0},
            "gateway_cpu_us_per_req": 300.0,
        }
    }
    lunaroute = {
        "name": "lunaroute",
        "cmd": ["x"],
        "startup": {"first_200_s": 0.7, "rss_after_start_kb": 48 * 1024},
        "memory": {"peak_rss_kb": 60 * 1024, "rss_end_kb": 59 * 1024, "processes": 1},
        "gateway_alive_at_end": True,
        "errors_total": 1,
        "exit_code": 0,
        "scenarios": {
            "oai_to_anth": {
                "runs": {
                    "c1": _run(2000, 415, 1030, gw_cpu=400.0),
                    "c64": _run(9000, 7500, 9900, errors=1, gw_cpu=110.0),
                },
                "verify": {"bad_bodies": 0, "errors": 0},
            },
            "oai_to_anth_stream": {"runs": {"c1": _run(1000, 820, 2040, gw_cpu=800.0)}, "ttfb": lr_ttfb},
        },
    }
    return {"direct": direct, "lunaroute": lunaroute}


def test_summary_compares_translated_scenarios_with_the_upstream_dialect() -> None:
    s = summary.summarize(_results())
    row = next(r for r in s["rows"] if r["gateway"] == "lunaroute" and r["scenario"] == "oai_to_anth")
    assert row["added_p50_us_c1"] == 400 and row["added_p99_us_c1"] == 1000
    assert row["added_p50_us_c64"] == 7000 and row["rps_ratio_c64"] == 0.1
    assert row["gw_cpu_us_per_req_c64"] == 110.0 and row["peak_rss_mb"] == 60.0
    srow = next(r for r in s["rows"] if r["scenario"] == "oai_to_anth_stream")
    assert srow["ttfb_added_p50_us_c1"] == 400.0 and srow["ttfb_added_p99_us_c1"] == 900.0
    assert s["footprint"][0]["first_200_s"] == 0.7
    problems = summary.gateway_problems(_results())
    assert problems == ["lunaroute/oai_to_anth c64: wrk errors {'status': 1}"]


def test_report_renders_every_section() -> None:
    results = _results()
    doc = {
        "meta": {
            "stamp": "s",
            "command": "c",
            "started_at": "a",
            "finished_at": "b",
            "ports": {},
            "machine": {
                "cpu_model": "cpu",
                "cpus": 2,
                "kernel": "k",
                "nginx": "n",
                "wrk": "w",
                "python": "3.11",
                "loadavg_at_start": "0",
            },
            "settings": {
                "quick": True,
                "concurrency": [1, 64],
                "ttfb_concurrency": [1],
                "duration_s": 2,
                "warmup_s": 1,
                "verify_s": 1,
                "ttfb_duration_s": 1,
                "ttfb_max_requests": 10,
                "gateway_cpu": 0,
                "load_cpu": 1,
                "quiet_threshold_pct": 5,
                "quiet_max_wait_s": 20,
                "retries": 0,
            },
        },
        "results": results,
        "summary": summary.summarize(results),
    }
    md = report_md.render(doc, ["throughput.png"], None, summary.gateway_problems(results))
    for heading in (
        "## Headline: `lunaroute` vs direct",
        "## Footprint",
        "## All runs",
        "## Added latency",
        "## Streams: time to first body byte",
        "## Gateway process cost",
        "![throughput](throughput.png)",
    ):
        assert heading in md
    assert "| oai_to_anth | translated | 9,000 | 0.100 | +400 / +1,000 | +7,000 / +9,000 |" in md
    assert "wrk errors" in md


# ---------------------------------------------------------------- entries
def test_litellm_entry_is_skipped_without_its_venv_and_configured_with_it(tmp_path: Path) -> None:
    from .gateways import litellm_spec, lunaroute_spec

    ports = configs.Ports.with_offset(7)
    missing = litellm_spec(ports, tmp_path, venv=tmp_path / "no-venv")
    assert missing.skipped and "setup.sh --with-litellm" in missing.skipped
    exe = tmp_path / "venv" / "bin" / "litellm"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    spec = litellm_spec(ports, tmp_path, venv=tmp_path / "venv")
    assert spec.skipped is None and spec.cmd is not None
    assert spec.cmd[spec.cmd.index("--port") + 1] == "4007" and spec.env["LITELLM_OFFLINE_MODE"] == "true"
    assert "http://127.0.0.1:18007/stream" in Path(spec.config or "").read_text()
    lr = lunaroute_spec(ports, tmp_path, command="lunaroute --flag", recording=True)
    assert lr.name == "lunaroute-rec" and lr.cmd[:3] == ["lunaroute", "--flag", "serve"]
    assert lr.port_for(SCENARIOS["anth"]) == 8088 and lr.port_for(SCENARIOS["oai_stream"]) == 8087


def test_compare_revisions_reports_ratios_per_pair():
    from bench.e2e import compare_revisions as cr

    args = cr.parse_args(["--base", "HEAD~1", "--scenarios", "oai", "--rounds", "2"])
    rows = [
        {"label": lbl, "scenario": "oai", "rps": v}
        for lbl, v in (("base", 1000.0), ("head", 1500.0), ("base", 2000.0), ("head", 2200.0))
    ]
    out = cr.render(rows, args)
    assert "| oai | 1,000 / 2,000 | 1,500 / 2,200 | 1.10–1.50× |" in out
    with pytest.raises(SystemExit):
        cr.parse_args(["--base", "x", "--scenarios", "nope"])


# ---------------------------------------------------------------- the Rust LunaRoute, nginx proxy, features
def test_rendered_rust_peer_config_has_the_run_ports_and_everything_extra_off(tmp_path: Path) -> None:
    import yaml

    cfg = yaml.safe_load(configs.render_rust_peer_config(tmp_path, configs.Ports.with_offset(11)).read_text())
    assert (cfg["host"], cfg["port"], cfg["api_dialect"]) == ("127.0.0.1", 8096, "both")
    assert cfg["providers"]["openai"]["base_url"] == "http://127.0.0.1:18011/v1"
    assert cfg["providers"]["anthropic"]["base_url"] == "http://127.0.0.1:18011"
    assert not any("api_key" in p for p in cfg["providers"].values())
    assert [cfg[k]["enabled"] for k in ("session_recording", "ui", "bypass")] == [False, False, False]
    assert cfg["logging"] == {"level": "error", "log_requests": False}


def test_rust_peer_entry_is_skipped_without_its_binary_and_configured_with_it(tmp_path: Path) -> None:
    from .gateways import RUST_PEER_DROP_ENV, rust_peer_spec

    ports = configs.Ports.with_offset(3)
    missing = rust_peer_spec(ports, tmp_path, binary=tmp_path / "nope")
    assert missing.skipped and "rust-peer/build.sh" in missing.skipped and "LUNAROUTE_RS_BIN" in missing.skipped
    exe = tmp_path / "lunaroute-server"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    spec = rust_peer_spec(ports, tmp_path, binary=exe)
    assert spec.skipped is None and spec.cmd == [str(exe), "serve", "--config", spec.config]
    assert spec.port_for(SCENARIOS["oai"]) == spec.port_for(SCENARIOS["anth_stream"]) == 8088
    assert spec.scenarios == ("oai", "oai_stream", "anth", "anth_stream") and spec.stream_prefix == ""
    assert spec.env["TOKIO_WORKER_THREADS"] == "1" and Path(spec.env["HOME"]).is_dir()
    assert spec.drop_env == RUST_PEER_DROP_ENV


def test_start_gateway_leaves_out_the_dropped_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from .gateways import GatewaySpec, start_gateway

    monkeypatch.setenv("OPENAI_API_KEY", "sk-real")
    monkeypatch.setenv("LUNAROUTE_PORT", "1")
    monkeypatch.setenv("KEEP_ME", "yes")
    code = "import json, os; print(json.dumps(dict(os.environ)))"
    spec = GatewaySpec(
        "envdump", [sys.executable, "-c", code], 1, 1, ("oai",), env={"HOME": "/h"}, drop_env=("OPENAI_", "LUNAROUTE_")
    )
    running = start_gateway(spec, tmp_path, cpu=0)
    assert running.proc.wait(timeout=30) == 0
    env = json.loads(running.log_path.read_text())
    assert env["KEEP_ME"] == "yes" and env["HOME"] == "/h"
    assert "OPENAI_API_KEY" not in env and "LUNAROUTE_PORT" not in env


def test_nginx_proxy_entry_renders_the_run_ports(tmp_path: Path) -> None:
    from .gateways import nginx_proxy_spec

    spec = nginx_proxy_spec(configs.Ports.with_offset(5), tmp_path)
    conf = Path(spec.config or "").read_text()
    assert "listen 127.0.0.1:18085 " in conf and "server 127.0.0.1:18005;" in conf
    assert "proxy_set_header Host 127.0.0.1:18005;" in conf and "18000" not in conf and "18080" not in conf
    assert "worker_processes 1;" in conf and "proxy_buffering off;" in conf
    assert spec.cmd is not None and spec.cmd[spec.cmd.index("-c") + 1] == spec.config
    assert (tmp_path / "nginx-proxy" / "logs").is_dir()
    assert spec.scenarios == ("oai", "oai_stream", "anth", "anth_stream") and spec.stream_prefix == "/stream"
    committed = configs.NGINX_PROXY_CONF.read_text()
    assert committed == gen_conf.proxy_conf()


def test_features_entry_turns_every_feature_on_and_sends_its_key(tmp_path: Path) -> None:
    from lunaroute.limits import limits_configured
    from lunaroute.tenancy.keys import verify_key

    from .gateways import lunaroute_features_spec

    spec = lunaroute_features_spec(configs.Ports.with_offset(9), tmp_path, command="lr")
    assert spec.name == "lunaroute-features" and spec.cmd[:2] == ["lr", "serve"] and spec.api_key
    cfg = load_config(Path(spec.config or ""), tmp_path / "data")
    assert cfg.pii.enabled and cfg.pii.mode == "mask" and cfg.storage.sessions_enabled
    assert limits_configured(cfg) and cfg.state.backend == "file"
    assert [b["id"] for b in cfg.budgets] == ["bench-budget"]
    (key,) = cfg.keys
    assert verify_key(key.key_hash, spec.api_key)
    assert {(lst.id, lst.port) for lst in cfg.listeners} == {("openai", 8089), ("anthropic", 8090)}


def test_scenarios_option_restricts_every_entry(tmp_path: Path) -> None:
    from . import run_bench

    args = run_bench.parse_args(
        ["--scenarios", "oai_to_anth,anth", "--with-nginx-proxy", "--with-rust-peer", "--rust-peer-bin", "/nope"]
    )
    specs = {s.name: s for s in run_bench.entries(args, configs.Ports.with_offset(13), tmp_path)}
    assert specs["direct"].scenarios == ("anth",) and specs["direct-end"].scenarios == ("anth",)
    assert specs["lunaroute"].scenarios == ("anth", "oai_to_anth")
    assert specs["nginx-proxy"].scenarios == ("anth",)
    assert specs["lunaroute-rs"].skipped and "not found" in specs["lunaroute-rs"].skipped
    only = run_bench.parse_args(["--scenarios", "anth_to_oai", "--with-nginx-proxy"])
    proxy = next(s for s in run_bench.entries(only, configs.Ports(), tmp_path) if s.name == "nginx-proxy")
    assert proxy.skipped == "none of its scenarios is in --scenarios"
    with pytest.raises(SystemExit):
        run_bench.parse_args(["--scenarios", "oai,nope"])


def test_feature_ratios_and_their_report_section() -> None:
    rows = [
        {"gateway": "lunaroute", "scenario": "oai", "rps_c1": 900.0, "rps_c16": 4000.0},
        {"gateway": "lunaroute-features", "scenario": "oai", "rps_c1": 800.0, "rps_c16": 3000.0},
        {"gateway": "lunaroute", "scenario": "anth", "rps_c16": 5000.0},
        {"gateway": "lunaroute-features", "scenario": "anth", "rps_c16": 4500.0},
        {"gateway": "lunaroute-features", "scenario": "oai_stream", "rps_c16": 1.0},
    ]
    ratios = summary.feature_ratios(rows, [1, 16])
    assert [(r["scenario"], r["conc"], r["ratio"], r["met"]) for r in ratios] == [
        ("oai", 16, 0.75, False),
        ("anth", 16, 0.9, True),
    ]
    md = "\n".join(report_md.features(ratios))
    assert (
        "| oai | c=16 | 4,000 | 3,000 | 0.750 | **no** |" in md
        and "| anth | c=16 | 5,000 | 4,500 | 0.900 | yes |" in md
    )


# ---------------------------------------------------------------- perf charts
def _results_file(path: Path, stamp: str, entries: dict[str, dict[str, tuple[float, int]]]) -> Path:
    """A run_bench.py results.json: entry -> scenario -> (req/s at c=16, p50 µs at c=1)."""
    results = {}
    for name, scens in entries.items():
        results[name] = {
            "name": name,
            "scenarios": {
                s: {"runs": {"c1": _run(rps / 4, p50, p50 * 3), "c16": _run(rps, p50 * 8, p50 * 20)}}
                for s, (rps, p50) in scens.items()
            },
        }
    path.mkdir(parents=True)
    (path / "results.json").write_text(json.dumps({"meta": {"stamp": stamp}, "results": results}))
    return path / "results.json"


def test_perf_charts_take_each_entry_from_the_first_run_that_has_it(tmp_path: Path) -> None:
    from . import perf_charts

    new = _results_file(
        tmp_path / "new",
        "new",
        {
            "direct": {"oai": (20000.0, 100), "anth": (22000.0, 90)},
            "lunaroute": {"oai": (4000.0, 400), "oai_to_anth": (3000.0, 500)},
            "nginx-proxy": {"oai": (15000.0, 150)},
        },
    )
    old = _results_file(
        tmp_path / "old",
        "old",
        {
            "direct": {"oai": (10000.0, 200), "anth": (11000.0, 190)},
            "lunaroute": {"oai": (1.0, 1)},
            "litellm": {"oai": (60.0, 15000), "oai_to_anth": (50.0, 16000)},
        },
    )
    runs = [perf_charts.load_run(p) for p in (new, old)]
    charts = perf_charts.merge(runs, perf_charts.DEFAULT_ENTRIES, 16, 1)
    assert list(charts) == ["oai", "oai_to_anth"]
    oai = {p.entry: p for p in charts["oai"]}
    assert [p.entry for p in charts["oai"]] == ["lunaroute", "litellm", "nginx-proxy", "direct"]
    assert (oai["lunaroute"].run, oai["lunaroute"].rps, oai["lunaroute"].added_p50_us) == ("new", 4000.0, 300)
    assert (oai["litellm"].run, oai["litellm"].added_p50_us, oai["litellm"].rps_ratio) == ("old", 14800, 0.006)
    assert oai["direct"].added_p50_us is None and oai["nginx-proxy"].rps_ratio == 0.75
    translated = {p.entry: p for p in charts["oai_to_anth"]}
    assert translated["direct"].measured == "anth" and translated["direct"].rps == 22000.0
    assert translated["lunaroute"].added_p50_us == 410  # against direct anth of its own run
    assert perf_charts.label(translated["direct"]) == "direct\n(anth: upstream dialect)"
    assert perf_charts.label(oai["direct"]) == "direct\n(no hop)"
    assert perf_charts.sources(charts["oai"]) == "new: lunaroute, nginx-proxy, direct; old: litellm"
    md = perf_charts.markdown(charts, 16, 1)
    assert "| oai | litellm | old | 60 | 0.006 | +14,800 |" in md
    assert "| oai_to_anth | direct (anth) | new | 22,000 | - | - |" in md


def test_perf_charts_command_writes_one_png_per_scenario(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from . import perf_charts

    res = _results_file(
        tmp_path / "run",
        "run",
        {
            "direct": {"anth": (20000.0, 100)},
            "lunaroute-rs": {"anth": (9000.0, 150)},
            "lunaroute": {"anth": (4000.0, 400)},
        },
    )
    md = tmp_path / "table.md"
    assert perf_charts.main([str(res), "--out-dir", str(tmp_path / "img"), "--md", str(md)]) == 0
    assert [p.name for p in (tmp_path / "img").iterdir()] == ["perf-anth.png"]
    assert (tmp_path / "img" / "perf-anth.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| anth | lunaroute-rs | run | 9,000 | 0.450 | +50 |" in md.read_text()
    with pytest.raises(SystemExit):
        perf_charts.main([str(res), "--entries", "litellm", "--no-png"])
