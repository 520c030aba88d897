"""The PII engine: detectors on the matcher kernel, one of four modes, an optional vault.

The pipeline calls `redact_json` on a parsed request body, `stream_redactor` /
`restorer` on streamed answers and `restore_text` on whole ones; `detections` and
`redactions` feed `lunaroute_pii_detections_total{type}` and
`lunaroute_pii_redactions_total`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from .. import kernels
from ..errors import InvalidPatternError
from . import builtin
from .checks import is_word
from .detect import Gate, merge, scan_many, scan_one
from .json_walk import text_slots
from .modes import MODES, replacer
from .patterns import PatternProblem, check_custom
from .scanner import LiteralCheck, Raw, RegexCheck, Scanner
from .stream import StreamRedactor, StreamRestorer, restore
from .vault import KEY_BYTES, KEY_FILE, VAULT_FILE, Tokenizer, Vault, derive, load_or_create_key

DEFAULT_MIN_CONFIDENCE = 0.5
DEFAULT_CUSTOM_CONFIDENCE = 0.9


class PiiSettings(Protocol):
    """The fields of `config.PiiConfig` the engine reads."""

    # Read-only (properties): the config's dataclasses are frozen.
    @property
    def mode(self) -> str: ...
    @property
    def detectors(self) -> Sequence[str]: ...
    @property
    def custom(self) -> Sequence[dict[str, Any]]: ...
    @property
    def restore_in_response(self) -> bool: ...
    @property
    def reveal_chars(self) -> int | None: ...
    @property
    def min_confidence(self) -> float: ...


class Finding(NamedTuple):
    type: str  # email, phone, ssn, credit_card, ip_address, api_key, or a custom detector's name
    start: int  # offsets in the text, in characters
    end: int
    confidence: float
    rule: str  # which rule of the detector matched (phone_nanp, card_digits, openai_anthropic, ...)
    value: str
    note: str = ""  # why: the check's verdict, or why it was not redacted (explain)

    def __repr__(self) -> str:  # the value stays out of logs and tracebacks
        return (
            f"Finding(type={self.type!r}, start={self.start}, end={self.end}, "
            f"confidence={self.confidence}, rule={self.rule!r}, note={self.note!r})"
        )


class PiiEngine:
    """Built once per config; cheap to call per request and per stream."""

    def __init__(
        self,
        scanners: Sequence[Scanner],
        mode: str,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        reveal_chars: int | None = None,
        tokenizer: Tokenizer | None = None,
        vault: Vault | None = None,
        priority: dict[str, int] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown PII mode {mode!r} (one of {', '.join(MODES)})")
        self.scanners = tuple(scanners)
        self.gate = Gate(self.scanners) if self.scanners else None
        self.mode = mode
        self.min_confidence = min_confidence
        self.priority = dict(builtin.PRIORITY if priority is None else priority)
        self.replace = replacer(mode, reveal_chars, tokenizer, vault)
        self.vault = vault
        self.detections: dict[str, int] = {}
        self.redactions = 0

    @classmethod
    def from_config(
        cls,
        pii: PiiSettings,
        keys_dir: Path,
        data_dir: Path,
        *,
        matcher: type | None = None,
        persist: bool = True,
    ) -> PiiEngine:
        """The engine a config describes. `matcher` picks a kernel backend's PatternMatcher
        (default: the one lunaroute.kernels chose). With `persist=False` (dry runs) nothing
        is written: an existing key is used, a missing one replaced by a throwaway, and the
        vault stays in memory. Raises ValueError naming the bad field."""
        matcher = matcher or kernels.PatternMatcher
        scanners = builtin_scanners(frozenset(pii.detectors), matcher)
        priority = dict(builtin.PRIORITY)
        scanners += custom_scanners(pii.custom, matcher, priority)
        tokenizer = vault = None
        if pii.mode == "tokenize":
            root = _root_key(keys_dir, persist)
            tokenizer = Tokenizer(derive(root, "lunaroute pii token v1"))
            if pii.restore_in_response:
                path = data_dir / "pii" / VAULT_FILE if persist else None
                vault = Vault(derive(root, "lunaroute pii vault v1"), path)
        return cls(
            scanners,
            pii.mode,
            min_confidence=pii.min_confidence,
            reveal_chars=pii.reveal_chars,
            tokenizer=tokenizer,
            vault=vault,
            priority=priority,
        )

    # ------------------------------------------------------------------ counters
    def count(self, kind: str, n: int = 1) -> None:
        self.detections[kind] = self.detections.get(kind, 0) + n
        self.redactions += n

    # ------------------------------------------------------------------ whole texts
    def findings(self, text: str) -> list[Finding]:
        """What redact_text would replace, without replacing or counting."""
        return [
            _finding(text, raw)
            for raw in merge(scan_one(self.scanners, text, self.min_confidence, self.gate), self.priority)
        ]

    def explain(self, text: str) -> list[Finding]:
        """Every candidate a check accepted, redacted or not, and why (for `lunaroute pii test`)."""
        every = scan_one(self.scanners, text, 0.0)
        confident = [raw for raw in every if raw[3] >= self.min_confidence]
        taken = set(merge(list(confident), self.priority))
        out = []
        for raw in sorted(every, key=lambda r: (r[0], r[0] - r[1])):
            if raw in taken:
                why = raw[5]
            elif raw[3] < self.min_confidence:
                why = f"not redacted: confidence below min_confidence {self.min_confidence:g}" + (
                    f" ({raw[5]})" if raw[5] else ""
                )
            else:
                why = "not redacted: overlaps a finding that wins"
            out.append(_finding(text, (*raw[:5], why)))
        return out

    def redact_text(self, text: str) -> tuple[str, list[Finding]]:
        raws = merge(scan_one(self.scanners, text, self.min_confidence, self.gate), self.priority)
        if not raws:
            return text, []
        return self._apply(text, raws), [_finding(text, raw) for raw in raws]

    def redact_json(self, obj: Any) -> int:
        """Redact every text string of a parsed request body in place; the number of values
        replaced. Structural fields (model, role, ids, tool names, base64 data, ...) and
        object keys are left alone."""
        slots = text_slots(obj)
        if not slots:
            return 0
        per_text = scan_many(self.scanners, [text for _, _, text in slots], self.min_confidence, self.gate)
        total = 0
        for (holder, key, text), raws in zip(slots, per_text):
            if raws:
                taken = merge(raws, self.priority)
                holder[key] = self._apply(text, taken)
                total += len(taken)
        return total

    def _apply(self, text: str, raws: list[Raw]) -> str:
        parts: list[str] = []
        pos = 0
        replace = self.replace
        for start, end, kind, *_ in raws:
            parts.append(text[pos:start])
            parts.append(replace(kind, text[start:end]))
            self.count(kind)
            pos = end
        parts.append(text[pos:])
        return "".join(parts)

    # ------------------------------------------------------------------ streams and restore
    def stream_redactor(self) -> StreamRedactor:
        return StreamRedactor(self)

    @property
    def restores(self) -> bool:
        """Whether answers get their tokens turned back (tokenize + restore_in_response)."""
        return self.vault is not None

    def restorer(self) -> StreamRestorer | None:
        """None unless tokenize mode with restore_in_response."""
        return StreamRestorer(self.vault.get) if self.vault is not None else None

    def restore_text(self, text: str) -> str:
        return restore(text, self.vault.get) if self.vault is not None else text


def _finding(text: str, raw: Raw) -> Finding:
    start, end, kind, conf, rule, note = raw
    return Finding(kind, start, end, conf, rule, text[start:end], note)


def _root_key(keys_dir: Path, persist: bool) -> bytes:
    if persist or (keys_dir / KEY_FILE).exists():
        return load_or_create_key(keys_dir)
    return os.urandom(KEY_BYTES)


# ---------------------------------------------------------------------------- scanners
def builtin_scanners(enabled: frozenset[str], matcher: type) -> list[Scanner]:
    unknown = enabled - set(builtin.BUILTIN_TYPES)
    if unknown:
        raise ValueError(f"pii.detectors: unknown detector {sorted(unknown)[0]!r}")
    scanners: list[Scanner] = []
    numeric = [(group, src) for group, src, types in builtin.NUMERIC_ALTERNATIVES if types & enabled]
    if numeric:
        source = "|".join(f"(?P<{group}>{src})" for group, src in numeric)
        scanners.append(Scanner.regex("numeric", source, builtin.numeric_check(enabled), matcher))
    if "email" in enabled:
        scanners.append(Scanner.regex("email", builtin.EMAIL, builtin.email_check, matcher, groups=False))
    if "ip_address" in enabled:
        scanners.append(
            Scanner.regex("ipv6", builtin.IPV6, builtin.ipv6_check, matcher, builtin.IPV6_REACH, groups=False)
        )
    if "api_key" in enabled:
        source = "|".join(f"(?P<{name}>{src})" for name, src in builtin.SECRETS)
        scanners.append(Scanner.regex("secrets", source, builtin.secret_check, matcher, groups=False))
        scanners.append(Scanner.regex("private_key", builtin.PEM, builtin.pem_check, matcher))
        scanners.append(Scanner.regex("assignment", builtin.ASSIGN, builtin.assign_check, matcher))
        scanners.append(Scanner.regex("auth_header", builtin.AUTH_HEADER, builtin.auth_header_check, matcher))
    return scanners


def custom_scanners(custom: Sequence[dict[str, Any]], matcher: type, priority: dict[str, int]) -> list[Scanner]:
    """One scanner per custom regex; one per case mode for all keyword lists."""
    scanners: list[Scanner] = []
    keywords: dict[bool, list[tuple[str, str, float]]] = {True: [], False: []}
    for i, entry in enumerate(custom):
        name = str(entry["name"])
        confidence = float(entry.get("confidence", DEFAULT_CUSTOM_CONFIDENCE))
        priority.setdefault(name, 10 + i)
        if "pattern" in entry:
            where = f"pii.custom[{i}].pattern"
            try:
                spec = check_custom(str(entry["pattern"]))
                scanner = Scanner.regex(
                    f"custom:{name}", spec.core, _regex_check(name, confidence, spec.word_start, spec.word_end), matcher
                )
            except (PatternProblem, InvalidPatternError) as exc:
                raise ValueError(f"{where}: {exc}") from None
            scanners.append(scanner)
        else:
            sensitive = bool(entry.get("case_sensitive", False))
            keywords[sensitive] += [(str(word), name, confidence) for word in entry["keywords"]]
    for sensitive, entries in keywords.items():
        if entries:
            words = [w for w, _, _ in entries]
            owners = [(n, c) for _, n, c in entries]
            scanners.append(
                Scanner.literals(
                    "keywords" + ("" if sensitive else "_ci"),
                    words,
                    _keyword_check(owners),
                    matcher,
                    case_insensitive=not sensitive,
                )
            )
    return scanners


def _boundary(text: str, pos: int, lo: int, hi: int) -> bool:
    left = pos > lo and is_word(text[pos - 1])
    right = pos < hi and is_word(text[pos])
    return left != right


def _regex_check(name: str, confidence: float, word_start: bool, word_end: bool) -> RegexCheck:
    def check(text: str, m: Any, start: int, end: int, lo: int, hi: int) -> Raw | None:
        if (word_start and not _boundary(text, start, lo, hi)) or (word_end and not _boundary(text, end, lo, hi)):
            return None
        return (start, end, name, confidence, name, "custom pattern")

    return check


def _keyword_check(owners: list[tuple[str, float]]) -> LiteralCheck:
    def check(text: str, pid: int, start: int, end: int, lo: int, hi: int) -> Raw | None:
        if is_word(text[start]) and start > lo and is_word(text[start - 1]):
            return None
        if is_word(text[end - 1]) and end < hi and is_word(text[end]):
            return None
        name, confidence = owners[pid]
        return (start, end, name, confidence, name, "keyword")

    return check
