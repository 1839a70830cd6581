"""Reading a written step: normalization, tokens, and the claims it makes.

A step such as ``"Natalia sold 48 ÷ 2 = 24 clips in May."`` holds *claims*: chains of
segments joined by ``=`` (or a word that means it: *equals*, *gives*, *makes*, *is*). A segment is
an arithmetic expression (``48 / 2``, ``20% of 50``, ``sqrt(144)``, ``12^2``) or a single number,
optionally with a unit (physics). Everything else (names, prose, punctuation) only separates claims.

The reader is a hand-written tokenizer and recursive-descent parser over exact numbers (``int`` and
:class:`~fractions.Fraction`), never ``eval`` and never sympy, so that one step costs tens of
microseconds. What it accepts:

* numbers: ``1200``, ``1,200``, ``1 200`` (also with a thin or no-break space), ``1200.0``,
  ``.5``, ``$12``, digits of any script (``١٢``); a number longer than :data:`MAX_DIGITS` digits is
  read as *huge* and never matches a quantity;
* products ``*``, ``x`` (between numbers), ``×``, ``·``, *times*, *multiplied by*; quotients ``/``,
  ``÷``, *divided by*; ``+``, *plus*, ``-``, ``−``, *minus*; ``^`` and *squared*; ``%`` and
  ``% of``; ``sqrt``, ``√``; parentheses and implicit products ``2(3 + 4)``;
* relations ``=``, *equals*, *is equal to*, *gives*, *makes*, *yields*, *comes to* (strong) and
  *is*, *are*, *was*, *that's* (weak: checked only where both sides are numbers to compare).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

from r1gym.core.values import Number, exact

#: Longest number read as a number; longer ones are "huge" (never a quantity of a problem).
MAX_DIGITS = 40
#: Longest step text the judge reads; a longer one is neutral ("too long to judge").
MAX_STEP_CHARS = 10_000
_MAX_EXPONENT = 12

WEAK = "\ue000"  # the weak relation ("is") after normalization
SQRT = "\ue001"  # the square-root function after normalization

_TRANSLATE = str.maketrans(
    {
        "\u00d7": "*", "\u22c5": "*", "\u00b7": "*", "\u2219": "*", "\u2217": "*", "\u2715": "*",
        "\u00f7": "/", "\u2215": "/", "\u2044": "/", "\u2212": "-", "\u2013": "-", "\u2012": "-",
        "\u00b2": "^2", "\u00b3": "^3", "\u221a": SQRT, "\uff1d": "=", "\u2248": "=",
        "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
        "\u20ac": " ", "\u00a3": " ", "$": " ",
    }
)  # fmt: skip
_GROUP_SPACE = re.compile(r"(?<=\d)[\u00a0\u2009\u202f\u2007'](?=\d{3}(?!\d))")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_WORD_OPS = re.compile(
    r"\b(?:(?P<mul>multiplied\s+by|times)|(?P<div>divided\s+by)|(?P<add>plus)|(?P<sub>minus)"
    r"|(?P<sq>squared)|(?P<pct>percent)|(?P<sqrt>(?:the\s+)?square\s+root\s+of|sqrt)"
    r"|(?P<eq>is\s+equal\s+to|equals?(?:\s+to)?|gives|makes|yields|comes\s+to|results\s+in)"
    r"|(?P<weak>is|are|was|were|that's|that\s+is|which\s+is))\b",
    re.IGNORECASE,
)
_WORD_REPLACE = {
    "mul": " * ",
    "div": " / ",
    "add": " + ",
    "sub": " - ",
    "sq": "^2",
    "pct": "%",
    "sqrt": f" {SQRT} ",
    "eq": " = ",
    "weak": f" {WEAK} ",
}
_PCT_OF = re.compile(r"%\s*of\b", re.IGNORECASE)
_X_TIMES = re.compile(r"(?<=[\d)])\s*[xX]\s*(?=[\d(.])|(?<=[^\W\d_])\s+[xX]\s+(?=\d)")
_VAR_POWER = re.compile(r"(?<=[^\W\d_])\s*\^\s*\d+")
_TOKEN = re.compile(
    r"(?P<num>(?:\d{1,3}(?:,\d{3})+(?!\d)|\d{1,3}(?: \d{3})+(?![\d,])|\d+)(?:\.\d+)?|\.\d+)"
    r"|(?P<op>[-+*/^()%])|(?P<eq>=)|(?P<weak>\ue000)|(?P<sqrt>\ue001)"
    r"|(?P<word>[^\W\d_]+)|(?P<sp>\s+)|(?P<other>.)",
    re.DOTALL,
)


def clean(text: str) -> tuple[str, bool]:
    """``text`` with control characters removed (and whether there were any)."""
    out = _CONTROL.sub(" ", text)
    return out, out != text


def ascii_digits(text: str) -> str:
    """Digits of any script written as ASCII digits (``١٢`` -> ``12``); full-width forms folded."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text.translate(_TRANSLATE))
    return "".join(str(unicodedata.digit(c)) if c.isdigit() and not c.isascii() else c for c in text)


