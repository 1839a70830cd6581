"""The operations a re-derivable step is made of.

Each operation knows how to compute its result, how to write itself as the visible part of a
step ("12 * 3 = 36", "Subtract 5 from both sides: 3x = 15"), and which operations a careless
reasoner confuses it with (its siblings, used for the wrong-operation distractor).
An operation raises :class:`ArithmeticError` when its arguments make no sense (a division by
zero), and the proposer drops that branch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from r1gym.core.values import FactoredEquation, LinearEquation, Number, Value, exact, format_value, qdiv


@dataclass(frozen=True, slots=True)
class Op:
    """One operation: ``fn(*args) -> value`` and ``render(args, result) -> str``."""

    name: str
    fn: Callable[..., Value]
    render: Callable[[tuple[Value, ...], Value], str]
    siblings: tuple[str, ...] = ()




def _infix(symbol: str) -> Callable[[tuple[Value, ...], Value], str]:
    def render(args: tuple[Value, ...], r: Value) -> str:
        return f"{format_value(args[0])} {symbol} {format_value(args[1])} = {format_value(r)}"

    return render


def _lin(v: Value) -> LinearEquation:
    if not isinstance(v, LinearEquation):
        raise ArithmeticError("expected a linear equation")
    return v


def _num(v: Value) -> Number:
    if type(v) is not int and type(v) is not Fraction:
        raise ArithmeticError("expected a number")
    return v  # type: ignore[return-value]


def _eq_add_x(e: Value, k: Value) -> LinearEquation:
    e, k = _lin(e), _num(k)
    return LinearEquation(e.a + k, e.b, e.c + k, e.d)


def _eq_sub_x(e: Value, k: Value) -> LinearEquation:
    e, k = _lin(e), _num(k)
    return LinearEquation(e.a - k, e.b, e.c - k, e.d)


def _eq_add(e: Value, k: Value) -> LinearEquation:
    e, k = _lin(e), _num(k)
    return LinearEquation(e.a, e.b + k, e.c, e.d + k)


def _eq_sub(e: Value, k: Value) -> LinearEquation:
    e, k = _lin(e), _num(k)
    return LinearEquation(e.a, e.b - k, e.c, e.d - k)


def _eq_mul(e: Value, k: Value) -> LinearEquation:
    e, k = _lin(e), _num(k)
    return LinearEquation(e.a * k, e.b * k, e.c * k, e.d * k)


def _eq_div(e: Value, k: Value) -> LinearEquation:
    e, k = _lin(e), _num(k)
    if k == 0:
        raise ArithmeticError("division by zero")
    return LinearEquation(qdiv(e.a, k), qdiv(e.b, k), qdiv(e.c, k), qdiv(e.d, k))


def _eq_sub_x_sign(e: Value, k: Value) -> LinearEquation:
    """Sign error: the x term moves without changing its sign."""
    e, k = _lin(e), _num(k)
    return LinearEquation(e.a + k, e.b, e.c - k, e.d)


def _eq_sub_sign(e: Value, k: Value) -> LinearEquation:
    """Sign error: the constant moves to the right side without changing its sign."""
    e, k = _lin(e), _num(k)
    return LinearEquation(e.a, e.b - k, e.c, e.d + k)


def _eq_add_sign(e: Value, k: Value) -> LinearEquation:
    e, k = _lin(e), _num(k)
    return LinearEquation(e.a, e.b + k, e.c, e.d - k)


def _eq_div_inverse(e: Value, k: Value) -> LinearEquation:
    """Inverse error: the right side is multiplied where it should be divided."""
    e, k = _lin(e), _num(k)
    return LinearEquation(qdiv(e.a, k), qdiv(e.b, k), e.c * k, e.d * k)


def _eq_expand(e: Value) -> LinearEquation:
    if not isinstance(e, FactoredEquation):
        raise ArithmeticError("expected a factored equation")
    return LinearEquation(e.m, e.m * e.p, 0, e.q)


def _eq_expand_partial(e: Value) -> LinearEquation:
    """The classic slip: multiply only the first term of the bracket."""
    if not isinstance(e, FactoredEquation):
        raise ArithmeticError("expected a factored equation")
    return LinearEquation(e.m, e.p, 0, e.q)


def _eq_render(verb: str, suffix: str = "") -> Callable[[tuple[Value, ...], Value], str]:
    def render(args: tuple[Value, ...], r: Value) -> str:
        return f"{verb} {format_value(args[1])}{suffix}: {format_value(r)}"

    return render


def _expand_render(args: tuple[Value, ...], r: Value) -> str:
    return f"Expand the left side: {format_value(r)}"


OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op("add", lambda a, b: exact(_num(a) + _num(b)), _infix("+"), ("sub", "mul")),
        Op("sub", lambda a, b: exact(_num(a) - _num(b)), _infix("-"), ("add",)),
        Op("mul", lambda a, b: exact(_num(a) * _num(b)), _infix("*"), ("div", "add")),
        Op("div", lambda a, b: qdiv(_num(a), _num(b)), _infix("/"), ("mul", "sub")),
        Op(
            "pct",
            lambda a, b: qdiv(_num(a) * _num(b), 100),
            lambda args, r: f"{format_value(args[0])}% of {format_value(args[1])} = {format_value(r)}",
            ("mul", "div"),
        ),
        # The siblings of the equation moves are the errors students make: a term moved without
        # changing its sign, the right side multiplied instead of divided. Written with the
        # same words as the right move, they can only be caught by checking the arithmetic.
        Op("eq_add_x", _eq_add_x, _eq_render("Add", "x to both sides"), ("eq_sub_x",)),
        Op("eq_sub_x", _eq_sub_x, _eq_render("Subtract", "x from both sides"), ("eq_sub_x_sign",)),
        Op("eq_sub_x_sign", _eq_sub_x_sign, _eq_render("Subtract", "x from both sides"), ("eq_sub_x",)),
        Op("eq_add", _eq_add, _eq_render("Add", " to both sides"), ("eq_add_sign",)),
        Op("eq_add_sign", _eq_add_sign, _eq_render("Add", " to both sides"), ("eq_add",)),
        Op("eq_sub", _eq_sub, _eq_render("Subtract", " from both sides"), ("eq_sub_sign",)),
        Op("eq_sub_sign", _eq_sub_sign, _eq_render("Subtract", " from both sides"), ("eq_sub",)),
        Op("eq_mul", _eq_mul, _eq_render("Multiply both sides by"), ("eq_div",)),
        Op("eq_div", _eq_div, _eq_render("Divide both sides by"), ("eq_div_inverse", "eq_mul")),
        Op("eq_div_inverse", _eq_div_inverse, _eq_render("Divide both sides by"), ("eq_div",)),
        Op("eq_expand", _eq_expand, _expand_render, ("eq_expand_partial",)),
        Op("eq_expand_partial", _eq_expand_partial, _expand_render, ("eq_expand",)),
    )
}


def register_op(op: Op, *, replace: bool = False) -> Op:
    """Add an operation (a task module registers its own at import, e.g. GSM8K's expressions).

    Steps name operations, so an environment that pickles its problems only needs the module
    that registers the operation to be importable where it is unpickled.
    """
    if not isinstance(op, Op):
        raise TypeError(f"register_op takes an Op, got {type(op).__name__}")
    if op.name in OPS and not replace and OPS[op.name] is not op:
        raise ValueError(f"operation {op.name!r} is already registered; pass replace=True to override it")
    OPS[op.name] = op
    return op


#: Families of operations that a module builds on demand from their name ("gsm8k:{0}*{1}"), so
#: that a problem unpickled in a fresh process finds its operations: prefix -> "module:function".
OP_FACTORIES: dict[str, str] = {"gsm8k": "r1gym.tasks.gsm8k:op_from_name"}


def get_op(name: str) -> Op:
    """Look an operation up by name, with the valid names in the error."""
    op = OPS.get(name)
    if op is not None:
        return op
    import importlib

    prefix = name.partition(":")[0]
    if prefix in OP_FACTORIES and ":" in name:
        module, _, fn = OP_FACTORIES[prefix].partition(":")
        return getattr(importlib.import_module(module), fn)(name)
    for module in PROVIDER_MODULES:  # a problem unpickled without its task: load the registrations
        try:
            importlib.import_module(module)
        except ImportError:  # an optional dependency of that domain is missing
            continue
        if name in OPS:
            return OPS[name]
    raise ValueError(f"unknown operation {name!r}; valid operations: {sorted(OPS)}")


#: Task modules that register operations or verifiers at import; looked through on a miss.
PROVIDER_MODULES = ("r1gym.tasks.physics", "r1gym.tasks.code", "r1gym.tasks.gsm8k")
