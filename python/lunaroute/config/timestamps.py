"""ISO 8601 timestamps in config files, normalised to RFC 3339 UTC (`...Z`)."""

from __future__ import annotations

from datetime import UTC, date, datetime


def parse_timestamp(value: object) -> datetime | None:
    """A timezone-aware UTC datetime, or None when `value` is not an ISO 8601 timestamp.

    Accepts strings (`2025-10-01T00:00:00Z`, `2025-10-01T02:00:00+02:00`, `2025-10-01`) and
    the datetime/date objects YAML and TOML decode unquoted timestamps into. A timestamp
    without a zone is UTC.
    """
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text[-1] in "zZ":
            text = text[:-1] + "+00:00"
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def format_timestamp(when: datetime) -> str:
    """RFC 3339 UTC with a `Z`: `2025-10-01T00:00:00Z`."""
    when = when.astimezone(UTC)
    spec = "microseconds" if when.microsecond else "seconds"
    text = when.replace(tzinfo=None).isoformat(timespec=spec)
    return text + "Z"


def now_utc() -> datetime:
    return datetime.now(UTC)