@lru_cache(maxsize=8192)
def normalize(text: str, times_x: bool = True) -> str:
    """The step in the reader's alphabet: operators and relations as symbols, digits in ASCII.

    ``times_x``: read ``x`` between numbers as a product (not in algebra, where ``x`` is the unknown).
    """
    s = ascii_digits(text.translate(_TRANSLATE))
    s = _GROUP_SPACE.sub("", s)
    if ":" in s:  # a time of day is not arithmetic: "15:05 + 40 min" is not 05 + 40
        s = _CLOCK.sub(f" {CLOCK_WORD} ", s)
    s = _WORD_OPS.sub(lambda m: _WORD_REPLACE[m.lastgroup or "weak"], s)
    s = _PCT_OF.sub("% *", s)
    if times_x:
        s = _X_TIMES.sub(" * ", s)
    if "/" in s:
        s = _MIXED.sub(_mixed, s)
    return s


CLOCK_WORD = "clocktime"  # what a time of day becomes; arithmetic against it is not judged (runs)
#: a time of day, "9:30", "15:05", "3:45pm" (minutes 00-59; not a ratio such as "3:2" or "1:100")
_CLOCK = re.compile(r"(?<![\d:.])(?:[01]?\d|2[0-3]):[0-5]\d(?![\d:])(?:\s*[ap]\.?m\.?\b)?", re.IGNORECASE)
_MIXED = re.compile(r"(?<![\d.,/])(\d+) (\d+)/(\d+)(?![\d/.])")


def _mixed(m: re.Match) -> str:
    """A mixed number ``2 1/2`` (a proper fraction after a whole number) as ``(2 + 1/2)``."""
    a, b, c = m.groups()
    return f"({a} + {b}/{c})" if 0 < int(b) < int(c) else m.group()


