"""The kernels on recorded-style streams and a 1 MB prompt (tests/fixtures/streams/)."""

from __future__ import annotations

import importlib.util
import json
import random
from collections import Counter
from pathlib import Path

import orjson
import pytest

from .kernel_backends import available

STREAMS = Path(__file__).resolve().parents[1] / "fixtures" / "streams"
MANIFEST = json.loads((STREAMS / "manifest.json").read_text(encoding="utf-8"))

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
PHONE = r"(?:\+1 )?\(?[0-9]{3}\)?[-. ]?[0-9]{3}[-. ]?[0-9]{4}"
KEYS = [r"sk-proj-[A-Za-z0-9]{40}", r"AKIA[A-Z2-7]{16}", r"ghp_[A-Za-z0-9]{36}"]


def read(name: str) -> bytes:
    return (STREAMS / name).read_bytes()


def network_chunks(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out, pos = [], 0
    while pos < len(data):
        size = rng.randint(1, 3000)
        out.append(data[pos : pos + size])
        pos += size
    return out


def frame(mod: object, data: bytes, seed: int) -> list[tuple]:
    framer = mod.SseFramer()  # type: ignore[attr-defined]
    events: list[tuple] = []
    for chunk in network_chunks(data, seed):
        events += framer.feed(chunk)
    assert framer.close() == []
    return events


def test_fixture_files_are_what_the_script_makes() -> None:
    spec = importlib.util.spec_from_file_location("make_streams", STREAMS / "make_streams.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for name, data in script.build().items():
        assert read(name) == data, f"{name} is stale: run tests/fixtures/streams/make_streams.py"


@pytest.mark.parametrize("seed", [1, 2])
def test_anthropic_stream_frames_identically_everywhere(seed: int) -> None:
    data = read("anthropic_messages.sse")
    meta = MANIFEST["anthropic_messages.sse"]
    results = {name: frame(mod, data, seed) for name, mod in available("sse").items()}
    events = results["python"]
    for name, got in results.items():
        assert got == events, name
    assert len(events) == meta["events"] == 2000
    assert [e[0] for e in events[:3]] == ["message_start", "content_block_start", "ping"]
    assert [e[0] for e in events[-3:]] == ["content_block_stop", "message_delta", "message_stop"]
    assert sorted({e[0] for e in events}) == meta["event_types"]
    text, tool_json = [], []
    for event_type, data_field, _id, _retry in events:
        body = orjson.loads(data_field)
        assert body["type"] == event_type
        if event_type == "content_block_delta":
            delta = body["delta"]
            (text if delta["type"] == "text_delta" else tool_json).append(delta.get("text", delta.get("partial_json")))
    assert "".join(text) == meta["text"]
    assert orjson.loads("".join(tool_json)) == meta["tool_input"]


def test_openai_stream_frames_identically_everywhere() -> None:
    data = read("openai_chat.sse")
    meta = MANIFEST["openai_chat.sse"]
    results = {name: frame(mod, data, 3) for name, mod in available("sse").items()}
    events = results["python"]
    for name, got in results.items():
        assert got == events, name
    assert len(events) == meta["events"]
    assert events[-1] == ("message", "[DONE]", "", None)
    chunks = [orjson.loads(e[1]) for e in events[:-1]]
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    args = "".join(
        tc["function"]["arguments"]
        for c in chunks
        if c["choices"]
        for tc in c["choices"][0]["delta"].get("tool_calls") or []
    )
    assert content == meta["text"]
    assert args == meta["arguments"]
    assert chunks[-1]["usage"]["total_tokens"] == 3402


def test_prompt_pii_found_identically_everywhere() -> None:
    raw = read("prompt_1mb.txt")
    text = raw.decode("utf-8")
    planted = MANIFEST["prompt_1mb.txt"]
    regexes = [EMAIL, PHONE, *KEYS]
    results = {}
    for name, mod in available("matcher").items():
        m = mod.PatternMatcher(["password", "secret"], regexes, case_insensitive=True)
        results[name] = (m.find_all(text), m.find_all_bytes(raw))
    chars, byte_offsets = results["python"]
    for name, got in results.items():
        assert got == (chars, byte_offsets), name
    found: dict[int, list[str]] = {}
    for pid, start, end in chars:
        found.setdefault(pid, []).append(text[start:end])
    for (pid, start, end), (pid_b, bstart, bend) in zip(chars, byte_offsets):
        assert pid == pid_b and raw[bstart:bend].decode("utf-8") == text[start:end]
    assert found[2] == planted["emails"]
    assert Counter(found[3]) == Counter(planted["phones"])
    keys = found.get(4, []) + found.get(5, []) + found.get(6, [])
    assert Counter(keys) == Counter(planted["keys"])
