"""What the Anthropic Messages dialect looks like on the wire, beyond its bodies: paths,
credentials, headers carried upstream, the first checks of a request, usage in its
streams, and how its streams end. The server and egress read these through the dialect
object and never name the dialect themselves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from ...errors import InvalidRequestError
from ...kernels import SOURCE_ANTHROPIC
from ..base import SseEvent, TargetOptions, has_usage_object, light_chat_checks
from . import system_patch

if TYPE_CHECKING:
    from ...config.schema import ProviderConfig


class AnthropicWire:
    chat_path = "/v1/messages"
    stream_source = SOURCE_ANTHROPIC  # how the stream-translation kernel reads its streams
    token_count_path: str | None = "/v1/messages/count_tokens"
    ingress_scope = "anthropic_ingress"
    credential_hint = "x-api-key (or Authorization: Bearer <key>)"
    # `anthropic-version` is required upstream (the provider's configured default fills in);
    # `anthropic-beta` turns on features the client relies on; Claude Code says who it is
    # with `x-app`, names its session with `x-claude-code-session-id`, and sends
    # `anthropic-dangerous-direct-browser-access` as its SDK does.
    pass_headers: tuple[str, ...] = (
        "anthropic-version",
        "anthropic-beta",
        "x-app",
        "x-claude-code-session-id",
        "anthropic-dangerous-direct-browser-access",
    )
    pass_header_prefixes: tuple[str, ...] = ("x-stainless-",)
    api_root = "/v1/"
    # Endpoints only Anthropic's API has (`/v1/messages/batches` included): a listener of
    # type `both` bypasses them to an Anthropic provider.
    own_paths: tuple[str, ...] = ("/v1/messages", "/v1/complete", "/v1/skills", "/v1/organizations")
    # Every Anthropic client sends it (the API requires it): on a listener of type `both` it
    # tells whose `/v1/models` or `/v1/files` was called.
    marker_headers: tuple[str, ...] = ("anthropic-version",)

    @staticmethod
    def client_credential(headers: Mapping[str, str]) -> str | None:
        auth = headers.get("authorization")
        if auth and auth[:7].lower() == "bearer ":
            return auth[7:].strip() or None
        return headers.get("x-api-key") or None

    @staticmethod
    def auth_header(key: str) -> tuple[str, str]:
        return ("x-api-key", key)

    @staticmethod
    def default_headers(provider: ProviderConfig) -> tuple[tuple[str, str], ...]:
        """Headers this dialect's providers need when the client did not send them."""
        return (("anthropic-version", provider.anthropic_version),)

    @staticmethod
    def validate_light(data: dict[str, Any]) -> tuple[str, bool]:
        model, stream = light_chat_checks(data)
        if type(data.get("max_tokens")) is not int:
            raise InvalidRequestError("'max_tokens' is required and must be an integer", param="max_tokens")
        return model, stream

    @staticmethod
    def passthrough_body(body: bytes, data: dict[str, Any], stream: bool) -> tuple[bytes, bool]:
        """Anthropic streams always carry usage: the body goes as it is."""
        return body, False

    @staticmethod
    def target_options(provider: ProviderConfig) -> TargetOptions:
        return TargetOptions(
            default_max_tokens=provider.default_max_tokens,
            supports_thinking=True,
            provider_type=provider.type,
        )

    @staticmethod
    def stream_usage(data: str, usage: list[int]) -> bool:
        """Read usage from one relayed stream event's data into `usage` ([input, output]).
        Never an event to take out: every Anthropic event means something to the client."""
        if not has_usage_object(data):
            return False
        try:
            obj = orjson.loads(data)
            typ = obj.get("type")
            if typ == "message_start":
                u = (obj.get("message") or {}).get("usage") or {}
                usage[0] = int(u.get("input_tokens") or 0)
                usage[1] = int(u.get("output_tokens") or 0)
            elif typ == "message_delta":
                u = obj.get("usage") or {}
                if u.get("input_tokens"):
                    usage[0] = int(u["input_tokens"])
                if "output_tokens" in u:
                    usage[1] = int(u.get("output_tokens") or 0)
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
            pass  # usage an upstream got wrong must not break the stream it rides on
        return False

    @staticmethod
    def ends_stream(event: SseEvent) -> bool:
        """Whether a relayed event is a proper end: `message_stop`, or an `error` event."""
        return event[0] in ("message_stop", "error")

    patch_system = staticmethod(system_patch.patch_system)  # prompts.json patches (Dialect.patch_system)

    @staticmethod
    def models_body(models: dict[str, str]) -> bytes:
        """`GET /v1/models` in this dialect's shape, from {model id: provider}."""
        ids = list(models)
        return orjson.dumps(
            {
                "data": [
                    {"type": "model", "id": mid, "display_name": mid, "created_at": "1970-01-01T00:00:00Z"}
                    for mid in ids
                ],
                "has_more": False,
                "first_id": ids[0] if ids else None,
                "last_id": ids[-1] if ids else None,
            }
        )