class Huge(Exception):
    """A number longer than :data:`MAX_DIGITS` digits, or an exponent out of range."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def read_number(tok: str) -> Number:
    """A number token as an exact value (``1,200`` -> 1200, ``2.50`` -> 5/2); :class:`Huge` if too long."""
    s = tok.replace(",", "").replace(" ", "")
    if len(s) > MAX_DIGITS:
        raise Huge(sum(c.isdigit() for c in s))
    if "." in s:
        return exact(Fraction(s))
    return int(s)


@dataclass(slots=True)
class Token:
    kind: str  # num, op, eq, weak, sqrt, word, other, unit
    text: str
    start: int
    end: int
    unit: tuple[Fraction, tuple[int, int, int]] | None = None


@dataclass(slots=True)
class Segment:
    """One side of a relation: its exact value, the numbers it is computed from, and its unit."""

    value: Number
    leaves: tuple[Number, ...]
    has_op: bool
    unit: tuple[Fraction, tuple[int, int, int]] | None
    text: str
    places: int = 0  # decimal places of a single written number (for rounded results)
    percent: bool = False  # a single number written with "%" ("80%": 0.8 where compared with a fraction)
    fused: tuple[Number, ...] | None = None  # the leaves with each tight fraction ("32/3") as one operand


@dataclass(slots=True)
class Claim:
    """A chain of segments: ``expr = result`` (or a single number, ``bare``).

    ``error`` holds the reason when the chain's own arithmetic is wrong ("3 * 4 is 12, not 13").
    """

    result: Segment
    computations: list[Segment] = field(default_factory=list)
    bare: bool = False
    error: str | None = None
    huge: int = 0  # digits of a huge number in the claim (0 if none)


UnitReader = "Callable[[str, int], tuple[int, tuple[Fraction, tuple[int, int, int]]] | None]"


def tokenize(s: str, unit_at=None) -> list[Token]:  # noqa: ANN001 (unit_at: see UnitReader)
    """Tokens of a normalized step. ``unit_at(s, pos)`` (physics) reads a unit after a number:
    ``(end, (scale, dims))`` or None."""
    out: list[Token] = []
    pos, n = 0, len(s)
    prev_num = False
    while pos < n:
        m = _TOKEN.match(s, pos)
        assert m is not None  # the last alternative matches any character
        kind = m.lastgroup or "other"
        if kind == "sp":
            pos = m.end()
            continue
        if kind == "word":
            if prev_num and unit_at is not None:
                got = unit_at(s, pos)
                if got is not None:
                    end, unit = got
                    out.append(Token("unit", s[pos:end], pos, end, unit))
                    pos, prev_num = end, False
                    continue
            # a variable's power ("v^2") belongs to the word, not to the arithmetic
            vm = _VAR_POWER.match(s, m.end())
            end = vm.end() if vm else m.end()
            out.append(Token("word", s[pos:end], pos, end))
            pos, prev_num = end, False
            continue
        out.append(Token(kind, m.group(), pos, m.end()))
        prev_num = kind == "num"
        pos = m.end()
    return out


_RUN_KINDS = {"num", "op", "eq", "weak", "sqrt", "unit"}


def runs(tokens: list[Token]) -> list[list[Token]]:
    """Maximal stretches of arithmetic (numbers, operators, relations, units). A word between a
    number and an operator or relation ("12 pages * 10") is skipped as a unit of counting."""
    out: list[list[Token]] = []
    cur: list[Token] = []
    for i, t in enumerate(tokens):
        k = t.kind
        if (
            k == "op"
            and t.text == "/"
            and cur
            and cur[-1].kind in ("num", "unit")
            and i + 1 < len(tokens)
            and tokens[i + 1].kind == "word"
            and len(tokens[i + 1].text) > 1
        ):
            continue  # a unit's denominator ("60 minutes/hour", "$18/hour"): part of the unit, not a division
        if k in _RUN_KINDS:
            if k == "num" and cur and cur[-1].kind in ("num", "unit"):
                out.append(cur)  # two numbers side by side ("12 5-minute intervals"): two runs
                cur = []
            cur.append(t)
            continue
        if k == "word" and (
            t.text == CLOCK_WORD or (len(t.text) == 1 and t.text not in "aAI" and _is_variable(tokens, i))
        ):
            # algebra in prose ("2x - 5 = 13", "6 = 2Y + Y") or arithmetic against a time of day
            # ("15:05 + 40 min"): no claim here
            cur = []
            out.append([Token("var", t.text, t.start, t.end)])
            continue
        if (
            k == "word"
            and cur
            and cur[-1].kind in ("num", "unit")
            and i + 1 < len(tokens)
            and tokens[i + 1].kind in ("op", "eq")
            and tokens[i + 1].text not in "()"
        ):
            continue
        if cur:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    # a run touching a variable is dropped with it
    keep: list[list[Token]] = []
    for j, r in enumerate(out):
        if r[0].kind == "var":
            continue
        before = out[j - 1][0].kind == "var" if j > 0 else False
        after = out[j + 1][0].kind == "var" if j + 1 < len(out) else False
        if (before and r[0].kind in ("op", "eq", "weak")) or (after and r[-1].kind in ("op", "eq", "weak", "num")):
            if not (after and r[-1].kind == "num" and not _touches(r[-1], out[j + 1][0])):
                continue
        if any(t.kind == "num" for t in r):
            keep.append(r)
    return keep


def _touches(a: Token, b: Token) -> bool:
    return a.end == b.start


def _is_variable(tokens: list[Token], i: int) -> bool:
    """A one-letter word written against a number or beside an operator or relation: ``2x``, ``x =``, ``+ Y``."""
    t = tokens[i]
    prev = tokens[i - 1] if i > 0 else None
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    after = tokens[i + 2] if i + 2 < len(tokens) else None
    if nxt is not None and nxt.text == "-" and after is not None and after.kind == "word":
        if t.end == nxt.start and nxt.end == after.start:
            return False  # a hyphenated word ("t-shirts", "x-ray"), not a variable
    if prev is not None and prev.kind == "num" and prev.end == t.start:
        return True
    return any(n is not None and (n.kind == "eq" or (n.kind == "op" and n.text in "+-")) for n in (prev, nxt))


class _Parser:
    """Recursive descent over one segment's tokens; exact arithmetic; collects the leaves."""

    __slots__ = ("toks", "i", "leaves", "has_op", "unit", "percent")

    def __init__(self, toks: list[Token]) -> None:
        self.toks = toks
        self.i = 0
        self.leaves: list[Number] = []
        self.has_op = False
        self.unit: tuple[Fraction, tuple[int, int, int]] | None = None
        self.percent = False

    def peek(self) -> Token | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> Number:
        v = self.expr()
        if self.i != len(self.toks):
            raise ValueError("trailing tokens")
        return v

    def expr(self) -> Number:
        v = self.term()
        while (t := self.peek()) is not None and t.kind == "op" and t.text in "+-":
            self.i += 1
            self.has_op = True
            w = self.term()
            v = exact(v + w) if t.text == "+" else exact(v - w)
        return v

    def term(self) -> Number:
        v = self.unary()
        while (t := self.peek()) is not None:
            if t.kind == "op" and t.text in "*/":
                self.i += 1
                self.has_op = True
                w = self.unary()
                if t.text == "*":
                    v = exact(v * w)
                else:
                    if w == 0:
                        raise ZeroDivisionError
                    v = exact(Fraction(v) / w)
            elif (t.kind == "op" and t.text == "(") or t.kind == "sqrt":
                self.has_op = True
                v = exact(v * self.unary())
            else:
                break
        return v

    def unary(self) -> Number:
        t = self.peek()
        if t is not None and t.kind == "op" and t.text in "+-":
            self.i += 1
            n = len(self.leaves)
            v = self.unary()
            if t.text == "-" and len(self.leaves) == n + 1 and self.leaves[-1] == v:
                self.leaves[-1] = -v  # a negative number is one operand: "-23 / 2"
            return -v if t.text == "-" else v
        return self.power()

    def power(self) -> Number:
        base = self.atom()
        t = self.peek()
        if t is not None and t.kind == "op" and t.text == "^":
            self.i += 1
            self.has_op = True
            e = self.peek()
            neg = False
            if e is not None and e.kind == "op" and e.text == "-":
                neg, self.i = True, self.i + 1
                e = self.peek()
            if e is None or e.kind != "num":
                raise ValueError("exponent")
            self.i += 1
            k = read_number(e.text)
            if type(k) is not int or k > _MAX_EXPONENT or abs(base) > 10**MAX_DIGITS:
                raise Huge(len(e.text))
            return exact(Fraction(1) / base**k) if neg else base**k
        return base

    def _tight_fraction(self, t: Token) -> Number | None:
        """The denominator of a fraction written tight (``1/30``) after a spaced division (``a / 1/30``),
        or None: only there does spacing change the reading; ``48/2``, ``1/2 * 4``, ``5/9^2`` are read
        as usual."""
        toks, i = self.toks, self.i
        if i + 1 >= len(toks) or i < 2:
            return None
        slash, den, before = toks[i], toks[i + 1], toks[i - 2]
        if not (slash.text == "/" and den.kind == "num" and t.end == slash.start and slash.end == den.start):
            return None
        if not (before.text == "/" and before.end < t.start):
            return None
        after = toks[i + 2] if i + 2 < len(toks) else None
        if after is not None and after.text in ("^", "/", "%") and after.start == den.end:
            return None
        return read_number(den.text)

    def atom(self) -> Number:
        t = self.peek()
        if t is None:
            raise ValueError("missing operand")
        if t.kind == "num":
            self.i += 1
            v = read_number(t.text)
            self.leaves.append(v)
            tight = self._tight_fraction(t)
            if tight is not None:  # "17820 / 1/30": a fraction written tight is one number
                self.i += 2
                self.has_op = True
                self.leaves.append(tight)
                if tight == 0:
                    raise ZeroDivisionError
                return exact(Fraction(v) / tight)
            nxt = self.peek()
            if nxt is not None and nxt.kind == "op" and nxt.text == "%":
                # a percentage scales only in a product ("20% of 50", "50 * 20%"); "10% + 40% = 50%" adds percents
                prev = self.toks[self.i - 2] if self.i >= 2 else None
                self.i += 1
                after = self.peek()
                if (after is not None and after.text in ("*", "/")) or (prev is not None and prev.text in ("*", "/")):
                    self.has_op = True
                    v = exact(Fraction(v) / 100)
                else:
                    self.percent = True
                nxt = self.peek()
            if nxt is not None and nxt.kind == "unit":
                self.i += 1
                self.unit = nxt.unit
            return v
        if t.kind == "op" and t.text == "(":
            self.i += 1
            v = self.expr()
            c = self.peek()
            if c is None or c.text != ")":
                raise ValueError("unclosed parenthesis")
            self.i += 1
            return v
        if t.kind == "sqrt":
            self.i += 1
            self.has_op = True
            v = self.power() if self.peek() is not None and self.peek().text != "(" else self.atom()  # type: ignore[union-attr]
            return exact_sqrt(v)
        raise ValueError(f"unexpected {t.text!r}")


