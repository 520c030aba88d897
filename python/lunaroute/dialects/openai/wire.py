"""What the OpenAI Chat Completions dialect looks like on the wire, beyond its bodies:
paths, credentials, headers carried upstream, the first checks of a request, usage in its
streams, and how its streams end. The server and egress read these through the dialect
object and never name the dialect themselves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from ...kernels import SOURCE_OPENAI, top_level_span
from ..base import SseEvent, TargetOptions, has_usage_object, light_chat_checks
from ..splice import add_top_level_field
from . import system_patch

if TYPE_CHECKING:
    from ...config.schema import ProviderConfig


class OpenAIWire:
    chat_path = "/v1/chat/completions"
    stream_source = SOURCE_OPENAI  # how the stream-translation kernel reads its streams
    token_count_path: str | None = None
    ingress_scope = "openai_ingress"
    credential_hint = "Authorization: Bearer <key>"
    # Client headers carried upstream verbatim (organization and project select billing).
    pass_headers: tuple[str, ...] = ("openai-organization", "openai-project", "openai-beta")
    pass_header_prefixes: tuple[str, ...] = ("x-stainless-",)
    api_root = "/v1/"
    # Endpoints only OpenAI's API has: a listener of type `both` bypasses them to an OpenAI
    # provider (`/v1/models` and `/v1/files` exist in both APIs).
    own_paths: tuple[str, ...] = (
        "/v1/chat",
        "/v1/completions",
        "/v1/embeddings",
        "/v1/audio",
        "/v1/images",
        "/v1/moderations",
        "/v1/responses",
        "/v1/conversations",
        "/v1/batches",
        "/v1/uploads",
        "/v1/fine_tuning",
        "/v1/vector_stores",
        "/v1/assistants",
        "/v1/threads",
        "/v1/realtime",
        "/v1/containers",
        "/v1/evals",
    )
    marker_headers: tuple[str, ...] = ()

    @staticmethod
    def client_credential(headers: Mapping[str, str]) -> str | None:
        auth = headers.get("authorization")
        if auth and auth[:7].lower() == "bearer ":
            return auth[7:].strip() or None
        return None

    @staticmethod
    def auth_header(key: str) -> tuple[str, str]:
        return ("authorization", f"Bearer {key}")

    @staticmethod
    def default_headers(provider: ProviderConfig) -> tuple[tuple[str, str], ...]:
        """Headers this dialect's providers need when the client did not send them."""
        return ()

    @staticmethod
    def validate_light(data: dict[str, Any]) -> tuple[str, bool]:
        return light_chat_checks(data)

    @staticmethod
    def passthrough_body(body: bytes, data: dict[str, Any], stream: bool) -> tuple[bytes, bool]:
        """The body for a same-dialect upstream, and whether the usage-only chunk must be
        taken out of the relayed stream.

        Every stream is asked for its usage (CONTRACT §5: LunaRoute accounts for it); a client
        that did not ask for it itself must not receive the extra `choices: []` chunk, which
        breaks code that reads `chunk.choices[0]`.
        """
        if not stream:
            return body, False
        options = data.get("stream_options")
        if options is None:
            return add_top_level_field(body, "stream_options", {"include_usage": True}), True
        if type(options) is dict and options.get("include_usage") is True:
            return body, False
        merged = dict(options) if type(options) is dict else {}
        merged["include_usage"] = True
        span = top_level_span(body, b"stream_options")
        if span is None:  # unreachable for a body that parsed; stay correct anyway
            data = dict(data, stream_options=merged)
            return orjson.dumps(data), True
        return body[: span[0]] + orjson.dumps(merged) + body[span[1] :], True

    @staticmethod
    def target_options(provider: ProviderConfig) -> TargetOptions:
        return TargetOptions(
            default_max_tokens=provider.default_max_tokens,
            supports_thinking=False,
            provider_type=provider.type,
        )

    @staticmethod
    def stream_usage(data: str, usage: list[int]) -> bool:
        """Read usage from one relayed stream event's data into `usage` ([input, output]).
        True when the event exists only to carry usage (the `choices: []` chunk)."""
        if not has_usage_object(data):
            return False
        try:
            obj = orjson.loads(data)
            u = obj.get("usage")
            if type(u) is dict:
                usage[0] = int(u.get("prompt_tokens") or 0)
                usage[1] = int(u.get("completion_tokens") or 0)
            choices: object = obj.get("choices")  # typed, so the comparison is a bool
            return choices == []
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
            return False  # usage an upstream got wrong must not break the stream it rides on

    @staticmethod
    def ends_stream(event: SseEvent) -> bool:
        """Whether a relayed event is a proper end: `[DONE]`, or an error the upstream sent."""
        data = event[1]
        return data == "[DONE]" or data.startswith('{"error"')

    patch_system = staticmethod(system_patch.patch_system)  # prompts.json patches (Dialect.patch_system)

    @staticmethod
    def models_body(models: dict[str, str]) -> bytes:
        """`GET /v1/models` in this dialect's shape, from {model id: provider}."""
        return orjson.dumps(
            {
                "object": "list",
                "data": [
                    {"id": mid, "object": "model", "created": 0, "owned_by": prov} for mid, prov in models.items()
                ],
            }
        )
