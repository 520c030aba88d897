"""`GET /v1/models` and `POST /v1/messages/count_tokens`.

The model list is what this listener's rules name exactly: the names a client can use here.
Token counting goes to the routed Anthropic provider when there is one; for other targets it
is estimated (about four characters a token), since no OpenAI endpoint counts tokens.
"""

from __future__ import annotations

import orjson

from ..errors import NotFoundError, UpstreamError
from ..routing import RouteRequest
from .passthrough import replace_model
from .request_body import parse_object, require_model_and_messages


def list_models(state, listener, dialect: str) -> bytes:
    seen: dict[str, str] = {}
    for rule in state.config.routes:
        # the same test routing applies: the models listed are the ones that route here
        if not rule.applies_to_listener(listener.id, dialect):
            continue
        for m in rule.match.models:
            if m.kind == "exact" and m.source not in seen:
                seen[m.source] = rule.targets[0].provider
    if dialect == "anthropic":
        data = [{"type": "model", "id": mid, "display_name": mid, "created_at": "1970-01-01T00:00:00Z"} for mid in seen]
        ids = list(seen)
        return orjson.dumps(
            {
                "data": data,
                "has_more": False,
                "first_id": ids[0] if ids else None,
                "last_id": ids[-1] if ids else None,
            }
        )
    return orjson.dumps(
        {
            "object": "list",
            "data": [{"id": mid, "object": "model", "created": 0, "owned_by": prov} for mid, prov in seen.items()],
        }
    )


def _estimate_tokens(data: dict) -> int:
    chars = len(orjson.dumps(data.get("messages", []))) + len(orjson.dumps(data.get("system", "")))
    if data.get("tools"):
        chars += len(orjson.dumps(data["tools"]))
    return max(1, chars // 4)


async def count_tokens(state, listener, headers, body: bytes) -> bytes:
    if state.auth.required:
        await state.auth.authenticate(headers, "anthropic")
    data = parse_object(body)
    model = require_model_and_messages(data)
    decision = state.routes.decide(
        RouteRequest(
            listener_id=listener.id,
            listener_type="anthropic",
            model=model,
            headers=headers,
            body=data,
        )
    )
    if decision is None:
        raise NotFoundError(f"no route for model '{model}'", param="model")
    target = decision.primary
    prov = state.providers[target.provider]
    if prov.dialect != "anthropic":
        return orjson.dumps({"input_tokens": _estimate_tokens(data)})
    up_body = replace_model(body, target.model) if target.model and target.model != model else body
    conn = state.connectors[target.provider]
    try:
        resp = await conn.send(up_body, headers, stream=False, path="/v1/messages/count_tokens")
        out = await resp.read()
    except Exception as exc:
        raise UpstreamError(f"token counting upstream failed: {exc}") from None
    if resp.status >= 400:
        from ..dialects import get_dialect

        raise get_dialect("anthropic").parse_upstream_error(resp.status, out)
    return out