def exact_sqrt(v: Number) -> Number:
    """The exact square root of ``v``; ValueError when it is not rational."""
    import math

    f = Fraction(v)
    if f < 0:
        raise ValueError("negative square root")
    p, q = math.isqrt(f.numerator), math.isqrt(f.denominator)
    if p * p != f.numerator or q * q != f.denominator:
        raise ValueError("irrational square root")
    return exact(Fraction(p, q))


def segment(toks: list[Token], source: str) -> Segment:
    """One side of a relation; ValueError when it is not arithmetic, :class:`Huge` for a huge number."""
    if not toks:
        raise ValueError("empty")
    p = _Parser(toks)
    v = p.parse()
    text = " ".join(source[toks[0].start : toks[-1].end].split())  # "120  /  10" as "120 / 10"
    first = toks[0].text
    places = len(first) - first.index(".") - 1 if not p.has_op and "." in first else 0
    unit = None if p.has_op else p.unit
    return Segment(v, tuple(p.leaves), p.has_op, unit, text, places, p.percent and not p.has_op, _fused(toks, p.leaves))


def _fused(toks: list[Token], leaves: list[Number]) -> tuple[Number, ...] | None:
    """``leaves`` with each fraction written tight (``32/3``: number, ``/``, number, no spaces) as one
    operand, as the tasks write a rational value; None when the segment has no such fraction."""
    nums = [j for j, t in enumerate(toks) if t.kind == "num"]
    if len(nums) != len(leaves) or len(nums) < 2:
        return None
    out: list[Number] = []
    k = 0
    hit = False
    while k < len(nums):
        j = nums[k]
        if (
            k + 1 < len(nums)
            and nums[k + 1] == j + 2
            and toks[j + 1].text == "/"
            and toks[j].end == toks[j + 1].start
            and toks[j + 1].end == toks[j + 2].start
            and leaves[k + 1] != 0
            and (j == 0 or toks[j - 1].text != "/")
        ):
            out.append(exact(Fraction(leaves[k]) / leaves[k + 1]))
            k += 2
            hit = True
            continue
        out.append(leaves[k])
        k += 1
    return tuple(out) if hit else None


