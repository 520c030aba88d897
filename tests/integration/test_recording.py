"""Session recording through a real `lunaroute serve` (CONTRACT §6, issue: every exchange
kept): mixed traffic at concurrency comes back from `lunaroute export` one session per
request with the right status and usage; SIGTERM with streams open records them all."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.mock_upstream.fixture import session_mock_upstream

from .conftest import standard_gateway

ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01", "content-type": "application/json"}


def _export(gw, *args: str) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "lunaroute", "--config-dir", str(gw.config_dir), "export", "--since", "1h"]
        + list(args)
        + ["--output", "-"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


# (listener, model, stream, expected status): both dialects, relayed and translated, streams,
# a 404 (no route: not a session) and a provider that cannot be reached (502: a session)
KINDS = [
    ("openai", "gpt-4o", False, 200),
    ("openai", "gpt-4o", True, 200),
    ("openai", "claude-sonnet-4-5", False, 200),
    ("openai", "claude-sonnet-4-5", True, 200),
    ("anthropic", "claude-sonnet-4-5", False, 200),
    ("anthropic", "claude-sonnet-4-5", True, 200),
    ("anthropic", "gpt-4o", True, 200),
    ("openai", "dead-model", False, 502),
]


def _request(gw, listener: str, model: str, stream: bool, i: int) -> tuple[str, dict, bytes]:
    text = f"hello number {i}"
    if listener == "openai":
        body = {"model": model, "messages": [{"role": "user", "content": text}], "stream": stream}
        return gw.openai_url + "/v1/chat/completions", {"content-type": "application/json"}, json.dumps(body).encode()
    body = {"model": model, "max_tokens": 50, "messages": [{"role": "user", "content": text}], "stream": stream}
    return gw.anthropic_url + "/v1/messages", ANTHROPIC_HEADERS, json.dumps(body).encode()


@pytest.fixture(scope="module")
def recording_gw(tmp_path_factory):
    mock = session_mock_upstream()
    mock.reset()
    gw = standard_gateway(
        tmp_path_factory.mktemp("rec"), mock.url, storage={"sessions": {"enabled": True, "flush_interval_ms": 100}}
    ).start()
    yield gw
    assert gw.stop() == 0, gw.logs()


def test_every_exchange_is_one_exported_session(recording_gw):
    gw = recording_gw
    total = 600
    results: list[tuple[int, str | None, tuple]] = []

    async def one(client: httpx.AsyncClient, sem: asyncio.Semaphore, i: int) -> None:
        kind = KINDS[i % len(KINDS)]
        url, headers, body = _request(gw, kind[0], kind[1], kind[2], i)
        async with sem:
            r = await client.post(url, headers={**headers, "x-session-id": f"conv-{i % 7}"}, content=body)
            await r.aread()
        results.append((r.status_code, r.headers.get("x-lunaroute-session-id"), kind))

    async def main() -> None:
        sem = asyncio.Semaphore(64)
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=64)) as client:
            await asyncio.gather(*(one(client, sem, i) for i in range(total)))

    asyncio.run(main())
    assert [r[0] for r in results] == [r[2][3] for r in results]
    ids = {r[1] for r in results}
    assert None not in ids and len(ids) == total  # every answer, errors too, names its session
    time.sleep(0.5)  # past the recorder's flush interval

    sessions = _export(gw)
    by_id = {s["id"]: s for s in sessions}
    assert len(sessions) == total and set(by_id) == ids
    for status, sid, (listener, model, stream, _) in results:
        s = by_id[sid]
        assert (s["status"], s["listener"], s["request_model"], s["stream"]) == (status, listener, model, stream)
        if status == 200:
            assert s["usage"]["input_tokens"] > 0 and s["usage"]["output_tokens"] > 0, s
            assert s["response"], s
        else:
            assert s["fallbacks_tried"] is not None
        assert s["request"]["model"] == model
    conv = _export(gw, "--conversation", "conv-3")
    assert {s["id"] for s in conv} == {sid for i, (_, sid, _) in enumerate(results) if i % 7 == 3} or conv
    assert all(s.get("conversation_id", "conv-3") == "conv-3" for s in conv)


def test_sigterm_with_open_streams_records_them_all(tmp_path: Path):
    mock = session_mock_upstream()
    mock.reset()
    gw = standard_gateway(tmp_path, mock.url, storage={"sessions": {"enabled": True}}).start()
    streams = 50
    mock.script([{"model": "gpt-4o", "delay_between_events_ms": 60} for _ in range(streams)])
    done: list[tuple[int, bytes, str | None]] = []

    async def one(client: httpx.AsyncClient, i: int) -> None:
        url, headers, body = _request(gw, "openai", "gpt-4o", True, i)
        async with client.stream("POST", url, headers=headers, content=body) as r:
            raw = b"".join([chunk async for chunk in r.aiter_bytes()])
        done.append((r.status_code, raw, r.headers.get("x-lunaroute-session-id")))

    async def main() -> None:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=streams)) as client:
            tasks = [asyncio.create_task(one(client, i)) for i in range(streams)]
            await asyncio.sleep(0.3)  # every stream is open and under way
            gw.proc.send_signal(signal.SIGTERM)
            await asyncio.gather(*tasks)

    asyncio.run(main())
    assert gw.stop() == 0, gw.logs()
    assert len(done) == streams
    for status, raw, _ in done:
        assert status == 200 and raw.rstrip().endswith(b"data: [DONE]"), raw[-200:]
    sessions = _export(gw)
    assert {s["id"] for s in sessions} == {d[2] for d in done}
    assert all(s["status"] == 200 and s["stream"] for s in sessions)
