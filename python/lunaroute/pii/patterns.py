"""What the PII engine needs to know about a regular expression, read off Python's parser.

Three things:
- `check_custom`: a user's pattern must sit in the common subset of Python `re` and Rust
  `regex` (the matcher kernel runs it on either) and must not look behind its start, so
  that scanning from any offset finds what a scan of the whole text finds there. A leading
  or trailing `\\b` is taken off the pattern and checked in Python instead.
- `prefix_closure`: a Python regex matching exactly the prefixes of the strings a pattern
  matches. The stream redactor asks it whether the unfinished tail of a stream could still
  grow into a match; when it cannot, everything before the tail is final.
- `max_width`: the longest match, when it is bounded.
"""

from __future__ import annotations

import re

# The stdlib's own parser (private, stable since 3.11): the only way to read a regex's
# structure without writing a second parser.
import re._constants as sre
import re._parser as sre_parse
from dataclasses import dataclass
from typing import Any

_FLAG_LETTERS = ((sre.SRE_FLAG_IGNORECASE, "i"), (sre.SRE_FLAG_MULTILINE, "m"), (sre.SRE_FLAG_DOTALL, "s"))
_KEPT_FLAGS = sre.SRE_FLAG_IGNORECASE | sre.SRE_FLAG_MULTILINE | sre.SRE_FLAG_DOTALL
_CHAR_OPS = frozenset({sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY, sre.CATEGORY})
_CATEGORIES = {
    sre.CATEGORY_DIGIT: r"\d",
    sre.CATEGORY_NOT_DIGIT: r"\D",
    sre.CATEGORY_SPACE: r"\s",
    sre.CATEGORY_NOT_SPACE: r"\S",
    sre.CATEGORY_WORD: r"\w",
    sre.CATEGORY_NOT_WORD: r"\W",
}


class PatternProblem(ValueError):
    """A pattern the engine cannot run; `str()` says why, for a config error."""


@dataclass(frozen=True, slots=True)
class CustomPattern:
    core: str  # what the matcher kernel runs
    word_start: bool  # the user wrote a leading \b
    word_end: bool  # ... a trailing \b


def parse(pattern: str) -> sre_parse.SubPattern:
    try:
        return sre_parse.parse(pattern, 0)
    except (re.error, RecursionError, OverflowError) as exc:
        raise PatternProblem(f"invalid regular expression: {exc}") from None


def check_custom(pattern: str) -> CustomPattern:
    """The pattern split into its kernel core and its boundary checks, or PatternProblem."""
    core, word_start, word_end = _strip_boundaries(pattern)
    tree = parse(core)
    if tree.state.flags & (sre.SRE_FLAG_ASCII | sre.SRE_FLAG_LOCALE):
        raise PatternProblem("the (?a) and (?L) flags are not supported")
    _check_items(tree.data)
    lo, _hi = tree.getwidth()
    if lo == 0:
        raise PatternProblem("must not match the empty string")
    return CustomPattern(core, word_start, word_end)


def _strip_boundaries(pattern: str) -> tuple[str, bool, bool]:
    core = pattern
    word_start = core.startswith(r"\b")
    if word_start:
        core = core[2:]
    word_end = core.endswith(r"\b") and _escaped_at(core, len(core) - 1)
    if word_end:
        core = core[:-2]
    if (word_start or word_end) and _has_top_level_bar(core):
        # `\ba|b\b` binds each \b to one alternative only: taking them off would widen it.
        raise PatternProblem(r"put alternatives between \b and \b in a group, e.g. \b(?:a|b)\b")
    return core, word_start, word_end


def _escaped_at(text: str, index: int) -> bool:
    """Whether text[index] is escaped (an odd run of backslashes before it)."""
    run = 0
    i = index - 1
    while i >= 0 and text[i] == "\\":
        run += 1
        i -= 1
    return run % 2 == 1


def _has_top_level_bar(pattern: str) -> bool:
    depth = 0
    in_class = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "^":
                i += 1
            if pattern[i + 1 : i + 2] == "]":  # a leading ] is a literal
                i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
        i += 1
    return False


