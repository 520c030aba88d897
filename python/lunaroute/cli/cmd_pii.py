"""`lunaroute pii test FILE|-` (CONTRACT §9): what the configured detectors would redact in a
text, and why: type, where (line:column and character offsets), confidence, the detector
rule, the value, its replacement and the check's note. `--all` adds the candidates that
were not redacted (below min_confidence, or beaten by an overlapping finding) with the
reason; `--json` prints the same as JSON; `--redacted` prints the redacted text.

Nothing is written: an existing tokenize key is used (so tokens match the server's), a
missing one is not created, and the vault stays in memory.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from ..errors import ConfigError
from .common import config_dir_of, data_dir_of

_SHOW = 60  # characters of a value shown in the table


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    pii = sub.add_parser(
        "pii",
        parents=parents,
        help="try the PII detectors on a text",
        description="PII tools. `pii test FILE|-` shows what the configured detectors would redact in a text, and why.",
    )
    actions = pii.add_subparsers(dest="pii_action", metavar="ACTION", parser_class=type(pii), required=True)
    test = actions.add_parser(
        "test",
        parents=parents,
        help="show what would be redacted in a text, and why",
        description="Run the pii section of the config on a text (a file, or - for stdin) and list "
        "each finding: type, line:column, character span, confidence, detector rule, replacement.",
    )
    test.add_argument("source", metavar="FILE|-", help="the text to scan; - reads stdin")
    test.add_argument("--all", action="store_true", help="also list candidates that would not be redacted")
    test.add_argument("--json", action="store_true", help="JSON output")
    test.add_argument("--redacted", action="store_true", help="print the redacted text after the findings")
    test.set_defaults(run=run_test)


def run_test(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..pii import PiiEngine

    text = _read(args.source)
    config = load_config(config_dir_of(args), data_dir_of(args))
    server_file = config.sources.get("server", Path("server.yaml")).name
    try:
        engine = PiiEngine.from_config(config.pii, config.config_dir / "keys", config.data_dir, persist=False)
    except ValueError as exc:
        raise ConfigError(server_file, "", str(exc)) from None
    findings = engine.explain(text)
    if not args.all:
        findings = [f for f in findings if not f.note.startswith("not redacted")]
    rows = [_row(engine, text, f) for f in findings]
    redacted = engine.redact_text(text)[0]
    if args.json:
        doc: dict[str, Any] = {
            "mode": config.pii.mode,
            "min_confidence": config.pii.min_confidence,
            "enabled": config.pii.enabled,
            "findings": rows,
        }
        if args.redacted:
            doc["redacted"] = redacted
        sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    if not config.pii.enabled:
        print(f"note: pii.enabled is false in {server_file}: the server does not redact yet", file=sys.stderr)
    count = sum(1 for r in rows if r["redacted"])
    print(
        f"{count} redaction{'' if count == 1 else 's'} "
        f"(mode {config.pii.mode}, min_confidence {config.pii.min_confidence:g}, "
        f"detectors {', '.join(config.pii.detectors) or 'none'}"
        f"{', ' + str(len(config.pii.custom)) + ' custom' if config.pii.custom else ''})"
    )
    _table(rows)
    if args.redacted:
        print()
        sys.stdout.write(redacted if redacted.endswith("\n") else redacted + "\n")
    return 0


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.buffer.read().decode("utf-8", "replace")
    try:
        return Path(source).expanduser().read_bytes().decode("utf-8", "replace")
    except OSError as exc:
        raise ConfigError(source, "", f"cannot read: {exc.strerror or exc}") from None


def _row(engine: Any, text: str, finding: Any) -> dict[str, Any]:
    line = text.count("\n", 0, finding.start) + 1
    column = finding.start - (text.rfind("\n", 0, finding.start) + 1) + 1
    redacted = not finding.note.startswith("not redacted")
    return {
        "type": finding.type,
        "line": line,
        "column": column,
        "start": finding.start,
        "end": finding.end,
        "confidence": finding.confidence,
        "rule": finding.rule,
        "value": finding.value,
        "replacement": engine.replace(finding.type, finding.value) if redacted else None,
        "redacted": redacted,
        "note": finding.note,
    }


def _table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cells = [
        [
            f"{r['line']}:{r['column']}",
            f"[{r['start']},{r['end']})",
            r["type"],
            f"{r['confidence']:.2f}",
            r["rule"],
            _shown(r["value"]),
            "-> " + _shown(r["replacement"]) if r["redacted"] else "(kept)",
            r["note"],
        ]
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(cells[0]) - 1)]
    for c in cells:
        print(("  ".join(v.ljust(w) for v, w in zip(c, widths)) + f"  {c[-1]}").rstrip())


def _shown(value: str) -> str:
    shown = repr(value)
    return shown if len(shown) <= _SHOW else shown[: _SHOW - 4] + "...'"
