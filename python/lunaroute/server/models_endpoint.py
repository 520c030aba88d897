"""`GET /v1/models` and `POST /v1/messages/count_tokens`.

The model list is the names a client can use on this listener (docs/BYPASS.md, "GET
/v1/models"): the exact names of `match.model`, the target and fallback models of wildcard
rules, and, for a wildcard rule's target that keeps the client's model, the models of that
provider's vendor in the shipped price table that the rule's pattern matches. Each is listed
with the provider its first matching rule sends it to, and only when a rule matches it.
Token counting goes to the routed Anthropic provider when there is one; for other targets it
is estimated (about four characters a token), since no OpenAI endpoint counts tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import orjson

from ..config.schema import ProviderConfig
from ..dialects import Dialect
from ..dialects.base import light_chat_checks
from ..dialects.splice import replace_model
from ..errors import NotFoundError, UpstreamError
from ..limits.pricing import PriceTable
from ..routing import RouteRequest
from ..routing.rules import RouteRule
from .request_body import parse_object

if TYPE_CHECKING:
    from ..config.schema import ListenerConfig
    from .state import GatewayState

# One rendered list per state (a config load) and listener/dialect: rules change only on reload.
_LISTS: WeakKeyDictionary[Any, dict[tuple[str, str], bytes]] = WeakKeyDictionary()


def list_models(state: Any, listener: Any, dialect: Dialect) -> bytes:
    lists = _LISTS.setdefault(state, {})
    key = (listener.id, dialect.name)
    body = lists.get(key)
    if body is None:
        body = lists[key] = dialect.models_body(servable_models(state.routes.rules, state.providers, key))
    return body


@cache
def _vendor_models() -> dict[str, tuple[str, ...]]:
    """The shipped price table's model names by vendor (`openai`, `anthropic`: provider types)."""
    by_vendor: dict[str, list[str]] = {}
    for price in PriceTable.shipped().prices.values():
        by_vendor.setdefault(price.vendor, []).append(price.model)
    return {vendor: tuple(names) for vendor, names in by_vendor.items()}


def _matches_model(rule: RouteRule, name: str) -> bool:
    return not rule.match.models or any(m.matches(name) for m in rule.match.models)


def servable_models(
    rules: Sequence[RouteRule], providers: Mapping[str, ProviderConfig], where: tuple[str, str]
) -> dict[str, str]:
    """{model name: provider} for the listener `where` = (id, dialect); `rules` in the order
    routing tries them."""
    mine = [r for r in rules if r.applies_to_listener(*where)]
    names: list[str] = []
    for rule in mine:
        names.extend(m.source for m in rule.match.models if m.kind == "exact")
        if rule.match.models and all(m.kind == "exact" for m in rule.match.models):
            continue
        for target in (*rule.targets, *rule.fallbacks):
            if target.model is not None:
                names.append(target.model)
                continue
            prov = providers.get(target.provider)
            vendor = _vendor_models().get(prov.type, ()) if prov is not None else ()
            names.extend(n for n in vendor if _matches_model(rule, n))
    out: dict[str, str] = {}
    for name in names:
        if name in out:
            continue
        # Listed under the rule that routes it (an earlier rule may shadow a later one's names).
        owner = next((r for r in mine if _matches_model(r, name)), None)
        if owner is not None:
            out[name] = owner.targets[0].provider
    return out


def _estimate_tokens(data: dict[str, Any]) -> int:
    chars = len(orjson.dumps(data.get("messages", []))) + len(orjson.dumps(data.get("system", "")))
    if data.get("tools"):
        chars += len(orjson.dumps(data["tools"]))
    return max(1, chars // 4)


async def count_tokens(
    state: GatewayState,
    listener: ListenerConfig,
    dialect: Dialect,
    headers: Mapping[str, str],
    body: bytes,
    query: str = "",
) -> bytes:
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
        resp = await conn.send(
            up_body,
            headers,
            credential=credential,
            stream=False,
            path=dialect.token_count_path,
            passthrough=True,
            query=query,
        )
        out: bytes = await resp.read()
    except Exception as exc:
        raise UpstreamError(f"token counting upstream failed: {exc}") from None
    if resp.status >= 400:
        raise dialect.parse_upstream_error(resp.status, out)
    return out