def _check_items(items: list[Any]) -> None:
    for op, av in items:
        if op is sre.AT:
            raise PatternProblem(r"anchors and \b are only supported as a leading or trailing \b")
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            raise PatternProblem("look-ahead and look-behind are not supported")
        if op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
            raise PatternProblem("back-references are not supported")
        if op is sre.ATOMIC_GROUP or op is getattr(sre, "POSSESSIVE_REPEAT", None):
            raise PatternProblem("atomic groups and possessive repeats are not supported")
        if op is sre.BRANCH:
            for branch in av[1]:
                _check_items(branch.data)
        elif op is sre.SUBPATTERN:
            _group, add, remove, sub = av
            if (add | remove) & ~_KEPT_FLAGS:
                raise PatternProblem("only the i, m and s inline flags are supported")
            _check_items(sub.data)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            _check_items(av[2].data)


def max_width(pattern: str) -> int | None:
    """The longest possible match, None when unbounded."""
    _lo, hi = parse(pattern).getwidth()
    return None if hi >= sre.MAXREPEAT else hi


# ---------------------------------------------------------------------------- prefix closure
def prefix_closure(pattern: str) -> re.Pattern[str]:
    """A regex whose full matches are exactly the prefixes (the empty one included) of the
    strings `pattern` matches. For patterns without anchors or look-around."""
    tree = parse(pattern)
    _check_items(tree.data)
    flags = tree.state.flags & _KEPT_FLAGS
    return re.compile(_pc_seq(list(tree.data)), flags)


def _pc_seq(items: list[Any]) -> str:
    if not items:
        return ""
    # Runs of single characters nest as c1(?:c2(?:c3)?)? rather than once per item, which
    # keeps long literals (-----BEGIN ...) shallow.
    run = 0
    while run < len(items) and items[run][0] in _CHAR_OPS:
        run += 1
    if run:
        chars = [_full_item(item) for item in items[:run]]
        # Prefixes: the whole run then a prefix of the rest, or a proper prefix of the run.
        body = "".join(chars) + _pc_seq(items[run:])
        return f"(?:{body}|{_nested_optional(chars[:-1])})"
    head, rest = items[0], items[1:]
    if not rest:
        return _pc_item(head)
    return f"(?:{_full_item(head)}{_pc_seq(rest)}|{_pc_item(head)})"


def _nested_optional(chars: list[str]) -> str:
    """(?:c1(?:c2(?:c3)?)?)? : every prefix of c1 c2 c3."""
    out = ""
    for ch in reversed(chars):
        out = f"(?:{ch}{out})?"
    return out


def _pc_item(item: tuple[Any, ...]) -> str:
    op, av = item
    if op in _CHAR_OPS:
        return f"(?:{_full_item(item)})?"
    if op is sre.BRANCH:
        return "(?:" + "|".join(_pc_seq(list(b.data)) for b in av[1]) + ")"
    if op is sre.SUBPATTERN:
        _group, add, remove, sub = av
        return _scoped(add, remove, _pc_seq(list(sub.data)))
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        _lo, hi, sub = av
        if hi == 0:
            return ""
        full = f"(?:{_full_seq(list(sub.data))})"
        count = "*" if hi >= sre.MAXREPEAT else f"{{0,{hi - 1}}}"
        return f"{full}{count}{_pc_seq(list(sub.data))}"
    raise PatternProblem(f"unsupported regex construct {op}")


# ---------------------------------------------------------------------------- serializing
def _full_seq(items: list[Any]) -> str:
    return "".join(_full_item(item) for item in items)


def _full_item(item: tuple[Any, ...]) -> str:
    op, av = item
    if op is sre.LITERAL:
        return _char(av)
    if op is sre.NOT_LITERAL:
        return f"[^{_char(av)}]"
    if op is sre.ANY:
        return "."
    if op is sre.CATEGORY:
        return _CATEGORIES[av]
    if op is sre.IN:
        return _class(av)
    if op is sre.BRANCH:
        return "(?:" + "|".join(_full_seq(list(b.data)) for b in av[1]) + ")"
    if op is sre.SUBPATTERN:
        _group, add, remove, sub = av
        return _scoped(add, remove, _full_seq(list(sub.data)))
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        lo, hi, sub = av
        count = f"{{{lo},}}" if hi >= sre.MAXREPEAT else f"{{{lo},{hi}}}"
        return f"(?:{_full_seq(list(sub.data))}){count}"
    raise PatternProblem(f"unsupported regex construct {op}")


