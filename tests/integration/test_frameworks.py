"""LangChain, pydantic-ai and instructor through a real `lunaroute serve` to the strict mock.

Each framework runs its own client code (message conversion, tool binding, stream assembly,
structured-output parsing) against both listeners, on the same-dialect relay and on the
translated route, so the gateway must produce what each framework expects back and what the
provider's real API accepts (the mock answers 400 to anything else). Answers are scripted where
the framework needs a particular one (tool calls with given arguments, schema-valid JSON text);
otherwise the mock's deterministic `echo:` answer is asserted.
"""

from __future__ import annotations

import operator
from functools import reduce

import instructor
import pytest
from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from pydantic_ai import Agent, NativeOutput

from .frameworks_kit import (
    LISBON,
    LISBON_JSON,
    ROUTES,
    City,
    Route,
    assert_city_schema,
    instructor_client,
    langchain_chat,
    output_format,
    provider_requests,
    pydantic_ai_model,
    system_text,
    tool_choice,
    tool_exchange,
    tool_strict,
    tools_offered,
)

routes = pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"18C and sunny in {city}"


def _assert_tool_round_trip(bodies: list[dict], route: Route, final_text: str, result: str) -> None:
    """Two provider requests: the first offered get_weather; the second sent back the
    provider's own call (same id, same arguments) and the tool's result, which the mock's
    answer quotes."""
    assert len(bodies) == 2
    assert list(tools_offered(bodies[0], route.provider)) == ["get_weather"]
    assert set(tools_offered(bodies[0], route.provider)["get_weather"]["properties"]) == {"city"}
    call, answer = tool_exchange(bodies[1], route.provider)
    assert call == {"id": route.call_id, "name": "get_weather", "arguments": {"city": "Paris"}}
    assert answer == {"id": route.call_id, "content": result}
    assert final_text == f"tool results: get_weather({route.call_id}) = {result}"


# ------------------------------------------------------------------ LangChain
@routes
def test_langchain_invoke(gateway, mock_upstream, route):
    reply = langchain_chat(gateway, route).invoke([SystemMessage("Be brief."), HumanMessage("hello there")])
    assert reply.text == "echo: hello there"
    assert reply.usage_metadata["output_tokens"] == 3
    assert reply.usage_metadata["input_tokens"] > 0
    (body,) = provider_requests(mock_upstream, route)
    assert body["model"] == route.model and not body.get("stream")
    assert system_text(body, route.provider) == "Be brief."


@routes
def test_langchain_stream(gateway, mock_upstream, route):
    chunks = list(langchain_chat(gateway, route).stream("several words to stream back"))
    assert len([c for c in chunks if c.text]) > 2, "the answer did not arrive in pieces"
    whole = reduce(operator.add, chunks)
    assert whole.text == "echo: several words to stream back"
    assert whole.usage_metadata["output_tokens"] == 6
    (body,) = provider_requests(mock_upstream, route)
    assert body["stream"] is True


@routes
def test_langchain_tool_round_trip(gateway, mock_upstream, route):
    mock_upstream.script([route.script_tool_call("get_weather", {"city": "Paris"})])
    llm = langchain_chat(gateway, route).bind_tools([get_weather])
    history = [HumanMessage("What is the weather in Paris?")]
    call_msg = llm.invoke(history)
    assert [(c["name"], c["args"], c["id"]) for c in call_msg.tool_calls] == [
        ("get_weather", {"city": "Paris"}, route.call_id)
    ]
    result = get_weather.invoke(call_msg.tool_calls[0]["args"])
    history += [call_msg, ToolMessage(result, tool_call_id=call_msg.tool_calls[0]["id"])]
    final = llm.invoke(history)
    assert not final.tool_calls
    bodies = provider_requests(mock_upstream, route)
    _assert_tool_round_trip(bodies, route, final.text, "18C and sunny in Paris")
    assert tool_choice(bodies[0], route.provider) in (None, "auto")


@routes
def test_langchain_streamed_tool_call(gateway, mock_upstream, route):
    mock_upstream.script([route.script_tool_call("get_weather", {"city": "Paris"})])
    llm = langchain_chat(gateway, route).bind_tools([get_weather])
    whole = reduce(operator.add, llm.stream("What is the weather in Paris?"))
    assert [(c["name"], c["args"], c["id"]) for c in whole.tool_calls] == [
        ("get_weather", {"city": "Paris"}, route.call_id)
    ]
    (body,) = provider_requests(mock_upstream, route)
    assert body["stream"] is True and list(tools_offered(body, route.provider)) == ["get_weather"]


