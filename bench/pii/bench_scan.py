"""Throughput of the PII scan on every matcher backend, and the native/python ratio.

    python bench/pii/bench_scan.py             # a few seconds
    python bench/pii/bench_scan.py --rounds 9  # steadier numbers, a little longer

Workloads, each on an engine with every built-in detector (mask mode):
- scan:     `findings()` over the 1 MB prompt (tests/fixtures/streams/prompt_1mb.txt: prose,
            logs, code, planted emails, phones and keys): every kernel pass, every check,
            the merge. The issue's figure: native >= 300 MB/s and >= 20x pure Python.
- kernel:   the kernel passes alone over the same prompt (what the checks add is the rest).
- clean:    `findings()` over the same prompt with its PII masked: the text of an ordinary
            prompt, where the kernel passes are nearly all the work.
- redact:   `redact_text()` of the prompt (scan + replacements).
- body:     `redact_json()` of a 1.3 KB chat request with PII (per call, with the
            `orjson.loads` that gives it a fresh body, about 1 us).
- e2e:      `redact_json()` of bench/e2e's chat request (430 bytes, no PII): what PII on adds
            to each request of the end-to-end benchmark (bench/pii/e2e_ratio.py).
- first:    a new stream redactor's first `feed()` of a 24-character delta (per call):
            what PII adds to a streamed answer's time to first byte.

Every backend's findings are checked against the python backend's before anything is timed.
Times are the process's CPU time (not wall time: on a shared machine a neighbour's load
would count), best of the rounds; backends take turns round by round.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson

from lunaroute.kernels import module_for
from lunaroute.pii import BUILTIN_TYPES, PiiEngine

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.e2e.scenarios import SCENARIOS, request_body  # noqa: E402

PROMPT = ROOT / "tests" / "fixtures" / "streams" / "prompt_1mb.txt"
BACKENDS = ("rust", "cython", "python")


class Settings:
    mode = "mask"
    detectors = BUILTIN_TYPES
    custom: tuple[dict[str, Any], ...] = ()
    restore_in_response = False
    reveal_chars = None
    min_confidence = 0.5


def chat_body() -> dict[str, Any]:
    turns = [
        {"role": "system", "content": "You are a support agent for Example Corp. Be brief and polite."},
        {"role": "user", "content": "Hi, my order 4821-9934 never arrived. I paid on 2024-06-22 at 10:30."},
        {"role": "assistant", "content": "Sorry to hear that! Could you share the email on the order?"},
        {"role": "user", "content": "Sure, it's jane.doe@example.com and my phone is (415) 555-0123."},
    ]
    filler = "The tracking page said the parcel left the depot in version 2.4 of the route plan. " * 6
    return {
        "model": "gpt-4o-mini",
        "messages": [*turns, {"role": "user", "content": filler}, *turns[1:]],
        "temperature": 0.2,
        "stream": True,
    }


def workloads(text: str, clean: str) -> dict[str, tuple[float, str, Callable[[PiiEngine], object]]]:
    """name -> (amount, unit, run)."""
    body = orjson.dumps(chat_body())  # parsed afresh each call (redaction edits in place)
    e2e = orjson.loads(request_body(SCENARIOS["oai"]))
    size = len(text.encode("utf-8"))

    def kernel(eng: PiiEngine) -> object:
        return [len(s.candidates(text)) for s in eng.scanners]

    def first(eng: PiiEngine) -> object:
        return eng.stream_redactor().feed("Sure! Let me check that ")

    return {
        "scan": (size, "MB", lambda eng: eng.findings(text)),
        "kernel": (size, "MB", kernel),
        "clean": (len(clean.encode("utf-8")), "MB", lambda eng: eng.findings(clean)),
        "redact": (size, "MB", lambda eng: eng.redact_text(text)[0]),
        "body": (1, "call", lambda eng: eng.redact_json(orjson.loads(body))),
        "e2e": (1, "call", lambda eng: eng.redact_json(e2e)),  # finds nothing: never changed
        "first": (1, "call", first),
    }


def best_times(
    run: Callable[[PiiEngine], object], engines: dict[str, PiiEngine], rounds: int, budget: float, reps: int
) -> dict[str, float]:
    for eng in engines.values():
        run(eng)  # warm-up
    samples: dict[str, list[float]] = {b: [] for b in engines}
    deadline = time.perf_counter() + budget
    for i in range(rounds):
        for backend, eng in engines.items():
            start = time.process_time()
            for _ in range(reps):
                run(eng)
            samples[backend].append((time.process_time() - start) / reps)
        if i >= 2 and time.perf_counter() > deadline:
            break
    return {b: min(s) for b, s in samples.items()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed runs per backend (best of)")
    parser.add_argument("--budget", type=float, default=2.0, help="seconds per workload, at most")
    args = parser.parse_args(argv)

    text = PROMPT.read_text(encoding="utf-8")
    root = Path("/nonexistent")  # mask mode: no key, no vault
    engines: dict[str, PiiEngine] = {}
    for backend in ("python", *(b for b in BACKENDS if b != "python")):
        mod: ModuleType | None = module_for("matcher", backend)
        if mod is not None and hasattr(mod, "PatternMatcher"):
            engines[backend] = PiiEngine.from_config(Settings(), root, root, matcher=mod.PatternMatcher)
    reference = engines["python"].findings(text)
    for backend, eng in engines.items():
        if eng.findings(text) != reference:
            print(f"{backend} disagrees with python", file=sys.stderr)
            return 1
    by_type: dict[str, int] = {}
    for f in reference:
        by_type[f.type] = by_type.get(f.type, 0) + 1
    clean = engines["python"].redact_text(text)[0]
    assert not engines["python"].findings(clean)
    print(f"prompt: {len(text.encode()):,} bytes, {len(reference)} findings {by_type}")
    header = f"{'workload':<10}{'backend':<9}{'cpu time':>12}{'throughput':>16}{'vs python':>11}"
    print(header)
    print("-" * len(header))
    for name, (amount, unit, run) in workloads(text, clean).items():
        reps = 200 if unit == "call" else 1
        times = best_times(run, engines, args.rounds, args.budget, reps)
        for backend, seconds in times.items():
            ratio = times["python"] / seconds
            if unit == "MB":
                shown = f"{seconds * 1e3:>10.2f}ms{amount / seconds / 1e6:>11.1f} MB/s"
            else:
                shown = f"{seconds * 1e6:>10.1f}us{1 / seconds:>11.0f} /s  "
            print(f"{name:<10}{backend:<9}{shown}{ratio:>10.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
