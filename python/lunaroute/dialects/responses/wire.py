"""What the OpenAI Responses API looks like on the wire as a client dialect: its path, who
may call it (the OpenAI scope and credential: it is OpenAI's API), and the checks every
request gets before routing, including the 400s for what needs state LunaRoute does not
keep. No provider is called with it, so it has no provider-side facts."""

from __future__ import annotations

from typing import Any

from .._check import fail, type_name, wrong_type
from ..openai.wire import OpenAIWire
from . import system_patch

# Fields that need a response, conversation or prompt stored by the API that served an
# earlier request: LunaRoute keeps no response state (docs/TRANSLATION.md, "Responses API").
STATEFUL_FIELDS = ("previous_response_id", "conversation", "prompt")


class ResponsesWire:
    chat_path = "/v1/responses"
    ingress_scope = "openai_ingress"
    credential_hint = "Authorization: Bearer <key>"

    # the same listener and SDK as OpenAI chat: the same credential
    client_credential = staticmethod(OpenAIWire.client_credential)

    @staticmethod
    def validate_light(data: dict[str, Any]) -> tuple[str, bool]:
        return light_checks(data)

    patch_system = staticmethod(system_patch.patch_system)  # prompts.json patches (ClientDialect.patch_system)


def light_checks(data: dict[str, Any]) -> tuple[str, bool]:
    """(model, stream) of a Responses request, or InvalidRequestError: the required fields,
    and what cannot be served without stored state, refused before anything is routed."""
    model = data.get("model")
    if type(model) is not str or not model:
        fail(
            "model",
            "required: a non-empty string" if model is None else f"expected a non-empty string, got {type_name(model)}",
        )
    for name in STATEFUL_FIELDS:
        if data.get(name) is not None:
            fail(name, "not supported: LunaRoute keeps no response state; send the whole conversation in 'input'")
    background = data.get("background")
    if background is not None and background is not False:
        if background is True:
            fail("background", "background responses are not supported: LunaRoute keeps no response state")
        wrong_type("background", "a boolean", background)
    inp = data.get("input")
    if inp is None:
        fail("input", "required: a string or an array of input items")
    if type(inp) is not str and type(inp) is not list:
        wrong_type("input", "a string or an array of input items", inp)
    stream = data.get("stream")
    if stream is None:
        return model, False
    if type(stream) is not bool:
        wrong_type("stream", "a boolean", stream)
    return model, stream
