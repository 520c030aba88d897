"""Charts drawn on the server as inline SVG: no JavaScript, nothing for the CSP to allow.

Colours come from classes the stylesheet defines (never style attributes, which the CSP
forbids); each bar and point carries a <title>, which browsers show on hover.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 190
LEFT, RIGHT, TOP, BOTTOM = 56, 10, 10, 24
Series = tuple[str, str, Sequence[float | None]]  # (css class, label, one value per bucket)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^n at or above `value` (1 for nothing)."""
    if value <= 0 or math.isnan(value):
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        top: float = step * 10**exp
        if top >= value * 0.999999:
            return top
    return 10.0 ** (exp + 1)


def time_label(ts: float, bucket_s: int) -> str:
    when = datetime.fromtimestamp(ts, UTC)
    if bucket_s >= 3600:
        return when.strftime("%a %H:%M")
    return when.strftime("%H:%M")


def bar_chart(
    title: str, starts: Sequence[float], bucket_s: int, stacks: Sequence[Series], fmt: Callable[[float], str]
) -> Markup:
    """Stacked bars, one per bucket."""
    n = len(starts)
    totals = [sum((s[2][i] or 0.0) for s in stacks) for i in range(n)]
    top = nice_ceiling(max(totals, default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, n)
    bar_w = max(1.0, slot * 0.8)
    out = [_open(title), *_axes(top, fmt, starts, bucket_s, slot)]
    for i in range(n):
        y: float = TOP + plot_h
        x = LEFT + i * slot + (slot - bar_w) / 2
        label = time_label(starts[i], bucket_s)
        for css, name, values in stacks:
            v = values[i] or 0.0
            if v <= 0:
                continue
            h = plot_h * v / top
            y -= h
            out.append(
                f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}">'
                f"<title>{escape(label)} · {escape(name)}: {escape(fmt(v))}</title></rect>"
            )
    out.append("</svg>")
    return Markup("".join(out))


def line_chart(
    title: str, starts: Sequence[float], bucket_s: int, lines: Sequence[Series], fmt: Callable[[float], str]
) -> Markup:
    """Lines with a dot per bucket; a bucket without a value breaks the line."""
    n = len(starts)
    values = [v for _, _, vs in lines for v in vs if v is not None]
    top = nice_ceiling(max(values, default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, n)
    out = [_open(title), *_axes(top, fmt, starts, bucket_s, slot)]
    for css, name, vs in lines:
        runs: list[list[str]] = [[]]
        dots: list[str] = []
        for i, v in enumerate(vs):
            if v is None:
                runs.append([])
                continue
            x = LEFT + i * slot + slot / 2
            y = TOP + plot_h - plot_h * min(v, top) / top
            runs[-1].append(f"{x:.1f},{y:.1f}")
            dots.append(
                f'<circle class="{css}" cx="{x:.1f}" cy="{y:.1f}" r="2.2">'
                f"<title>{escape(time_label(starts[i], bucket_s))} · {escape(name)}: {escape(fmt(v))}</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                out.append(f'<polyline class="{css}" points="{" ".join(run)}"/>')
        out += dots
    out.append("</svg>")
    return Markup("".join(out))


def _open(title: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">'
    )


def _axes(top: float, fmt: Callable[[float], str], starts: Sequence[float], bucket_s: int, slot: float) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    out = []
    for frac in (0.0, 0.5, 1.0):
        y = TOP + plot_h - plot_h * frac
        out.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>')
        out.append(
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(top * frac))}</text>'
        )
    n = len(starts)
    every = max(1, math.ceil(n / 6))
    for i in range(0, n, every):
        x = LEFT + i * slot + slot / 2
        out.append(
            f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
            f"{escape(time_label(starts[i], bucket_s))}</text>"
        )
    return out
