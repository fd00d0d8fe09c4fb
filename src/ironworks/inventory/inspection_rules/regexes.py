"""Regular expressions of ``matches``/``contains`` conditions, bounded against catastrophic backtracking.

Python's ``re`` backtracks and cannot be interrupted, and the subject comes from the inspected machine. So a
pattern is refused (400 at rule creation, a failed rule if it only appears at run time through a loop) when it

* is longer than ``MAX_PATTERN`` characters,
* nests a variable repeat inside another repeat (``(a+)+``, ``(a|aa)*``-style exponential blow-up),
* uses a backreference (``\\1``: matching with them is NP-hard);

and a subject is refused when ``len(subject) ** (repeats + 1)`` exceeds ``MAX_STEPS``, ``repeats`` being the
pattern's variable repeats: a pattern without nesting backtracks at most polynomially in that degree.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # type: ignore[import-not-found]
from functools import lru_cache
from typing import Any

MAX_PATTERN = 1024
MAX_STEPS = 10**9
_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", object())}


class UnsafeRegex(ValueError):
    """The pattern is invalid or could backtrack catastrophically."""


def _walk(items: Any, repeated: bool, variable_outer: bool) -> int:
    """The number of variable repeats in a parsed pattern; raises UnsafeRegex for nesting or backrefs.

    ``repeated``: inside a repeat of more than one; ``variable_outer``: inside a repeat of variable count."""
    count = 0
    for op, arg in items:
        if op in _REPEATS:
            low, high, sub = arg
            variable = high != low
            if repeated and variable:
                raise UnsafeRegex("nested repetition could backtrack catastrophically")
            count += int(variable) + _walk(sub, repeated or high > 1, variable_outer or variable)
        elif op in (sre_parse.GROUPREF, sre_parse.GROUPREF_EXISTS):
            raise UnsafeRegex("backreferences are not allowed")
        elif op == sre_parse.SUBPATTERN:
            count += _walk(arg[-1], repeated, variable_outer)
        elif op == sre_parse.BRANCH:
            branches = arg[1]
            if variable_outer and len(branches) > 1:
                raise UnsafeRegex("alternation inside a repetition could backtrack catastrophically")
            count += sum(_walk(b, repeated, variable_outer) for b in branches)
        elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            count += _walk(arg[1], repeated, variable_outer)
        elif op == getattr(sre_parse, "ATOMIC_GROUP", None):
            count += _walk(arg, repeated, variable_outer)
    return count


@lru_cache(maxsize=256)
def compile_bounded(pattern: str) -> tuple[re.Pattern[str], int]:
    """The compiled pattern and its number of variable repeats; UnsafeRegex when it is refused."""
    if len(pattern) > MAX_PATTERN:
        raise UnsafeRegex(f"regular expression longer than {MAX_PATTERN} characters")
    try:
        parsed = sre_parse.parse(pattern)
        compiled = re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        raise UnsafeRegex(f"invalid regular expression: {exc}") from None
    return compiled, _walk(list(parsed), False, False)


def check(pattern: Any) -> None:
    if not isinstance(pattern, str):
        raise UnsafeRegex(f"regular expression must be a string, not {type(pattern).__name__}")
    compile_bounded(pattern)


def run(pattern: str, subject: str, *, anchored: bool) -> bool:
    """``re.match`` (``anchored``, Ironic's ``matches``: a ``$`` added) or ``re.search`` (``contains``)."""
    if anchored and not pattern.endswith("$"):
        pattern += "$"
    compiled, repeats = compile_bounded(pattern)
    if len(subject) ** (repeats + 1) > MAX_STEPS:
        raise UnsafeRegex(
            f"a value of {len(subject)} characters is too long to match against a regular expression with "
            f"{repeats} variable repetition(s)"
        )
    found = compiled.match(subject) if anchored else compiled.search(subject)
    return found is not None
