"""Property tests: any valid request of one dialect becomes a request the other dialect's
strict validator (tests/mock_upstream/validators.py) accepts; any malformed body gives an
InvalidRequestError and nothing else."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lunaroute.dialects import TargetOptions, get_dialect
from lunaroute.errors import InvalidRequestError

from .helpers import upstream_validator
from .strategies import JSON, anthropic_request, mutated, openai_request

OPENAI = get_dialect("openai")
ANTHROPIC = get_dialect("anthropic")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(openai_request())
def test_valid_openai_requests_are_valid_for_openai(body: dict[str, Any]) -> None:
    # the strategy itself must produce what the real API accepts, or the test below proves nothing
    assert upstream_validator("openai")(body) == []
    OPENAI.parse_request(body)


@SETTINGS
@given(anthropic_request())
def test_valid_anthropic_requests_are_valid_for_anthropic(body: dict[str, Any]) -> None:
    assert upstream_validator("anthropic")(body) == []
    ANTHROPIC.parse_request(body)


@SETTINGS
@given(openai_request(), st.booleans())
def test_openai_requests_translate_to_valid_anthropic_requests(body: dict[str, Any], stream: bool) -> None:
    req = OPENAI.parse_request(body)
    if (req.params.n or 1) > 1:
        try:
            ANTHROPIC.build_request(req, model="claude-sonnet-4-5", stream=stream, options=TargetOptions())
        except InvalidRequestError as err:
            assert err.param == "n"
            return
        raise AssertionError("n > 1 must be refused for an Anthropic provider")
    out = ANTHROPIC.build_request(req, model="claude-sonnet-4-5", stream=stream, options=TargetOptions())
    assert upstream_validator("anthropic")(out) == []
    assert out["max_tokens"] == (req.params.max_tokens or 4096)
    if "temperature" in out:
        assert 0 <= out["temperature"] <= 1
    # the translated request reads back as the same conversation
    back = ANTHROPIC.parse_request(out)
    assert _tool_pairs(back) == _tool_pairs(req, sanitize=True)


@SETTINGS
@given(anthropic_request(), st.sampled_from(["openai", "openai_compatible"]), st.booleans())
def test_anthropic_requests_translate_to_valid_openai_requests(
    body: dict[str, Any], provider_type: str, stream: bool
) -> None:
    req = ANTHROPIC.parse_request(body)
    out = OPENAI.build_request(req, model="gpt-4o", stream=stream, options=TargetOptions(provider_type=provider_type))
    assert upstream_validator("openai")(out) == []
    assert "top_k" not in out
    limit_field = "max_tokens" if provider_type == "openai_compatible" else "max_completion_tokens"
    assert out[limit_field] == req.params.max_tokens
    if stream:
        assert out["stream_options"] == {"include_usage": True}
    back = OPENAI.parse_request(out)
    assert _tool_pairs(back) == _tool_pairs(req)


@SETTINGS
@given(st.one_of(openai_request().map(lambda b: (b, "openai")), anthropic_request().map(lambda b: (b, "anthropic"))))
def test_same_dialect_rebuild_is_identity(case: tuple[dict[str, Any], str]) -> None:
    body, name = case
    dialect = get_dialect(name)
    req = dialect.parse_request(body)
    out = dialect.build_request(req, model=body["model"], stream=req.stream, options=TargetOptions())
    assert dialect.parse_request(out).__class__ is req.__class__
    expected = dict(body)
    if expected.get("stream") is False:
        del expected["stream"]  # "not streaming" is said by leaving the field out
    if name == "openai" and req.stream:
        expected["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
    if name == "openai":
        # system/developer messages return to where they stood; tool messages stay in order
        assert _openai_canonical(out) == _openai_canonical(expected)
    else:
        assert out == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(JSON, mutated(openai_request()), mutated(anthropic_request())), st.sampled_from(["openai", "anthropic"])
)
def test_malformed_bodies_give_invalid_request_error_only(body: Any, name: str) -> None:
    dialect = get_dialect(name)
    try:
        req = dialect.parse_request(body)
    except InvalidRequestError as err:
        assert err.status == 400 and err.message
        return
    # whatever parsed must also build for both targets, or be refused cleanly
    for target in ("openai", "anthropic"):
        try:
            get_dialect(target).build_request(req, model="m", stream=req.stream, options=TargetOptions())
        except InvalidRequestError:
            pass


def _tool_pairs(req: Any, sanitize: bool = False) -> list[tuple[str, str]]:
    """(tool_use id, name) and ("result", tool_use_id) in conversation order."""
    from lunaroute.dialects._ids import anthropic_tool_id

    fix = anthropic_tool_id if sanitize else (lambda x: x)
    out = []
    for m in req.messages:
        if type(m.content) is str:
            continue
        for b in m.content:
            if b.kind == "tool_use":
                out.append((fix(b.id), b.name))
            elif b.kind == "tool_result":
                out.append(("result", fix(b.tool_use_id)))
    return out


def _openai_canonical(body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    msgs = []
    for m in body["messages"]:
        m = dict(m)
        if m.get("role") == "assistant" and m.get("tool_calls") and not m.get("content"):
            m["content"] = None  # "" and null are the same empty text next to tool calls
        msgs.append(m)
    out["messages"] = msgs
    return out
