"""`lunaroute export --since D [--until T] [--format ndjson|json] --output FILE|-` (CONTRACT §2, §6)."""

from __future__ import annotations

import argparse
import os
import sys

from .cmd_sessions import reader_for, warn_skipped, when_arg
from .common import PROG


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export",
        parents=parents,
        help="write recorded sessions as NDJSON or JSON",
        description="Write the recorded sessions of a time range, oldest first: one JSON object per "
        "line (ndjson) or one JSON array (json). Damaged session files are reported and skipped.",
    )
    p.add_argument("--since", required=True, type=when_arg, metavar="D", help="a duration (1h, 7d) or ISO 8601 time")
    p.add_argument("--until", type=when_arg, metavar="D", help="end of the range (exclusive), same forms")
    p.add_argument("--format", choices=("ndjson", "json"), default="ndjson", help="default: ndjson")
    p.add_argument("--output", required=True, metavar="FILE", help="the file to write; - for stdout")
    p.add_argument("--tenant", help="only this tenant")
    p.add_argument("--key", dest="key_id", metavar="ID", help="only this client key id")
    p.add_argument("--model", help="only this model (served or asked for)")
    p.add_argument("--provider", help="only this provider")
    p.add_argument("--status", type=status_arg, help="a status (200), a class (4xx) or 'error'")
    p.add_argument("--conversation", metavar="ID", help="only this conversation id")
    p.add_argument("--no-events", action="store_true", help="leave out the SSE events of streamed sessions")
    p.set_defaults(run=run)


def status_arg(text: str) -> tuple[int, int]:
    from ..recording.query import parse_status

    try:
        return parse_status(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from ..recording.index import SessionFilter
    from ..recording.query import Progress, export

    flt = SessionFilter(
        since=args.since,
        until=args.until,
        tenant=args.tenant,
        key_id=args.key_id,
        model=args.model,
        provider=args.provider,
        status=args.status,
        conversation_id=args.conversation,
    )
    reader = reader_for(args)
    to_stdout = args.output == "-"
    try:
        bar = Progress(reader.index.count(flt) if sys.stderr.isatty() else 0, "export")
        if to_stdout:
            out = sys.stdout.buffer
        else:
            # Written beside the target and renamed: an interrupted export leaves no half file.
            tmp = f"{args.output}.{os.getpid()}.partial"
            out = open(tmp, "wb")
        try:
            result = export(
                reader, flt, out, fmt=args.format, with_events=not args.no_events, on_skip=warn_skipped, progress=bar
            )
            out.flush()
        except BaseException:
            if not to_stdout:
                out.close()
                os.unlink(tmp)
            raise
        if not to_stdout:
            out.close()
            os.replace(tmp, args.output)
        bar.end()
    finally:
        reader.close()
    skipped = f", {result.skipped} damaged skipped" if result.skipped else ""
    where = "stdout" if to_stdout else args.output
    print(f"{PROG}: exported {result.written} sessions to {where}{skipped}", file=sys.stderr)
    return 0
