"""`lunaroute keys create|list|delete`: client API keys in the config directory."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

import orjson

from ..config.timestamps import format_timestamp, now_utc, parse_timestamp
from ..config.vocabulary import BUDGET_ID, SCOPES, TENANT
from .common import config_dir_of, print_error


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser(
        "keys",
        parents=parents,
        help="manage client API keys",
        description="Client API keys. Only argon2id hashes are stored in keys.json.",
    )
    actions = keys.add_subparsers(dest="keys_action", metavar="ACTION", required=True, parser_class=type(keys))

    create = actions.add_parser(
        "create",
        parents=parents,
        help="create a key (printed once)",
        description="Create a key. Line 1 of the output is the key (shown only this once), line 2 is `id: key_...`.",
    )
    create.add_argument("name", metavar="NAME", type=_name, help="a label for the key")
    create.add_argument(
        "--scope", dest="scopes", action="append", choices=SCOPES, help="repeatable; default: both ingress scopes"
    )
    create.add_argument("--tenant", type=_tenant, default="default", help="default: default")
    create.add_argument("--rps", type=_positive_float, help="requests per second allowed")
    create.add_argument("--burst", type=_positive_int, help="burst size of the rate limit")
    create.add_argument("--budget", type=_budget_id, metavar="ID", help="a budget id of budgets.json")
    create.add_argument(
        "--expires", type=_future_timestamp, metavar="ISO8601", help="expiry, e.g. 2026-01-01T00:00:00Z"
    )
    create.set_defaults(run=run_create)

    listing = actions.add_parser("list", parents=parents, help="list keys (never hashes)")
    listing.add_argument("--json", action="store_true", help="JSON output")
    listing.set_defaults(run=run_list)

    delete = actions.add_parser("delete", parents=parents, help="delete a key")
    delete.add_argument("key_id", metavar="ID")
    delete.set_defaults(run=run_delete)


# ---------------------------------------------------------------------- argument types
def _name(text: str) -> str:
    if not text.strip() or any(c in text for c in "\r\n\0"):
        raise argparse.ArgumentTypeError(f"invalid key name {text!r}")
    return text


def _tenant(text: str) -> str:
    if not TENANT.fullmatch(text):
        raise argparse.ArgumentTypeError(f"invalid tenant {text!r} (letters, digits or '_.:@-', at most 128)")
    return text


def _budget_id(text: str) -> str:
    if not BUDGET_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"invalid budget id {text!r}")
    return text


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1000000, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 1 <= value <= 100_000_000:
        raise argparse.ArgumentTypeError(f"must be between 1 and 100000000, got {text}")
    return value


def _future_timestamp(text: str) -> datetime:
    when = parse_timestamp(text)
    if when is None:
        raise argparse.ArgumentTypeError(f"expected an ISO 8601 timestamp, got {text!r}")
    if when <= now_utc():
        raise argparse.ArgumentTypeError(f"{format_timestamp(when)} is in the past")
    return when


# ---------------------------------------------------------------------- actions
def run_create(args: argparse.Namespace) -> int:
    from ..tenancy import keys as key_store

    key, entry = key_store.create_key(
        config_dir_of(args),
        args.name,
        scopes=args.scopes,
        tenant=args.tenant,
        rps=args.rps,
        burst=args.burst,
        budget_id=args.budget,
        expires_at=args.expires,
    )
    print(key)
    print(f"id: {entry.id}")
    sys.stdout.flush()
    print("Store this key now: LunaRoute keeps only its hash and cannot show it again.", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from ..tenancy import keys as key_store

    keys = key_store.list_keys(config_dir_of(args))
    rows = [
        {
            "id": k.id,
            "name": k.name,
            "tenant": k.tenant,
            "scopes": list(k.scopes),
            "created_at": k.created_at or None,
            "expires_at": k.expires_at,
            "rps": k.rps,
            "burst": k.burst,
            "budget_id": k.budget_id,
        }
        for k in keys
    ]
    if args.json:
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    if not rows:
        print("no API keys (local mode: clients need no key)")
        return 0
    columns = ("id", "name", "tenant", "scopes", "created_at", "expires_at")
    table = [[_cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in table)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip())
    for r in table:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    return 0


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(value)
    return " ".join(str(value).split())


def run_delete(args: argparse.Namespace) -> int:
    from ..tenancy import keys as key_store

    if not key_store.delete_key(config_dir_of(args), args.key_id):
        print_error(f"no API key with id '{args.key_id}'")
        return 1
    print(f"deleted {args.key_id}")
    return 0