def _rounds_to(exact_value: Number, written: Segment) -> bool:
    """A written decimal with two or more places that is ``exact_value`` rounded (``7/3 = 2.33``)."""
    places = written.places
    if written.has_op or places < 2:
        return False
    return abs(Fraction(exact_value) - Fraction(written.value)) <= Fraction(1, 2 * 10**places)


def _equal(a: Segment, b: Segment) -> bool:
    if a.unit is not None and b.unit is not None:
        return a.value * a.unit[0] == b.value * b.unit[0] and a.unit[1] == b.unit[1]
    if a.value == b.value or _rounds_to(a.value, b) or _rounds_to(b.value, a):
        return True
    # "0.8 * 100% = 80%": a percentage written as the result of a fraction
    return (b.percent and a.value * 100 == b.value) or (a.percent and b.value * 100 == a.value)


def claims(run: list[Token], source: str) -> list[Claim]:
    """The claims of one run of arithmetic (see the module docstring for the relations)."""
    # split into segments at relations; drop leading and trailing relations and operators
    while run and run[0].kind in ("eq", "weak") or (run and run[0].kind == "op" and run[0].text in "*/^)%"):
        run = run[1:]
    while run and (run[-1].kind in ("eq", "weak") or (run[-1].kind == "op" and run[-1].text in "+-*/^(")):
        run = run[:-1]
    parts: list[list[Token]] = [[]]
    rels: list[str] = []
    for t in run:
        if t.kind in ("eq", "weak"):
            if parts[-1]:
                parts.append([])
                rels.append(t.kind)
            continue
        parts[-1].append(t)
    if not parts[-1]:
        parts.pop()
        rels = rels[: len(parts) - 1]
    segs: list[Segment | None] = []
    huge = 0
    zero: str | None = None
    for p in parts:
        try:
            segs.append(segment(p, source))
        except Huge as e:
            huge = max(huge, e.digits)
            segs.append(None)
        except ZeroDivisionError:
            zero = zero or source[p[0].start : p[-1].end]
            segs.append(None)
        except (ValueError, ArithmeticError, OverflowError):
            segs.append(None)
    # chains: consecutive segments whose relation is checked
    chains: list[list[Segment]] = []
    errors: list[str | None] = []
    cur: list[Segment] = []
    err: str | None = None
    for i, s in enumerate(segs):
        if s is None:
            if cur:
                chains.append(cur)
                errors.append(err)
            cur, err = [], None
            continue
        if not cur:
            cur = [s]
            continue
        a, rel = cur[-1], rels[i - 1]
        check = True
        if rel == "weak":
            if a.has_op and s.has_op:
                check = True
            elif not a.has_op and s.has_op:
                check = False  # "the time is 12 * 60": a label, not a value to compare
            elif a.has_op and not s.has_op:
                check = s.unit is None or a.unit is None
            else:
                check = a.unit is not None and s.unit is not None  # "90 km/h is 25 m/s"
        elif a.unit is not None and s.unit is not None:
            check = True
        if not check:
            chains.append(cur)
            errors.append(err)
            cur, err = [s], None
            continue
        if err is None:
            ok = _equal(a, s) if (a.unit is None) == (s.unit is None) else a.value == s.value
            if not ok:
                err = f"{a.text} is {_fmt(a)}, not {s.text}" if a.has_op else f"{a.text} is not {s.text}"
                if s.has_op and not a.has_op:
                    err = f"{s.text} is {_fmt(s)}, not {a.text}"
        cur.append(s)
    if cur:
        chains.append(cur)
        errors.append(err)
    out: list[Claim] = []
    for chain, e in zip(chains, errors):
        if len(chain) == 1:
            s = chain[0]
            if s.has_op:
                continue  # an expression with no stated result
            out.append(Claim(s, [], bare=True))
            continue
        result = chain[-1] if not chain[-1].has_op else (chain[0] if not chain[0].has_op else chain[-1])
        comps = [s for s in chain if s.has_op]
        if e is None and comps and result.value != comps[-1].value and not result.percent:  # rounded: "7 / 3 = 2.33"
            result = Segment(comps[-1].value, result.leaves, False, result.unit, result.text, result.places)
        out.append(Claim(result, comps, bare=False, error=e))
    if huge:
        out.append(Claim(Segment(0, (), False, None, ""), [], bare=True, huge=huge))
    if zero is not None and len(parts) > 1:  # "1 * 1/0 = 1/2": a division by zero is wrong arithmetic
        out.append(Claim(Segment(0, (), False, None, zero), [], bare=False, error=f"{zero} divides by zero"))
    return out


def _fmt(s: Segment) -> str:
    from r1gym.core.values import format_number

    return format_number(s.value)
