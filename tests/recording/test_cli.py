"""`lunaroute export` and `lunaroute sessions list|show` as real subprocesses, on a data
directory filled by the recorder (encrypted with the key `lunaroute init` made)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from lunaroute.cli.main import main
from lunaroute.recording import Recorder, RecorderSettings

from .helpers import KINDS, exchange, ndjson, run_cli

N_RECENT = 36
N_OLD = 6


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(home, config dir): N_RECENT sessions of the last minutes, N_OLD from two hours ago."""
    root = tmp_path_factory.mktemp("recording_cli")
    home = root / "home"
    home.mkdir()
    cfg = root / "cfg"
    done = run_cli("init", "--config-dir", str(cfg), home=home)
    assert done.returncode == 0, done.stderr
    settings = RecorderSettings(flush_interval_s=0.05, encrypt=True, key_file=cfg / "keys" / "session.key")
    rec = Recorder(cfg / "data", settings)
    now = time.time()
    for i in range(N_OLD):
        rec.observe(exchange(1000 + i, timestamp=now - 7200 + i))
    for i in range(N_RECENT):
        rec.observe(exchange(i, KINDS[i % len(KINDS)], timestamp=now - 600 + i))
    assert rec.close(10)
    assert rec.written == N_RECENT + N_OLD
    return home, cfg


def _export(filled: tuple[Path, Path], *args: str) -> list[dict]:
    """The export command in this process (same parser and code as the console script;
    the subprocess tests below cover the process boundary)."""
    _, cfg = filled
    target = cfg.parent / "inproc.ndjson"
    assert main(["--config-dir", str(cfg), "export", "--output", str(target), *args]) == 0
    return ndjson(target.read_text())


def test_export_ndjson_has_the_contract_fields_oldest_first(filled: tuple[Path, Path]) -> None:
    home, cfg = filled
    done = run_cli("--config-dir", str(cfg), "export", "--since", "1h", "--output", "-", home=home)
    assert done.returncode == 0, done.stderr
    sessions = ndjson(done.stdout)
    assert [s["id"] for s in sessions] == [f"sess_t{i:06d}" for i in range(N_RECENT)]
    for s in sessions:
        for field in ("id", "timestamp", "tenant", "key_id", "listener", "request_model", "provider", "model"):
            assert field in s
        for field in ("status", "stream", "latency_ms", "ttft_ms", "usage", "request", "response", "fallbacks_tried"):
            assert field in s
        assert set(s["usage"]) >= {"input_tokens", "output_tokens"}
    streamed = [s for s in sessions if s["stream"]]
    assert streamed and all(s["events"] and s["ttft_ms"] == 50.0 for s in streamed)
    assert len(_export(filled, "--since", "3h")) == N_RECENT + N_OLD
    assert all("events" not in s for s in _export(filled, "--since", "1h", "--no-events"))


