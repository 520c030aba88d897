"""The checks every client body gets before anything else looks at it.

Same-dialect passthrough does not run the dialect's full parser (the upstream validates the
rest), so these few checks are what keeps a malformed body a 400 on every endpoint.
"""

from __future__ import annotations

import orjson

from ..errors import InvalidRequestError


def parse_object(body: bytes) -> dict:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(f"request body is not valid JSON: {exc.msg}") from None
    if type(data) is not dict:
        raise InvalidRequestError("request body must be a JSON object")
    return data


def require_model_and_messages(data: dict) -> str:
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequestError("'model' is required and must be a non-empty string", param="model")
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequestError("'messages' must be a non-empty array", param="messages")
    return model


def validate_light(dialect_name: str, data: dict) -> tuple[str, bool]:
    """(model, stream) of a chat request, after the checks every dialect needs."""
    model = require_model_and_messages(data)
    stream = data.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise InvalidRequestError("'stream' must be a boolean", param="stream")
    if dialect_name == "anthropic" and type(data.get("max_tokens")) is not int:
        raise InvalidRequestError("'max_tokens' is required and must be an integer", param="max_tokens")
    return model, stream
