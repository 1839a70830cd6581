"""The physics domain's operations: squares and exact square roots, with their look-alike errors.

Registered when the package is imported: ``sq`` (``12^2 = 144``) and ``sqrt`` (``sqrt(144) =
12``; exact roots only, otherwise :class:`ArithmeticError` and the proposer drops the branch),
with the slips ``sq_double`` (``12^2 = 24``) and ``sqrt_half`` (``sqrt(144) = 72``) as their
wrong-operation siblings. The families' other steps use core's arithmetic (``add``, ``mul``, ...).
"""

from __future__ import annotations

import math
from fractions import Fraction

from r1gym.core.ops import OPS, Op, register_op
from r1gym.core.values import Number, Value, exact, format_value


def _number(v: Value) -> Number:
    if type(v) is not int and type(v) is not Fraction:
        raise ArithmeticError("expected a number")
    return v  # type: ignore[return-value]


def _sq(x: Value) -> Number:
    x = _number(x)
    return exact(x * x)  # type: ignore[arg-type]


def _sq_double(x: Value) -> Number:
    """The classic slip: squaring written down as doubling (12^2 = 24)."""
    return exact(2 * _number(x))  # type: ignore[arg-type]


def _isqrt_exact(n: int) -> int:
    r = math.isqrt(n)
    if r * r != n:
        raise ArithmeticError(f"{n} is not a perfect square")
    return r


def _sqrt(x: Value) -> Number:
    """The exact square root; :class:`ArithmeticError` when there is none (the branch is dropped)."""
    x = _number(x)
    if x < 0:
        raise ArithmeticError("square root of a negative number")
    if type(x) is int:
        return _isqrt_exact(x)
    return exact(Fraction(_isqrt_exact(x.numerator), _isqrt_exact(x.denominator)))


def _sqrt_half(x: Value) -> Number:
    """The look-alike error: a square root taken as a half (sqrt(144) = 72)."""
    x = _number(x)
    if x < 0:
        raise ArithmeticError("square root of a negative number")
    return exact(Fraction(x) / 2)


def _render_sq(args: tuple[Value, ...], r: Value) -> str:
    return f"{format_value(args[0])}^2 = {format_value(r)}"


def _render_sqrt(args: tuple[Value, ...], r: Value) -> str:
    return f"sqrt({format_value(args[0])}) = {format_value(r)}"


def _register(op: Op) -> None:
    """Register ``op``, replacing only an earlier registration from this module (a reload)."""
    existing = OPS.get(op.name)
    mine = existing is not None and getattr(existing.fn, "__module__", None) == __name__
    register_op(op, replace=mine)


for _op in (
    Op("sq", _sq, _render_sq, ("sq_double",)),
    Op("sq_double", _sq_double, _render_sq, ("sq",)),
    Op("sqrt", _sqrt, _render_sqrt, ("sqrt_half",)),
    Op("sqrt_half", _sqrt_half, _render_sqrt, ("sqrt",)),
):
    _register(_op)
