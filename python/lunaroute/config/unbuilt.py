"""Config fields LunaRoute accepts but does not act on yet.

Each is parsed and validated like any other field, so a config written for the full feature
set (CONTRACT §3, the spec's examples) loads unchanged, but nothing that serves requests acts
on it. A file
that asks for one (sets it to anything but its inert value) gets one warning per field at
load time, so nobody believes a setting works when it does not.

When a feature lands, delete its rows here and its "not built yet" marks in docs/CONFIG.md,
docs/ROUTING.md and the `init` template.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .reader import join

log = logging.getLogger("lunaroute.config")


@dataclass(frozen=True, slots=True)
class Unbuilt:
    stem: str  # the file: server, routes, keys, budgets, prompts
    field: str  # dotted path; `name[]` walks every element of a list; "" is the whole file
    feature: str  # what would act on the field
    # The value that asks for nothing: a field absent, null or equal to it is silent (None:
    # any value asks). For an on/off switch this is "off" even where the contract's default
    # is on (sessions.enabled): only a file that writes the switch on is warned about.
    inert: Any


UNBUILT: tuple[Unbuilt, ...] = (
    Unbuilt("server", "performance.buffer_pool_size", "performance tuning", 1000),
    Unbuilt("server", "performance.buffer_size_kb", "performance tuning", 64),
    Unbuilt("server", "performance.stream_flush_interval_ms", "stream chunk coalescing", 0),
    Unbuilt("server", "performance.arena_size_mb", "performance tuning", 100),
    Unbuilt("server", "providers[].connection_pool.min_idle", "warm idle upstream connections", 0),
    Unbuilt("routes", "rules[].options.strip_unsupported_tools", "stripping unsupported tools", False),
)


def warn_unbuilt(docs: Mapping[str, Any], sources: Mapping[str, Path]) -> None:
    """Log one warning for each unbuilt field the decoded files ask for.

    `docs` are the decoded (already validated) files by stem, `sources` their paths.
    """
    for row in UNBUILT:
        if row.stem not in docs:
            continue
        file = sources[row.stem].name
        for field, value in _values(docs[row.stem], row.field.split(".") if row.field else [], ""):
            if value is None or value == row.inert:
                continue
            where = f"{file}: {field}" if field else file
            log.warning("%s: not implemented yet (%s): accepted, but it has no effect", where, row.feature)


def _values(node: Any, steps: list[str], path: str) -> Iterator[tuple[str, Any]]:
    """(field path, value) of every place `steps` reaches in `node`; absent branches yield nothing."""
    if not steps:
        yield path, node
        return
    step, rest = steps[0], steps[1:]
    key = step.removesuffix("[]")
    if not isinstance(node, dict) or key not in node:
        return
    child, child_path = node[key], join(path, key)
    if step.endswith("[]"):
        for i, item in enumerate(child if isinstance(child, list) else []):
            yield from _values(item, rest, join(child_path, i))
    else:
        yield from _values(child, rest, child_path)
