"""Verdict, Markdown report and plots of a streams-at-scale run."""

from __future__ import annotations

from pathlib import Path

from .plots import _plt


def _ms(us: float | None) -> str:
    return "-" if us is None else f"{us / 1000.0:,.2f}"


def one_line(res: dict) -> str:
    if res.get("error"):
        return res["error"]
    g = res.get("gap_us") or {}
    peak = f" peak RSS {res['peak_rss_kb'] / 1024:.1f} MiB" if res.get("peak_rss_kb") else ""
    return (
        f"{res.get('outcomes')} short={res.get('short_streams')} events {res.get('events_received')}/"
        f"{res.get('events_expected')} gap p50={_ms(g.get('p50'))} p99={_ms(g.get('p99'))} "
        f"max={_ms(g.get('max'))} ms{peak} other={res.get('accounting', {}).get('foreign_cpu_pct')}%"
    )


def verdict(doc: dict) -> dict:
    lr = doc["phases"].get("lunaroute") or {}
    direct = doc["phases"].get("direct") or {}
    n = doc["meta"]["settings"]["streams"]
    t = doc["meta"]["targets"]
    out: dict = {
        "all_streams_ok": bool(lr) and (lr.get("outcomes") or {}).get("completed") == n and not lr.get("short_streams")
    }
    gap = (lr.get("gap_us") or {}).get("p99")
    if gap is not None:
        out["gap_p99_ms"] = round(gap / 1000.0, 3)
        out["gap_p99_meets_target"] = gap / 1000.0 <= t["gap_p99_ms"]
        out["gap_max_ms"] = round(lr["gap_us"]["max"] / 1000.0, 3)
    if (lr.get("gap_us_steady") or {}).get("p99") is not None:
        out["gap_p99_steady_ms"] = round(lr["gap_us_steady"]["p99"] / 1000.0, 3)
    dgap = (direct.get("gap_us") or {}).get("p99")
    if dgap is not None:
        out["direct_gap_p99_ms"] = round(dgap / 1000.0, 3)
        if gap is not None:
            out["added_gap_p99_ms"] = round((gap - dgap) / 1000.0, 3)
    if lr.get("peak_rss_kb"):
        out["peak_rss_mb"] = round(lr["peak_rss_kb"] / 1024.0, 1)
        out["rss_meets_target"] = lr["peak_rss_kb"] / 1024.0 <= t["rss_mb"]
    return out


