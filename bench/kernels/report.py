"""Throughput of every kernel on every built backend, and the native/python ratio.

    python bench/kernels/report.py            # ~a few seconds on this machine
    python bench/kernels/report.py --rounds 9 # steadier numbers, a little longer

Each backend's result is checked against the python backend's before anything is timed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kernel_workloads import BACKENDS, interleaved_medians, load, workloads


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed runs per backend (median)")
    parser.add_argument("--budget", type=float, default=0.6, help="seconds per workload, at most")
    args = parser.parse_args(argv)

    header = f"{'workload':<20}{'backend':<9}{'median':>11}{'throughput':>16}{'vs python':>11}"
    print(header)
    print("-" * len(header))
    for work in workloads():
        mods = {b: m for b in BACKENDS if (m := load(work.kernel, b)) is not None}
        expected = mods["python"] and work.run(mods["python"])
        for backend, mod in mods.items():
            if work.run(mod) != expected:
                print(f"{work.name}: {backend} disagrees with python", file=sys.stderr)
                return 1
        medians = interleaved_medians(work, mods, args.rounds, args.budget)
        for backend, seconds in medians.items():
            rate = work.amount / seconds / 1e6
            ratio = medians["python"] / seconds
            print(f"{work.name:<20}{backend:<9}{seconds * 1e3:>9.3f}ms{rate:>11.1f} {work.unit}/s{ratio:>10.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
