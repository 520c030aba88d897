"""`lunaroute sessions list|show|reindex`: browse the recorded sessions (docs/RECORDING.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from .common import PROG, config_dir_of, data_dir_of, print_error

if TYPE_CHECKING:
    from ..config.schema import StorageConfig
    from ..recording.query import Reader


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    sessions = sub.add_parser(
        "sessions",
        parents=parents,
        help="browse recorded sessions",
        description="Recorded sessions: list them, show one as a conversation, rebuild the index.",
    )
    actions = sessions.add_subparsers(
        dest="sessions_action", metavar="ACTION", required=True, parser_class=type(sessions)
    )

    listing = actions.add_parser("list", parents=parents, help="the most recent sessions, newest first")
    listing.add_argument("--since", type=when_arg, metavar="D", help="a duration (1h, 7d) or an ISO 8601 time")
    listing.add_argument("--limit", type=limit_arg, default=50, metavar="N", help="at most N sessions (default 50)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line (the index columns)")
    listing.set_defaults(run=run_list)

    show = actions.add_parser("show", parents=parents, help="one session as a readable conversation")
    show.add_argument("session_id", metavar="ID", help="a session id (or a unique prefix of 8+ characters)")
    show.add_argument("--json", action="store_true", help="the exported session object instead")
    show.set_defaults(run=run_show)

    reindex = actions.add_parser("reindex", parents=parents, help="rebuild the session index from the files")
    reindex.set_defaults(run=run_reindex)

    sweep = actions.add_parser(
        "sweep",
        parents=parents,
        help="apply the retention policy now",
        description="Delete sessions older than storage.session_retention_days, then the oldest ones "
        "while the recordings exceed storage.max_disk_mb (the server does this every 10 minutes).",
    )
    sweep.set_defaults(run=run_sweep)


# ---------------------------------------------------------------------- argument types
def when_arg(text: str) -> float:
    from ..recording.query import parse_when

    try:
        return parse_when(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def limit_arg(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 10_000_000:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return int(text)


# ---------------------------------------------------------------------- opening the store
def reader_for(args: argparse.Namespace) -> Reader:
    """The recordings the config points at. With --data-dir and no config directory, the
    data directory alone is read (encrypted sessions then need `<config-dir>/keys/`)."""
    return _open(args)[0]


def _open(args: argparse.Namespace) -> tuple[Reader, StorageConfig | None]:
    """(reader, the storage config, or None when there is no config directory)."""
    from ..recording.index import INDEX_NAME
    from ..recording.maintenance import reindex
    from ..recording.query import open_reader

    config_dir = config_dir_of(args)
    data_dir = data_dir_of(args)
    storage: StorageConfig | None = None
    if data_dir is not None and not config_dir.is_dir():
        reader = open_reader(data_dir, config_dir / "keys" / "session.key")
    else:
        from ..config import load_config

        config = load_config(config_dir, data_dir)
        storage = config.storage
        data_dir = config.data_dir
        fresh = not (Path(data_dir) / "sessions" / INDEX_NAME).exists()
        reader = open_reader(data_dir, config.storage.key_file)
        if fresh and next(reader.store.iter_session_files(), None) is not None:
            print(f"{PROG}: no session index yet: building it from the files", file=sys.stderr)
            reindex(reader.store, reader.index, on_damage=warn_skipped)
    return reader, storage


def warn_skipped(path: object, reason: str) -> None:
    print(f"{PROG}: warning: skipped damaged session {path}: {reason}", file=sys.stderr)


# ---------------------------------------------------------------------- commands
def run_list(args: argparse.Namespace) -> int:
    from ..recording.index import SessionFilter
    from ..recording.query import iter_rows, rfc3339

    reader = reader_for(args)
    try:
        rows = iter_rows(reader, SessionFilter(since=args.since), args.limit)
        out = sys.stdout
        if args.json:
            for row in rows:
                row["timestamp"] = rfc3339(row.pop("ts"))
                out.write(orjson.dumps(row).decode() + "\n")
            return 0
        header = (
            f"{'ID':<34} {'TIME (UTC)':<23} {'STATUS':>6} {'MODEL':<28} {'IN':>7} {'OUT':>7} {'MS':>8}  CONVERSATION"
        )
        print(header)
        for row in rows:
            model = str(row["model"] or row["request_model"] or "-")
            kind = "~" if row["stream"] else " "
            print(
                f"{row['id']:<34} {rfc3339(row['ts']):<23} {row['status']:>6} {model[:27] + kind:<28} "
                f"{row['input_tokens']:>7} {row['output_tokens']:>7} {row['latency_ms'] or 0:>8.0f}  "
                f"{row['conversation_id'] or ''}"
            )
    finally:
        reader.close()
    return 0


def run_show(args: argparse.Namespace) -> int:
    from ..recording.format import RecordError
    from ..recording.render import render_session

    reader = reader_for(args)
    try:
        row = reader.find(args.session_id)
        if row is None:
            print_error(f"no session {args.session_id!r} (see `lunaroute sessions list`)")
            return 1
        try:
            obj = reader.session(row, with_events=args.json)
        except RecordError as exc:
            print_error(f"session {row['id']} is damaged: {exc}")
            return 1
    finally:
        reader.close()
    if args.json:
        sys.stdout.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(render_session(obj, colour=sys.stdout.isatty()))
    return 0


def run_reindex(args: argparse.Namespace) -> int:
    from ..recording.maintenance import reindex
    from ..recording.query import Progress

    reader = reader_for(args)
    try:
        total = sum(1 for _ in reader.store.iter_session_files()) if sys.stderr.isatty() else 0
        bar = Progress(total, "reindex")
        result = reindex(reader.store, reader.index, on_damage=warn_skipped, progress=bar)
        bar.end()
    finally:
        reader.close()
    print(f"indexed {result.indexed} sessions, {result.damaged} damaged skipped, {result.removed} stale rows removed")
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    from ..config.schema import StorageConfig
    from ..recording.maintenance import sweep
    from ..recording.recorder import RecorderSettings

    reader, storage = _open(args)
    settings = RecorderSettings.from_storage(storage or StorageConfig())
    try:
        result = sweep(
            reader.store, reader.index, retention_days=settings.retention_days, max_bytes=settings.max_disk_bytes
        )
    finally:
        reader.close()
    print(f"removed {result.removed} sessions ({result.freed_bytes} bytes)")
    return 0
