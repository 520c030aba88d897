"""What a scripted stream puts on the wire: the planned SSE events, cut, stalled, salted with
injected bytes and re-chunked as a behaviour says. The server sends the steps in order and
then ends the body the way `Behaviour.cut` says."""

from __future__ import annotations

from dataclasses import dataclass

from .behaviours import Behaviour


@dataclass(frozen=True)
class Pause:
    ms: int


def stream_steps(events: list[bytes], behaviour: Behaviour) -> list[bytes | Pause]:
    """HTTP chunk payloads (never empty) and pauses, in sending order.

    Before event i: the pacing pause (i > 0), the stall when i == stream_stall_after, the
    injected bytes when i == stream_inject_after. Counts past the end act at the end, as
    a cut past the end does."""
    cut = behaviour.cut
    kept = events if cut is None else events[: cut[1]]
    end = len(kept)
    stall_at = _clamp(behaviour.stream_stall_after, end)
    inject_at = _clamp(behaviour.stream_inject_after, end)
    size = behaviour.stream_chunk_bytes
    steps: list[bytes | Pause] = []
    run: list[bytes] = []

    def flush() -> None:
        if size is None:
            steps.extend(run)
        else:
            data = b"".join(run)
            steps.extend(data[i : i + size] for i in range(0, len(data), size))
        run.clear()

    def pause(ms: int) -> None:
        flush()
        steps.append(Pause(ms))

    for index in range(end + 1):
        if 0 < index < end and behaviour.delay_between_events_ms and size is None:
            pause(behaviour.delay_between_events_ms)
        if index == stall_at:
            pause(behaviour.stream_stall_ms)
        if index == inject_at:
            run.append(behaviour.stream_inject.encode())  # type: ignore[union-attr]
        if index < end:
            run.append(kept[index])
    flush()
    if size is not None and behaviour.delay_between_events_ms:
        return _paced(steps, behaviour.delay_between_events_ms)
    return steps


def _clamp(count: int | None, end: int) -> int | None:
    return None if count is None else min(count, end)


def _paced(steps: list[bytes | Pause], ms: int) -> list[bytes | Pause]:
    """A pause between every two consecutive chunks (re-chunked streams pace by chunk)."""
    out: list[bytes | Pause] = []
    for step in steps:
        if out and isinstance(step, bytes) and isinstance(out[-1], bytes):
            out.append(Pause(ms))
        out.append(step)
    return out
