"""Flatten the raw results of a run into comparable rows.

Added latency = the gateway's percentile minus the first `direct` entry's same percentile, at
the same concurrency, for the direct scenario of the upstream's dialect (`oai_to_anth` is
compared with direct `anth`, `anth_to_oai` with direct `oai`). TTFB overhead likewise.
"""

from __future__ import annotations

from .scenarios import SCENARIOS


def _run(res: dict, scen: str, key: str) -> dict:
    return ((res.get("scenarios") or {}).get(scen) or {}).get("runs", {}).get(key) or {}


def _ttfb(res: dict, scen: str, key: str) -> dict:
    return (((res.get("scenarios") or {}).get(scen) or {}).get("ttfb") or {}).get(key) or {}


def _keys(res: dict, scen: str, field: str) -> list[str]:
    """c1, c16, ... in numeric order."""
    d = ((res.get("scenarios") or {}).get(scen) or {}).get(field) or {}
    return sorted(d, key=lambda k: int(k[1:]))


def scenario_row(name: str, res: dict, scen: str, base: dict | None) -> dict:
    s = (res.get("scenarios") or {}).get(scen) or {}
    row: dict = {
        "gateway": name,
        "scenario": scen,
        "stream": SCENARIOS[scen].stream,
        "translated": SCENARIOS[scen].translated,
        "baseline": SCENARIOS[scen].baseline,
    }
    if s.get("error"):
        row["error"] = (s.get("sanity") or {}).get("error", s["error"])
    foreign: list[float] = []
    disturbed = 0
    for c in _keys(res, scen, "runs"):
        r = _run(res, scen, c)
        if "error" in r:
            row[f"error_{c}"] = r["error"]
            continue
        row[f"rps_{c}"] = r["rps"]
        for p in ("p50", "p90", "p99"):
            row[f"{p}_us_{c}"] = r["latency_us"][p]
        row[f"errors_{c}"] = r["error_total"]
        if "gateway_cpu_us_per_req" in r:
            row[f"gw_cpu_us_per_req_{c}"] = r["gateway_cpu_us_per_req"]
            row[f"gw_cpu_pct_{c}"] = r["gateway_cpu_pct"]
        row[f"cpu0_busy_pct_{c}"] = (r.get("cpu") or {}).get("cpu0", {}).get("busy_pct")
        row[f"cpu1_busy_pct_{c}"] = (r.get("cpu") or {}).get("cpu1", {}).get("busy_pct")
        foreign.append(r.get("foreign_cpu_pct") or 0.0)
        disturbed += bool(r.get("disturbed"))
        b = _run(base, SCENARIOS[scen].baseline, c) if base else {}
        if b and "latency_us" in b and name != "direct":
            row[f"added_p50_us_{c}"] = r["latency_us"]["p50"] - b["latency_us"]["p50"]
            row[f"added_p99_us_{c}"] = r["latency_us"]["p99"] - b["latency_us"]["p99"]
            row[f"rps_ratio_{c}"] = round(r["rps"] / b["rps"], 4) if b.get("rps") else None
    for c in _keys(res, scen, "ttfb"):
        t = _ttfb(res, scen, c)
        if "error" in t or not t.get("ttfb_us"):
            row[f"ttfb_error_{c}"] = t.get("error") or t.get("first_problem") or "no measurement"
            continue
        row[f"ttfb_p50_us_{c}"] = t["ttfb_us"]["p50"]
        row[f"ttfb_p99_us_{c}"] = t["ttfb_us"]["p99"]
        row[f"ttfb_n_{c}"] = t["requests"]
        row[f"ttfb_bad_{c}"] = t["bad_answers"] + t["errors"]
        if t.get("gateway_cpu_us_per_req") is not None:
            row[f"gw_cpu_us_per_stream_ttfb_{c}"] = t["gateway_cpu_us_per_req"]
        foreign.append(t.get("foreign_cpu_pct") or 0.0)
        disturbed += bool(t.get("disturbed"))
        b = _ttfb(base, SCENARIOS[scen].baseline, c) if base else {}
        if b.get("ttfb_us") and name != "direct":
            row[f"ttfb_added_p50_us_{c}"] = round(t["ttfb_us"]["p50"] - b["ttfb_us"]["p50"], 1)
            row[f"ttfb_added_p99_us_{c}"] = round(t["ttfb_us"]["p99"] - b["ttfb_us"]["p99"], 1)
    row["max_foreign_cpu_pct"] = max(foreign) if foreign else None
    row["disturbed_runs"] = disturbed
    v = s.get("verify") or {}
    row["verify_bad"] = v.get("bad_bodies")
    row["verify_errors"] = v.get("errors")
    if res.get("memory"):
        row["peak_rss_mb"] = round(res["memory"]["peak_rss_kb"] / 1024, 1)
    if res.get("startup"):
        row["startup_first_200_s"] = res["startup"].get("first_200_s")
    return row


