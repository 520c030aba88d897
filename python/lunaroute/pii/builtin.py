"""The built-in detectors: the regexes the matcher kernel runs, and the Python checks that
decide, candidate by candidate, what is PII and how sure we are.

Detectors share kernel passes: every pass over a prompt costs about the same whatever one
regex holds, so the digit-led detectors (phone, SSN, card, IPv4) are alternatives of one
regex, the key-shaped secrets of another. An alternative's named group says which rule
matched. All regexes are written with ASCII classes only (no \\d, \\w, \\s, \\b, which Rust
and Python read differently for some characters) and without anchors or look-around.

A check returns a raw finding `(start, end, type, confidence, rule, note)` or None.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable

from .checks import (
    before,
    bounded,
    card_network,
    entropy,
    generated,
    is_word,
    looks_random,
    luhn,
    nearest,
    placeholder,
)

Raw = tuple[int, int, str, float, str, str]
Check = Callable[[str, re.Match[str], int, int, int, int], Raw | None]

BUILTIN_TYPES = ("email", "phone", "ssn", "credit_card", "ip_address", "api_key")

# When two detectors claim the same span, the more specific one names it.
PRIORITY = {"api_key": 0, "credit_card": 1, "ssn": 2, "email": 3, "phone": 4, "ip_address": 5}

# ---------------------------------------------------------------------------- context cues
_CUES = re.compile(
    r"\b(?:"
    r"(?P<phone>phone|tel\b|telephone|mobile|cell|fax|call|sms|whatsapp|contact|dial|reach|text me|ring)"
    r"|(?P<ssn>ssn|ss#|social security|social sec|taxpayer|itin\b|tin\b)"
    r"|(?P<card>card|visa|mastercard|amex|credit|debit|cc\b|payment|pay with|cvv|billing)"
    r"|(?P<ip>ip\b|ipv4|ipv6|address|addr\b|host|server|client|peer|remote|src\b|dst\b|gateway|from\b|via\b)"
    r"|(?P<neg>(?:order|invoice|tracking|ticket|ref|reference|id|isbn|imei|serial|build|version|ver|release|"
    r"txn|transaction|account|acct|timestamp|epoch|ts|sku|part|batch|lot|zip|case|oid|firmware|"
    r"request|trace|job|run|pid|port|sha|hash|commit|row|record|item|product|model|patent|issue|pr|"
    r"chapter|section|sec|table|figure|fig|step|clause|paragraph|para|article|exercise|page|appendix|rule)\b)"
    r")"
)
_HASH_BEFORE = re.compile(r"#\s*$")


def _cue(text: str, start: int, lo: int) -> str | None:
    """The context word closest before a value: a hint of what it is (or is not)."""
    ctx = before(text, start, lo, 32).lower()
    ctx = ctx[ctx.rfind("\n") + 1 :]  # a cue speaks for its own line only
    cue = nearest(_CUES, ctx)
    if cue is None and _HASH_BEFORE.search(ctx):
        return "neg"  # #4111...: a number someone refers to, not a card
    return cue


# ---------------------------------------------------------------------------- numeric
NUMERIC_ALTERNATIVES: tuple[tuple[str, str, frozenset[str]], ...] = (
    (
        "intl",
        r"\+[1-9][0-9]{0,2}(?:[ .-]?\([0-9]{1,4}\))?(?:[ .-][0-9]{1,6}){1,6}|\+[1-9][0-9]{6,14}",
        frozenset({"phone"}),
    ),
    ("ssn", r"[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4}", frozenset({"ssn"})),
    ("card", r"[0-9]{4}(?:[ -][0-9]{4}){3}|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5}", frozenset({"credit_card"})),
    ("ipv4", r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}", frozenset({"ip_address"})),
    (
        "nanp",
        r"(?:1[ .-]?)?(?:\([2-9][0-9]{2}\)[ .-]?|[2-9][0-9]{2}[ .-])[2-9][0-9]{2}[ .-][0-9]{4}",
        frozenset({"phone"}),
    ),
    (
        "natl",
        r"0[1-9][0-9]{1,3}[ -][0-9]{3,4}[ -]?[0-9]{3,4}|0[1-9](?:[ .][0-9]{2}){4}|07[0-9]{3} ?[0-9]{6}",
        frozenset({"phone"}),
    ),
    ("run", r"[0-9]{9,}", frozenset({"phone", "ssn", "credit_card"})),
)
_JOINERS = ".-/:,"
_DIGIT_RUNS = re.compile(r"[0-9]+")


def _digits(value: str) -> str:
    return "".join(c for c in value if "0" <= c <= "9")


def _ssn_valid(d: str) -> bool:
    area, group, serial = d[:3], d[3:5], d[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def numeric_check(enabled: frozenset[str]) -> Check:
    def check(text: str, m: re.Match[str], start: int, end: int, lo: int, hi: int) -> Raw | None:
        kind = m.lastgroup
        # An address may be followed by a port or a prefix length; other numbers by nothing
        # that continues them.
        if not bounded(text, start, end, lo, hi, "." if kind == "ipv4" else _JOINERS):
            return None
        value = text[start:end]
        cue = _cue(text, start, lo)
        if kind == "intl":
            return _intl(start, end, value, cue)
        if kind == "ssn":
            return _ssn(start, end, value, cue)
        if kind == "card":
            return _grouped_card(start, end, value, cue)
        if kind == "ipv4":
            cidr = end + 1 < hi and text[end] == "/" and text[end + 1].isdigit()
            return _ipv4(start, end, value, "cidr" if cidr else cue)
        if kind == "nanp":
            conf = {"phone": 0.95, "neg": 0.35}.get(cue or "", 0.85)
            return (start, end, "phone", conf, "phone_nanp", f"cue {cue}" if cue else "")
        if kind == "natl":
            conf = {"phone": 0.9, "neg": 0.3}.get(cue or "", 0.7)
            return (start, end, "phone", conf, "phone_national", f"cue {cue}" if cue else "")
        return _run(start, end, value, cue, enabled)

    return check


def _intl(start: int, end: int, value: str, cue: str | None) -> Raw | None:
    # Digit groups past what a number can hold (a year, a count after it) are not part of it.
    limit = 11 if value[1] == "1" else 15
    count = stop = 0
    for run in _DIGIT_RUNS.finditer(value):
        size = run.end() - run.start()
        if count + size > limit:
            break
        count += size
        stop = run.end()
    if count < 8 or (value[1] == "1" and count != 11):
        return None
    conf = 0.5 if cue == "neg" else 0.9
    return (start, start + stop, "phone", conf, "phone_international", f"{count} digits")


def _ssn(start: int, end: int, value: str, cue: str | None) -> Raw | None:
    d = _digits(value)
    if not _ssn_valid(d):
        return None
    if "-" in value:
        conf = {"ssn": 0.95, "neg": 0.4}.get(cue or "", 0.85)
    else:
        conf = {"ssn": 0.9, "neg": 0.3}.get(cue or "", 0.6)
    return (start, end, "ssn", conf, "ssn_formatted", f"cue {cue}" if cue else "area rules ok")


def _grouped_card(start: int, end: int, value: str, cue: str | None) -> Raw | None:
    if len({c for c in value if not c.isdigit()}) != 1:
        return None  # mixed separators: not how a card number is written
    d = _digits(value)
    if not luhn(d):
        return None
    network = card_network(d)
    if network is None:
        return (start, end, "credit_card", 0.4, "card_grouped", "luhn ok, unknown issuer")
    conf = 0.5 if cue == "neg" else 0.95
    return (start, end, "credit_card", conf, "card_grouped", f"luhn ok, {network}")


def _ipv4(start: int, end: int, value: str, cue: str | None) -> Raw | None:
    parts = value.split(".")
    for part in parts:
        if int(part) > 255 or (len(part) > 1 and part[0] == "0"):
            return None
    first = int(parts[0])
    if first in (0, 127, 255) or value == "255.255.255.255" or parts[:2] == ["255", "255"]:
        return (start, end, "ip_address", 0.3, "ipv4", "loopback, unspecified or mask")
    if cue == "neg":
        return (start, end, "ip_address", 0.25, "ipv4", "version-like context")
    if cue == "cidr":
        return (start, end, "ip_address", 0.4, "ipv4", "a network (CIDR), not a host")
    return (start, end, "ip_address", 0.95 if cue == "ip" else 0.85, "ipv4", "octets ok")


def _run(start: int, end: int, value: str, cue: str | None, enabled: frozenset[str]) -> Raw | None:
    n = len(value)
    if 13 <= n <= 19 and "credit_card" in enabled and luhn(value):
        network = card_network(value)
        if network is not None:
            conf = {"card": 0.95, "neg": 0.45}.get(cue or "", 0.9)
            return (start, end, "credit_card", conf, "card_digits", f"luhn ok, {network}")
    if n == 9 and "ssn" in enabled and _ssn_valid(value):
        return (start, end, "ssn", 0.85 if cue == "ssn" else 0.2, "ssn_digits", f"cue {cue}")
    if 10 <= n <= 15 and "phone" in enabled:
        return (start, end, "phone", 0.8 if cue == "phone" else 0.3, "phone_digits", f"cue {cue}")
    return None


# ---------------------------------------------------------------------------- email
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_USERINFO = re.compile(r"://[^\s/@]*$")
_FILE_TLDS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "avif"})


def email_check(text: str, m: re.Match[str], start: int, end: int, lo: int, hi: int) -> Raw | None:
    value = text[start:end]
    skip = len(value) - len(value.lstrip("."))
    start += skip
    local, _, domain = value[skip:].partition("@")
    if not local or local.endswith(".") or ".." in local:
        return None
    if start > lo and (is_word(text[start - 1]) or text[start - 1] in "@."):
        return None
    if end < hi and (is_word(text[end]) or text[end] in "-@"):
        return None
    ctx = before(text, start, lo)
    if "://" in ctx and _USERINFO.search(ctx):
        return None  # https://user:token@host: credentials in a URL, not a mailbox
    labels = domain.split(".")
    if any(not label or label[0] == "-" or label[-1] == "-" for label in labels):
        return None
    if labels[-1].lower() in _FILE_TLDS:
        return None  # icon@2x.png
    return (start, end, "email", 0.95, "email", "")


# ---------------------------------------------------------------------------- IPv6
# The kernel finds the colon run (first byte ':' is rare in prose, so the scan jumps); the
# check widens it to the first group and lets `ipaddress` judge.
IPV6 = r":(?::|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:.]*"
IPV6_REACH = 5  # the check widens a match left by up to 4 hex digits (and reads one more)
_HEX = frozenset("0123456789abcdefABCDEF")


def ipv6_check(text: str, m: re.Match[str], start: int, end: int, lo: int, hi: int) -> Raw | None:
    k = 0
    while k < 5 and start - k - 1 >= lo and text[start - k - 1] in _HEX:
        k += 1
    if k == 5:
        return None
    start -= k
    if start > lo and (is_word(text[start - 1]) or text[start - 1] in ":."):
        return None
    value = text[start:end].rstrip(".")
    if value.endswith(":") and not value.endswith("::"):
        value = value[:-1]
    end = start + len(value)
    if end < hi and is_word(text[end]):
        return None
    try:
        addr = ipaddress.IPv6Address(value)
    except ValueError:
        return None
    groups = [g for g in value.split(":") if g]
    if addr.is_loopback or addr.is_unspecified:
        return (start, end, "ip_address", 0.3, "ipv6", "loopback or unspecified")
    if "::" in value and len(groups) < 3:
        if not any(c.isdigit() for c in value) or max((len(g) for g in groups), default=0) < 3:
            return (start, end, "ip_address", 0.3, "ipv6", "too short to tell from code")
    return (start, end, "ip_address", 0.9, "ipv6", "")


# ---------------------------------------------------------------------------- key-shaped secrets
SECRETS = (
    ("openai_anthropic", r"sk-[A-Za-z0-9_-]{20,}"),
    ("github", r"gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}"),
    ("slack", r"xox[abprs]-[A-Za-z0-9-]{10,}"),
    ("google", r"AIza[0-9A-Za-z_-]{35}"),
    ("gitlab", r"glpat-[0-9A-Za-z_-]{20,}"),
    ("huggingface", r"hf_[A-Za-z0-9]{30,}"),
    ("npm", r"npm_[A-Za-z0-9]{36,}"),
    ("stripe", r"[rs]k_(?:live|test)_[0-9A-Za-z]{20,}"),
    ("lunaroute", r"lr-[A-Za-z0-9]{40}"),
    ("aws_access_key", r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"),
    ("jwt", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"),
)
_SK_PREFIXES = ("sk-ant-api03-", "sk-ant-admin01-", "sk-ant-", "sk-proj-", "sk-svcacct-", "sk-admin-", "sk-")


# Every alternative of SECRETS starts with its own literal, so a match's first characters
# name its rule: no second regex match needed.
_SECRET_PREFIXES = (
    ("sk-", "openai_anthropic"),
    ("ghp_", "github"),
    ("gho_", "github"),
    ("ghu_", "github"),
    ("ghs_", "github"),
    ("ghr_", "github"),
    ("github_pat_", "github"),
    ("xox", "slack"),
    ("AIza", "google"),
    ("glpat-", "gitlab"),
    ("hf_", "huggingface"),
    ("npm_", "npm"),
    ("sk_", "stripe"),
    ("rk_", "stripe"),
    ("lr-", "lunaroute"),
    ("AKIA", "aws_access_key"),
    ("ASIA", "aws_access_key"),
    ("ABIA", "aws_access_key"),
    ("ACCA", "aws_access_key"),
    ("eyJ", "jwt"),
)


def secret_rule(value: str) -> str:
    return next(rule for prefix, rule in _SECRET_PREFIXES if value.startswith(prefix))


def secret_check(text: str, m: re.Match[str] | None, start: int, end: int, lo: int, hi: int) -> Raw | None:
    if start > lo and (is_word(text[start - 1]) or text[start - 1] == "-"):
        return None  # risk-free-..., mask-...
    if end < hi and (is_word(text[end]) or text[end] == "-"):
        return None
    value = text[start:end]
    rule = secret_rule(value)
    if rule == "openai_anthropic":
        body = value[len(next(p for p in _SK_PREFIXES if value.startswith(p))) :]
        if not generated(body, 20):
            return (start, end, "api_key", 0.3, rule, "prefix only, not random")
        return (start, end, "api_key", 0.95, rule, "")
    if rule == "jwt":
        return (start, end, "api_key", 0.95 if _jwt_header(value) else 0.6, rule, "")
    if len(set(value[4:])) < 8:
        return (start, end, "api_key", 0.3, rule, "too few distinct characters")
    return (start, end, "api_key", 0.95, rule, "")


def _jwt_header(value: str) -> bool:
    head = value.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
    except (binascii.Error, ValueError):
        return False
    return raw.startswith(b"{") and (b'"alg"' in raw or b'"typ"' in raw)


# ---------------------------------------------------------------------------- private keys
_PEM_LABEL = r"-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----"
PEM = (
    rf"(?P<pem_block>{_PEM_LABEL}[A-Za-z0-9+/=\t\r\n \\:,.-]*?-----END (?:[A-Z0-9]{{1,20}} ){{0,3}}"
    rf"PRIVATE KEY(?: BLOCK)?-----)|(?P<pem_truncated>{_PEM_LABEL}[A-Za-z0-9+/=\t\r\n \\]*)"
)


def pem_check(text: str, m: re.Match[str], start: int, end: int, lo: int, hi: int) -> Raw | None:
    if m.lastgroup == "pem_block":
        return (start, end, "api_key", 0.99, "private_key", "")
    value = text[start:end].rstrip(" \t\r\n")
    trailing = len(value) - len(value.rstrip("\\"))
    if trailing % 2:
        value = value[:-1]  # never cut an escape (\n, \") in half: JSON text stays JSON
    return (start, start + len(value), "api_key", 0.9, "private_key", "no END line")


# ---------------------------------------------------------------------------- assignments
# The regex starts at the last word of a key name (api_KEY, auth_TOKEN, client_SECRET): a
# short keyword list keeps the kernel pass fast, and the check reads what precedes it.
_VALUE = r"[A-Za-z0-9!#$%&()*+./:=?@^_|~{}\[\]-]"
ASSIGN = (
    r"(?i)(?P<kw>key|token|secret|passw(?:or)?d|pwd|passphrase|credentials?)"
    r"[\"']?[ \t]*[:=][ \t]*[\"']?(?P<val>" + _VALUE + r"{4,})"
)
AUTH_HEADER = (
    r"(?i)(?P<bearer>bearer[ \t]+(?P<bval>[A-Za-z0-9._~+/-]{16,}=*))"
    r"|(?P<basic>basic[ \t]+(?P<cval>[A-Za-z0-9+/]{8,}={0,2}))"
)
_PASSWORDISH = frozenset({"passphrase", "password", "passwd", "pwd", "credential", "credentials", "secret"})
_COMPOUND_BEFORE = re.compile(
    r"(?:api|secret|access|private|auth|client|session|signing|master|encryption|app|bot|db|admin|user|root|"
    r"refresh)[_-]?$"
)
_DIGIT = re.compile(r"[0-9]")
_NEXT_PARAM = re.compile(r"&[A-Za-z_][A-Za-z0-9_]*=")


def assign_check(text: str, m: re.Match[str], start: int, end: int, lo: int, hi: int) -> Raw | None:
    kw = m.group("kw").lower()
    compound = _COMPOUND_BEFORE.search(before(text, start, lo, 16).lower())
    if start > lo and text[start - 1].isalpha() and compound is None:
        return None  # monkey=..., hockey: ...
    vs, ve = m.span("val")
    value = text[vs:ve]
    query = _NEXT_PARAM.search(value)
    if query:
        value = value[: query.start()]  # ...token=abc&expires_in=3600
    value = value.rstrip(".,)]}")
    ve = vs + len(value)
    if len(value) < 4 or placeholder(value):
        return None
    name = (compound.group().replace("-", "_") if compound else "") + kw
    rule = f"assignment:{name}"
    if kw in _PASSWORDISH:
        return (vs, ve, "api_key", 0.85, rule, "value after a password-like key")
    if "://" in value:
        return (vs, ve, "api_key", 0.3, rule, "a URL")
    if compound is None:
        return (vs, ve, "api_key", 0.8 if looks_random(value, 12) else 0.3, rule, "random-looking value")
    strong = len(value) >= 8 and _DIGIT.search(value) is not None and entropy(value) >= 2.5
    return (vs, ve, "api_key", 0.85 if strong else 0.3, rule, "value with digits, entropy >= 2.5")


def auth_header_check(text: str, m: re.Match[str], start: int, end: int, lo: int, hi: int) -> Raw | None:
    if start > lo and is_word(text[start - 1]):
        return None
    if m.group("bval") is not None:
        vs, ve = m.span("bval")
        value = text[vs:ve]
        conf = 0.9 if looks_random(value.rstrip("="), 16) or value.startswith("eyJ") else 0.3
        return (vs, ve, "api_key", conf, "bearer_token", "")
    vs, ve = m.span("cval")
    return (vs, ve, "api_key", 0.85 if _basic_credentials(text[vs:ve]) else 0.3, "basic_auth", "")


def _basic_credentials(value: str) -> bool:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in raw
