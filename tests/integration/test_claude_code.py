"""The real Claude Code CLI through LunaRoute, to a scripted provider of each dialect.

Claude Code talks to an Anthropic listener. The `relay` listener sends it to an Anthropic
provider; the `translate` listener sends it to an OpenAI provider (Anthropic → OpenAI
translation). The strict mock plays the model: a `Write` tool call, then a final answer; then,
in a `--resume`d session, a `Bash` tool call (`cat` of the written file) and a final answer.
Claude Code runs the tools itself, so the file on disk and the tool results it sends back are
real. Each test below checks one thing about the same two-turn conversation per route.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.mock_upstream.fixture import session_mock_upstream
from tests.mock_upstream.validators import validate_anthropic_request, validate_openai_request

from .claude_code_kit import (
    OPENAI_TARGET_MODEL,
    UPSTREAM_KEY,
    Turn,
    anthropic_tool_calls,
    anthropic_tool_results,
    claude_binary,
    claude_code_gateway,
    openai_tool_calls,
    openai_tool_results,
    run_claude,
    texts,
)

BINARY = claude_binary()
pytestmark = pytest.mark.skipif(
    BINARY is None, reason="Claude Code is not installed (the `test` extra installs claude-agent-sdk, which ships it)"
)

CONTENT = "LunaRoute was here.\nSecond line.\n"
PROMPT_1 = "Write the notes file."
PROMPT_2 = "Show me what the notes file says."
ANSWER_1 = "I wrote notes.txt."
ANSWER_2 = "The notes file says LunaRoute was here."
# Anthropic's terms; the OpenAI provider reports prompt_tokens = input + cache reads.
USAGE = [
    {"input_tokens": 1200, "output_tokens": 40, "cache_read_input_tokens": 300},
    {"input_tokens": 150, "output_tokens": 9, "cache_read_input_tokens": 1500},
    {"input_tokens": 210, "output_tokens": 25, "cache_read_input_tokens": 1650},
    {"input_tokens": 90, "output_tokens": 11, "cache_read_input_tokens": 1900},
]


@dataclass(frozen=True)
class Route:
    name: str
    path: str  # the provider endpoint the conversation must reach
    id_prefix: str  # how this provider spells its tool call ids

    def tool_calls(self, body: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
        return anthropic_tool_calls(body) if self.name == "anthropic" else openai_tool_calls(body)

    def tool_results(self, body: dict[str, Any]) -> dict[str, str]:
        return anthropic_tool_results(body) if self.name == "anthropic" else openai_tool_results(body)


ROUTES = {
    "anthropic": Route("anthropic", "/v1/messages", "toolu_"),
    "openai": Route("openai", "/v1/chat/completions", "call_"),
}


@dataclass
class Conversation:
    route: Route
    note: Path
    write_id: str
    bash_id: str
    first: Turn
    second: Turn

    def turn_requests(self, turn: Turn) -> list[dict[str, Any]]:
        return [r for r in turn.requests if r["path"] == self.route.path]

    @property
    def all_requests(self) -> list[dict[str, Any]]:
        return self.first.requests + self.second.requests

    def describe(self) -> str:
        return f"route {self.route.name}:\n first turn: {self.first.summary()}\n second turn: {self.second.summary()}"


@pytest.fixture(scope="module")
def cc_gateway(tmp_path_factory):
    gw, client_key = claude_code_gateway(tmp_path_factory.mktemp("cc-gw"), session_mock_upstream().url)
    gw.start()
    yield gw, client_key
    assert gw.stop() == 0, gw.logs()


@pytest.fixture(scope="module", params=sorted(ROUTES))
def conversation(request, cc_gateway, tmp_path_factory) -> Conversation:
    gw, client_key = cc_gateway
    route = ROUTES[request.param]
    base_url = gw.anthropic_url if route.name == "anthropic" else gw.openai_url
    root = tmp_path_factory.mktemp(f"cc-{route.name}")
    home, workdir = root / "home", root / "work"
    home.mkdir()
    workdir.mkdir()
    note = workdir / "notes.txt"
    write_id, bash_id = route.id_prefix + "cc_write_1", route.id_prefix + "cc_bash_1"
    mock = session_mock_upstream()

    def turn(prompt: str, script: list[dict[str, Any]], resume: str | None = None) -> Turn:
        mock.reset()
        mock.script([{"path": route.path, **step} for step in script])
        result = run_claude(
            BINARY, base_url=base_url, api_key=client_key, home=home, workdir=workdir, prompt=prompt, resume=resume
        )
        return Turn(result, mock.requests())

    write = {"file_path": str(note), "content": CONTENT}
    first = turn(
        PROMPT_1,
        [
            {"tool_calls": [{"id": write_id, "name": "Write", "input": write}], "usage": USAGE[0]},
            {"text": ANSWER_1, "usage": USAGE[1]},
        ],
    )
    bash = {"command": f"cat {note}", "description": "Show the notes file"}
    second = turn(
        PROMPT_2,
        [
            {"tool_calls": [{"id": bash_id, "name": "Bash", "input": bash}], "usage": USAGE[2]},
            {"text": ANSWER_2, "usage": USAGE[3]},
        ],
        resume=first.result.get("session_id"),
    )
    return Conversation(route, note, write_id, bash_id, first, second)


def _usage(scripted: list[dict[str, int]]) -> dict[str, int]:
    return {
        key: sum(u.get(key, 0) for u in scripted)
        for key in ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    }


# ------------------------------------------------------------------ what Claude Code got
def test_the_write_tool_call_reached_claude_code_and_wrote_the_file(conversation):
    assert conversation.note.is_file(), conversation.describe()
    assert conversation.note.read_text() == CONTENT


def test_each_turn_ends_with_the_scripted_answer(conversation):
    for turn, answer in ((conversation.first, ANSWER_1), (conversation.second, ANSWER_2)):
        assert turn.result.get("_exit_code") == 0 and turn.result.get("is_error") is False, conversation.describe()
        assert turn.result["result"] == answer
        assert turn.result["num_turns"] == 2  # the tool round trip, then the answer


def test_claude_code_reports_the_scripted_usage(conversation):
    for turn, scripted in ((conversation.first, USAGE[:2]), (conversation.second, USAGE[2:])):
        reported = turn.result.get("usage") or {}
        got = {key: reported.get(key) for key in _usage(scripted)}
        assert got == _usage(scripted), conversation.describe()


# ------------------------------------------------------------------ what the provider saw
def test_every_request_reached_the_provider_of_the_route_and_was_valid(conversation):
    route = conversation.route
    assert conversation.all_requests, conversation.describe()
    for r in conversation.all_requests:
        assert r["status"] == 200, conversation.describe()
        assert r["method"] == "POST" and r["path"] in (route.path, "/v1/messages/count_tokens"), r["path"]
        if r["path"] == "/v1/chat/completions":
            assert validate_openai_request(r["json"]) == []
        elif r["path"] == "/v1/messages":
            assert validate_anthropic_request(r["json"]) == []
    # The tool call, its result, the answer: two generation requests per turn.
    assert [len(conversation.turn_requests(t)) for t in (conversation.first, conversation.second)] == [2, 2]


def test_answers_are_streamed_as_claude_code_asks(conversation):
    for r in conversation.turn_requests(conversation.first) + conversation.turn_requests(conversation.second):
        assert r["json"]["stream"] is True
        assert r["outcome"] == "sent", r["outcome"]
        if conversation.route.name == "openai":
            # Without it OpenAI streams carry no usage, and Claude Code would report zeros.
            assert r["json"].get("stream_options", {}).get("include_usage") is True


def test_tool_results_answer_the_providers_call_ids(conversation):
    route = conversation.route
    first, second = conversation.turn_requests(conversation.first), conversation.turn_requests(conversation.second)
    assert len(first) == 2 and len(second) == 2, conversation.describe()
    assert route.tool_results(first[0]["json"]) == {}
    written = route.tool_results(first[1]["json"])
    assert list(written) == [conversation.write_id]
    assert "notes.txt" in written[conversation.write_id]
    shown = route.tool_results(second[1]["json"])
    assert shown[conversation.bash_id].strip() == CONTENT.strip()


def test_the_resumed_turn_carries_the_earlier_turns(conversation):
    route = conversation.route
    second = conversation.turn_requests(conversation.second)
    assert second, conversation.describe()
    body = second[0]["json"]
    calls = route.tool_calls(body)
    assert calls == {conversation.write_id: ("Write", {"file_path": str(conversation.note), "content": CONTENT})}
    assert list(route.tool_results(body)) == [conversation.write_id]
    assert ANSWER_1 in texts(body, "assistant")
    user_texts = texts(body, "user")
    assert PROMPT_1 in user_texts and user_texts[-1] == PROMPT_2
    # And the call the first turn answered comes before the second turn's prompt.
    assert [m["role"] for m in body["messages"]][-1] == "user"


def test_the_provider_sees_its_own_key_and_never_a_lunaroute_key(conversation, cc_gateway):
    _, client_key = cc_gateway
    assert conversation.all_requests, conversation.describe()
    for r in conversation.all_requests:
        for name, value in r["headers"]:
            assert client_key not in value and not value.removeprefix("Bearer ").startswith("lr-"), (name, value)
        assert client_key not in r["body"]
        if conversation.route.name == "anthropic":
            assert r["header_map"].get("x-api-key") == UPSTREAM_KEY
        else:
            assert r["header_map"].get("authorization") == f"Bearer {UPSTREAM_KEY}"


# ------------------------------------------------------------------ route by route
@pytest.mark.parametrize("conversation", ["anthropic"], indirect=True)
def test_the_relay_keeps_what_claude_code_sent(conversation):
    requests = conversation.turn_requests(conversation.first)
    assert requests, conversation.describe()
    r = requests[0]
    headers, body = r["header_map"], r["json"]
    assert r["query"] == "beta=true"
    assert "claude-code-20250219" in headers.get("anthropic-beta", "").split(",")
    assert headers.get("x-app") == "cli"
    assert headers.get("anthropic-version") == "2023-06-01"
    assert "claude-cli/" in headers.get("user-agent", "")
    assert json.loads(body["metadata"]["user_id"])["session_id"] == conversation.first.result["session_id"]
    assert body["thinking"]["type"] == "adaptive" and "effort" in body["output_config"]
    assert "context_management" in body
    assert "system" in [m["role"] for m in body["messages"]]
    assert any(t.get("defer_loading") for t in body["tools"])


@pytest.mark.parametrize("conversation", ["openai"], indirect=True)
def test_the_translation_sends_claude_codes_tools_but_not_the_deferred_placeholder(conversation):
    requests = conversation.turn_requests(conversation.first)
    assert requests, conversation.describe()
    body = requests[0]["json"]
    assert body["model"] == OPENAI_TARGET_MODEL
    names = [t["function"]["name"] for t in body.get("tools", []) if t.get("type") == "function"]
    assert {"Write", "Bash"} <= set(names)
    assert "DeferredToolPlaceholder" not in names
    # Claude Code's system prompt and its mid-conversation system turn both reach the model.
    system_text = " ".join(
        m["content"] if isinstance(m["content"], str) else " ".join(p.get("text", "") for p in m["content"])
        for m in body["messages"]
        if m["role"] in ("system", "developer")
    )
    assert "Claude Agent SDK" in system_text and "# Environment" in system_text
