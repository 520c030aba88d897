"""bench/pii/e2e_ratio.py without running a benchmark: its gateways' configs and ports, and
the report it writes from a sitting's runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.e2e import gateways
from bench.e2e.configs import Ports
from bench.pii import e2e_ratio

from lunaroute.config import load_config


def test_three_gateways_on_their_own_ports_one_with_pii(tmp_path: Path) -> None:
    ports = Ports.with_offset(300)
    each = {label: e2e_ratio.shifted(ports, label) for label in e2e_ratio.LABELS}
    assert len({p.openai for p in each.values()} | {p.metrics for p in each.values()}) == 6
    assert {p.mock for p in each.values()} == {ports.mock}
    for label, p in each.items():
        (tmp_path / label).mkdir()
        spec = gateways.lunaroute_spec(p, tmp_path / label, pii=label == "pii")
        cfg = load_config(Path(spec.config or ""), tmp_path / "data")
        assert cfg.pii.enabled is (label == "pii") and cfg.pii.mode == "mask"
        if label == "pii":
            e2e_ratio.restoring(spec)
            cfg = load_config(Path(spec.config or ""), tmp_path / "data")
            assert cfg.pii.mode == "tokenize" and cfg.pii.restore_in_response


def test_report_compares_each_round_with_bare() -> None:
    rows = []
    for turn in range(2):
        for label, rps, cpu, ttfb in (("bare", 1000, 200, 500), ("pii", 900, 220, 510), ("control", 1100, 199, 490)):
            rows.append(
                {"label": label, "scenario": "oai_stream", "rps": rps + turn, "p50_us": 1, "cpu_us_per_req": cpu}
                | {"ttfb_p50_us": ttfb, "round": turn}
            )
    report = e2e_ratio.render(rows, e2e_ratio.parse_args(["--rounds", "2"]), "now", [[1.0, 2.0, 3.0]] * 2)
    assert "| oai_stream | pii | 900 / 901 | 0.90 / 0.90 | 0.90 / 0.90 | 220 (+20) | +10 / +10 (+10) |" in report
    assert "| oai_stream | control | 1,100 / 1,101 | 1.10 / 1.10 | 1.10 / 1.10 | 199 (-1) | -10 / -10 (-10) |" in report


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(SystemExit):
        e2e_ratio.parse_args(["--scenarios", "nope"])
    with pytest.raises(SystemExit):
        e2e_ratio.parse_args(["--rounds", "0"])
