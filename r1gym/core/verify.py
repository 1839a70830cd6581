"""Deciding whether a submitted answer is equivalent to the reference.

Numbers compare exactly as fractions (``"2.50"``, ``"$2.5"`` and ``"5/2"`` are one answer) with
no sympy on that path: it costs microseconds. Anything else goes to sympy, which decides whether
two expressions are equal (``"2*(x+1)"`` and ``"2x + 2"``), and as a last resort the normalized
strings are compared. Verdicts are cached.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from r1gym.core.registry import Registry, must_be_callable
from r1gym.core.values import format_number, parse_number

_SAFE_EXPR = re.compile(r"^[0-9a-zA-Z_+\-*/^().,\s=]*$")
_SPACES = re.compile(r"\s+")


def normalize_answer(text: str) -> str:
    """The canonical spelling used for string comparison and edit distance."""
    s = _SPACES.sub(" ", text.strip()).rstrip(".").strip()
    n = parse_number(s)
    if n is not None:
        return format_number(n)
    return s.lower()


@lru_cache(maxsize=8192)
def verify(answer: str, reference: str) -> bool:
    """True when ``answer`` is equivalent to ``reference`` (numbers exactly, expressions by sympy).

    >>> verify("$1,200.00", "1200"), verify("x = 5/2", "2.5"), verify("2*(x+1)", "2x + 2")
    (True, True, True)
    """
    a, r = parse_number(answer), parse_number(reference)
    if a is not None and r is not None:
        return a == r
    if a is not None or r is not None:
        # One side is a plain number: the other may still be an expression equal to it ("10/4").
        return _sympy_equal(answer, reference)
    if normalize_answer(answer) == normalize_answer(reference):
        return True
    return _sympy_equal(answer, reference)


def _sympy_equal(a: str, b: str) -> bool:
    ea, eb = _to_sympy(a), _to_sympy(b)
    if ea is None or eb is None:
        return False
    import sympy

    try:
        return bool(sympy.simplify(ea - eb) == 0)
    except (TypeError, ValueError, AttributeError, sympy.SympifyError):
        return False


def _to_sympy(text: str):  # -> sympy.Expr | None
    s = _SPACES.sub(" ", text.strip()).rstrip(".")
    if "=" in s:
        s = s.rsplit("=", 1)[1]
    s = s.replace("$", "").replace(",", "")
    if not s.strip() or not _SAFE_EXPR.match(s) or len(s) > 200:
        return None
    import sympy
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    transformations = standard_transformations + (implicit_multiplication_application, convert_xor)
    try:
        expr = parse_expr(s, transformations=transformations, evaluate=True)
    except Exception:  # sympy's parser raises many types (SyntaxError, TokenError, TypeError, ...)
        return None
    return expr if isinstance(expr, sympy.Expr) else None


def verify_math(answer: str, reference: str, problem: object = None) -> bool:
    """The ``"math"`` verifier: :func:`verify` (the problem is not needed)."""
    return verify(answer, reference)


#: Verifiers by name: ``verifier(answer, reference, problem) -> bool``. A problem names its
#: verifier (``Problem.verifier``); task modules register theirs (``"units"``, ``"code"``).
VERIFIERS: Registry[Callable[[str, str, object], bool]] = Registry(
    "verifier", must_be_callable("a verifier is a callable verifier(answer, reference, problem) -> bool")
)
VERIFIERS.register("math", verify_math)


def register_verifier(name: str, fn: Callable[[str, str, object], bool], *, replace: bool = False) -> None:
    """Add a verifier under ``name`` (a task module registers its own at import); a name already
    taken by another verifier is an error unless ``replace``."""
    VERIFIERS.register(name, fn, replace=replace)


def get_verifier(name: str) -> Callable[[str, str, object], bool]:
    """The verifier registered as ``name``, loading the domain that provides it if needed."""
    return VERIFIERS.resolve(name)


def text_similarity(answer: str, reference: str, problem: object = None) -> float:
    """``1 - levenshtein / max(len)`` on the normalized answer strings; 0 for an empty answer."""
    a, r = normalize_answer(answer), normalize_answer(reference)
    longest = max(len(a), len(r))
    if not a or longest == 0:
        return 0.0
    return max(0.0, 1.0 - levenshtein(a, r) / longest)


def program_similarity(answer: str, reference: str, problem: object = None) -> float:
    """For programs built line by line: the shared prompt (``meta["prefix"]``) removed, edits
    counted in lines of the body (a character distance over long programs is slow and rewards
    the prompt both programs share)."""
    prefix = str(getattr(problem, "meta", {}).get("prefix", ""))
    got = answer.removeprefix(prefix).splitlines()
    want = reference.removeprefix(prefix).splitlines()
    longest = max(len(got), len(want))
    if not got or longest == 0:
        return 0.0
    return max(0.0, 1.0 - levenshtein(got, want) / longest)


#: How close a wrong answer came, by verifier name: ``similarity(answer, reference, problem)`` in
#: [0, 1]; the reward's partial credit scales it. Unlisted verifiers use :func:`text_similarity`.
SIMILARITIES: Registry[Callable[[str, str, object], float]] = Registry(
    "similarity",
    must_be_callable("a similarity is a callable similarity(answer, reference, problem) -> float in [0, 1]"),
)


def register_similarity(name: str, fn: Callable[[str, str, object], float], *, replace: bool = False) -> None:
    """Set how a verifier's wrong answers earn partial credit (a task module registers its own);
    a name already taken by another similarity is an error unless ``replace``."""
    SIMILARITIES.register(name, fn, replace=replace)


def get_similarity(problem: object) -> Callable[[str, str, object], float]:
    """The similarity for a problem: by its answer mode, then its verifier, then text."""
    if getattr(problem, "answer_mode", "stated") == "program":
        return program_similarity
    get_verifier(getattr(problem, "verifier", "math"))  # imports the module that registers it
    return SIMILARITIES.get(getattr(problem, "verifier", "math"), text_similarity)


def levenshtein(a: Sequence, b: Sequence) -> int:
    """Edit distance (insertions, deletions, substitutions, each cost 1) between two strings, or
    two sequences of any hashable items (lines of a program); rapidfuzz's C++ implementation."""
    return Levenshtein.distance(a, b)
