"""What dialects provide: the interfaces the server pipeline, egress and tenancy call.

A dialect converts between its wire format and the normalized model (lunaroute.model). A
client dialect (`ClientDialect`) parses requests and writes answers, streams and errors; a
provider dialect (`ProviderDialect`) writes requests and reads answers, streams and errors.
OpenAI Chat Completions and Anthropic Messages are both (`Dialect`); the Responses API is a
client dialect only: no provider is called with it. Same-dialect routes do not translate
(the pipeline relays bytes); `build_*` still round-trip for them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import GatewayError, InvalidRequestError
from ..model import NormalizedRequest, NormalizedResponse, NormalizedStreamEvent

if TYPE_CHECKING:
    from ..config.schema import ProviderConfig

log = logging.getLogger("lunaroute.dialects")

# One SSE event as the kernel framer (kernels.SseFramer) yields it: (type, data, id, retry).
SseEvent = tuple[str, str, str, int | None]


@dataclass(slots=True)
class TargetOptions:
    """What the target provider accepts, for `build_request`.

    - `default_max_tokens`: sent when the client gave no limit and the dialect needs one
      (Anthropic requires `max_tokens`).
    - `supports_thinking`: whether thinking blocks / the `thinking` config may be sent
      (Anthropic targets; OpenAI never receives them).
    - `provider_type`: "openai", "anthropic" or "openai_compatible". An "openai" target gets
      the limit as `max_completion_tokens`, an "openai_compatible" one as `max_tokens`
      (local servers know only the older name); "" means the dialect's own provider.
    """

    default_max_tokens: int = 4096
    supports_thinking: bool = True
    provider_type: str = ""


class StreamDecoder(Protocol):
    """Upstream SSE events of one dialect → normalized stream events. One per stream."""

    def feed(self, event_type: str, data: str) -> list[NormalizedStreamEvent]:
        """One SSE event (type and data as the framer gives them). Never raises: malformed
        input becomes a StreamError event."""
        ...

    def finish(self) -> list[NormalizedStreamEvent]:
        """The upstream ended. Empty for a well-formed stream; otherwise the events that close
        it (a MessageStop when only the final marker was missing, a StreamError when the
        stream was cut before its end)."""
        ...


class StreamEncoder(Protocol):
    """Normalized stream events → SSE bytes in one dialect. One per stream."""

    def encode(self, events: list[NormalizedStreamEvent]) -> bytes:
        """SSE bytes for these events (b"" when nothing is to be sent yet). A StreamError
        event is written as the dialect's in-stream error and ends the stream."""
        ...

    def finish(self) -> bytes:
        """Close the stream properly (stop open blocks, send the final events)."""
        ...

    def error(self, err: GatewayError) -> bytes:
        """An in-stream error in this dialect, then the end: later calls return b""."""
        ...


class StreamEncoderEnding:
    """`finish()` and `error()` of a stream encoder, the same in every dialect: a stream
    ends once, either normally (the subclass's `_end(parts)`) or with an in-stream error in
    the subclass's dialect (`_stream_error`)."""

    __slots__ = ("_done",)
    _done: bool
    _stream_error: Callable[[GatewayError], bytes]  # a staticmethod, set by the dialect's encoder
    _end: Callable[[list[bytes]], None]  # the method appending the dialect's normal closing events

    def finish(self) -> bytes:
        if self._done:
            return b""
        parts: list[bytes] = []
        self._end(parts)
        return b"".join(parts)

    def error(self, err: GatewayError) -> bytes:
        if self._done:
            return b""
        self._done = True
        return self._stream_error(err)

    # The hooks of the stream-translation kernel (server/translate.py, docs/KERNELS.md §7).
    # A keep-alive in this dialect's bytes; None: this encoder has no fast path at all (the
    # Responses API numbers every event, so no delta is ever a fixed template).
    ping: bytes | None = None

    @property
    def done(self) -> bool:
        return self._done

    def delta_template(self, index: int, kind: int) -> tuple[bytes | None, bytes, bool] | None:
        """What a delta of `kind` (model.stream.DELTA_*) for normalized block `index` becomes
        now, as (prefix, suffix, emit when empty) around its JSON-encoded value, prefix None
        meaning "nothing"; None when such a delta would change this encoder's state."""
        if self._done:
            return None
        return self._delta_template(index, kind)

    def _delta_template(self, index: int, kind: int) -> tuple[bytes | None, bytes, bool] | None:
        return None  # an encoder without a fast path: every delta goes through encode()


