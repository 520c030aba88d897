"""The Markdown report of a run (report.md), from results.json's content."""

from __future__ import annotations

from .scenarios import SCENARIOS


def f(v: object, nd: int = 0) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)):
        return f"{v:,.{nd}f}"
    return str(v)


def signed(v: float | None, nd: int = 0) -> str:
    return "-" if v is None else f"{v:+,.{nd}f}"


def table(header: list[str], rows: list[list[str]], align: str | None = None, labels: int = 2) -> list[str]:
    """A Markdown table; the first `labels` columns are left-aligned, the rest right-aligned."""
    align = align or "|" + "---|" * labels + "---:|" * (len(header) - labels)
    return ["| " + " | ".join(header) + " |", align] + ["| " + " | ".join(r) + " |" for r in rows]


def scen_rows(rows: list[dict]) -> list[dict]:
    return [r for r in rows if "scenario" in r]


def headline(rows: list[dict], gw: str, concs: list[int], ttfb_c: int | None) -> list[str]:
    mine = [r for r in scen_rows(rows) if r["gateway"] == gw]
    if not mine:
        return []
    tp = [c for c in concs if c != 1]
    lat = [c for c in (1, 64) if c in concs]
    header = (
        ["scenario", "kind"]
        + [f"req/s c={c}" for c in tp]
        + [f"÷ direct c={c}" for c in tp[-1:]]
        + [f"+p50 / +p99 c={c} µs" for c in lat]
        + ([f"TTFB +p50 / +p99 c={ttfb_c} µs"] if ttfb_c else [])
        + ["CPU µs/req c=" + str(tp[0] if tp else concs[0])]
    )
    out = []
    for r in mine:
        s = SCENARIOS[r["scenario"]]
        kind = ("translated" if s.translated else "same dialect") + (", stream" if s.stream else "")
        cells = [r["scenario"], kind] + [f(r.get(f"rps_c{c}")) for c in tp]
        cells += [f(r.get(f"rps_ratio_c{c}"), 3) for c in tp[-1:]]
        cells += [f"{signed(r.get(f'added_p50_us_c{c}'))} / {signed(r.get(f'added_p99_us_c{c}'))}" for c in lat]
        if ttfb_c:
            cells.append(
                f"{signed(r.get(f'ttfb_added_p50_us_c{ttfb_c}'))} / {signed(r.get(f'ttfb_added_p99_us_c{ttfb_c}'))}"
                if s.stream
                else ""
            )
        cells.append(f(r.get(f"gw_cpu_us_per_req_c{tp[0] if tp else concs[0]}"), 1))
        out.append(cells)
    return table(header, out)


def all_runs(rows: list[dict], concs: list[int]) -> list[str]:
    header = (
        ["gateway", "scenario"]
        + [f"req/s c={c}" for c in concs]
        + [f"p50 / p99 c={c} µs" for c in concs]
        + ["errors", "bad bodies", "other CPU %"]
    )
    out = []
    for r in scen_rows(rows):
        if r.get("error"):
            out.append([r["gateway"], r["scenario"], f"FAILED: {str(r['error'])[:120]}"] + [""] * (len(header) - 3))
            continue
        errs = sum(r.get(f"errors_{c}") or 0 for c in concs)
        out.append(
            [r["gateway"], r["scenario"]]
            + [f(r.get(f"rps_c{c}")) for c in concs]
            + [f"{f(r.get(f'p50_us_c{c}'))} / {f(r.get(f'p99_us_c{c}'))}" for c in concs]
            + [f(errs), f(r.get("verify_bad")), f(r.get("max_foreign_cpu_pct"), 1)]
        )
    return table(header, out)


def added(rows: list[dict], concs: list[int]) -> list[str]:
    header = (
        ["gateway", "scenario", "vs direct"]
        + [f"+p50 / +p99 c={c} µs" for c in concs]
        + [f"req/s ÷ direct c={c}" for c in concs]
    )
    labels = 3
    out = []
    for r in scen_rows(rows):
        if r["gateway"] in ("direct", "direct-end") or r.get("error"):
            continue
        out.append(
            [r["gateway"], r["scenario"], r["baseline"]]
            + [f"{signed(r.get(f'added_p50_us_c{c}'))} / {signed(r.get(f'added_p99_us_c{c}'))}" for c in concs]
            + [f(r.get(f"rps_ratio_c{c}"), 3) for c in concs]
        )
    return table(header, out, labels=labels)


