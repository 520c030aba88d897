"""The `input` item list of a Responses request → normalized messages and system prompts.

- message items (`type: "message"` optional): `user` → a user message; `assistant` → an
  assistant turn; `system` / `developer` → system prompts, kept at their place.
- `function_call` items join the assistant turn before them (an output's text and its
  calls, or parallel calls, make one turn); `function_call_output` items become tool
  results, consecutive ones in one user message (the normalized convention).
- Items of an earlier `response.output` sent back as input (`input += response.output`)
  carry `id`, `status`, `annotations`, `logprobs`: accepted and left out.
- Any other item type is a 400: references to stored items (`item_reference`) need state
  LunaRoute does not keep, and hosted-tool items (`web_search_call`, `reasoning`, ...) have
  no equivalent in a chat provider's conversation.
"""

from __future__ import annotations

from typing import Any

from ...errors import InvalidRequestError
from ...model import (
    ContentBlock,
    ImageBlock,
    Message,
    NormalizedRequest,
    SystemPrompt,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from .._check import at, fail, need_list, need_one_of, need_str, wrong_type

_ROLES = ("user", "assistant", "system", "developer")
_USER_PARTS = ("input_text", "input_image")
_ASSISTANT_PARTS = ("output_text", "refusal", "input_text")
# `original` (full resolution) has no Chat Completions twin: the provider's default applies.
_DETAILS = {"auto": "auto", "low": "low", "high": "high", "original": None}
_STATE_ITEMS = frozenset({"item_reference"})


def parse_input(req: NormalizedRequest, items: list[Any]) -> None:
    out = req.messages
    turn: list[ContentBlock] | None = None  # the assistant turn function calls join
    results: list[ContentBlock] | None = None  # the user message collecting tool results
    for i, item in enumerate(items):
        try:
            if type(item) is not dict:
                wrong_type("", "an object", item)
            kind = item.get("type")
            if kind is None or kind == "message":
                role = item.get("role")
                content = item.get("content")
                if role == "user":
                    turn = results = None
                    out.append(Message("user", content if type(content) is str else _user_parts(content)))
                elif role == "assistant":
                    results = None
                    turn = _assistant_parts(content)
                    out.append(Message("assistant", turn))
                elif role == "system" or role == "developer":
                    turn = results = None
                    req.system.append(SystemPrompt(_system_text(content), role, len(out)))
                elif role is None:
                    fail("role", "required for a message item")
                else:
                    need_one_of(role, _ROLES, "role")
            elif kind == "function_call":
                results = None
                call = ToolUseBlock(
                    need_str(item.get("call_id"), "call_id"),
                    need_str(item.get("name"), "name"),
                    None,
                    need_str(item.get("arguments"), "arguments"),
                )
                if turn is None:
                    turn = []
                    out.append(Message("assistant", turn))
                turn.append(call)
            elif kind == "function_call_output":
                turn = None
                result = ToolResultBlock(need_str(item.get("call_id"), "call_id"), _output(item.get("output")))
                if results is None:
                    results = []
                    out.append(Message("user", results))
                results.append(result)
            elif type(kind) is not str:
                wrong_type("type", "a string", kind)
            elif kind in _STATE_ITEMS:
                fail("type", f"'{kind}' items are not supported: LunaRoute keeps no response state")
            else:
                fail(
                    "type",
                    f"'{kind}' items are not supported: only message, function_call and "
                    "function_call_output items can be translated for a provider",
                )
        except InvalidRequestError as err:
            raise at(err, f"input[{i}]") from None


def _user_parts(content: Any) -> list[ContentBlock]:
    if content is None:
        fail("content", "required")
    if not need_list(content, "content"):
        fail("content", "must hold at least one content part")
    blocks: list[ContentBlock] = []
    for j, part in enumerate(content):
        try:
            kind = _part_type(part, _USER_PARTS)
            if kind == "input_text":
                blocks.append(TextBlock(need_str(part.get("text"), "text")))
            else:
                blocks.append(_image(part))
        except InvalidRequestError as err:
            raise at(err, f"content[{j}]") from None
    return blocks


def _assistant_parts(content: Any) -> list[ContentBlock]:
    if type(content) is str:
        return [TextBlock(content)]
    if content is None:
        fail("content", "required")
    blocks: list[ContentBlock] = []
    for j, part in enumerate(need_list(content, "content")):
        try:
            kind = _part_type(part, _ASSISTANT_PARTS)
            # A refusal is what the assistant said: the next turn's context needs it as text.
            key = "refusal" if kind == "refusal" else "text"
            blocks.append(TextBlock(need_str(part.get(key), key)))
        except InvalidRequestError as err:
            raise at(err, f"content[{j}]") from None
    return blocks


def _system_text(content: Any) -> str:
    """System and developer content: a string, or input_text parts joined by a blank line
    (as OpenAI system messages given as parts are, docs/TRANSLATION.md)."""
    if type(content) is str:
        return content
    if content is None:
        fail("content", "required")
    texts = []
    for j, part in enumerate(need_list(content, "content")):
        try:
            _part_type(part, ("input_text",))
            texts.append(need_str(part.get("text"), "text"))
        except InvalidRequestError as err:
            raise at(err, f"content[{j}]") from None
    return "\n\n".join(texts)


def _output(output: Any) -> str | list[ContentBlock]:
    """A function_call_output's `output`: a string, or input_text / input_image parts."""
    if type(output) is str:
        return output
    if type(output) is list:
        return _user_parts(output)
    if output is None:
        fail("output", "required: a string or an array of content parts")
    wrong_type("output", "a string or an array of content parts", output)


def _part_type(part: Any, allowed: tuple[str, ...]) -> str:
    if type(part) is not dict:
        wrong_type("", "an object", part)
    kind = part.get("type")
    if type(kind) is str and kind not in allowed and kind in ("input_file", "input_audio"):
        fail("type", f"'{kind}' content parts are not supported: they cannot be translated for a provider")
    return need_one_of(kind, allowed, "type")


def _image(part: dict[str, Any]) -> ImageBlock:
    url = part.get("image_url")
    if url is None:
        if part.get("file_id") is not None:
            fail("file_id", "images by file_id are not supported (the Files API is not translated); send image_url")
        fail("image_url", "required: a data URL or an http(s) URL")
    if type(url) is not str:
        wrong_type("image_url", "a string", url)
    detail = part.get("detail")
    if detail is not None:
        detail = _DETAILS[need_one_of(detail, tuple(_DETAILS), "detail")]
    if url.startswith("data:"):
        header, comma, payload = url[5:].partition(",")
        if comma and header.endswith(";base64"):
            return ImageBlock("base64", None, header[:-7], payload, detail)
        fail("image_url", "a data URL must be base64: data:<media type>;base64,<data>")
    if not url.startswith(("https://", "http://")):
        fail("image_url", "expected a data URL or an http(s) URL")
    return ImageBlock("url", url, None, None, detail)
