"""Pages about traffic, read from the session index and files: overview, sessions, one
session, a conversation. Each runs on a UI worker thread (SQLite and zstd block)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson

from ..recording import RecordError, SessionFilter
from ..recording.query import parse_status, parse_when
from . import charts, formatting, transcript
from .http import Request, Response
from .recordings import COUNT_CAP, EVENTS_PER_PAGE, TURNS_PER_PAGE
from .rollup import GRIDS, total

if TYPE_CHECKING:
    from .app import UiApp

Page = tuple[int, str, dict[str, Any]]
PERIODS = tuple(GRIDS)
FILTER_FIELDS = ("since", "until", "model", "provider", "key", "tenant", "status", "conversation")
STATUS_CHOICES = ("200", "2xx", "4xx", "429", "5xx", "error")
TURNS_PER_SESSION_PAGE = 40


def overview(ui: UiApp, req: Request) -> Page:
    period = req.arg("period", "24h")
    if period not in GRIDS:
        period = "24h"
    bucket_s = GRIDS[period][0]
    ctx: dict[str, Any] = {"period": period, "periods": PERIODS, "recording": ui.recording_state()}
    if not ui.recordings.available():
        ctx["empty"] = True
        return 200, "overview.html", ctx
    now = time.time()
    if not ui.rollup.refresh(ui.recordings.reader().index.conn, now):
        ctx["building"] = True
        return 200, "overview.html", ctx
    starts, cells = ui.rollup.series(period, now)
    summary = total(cells)
    ok = [float(c.requests - c.errors) for c in cells]
    errors = [float(c.errors) for c in cells]
    ctx.update(
        summary=summary,
        p50=summary.percentile(0.5),
        p95=summary.percentile(0.95),
        since=starts[0] if starts else now,
        charts=[
            (
                "Requests",
                charts.bar_chart(
                    "requests per bucket",
                    starts,
                    bucket_s,
                    [("bar ok", "answered", ok), ("bar bad", "errors", errors)],
                    formatting.count,
                ),
                [("ok", "answered"), ("bad", "errors (4xx, 5xx)")],
            ),
            (
                "Latency",
                charts.line_chart(
                    "latency percentiles per bucket",
                    starts,
                    bucket_s,
                    [
                        ("line p50", "p50", [c.percentile(0.5) for c in cells]),
                        ("line p95", "p95", [c.percentile(0.95) for c in cells]),
                    ],
                    formatting.ms,
                ),
                [("p50", "p50"), ("p95", "p95")],
            ),
            (
                "Tokens",
                charts.bar_chart(
                    "tokens per bucket",
                    starts,
                    bucket_s,
                    [
                        ("bar tin", "input", [float(c.input_tokens) for c in cells]),
                        ("bar tout", "output", [float(c.output_tokens) for c in cells]),
                    ],
                    formatting.count,
                ),
                [("tin", "input"), ("tout", "output")],
            ),
            (
                "Cost",
                charts.bar_chart(
                    "cost per bucket",
                    starts,
                    bucket_s,
                    [("bar cost", "cost", [c.cost_cents for c in cells])],
                    formatting.cost,
                ),
                [("cost", "from the price table")],
            ),
        ],
        by_provider=sorted(ui.rollup.by(period, 0, now).items()),
        latest=ui.recordings.latest(10),
    )
    return 200, "overview.html", ctx


# ---------------------------------------------------------------------- sessions
def session_filter(req: Request) -> tuple[SessionFilter, dict[str, str], list[str]]:
    """The search form's fields → a SessionFilter; problems are named, never fatal."""
    values = {name: req.arg(name) for name in FILTER_FIELDS}
    problems: list[str] = []
    flt = SessionFilter()
    for name, attr in (("since", "since"), ("until", "until")):
        if values[name]:
            try:
                setattr(flt, attr, parse_when(values[name]))
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
    if values["status"]:
        try:
            flt.status = parse_status(values["status"])
        except ValueError as exc:
            problems.append(f"status: {exc}")
    flt.model = values["model"] or None
    flt.provider = values["provider"] or None
    flt.key_id = values["key"] or None
    flt.tenant = values["tenant"] or None
    flt.conversation_id = values["conversation"] or None
    return flt, values, problems


