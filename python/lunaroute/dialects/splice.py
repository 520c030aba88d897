"""Same-dialect passthrough: rewrite only what must change in the raw request bytes.

The contract promises the body goes upstream byte-for-byte except the model name, so the
body is never re-serialized: the top-level `"model"` value is located by the `scan`
kernel's `top_level_span` (one native call that jumps between JSON structural bytes with the
SIMD delimiter scan) and spliced.
"""

from __future__ import annotations

import orjson

from ..kernels import top_level_span


def find_top_level_value(body: bytes, key: bytes) -> tuple[int, int] | None:
    """The span of top-level key `key`'s value, only when that value is a string."""
    span = top_level_span(body, key)
    if span is None or body[span[0]] != 0x22:
        return None
    return span


def replace_model(body: bytes, new_model: str) -> bytes:
    span = find_top_level_value(body, b"model")
    if span is None:  # not reachable for bodies the pipeline validated; keep it safe anyway
        data = orjson.loads(body)
        data["model"] = new_model
        return orjson.dumps(data)
    s, e = span
    return body[:s] + orjson.dumps(new_model) + body[e:]


def add_top_level_field(body: bytes, key: str, value: object) -> bytes:
    """Append `"key": value` to the top-level object (the key must not be present)."""
    end = body.rstrip()
    if not end.endswith(b"}"):
        data = orjson.loads(body)
        data[key] = value
        return orjson.dumps(data)
    close = len(end) - 1
    inner = end[:close].rstrip()
    sep = b"" if inner.endswith(b"{") else b","
    return inner + sep + orjson.dumps(key) + b":" + orjson.dumps(value) + b"}"
