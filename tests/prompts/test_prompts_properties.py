"""Properties: whatever valid request a client sends and whatever patches match it, the
patched body still parses with its dialect's own parser, the system prompt reads as the
patches say, and the rest of the request is untouched."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.dialects import get_dialect

from .prompts_testkit import apply, patches_of

SEP = "\n\n"
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
PATCH_TEXT = TEXT.filter(str.strip)  # prompts.json refuses a blank patch
CACHE = st.sampled_from([None, {"type": "ephemeral"}, {"type": "ephemeral", "ttl": "1h"}])


def _part(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


@st.composite
def openai_system_run(draw: st.DrawFn) -> list[dict[str, Any]]:
    """The leading system/developer messages: string or text-part content."""
    run = []
    for _ in range(draw(st.integers(0, 3))):
        role = draw(st.sampled_from(["system", "developer"]))
        if draw(st.booleans()):
            content: Any = draw(TEXT)  # an empty prompt among several joins differently: unit-tested
        else:
            content = [_part(t) for t in draw(st.lists(TEXT, min_size=1, max_size=3))]
        run.append({"role": role, "content": content})
    return run


def _openai_text(message: dict[str, Any]) -> str:
    content = message["content"]
    return content if isinstance(content, str) else SEP.join(p["text"] for p in content)


@st.composite
def anthropic_system(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["none", "string", "blocks"]))
    if kind == "none":
        return None
    if kind == "string":
        return draw(st.text(max_size=12))
    blocks = []
    for text in draw(st.lists(TEXT, max_size=3)):
        block = _part(text)
        cache = draw(CACHE)
        if cache is not None:
            block["cache_control"] = cache
        blocks.append(block)
    return blocks


EDITS = st.fixed_dictionaries(
    {}, optional={"prepend": PATCH_TEXT, "append": PATCH_TEXT, "replace": PATCH_TEXT, "priority": st.integers(-2, 2)}
).filter(lambda d: ("replace" in d) != ("prepend" in d or "append" in d))
PATCHES = st.lists(EDITS, min_size=1, max_size=4)


def expected(before: str, patches: list[dict[str, Any]]) -> str:
    """The joined system text the patches should leave, applied in (priority, file order)."""
    text = before
    for p in sorted(patches, key=lambda p: p.get("priority", 0)):  # sorted() is stable: file order
        if "replace" in p:
            text = p["replace"]
        if "prepend" in p:
            text = p["prepend"] + SEP + text if text else p["prepend"]
        if "append" in p:
            text = text + SEP + p["append"] if text else p["append"]
    return text


def _file(patches: list[dict[str, Any]]) -> Any:
    return patches_of(*({"id": f"p{i}", **p} for i, p in enumerate(patches)))


@settings(max_examples=300, deadline=None)
@given(run=openai_system_run(), patches=PATCHES, stream=st.booleans())
def test_openai_patched_body_parses_and_reads_as_patched(
    run: list[dict[str, Any]], patches: list[dict[str, Any]], stream: bool
) -> None:
    turns = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "yo"},
        {"role": "user", "content": "?"},
    ]
    body = {"model": "gpt-4o", "messages": [*run, *turns], "temperature": 0.5, "stream": stream}
    sent = copy.deepcopy(body)
    done = apply(_file(patches), body)
    assert done is not None and body == sent
    parsed = get_dialect("openai").parse_request(done.data)
    assert parsed.system_text() == expected(SEP.join(_openai_text(m) for m in run), patches)
    assert [m.content for m in parsed.messages] == ["hi", "yo", "?"]
    assert {k: v for k, v in done.data.items() if k != "messages"} == {k: v for k, v in sent.items() if k != "messages"}


@settings(max_examples=300, deadline=None)
@given(system=anthropic_system(), patches=PATCHES)
def test_anthropic_patched_body_parses_and_reads_as_patched(system: Any, patches: list[dict[str, Any]]) -> None:
    body: dict[str, Any] = {"model": "claude-x", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]}
    if system is not None:
        body["system"] = system
    sent = copy.deepcopy(body)
    done = apply(_file(patches), body, dialect="anthropic")
    assert done is not None and body == sent
    parsed = get_dialect("anthropic").parse_request(done.data)
    before = system if isinstance(system, str) else SEP.join(b["text"] for b in system or [])
    assert parsed.system_text() == expected(before, patches)
    assert {k: v for k, v in done.data.items() if k != "system"} == {k: v for k, v in sent.items() if k != "system"}
    if isinstance(system, list):
        # every block the client sent that survives (no replace) keeps its cache_control
        kept = [b for b in done.data["system"] if "cache_control" in b]
        if not any("replace" in p for p in patches):
            assert kept == [b for b in system if "cache_control" in b]
        elif any("cache_control" in b for b in system):
            assert kept