def sessions(ui: UiApp, req: Request) -> Page | Response:
    wanted = req.arg("id")
    if wanted and ui.recordings.available():
        row = ui.recordings.find(wanted)
        if row is not None:
            from .http import redirect

            return redirect(f"/sessions/{row['id']}")
    flt, values, problems = session_filter(req)
    ctx: dict[str, Any] = {
        "values": values,
        "problems": problems,
        "status_choices": STATUS_CHOICES,
        "missing": wanted if wanted else None,
        "suggest": ui.suggestions(),
    }
    if not ui.recordings.available() or problems:
        ctx["page"] = None
        return 200, "sessions.html", ctx
    page = ui.recordings.page(flt, before=req.arg("before") or None, after=req.arg("after") or None)
    ctx["page"] = page
    ctx["count_cap"] = COUNT_CAP
    kept = {k: v for k, v in values.items() if v}
    ctx["query"] = kept
    return 200, "sessions.html", ctx


def _row_or_404(ui: UiApp, session_id: str) -> dict[str, Any] | None:
    if not ui.recordings.available():
        return None
    return ui.recordings.find(session_id)


def session(ui: UiApp, req: Request, session_id: str) -> Page:
    row = _row_or_404(ui, session_id)
    if row is None:
        return 404, "error.html", {"title": "No such session", "message": f"No recorded session {session_id}."}
    try:
        obj = ui.recordings.document(row)
    except RecordError as exc:
        return 500, "error.html", {"title": "Damaged session", "message": f"{row['path']}: {exc}"}
    turns = transcript.request(obj)
    turn_page = _int(req.arg("turns"), 0)
    pages = max(1, -(-len(turns) // TURNS_PER_SESSION_PAGE))
    turn_page = min(max(0, turn_page), pages - 1)
    # The newest turns come first in paging order: the end of a long history is what matters.
    end = len(turns) - turn_page * TURNS_PER_SESSION_PAGE
    start = max(0, end - TURNS_PER_SESSION_PAGE)
    parts, stop = transcript.answer(obj)
    n_events = obj.get("stream_events", 0)
    event_page = _int(req.arg("events"), 0)
    event_pages = max(1, -(-n_events // EVENTS_PER_PAGE))
    event_page = min(max(0, event_page), event_pages - 1)
    events = []
    if obj.get("stream") and n_events:
        first = event_page * EVENTS_PER_PAGE
        try:
            raw = ui.recordings.events(row, max(0, first - 1), EVENTS_PER_PAGE + (1 if first else 0))
        except RecordError as exc:
            raw = []
            obj["events_error"] = str(exc)
        previous = raw[0].get("t_ms") if first and raw else None
        events = transcript.event_rows(raw[1:] if first else raw, previous)
    ctx = {
        "row": row,
        "s": obj,
        "turns": turns[start:end],
        "turn_page": turn_page,
        "turn_pages": pages,
        "turns_total": len(turns),
        "turns_shown": (start + 1, end),
        "answer": parts,
        "stop": stop,
        "events": events,
        "event_page": event_page,
        "event_pages": event_pages,
    }
    return 200, "session.html", ctx


def raw(ui: UiApp, req: Request, session_id: str) -> Response:
    row = _row_or_404(ui, session_id)
    if row is None:
        return Response(404, b'{"error": "no such session"}\n', "application/json")
    try:
        obj = ui.recordings.raw(row)
    except RecordError as exc:
        return Response(500, orjson.dumps({"error": str(exc)}) + b"\n", "application/json")
    body = orjson.dumps(obj, option=orjson.OPT_INDENT_2, default=str) + b"\n"
    return Response(200, body, "application/json; charset=utf-8")


def conversation(ui: UiApp, req: Request, conversation_id: str) -> Page:
    if not ui.recordings.available():
        return 404, "error.html", {"title": "No recordings", "message": "Nothing has been recorded yet."}
    page = max(0, _int(req.arg("page"), 0))
    found, n = ui.recordings.conversation(conversation_id, page)
    if n == 0:
        return 404, "error.html", {"title": "No such conversation", "message": f"No sessions in {conversation_id}."}
    turns = []
    for i, (row, obj) in enumerate(found):
        number = page * TURNS_PER_PAGE + i + 1
        if isinstance(obj, RecordError):
            turns.append({"n": number, "row": row, "damaged": str(obj)})
            continue
        parts, stop = transcript.answer(obj)
        turns.append(
            {
                "n": number,
                "row": row,
                "s": obj,
                "input": transcript.new_input(transcript.request(obj), number == 1),
                "answer": parts,
                "stop": stop,
            }
        )
    totals = ui.recordings.conversation_totals(conversation_id)
    ctx = {
        "conversation_id": conversation_id,
        "turns": turns,
        "page": page,
        "pages": max(1, -(-n // TURNS_PER_PAGE)),
        "total": n,
        "totals": totals,
    }
    return 200, "conversation.html", ctx


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default
