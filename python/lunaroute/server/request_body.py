"""The checks every client body gets before anything else looks at it.

Same-dialect passthrough does not run the dialect's full parser (the upstream validates the
rest), so this and the dialect's `validate_light` are what keep a malformed body a 400 on
every endpoint.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..errors import InvalidRequestError


def parse_object(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(f"request body is not valid JSON: {exc.msg}") from None
    if type(data) is not dict:
        raise InvalidRequestError("request body must be a JSON object")
    return data
