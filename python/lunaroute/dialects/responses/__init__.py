"""The OpenAI Responses API (`POST /v1/responses`), for clients only: no provider is called
with it, so every request is translated for the routed provider's dialect (Chat
Completions or Messages) and its answer and stream translated back (CONTRACT §8,
docs/TRANSLATION.md "Responses API")."""

from __future__ import annotations

from ..base import ClientPackageDialect
from . import errors as _errors
from . import request as _request
from . import response as _response
from .stream_encoder import ResponsesStreamEncoder
from .wire import ResponsesWire


class ResponsesDialect(ResponsesWire, ClientPackageDialect):
    name = "responses"
    request_module = _request
    response_module = _response
    errors_module = _errors
    encoder_class = ResponsesStreamEncoder


__all__ = ["ResponsesDialect", "ResponsesStreamEncoder"]
