"""Errors of the Responses API: plain errors in OpenAI's shape (`{"error": {"message",
"type", "param", "code"}}`); in a stream, the `error` event.

A stream with an encoder ends with `response.failed` (stream_encoder.py), which carries the
response id and the output so far. `stream_error` is for a stream that has none (nothing
was sent before it, so its sequence number is 0): an `error` event with the fields nested
under `error` as the live API sends them, on which the SDK raises `APIError`.
"""

from __future__ import annotations

import orjson

from ...errors import GatewayError
from ..openai.errors import error_body, error_object

__all__ = ["error_body", "stream_error"]


def stream_error(err: GatewayError) -> bytes:
    event = {"type": "error", "error": error_object(err), "sequence_number": 0}
    return b"event: error\ndata: " + orjson.dumps(event) + b"\n\n"
