"""`POST /v1/embeddings` (OpenAI): checked like the real API, answered deterministically.

Each input's vector is built from the SHA-256 of its text (a token array is read as its
numbers joined by spaces), `dimensions` long (8 when not given), values in [-1, 1). With
`encoding_format: base64` (what the openai SDK asks for by default) a vector is the base64 of
its little-endian float32 values. Usage counts whitespace-separated words of string inputs
and the ids of token inputs.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from typing import Any

from .error_bodies import openai_error
from .replies import JsonReply

DEFAULT_DIMENSIONS = 8
_FIELDS = frozenset(("model", "input", "encoding_format", "dimensions", "user"))


def embedding_vector(text: str, dimensions: int) -> list[float]:
    out: list[float] = []
    block = 0
    while len(out) < dimensions:
        digest = hashlib.sha256(f"{block}:{text}".encode()).digest()
        out.extend(b / 128.0 - 1.0 for b in digest)
        block += 1
    # float32-exact, so the base64 form decodes to the same numbers
    return [struct.unpack("<f", struct.pack("<f", v))[0] for v in out[:dimensions]]


def _is_tokens(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(t, int) and not isinstance(t, bool) for t in value)


def _inputs(value: Any) -> list[Any]:
    """The inputs: a string, a token array, or a list of either."""
    if isinstance(value, str) or (_is_tokens(value) and value):
        return [value]
    return value if isinstance(value, list) else []


def _issue(body: Any) -> tuple[str, str | None] | None:
    """(message, param) of the first problem, as the real API words it; None when valid."""
    if not isinstance(body, dict):
        return "Invalid body: expected a JSON object.", None
    for key in body:
        if key not in _FIELDS:
            return f"Unrecognized request argument supplied: {key}", None
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter", "model"
    inputs = _inputs(body.get("input"))
    if not inputs:
        return "'input' : input must be a string or an array of strings or tokens", "input"
    for item in inputs:
        if not (isinstance(item, str) and item) and not (_is_tokens(item) and item):
            return "'input' : input must be a non-empty string or an array of tokens", "input"
    if body.get("encoding_format", "float") not in ("float", "base64"):
        return "'encoding_format' must be 'float' or 'base64'", "encoding_format"
    dims = body.get("dimensions")
    if dims is not None and (isinstance(dims, bool) or not isinstance(dims, int) or not 1 <= dims <= 3072):
        return "'dimensions' must be an integer between 1 and 3072", "dimensions"
    return None


def embeddings(body: Any, headers: list[tuple[str, str]]) -> JsonReply:
    problem = _issue(body)
    if problem is not None:
        return JsonReply(400, openai_error(400, problem[0], param=problem[1]), headers)
    inputs = _inputs(body["input"])
    dims = body.get("dimensions") or DEFAULT_DIMENSIONS
    as_base64 = body.get("encoding_format") == "base64"
    data, tokens = [], 0
    for i, item in enumerate(inputs):
        text = item if isinstance(item, str) else " ".join(map(str, item))
        tokens += len(text.split())
        vector = embedding_vector(text, dims)
        value: Any = vector
        if as_base64:
            value = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": value})
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return JsonReply(200, {"object": "list", "data": data, "model": body["model"], "usage": usage}, headers)
