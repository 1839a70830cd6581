"""Reading linear equations in x from a written algebra step (``"Subtract 5 from both sides: 3x = 15."``).

An equation is read into the four exact coefficients of ``a*x + b = c*x + d``, the form of
:class:`~r1gym.core.values.LinearEquation`, by a small recursive-descent parser (implicit products
``3x``, ``6(x - 4)``, ``x/2``, ``-x``); anything that is not linear in x is not an equation here.
"""

from __future__ import annotations

import re
from fractions import Fraction

from r1gym.core.values import LinearEquation, Number, exact
from r1gym.judge.text import Huge, read_number

_EQ_TOKEN = re.compile(
    r"(?P<num>\d+(?:\.\d+)?|\.\d+)|(?P<x>(?<![^\W\d_])[xX](?![^\W\d_]))|(?P<op>[-+*/()])|(?P<eq>=)"
    r"|(?P<sp>\s+)|(?P<word>[^\W\d_]+)|(?P<other>.)",
    re.DOTALL,
)
Lin = tuple[Number, Number]  # (coefficient of x, constant)


class _NotLinear(Exception):
    pass


class _LinParser:
    __slots__ = ("toks", "i", "grouped")

    def __init__(self, toks: list[tuple[str, str]]) -> None:
        self.toks = toks
        self.i = 0
        self.grouped = False  # a bracket holding x multiplied by a number: "6(x - 4)"

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> Lin:
        v = self.expr()
        if self.i != len(self.toks):
            raise _NotLinear
        return v

    def expr(self) -> Lin:
        a, b = self.term()
        while (t := self.peek()) is not None and t[1] in ("+", "-"):
            self.i += 1
            c, d = self.term()
            a, b = (a + c, b + d) if t[1] == "+" else (a - c, b - d)
        return exact(a), exact(b)

    def term(self) -> Lin:
        v = self.unary()
        while (t := self.peek()) is not None:
            if t[1] in ("*", "/"):
                self.i += 1
                w = self.unary()
                v = _mul(v, w, self) if t[1] == "*" else _div(v, w)
            elif t[0] in ("num", "x") or t[1] == "(":
                v = _mul(v, self.unary(), self)
            else:
                break
        return v

    def unary(self) -> Lin:
        t = self.peek()
        if t is not None and t[1] in ("+", "-"):
            self.i += 1
            a, b = self.unary()
            return (-a, -b) if t[1] == "-" else (a, b)
        return self.atom()

    def atom(self) -> Lin:
        t = self.peek()
        if t is None:
            raise _NotLinear
        self.i += 1
        if t[0] == "num":
            return 0, read_number(t[1])
        if t[0] == "x":
            return 1, 0
        if t[1] == "(":
            v = self.expr()
            c = self.peek()
            if c is None or c[1] != ")":
                raise _NotLinear
            self.i += 1
            return (v[0], v[1], "group")  # type: ignore[return-value]
        raise _NotLinear


def _mul(u: tuple, w: tuple, p: _LinParser) -> Lin:
    if len(u) == 3 or len(w) == 3:
        inner, outer = (u, w) if len(u) == 3 else (w, u)
        if inner[0] != 0 and outer[0] == 0 and outer[1] not in (0, 1):
            p.grouped = True
    (a, b), (c, d) = u[:2], w[:2]
    if a != 0 and c != 0:
        raise _NotLinear
    return exact(a * d + c * b), exact(b * d)


def _div(u: tuple, w: tuple) -> Lin:
    (a, b), (c, d) = u[:2], w[:2]
    if c != 0 or d == 0:
        raise _NotLinear
    return exact(Fraction(a) / d), exact(Fraction(b) / d)


def equations(text: str) -> list[tuple[LinearEquation, bool, str]]:
    """The linear equations in x that ``text`` (normalized) writes: ``(equation, factored, source)``.

    ``factored`` is True when a side writes a number times a bracket holding x (``6(x - 4) = 0``).
    A chain ``x = 20/4 = 5`` gives the equation of its first side holding x and its last side.
    """
    runs: list[list[tuple[str, str, int, int]]] = [[]]
    for m in _EQ_TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind == "sp":
            continue
        if kind in ("word", "other"):
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((kind, m.group(), m.start(), m.end()))
    out: list[tuple[LinearEquation, bool, str]] = []
    for run in runs:
        if not any(k == "eq" for k, *_ in run) or not any(k == "x" for k, *_ in run):
            continue
        sides: list[list[tuple[str, str]]] = [[]]
        for k, t, *_ in run:
            if k == "eq":
                sides.append([])
            else:
                sides[-1].append((k, t))
        sides = [s for s in sides if s]
        while sides and sides[-1] and sides[-1][-1][1] in ("+", "-", "*", "/", "("):
            sides[-1].pop()  # "4x = 12 - that looks right"
        while sides and sides[0] and sides[0][0][1] in ("*", "/", ")"):
            sides[0].pop(0)
        sides = [s for s in sides if s]
        if len(sides) < 2:
            continue
        with_x = [s for s in sides if any(k == "x" for k, _ in s)]
        left = with_x[0]
        right = sides[-1] if sides[-1] is not left else sides[0]
        try:
            pl, pr = _LinParser(left), _LinParser(right)
            (a, b), (c, d) = pl.parse(), pr.parse()
        except (_NotLinear, Huge, ValueError, ZeroDivisionError, TypeError):
            continue
        source = text[run[0][2] : run[-1][3]]
        out.append((LinearEquation(a, b, c, d), pl.grouped or pr.grouped, source))
    return out


def solution(e: LinearEquation) -> Number | str:
    """x for ``e``: a number, ``"all"`` (an identity) or ``"none"`` (a contradiction)."""
    k = e.a - e.c
    if k == 0:
        return "all" if e.b == e.d else "none"
    return exact(Fraction(e.d - e.b) / k)


def same_equation(u: LinearEquation, v: LinearEquation) -> bool:
    """The same equation as written, up to swapping the sides (``15 = 3x`` is ``3x = 15``)."""
    return (u.a, u.b, u.c, u.d) == (v.a, v.b, v.c, v.d) or (u.a, u.b, u.c, u.d) == (v.c, v.d, v.a, v.b)