@routes
def test_langchain_structured_output_json_schema(gateway, mock_upstream, route):
    mock_upstream.script([route.script_text(LISBON_JSON)])
    city = langchain_chat(gateway, route).with_structured_output(City, method="json_schema").invoke("Describe Lisbon")
    assert city == City(**LISBON)
    (body,) = provider_requests(mock_upstream, route)
    fmt = output_format(body, route.provider)
    assert fmt is not None and fmt["type"] == "json_schema", "the provider was not asked for the schema"
    assert_city_schema(fmt["schema"])
    assert not tools_offered(body, route.provider)


@routes
def test_langchain_structured_output_function_calling(gateway, mock_upstream, route):
    mock_upstream.script([route.script_tool_call("City", LISBON)])
    llm = langchain_chat(gateway, route).with_structured_output(City, method="function_calling")
    assert llm.invoke("Describe Lisbon") == City(**LISBON)
    (body,) = provider_requests(mock_upstream, route)
    assert list(tools_offered(body, route.provider)) == ["City"]
    assert_city_schema(tools_offered(body, route.provider)["City"])
    assert tool_choice(body, route.provider) == "City"
    assert output_format(body, route.provider) is None


@routes
def test_langchain_strict_tool(gateway, mock_upstream, route):
    """Both APIs take `strict: true` on a tool (the arguments then always match its schema);
    a route that drops it leaves the caller without the guarantee it asked for."""
    mock_upstream.script([route.script_tool_call("get_weather", {"city": "Paris"})])
    llm = langchain_chat(gateway, route).bind_tools([get_weather], strict=True, tool_choice="get_weather")
    reply = llm.invoke("What is the weather in Paris?")
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [("get_weather", {"city": "Paris"})]
    (body,) = provider_requests(mock_upstream, route)
    assert tool_choice(body, route.provider) == "get_weather"
    assert tool_strict(body, route.provider, "get_weather") is True, (
        f"strict did not reach the {route.provider} provider"
    )


# ------------------------------------------------------------------ pydantic-ai
@routes
def test_pydantic_ai_run(gateway, mock_upstream, route):
    agent = Agent(pydantic_ai_model(gateway, route), system_prompt="Be brief.")
    result = agent.run_sync("hello there")
    assert result.output == "echo: hello there"
    assert result.usage.output_tokens == 3 and result.usage.input_tokens > 0
    (body,) = provider_requests(mock_upstream, route)
    # pydantic-ai may put its own instructions before the agent's system prompt.
    assert system_text(body, route.provider).endswith("Be brief.")


@routes
def test_pydantic_ai_run_stream(gateway, mock_upstream, route):
    agent = Agent(pydantic_ai_model(gateway, route))
    result = agent.run_stream_sync("several words to stream back")
    pieces = list(result.stream_text(delta=True, debounce_by=None))
    assert "".join(pieces) == "echo: several words to stream back"
    assert len(pieces) > 1, "the answer did not arrive in pieces"
    assert result.usage.output_tokens == 6
    (body,) = provider_requests(mock_upstream, route)
    assert body["stream"] is True


@routes
def test_pydantic_ai_tool_plain(gateway, mock_upstream, route):
    mock_upstream.script([route.script_tool_call("get_weather", {"city": "Paris"})])
    agent = Agent(pydantic_ai_model(gateway, route))
    seen: list[str] = []

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """Weather for a city."""
        seen.append(city)
        return f"18C and sunny in {city}"

    result = agent.run_sync("What is the weather in Paris?")
    assert seen == ["Paris"]
    _assert_tool_round_trip(provider_requests(mock_upstream, route), route, result.output, "18C and sunny in Paris")


@routes
def test_pydantic_ai_tool_output(gateway, mock_upstream, route):
    mock_upstream.script([route.script_tool_call("final_result", LISBON)])
    result = Agent(pydantic_ai_model(gateway, route), output_type=City).run_sync("Describe Lisbon")
    assert result.output == City(**LISBON)
    (body,) = provider_requests(mock_upstream, route)
    assert list(tools_offered(body, route.provider)) == ["final_result"]
    assert_city_schema(tools_offered(body, route.provider)["final_result"])
    assert tool_choice(body, route.provider) in ("any", "final_result"), "the output tool was not forced"


