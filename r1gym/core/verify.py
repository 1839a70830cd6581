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


@lru_cache(maxsize=65536)
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
VERIFIERS: dict[str, Callable[[str, str, object], bool]] = {"math": verify_math}


def register_verifier(name: str, fn: Callable[[str, str, object], bool]) -> None:
    """Add a verifier under ``name`` (a task module registers its own at import)."""
    if not callable(fn):
        raise TypeError("a verifier is a callable verifier(answer, reference, problem) -> bool")
    VERIFIERS[name] = fn


def get_verifier(name: str) -> Callable[[str, str, object], bool]:
    """The verifier registered as ``name``, importing the task modules that register theirs."""
    if name not in VERIFIERS:
        import importlib

        from r1gym.core.ops import PROVIDER_MODULES

        for module in PROVIDER_MODULES:
            try:
                importlib.import_module(module)
            except ImportError:  # an optional dependency of that domain is missing
                continue
            if name in VERIFIERS:
                break
    try:
        return VERIFIERS[name]
    except KeyError:
        raise ValueError(f"unknown verifier {name!r}; registered: {sorted(VERIFIERS)}") from None


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
SIMILARITIES: dict[str, Callable[[str, str, object], float]] = {}


def register_similarity(name: str, fn: Callable[[str, str, object], float]) -> None:
    """Set how a verifier's wrong answers earn partial credit (a task module registers its own)."""
    if not callable(fn):
        raise TypeError("a similarity is a callable similarity(answer, reference, problem) -> float in [0, 1]")
    SIMILARITIES[name] = fn


def get_similarity(problem: object) -> Callable[[str, str, object], float]:
    """The similarity for a problem: by its answer mode, then its verifier, then text."""
    if getattr(problem, "answer_mode", "stated") == "program":
        return program_similarity
    get_verifier(getattr(problem, "verifier", "math"))  # imports the module that registers it
    return SIMILARITIES.get(getattr(problem, "verifier", "math"), text_similarity)


def levenshtein(a: Sequence, b: Sequence) -> int:
    """Edit distance (insertions, deletions, substitutions, each cost 1) between two strings, or
    two sequences of any comparable items (lines of a program)."""
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
