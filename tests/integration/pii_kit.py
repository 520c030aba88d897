"""Helpers of the PII integration tests: one text with a value of every built-in type, put in
every place a client writes text (system prompt, user message, tool-call arguments, tool
result), sent with the official SDKs in both dialects, and what the client got back."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import anthropic
import openai

from .gateway import Gateway

EMAIL = "jane.doe@acme-mail.com"
PHONE = "+1 (917) 555-0102"
SSN = "123-45-6789"
CARD = "4111 1111 1111 1111"
IP = "203.0.113.77"
OPENAI_KEY = "sk-proj-Q7vX2mK9pL4nR8sT1wY6zB3cD5fG0hJ"
AWS_KEY = "AKIA2E0A8F3B244C9986"
RAW_VALUES = (EMAIL, PHONE, SSN, CARD, IP, OPENAI_KEY, AWS_KEY)

TEXT = f"Reach {EMAIL} or phone {PHONE}. SSN {SSN}, card {CARD}, login from {IP} with key {OPENAI_KEY} and {AWS_KEY}."
# Values of each type in TEXT, and how many times TEXT is in one request (the system prompt,
# the user message, the tool call's arguments and the tool result).
PER_TEXT = {"email": 1, "phone": 1, "ssn": 1, "credit_card": 1, "ip_address": 1, "api_key": 2}
PLACES = 4

TOKEN = re.compile(r"<([A-Z_]+)_[0-9a-f]{12}>")

# (listener, model): same dialect and translated, from each side (conftest.standard_gateway).
ROUTES = (
    ("openai", "gpt-4o"),
    ("openai", "claude-sonnet-4-5"),
    ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "gpt-4o"),
)

NOTE_SCHEMA = {"type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"]}
OPENAI_TOOLS = [{"type": "function", "function": {"name": "send_note", "parameters": NOTE_SCHEMA}}]
ANTHROPIC_TOOLS = [{"name": "send_note", "description": "File a note.", "input_schema": NOTE_SCHEMA}]


@dataclass
class Answer:
    """What the client received: the answer's text and its tool calls' arguments."""

    text: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)


def openai_messages() -> list[dict[str, Any]]:
    call = {
        "id": "call_pii1",
        "type": "function",
        "function": {"name": "send_note", "arguments": json.dumps({"note": TEXT})},
    }
    return [
        {"role": "system", "content": "Support notes: " + TEXT},
        {"role": "user", "content": "Please file this: " + TEXT},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_pii1", "content": "Filed: " + TEXT},
    ]


def anthropic_messages() -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "Please file this: " + TEXT},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_pii1", "name": "send_note", "input": {"note": TEXT}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_pii1", "content": "Filed: " + TEXT}],
        },
    ]


def chat(gw: Gateway, listener: str, model: str, stream: bool) -> Answer:
    if listener == "openai":
        return _openai(gw, model, stream)
    return _anthropic(gw, model, stream)


def _openai(gw: Gateway, model: str, stream: bool) -> Answer:
    client = openai.OpenAI(base_url=gw.openai_url + "/v1", api_key="client-key", max_retries=0)
    kwargs: dict[str, Any] = {"model": model, "messages": openai_messages(), "tools": OPENAI_TOOLS}
    if not stream:
        msg = client.chat.completions.create(**kwargs).choices[0].message
        return Answer(msg.content or "", [json.loads(tc.function.arguments) for tc in msg.tool_calls or []])
    text: list[str] = []
    args: dict[int, str] = {}
    for chunk in client.chat.completions.create(**kwargs, stream=True):
        for choice in chunk.choices:
            if choice.delta.content:
                text.append(choice.delta.content)
            for tc in choice.delta.tool_calls or []:
                if tc.function is not None and tc.function.arguments:
                    args[tc.index] = args.get(tc.index, "") + tc.function.arguments
    return Answer("".join(text), [json.loads(args[i]) for i in sorted(args)])


def _anthropic(gw: Gateway, model: str, stream: bool) -> Answer:
    client = anthropic.Anthropic(base_url=gw.anthropic_url, api_key="client-key", max_retries=0)
    kwargs: dict[str, Any] = {
        "model": model,
        "max_tokens": 400,
        "system": "Support notes: " + TEXT,
        "messages": anthropic_messages(),
        "tools": ANTHROPIC_TOOLS,
    }
    if not stream:
        msg = client.messages.create(**kwargs)
        return Answer(
            "".join(b.text for b in msg.content if b.type == "text"),
            [b.input for b in msg.content if b.type == "tool_use"],
        )
    text: list[str] = []
    args: dict[int, str] = {}
    for ev in client.messages.create(**kwargs, stream=True):
        if ev.type == "content_block_delta":
            if ev.delta.type == "text_delta":
                text.append(ev.delta.text)
            elif ev.delta.type == "input_json_delta":
                args[ev.index] = args.get(ev.index, "") + ev.delta.partial_json
    return Answer("".join(text), [json.loads(args[i]) for i in sorted(args)])


def raw_in(blob: str | bytes) -> list[str]:
    """The raw values found in `blob`."""
    if isinstance(blob, bytes):
        return [v for v in RAW_VALUES if v.encode() in blob]
    return [v for v in RAW_VALUES if v in blob]


def metric(text: str, name: str, labels: str = "") -> float:
    """One sample of a Prometheus text exposition (0 when absent)."""
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+]+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def export(gw: Gateway) -> str:
    """`lunaroute export` of every session, as JSON lines."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "lunaroute",
            "--config-dir",
            str(gw.config_dir),
            "export",
            "--since",
            "1h",
            "--output",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout
