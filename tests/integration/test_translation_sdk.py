"""Cross-dialect routes driven by the official SDKs: the client must not be able to tell.

OpenAI SDK → LunaRoute → Anthropic-dialect mock, and Anthropic SDK → LunaRoute → OpenAI-dialect
mock. The mock answers 400 to anything its real API would reject, so every request LunaRoute
translated is checked against the target API's rules too.
"""

from __future__ import annotations

import base64
import json

from .tools import TOOLS_ANTH, TOOLS_OAI

PNG_1PX = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
    )
).decode()


def _last_upstream(mock, path: str) -> dict:
    reqs = mock.requests(path)
    assert reqs, f"no upstream request to {path}"
    return reqs[-1]["json"]


# ------------------------------------------------------------------ OpenAI client → Anthropic
def test_openai_client_to_anthropic_text(oai, mock_upstream):
    raw = oai.chat.completions.with_raw_response.create(
        model="claude-sonnet-4",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "No lists."},
            {"role": "user", "content": "hello there"},
        ],
        temperature=1.7,
        max_tokens=64,
        stop=["END"],
        user="u-42",
    )
    r = raw.parse()
    assert r.choices[0].message.content == "echo: hello there"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    assert raw.headers["x-lunaroute-provider"] == "up-anthropic"
    up = _last_upstream(mock_upstream, "/v1/messages")
    assert up["max_tokens"] == 64
    assert 0 <= up["temperature"] <= 1  # clamped into Anthropic's range
    assert up["stop_sequences"] == ["END"]
    assert up["metadata"] == {"user_id": "u-42"}
    system_text = up["system"] if isinstance(up["system"], str) else " ".join(b["text"] for b in up["system"])
    assert "Be brief." in system_text and "No lists." in system_text


def test_openai_client_to_anthropic_stream_with_usage(oai):
    stream = oai.chat.completions.create(
        model="claude-sonnet-4",
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "several words to stream back"}],
    )
    text, finish, usage = "", None, None
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    assert text == "echo: several words to stream back"
    assert finish == "stop"
    assert usage is not None and usage.prompt_tokens > 0


def test_openai_client_to_anthropic_tool_round_trip(oai, mock_upstream):
    msgs = [{"role": "user", "content": "use tool to check Paris"}]
    r = oai.chat.completions.create(model="claude-sonnet-4", messages=msgs, tools=TOOLS_OAI, tool_choice="auto")
    assert r.choices[0].finish_reason == "tool_calls"
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    assert isinstance(args.get("city"), str)
    msgs += [
        r.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18C and sunny"},
    ]
    r2 = oai.chat.completions.create(model="claude-sonnet-4", messages=msgs, tools=TOOLS_OAI)
    assert "18C and sunny" in r2.choices[0].message.content
    up = _last_upstream(mock_upstream, "/v1/messages")
    kinds = [b["type"] for m in up["messages"] if isinstance(m["content"], list) for b in m["content"]]
    assert "tool_use" in kinds and "tool_result" in kinds


def test_openai_client_to_anthropic_streamed_tool_call(oai):
    stream = oai.chat.completions.create(
        model="claude-sonnet-4",
        stream=True,
        tools=TOOLS_OAI,
        messages=[{"role": "user", "content": "use tool for Rome"}],
    )
    name, arguments, finish = None, "", None
    for chunk in stream:
        if not chunk.choices:
            continue
        d = chunk.choices[0].delta
        for tc in d.tool_calls or []:
            name = tc.function.name or name
            arguments += tc.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert name == "get_weather" and finish == "tool_calls"
    assert isinstance(json.loads(arguments), dict)


def test_openai_client_image_to_anthropic(oai, mock_upstream):
    r = oai.chat.completions.create(
        model="claude-sonnet-4",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_1PX}"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                ],
            }
        ],
    )
    assert r.choices[0].message.content
    up = _last_upstream(mock_upstream, "/v1/messages")
    blocks = up["messages"][0]["content"]
    srcs = [b["source"] for b in blocks if b["type"] == "image"]
    assert srcs[0] == {"type": "base64", "media_type": "image/png", "data": PNG_1PX}
    assert srcs[1] == {"type": "url", "url": "https://example.com/cat.jpg"}


# ------------------------------------------------------------------ Anthropic client → OpenAI
def test_anthropic_client_to_openai_text_and_stream(anth, mock_upstream):
    m = anth.messages.create(
        model="gpt-4o", max_tokens=40, system="Be brief.", messages=[{"role": "user", "content": "hi from claude code"}]
    )
    assert m.content[0].text == "echo: hi from claude code"
    assert m.stop_reason == "end_turn" and m.usage.input_tokens > 0
    up = _last_upstream(mock_upstream, "/v1/chat/completions")
    assert up["messages"][0] == {"role": "system", "content": "Be brief."}
    with anth.messages.stream(
        model="gpt-4o", max_tokens=40, messages=[{"role": "user", "content": "stream it please"}]
    ) as s:
        pieces = list(s.text_stream)
        final = s.get_final_message()
    assert "".join(pieces) == "echo: stream it please"
    assert final.content[0].text == "echo: stream it please"
    assert final.usage.output_tokens > 0
    up = _last_upstream(mock_upstream, "/v1/chat/completions")
    assert up["stream_options"] == {"include_usage": True}


def test_anthropic_client_to_openai_tool_round_trip(anth, mock_upstream):
    msgs = [{"role": "user", "content": "use tool parallel for Paris and Rome"}]
    m = anth.messages.create(model="gpt-4o", max_tokens=200, tools=TOOLS_ANTH, messages=msgs)
    assert m.stop_reason == "tool_use"
    uses = [b for b in m.content if b.type == "tool_use"]
    assert len(uses) == 2 and all(u.name == "get_weather" for u in uses)
    msgs += [
        {"role": "assistant", "content": [u.model_dump(exclude_none=True) for u in uses]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": uses[0].id, "content": "18C"},
                {"type": "tool_result", "tool_use_id": uses[1].id, "content": "boom", "is_error": True},
            ],
        },
    ]
    m2 = anth.messages.create(model="gpt-4o", max_tokens=200, tools=TOOLS_ANTH, messages=msgs)
    assert "18C" in m2.content[0].text
    up = _last_upstream(mock_upstream, "/v1/chat/completions")
    tool_msgs = [x for x in up["messages"] if x["role"] == "tool"]
    assert [t["tool_call_id"] for t in tool_msgs] == [uses[0].id, uses[1].id]


def test_anthropic_client_streamed_tool_use_from_openai(anth):
    with anth.messages.stream(
        model="gpt-4o", max_tokens=200, tools=TOOLS_ANTH, messages=[{"role": "user", "content": "use tool for Oslo"}]
    ) as s:
        final = s.get_final_message()
    assert final.stop_reason == "tool_use"
    use = [b for b in final.content if b.type == "tool_use"][0]
    assert use.name == "get_weather" and isinstance(use.input, dict)


def test_anthropic_client_image_to_openai(anth, mock_upstream):
    anth.messages.create(
        model="gpt-4o",
        max_tokens=20,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_1PX}},
                    {"type": "text", "text": "describe"},
                ],
            }
        ],
    )
    up = _last_upstream(mock_upstream, "/v1/chat/completions")
    part = [p for p in up["messages"][0]["content"] if p["type"] == "image_url"][0]
    assert part["image_url"]["url"] == f"data:image/png;base64,{PNG_1PX}"


def test_n_greater_than_one_is_rejected_for_anthropic_targets(oai):
    import openai
    import pytest

    with pytest.raises(openai.BadRequestError) as ei:
        oai.chat.completions.create(model="claude-sonnet-4", n=2, messages=[{"role": "user", "content": "x"}])
    assert "n" in ei.value.body["message"]
