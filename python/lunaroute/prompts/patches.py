"""Validated prompts.json patches, and applying them to one request.

A patch selects requests exactly like a routes.json rule (`listener`, `match`): its selector
*is* a routing rule without targets, tested by routing's own matcher, so the two files can
never disagree about what a condition means. Every enabled patch that matches applies, in
(priority, file order), each one to the result of the ones before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from ..routing.request import RouteRequest
from ..routing.rules import RouteRule
from ..routing.table import _matches, _why_not  # the routing table's own tests, shared on purpose


class SystemPatcher(Protocol):
    """What applying needs of a dialect (`Dialect` has it; this package may not import
    dialects, which depend on config, which loads prompts.json)."""

    name: str

    def patch_system(
        self, data: dict[str, Any], prepend: str | None, append: str | None, replace: str | None
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class PromptPatch:
    id: str
    selector: RouteRule  # listener + match; priority and order sort the patches
    prepend: str | None = None
    append: str | None = None
    replace: str | None = None
    enabled: bool = True

    def edit(self, dialect: SystemPatcher, data: dict[str, Any]) -> None:
        dialect.patch_system(data, self.prepend, self.append, self.replace)


@dataclass(frozen=True, slots=True)
class Patched:
    """The request as it goes upstream after its patches (the client's own stays untouched)."""

    body: bytes
    data: dict[str, Any]
    ids: tuple[str, ...]


class PromptPatches:
    """The patches of one config load, in the order they apply. Falsy when there are none
    enabled, so the request path skips the stage with one test."""

    __slots__ = ("patches", "_active")

    def __init__(self, patches: list[PromptPatch] | tuple[PromptPatch, ...] = ()) -> None:
        self.patches: tuple[PromptPatch, ...] = tuple(
            sorted(patches, key=lambda p: (p.selector.priority, p.selector.order))
        )
        self._active = tuple(p for p in self.patches if p.enabled)

    def __bool__(self) -> bool:
        return bool(self._active)

    def __len__(self) -> int:
        return len(self.patches)

    def __iter__(self) -> Iterator[PromptPatch]:
        return iter(self.patches)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PromptPatches) and self.patches == other.patches

    def __repr__(self) -> str:
        return f"PromptPatches({[p.id for p in self.patches]})"

    def matching(self, req: RouteRequest) -> list[PromptPatch]:
        return [p for p in self._active if _matches(p.selector, req)]

    def apply(self, dialect: SystemPatcher, req: RouteRequest, data: dict[str, Any]) -> Patched | None:
        """The patched request, or None when no patch matches (the body then goes upstream as
        it came, byte for byte). `req.body` is what conditions such as `has_tools` read: the
        request as the client sent it. Raises InvalidRequestError when a matching patch
        cannot edit the request's system prompt."""
        chosen = self.matching(req)
        if not chosen:
            return None
        patched = dict(data)  # the dialects replace what they change: `data` stays as sent
        for patch in chosen:
            patch.edit(dialect, patched)
        return Patched(orjson.dumps(patched), patched, tuple(p.id for p in chosen))

    def explain(self, req: RouteRequest) -> dict[str, Any]:
        """Which patches apply to `req` and why the others do not (for `route --dry-run`)."""
        applied: list[str] = []
        skipped: list[dict[str, str]] = []
        for patch in self.patches:
            reason = "disabled" if not patch.enabled else _why_not(patch.selector, req)
            if reason is None:
                applied.append(patch.id)
            else:
                skipped.append({"patch_id": patch.id, "reason": reason})
        return {"applied": applied, "skipped": skipped}
