#!/usr/bin/env python3
"""The docs' performance charts, one per scenario, from run_bench.py results.

    python bench/e2e/perf_charts.py bench/results/<stamp>/results.json [older/results.json ...]
    python bench/e2e/perf_charts.py RUN.json --md docs/perf-table.md --entries lunaroute,lunaroute-features

Writes docs/img/perf-<scenario>.png (--out-dir): requests/s at c=16 (--rps-conc) per entry,
and the p50 latency each entry adds at c=1 (--lat-conc) over `direct` of its own run. Entries
(--entries, in this order, those present): LunaRoute, the Rust LunaRoute, LiteLLM, nginx
proxy_pass, direct. `direct` answers translated scenarios in the upstream's dialect, so its bar
there is that scenario's baseline.

With several files, the first one that has an entry for a scenario supplies it: later files
only add entries the earlier ones lack (LiteLLM from an older run, say). Every chart's title
names the run each entry came from; compare bars from different runs as orders of magnitude
only. Prints a Markdown table of the same figures (and writes it to --md).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable (PEP 366)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "bench.e2e"

from . import summary
from .plots import GATEWAY_COLORS
from .scenarios import SCENARIOS

REPO = Path(__file__).resolve().parents[2]
DEFAULT_ENTRIES = ("lunaroute", "lunaroute-rs", "litellm", "nginx-proxy", "direct")
LABELS = {
    "lunaroute": "LunaRoute",
    "lunaroute-rec": "LunaRoute, recording",
    "lunaroute-pii": "LunaRoute, PII",
    "lunaroute-features": "LunaRoute, all features",
    "lunaroute-rs": "LunaRoute Rust\n(erans/lunaroute)",
    "litellm": "LiteLLM",
    "nginx-proxy": "nginx\nproxy_pass",
    "direct": "direct\n(no hop)",
}
DESCRIPTIONS = {
    "oai": "OpenAI passthrough",
    "oai_stream": "OpenAI stream passthrough (30 events)",
    "anth": "Anthropic passthrough",
    "anth_stream": "Anthropic stream passthrough (30 events)",
    "oai_to_anth": "OpenAI client → Anthropic upstream (translated)",
    "oai_to_anth_stream": "OpenAI client → Anthropic upstream, streamed (translated)",
    "anth_to_oai": "Anthropic client → OpenAI upstream (translated)",
    "anth_to_oai_stream": "Anthropic client → OpenAI upstream, streamed (translated)",
}


@dataclass(frozen=True)
class Run:
    label: str  # the run's stamp (results.json meta.stamp), else its directory's name
    rows: list[dict]


@dataclass(frozen=True)
class Point:
    entry: str
    scenario: str  # the chart's scenario
    measured: str  # the scenario the figures are of (direct: the baseline)
    run: str
    rps: float | None
    rps_ratio: float | None  # ÷ direct of the same run, same concurrency
    added_p50_us: float | None


def load_run(path: Path) -> Run:
    """Rows are recomputed from the raw results when the file has them, so older files get the
    current summary's figures; else the file's own summary rows."""
    doc = json.loads(path.read_text())
    rows = summary.summarize(doc["results"])["rows"] if "results" in doc else doc["summary"]["rows"]
    label = (doc.get("meta") or {}).get("stamp") or path.parent.name or path.stem
    return Run(label, rows)


def _row(run: Run, entry: str, scenario: str, keys: tuple[str, ...]) -> dict | None:
    for r in run.rows:
        if r["gateway"] == entry and r.get("scenario") == scenario and not r.get("error"):
            if any(r.get(k) is not None for k in keys):
                return r
    return None


def merge(runs: list[Run], entries: tuple[str, ...], rps_conc: int, lat_conc: int) -> dict[str, list[Point]]:
    """Per scenario (SCENARIOS order), one Point per entry that some run has, from the first
    such run. Scenarios only `direct` has are left out."""
    rps_key, ratio_key, lat_key = f"rps_c{rps_conc}", f"rps_ratio_c{rps_conc}", f"added_p50_us_c{lat_conc}"
    out: dict[str, list[Point]] = {}
    for scen in SCENARIOS:
        points = []
        for entry in entries:
            measured = SCENARIOS[scen].baseline if entry == "direct" else scen
            keys = (rps_key,) if entry == "direct" else (rps_key, lat_key)
            for run in runs:
                row = _row(run, entry, measured, keys)
                if row is not None:
                    points.append(
                        Point(entry, scen, measured, run.label, row.get(rps_key), row.get(ratio_key), row.get(lat_key))
                    )
                    break
        if any(p.entry != "direct" for p in points):
            out[scen] = points
    return out


def sources(points: list[Point]) -> str:
    """'runA: lunaroute, direct; runB: litellm' in order of first appearance."""
    by: dict[str, list[str]] = {}
    for p in points:
        by.setdefault(p.run, []).append(p.entry)
    return "; ".join(f"{run}: {', '.join(names)}" for run, names in by.items())


def markdown(charts: dict[str, list[Point]], rps_conc: int, lat_conc: int) -> str:
    lines = [
        f"| scenario | entry | run | req/s c={rps_conc} | ÷ direct c={rps_conc} | added p50 c={lat_conc} (µs) |",
        "|---|---|---|---:|---:|---:|",
    ]

    def num(v: float | None, fmt: str) -> str:
        return "-" if v is None else format(v, fmt)

    for scen, points in charts.items():
        for p in points:
            name = p.entry if p.measured == scen else f"{p.entry} ({p.measured})"
            lines.append(
                f"| {scen} | {name} | {p.run} | {num(p.rps, ',.0f')} | {num(p.rps_ratio, '.3f')} | "
                f"{num(p.added_p50_us, '+,.0f')} |"
            )
    return "\n".join(lines) + "\n"


def _bars(ax, labels: list[str], values: list[float | None], colors: list[str], fmt: str) -> str:
    """Bars with their values written on top; a log axis when the values span more than 20x
    (direct beside LiteLLM would otherwise flatten every other bar)."""
    from matplotlib.ticker import FuncFormatter

    known = [v for v in values if v is not None and v > 0]
    if known and max(known) / min(known) > 20:
        ax.set_yscale("log")
        ax.set_ylim(10 ** math.floor(math.log10(min(known))), max(known) * 2)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    xs = range(len(labels))
    ax.bar(xs, [v or 0.0 for v in values], color=colors)
    for x, v in zip(xs, values):
        ax.annotate(
            "n/a" if v is None else format(v, fmt),
            (x, v or 0.0),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 2),
            textcoords="offset points",
        )
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return " (log scale)" if ax.get_yscale() == "log" else ""


def label(p: Point) -> str:
    name = LABELS.get(p.entry, p.entry)
    return name if p.measured == p.scenario else f"{name.splitlines()[0]}\n({p.measured}: upstream dialect)"


def plot(
    plt, scen: str, points: list[Point], out_dir: Path, rps_conc: int, lat_conc: int, absent: tuple[str, ...] = ()
) -> Path:
    """`absent`: entries other charts have and this one lacks (the title says so)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6), gridspec_kw={"width_ratios": [1.15, 1]})
    color = [GATEWAY_COLORS.get(p.entry, "#2ca02c") for p in points]
    scale = _bars(left, [label(p) for p in points], [p.rps for p in points], color, ",.0f")
    left.set_ylabel(f"requests/s, c={rps_conc} (gateway: 1 worker, 1 core)")
    left.set_title(f"throughput at c={rps_conc}{scale}", fontsize=10)
    hop = [p for p in points if p.entry != "direct"]
    values = [p.added_p50_us for p in hop]
    scale = _bars(
        right,
        [LABELS.get(p.entry, p.entry) for p in hop],
        values,
        [GATEWAY_COLORS.get(p.entry, "#2ca02c") for p in hop],
        "+,.0f",
    )
    right.set_ylabel(f"added p50 latency vs direct, c={lat_conc} (µs)")
    right.set_title(f"latency added at c={lat_conc}{scale}", fontsize=10)
    missing = f"; not measured here: {', '.join(absent)}" if absent else ""
    fig.suptitle(f"{scen}: {DESCRIPTIONS.get(scen, scen)}\nruns: {sources(points)}{missing}", fontsize=9)
    fig.tight_layout()
    path = out_dir / f"perf-{scen}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+", type=Path, help="results.json of run_bench.py; earlier files win")
    ap.add_argument("--out-dir", type=Path, default=REPO / "docs" / "img")
    ap.add_argument("--md", type=Path, help="also write the Markdown table here")
    ap.add_argument("--entries", default=",".join(DEFAULT_ENTRIES), help="entries, in chart order")
    ap.add_argument("--rps-conc", type=int, default=16)
    ap.add_argument("--lat-conc", type=int, default=1)
    ap.add_argument("--no-png", action="store_true", help="only the Markdown table")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    runs = [load_run(p) for p in args.results]
    charts = merge(runs, tuple(e for e in args.entries.split(",") if e), args.rps_conc, args.lat_conc)
    if not charts:
        raise SystemExit(f"no entry of {args.entries} has a scenario in {', '.join(map(str, args.results))}")
    table = markdown(charts, args.rps_conc, args.lat_conc)
    print(table, end="")
    if args.md:
        args.md.write_text(table)
    if args.no_png:
        return 0
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("matplotlib is not installed (bash bench/e2e/setup.sh); --no-png for the table only") from None
    args.out_dir.mkdir(parents=True, exist_ok=True)
    everywhere = list(dict.fromkeys(p.entry for points in charts.values() for p in points))
    for scen, points in charts.items():
        absent = tuple(e for e in everywhere if e not in {p.entry for p in points})
        path = plot(plt, scen, points, args.out_dir, args.rps_conc, args.lat_conc, absent)
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