def ttfb(rows: list[dict], ttfb_concs: list[int]) -> list[str]:
    header = ["gateway", "scenario"]
    for c in ttfb_concs:
        header += [f"TTFB p50 / p99 c={c} µs", f"+p50 / +p99 vs direct c={c} µs", f"n c={c}", f"CPU µs/stream c={c}"]
    out = []
    for r in scen_rows(rows):
        if not r["stream"] or r.get("error") or r["gateway"] == "direct-end":
            continue
        cells = [r["gateway"], r["scenario"]]
        for c in ttfb_concs:
            k = f"c{c}"
            if r.get(f"ttfb_error_{k}"):
                cells += [f"FAILED: {str(r[f'ttfb_error_{k}'])[:80]}", "", "", ""]
                continue
            cells += [
                f"{f(r.get(f'ttfb_p50_us_{k}'), 1)} / {f(r.get(f'ttfb_p99_us_{k}'), 1)}",
                f"{signed(r.get(f'ttfb_added_p50_us_{k}'), 1)} / {signed(r.get(f'ttfb_added_p99_us_{k}'), 1)}",
                f(r.get(f"ttfb_n_{k}")),
                f(r.get(f"gw_cpu_us_per_stream_ttfb_{k}"), 1),
            ]
        out.append(cells)
    return table(header, out)


def cpu(rows: list[dict], concs: list[int]) -> list[str]:
    header = (
        ["gateway", "scenario"]
        + [f"CPU µs/req c={c}" for c in concs]
        + [f"gateway CPU % c={concs[-1]}", f"CPU0 / CPU1 busy % c={concs[-1]}"]
    )
    out = []
    top = concs[-1]
    for r in scen_rows(rows):
        if r["gateway"] in ("direct", "direct-end") or r.get("error"):
            continue
        out.append(
            [r["gateway"], r["scenario"]]
            + [f(r.get(f"gw_cpu_us_per_req_c{c}"), 1) for c in concs]
            + [
                f(r.get(f"gw_cpu_pct_c{top}"), 1),
                f"{f(r.get(f'cpu0_busy_pct_c{top}'), 1)} / {f(r.get(f'cpu1_busy_pct_c{top}'), 1)}",
            ]
        )
    return table(header, out)


def features(ratios: list[dict]) -> list[str]:
    rows = [
        [
            x["scenario"],
            f"c={x['conc']}",
            f(x["rps_bare"]),
            f(x["rps_features"]),
            f(x["ratio"], 3),
            "yes" if x["met"] else ("-" if x["met"] is None else "**no**"),
        ]
        for x in ratios
    ]
    target = ratios[0]["target"] if ratios else 0.8
    return table(
        ["scenario", "conc", "`lunaroute` req/s", "`lunaroute-features` req/s", "ratio", f"≥ {target:.2f}"], rows
    )


def footprint(feet: list[dict]) -> list[str]:
    header = [
        "gateway",
        "first 200 (s)",
        "port open (s)",
        "RSS after start (MiB)",
        "peak RSS VmHWM (MiB)",
        "processes",
        "errors",
        "exit code",
    ]
    rows = [
        [
            x["gateway"],
            f(x.get("first_200_s"), 3),
            f(x.get("port_open_s"), 3),
            f(x.get("rss_after_start_mb"), 1),
            f(x.get("peak_rss_mb"), 1),
            f(x.get("processes")),
            f(x.get("errors_total")),
            f(x.get("exit_code")),
        ]
        for x in feet
    ]
    return table(header, rows, labels=1)


def drift(d: dict) -> list[str]:
    out = []
    for scen, cs in d.items():
        for c, x in cs.items():
            out.append(
                [
                    scen,
                    c,
                    f"{f(x['rps_start'])} → {f(x['rps_end'])}",
                    signed(x["rps_change_pct"], 1),
                    f"{x['p50_us_start']} → {x['p50_us_end']}",
                    f"{x['p99_us_start']} → {x['p99_us_end']}",
                ]
            )
    return table(
        ["scenario", "conc", "req/s start → end", "change %", "p50 µs", "p99 µs"], out, "|---|---|---|---:|---|---|"
    )


