"""Exact values the procedural tasks compute with, and how they are written and read.

Numbers are exact: a Python ``int`` when the value is whole (fast), a
:class:`fractions.Fraction` otherwise, so that every intermediate value is exact and a
submitted number compares without sympy. Algebra steps carry equations
(:class:`LinearEquation`, :class:`FactoredEquation`) as values, so that a branch after a
wrong step can be re-derived from the wrong equation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

_NUMBER_CLEAN = re.compile(r"[\s$,]")
_NUMBER_RE = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)(/\d+)?$")


Number = int | Fraction


def exact(x: Number) -> Number:
    """A whole Fraction as an int; anything else unchanged."""
    return x.numerator if type(x) is Fraction and x.denominator == 1 else x


def is_number(v: object) -> bool:
    return type(v) is int or type(v) is Fraction


def qdiv(a: Number, b: Number) -> Number:
    """Exact division: an int when it divides evenly, else a Fraction."""
    if b == 0:
        raise ArithmeticError("division by zero")
    if type(a) is int and type(b) is int:
        q, rem = divmod(a, b)
        return q if rem == 0 else Fraction(a, b)
    return exact(Fraction(a) / b)


def format_number(x: Number) -> str:
    """Write ``x`` as an integer, a finite decimal (up to 6 places) or a fraction ``p/q``.

    >>> format_number(Fraction(5, 2)), format_number(Fraction(-7, 3)), format_number(4)
    ('2.5', '-7/3', '4')
    """
    if type(x) is int:
        return str(x)
    if type(x) is not Fraction:
        x = Fraction(x)
    num, den = x.numerator, x.denominator  # read once: a Fraction's properties are Python calls
    if den == 1:
        return str(num)
    twos = (den & -den).bit_length() - 1  # the power of 2 in den
    d, fives = den >> twos, 0
    while d % 5 == 0:
        d //= 5
        fives += 1
    places = max(twos, fives)
    if d != 1 or places > 6:
        return f"{num}/{den}"
    digits = str(abs(num) * 10**places // den).rjust(places + 1, "0")
    sign = "-" if num < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def parse_number(text: str) -> Fraction | None:
    """Read a plain number (``42``, ``-3.5``, ``$1,200``, ``7/3``, ``x = 4``); None if it is not one."""
    s = _NUMBER_CLEAN.sub("", text)
    s = s.removesuffix(".")
    if "=" in s:  # "x=4" -> "4"
        s = s.rsplit("=", 1)[1]
    if not _NUMBER_RE.match(s):
        return None
    try:
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None


def _term(coef: Number, var: str) -> str:
    if coef == 1:
        return var
    if coef == -1:
        return f"-{var}"
    return f"{format_number(coef)}{var}"


def _side(coef_x: Number, const: Number) -> str:
    parts: list[str] = []
    if coef_x != 0:
        parts.append(_term(coef_x, "x"))
    if const != 0 or not parts:
        if parts:
            sign = "+" if const > 0 else "-"
            parts.append(f"{sign} {format_number(abs(const))}")
        else:
            parts.append(format_number(const))
    return " ".join(parts)


@dataclass(frozen=True, slots=True)
class LinearEquation:
    """``a*x + b = c*x + d`` with exact coefficients."""

    a: Number
    b: Number
    c: Number
    d: Number

    def __str__(self) -> str:
        return f"{_side(self.a, self.b)} = {_side(self.c, self.d)}"

    @property
    def read_off(self) -> Number:
        """The answer a solver writes down from this equation: the number on the right.

        On the reference path the last equation is ``x = v`` and this is v. On a path that went
        wrong it is what a mechanical solver writes: after a skipped step (``x + 5/3 = 20/3``),
        a multiplication instead of a division (``25x = -175``) or a detour, a wrong number, as on
        paper. (Reading ``(d - b) / (a - c)`` instead would turn every detour that keeps the
        equation equivalent into a correct answer and most unfinished paths too.)
        """
        return self.d

    def coefficients(self) -> tuple[Number, Number, Number, Number]:
        return (self.a, self.b, self.c, self.d)


@dataclass(frozen=True, slots=True)
class FactoredEquation:
    """``m*(x + p) = q``, before the left side is expanded."""

    m: Number
    p: Number
    q: Number

    def __str__(self) -> str:
        inner = _side(1, self.p)
        return f"{format_number(self.m)}({inner}) = {format_number(self.q)}"


Value = int | Fraction | LinearEquation | FactoredEquation


def format_value(v: Value) -> str:
    """Write any task value as it appears in a step."""
    if type(v) is int:
        return str(v)
    if type(v) is Fraction:
        return format_number(v)
    return str(v)


def answer_of(v: Value) -> str:
    """The answer a path whose last value is ``v`` states: a number, or x read off an equation."""
    if type(v) is int or type(v) is Fraction:
        return format_number(v)
    if isinstance(v, LinearEquation):
        return format_number(v.read_off)
    return format_number(v.q)
