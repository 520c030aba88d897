"""The Anthropic Messages dialect (`POST /v1/messages`)."""
from __future__ import annotations

from typing import Any

from ...errors import GatewayError
from ...model import NormalizedRequest, NormalizedResponse
from ..base import TargetOptions
from . import errors as _errors
from . import request as _request
from . import request_build as _build
from . import response as _response
from .stream_decoder import AnthropicStreamDecoder
from .stream_encoder import AnthropicStreamEncoder


class AnthropicDialect:
    name = "anthropic"
    chat_path = "/v1/messages"

    def parse_request(self, data: dict[str, Any]) -> NormalizedRequest:
        return _request.parse_request(data)

    def build_request(self, req: NormalizedRequest, *, model: str, stream: bool, options: TargetOptions) -> dict[str, Any]:
        return _build.build_request(req, model=model, stream=stream, options=options)

    def parse_response(self, data: dict[str, Any]) -> NormalizedResponse:
        return _response.parse_response(data)

    def build_response(self, resp: NormalizedResponse, *, model: str, request: NormalizedRequest) -> dict[str, Any]:
        return _response.build_response(resp, model=model, request=request)

    def stream_decoder(self) -> AnthropicStreamDecoder:
        return AnthropicStreamDecoder()

    def stream_encoder(self, *, model: str, request: NormalizedRequest) -> AnthropicStreamEncoder:
        return AnthropicStreamEncoder(model=model, request=request)

    def error_body(self, err: GatewayError) -> bytes:
        return _errors.error_body(err)

    def parse_upstream_error(self, status: int, body: bytes) -> GatewayError:
        return _errors.parse_upstream_error(status, body)

    def usage(self, data: dict[str, Any]) -> tuple[int, int]:
        return _response.usage_of(data)


__all__ = ["AnthropicDialect", "AnthropicStreamDecoder", "AnthropicStreamEncoder"]
