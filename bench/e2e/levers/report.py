"""run_levers.py's runs → summary rows (each setting against the default of the same round)
→ report.md."""

from __future__ import annotations

from statistics import mean
from typing import Any

# runner.by_thread's group of the app's main thread (the event loop); every other thread is
# granian's (its Rust runtime), counted as "other".
PY = "main"


# A run is "quiet" when other work took at most this share of the gateway's core (CPU 0 busy %
# minus the gateway's own CPU %; the gateway is pinned there) and the hypervisor stole at most
# STEAL_MAX % of it. The machine is shared: a run that fails this measured the neighbours too.
CORE_SHARED_MAX = 15.0
STEAL_MAX = 10.0


def core_shared(run: dict) -> tuple[float | None, float | None]:
    """(% of CPU 0 used by other work, % of CPU 0 stolen) during one wrk run."""
    cpu0 = (run.get("cpu") or {}).get("cpu0") or {}
    if "busy_pct" not in cpu0:
        return None, None
    return round(cpu0["busy_pct"] - (run.get("gateway_cpu_pct") or 0.0), 1), cpu0.get("steal_pct")


def is_quiet(run: dict) -> bool:
    shared, steal = core_shared(run)
    return shared is not None and shared <= CORE_SHARED_MAX and (steal or 0.0) <= STEAL_MAX and bool(run.get("rps"))


