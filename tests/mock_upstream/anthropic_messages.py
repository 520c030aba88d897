"""Validation of the `messages` array of an Anthropic Messages request.

Besides each message's shape this enforces the conversation rules of the real API:
consecutive same-role messages form one turn; every `tool_use` of an assistant turn is
answered by a `tool_result` in the very next (user) turn, and every `tool_result` answers a
`tool_use` of the turn right before; only the final assistant message may be empty, and it
may not end with whitespace (prefill). A `system` message after the first one is a
mid-conversation system turn (Claude Code 2.x sends them): text only, with an optional
per-turn `output_config`, and invisible to the turn rules.
"""

from __future__ import annotations

from typing import Any

from .anthropic_blocks import check_block
from .anthropic_checks import AnthropicChecks, check_output_config


def check_messages(c: AnthropicChecks, messages: Any, *, thinking_on: bool) -> None:
    if messages is None:
        c.missing("messages")
        return
    if not c.array("messages", messages):
        return
    if not messages:
        c.add("messages", "at least one message is required")
        return
    shapes_ok = True
    for i, message in enumerate(messages):
        shapes_ok = _check_message(c, i, message, last=i == len(messages) - 1) and shapes_ok
    if shapes_ok:
        turns = _turns(messages)
        _check_tool_pairing(c, turns)
        if thinking_on:
            _check_thinking_first(c, turns)


def _check_message(c: AnthropicChecks, i: int, message: Any, *, last: bool) -> bool:
    path = f"messages.{i}"
    if not c.obj(path, message):
        return False
    role = message.get("role")
    if role == "system":
        c.extra(path, message, {"role", "content", "output_config"})
        check_output_config(c, f"{path}.output_config", message.get("output_config"))
    else:
        c.extra(path, message, {"role", "content"})
    ok = True
    if role is None:
        ok = c.missing(f"{path}.role")
    elif not c.literal(f"{path}.role", role, ["user", "assistant"] if i == 0 else ["user", "assistant", "system"]):
        ok = False
    if "content" not in message:
        return c.missing(f"{path}.content")
    content = message["content"]
    if isinstance(content, str):
        blocks_empty = not content
        if content and not content.strip() and not (last and role == "assistant"):
            c.add("messages", "text content blocks must contain non-whitespace text")
    elif isinstance(content, list):
        blocks_empty = not content
        if ok:
            for j, block in enumerate(content):
                check_block(c, f"{path}.content.{j}", block, role)
    else:
        c.add(f"{path}.content", "Input should be a valid string or a valid list")
        return False
    if blocks_empty and not (last and role == "assistant"):
        c.add(
            path,
            "all messages must have non-empty content except for the optional final assistant message",
        )
        ok = False
    if last and role == "assistant" and _ends_with_whitespace(content):
        c.add("messages", "final assistant content cannot end with trailing whitespace")
    return ok


def _ends_with_whitespace(content: Any) -> bool:
    if isinstance(content, str):
        return bool(content) and content != content.rstrip()
    if isinstance(content, list) and content:
        tail = content[-1]
        if isinstance(tail, dict) and tail.get("type") == "text" and isinstance(tail.get("text"), str):
            text = tail["text"]
            return bool(text) and text != text.rstrip()
    return False


def _blocks(message: dict[str, Any]) -> list[Any]:
    content = message["content"]
    return content if isinstance(content, list) else []


def _turns(messages: list[dict[str, Any]]) -> list[tuple[str, list[tuple[int, int, Any]]]]:
    """Merge consecutive same-role messages: [(role, [(msg_index, block_index, block)])].
    System turns are left out: they neither split nor answer a tool exchange."""
    turns: list[tuple[str, list[tuple[int, int, Any]]]] = []
    for i, message in enumerate(messages):
        role = message["role"]
        if role == "system":
            continue
        entries = [(i, j, block) for j, block in enumerate(_blocks(message))]
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(entries)
        else:
            turns.append((role, entries))
    return turns


def _check_tool_pairing(c: AnthropicChecks, turns: list[tuple[str, list[tuple[int, int, Any]]]]) -> None:
    previous_ids: set[str] = set()
    for t, (role, entries) in enumerate(turns):
        if role == "assistant":
            ids: list[str] = []
            for i, j, block in entries:
                if isinstance(block, dict) and block.get("type") == "tool_use":
                    if block.get("id") in ids:
                        c.add(f"messages.{i}.content.{j}", "`tool_use` ids must be unique")
                    ids.append(block.get("id"))
            if ids and t + 1 < len(turns):
                answered = {
                    block.get("tool_use_id")
                    for _, _, block in turns[t + 1][1]
                    if isinstance(block, dict) and block.get("type") == "tool_result"
                }
                missing = [tool_id for tool_id in ids if tool_id not in answered]
                if missing:
                    c.add(
                        f"messages.{entries[0][0]}",
                        "`tool_use` ids were found without `tool_result` blocks immediately after: "
                        + ", ".join(missing)
                        + ". Each `tool_use` block must have a corresponding `tool_result` block "
                        "in the next message.",
                    )
            previous_ids = set(ids)
            continue
        for i, j, block in entries:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                if block.get("tool_use_id") not in previous_ids:
                    c.add(
                        f"messages.{i}.content.{j}",
                        "unexpected `tool_use_id` found in `tool_result` blocks: "
                        f"{block.get('tool_use_id')}. "
                        "Each `tool_result` block must have a corresponding `tool_use` block in "
                        "the "
                        "previous message.",
                    )
        previous_ids = set()


def _check_thinking_first(c: AnthropicChecks, turns: list[tuple[str, list[tuple[int, int, Any]]]]) -> None:
    """With thinking on, an assistant turn whose tool calls are being answered by the final
    user turn must open with a thinking block (the model resumes inside that turn)."""
    if len(turns) < 2 or turns[-1][0] != "user" or turns[-2][0] != "assistant":
        return
    answers = [b for _, _, b in turns[-1][1] if isinstance(b, dict) and b.get("type") == "tool_result"]
    entries = turns[-2][1]
    kinds = [b.get("type") for _, _, b in entries if isinstance(b, dict)]
    if answers and "tool_use" in kinds and kinds[0] not in ("thinking", "redacted_thinking"):
        i, j, _ = entries[0]
        c.add(
            f"messages.{i}.content.{j}.type",
            f"Expected `thinking` or `redacted_thinking`, but found `{kinds[0]}`. When `thinking` "
            "is enabled, a final `assistant` message must start with a thinking block (preceeding "
            "the lastmost set of `tool_use` and `tool_result` blocks).",
        )
