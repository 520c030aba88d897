"""`lunaroute route --request FILE [--listener L] [--header 'K: V']... --dry-run`.

Shows which rule would route a client request and where it would go, without sending
anything: the JSON printed is `RouteTable.explain()` (rule_id, primary, fallbacks, skipped),
plus the prompts.json patches that would apply (`prompt_patches`: applied ids, skipped ones
with the reason) and the system prompts the request would then carry (`system`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..dialects import PROVIDER_DIALECT_NAMES
from ..dialects.guess import guess_dialect
from ..errors import ConfigError, GatewayError
from .common import config_dir_of, data_dir_of

if TYPE_CHECKING:
    from ..config import Config
    from ..routing import RouteRequest


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "route",
        parents=parents,
        help="show the route a request would take",
        description="Evaluate the routing rules for a client request body and print the "
        "decision as JSON. Nothing is sent upstream.",
    )
    p.add_argument("--request", required=True, metavar="FILE", help="a client request body (JSON); - reads stdin")
    p.add_argument(
        "--listener", metavar="ID|TYPE", help="openai, anthropic or a listener id (default: guessed from the body)"
    )
    p.add_argument(
        "--header",
        dest="headers",
        action="append",
        default=[],
        metavar="'K: V'",
        help="a request header rules may match (repeatable)",
    )
    p.add_argument("--key-id", help="the client key id, for rules matching key_id")
    p.add_argument("--tenant", help="the client tenant, for rules matching tenant")
    p.add_argument("--dry-run", action="store_true", help="evaluate only (the only mode: nothing is ever sent)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..config import load_config

    name, body = _read_body(args.request)
    headers = _parse_headers(args.headers)
    config = load_config(config_dir_of(args), data_dir_of(args))
    listener_id, dialect = _pick_listener(config, args.listener, body)
    _validate(body, dialect, name)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ConfigError(name, "model", "required: a non-empty string")

    from ..routing import RouteRequest, RouteTable

    def request_of(data: dict[str, Any]) -> RouteRequest:
        return RouteRequest(listener_id, dialect, model, headers, args.key_id, args.tenant, data)

    # As the server does: patches see the request as sent, the route sees it patched.
    client = request_of(body)
    patches = config.prompts.explain(client)
    patched, system = _patched(config, dialect, client, body, name)
    decision = RouteTable.compile(config.routes).explain(request_of(patched))
    decision["prompt_patches"] = patches
    decision["system"] = system
    sys.stdout.write(orjson.dumps(decision, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


def _patched(
    config: Config, dialect: str, request: RouteRequest, body: dict[str, Any], name: str
) -> tuple[dict[str, Any], list[str]]:
    """The body after the prompts.json patches, and the system prompts it then carries."""
    from ..dialects import get_dialect

    wire = get_dialect(dialect)
    try:
        done = config.prompts.apply(wire, request, body)
        patched = body if done is None else done.data
        return patched, [prompt.text for prompt in wire.parse_request(patched).system]
    except GatewayError as err:
        raise ConfigError(name, err.param or "", f"prompt patches: {err.message}") from None


def _read_body(source: str) -> tuple[str, dict[str, Any]]:
    if source == "-":
        name, raw = "<stdin>", sys.stdin.buffer.read()
    else:
        path = Path(source).expanduser()
        name = path.name
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(source, "", f"cannot read: {exc.strerror or exc}") from None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(name, "", f"invalid JSON: {' '.join(str(exc).split())}") from None
    if not isinstance(body, dict):
        raise ConfigError(name, "", "expected a JSON object (a chat request body)")
    return name, body


def _parse_headers(values: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
            raise ConfigError("--header", "", f"expected 'Name: value', got {value!r}")
        headers[name.strip().lower()] = rest.strip()
    return headers


def _pick_listener(config: Config, wanted: str | None, body: dict[str, Any]) -> tuple[str, str]:
    """(listener id, dialect) for the request."""
    if wanted is None:
        dialect = guess_dialect(body)
        for listener in config.listeners:
            if listener.type == dialect:
                return listener.id, dialect
        for listener in config.listeners:
            if listener.type == "both":
                return listener.id, dialect
        return dialect, dialect
    by_id = config.listener(wanted)
    if by_id is not None:
        dialect = guess_dialect(body) if by_id.type == "both" else by_id.type
        return by_id.id, dialect
    if wanted in PROVIDER_DIALECT_NAMES:
        for listener in config.listeners:
            if listener.type == wanted:
                return listener.id, wanted
        return wanted, wanted
    known = ", ".join(
        [*PROVIDER_DIALECT_NAMES, *(lst.id for lst in config.listeners if lst.id not in PROVIDER_DIALECT_NAMES)]
    )
    raise ConfigError("--listener", "", f"unknown listener {wanted!r} (one of {known})")


def _validate(body: dict[str, Any], dialect: str, name: str) -> None:
    """Check the body as the listener would, when the dialect package is present."""
    try:
        from ..dialects import get_dialect
    except ImportError:
        return
    try:
        get_dialect(dialect).parse_request(body)
    except GatewayError as err:
        field = err.param or ""
        reason = err.message.removeprefix(f"{field}: ") if field else err.message
        raise ConfigError(name, field, f"not a valid {dialect} request: {reason}") from None