def test_export_filters(filled: tuple[Path, Path]) -> None:
    by_tenant = _export(filled, "--since", "1h", "--tenant", "tenant_1")
    assert by_tenant and {s["tenant"] for s in by_tenant} == {"tenant_1"} and len(by_tenant) == N_RECENT // 2
    by_key = _export(filled, "--since", "3h", "--key", "key_2")
    assert by_key and {s["key_id"] for s in by_key} == {"key_2"}
    by_model = _export(filled, "--since", "1h", "--model", "claude-sonnet-4")
    assert by_model and all("claude-sonnet-4" in (s["model"], s["request_model"]) for s in by_model)
    failed = _export(filled, "--since", "1h", "--status", "5xx")
    assert [s["status"] for s in failed] == [502] * (N_RECENT // len(KINDS))
    assert _export(filled, "--since", "1h", "--status", "error") == failed
    by_conversation = _export(filled, "--since", "1h", "--conversation", "conv-0001-x")
    assert by_conversation and {s["conversation_id"] for s in by_conversation} == {"conv-0001-x"}
    until = _export(filled, "--since", "3h", "--until", "1h")
    assert [s["id"] for s in until] == [f"sess_t{1000 + i:06d}" for i in range(N_OLD)]


def test_export_json_to_a_file(filled: tuple[Path, Path], tmp_path: Path) -> None:
    home, cfg = filled
    target = tmp_path / "out.json"
    done = run_cli(
        "--config-dir", str(cfg), "export", "--since", "1h", "--format", "json", "--output", str(target), home=home
    )
    assert done.returncode == 0, done.stderr
    assert f"exported {N_RECENT} sessions" in done.stderr
    data = json.loads(target.read_text())
    assert isinstance(data, list) and len(data) == N_RECENT
    assert list(tmp_path.iterdir()) == [target]  # no partial file left beside it


def test_sessions_list_and_show(filled: tuple[Path, Path]) -> None:
    home, cfg = filled
    done = run_cli("--config-dir", str(cfg), "sessions", "list", "--limit", "3", home=home)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ID") and len(lines) == 4
    assert [line.split()[0] for line in lines[1:]] == [f"sess_t{i:06d}" for i in (35, 34, 33)]

    done = run_cli("--config-dir", str(cfg), "sessions", "show", "sess_t000004", home=home)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for expected in (
        "session    sess_t000004",
        "── system ──",
        "You are terse.",
        "question number 4",
        "→ tool call lookup [call_4]",
        "← tool result [call_4]",
        "result 4",
        "── answer ──",
        "answer 4",
        "[stop: stop]",
        "tokens     in 14 · out 5",
        "cost $0.000400",
        "fallbacks  openai/gpt-4o: 503 from upstream",
    ):
        assert expected in text, (expected, text)
    assert "\x1b[" not in text  # no colours when stdout is not a terminal


def test_show_json_and_unknown_ids(filled: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, cfg = filled
    assert main(["--config-dir", str(cfg), "sessions", "show", "sess_t00000", "--json"]) == 1  # ambiguous prefix
    capsys.readouterr()
    assert main(["--config-dir", str(cfg), "sessions", "show", "sess_t000002", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["response"]["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "fetch"
    assert [e["seq"] for e in shown["events"]] == list(range(len(shown["events"])))
    assert main(["--config-dir", str(cfg), "sessions", "show", "sess_nope"]) == 1
    assert "no session 'sess_nope'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ("export", "--since", "yesterday-ish", "--output", "-"),
        ("export", "--since", "1h", "--status", "2yy", "--output", "-"),
        ("export", "--since", "1h"),
        ("sessions", "list", "--limit", "0"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(
    filled: tuple[Path, Path], capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    _, cfg = filled
    assert main(["--config-dir", str(cfg), *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_a_damaged_session_is_reported_and_skipped(filled: tuple[Path, Path], tmp_path: Path) -> None:
    home, cfg = filled
    path = next((cfg / "data" / "sessions").rglob("sess_t001000.session"))
    original = path.read_bytes()
    try:
        data = bytearray(original)
        data[-20] ^= 0xFF
        path.write_bytes(bytes(data))
        done = run_cli("--config-dir", str(cfg), "export", "--since", "3h", "--output", "-", home=home)
        assert done.returncode == 0
        assert {s["id"] for s in ndjson(done.stdout)} == (
            {f"sess_t{i:06d}" for i in range(N_RECENT)} | {f"sess_t{1000 + i:06d}" for i in range(1, N_OLD)}
        )
        assert "skipped damaged session" in done.stderr and "sess_t001000" in done.stderr
        assert "1 damaged skipped" in done.stderr
    finally:
        path.write_bytes(original)


def test_3000_mixed_sessions_export_exactly_3000(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    data = tmp_path / "data"
    rec = Recorder(data, RecorderSettings(flush_interval_s=0.05, fsync="never"))
    for i in range(3000):
        rec.observe(exchange(i, KINDS[i % len(KINDS)]))
    assert rec.close(60)
    assert (rec.written, rec.errors, rec.dropped) == (3000, 0, 0)
    target = tmp_path / "all.ndjson"
    # No config directory at all: --data-dir alone is enough to read unencrypted recordings.
    done = run_cli(
        "--config-dir", str(tmp_path / "none"), "--data-dir", str(data), "export", "--since", "1h",
        "--output", str(target), "--no-events", home=home, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sessions = ndjson(target.read_text())
    assert len(sessions) == 3000 and len({s["id"] for s in sessions}) == 3000
    for s in sessions:
        i = int(s["id"][6:])
        kind = KINDS[i % len(KINDS)]
        assert s["status"] == (502 if kind == "failed" else 200)
        assert s["usage"]["input_tokens"] == (0 if kind == "failed" else 10 + i)
        assert s["stream"] == kind.endswith("_stream")


def test_sessions_sweep_applies_the_configured_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "cfg"
    assert main(["init", "--config-dir", str(cfg)]) == 0
    server = cfg / "server.yaml"
    server.write_text(server.read_text().replace("storage:\n", "storage:\n  max_disk_mb: 0.004\n", 1))
    rec = Recorder(cfg / "data", RecorderSettings(flush_interval_s=0.05))
    now = time.time()
    for i in range(10):
        rec.observe(exchange(i, timestamp=now - 40 * 86400 + i))  # past the default 30 days
    for i in range(10, 20):
        rec.observe(exchange(i, timestamp=now - 60 + i))
    assert rec.close(10)
    capsys.readouterr()
    assert main(["--config-dir", str(cfg), "sessions", "sweep"]) == 0
    removed = int(capsys.readouterr().out.split()[1])
    left = sorted(p.stem for p in (cfg / "data" / "sessions").rglob("*.session"))
    assert removed == 20 - len(left) and 10 < removed < 20
    assert left == [f"sess_t{i:06d}" for i in range(20 - len(left), 20)]  # the newest stay
    assert sum(p.stat().st_size for p in (cfg / "data" / "sessions").rglob("*.session")) <= 0.004 * 1024 * 1024


def test_export_with_no_match_is_an_empty_document(filled: tuple[Path, Path]) -> None:
    _, cfg = filled
    target = cfg.parent / "empty.json"
    args = ["--config-dir", str(cfg), "export", "--since", "1h", "--tenant", "nobody", "--output", str(target)]
    assert main([*args, "--format", "json"]) == 0
    assert json.loads(target.read_text()) == []
    assert main(args) == 0
    assert target.read_text() == ""