def _phase_rows(doc: dict) -> list[str]:
    rows = [
        "| phase | streams completed | short | other outcomes | events received / due | gap p50 ms | gap p90 ms "
        "| gap p99 ms | gap p99.9 ms | gap max ms | steady p99 ms (window s) | head p50 / p99 ms "
        "| client CPU s | other CPU % |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in doc["phases"].items():
        if r.get("error"):
            rows.append(f"| {name} | FAILED: {r['error'][:200]} |" + " |" * 12)
            continue
        g, st, h = r.get("gap_us") or {}, r.get("gap_us_steady") or {}, r.get("head_us") or {}
        outc = dict(r.get("outcomes") or {})
        done = outc.pop("completed", 0)
        rows.append(
            f"| {name} | {done:,} | {r.get('short_streams', 0)} | {outc or '-'} | "
            f"{r.get('events_received', 0):,} / {r.get('events_expected', 0):,} | {_ms(g.get('p50'))} | "
            f"{_ms(g.get('p90'))} | {_ms(g.get('p99'))} | {_ms(g.get('p999'))} | {_ms(g.get('max'))} | "
            f"{_ms(st.get('p99'))} ({r.get('steady_window_s', '-')}) | "
            f"{_ms(h.get('p50'))} / {_ms(h.get('p99'))} | "
            f"{r.get('client_cpu_s', '-')} | {(r.get('accounting') or {}).get('foreign_cpu_pct', '-')} |"
        )
    return rows


def render(doc: dict, plots: list[str]) -> str:
    m, s, v = doc["meta"], doc["meta"]["settings"], doc["verdict"]
    t = m["targets"]
    lr = doc["phases"].get("lunaroute") or {}
    samples = lr.get("gateway_samples") or []
    cpu = [x["cpu_pct"] for x in samples if x.get("cpu_pct") is not None]
    lines = (
        [
            f"# Streams at scale: {m['stamp']}",
            "",
            f"`{m['command']}`, {m['started_at']} → {m['finished_at']} (UTC). Python {m['python']}, kernel "
            f"{m['kernel']}; load average at start {m['loadavg_at_start']}.",
            "",
            f"{s['streams']:,} concurrent streams (`{s['scenario']}`: client speaks {s['client_dialect']}, upstream "
            f"{s['upstream_dialect']}), opened evenly over {s['ramp_s']} s; each carries {s['events']} paced events, "
            f"one every {s['interval_ms']} ms ({s['aggregate_events_per_s']:,} events/s in total once all are open), "
            f"each stamped with the upstream's send time (CLOCK_MONOTONIC). One LunaRoute worker on CPU "
            f"{s['gateway_cpu']}; the paced upstream and the clients on CPU {s['load_cpu']}.",
            "",
            "## Verdict",
            "",
            f"- every stream complete through LunaRoute: **{'yes' if v.get('all_streams_ok') else 'NO'}**",
            f"- gap (upstream send → client receive) p99 through LunaRoute: **{v.get('gap_p99_ms', '-')} ms** "
            f"(target ≤ {t['gap_p99_ms']} ms: {'met' if v.get('gap_p99_meets_target') else 'NOT met'}); max "
            f"{v.get('gap_max_ms', '-')} ms; steady window p99 {v.get('gap_p99_steady_ms', '-')} ms",
            f"- the same clients straight to the upstream (the floor): p99 {v.get('direct_gap_p99_ms', '-')} ms, so "
            f"LunaRoute adds {v.get('added_gap_p99_ms', '-')} ms at p99",
            f"- LunaRoute peak RSS (VmHWM of its process tree): **{v.get('peak_rss_mb', '-')} MiB** (target ≤ "
            f"{t['rss_mb']} MB: {'met' if v.get('rss_meets_target') else 'NOT met'}); before the streams "
            f"{round((lr.get('rss_before_kb') or 0) / 1024, 1)} MiB, "
            f"after {round((lr.get('rss_after_kb') or 0) / 1024, 1)} MiB",
            f"- LunaRoute CPU during the run: mean {round(sum(cpu) / len(cpu), 1) if cpu else '-'} %, peak "
            f"{max(cpu) if cpu else '-'} % of one core; "
            f"open files peak {max((x['fds'] for x in samples), default='-')}",
            f"- LunaRoute start-up (spawn → first 200): "
            f"{doc.get('lunaroute_startup', {}).get('first_200_s', '-')} s; "
            f"exit code {doc.get('lunaroute_exit_code', '-')}",
            "",
            "## Phases",
            "",
        ]
        + _phase_rows(doc)
        + [
            "",
            "`gap` = client receive time − upstream send time of each paced event; `steady` = only events received "
            "while every stream was open; `head` = request written → response head (the paced events start one "
            "interval later). `other CPU %` = work outside the benchmark during the phase (quiet-machine guard: "
            f"wait until < {s['quiet_threshold_pct']} % of a CPU before each phase).",
            "",
            f"Upstream counters: {doc.get('upstream_stats')}",
            "",
        ]
    )
    if plots:
        lines += ["## Plots", ""] + [f"![{p[:-4]}]({p})" for p in plots] + [""]
    else:
        lines += ["No plots (matplotlib is not installed).", ""]
    return "\n".join(lines)


def write_plots(doc: dict, out: Path) -> list[str]:
    plt = _plt()
    if plt is None:
        return []
    files = []
    phases = {k: v for k, v in doc["phases"].items() if v.get("gap_cdf_us")}
    target_us = doc["meta"]["targets"]["gap_p99_ms"] * 1000.0
    if phases:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for name, r in phases.items():
            pts = r["gap_cdf_us"]
            ax.plot(
                [p[1] for p in pts], [p[0] for p in pts], label=name, color="#7f7f7f" if name == "direct" else "#1f77b4"
            )
        ax.axvline(target_us, color="#d62728", linestyle="--", linewidth=1, label="p99 target")
        ax.set_xscale("log")
        ax.set_xlabel("gap: upstream send → client receive (µs)")
        ax.set_ylabel("percentile")
        ax.set_title(f"{doc['meta']['settings']['streams']:,} concurrent streams: gap distribution")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "stream_gap_cdf.png", dpi=110)
        plt.close(fig)
        files.append("stream_gap_cdf.png")
    lr = doc["phases"].get("lunaroute") or {}
    if lr.get("timeline") or lr.get("gateway_samples"):
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True)
        for name, r in doc["phases"].items():
            tl = r.get("timeline") or []
            style = "--" if name == "direct" else "-"
            color = "#7f7f7f" if name == "direct" else "#1f77b4"
            ax1.plot(
                [x["t_s"] + 0.5 for x in tl], [x["p99_us"] / 1000 for x in tl], style, color=color, label=f"{name} p99"
            )
            ax1.plot(
                [x["t_s"] + 0.5 for x in tl],
                [x["p50_us"] / 1000 for x in tl],
                style,
                color=color,
                alpha=0.45,
                label=f"{name} p50",
            )
        ax1.set_ylabel("gap (ms), per second")
        ax1.grid(alpha=0.3)
        ax1.legend(fontsize=8, loc="upper left")
        tl = lr.get("timeline") or []
        ax1b = ax1.twinx()
        ax1b.plot([x["t_s"] + 0.5 for x in tl], [x["open_streams"] for x in tl], color="#bbbbbb", linewidth=1)
        ax1b.set_ylabel("open streams", color="#888888")
        sm = lr.get("gateway_samples") or []
        ax2.plot([x["t_s"] for x in sm], [x["rss_kb"] / 1024 for x in sm], color="#2ca02c", label="RSS (MiB)")
        ax2.set_ylabel("LunaRoute RSS (MiB)", color="#2ca02c")
        ax2.set_xlabel("seconds since the first stream started")
        ax2.grid(alpha=0.3)
        ax2b = ax2.twinx()
        ax2b.plot([x["t_s"] for x in sm], [x["cpu_pct"] for x in sm], color="#ff7f0e", alpha=0.7)
        ax2b.set_ylabel("LunaRoute CPU %", color="#ff7f0e")
        fig.tight_layout()
        fig.savefig(out / "stream_timeline.png", dpi=110)
        plt.close(fig)
        files.append("stream_timeline.png")
    return files
