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

from r1gym.core.registry import Registry
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
        a, b = args  # an int is written as format_value writes it, without the call
        return (
            f"{a if type(a) is int else format_value(a)} {symbol} {b if type(b) is int else format_value(b)} = "
            f"{r if type(r) is int else format_value(r)}"
        )

    return render


def _lin(v: Value) -> LinearEquation:
    if not isinstance(v, LinearEquation):
        raise ArithmeticError("expected a linear equation")
    return v


def _num(v: Value) -> Number:
    if type(v) is not int and type(v) is not Fraction:
        raise ArithmeticError("expected a number")
    return v  # type: ignore[return-value]


# The four operations of arithmetic, with a path for two ints (the common case: no checks, no
# exact(), the same result).
def _add(a: Value, b: Value) -> Number:
    return a + b if type(a) is int and type(b) is int else exact(_num(a) + _num(b))  # type: ignore[operator]


def _sub(a: Value, b: Value) -> Number:
    return a - b if type(a) is int and type(b) is int else exact(_num(a) - _num(b))  # type: ignore[operator]


def _mul(a: Value, b: Value) -> Number:
    return a * b if type(a) is int and type(b) is int else exact(_num(a) * _num(b))  # type: ignore[operator]


def _div(a: Value, b: Value) -> Number:
    return qdiv(a, b) if type(a) is int and type(b) is int else qdiv(_num(a), _num(b))  # type: ignore[arg-type]


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


def _is_op(obj: object) -> None:
    if not isinstance(obj, Op):
        raise TypeError(f"register_op takes an Op, got {type(obj).__name__}")


#: Operations by name. Steps name their operation, so a pickled problem needs only the
#: operation's name to be registered where it is unpickled: the task packages register theirs
#: (or register themselves as providers, imported on a miss).
OPS: Registry[Op] = Registry("operation", _is_op)

for _op in (
    Op("add", _add, _infix("+"), ("sub", "mul")),
    Op("sub", _sub, _infix("-"), ("add",)),
    Op("mul", _mul, _infix("*"), ("div", "add")),
    Op("div", _div, _infix("/"), ("mul", "sub")),
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
):
    OPS.register(_op.name, _op)


def register_op(op: Op, *, replace: bool = False) -> Op:
    """Add an operation (a task module registers its own at import, e.g. physics' squares).

    A name already taken by another operation is an error unless ``replace``.
    """
    _is_op(op)
    return OPS.register(op.name, op, replace=replace)


_REGISTERED = OPS._items  # the registered operations by name: a new node looks several up


def get_op(name: str) -> Op:
    """Look an operation up by name (loading the domain that provides it), with the valid names in the error."""
    op = _REGISTERED.get(name)  # the hot path, without a second call
    return op if op is not None else OPS.resolve(name)