def _run_figures(scen: dict) -> dict[str, Any]:
    runs = scen.get("runs") or {}
    c16, c1 = runs.get("c16") or {}, runs.get("c1") or {}
    threads = c16.get("threads_cpu_s") or {}
    n16 = c16.get("requests") or 0
    py_us = round(1e6 * threads.get(PY, 0.0) / n16, 1) if n16 else None
    other_us = round(1e6 * sum(v for k, v in threads.items() if k != PY) / n16, 1) if n16 else None
    verify = scen.get("verify") or {}
    return {
        "rps_c16": c16.get("rps"),
        "cpu_us_c16": c16.get("gateway_cpu_us_per_req"),
        "gw_cpu_pct_c16": c16.get("gateway_cpu_pct"),
        "python_us_c16": py_us,
        "other_threads_us_c16": other_us,
        "threads_c16": threads,
        "p50_c1": (c1.get("latency_us") or {}).get("p50") or None,
        "p99_c1": (c1.get("latency_us") or {}).get("p99") or None,
        "rps_c1": c1.get("rps"),
        "cpu_us_c1": c1.get("gateway_cpu_us_per_req"),
        "quiet_c16": is_quiet(c16),
        "quiet_c1": is_quiet(c1),
        "core_shared_c16": core_shared(c16)[0],
        "steal_c16": core_shared(c16)[1],
        "core_shared_c1": core_shared(c1)[0],
        "errors": sum((r.get("error_total") or 0) + (1 if "error" in r else 0) for r in runs.values()),
        "bad_bodies": (verify.get("bad_bodies") or 0) + (verify.get("errors") or 0) + (1 if "error" in verify else 0),
        "foreign_cpu_pct_max": max((r.get("foreign_cpu_pct") or 0.0 for r in runs.values()), default=None),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def _avg(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(mean(vals), 1) if vals else None


def _delta(a: float | None, b: float | None) -> float | None:
    return round(a - b, 1) if a is not None and b is not None else None


def _quiet(figs: list[dict], key: str, flag: str = "quiet_c16") -> float | None:
    return _avg([f[key] for f in figs if f[flag]])


def summarize(doc: dict) -> dict:
    problems: list[str] = []
    per: dict[tuple[str, str, str], list[dict]] = {}  # (kind, setting, scenario) -> one figure set per round
    for run in doc["runs"]:
        res = run["result"]
        label = f"{run['kind']} {run['setting']} round {run['round'] + 1}"
        if res.get("error"):
            problems.append(f"{label}: {res['error']}")
        for scen_name, scen in (res.get("scenarios") or {}).items():
            if scen.get("error"):
                problems.append(f"{label} {scen_name}: {scen['error']}")
                continue
            fig = _run_figures(scen)
            fig["round"] = run["round"]
            if fig["errors"] or fig["bad_bodies"]:
                problems.append(f"{label} {scen_name}: {fig['errors']} errors, {fig['bad_bodies']} bad answers")
            per.setdefault((run["kind"], run["setting"], scen_name), []).append(fig)
    rows = []
    for (kind, setting, scen_name), figs in per.items():
        figs.sort(key=lambda f: f["round"])
        dflt = sorted(per.get(("lunaroute", "default", scen_name), []), key=lambda f: f["round"])
        base = {f["round"]: f for f in dflt} if kind == "lunaroute" else {}
        row: dict[str, Any] = {"kind": kind, "setting": setting, "scenario": scen_name, "rounds": figs}
        for key in ("rps_c16", "cpu_us_c16", "python_us_c16", "other_threads_us_c16", "p50_c1", "p99_c1", "cpu_us_c1"):
            row[key] = _avg([f[key] for f in figs])
        row["rps_c16_quiet"] = _quiet(figs, "rps_c16")
        row["cpu_us_c16_quiet"] = _quiet(figs, "cpu_us_c16")
        row["p50_c1_quiet"] = _quiet(figs, "p50_c1", "quiet_c1")
        row["quiet_runs_c16"] = sum(1 for f in figs if f["quiet_c16"])
        row["foreign_cpu_pct_max"] = max((f["foreign_cpu_pct_max"] or 0.0 for f in figs), default=None)
        if base:
            row["rps_ratio_per_round"] = [_ratio(f["rps_c16"], base.get(f["round"], {}).get("rps_c16")) for f in figs]
            row["cpu_ratio_per_round"] = [
                _ratio(f["cpu_us_c16"], base.get(f["round"], {}).get("cpu_us_c16")) for f in figs
            ]
            row["rps_ratio"] = _ratio(row["rps_c16"], _avg([f["rps_c16"] for f in dflt]))
            row["cpu_delta_us"] = _delta(row["cpu_us_c16"], _avg([f["cpu_us_c16"] for f in dflt]))
            row["p50_delta_us"] = _delta(row["p50_c1"], _avg([f["p50_c1"] for f in dflt]))
            row["rps_ratio_quiet"] = _ratio(row["rps_c16_quiet"], _quiet(dflt, "rps_c16"))
            row["cpu_delta_us_quiet"] = _delta(row["cpu_us_c16_quiet"], _quiet(dflt, "cpu_us_c16"))
        rows.append(row)
    noise = {}
    for scen_name in {r["scenario"] for r in rows if r["kind"] == "lunaroute"}:
        d = sorted(per.get(("lunaroute", "default", scen_name), []), key=lambda f: f["round"])
        if len(d) >= 2 and d[0]["rps_c16"] and d[0]["cpu_us_c16"]:
            noise[scen_name] = {
                "rps_round2_over_round1": _ratio(d[1]["rps_c16"], d[0]["rps_c16"]),
                "cpu_round2_over_round1": _ratio(d[1]["cpu_us_c16"], d[0]["cpu_us_c16"]),
            }
    return {
        "rows": rows,
        "default_noise": noise,
        "problems": problems,
        "quiet_rule": {"core_shared_max_pct": CORE_SHARED_MAX, "steal_max_pct": STEAL_MAX},
    }


def _fmt(v: Any, nd: int = 0) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}"


def _ratios(vals: list[float | None] | None) -> str:
    return " / ".join(f"{v:.2f}" if v is not None else "–" for v in (vals or [])) or "–"


def _per_round(figs: list[dict], key: str, flag: str = "quiet_c16", nd: int = 0) -> str:
    """One figure per round, `*` on a run that was not quiet."""
    return " / ".join(_fmt(f[key], nd) + ("" if f[flag] else "*") for f in figs) or "–"


def _signed(v: float | None) -> str:
    return "–" if v is None else f"{v:+.0f}"


def _last_line(text: str | None) -> str:
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


def render(doc: dict) -> str:
    meta, summ = doc["meta"], doc["summary"]
    m, s, g = meta["machine"], meta["settings"], meta["granian"]
    lines = [
        "# granian's levers: LunaRoute under each setting, and granian's own floor",
        "",
        f"One sitting, {meta['started_at']} → {meta.get('finished_at')}; commit {m.get('git_commit')}"
        f"{' (dirty)' if m.get('git_dirty') else ''}; granian {g['version']}, rloop {meta.get('rloop') or '–'}, "
        f"Python {m['python']}; {m['cpus']} × {m['cpu_model']}; load average at start {m['loadavg_at_start']}, "
        f"at end {meta.get('loadavg_at_end')}.",
        "",
        f"`{meta['command']}`: {s['rounds']} round(s), every setting once per round (round 2 in reverse "
        f"order); wrk 1 thread, {s['duration_s']:g} s per run at c=16 and c=1 after a {s['warmup_s']:g} s "
        f"warm-up, then a {s['verify_s']:g} s pass checking every body. Gateway (one process, one worker) on "
        "CPU 0; wrk and the nginx mock on CPU 1. **CPU µs/req** = the gateway process tree's user+system "
        "CPU (/proc) during the c=16 run ÷ requests; **loop / granian** splits it for LunaRoute between the "
        "main thread (the event loop: all of LunaRoute's Python) and every other thread (granian's Rust "
        "runtime); in the floor table it is the worker's main thread / its other threads. Figures "
        "are given per round (round 1 / round 2); **÷ default** = req/s at c=16 over the default's in the "
        "same round.",
        "",
        f"**Quiet runs.** The machine was shared with other sessions' builds and benchmarks during this "
        f"sitting. A run is marked `*` when other work took more than {summ['quiet_rule']['core_shared_max_pct']:g} % "
        f"of the gateway's core (CPU 0 busy % minus the gateway's own CPU %) or the hypervisor stole more "
        f"than {summ['quiet_rule']['steal_max_pct']:g} % of it; the **quiet** columns average only the unmarked "
        "runs (– when none was quiet). Work on CPU 1 (wrk, the mock) is not in the rule, so a quiet run's "
        "req/s can still be low; CPU µs/req is the steadier figure.",
        "",
    ]
    noise = summ.get("default_noise") or {}
    if noise:
        lines.append(
            "The default against itself, round 2 ÷ round 1: "
            + "; ".join(
                f"{k} req/s {v['rps_round2_over_round1']:.2f}×, CPU/req {v['cpu_round2_over_round1']:.2f}×"
                for k, v in sorted(noise.items())
            )
            + "."
        )
        lines.append("")
    settings = {x["name"]: x for x in meta["luna_settings"]}
    for scen_name in ("oai", "oai_stream"):
        rows = [r for r in summ["rows"] if r["kind"] == "lunaroute" and r["scenario"] == scen_name]
        if not rows:
            continue
        order = list(settings)
        rows.sort(key=lambda r: order.index(r["setting"]) if r["setting"] in order else 99)
        lines += [
            f"## LunaRoute, `{scen_name}` ({'streaming, 30 events' if 'stream' in scen_name else 'passthrough'})",
            "",
            "| setting | lever | req/s c=16 | ÷ default | CPU µs/req | CPU µs/req quiet | Δ quiet "
            "| loop / granian µs | p50 c=1 µs | others on CPU 0 % (c=16) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            figs = r["rounds"]
            lines.append(
                f"| {r['setting']} | {settings.get(r['setting'], {}).get('lever', '')} "
                f"| {_per_round(figs, 'rps_c16')} | {_ratios(r.get('rps_ratio_per_round'))} "
                f"| {_per_round(figs, 'cpu_us_c16')} | {_fmt(r['cpu_us_c16_quiet'])} "
                f"| {_signed(r.get('cpu_delta_us_quiet'))} "
                f"| {_fmt(r['python_us_c16'])} / {_fmt(r['other_threads_us_c16'])} "
                f"| {_per_round(figs, 'p50_c1', 'quiet_c1')} "
                f"| {' / '.join(_fmt(f['core_shared_c16']) for f in figs)} |"
            )
        lines.append("")
    floor = [r for r in summ["rows"] if r["kind"] == "floor"]
    if floor:
        lines += [
            "## granian alone: minimal RSGI apps under the `granian` CLI (`rsgi_floor_app.py`), `oai`",
            "",
            "`empty` reads the body and answers the mock's chat.completion from memory; `proxy` forwards the "
            "body to the nginx mock with LunaRoute's HTTP/1.1 client (egress/h1.py) and relays the answer. "
            "1 worker (granian's CLI adds its supervisor process, idle), 1 runtime thread, backpressure 10000.",
            "",
            "| app | runtime mode | loop | req/s c=16 | CPU µs/req | CPU µs/req quiet | main / other threads µs "
            "| p50 c=1 µs | others on CPU 0 % (c=16) |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in floor:
            app, mode, loop = r["setting"].split("-")
            figs = r["rounds"]
            lines.append(
                f"| {app} | {mode} | {loop} | {_per_round(figs, 'rps_c16')} | {_per_round(figs, 'cpu_us_c16')} "
                f"| {_fmt(r['cpu_us_c16_quiet'])} | {_fmt(r['python_us_c16'])} / {_fmt(r['other_threads_us_c16'])} "
                f"| {_per_round(figs, 'p50_c1', 'quiet_c1')} | {' / '.join(_fmt(f['core_shared_c16']) for f in figs)} |"
            )
        lines.append("")
    ed = g["embedded_defaults"]
    lines += [
        "## Levers answered without load (the installed granian, checked in process)",
        "",
        f"- `blocking_threads`: the embedded RSGI server's default is {ed['blocking_threads']}; "
        f"`blocking_threads=2` → {g['refused']['blocking_threads=2'] or 'accepted'}. 1 is the only value, "
        'so "1 vs default" is the same setting; the table measures tokio\'s blocking pool instead '
        f"(`runtime_blocking_threads`, default {ed['runtime_blocking_threads']}).",
        f"- Runtime mode and loop: the embedded `Server` takes neither (`runtime_mode` accepted: "
        f"{g['embedded_accepts_runtime_mode']}, `loop`: {g['embedded_accepts_loop']}); it serves on the "
        "caller's loop through `serve_async`. LunaRoute's loop is its own choice (`_run_loop`); the mode "
        "is measured on the floor apps only.",
        f"- `task_impl=rust` on Python {m['python']}: {g['refused']['task_impl=rust'] or 'accepted'} "
        "(granian falls back to asyncio on 3.12+).",
        f"- HTTP/1 defaults: {ed['http1']}; LunaRoute sets `header_read_timeout` to its keep-alive timeout. "
        "`keep_alive` stays on: wrk's closed loop reuses connections, and with it off every request "
        "would pay a TCP connect and the benchmark would measure that instead.",
        "",
    ]
    stops = []
    for run in doc["runs"]:
        res = run["result"]
        if res.get("exit_code") not in (0, None) or (res.get("stop_s") or 0) > 5:
            stops.append(
                f"{run['kind']} {run['setting']} round {run['round'] + 1}: exit code {res.get('exit_code')} "
                f"after {res.get('stop_s')} s"
                + (f" ({_last_line(res.get('log_tail'))})" if res.get("log_tail") else "")
            )
    if stops:
        lines += [
            "## Shutdown (SIGTERM after the runs; LunaRoute drains for up to 30 s, the harness waits 12 s)",
            "",
        ]
        lines += [f"- {x}" for x in stops] + [""]
    if meta.get("skipped"):
        lines += ["Skipped: " + "; ".join(f"{k}: {v}" for k, v in meta["skipped"].items()), ""]
    if summ["problems"]:
        lines += ["## Problems", ""] + [f"- {p}" for p in summ["problems"]] + [""]
    else:
        lines += ["No errors, no non-200s, every checked body good.", ""]
    return "\n".join(lines).rstrip()