def render(doc: dict, plots: list[str], plots_note: str | None, problems: list[str]) -> str:
    meta, summ = doc["meta"], doc["summary"]
    st = meta["settings"]
    concs, ttfb_concs = st["concurrency"], st["ttfb_concurrency"]
    m = meta["machine"]
    rows = summ["rows"]
    lines = [
        f"# LunaRoute end-to-end benchmark: {meta['stamp']}{' (quick smoke run)' if st['quick'] else ''}",
        "",
        f"`{meta['command']}`, {meta['started_at']} → {meta['finished_at']} (UTC).",
        "",
        f"Machine: {m['cpu_model']}, {m['cpus']} CPUs, kernel {m['kernel']}, {m['nginx']}, {m['wrk']}, "
        f"Python {m['python']}; LunaRoute {m.get('lunaroute_version')} (git {m.get('git_commit')}"
        f"{', with uncommitted changes' if m.get('git_dirty') else ''}); "
        f"LiteLLM {m.get('litellm') or 'not used'}; "
        f"Rust LunaRoute {m.get('lunaroute_rs') or 'not used'}. "
        f"Load average at start: {m['loadavg_at_start']}.",
        "",
        f"Settings: {st['duration_s']} s per measured run at c={', '.join(map(str, concs))} "
        "(wrk, 1 thread, closed "
        f"loop), {st['warmup_s']} s warm-up and {st['verify_s']} s body-checking pass at c=16 per scenario; TTFB: "
        f"{st['ttfb_duration_s']} s (≤ {st['ttfb_max_requests']} requests) "
        f"at c={', '.join(map(str, ttfb_concs))}; "
        f"gateway on CPU {st['gateway_cpu']}, wrk + mock + TTFB client on CPU {st['load_cpu']}; ports "
        f"{meta['ports']}.",
        "",
        f"Quiet-machine guard: wait until outside work < {st['quiet_threshold_pct']} % of a CPU before each run "
        f"(at most {st['quiet_max_wait_s']} s), repeat a disturbed run up to {st['retries']} time(s). "
        f"This run: outside work at most {f(summ['quiet']['max_foreign_cpu_pct'], 1)} % of a CPU during a kept "
        f"run; {summ['quiet']['disturbed_runs']} kept run(s) above the threshold.",
        "",
    ]
    if st["quick"]:
        lines += [
            "**Quick mode**: 2-second runs prove that the harness and the gateways work; the figures are "
            "noisy and not for comparison.",
            "",
        ]
    if summ["skipped"]:
        lines += ["Skipped: " + "; ".join(f"`{k}`: {v}" for k, v in summ["skipped"].items()), ""]
    lines += ["## LunaRoute problems seen in this run", ""]
    lines += (
        [f"- {p}" for p in problems]
        if problems
        else ["None: every response was a 200 with a well-formed body, no socket errors or timeouts."]
    ) + [""]
    peer_problems = summ.get("peer_problems") or []
    if peer_problems:
        lines += ["## Problems seen in the other entries (not LunaRoute's)", ""]
        lines += [f"- {p}" for p in peer_problems] + [""]
    if summ.get("features_ratio"):
        lines += [
            "## Features on together: `lunaroute-features` ÷ `lunaroute`, same run",
            "",
            "A client key (argon2id) on every request, its rate limit and a budget on the file backend "
            "(limits no run reaches), PII redaction (mask, every built-in detector) and session recording.",
            "",
        ]
        lines += features(summ["features_ratio"]) + [""]
    ttfb_c = ttfb_concs[0] if ttfb_concs else None
    for gw in (
        "lunaroute",
        "lunaroute-rec",
        "lunaroute-pii",
        "lunaroute-features",
        "lunaroute-rs",
        "nginx-proxy",
        "litellm",
    ):
        h = headline(rows, gw, concs, ttfb_c)
        if h:
            lines += [f"## Headline: `{gw}` vs direct", ""] + h + [""]
    lines += ["## Footprint: start-up (spawn → first 200 to a real chat request) and memory", ""]
    lines += footprint(summ["footprint"]) + [""]
    lines += ["## All runs (latency: request written → whole response read, wrk, µs)", ""]
    lines += all_runs(rows, concs) + [""]
    lines += ["## Added latency and throughput ratio vs direct (same concurrency, upstream-dialect scenario)", ""]
    lines += added(rows, concs) + [""]
    if ttfb_concs:
        lines += ["## Streams: time to first body byte (asyncio client; request written → first chunk of body)", ""]
        lines += ttfb(rows, ttfb_concs) + [""]
    lines += ["## Gateway process cost (CPU of its whole process tree ÷ requests completed)", ""]
    lines += cpu(rows, concs) + [""]
    if summ["direct_drift"]:
        lines += ["## Drift: `direct` at the start vs `direct-end`", ""] + drift(summ["direct_drift"]) + [""]
    lines += ["## Plots", ""]
    if plots:
        lines += [f"![{p[:-4]}]({p})" for p in plots] + [""]
    else:
        lines += [f"No plots: {plots_note}", ""]
    lines += [
        "## How to read this",
        "",
        "See bench/e2e/README.md (method, what each figure means, caveats). In short: compare figures "
        "only within one run; the c=1 added latency includes this VM's cross-vCPU wake-ups (gateway on "
        "CPU 0, client and upstream on CPU 1); a saturated gateway's c≥64 latency is queueing, so compare "
        "those on req/s and CPU per request.",
        "",
    ]
    return "\n".join(lines)
