"""The OpenAI Chat Completions dialect (`POST /v1/chat/completions`)."""

from __future__ import annotations

from ..base import PackageDialect
from . import errors as _errors
from . import request as _request
from . import request_build as _build
from . import response as _response
from .stream_decoder import OpenAIStreamDecoder
from .stream_encoder import OpenAIStreamEncoder
from .wire import OpenAIWire


class OpenAIDialect(OpenAIWire, PackageDialect):
    name = "openai"
    request_module = _request
    build_module = _build
    response_module = _response
    errors_module = _errors
    decoder_class = OpenAIStreamDecoder
    encoder_class = OpenAIStreamEncoder


__all__ = ["OpenAIDialect", "OpenAIStreamDecoder", "OpenAIStreamEncoder"]
