"""`GET /v1/models` and `POST /v1/messages/count_tokens`.

The model list is what this listener's rules name exactly: the names a client can use here.
Token counting goes to the routed Anthropic provider when there is one; for other targets it
is estimated (about four characters a token), since no OpenAI endpoint counts tokens.
"""

from __future__ import annotations

import orjson

from ..dialects import Dialect
from ..dialects.base import light_chat_checks
from ..dialects.splice import replace_model
from ..errors import NotFoundError, UpstreamError
from ..routing import RouteRequest
from .request_body import parse_object


def list_models(state, listener, dialect: Dialect) -> bytes:
    seen: dict[str, str] = {}
    for rule in state.config.routes:
        # the same test routing applies: the models listed are the ones that route here
        if not rule.applies_to_listener(listener.id, dialect.name):
            continue
        for m in rule.match.models:
            if m.kind == "exact" and m.source not in seen:
                seen[m.source] = rule.targets[0].provider
    return dialect.models_body(seen)


def _estimate_tokens(data: dict) -> int:
    chars = len(orjson.dumps(data.get("messages", []))) + len(orjson.dumps(data.get("system", "")))
    if data.get("tools"):
        chars += len(orjson.dumps(data["tools"]))
    return max(1, chars // 4)


async def count_tokens(state, listener, dialect: Dialect, headers, body: bytes) -> bytes:
    """A token count from the routed provider when it speaks `dialect` (the one whose
    counting endpoint was called), else an estimate."""
    key = await state.auth.authenticate(headers, dialect) if state.auth.required else None
    data = parse_object(body)
    model, _ = light_chat_checks(data)
    decision = state.routes.decide(
        RouteRequest(
            listener_id=listener.id,
            listener_type=dialect.name,
            model=model,
            headers=headers,
            key_id=key.id if key else None,
            tenant=key.tenant if key else None,
            body=data,
        )
    )
    if decision is None:
        raise NotFoundError(f"no route for model '{model}'", param="model")
    target = decision.primary
    prov = state.providers[target.provider]
    if prov.dialect != dialect.name:
        return orjson.dumps({"input_tokens": _estimate_tokens(data)})
    up_body = replace_model(body, target.model) if target.model and target.model != model else body
    conn = state.connectors[target.provider]
    credential = state.auth.upstream_credential(headers, dialect, key)
    try:
        resp = await conn.send(up_body, headers, credential=credential, stream=False, path=dialect.token_count_path)
        out = await resp.read()
    except Exception as exc:
        raise UpstreamError(f"token counting upstream failed: {exc}") from None
    if resp.status >= 400:
        raise dialect.parse_upstream_error(resp.status, out)
    return out
