"""The real Claude Code CLI, driven headless through a real `lunaroute serve` to the strict mock.

The `claude-agent-sdk` wheel (the `test` extra) ships the CLI binary; `claude_binary()` finds
it, or returns None when the wheel is not installed. `run_claude` runs one `claude -p` turn
with a throwaway HOME and nothing from the caller's environment but PATH, so no real
credentials, settings or proxies take part.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .gateway import Gateway, provider, rule

UPSTREAM_KEY = "sk-upstream-claude-code"
# The OpenAI route serves Claude Code's Anthropic requests with this OpenAI model.
OPENAI_TARGET_MODEL = "gpt-5"
TURN_TIMEOUT_S = 60


def claude_binary() -> Path | None:
    try:
        import claude_agent_sdk
    except ImportError:
        return None
    path = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def run_claude(
    binary: Path,
    *,
    base_url: str,
    api_key: str,
    home: Path,
    workdir: Path,
    prompt: str,
    resume: str | None = None,
) -> dict[str, Any]:
    """One headless turn; the parsed `--output-format json` result (exit status kept in
    `_exit_code`, stderr in `_stderr`, so a failed turn is reported, not raised)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": api_key,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        # A failing route fails the turn at once instead of after Claude Code's backoff.
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "API_TIMEOUT_MS": str(TURN_TIMEOUT_S * 1000),
    }
    # Headless as root: --dangerously-skip-permissions is refused there, a tool allow-list is not.
    args = [str(binary), "-p", prompt, "--output-format", "json", "--allowedTools", "Write,Bash"]
    if resume is not None:
        args += ["--resume", resume]
    done = subprocess.run(
        args,
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TURN_TIMEOUT_S,
    )
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = {"is_error": True, "result": done.stdout}
    result["_exit_code"] = done.returncode
    result["_stderr"] = done.stderr[-4000:]
    return result


def claude_code_gateway(root: Path, mock_url: str) -> tuple[Gateway, str]:
    """A gateway with two Anthropic listeners, both serving Claude Code: `relay` sends every
    model to an Anthropic provider, `translate` to an OpenAI provider. Clients authenticate
    with a LunaRoute key (returned), which must never reach the provider."""
    providers = [
        provider("cc-anthropic", "anthropic", mock_url, api_key_env="LR_TEST_UPSTREAM_KEY"),
        provider("cc-openai", "openai", mock_url, api_key_env="LR_TEST_UPSTREAM_KEY"),
    ]
    rules = [
        rule("cc-relay", "relay", "*", "cc-anthropic"),
        rule("cc-translate", "translate", "*", "cc-openai", target_model=OPENAI_TARGET_MODEL),
    ]
    gw = Gateway(root, providers, rules, env={"LR_TEST_UPSTREAM_KEY": UPSTREAM_KEY})
    # Gateway.start() waits for the ports it picked; both listeners take one of them.
    gw.server_yaml["listeners"] = [
        {"id": "relay", "type": "anthropic", "bind": f"127.0.0.1:{gw.anthropic_port}"},
        {"id": "translate", "type": "anthropic", "bind": f"127.0.0.1:{gw.openai_port}"},
    ]
    gw.write("server.yaml", yaml.safe_dump(gw.server_yaml))
    created = subprocess.run(
        [sys.executable, "-m", "lunaroute", "keys", "create", "claude-code", "--config-dir", str(gw.config_dir)],
        capture_output=True,
        text=True,
    )
    if created.returncode != 0 or not created.stdout.startswith("lr-"):
        raise RuntimeError(f"lunaroute keys create failed ({created.returncode}):\n{created.stderr[-3000:]}")
    return gw, created.stdout.splitlines()[0]


@dataclass
class Turn:
    """One `claude -p` run and what the provider saw meanwhile."""

    result: dict[str, Any]
    requests: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        """What went wrong, for assertion messages: the CLI's answer and every refused request."""
        lines = [f"claude exit {self.result.get('_exit_code')}: {str(self.result.get('result'))[:600]!r}"]
        # Claude Code retries a refused request with fewer betas: the same refusal, many times.
        refusals: dict[str, int] = {}
        for r in self.requests:
            if r["status"] != 200:
                line = f"{r['status']} to {r['method']} {r['path']}: {r['response_body'][:600]}"
                refusals[line] = refusals.get(line, 0) + 1
        lines += [f"  provider answered {line} (x{count})" for line, count in refusals.items()]
        if self.result.get("_exit_code"):
            lines.append("  stderr: " + self.result.get("_stderr", "")[-1500:])
        return "\n".join(lines)


def blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def anthropic_tool_results(body: dict[str, Any]) -> dict[str, str]:
    """tool_use_id -> result text, over every user turn of a Messages request."""
    found: dict[str, str] = {}
    for message in body.get("messages", []):
        for block in blocks(message["content"]) if message["role"] == "user" else []:
            if block.get("type") == "tool_result":
                found[block["tool_use_id"]] = " ".join(b.get("text", "") for b in blocks(block.get("content")))
    return found


def anthropic_tool_calls(body: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """tool_use id -> (name, input), over every assistant turn of a Messages request."""
    return {
        block["id"]: (block["name"], block["input"])
        for message in body.get("messages", [])
        if message["role"] == "assistant"
        for block in blocks(message["content"])
        if block.get("type") == "tool_use"
    }


def openai_tool_results(body: dict[str, Any]) -> dict[str, str]:
    """tool_call_id -> result text, over the `tool` messages of a Chat Completions request."""
    found: dict[str, str] = {}
    for message in body.get("messages", []):
        if message["role"] == "tool":
            content = message["content"]
            found[message["tool_call_id"]] = (
                content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)
            )
    return found


def openai_tool_calls(body: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """tool call id -> (name, parsed arguments), over the assistant messages."""
    return {
        call["id"]: (call["function"]["name"], json.loads(call["function"]["arguments"]))
        for message in body.get("messages", [])
        if message["role"] == "assistant"
        for call in message.get("tool_calls") or []
    }


def texts(body: dict[str, Any], role: str) -> list[str]:
    """Every text of the messages with this role, in both dialects."""
    out: list[str] = []
    for message in body.get("messages", []):
        if message["role"] == role:
            out.extend(b["text"] for b in blocks(message.get("content")) if b.get("type") == "text")
    return out
