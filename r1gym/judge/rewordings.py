"""Rewordings of a correct step, the way a language model might write it (a test set for the judge).

:func:`rewordings` takes a step as the tasks write it (``"Natalia sold 48 / 2 = 24 clips in May."``)
and returns ``(how, text)`` pairs that say the same thing differently: numbers as ``1,200``,
``1 200`` or ``1200.0``; a product as ``x``, ``×`` or ``times``; a quotient as ``÷`` or *divided
by*; ``=`` as *equals* or *gives*; the result first; extra words before and after; no final
period; units written out (physics). Each rewording is still a correct step, so the judge should
call it ``correct``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

_NUM = r"-?(?:\d+(?:\.\d+)?(?:/\d+)?)"
_EXPR = re.compile(rf"(?<![\w.])(\(?{_NUM}\)?(?:(?:\^2)| [-+*/] \(?{_NUM}\)?)+|sqrt\({_NUM}\)) = ({_NUM})(?![\w/])")
_EQUATION = re.compile(r": (.+?) = (-?[\d./]+)\.")
_BIG = re.compile(r"(?<![\d.,/])\d{4,}(?![\d/])")
_INT = re.compile(r"(?<![\d.,/])(\d+)(?![\d./]|,\d)")
_ANSWER = re.compile(r"\s*The answer is .*$")
_UNITS = {"m/s": "meters per second", "km/h": "kilometres per hour", "s": "seconds", "m": "meters", "kg": "kilograms",
          "N": "newtons", "J": "joules", "W": "watts", "kJ": "kilojoules", "kN": "kilonewtons", "m/s^2": "m/s²",
          "min": "minutes", "g": "grams"}  # fmt: skip
_UNIT_AFTER = re.compile(r"(= -?[\d.]+) (m/s\^2|m/s|km/h|kJ|kN|kg|min|m|s|N|J|W|g)(?=[.\s,]|$)")
_EXTRA = (("Next, ", " - that looks right"), ("OK so ", " I think"), ("We get: ", ", done"))


def _group(m: re.Match, sep: str) -> str:
    s = m.group()
    head, rest = s[: len(s) % 3 or 3], s[len(s) % 3 or 3 :]
    return sep.join([head] + [rest[i : i + 3] for i in range(0, len(rest), 3)])


def rewordings(text: str, rng: np.random.Generator | None = None) -> Iterator[tuple[str, str]]:
    """``(how, reworded text)`` for every rewording that applies to ``text`` (see the module docstring)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    m = _ANSWER.search(text)
    body, answer = (text[: m.start()], text[m.start() :]) if m else (text, "")

    def out(how: str, new_body: str) -> tuple[str, str] | None:
        return (how, new_body + answer) if new_body != body else None

    cands: list[tuple[str, str] | None] = []
    if _BIG.search(body):
        cands.append(out("number:1,200", _BIG.sub(lambda x: _group(x, ","), body)))
        cands.append(out("number:1 200", _BIG.sub(lambda x: _group(x, " "), body)))
    e = _EXPR.search(body)
    if e is not None:
        expr, res = e.group(1), e.group(2)
        if re.fullmatch(r"-?\d+", res):
            cands.append(out("number:1200.0", body[: e.start(2)] + res + ".0" + body[e.end(2) :]))
        for how, new in (("product:x", " x "), ("product:×", " × "), ("product:times", " times ")):
            if " * " in expr:
                cands.append(out(how, body[: e.start()] + expr.replace(" * ", new) + body[e.start() + len(expr) :]))
        for how, new in (("quotient:÷", " ÷ "), ("quotient:divided by", " divided by ")):
            if " / " in expr:
                cands.append(out(how, body[: e.start()] + expr.replace(" / ", new) + body[e.start() + len(expr) :]))
        for how, new in (("relation:equals", " equals "), ("relation:gives", " gives ")):
            cands.append(out(how, body[: e.start()] + expr + new + res + body[e.end() :]))
        cands.append(out("result first", body[: e.start()] + f"{res} = {expr}" + body[e.end() :]))
    else:
        q = _EQUATION.search(body)
        if q is not None:
            cands.append(out("result first", body[: q.start()] + f": {q.group(2)} = {q.group(1)}." + body[q.end() :]))
            cands.append(
                out("relation:equals", body[: q.start()] + f": {q.group(1)} equals {q.group(2)}." + body[q.end() :])
            )
            cands.append(
                out(
                    "product:*",
                    body[: q.start()] + re.sub(r"(\d)x", r"\1*x", body[q.start() : q.end()]) + body[q.end() :],
                )
            )
    u = _UNIT_AFTER.search(body)
    if u is not None and u.group(2) in _UNITS:
        cands.append(out("unit written out", body[: u.start(2)] + _UNITS[u.group(2)] + body[u.end(2) :]))
    before, after = _EXTRA[int(rng.integers(len(_EXTRA)))]
    cands.append(("extra words", before + body.rstrip(".") + after + ("." if not answer else "") + answer))
    cands.append(("no final period", text.rstrip(".")))
    seen = {text}
    for c in cands:
        if c is not None and c[1] not in seen:
            seen.add(c[1])
            yield c
