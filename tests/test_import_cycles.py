"""The subpackages of lunaroute import each other without cycles.

A cycle between subpackages is what forces function-level imports and import-order bugs, so
every import counts here: module level, inside functions, under `if TYPE_CHECKING:`. Each
module maps to its top-level node (`lunaroute.config.loader` → `lunaroute.config`; a top-level
module such as `lunaroute.errors` is its own node), and the node graph must be acyclic.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "python" / "lunaroute"

# (importing node, imported node, "module:line" of the import statement)
Edge = tuple[str, str, str]


def module_name(path: Path, root: Path) -> tuple[str, bool]:
    """(dotted name, is a package) of a source file under the package directory `root`."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def imported_modules(tree: ast.AST, name: str, is_package: bool, modules: set[str]) -> Iterator[tuple[str, int]]:
    """Every module an import statement anywhere in `tree` names, absolute, with its line.

    `modules` (every module of the package) tells `from pkg import sub` (a submodule) from
    `from pkg import value` (an attribute of pkg).
    """
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base = ".".join(base_parts[: len(base_parts) - (node.level - 1)])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield (sub if sub in modules else target), node.lineno


def node_of(module: str, top: str) -> str | None:
    """The top-level node of a module inside the package `top`, None for outside modules."""
    parts = module.split(".")
    if parts[0] != top:
        return None
    return ".".join(parts[:2])


def import_edges(root: Path) -> list[Edge]:
    """Every import from one node to another."""
    files = {path: module_name(path, root) for path in sorted(root.rglob("*.py"))}
    modules = {name for name, _is_package in files.values()}
    edges: list[Edge] = []
    for path, (name, is_package) in files.items():
        source = node_of(name, root.name)
        tree = ast.parse(path.read_bytes(), filename=str(path))
        for target, line in imported_modules(tree, name, is_package, modules):
            dest = node_of(target, root.name)
            if dest is not None and source is not None and dest != source:
                edges.append((source, dest, f"{name}:{line}"))
    return edges


def find_cycles(edges: list[Edge]) -> list[list[str]]:
    """One cycle [a, b, ..., a] for each group of nodes that reach each other (empty: acyclic)."""
    graph: dict[str, set[str]] = {}
    for src, dest, _where in edges:
        graph.setdefault(src, set()).add(dest)
        graph.setdefault(dest, set())

    def reachable(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    reach = {node: reachable(node) for node in graph}
    cycles: list[list[str]] = []
    grouped: set[str] = set()
    for start in sorted(graph):
        if start in grouped or start not in reach[start]:
            continue
        group = {n for n in reach[start] if start in reach[n]}
        grouped |= group
        cycles.append(_shortest_cycle(start, graph, group))
    return cycles


def _shortest_cycle(start: str, graph: dict[str, set[str]], group: set[str]) -> list[str]:
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & group):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if nxt not in parent:
                    parent[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"{start} is in a cycle group but no cycle was found")


def describe_cycle(cycle: list[str], edges: list[Edge]) -> str:
    lines = [" -> ".join(cycle)]
    for src, dest in zip(cycle, cycle[1:], strict=False):
        where = sorted({w for s, d, w in edges if (s, d) == (src, dest)})
        lines.append(f"  {src} -> {dest}: {', '.join(where)}")
    return "\n".join(lines)


def test_subpackages_import_without_cycles() -> None:
    edges = import_edges(PACKAGE_ROOT)
    assert {"lunaroute.config", "lunaroute.routing", "lunaroute.server"} <= {src for src, _d, _w in edges}, (
        "the subpackages' imports were not found: is PACKAGE_ROOT right?"
    )
    cycles = find_cycles(edges)
    assert not cycles, "import cycles between subpackages:\n" + "\n".join(describe_cycle(c, edges) for c in cycles)


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_every_cycle_is_found_and_named_with_its_imports(tmp_path: Path) -> None:
    pkg = _write(
        tmp_path / "demo",
        {
            "__init__.py": "",
            "errors.py": "",
            "a/__init__.py": "",
            "a/one.py": "from ..errors import E\n\ndef f():\n    from ..b import thing\n",
            "b/__init__.py": "from .two import thing\n",
            "b/two.py": "from demo.a.one import f\n",
            "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .d import x\n",
            "d.py": "from . import c\n",
        },
    )
    edges = import_edges(pkg)
    cycles = find_cycles(edges)
    assert cycles == [["demo.a", "demo.b", "demo.a"], ["demo.c", "demo.d", "demo.c"]]
    message = describe_cycle(cycles[0], edges)
    assert "demo.a.one:4" in message and "demo.b.two:1" in message


def test_relative_imports_resolve_to_their_node(tmp_path: Path) -> None:
    pkg = _write(
        tmp_path / "demo",
        {
            "__init__.py": "from . import errors\n__version__ = '1'\n",
            "errors.py": "",
            "x/__init__.py": "from .. import errors, __version__\nfrom ..y import z\n",
            "x/deep/__init__.py": "",
            "x/deep/mod.py": "from ...y.z import w\nimport demo.errors\nimport os\n",
            "y/__init__.py": "",
            "y/z.py": "from ..errors import E\n",
        },
    )
    edges = import_edges(pkg)
    assert {(src, dest) for src, dest, _where in edges} == {
        ("demo", "demo.errors"),
        ("demo.x", "demo"),
        ("demo.x", "demo.errors"),
        ("demo.x", "demo.y"),
        ("demo.y", "demo.errors"),
    }
    assert find_cycles(edges) == []