class ClientDialect(Protocol):
    """What the server needs of the dialect a client speaks: where it is served, who may
    call it, and its requests, answers, streams and errors in and out of the normalized
    model. A client-only dialect (no provider speaks it) implements just this; its requests
    are always translated."""

    name: str
    chat_path: str  # the endpoint a listener serves it on
    ingress_scope: str  # the client-key scope a caller needs
    credential_hint: str  # how a client sends its key, for the 401 message

    def client_credential(self, headers: Mapping[str, str]) -> str | None:
        """The credential a client of this dialect sent (its LunaRoute key, or its own
        provider key in local mode)."""
        ...

    def validate_light(self, data: dict[str, Any]) -> tuple[str, bool]:
        """(model, stream) after the checks every request gets, passthrough included."""
        ...

    def patch_system(self, data: dict[str, Any], prepend: str | None, append: str | None, replace: str | None) -> None:
        """Edit the system prompt of a parsed request in this dialect's shape (a prompts.json
        patch, before routing): `replace` it, then put `prepend` before it and `append` after.
        Values are replaced, never edited in place, so a shallow copy of `data` keeps the
        client's request intact. Raises InvalidRequestError when the prompt's shape is not
        one the dialect allows."""
        ...

    def parse_request(self, data: dict[str, Any]) -> NormalizedRequest: ...

    def build_response(self, resp: NormalizedResponse, *, model: str, request: NormalizedRequest) -> dict[str, Any]: ...

    def stream_encoder(self, *, model: str, request: NormalizedRequest) -> StreamEncoder: ...

    def error_body(self, err: GatewayError) -> bytes: ...

    def stream_error(self, err: GatewayError) -> bytes:
        """An in-stream error event in this dialect, for a stream that has no encoder
        (a same-dialect stream relayed as is)."""
        ...


class ProviderDialect(Protocol):
    """What egress, bypass and the relay need of the dialect a provider speaks: how it is
    called, what passes through on a same-dialect route, and its answers, streams and
    errors read into the normalized model."""

    name: str
    chat_path: str  # the path its providers are called on
    token_count_path: str | None  # a token-counting endpoint, when the dialect has one
    pass_headers: tuple[str, ...]  # client headers carried upstream verbatim
    # Client header families carried upstream on same-dialect routes only (SDK telemetry
    # such as `x-stainless-*`: it describes the client's SDK, which a translated route is not).
    pass_header_prefixes: tuple[str, ...]
    # --- bypass: the dialect's other endpoints, proxied unparsed (server/bypass.py)
    api_root: str  # paths under it are this dialect's API
    own_paths: tuple[str, ...]  # path roots no other dialect has (`/v1/embeddings` covers `/v1/embeddings/...`)
    marker_headers: tuple[str, ...]  # request headers only this dialect's clients send

    def auth_header(self, key: str) -> tuple[str, str]:
        """How a provider key of this dialect goes upstream."""
        ...

    def default_headers(self, provider: ProviderConfig) -> tuple[tuple[str, str], ...]:
        """Headers its providers need when the client did not send them."""
        ...

    def passthrough_body(self, body: bytes, data: dict[str, Any], stream: bool) -> tuple[bytes, bool]:
        """The body for a provider of the same dialect, and whether the relayed stream must
        drop events that exist only to carry usage the client did not ask for."""
        ...

    def target_options(self, provider: ProviderConfig) -> TargetOptions:
        """What a provider of this dialect accepts, for `build_request`."""
        ...

    stream_source: int  # which events the stream-translation kernel reads (kernels.SOURCE_*)

    def stream_usage(self, data: str, usage: list[int]) -> bool:
        """Usage from one relayed event into `usage` ([input, output]); True when the event
        exists only to carry usage."""
        ...

    def ends_stream(self, event: SseEvent) -> bool:
        """Whether a relayed event ends its stream properly (final marker or error event)."""
        ...

    def models_body(self, models: dict[str, str]) -> bytes:
        """`GET /v1/models` in this dialect's shape, from {model id: provider}."""
        ...

    def build_request(
        self, req: NormalizedRequest, *, model: str, stream: bool, options: TargetOptions
    ) -> dict[str, Any]: ...

    def parse_response(self, data: dict[str, Any]) -> NormalizedResponse: ...

    def stream_decoder(self) -> StreamDecoder: ...

    def parse_upstream_error(self, status: int, body: bytes) -> GatewayError: ...

    def usage(self, data: dict[str, Any]) -> tuple[int, int]: ...


class Dialect(ClientDialect, ProviderDialect, Protocol):
    """A dialect both clients and providers speak (OpenAI Chat Completions, Anthropic
    Messages): same-dialect routes relay its bytes. The server, egress and tenancy read a
    dialect only through these interfaces; adding a dialect is a new package and a line in
    the registry (`dialects/__init__.py`)."""


# What the package dialects need of each module of a dialect package (checked where a
# dialect names its modules).
class RequestModule(Protocol):
    def parse_request(self, data: dict[str, Any]) -> NormalizedRequest: ...


class BuildModule(Protocol):
    def build_request(
        self, req: NormalizedRequest, *, model: str, stream: bool, options: TargetOptions
    ) -> dict[str, Any]: ...


