"""PNG plots of a run (matplotlib, Agg backend). Without matplotlib, no plots: the report says so."""

from __future__ import annotations

from pathlib import Path

from .scenarios import SCENARIOS

GATEWAY_COLORS = {
    "direct": "#7f7f7f",
    "lunaroute": "#1f77b4",
    "lunaroute-rec": "#17becf",
    "lunaroute-pii": "#9467bd",
    "lunaroute-features": "#aec7e8",
    "lunaroute-rs": "#ff7f0e",
    "nginx-proxy": "#bcbd22",
    "litellm": "#d62728",
    "direct-end": "#c7c7c7",
}


def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        return plt
    except ImportError:
        return None


def _gateways(rows: list[dict]) -> list[str]:
    seen: list[str] = []
    for r in rows:
        if r["gateway"] not in seen and r["gateway"] != "direct-end" and "scenario" in r:
            seen.append(r["gateway"])
    return seen


def _value(rows: list[dict], gw: str, scen: str, key: str) -> float | None:
    for r in rows:
        if r["gateway"] == gw and r.get("scenario") == scen:
            return r.get(key)
    return None


def _grouped_bars(
    ax, scens: list[str], series: list[tuple[str, list[float | None], str]], ylabel: str, log: bool = False
) -> None:
    n = max(1, len(series))
    width = 0.8 / n
    for i, (label, values, color) in enumerate(series):
        xs = [j + (i - (n - 1) / 2) * width for j in range(len(scens))]
        vals = [v if v is not None else 0.0 for v in values]
        ax.bar(xs, vals, width, label=label, color=color)
    ax.set_xticks(range(len(scens)))
    ax.set_xticklabels(scens, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)
    ax.axhline(0, color="black", linewidth=0.5)


def plot_throughput(plt, rows: list[dict], concs: list[int], out: Path) -> str | None:
    concs = [c for c in concs if c != 1] or concs
    gws = _gateways(rows)
    scens = [s for s in SCENARIOS if any(r.get("scenario") == s for r in rows)]
    if not scens:
        return None
    fig, axes = plt.subplots(1, len(concs), figsize=(5.5 * len(concs), 4.5), squeeze=False)
    log = "litellm" in gws
    for ax, c in zip(axes[0], concs):
        series = []
        for gw in gws:
            # direct has only same-dialect scenarios: show its baseline under translated ones too
            vals = [
                _value(rows, gw, s, f"rps_c{c}")
                if gw != "direct"
                else _value(rows, gw, SCENARIOS[s].baseline, f"rps_c{c}")
                for s in scens
            ]
            series.append(
                (gw if gw != "direct" else "direct (upstream dialect)", vals, GATEWAY_COLORS.get(gw, "#2ca02c"))
            )
        _grouped_bars(ax, scens, series, "requests/s", log=log)
        ax.set_title(f"throughput, c={c}")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    path = out / "throughput.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def plot_added_latency(plt, rows: list[dict], concs: list[int], out: Path) -> str | None:
    gws = [g for g in _gateways(rows) if g != "direct"]
    concs = [c for c in (1, 64) if c in concs] or concs[:2]
    scens = [s for s in SCENARIOS if any(r.get("scenario") == s and r["gateway"] in gws for r in rows)]
    if not gws or not scens:
        return None
    fig, axes = plt.subplots(1, len(concs), figsize=(6 * len(concs), 4.5), squeeze=False)
    for ax, c in zip(axes[0], concs):
        series = []
        for gw in gws:
            for p in ("p50", "p99"):
                vals = [_value(rows, gw, s, f"added_{p}_us_c{c}") for s in scens]
                series.append((f"{gw} +{p}", vals, GATEWAY_COLORS.get(gw, "#2ca02c")))
        _grouped_bars(ax, scens, series, "added latency vs direct (µs)", log="litellm" in gws)
        for bar_group, (_label, _v, _c) in zip(ax.containers, series):
            if _label.endswith("p99"):
                for patch in bar_group:
                    patch.set_alpha(0.5)
        ax.set_title(f"added latency, c={c} (light = p99)")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    path = out / "added_latency.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def plot_cpu(plt, rows: list[dict], concs: list[int], out: Path) -> str | None:
    gws = [g for g in _gateways(rows) if g != "direct"]
    scens = [s for s in SCENARIOS if any(r.get("scenario") == s and r["gateway"] in gws for r in rows)]
    if not gws or not scens:
        return None
    fig, axes = plt.subplots(1, len(gws), figsize=(6 * len(gws), 4.5), squeeze=False)
    cmap = plt.get_cmap("viridis")
    for ax, gw in zip(axes[0], gws):
        series = [
            (
                f"c={c}",
                [_value(rows, gw, s, f"gw_cpu_us_per_req_c{c}") for s in scens],
                cmap(i / max(1, len(concs) - 1)),
            )
            for i, c in enumerate(concs)
        ]
        _grouped_bars(ax, scens, series, "gateway CPU per request (µs)")
        ax.set_title(f"{gw}: CPU per request")
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "cpu_per_request.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def plot_ttfb(plt, rows: list[dict], ttfb_concs: list[int], out: Path) -> str | None:
    gws = _gateways(rows)
    scens = [s for s in SCENARIOS if SCENARIOS[s].stream and any(r.get("scenario") == s for r in rows)]
    if not scens or not ttfb_concs:
        return None
    c = ttfb_concs[0]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    series = []
    for gw in gws:
        for p in ("p50", "p99"):
            vals = [
                _value(rows, gw, s if gw != "direct" else SCENARIOS[s].baseline, f"ttfb_{p}_us_c{c}") for s in scens
            ]
            series.append((f"{gw} {p}", vals, GATEWAY_COLORS.get(gw, "#2ca02c")))
    _grouped_bars(ax, scens, series, "time to first body byte (µs)", log="litellm" in gws)
    for bar_group, (label, _v, _c) in zip(ax.containers, series):
        if label.endswith("p99"):
            for patch in bar_group:
                patch.set_alpha(0.5)
    ax.set_title(f"streams: time to first byte, c={c} (light = p99; direct = upstream dialect)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "ttfb.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def write_plots(rows: list[dict], concs: list[int], ttfb_concs: list[int], out: Path) -> tuple[list[str], str | None]:
    """Returns (written file names, reason there are none)."""
    plt = _plt()
    if plt is None:
        return [], "matplotlib is not installed (pip install matplotlib, or bash bench/e2e/setup.sh)"
    files = [
        plot_throughput(plt, rows, concs, out),
        plot_added_latency(plt, rows, concs, out),
        plot_cpu(plt, rows, concs, out),
        plot_ttfb(plt, rows, ttfb_concs, out),
    ]
    return [f for f in files if f], None
