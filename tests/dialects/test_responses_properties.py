"""Property tests: any valid Responses API request translates into a request the strict
validator of each provider dialect accepts (tests/mock_upstream/validators.py), and reads
back as the same conversation; any malformed body is an InvalidRequestError and nothing
else."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lunaroute.dialects import TargetOptions, client_dialect, get_dialect
from lunaroute.dialects._ids import anthropic_tool_id
from lunaroute.errors import InvalidRequestError

from .helpers import upstream_validator
from .responses_strategies import responses_request
from .strategies import JSON, mutated

RESPONSES = client_dialect("responses")
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _calls(req: Any, sanitize: bool = False) -> list[tuple[str, str]]:
    """(tool id, name) of every call, and the ids every tool result answers, in order."""
    out = []
    for m in req.messages:
        for b in m.blocks():
            if b.kind == "tool_use":
                out.append((anthropic_tool_id(b.id) if sanitize else b.id, b.name))
            elif b.kind == "tool_result":
                out.append((anthropic_tool_id(b.tool_use_id) if sanitize else b.tool_use_id, "result"))
    return out


@SETTINGS
@given(responses_request(), st.sampled_from(["openai", "openai_compatible"]), st.booleans())
def test_responses_requests_translate_to_valid_openai_requests(
    body: dict[str, Any], provider_type: str, stream: bool
) -> None:
    req = RESPONSES.parse_request(body)
    model = "o3" if req.reasoning_effort else "gpt-4o"
    out = get_dialect("openai").build_request(
        req, model=model, stream=stream, options=TargetOptions(provider_type=provider_type)
    )
    assert upstream_validator("openai")(out) == []
    if stream:
        assert out["stream_options"] == {"include_usage": True}
    back = get_dialect("openai").parse_request(out)
    assert _calls(back) == _calls(req)
    assert back.params.max_tokens == body.get("max_output_tokens")


@SETTINGS
@given(responses_request(), st.booleans(), st.booleans())
def test_responses_requests_translate_to_valid_anthropic_requests(
    body: dict[str, Any], thinking: bool, stream: bool
) -> None:
    req = RESPONSES.parse_request(body)
    options = TargetOptions(supports_thinking=thinking, provider_type="anthropic")
    out = get_dialect("anthropic").build_request(req, model="claude-sonnet-4-5", stream=stream, options=options)
    assert upstream_validator("anthropic")(out) == []
    back = get_dialect("anthropic").parse_request(out)
    assert _calls(back) == _calls(req, sanitize=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(JSON, mutated(responses_request())))
def test_malformed_bodies_are_invalid_request_errors_only(body: Any) -> None:
    try:
        if type(body) is dict:
            RESPONSES.validate_light(body)
        RESPONSES.parse_request(body)
    except InvalidRequestError as err:
        assert err.status == 400 and err.message