class AnswerModule(Protocol):
    """The client side of `response.py`: normalized answers written in the dialect."""

    def build_response(self, resp: NormalizedResponse, *, model: str, request: NormalizedRequest) -> dict[str, Any]: ...


class ResponseModule(AnswerModule, Protocol):
    def parse_response(self, data: dict[str, Any]) -> NormalizedResponse: ...

    def usage_of(self, data: dict[str, Any]) -> tuple[int, int]: ...


class ClientErrorsModule(Protocol):
    def error_body(self, err: GatewayError) -> bytes: ...

    def stream_error(self, err: GatewayError) -> bytes: ...


class ErrorsModule(ClientErrorsModule, Protocol):
    def parse_upstream_error(self, status: int, body: bytes) -> GatewayError: ...


class StreamEncoderClass(Protocol):
    """A dialect's stream encoder class: one encoder per stream."""

    def __call__(self, *, model: str, request: NormalizedRequest) -> StreamEncoder: ...


class ClientPackageDialect:
    """A client dialect assembled from the modules of its package (request, response,
    errors, stream encoder): the delegation written once for all dialects. A dialect
    package subclasses it (or PackageDialect) together with its wire class (`wire.py`)."""

    name: str
    request_module: RequestModule
    response_module: AnswerModule
    errors_module: ClientErrorsModule
    encoder_class: StreamEncoderClass

    def parse_request(self, data: dict[str, Any]) -> NormalizedRequest:
        return self.request_module.parse_request(data)

    def build_response(self, resp: NormalizedResponse, *, model: str, request: NormalizedRequest) -> dict[str, Any]:
        return self.response_module.build_response(resp, model=model, request=request)

    def stream_encoder(self, *, model: str, request: NormalizedRequest) -> StreamEncoder:
        return self.encoder_class(model=model, request=request)

    def error_body(self, err: GatewayError) -> bytes:
        return self.errors_module.error_body(err)

    def stream_error(self, err: GatewayError) -> bytes:
        return self.errors_module.stream_error(err)


class PackageDialect(ClientPackageDialect):
    """A dialect clients and providers speak, assembled from its package: the client side,
    plus request_build, the reading side of response and errors, and the stream decoder."""

    build_module: BuildModule
    response_module: ResponseModule
    errors_module: ErrorsModule
    decoder_class: type[StreamDecoder]

    def build_request(
        self, req: NormalizedRequest, *, model: str, stream: bool, options: TargetOptions
    ) -> dict[str, Any]:
        return self.build_module.build_request(req, model=model, stream=stream, options=options)

    def parse_response(self, data: dict[str, Any]) -> NormalizedResponse:
        return self.response_module.parse_response(data)

    def stream_decoder(self) -> StreamDecoder:
        return self.decoder_class()

    def parse_upstream_error(self, status: int, body: bytes) -> GatewayError:
        return self.errors_module.parse_upstream_error(status, body)

    def usage(self, data: dict[str, Any]) -> tuple[int, int]:
        return self.response_module.usage_of(data)


# An event worth parsing for usage carries a usage *object*: OpenAI streams with
# include_usage send `"usage": null` on every chunk but the last, and parsing each of them
# cost more than relaying the stream. The plain `in` test first keeps the common case cheap.
_USAGE_OBJECT_PATTERN = r'"usage"\s*:\s*\{'
_USAGE_OBJECT = re.compile(_USAGE_OBJECT_PATTERN).search
# The same pattern on raw event bytes, for relays that look before decoding.
USAGE_OBJECT_BYTES = re.compile(_USAGE_OBJECT_PATTERN.encode())


def has_usage_object(data: str) -> bool:
    return '"usage"' in data and _USAGE_OBJECT(data) is not None


def light_chat_checks(data: dict[str, Any]) -> tuple[str, bool]:
    """(model, stream) of a chat request: the checks both chat dialects share."""
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequestError("'model' is required and must be a non-empty string", param="model")
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequestError("'messages' must be a non-empty array", param="messages")
    stream = data.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise InvalidRequestError("'stream' must be a boolean", param="stream")
    return model, stream


def carry_extra_fields(body: dict[str, Any], extra: dict[str, Any] | None, same: bool, target: str) -> None:
    """Fields a request had that the normalized model does not know: kept (without
    overriding what the builder set) when the target speaks the client's dialect, else
    dropped and debug-logged."""
    if not extra:
        return
    if same:
        for key, value in extra.items():
            body.setdefault(key, value)
    else:
        log_dropped("fields " + ", ".join(sorted(extra)), target)


def log_dropped(what: str, target: str) -> None:
    """Debug-log a field or block left out on a cross-dialect route (cheap when disabled)."""
    if log.isEnabledFor(logging.DEBUG):
        log.debug("dropped %s: not expressible in the %s dialect", what, target)
