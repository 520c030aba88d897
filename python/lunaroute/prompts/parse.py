"""Strict validation of the decoded prompts file into `PromptPatches`.

Every problem raises `ConfigError(file, field, reason)` with a path into the file such as
`patches[1].match.model`, and nothing else escapes, whatever the input. `listener` and
`match` are routes.json's, parsed by routing's own code (docs/ROUTING.md).
"""

from __future__ import annotations

from typing import Any

from ..bad_value import describe
from ..routing.parse import _Fields, _match  # the routes.json syntax, shared on purpose
from ..routing.rules import RouteRule, RuleOptions
from .patches import PromptPatch, PromptPatches

TOP_KEYS = frozenset({"patches", "version", "$schema"})
PATCH_KEYS = frozenset(
    {"id", "description", "priority", "enabled", "listener", "match", "prepend", "append", "replace"}
)
EDITS = ("prepend", "append", "replace")


def parse_prompts(data: Any, *, file: str) -> PromptPatches:
    """`{"patches": [...]}` (an empty or absent file: no patches) into the patches in the
    order they apply. Raises `ConfigError` naming the file, the field and the reason."""
    if data is None:
        return PromptPatches()
    f = _Fields(file)
    top = f.obj(data, "", TOP_KEYS)
    raw = top.get("patches", [])
    if not isinstance(raw, list):
        f.fail("patches", f"must be a list, got {describe(raw)}")
    patches: list[PromptPatch] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(raw):
        patch = _patch(f, item, index)
        if patch.id in first_index:
            f.fail(f"patches[{index}].id", f"duplicate id {patch.id!r} (also patches[{first_index[patch.id]}])")
        first_index[patch.id] = index
        patches.append(patch)
    return PromptPatches(patches)


def _patch(f: _Fields, value: Any, index: int) -> PromptPatch:
    field = f"patches[{index}]"
    p = f.obj(value, field, PATCH_KEYS)
    if "id" not in p:
        f.fail(f"{field}.id", "missing")
    patch_id = f.string(p["id"], f"{field}.id")
    if "description" in p and not isinstance(p["description"], str):
        f.fail(f"{field}.description", f"must be a string, got {describe(p['description'])}")
    listener = p.get("listener")
    if listener is not None:
        listener = f.string(listener, f"{field}.listener")
    texts = {name: f.string(p[name], f"{field}.{name}") for name in EDITS if p.get(name) is not None}
    if not texts:
        f.fail(field, 'nothing to do: give "prepend", "append" or "replace"')
    if "replace" in texts and len(texts) > 1:
        other = next(name for name in texts if name != "replace")
        f.fail(f"{field}.{other}", 'cannot be combined with "replace" (write the whole prompt in "replace")')
    selector = RouteRule(
        id=patch_id,
        priority=f.integer(p.get("priority", 0), f"{field}.priority"),
        listener=listener,
        match=_match(f, p.get("match"), f"{field}.match"),
        targets=(),
        fallbacks=[],
        options=RuleOptions(),
        order=index,
    )
    return PromptPatch(
        id=patch_id,
        selector=selector,
        prepend=texts.get("prepend"),
        append=texts.get("append"),
        replace=texts.get("replace"),
        enabled=f.boolean(p.get("enabled", True), f"{field}.enabled"),
    )