@routes
def test_pydantic_ai_streamed_tool_output(gateway, mock_upstream, route):
    mock_upstream.script([route.script_tool_call("final_result", LISBON)])
    result = Agent(pydantic_ai_model(gateway, route), output_type=City).run_stream_sync("Describe Lisbon")
    partials = list(result.stream_output())
    assert partials and partials[-1] == City(**LISBON)
    assert result.get_output() == City(**LISBON)
    (body,) = provider_requests(mock_upstream, route)
    assert body["stream"] is True and list(tools_offered(body, route.provider)) == ["final_result"]


@routes
def test_pydantic_ai_native_output(gateway, mock_upstream, route):
    mock_upstream.script([route.script_text(LISBON_JSON)])
    result = Agent(pydantic_ai_model(gateway, route), output_type=NativeOutput(City)).run_sync("Describe Lisbon")
    assert result.output == City(**LISBON)
    (body,) = provider_requests(mock_upstream, route)
    fmt = output_format(body, route.provider)
    assert fmt is not None and fmt["type"] == "json_schema", "the provider was not asked for the schema"
    assert_city_schema(fmt["schema"])
    assert not tools_offered(body, route.provider)


# ------------------------------------------------------------------ instructor
M = instructor.Mode
# instructor's tool mode (its default) and its JSON modes. Its Anthropic JSON_SCHEMA mode needs an
# SDK whose `messages.create` takes `output_format`; the installed one takes `output_config`
# only, so that mode would silently be JSON and is not listed. instructor's `strict=True` is
# pydantic validation strictness and never reaches the tool, so strict tools are LangChain's test.
INSTRUCTOR_MODES = {"openai": (M.TOOLS, M.JSON_SCHEMA, M.JSON), "anthropic": (M.TOOLS, M.JSON)}
INSTRUCTOR_CASES = [
    pytest.param(route, mode, id=f"{route.id}-{mode.value}")
    for route in ROUTES
    for mode in INSTRUCTOR_MODES[route.client]
]


@pytest.mark.parametrize("route,mode", INSTRUCTOR_CASES)
def test_instructor_response_model(gateway, mock_upstream, route, mode):
    script = route.script_tool_call("City", LISBON) if mode is M.TOOLS else route.script_text(LISBON_JSON)
    mock_upstream.script([script])
    city = instructor_client(gateway, route, mode).create(
        model=route.model,
        max_tokens=512,
        max_retries=1,
        messages=[{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": "Describe Lisbon"}],
        response_model=City,
    )
    assert isinstance(city, City) and city.model_dump() == LISBON
    (body,) = provider_requests(mock_upstream, route)
    fmt = output_format(body, route.provider)
    if mode is M.TOOLS:
        assert list(tools_offered(body, route.provider)) == ["City"]
        assert_city_schema(tools_offered(body, route.provider)["City"])
        assert tool_choice(body, route.provider) == "City"
        assert fmt is None
        return
    assert not tools_offered(body, route.provider)
    if mode is M.JSON_SCHEMA:
        assert fmt is not None and fmt["type"] == "json_schema", "the provider was not asked for the schema"
        assert_city_schema(fmt["schema"])
    elif route.client == "anthropic":
        # instructor's Anthropic JSON mode: the schema is in the system prompt only.
        assert fmt is None and "population" in system_text(body, route.provider)
    elif route.provider == "openai":
        assert fmt == {"type": "json_object"}
    else:
        # Anthropic has no json_object: the gateway asks for a schema admitting any object.
        assert fmt is not None and fmt["type"] == "json_schema" and fmt["schema"]["type"] == "object"


@routes
def test_instructor_partial_stream(gateway, mock_upstream, route):
    # instructor streams partial objects through a tool named after its Partial model.
    mock_upstream.script([route.script_tool_call("PartialCity", LISBON)])
    partials = list(
        instructor_client(gateway, route, M.TOOLS).create_partial(
            model=route.model,
            max_tokens=512,
            max_retries=1,
            messages=[{"role": "user", "content": "Describe Lisbon"}],
            response_model=City,
        )
    )
    assert len(partials) > 1, "the object did not arrive in pieces"
    assert partials[-1].model_dump() == LISBON
    (body,) = provider_requests(mock_upstream, route)
    assert body["stream"] is True and tool_choice(body, route.provider) == "PartialCity"
