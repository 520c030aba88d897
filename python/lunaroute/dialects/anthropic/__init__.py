"""The Anthropic Messages dialect (`POST /v1/messages`)."""

from __future__ import annotations

from ..base import PackageDialect
from . import errors as _errors
from . import request as _request
from . import request_build as _build
from . import response as _response
from .stream_decoder import AnthropicStreamDecoder
from .stream_encoder import AnthropicStreamEncoder
from .wire import AnthropicWire


class AnthropicDialect(AnthropicWire, PackageDialect):
    name = "anthropic"
    request_module = _request
    build_module = _build
    response_module = _response
    errors_module = _errors
    decoder_class = AnthropicStreamDecoder
    encoder_class = AnthropicStreamEncoder


__all__ = ["AnthropicDialect", "AnthropicStreamDecoder", "AnthropicStreamEncoder"]