def drift(start: dict, end: dict) -> dict:
    out: dict = {}
    for scen, s in (start.get("scenarios") or {}).items():
        for c, r in (s.get("runs") or {}).items():
            r2 = _run(end, scen, c)
            if "rps" in r and "rps" in r2 and r["rps"]:
                out.setdefault(scen, {})[c] = {
                    "rps_start": r["rps"],
                    "rps_end": r2["rps"],
                    "rps_change_pct": round(100.0 * (r2["rps"] - r["rps"]) / r["rps"], 1),
                    "p50_us_start": r["latency_us"]["p50"],
                    "p50_us_end": r2["latency_us"]["p50"],
                    "p99_us_start": r["latency_us"]["p99"],
                    "p99_us_end": r2["latency_us"]["p99"],
                }
    return out


def footprint(name: str, res: dict) -> dict:
    out: dict = {"gateway": name}
    if res.get("startup"):
        st = res["startup"]
        rss = st.get("rss_after_start_kb")
        out.update(
            first_200_s=st.get("first_200_s"),
            port_open_s=st.get("port_open_s"),
            rss_after_start_mb=round(rss / 1024, 1) if rss else None,
        )
    if res.get("memory"):
        m = res["memory"]
        out.update(
            peak_rss_mb=round(m["peak_rss_kb"] / 1024, 1),
            rss_end_mb=round(m["rss_end_kb"] / 1024, 1),
            processes=m["processes"],
        )
    out["errors_total"] = res.get("errors_total")
    out["exit_code"] = res.get("exit_code")
    return out


def summarize(results: dict) -> dict:
    base = results.get("direct")
    if base and (base.get("skipped") or base.get("error")):
        base = None
    rows, feet, skipped = [], [], {}
    for name, res in results.items():
        if res.get("skipped"):
            skipped[name] = res["skipped"]
            continue
        if res.get("cmd"):
            feet.append(footprint(name, res))
        if res.get("error") and not res.get("scenarios"):
            rows.append({"gateway": name, "error": res["error"]})
            continue
        for scen in res.get("scenarios") or {}:
            rows.append(scenario_row(name, res, scen, base))
    all_foreign = [r["max_foreign_cpu_pct"] for r in rows if r.get("max_foreign_cpu_pct") is not None]
    return {
        "rows": rows,
        "footprint": feet,
        "skipped": skipped,
        "direct_drift": drift(results["direct"], results["direct-end"])
        if "direct" in results and "direct-end" in results
        else {},
        "quiet": {
            "max_foreign_cpu_pct": max(all_foreign) if all_foreign else None,
            "disturbed_runs": sum(r.get("disturbed_runs", 0) for r in rows),
        },
    }


LUNAROUTE_ENTRIES = ("lunaroute", "lunaroute-rec", "lunaroute-pii", "lunaroute-features")
PEER_ENTRIES = ("nginx-proxy", "lunaroute-rs", "litellm")
FEATURES_TARGET = 0.80  # issue 18: req/s with every feature on ÷ req/s of the bare config, same run


def feature_ratios(rows: list[dict], concs: list[int]) -> list[dict]:
    """`lunaroute-features` req/s ÷ `lunaroute` req/s, per scenario, at every concurrency but 1
    (c=1 measures latency, not capacity), when both entries ran it."""
    by = {(r["gateway"], r.get("scenario")): r for r in rows if "scenario" in r}
    out = []
    for (gw, scen), feat in by.items():
        bare = by.get(("lunaroute", scen))
        if gw != "lunaroute-features" or bare is None:
            continue
        for c in [c for c in concs if c != 1] or concs:
            a, b = bare.get(f"rps_c{c}"), feat.get(f"rps_c{c}")
            ratio = round(b / a, 3) if a and b is not None else None
            out.append(
                {
                    "scenario": scen,
                    "conc": c,
                    "rps_bare": a,
                    "rps_features": b,
                    "ratio": ratio,
                    "target": FEATURES_TARGET,
                    "met": ratio >= FEATURES_TARGET if ratio is not None else None,
                }
            )
    return out


def gateway_problems(results: dict, names: tuple[str, ...] = LUNAROUTE_ENTRIES) -> list[str]:
    """Every error, non-200 or bad body the named entries produced in this run, one line each."""
    out = []
    for name in names:
        res = results.get(name) or {}
        if res.get("error"):
            out.append(f"{name}: {res['error']}")
        for scen, s in (res.get("scenarios") or {}).items():
            if s.get("error"):
                out.append(f"{name}/{scen}: {(s.get('sanity') or {}).get('error', s['error'])}")
            for c, r in (s.get("runs") or {}).items():
                if r.get("error"):
                    out.append(f"{name}/{scen} {c}: {r['error']}")
                elif r.get("error_total"):
                    out.append(f"{name}/{scen} {c}: wrk errors {r['errors']}")
            for c, t in (s.get("ttfb") or {}).items():
                if t.get("error") or t.get("errors") or t.get("bad_answers"):
                    out.append(f"{name}/{scen} ttfb {c}: {t.get('error') or t.get('first_problem')}")
            v = s.get("verify") or {}
            if v.get("error") or v.get("bad_bodies") or v.get("errors"):
                out.append(f"{name}/{scen} verify: {v}")
        if res and res.get("gateway_alive_at_end") is False:
            out.append(f"{name}: the gateway process died during the run (exit {res.get('exit_code')})")
    return out