def _scoped(add: int, remove: int, body: str) -> str:
    if not (add or remove):
        return f"(?:{body})"
    on = "".join(letter for flag, letter in _FLAG_LETTERS if add & flag)
    off = "".join(letter for flag, letter in _FLAG_LETTERS if remove & flag)
    return f"(?{on}{'-' + off if off else ''}:{body})"


def _char(code: int) -> str:
    ch = chr(code)
    if ch.isalnum() and code < 128:
        return ch
    return f"\\x{code:02x}" if code < 0x100 else (f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


def _class(items: list[Any]) -> str:
    parts: list[str] = []
    for op, av in items:
        if op is sre.NEGATE:
            parts.insert(0, "^")
        elif op is sre.LITERAL:
            parts.append(_char(av))
        elif op is sre.RANGE:
            parts.append(f"{_char(av[0])}-{_char(av[1])}")
        elif op is sre.CATEGORY:
            parts.append(_CATEGORIES[av])
        else:
            raise PatternProblem(f"unsupported class item {op}")
    return "[" + "".join(parts) + "]"


def sigma_class(pattern: str) -> re.Pattern[str] | None:
    """A regex matching one character that can appear nowhere in a match of `pattern`, or
    None when every character can (a `.` or a negated class). The stream redactor skips
    past the last such character: no match can reach across it."""
    tree = parse(pattern)
    parts: list[str] = []
    if not _sigma(tree.data, parts):
        return None
    return re.compile("[^" + "".join(parts) + "]", tree.state.flags & sre.SRE_FLAG_IGNORECASE)


def _sigma(items: list[Any], parts: list[str]) -> bool:
    for op, av in items:
        if op is sre.LITERAL:
            parts.append(_char(av))
        elif op is sre.IN:
            if any(sub_op is sre.NEGATE for sub_op, _ in av):
                return False
            parts.append(_class(av)[1:-1])
        elif op is sre.CATEGORY:
            if av not in (sre.CATEGORY_DIGIT, sre.CATEGORY_SPACE, sre.CATEGORY_WORD):
                return False
            parts.append(_CATEGORIES[av])
        elif op in (sre.NOT_LITERAL, sre.ANY):
            return False
        elif op is sre.BRANCH:
            if not all(_sigma(branch.data, parts) for branch in av[1]):
                return False
        elif op is sre.SUBPATTERN:
            # A scoped (?i:...) would need case-folded members: give up rather than guess.
            if av[1] & sre.SRE_FLAG_IGNORECASE or not _sigma(av[3].data, parts):
                return False
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            if not _sigma(av[2].data, parts):
                return False
    return True


def first_class(pattern: str) -> re.Pattern[str] | None:
    """A regex matching one character that can begin a match of `pattern`, or None when
    that is not known (the stream redactor then tries every position)."""
    tree = parse(pattern)
    parts: list[str] = []
    nullable = _first(tree.data, parts)
    if nullable is None or nullable:
        return None
    return re.compile("[" + "".join(parts) + "]", tree.state.flags & sre.SRE_FLAG_IGNORECASE)


def _first(items: list[Any], parts: list[str]) -> bool | None:
    """Adds the first characters of `items` to `parts`; whether `items` can match empty
    (None: a construct this does not follow)."""
    for op, av in items:
        if op is sre.LITERAL:
            parts.append(_char(av))
            return False
        if op is sre.IN:
            if any(sub_op is sre.NEGATE for sub_op, _ in av):
                return None
            parts.append(_class(av)[1:-1])
            return False
        if op is sre.CATEGORY:
            if av not in (sre.CATEGORY_DIGIT, sre.CATEGORY_SPACE, sre.CATEGORY_WORD):
                return None
            parts.append(_CATEGORIES[av])
            return False
        if op is sre.BRANCH:
            results = [_first(branch.data, parts) for branch in av[1]]
            if any(r is None for r in results):
                return None
            if not any(results):
                return False
        elif op is sre.SUBPATTERN:
            if av[1] & sre.SRE_FLAG_IGNORECASE:
                return None
            result = _first(av[3].data, parts)
            if result is not True:
                return result
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            result = _first(av[2].data, parts)
            if result is None:
                return None
            if av[0] > 0 and not result:
                return False
        else:
            return None
    return True
