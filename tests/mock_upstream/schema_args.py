"""Deterministic example values built from a JSON Schema (the arguments of mock tool calls).

The same schema and variant always give the same value, so a test can predict exactly what
arguments the mock will "decide" to call a tool with.
"""

from __future__ import annotations

from typing import Any

_MAX_DEPTH = 6


def example_for_schema(schema: Any, *, variant: int = 1) -> dict[str, Any]:
    """Arguments object for a tool whose parameters/input_schema is `schema`."""
    value = _example(schema, "value", variant, 0)
    return value if isinstance(value, dict) else {}


def _example(schema: Any, name: str, variant: int, depth: int) -> Any:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return f"{name}-{variant}"
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[(variant - 1) % len(enum)]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            non_null = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return _example((non_null or options)[0], name, variant, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        props = schema.get("properties")
        if not isinstance(props, dict):
            return {}
        return {key: _example(sub, key, variant, depth + 1) for key, sub in props.items()}
    if kind == "array":
        count = schema.get("minItems") if isinstance(schema.get("minItems"), int) else 1
        item = _example(schema.get("items"), name, variant, depth + 1)
        return [item for _ in range(max(1, min(count, 8)))]
    if kind == "integer":
        low = schema.get("minimum")
        return low if isinstance(low, int) and not isinstance(low, bool) else variant
    if kind == "number":
        low = schema.get("minimum")
        return low if isinstance(low, (int, float)) and not isinstance(low, bool) else variant + 0.5
    if kind == "boolean":
        return variant % 2 == 1
    if kind == "null":
        return None
    return _string_example(schema, name, variant)


def _string_example(schema: dict[str, Any], name: str, variant: int) -> str:
    fmt = schema.get("format")
    if fmt == "date":
        return f"2024-01-0{min(variant, 9)}"
    if fmt == "date-time":
        return f"2024-01-0{min(variant, 9)}T12:00:00Z"
    if fmt == "email":
        return f"user{variant}@example.com"
    if fmt in ("uri", "url"):
        return f"https://example.com/{name}/{variant}"
    return f"{name}-{variant}"
