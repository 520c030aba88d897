"""What the mock "model" answers, independent of the wire dialect.

Each dialect reduces its request to a `Conversation`; `plan_reply` turns that into a
`ReplyPlan` by fixed rules, so tests can predict every answer:
- the final turn carries tool results  -> text quoting them:
  "tool results: get_weather(call_x) = sunny; ..."
- tools offered, tool_choice not "none", and the last user text contains "use tool" (or
  tool_choice forces a tool)           -> a tool call to the forced tool, else the first tool
  whose name appears in the text, else the first tool; arguments built from its schema. With
  "parallel" in the text (and parallel calls allowed) two calls are made. With "narrate" in
  the text a short text precedes the calls.
- otherwise                             -> "echo: <last user text>".
A script can replace the answer: its `text`, and its `tool_calls` (named tools with given
arguments, whatever the request offered), which end the answer with stop reason "tool_use".
Stop sequences cut the text where they first occur (stop reason "stop_sequence"); a token
limit cuts it after that many words (stop reason "max_tokens").
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .schema_args import example_for_schema
from .usage import count_tokens

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class ToolSpec:
    name: str
    schema: Any


@dataclass(frozen=True)
class ToolResult:
    call_id: str
    name: str | None
    content: str
    is_error: bool = False


@dataclass
class Conversation:
    last_user_text: str = ""
    tool_results: list[ToolResult] = field(default_factory=list)
    tools: list[ToolSpec] = field(default_factory=list)
    forced_tool: str | None = None
    must_use_tool: bool = False
    tools_disabled: bool = False
    allow_parallel: bool = True
    stop_sequences: list[str] = field(default_factory=list)
    max_output_tokens: int | None = None
    thinking: bool = False


@dataclass(frozen=True)
class PlannedCall:
    id: str
    name: str
    arguments: dict[str, Any]

    @property
    def arguments_json(self) -> str:
        return json.dumps(self.arguments, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class ScriptedCall:
    name: str
    arguments: dict[str, Any]
    id: str | None = None


@dataclass
class ReplyPlan:
    text: str = ""
    thinking: str | None = None
    tool_calls: list[PlannedCall] = field(default_factory=list)
    stop_reason: str = "end_turn"  # end_turn | max_tokens | stop_sequence | tool_use
    stop_sequence: str | None = None
    scripted_output_tokens: int | None = None

    @property
    def output_tokens(self) -> int:
        if self.scripted_output_tokens is not None:
            return self.scripted_output_tokens
        tokens = count_tokens(self.text) + count_tokens(self.thinking or "")
        tokens += sum(count_tokens(call.arguments_json) for call in self.tool_calls)
        return tokens

    @property
    def signature(self) -> str:
        """Opaque thinking signature, stable for a given thinking text."""
        return hashlib.sha256((self.thinking or "").encode()).hexdigest()


def plan_reply(
    conv: Conversation,
    new_call_id: Callable[[], str],
    override_text: str | None = None,
    scripted_calls: list[ScriptedCall] | None = None,
) -> ReplyPlan:
    plan = ReplyPlan()
    if conv.thinking:
        plan.thinking = f"thinking about: {conv.last_user_text}".strip()
    if scripted_calls:
        plan.text = override_text or ""
        plan.tool_calls = [PlannedCall(call.id or new_call_id(), call.name, call.arguments) for call in scripted_calls]
        plan.stop_reason = "tool_use"
        return plan
    if override_text is not None:
        plan.text = override_text
    elif conv.tool_results:
        plan.text = "tool results: " + "; ".join(_quote(result) for result in conv.tool_results)
    elif _wants_tool(conv):
        _plan_tool_calls(conv, plan, new_call_id)
        return plan
    else:
        plan.text = f"echo: {conv.last_user_text}"
    _apply_limits(conv, plan)
    return plan


def _quote(result: ToolResult) -> str:
    label = "error" if result.is_error else "="
    return f"{result.name or 'tool'}({result.call_id}) {label} {result.content}"


def _wants_tool(conv: Conversation) -> bool:
    if not conv.tools or conv.tools_disabled:
        return False
    return conv.must_use_tool or conv.forced_tool is not None or "use tool" in conv.last_user_text.lower()


def _plan_tool_calls(conv: Conversation, plan: ReplyPlan, new_call_id: Callable[[], str]) -> None:
    text = conv.last_user_text.lower()
    chosen = _choose_tool(conv, text)
    targets = [(chosen, 1)]
    if "parallel" in text and conv.allow_parallel:
        others = [tool for tool in conv.tools if tool.name != chosen.name]
        targets.append((others[0], 1) if others else (chosen, 2))
    if "narrate" in text:
        plan.text = "Calling " + " and ".join(tool.name for tool, _ in targets) + "."
    for tool, variant in targets:
        plan.tool_calls.append(PlannedCall(new_call_id(), tool.name, example_for_schema(tool.schema, variant=variant)))
    plan.stop_reason = "tool_use"


def _choose_tool(conv: Conversation, text: str) -> ToolSpec:
    if conv.forced_tool is not None:
        for tool in conv.tools:
            if tool.name == conv.forced_tool:
                return tool
    for tool in conv.tools:
        if tool.name.lower() in text:
            return tool
    return conv.tools[0]


def _apply_limits(conv: Conversation, plan: ReplyPlan) -> None:
    cut, reason, sequence = len(plan.text), None, None
    for stop in conv.stop_sequences:
        at = plan.text.find(stop) if stop else -1
        if 0 <= at < cut:
            cut, reason, sequence = at, "stop_sequence", stop
    limit = conv.max_output_tokens
    if limit is not None:
        budget = limit - count_tokens(plan.thinking or "")
        words = list(_WORD.finditer(plan.text[:cut]))
        if len(words) > max(budget, 0):
            cut = words[budget - 1].end() if budget > 0 else 0
            reason, sequence = "max_tokens", None
    if reason is not None:
        plan.text = plan.text[:cut]
        plan.stop_reason, plan.stop_sequence = reason, sequence
