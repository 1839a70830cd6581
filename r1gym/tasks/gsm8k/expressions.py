"""The arithmetic of GSM8K's annotations: expression shapes and the operations they register.

An annotation's expression (``48/2``, ``(12+5)*3``) is parsed with :mod:`ast` (never evaluated):
numbers, ``+ - * /``, parentheses and unary signs only. Its *shape* (``{0}/{1}``,
``({0}+{1})*{2}``) is registered once as an operation named ``"gsm8k:" + shape``
(:func:`shape_op`) that computes with exact ints / Fractions and writes itself with the values
it got (``48 / 2 = 24``). Its siblings are the shape with one operator swapped (``+`` <-> ``-``,
``*`` <-> ``/``): the wrong-operation distractor. :func:`op_from_name` rebuilds an operation
from its name alone, for a process that unpickled a problem without its task.

A shape is a tuple tree: ``("n", i)`` is operand i, ``("neg", x)`` is -x, ``(op, left, right)``
a binary operation with op one of ``"+-*/"``. Operands are numbered left to right.
"""

from __future__ import annotations

import ast
import re
from fractions import Fraction
from functools import lru_cache, partial

from r1gym.core.ops import OPS, Op, register_op
from r1gym.core.values import Number, Value, exact, format_value, is_number, qdiv

OP_PREFIX = "gsm8k:"

Shape = tuple  # ("n", i), ("neg", x) or (op, left, right): see the module docstring
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "n": 4}
_AST_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_SWAP = {"+": "-", "-": "+", "*": "/", "/": "*"}


class _NotArithmetic(Exception):
    """An annotation's expression holds something other than numbers and + - * /."""


def exact_number(text: str) -> Number:
    """A number token (``12,000``, ``0.25``, ``.6``) as an exact value."""
    text = text.replace(",", "")
    return int(text) if "." not in text else exact(Fraction(text))


@lru_cache(maxsize=1 << 16)
def parse_expression(expr: str) -> tuple[Shape, tuple[Number, ...]] | None:
    """The shape and the operands of an annotation's expression, or None if it is anything but
    numbers, ``+ - * /``, parentheses and unary signs. Parsed with :mod:`ast`, never evaluated."""
    source = expr.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError):
        return None
    operands: list[Number] = []

    def walk(node: ast.AST) -> Shape:
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise _NotArithmetic(repr(v))
            if type(v) is int:
                operands.append(v)
            else:  # the decimal as written ("0.2"), not the float's binary value
                text = source[node.col_offset : node.end_col_offset] if source.isascii() else repr(v)
                operands.append(exact_number(text.replace("_", "")))
            return ("n", len(operands) - 1)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = walk(node.operand)
            return ("neg", inner) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and type(node.op) in _AST_OPS:
            left = walk(node.left)
            return (_AST_OPS[type(node.op)], left, walk(node.right))
        raise _NotArithmetic(type(node).__name__)

    try:
        shape = walk(tree.body)
    except (_NotArithmetic, ValueError, ZeroDivisionError):
        return None
    return shape, tuple(operands)


def shape_text(shape: Shape, sep: str = "") -> str:
    """The shape written with placeholders and the fewest parentheses that keep its tree:
    ``{0}*({1}+{2})``; ``sep=" "`` puts spaces around the binary operators."""
    kind = shape[0]
    if kind == "n":
        return f"{{{shape[1]}}}"
    if kind == "neg":
        inner = shape_text(shape[1], sep)
        return f"-({inner})" if _PREC[shape[1][0]] < _PREC["neg"] else f"-{inner}"
    left, right = shape_text(shape[1], sep), shape_text(shape[2], sep)
    if _PREC[shape[1][0]] < _PREC[kind]:
        left = f"({left})"
    if _PREC[shape[2][0]] <= _PREC[kind]:  # a - (b - c), a / (b * c): the tree, not the value
        right = f"({right})"
    return f"{left}{sep}{kind}{sep}{right}"


def evaluate(shape: Shape, args: tuple[Value, ...]) -> Number:
    """``shape`` computed exactly on ``args`` (ints and Fractions); ArithmeticError on a division
    by zero or an argument that is not a number."""
    kind = shape[0]
    if kind == "n":
        v = args[shape[1]]
        if not is_number(v):
            raise ArithmeticError("expected a number")
        return v  # type: ignore[return-value]
    if kind == "neg":
        return -evaluate(shape[1], args)
    a, b = evaluate(shape[1], args), evaluate(shape[2], args)
    if kind == "+":
        return exact(a + b)
    if kind == "-":
        return exact(a - b)
    if kind == "*":
        return exact(a * b)
    return qdiv(a, b)


def siblings(shape: Shape) -> list[Shape]:
    """The shape with one operator swapped (``+`` <-> ``-``, ``*`` <-> ``/``), one per operator."""
    kind = shape[0]
    if kind == "n":
        return []
    if kind == "neg":
        return [("neg", s) for s in siblings(shape[1])]
    out: list[Shape] = [(_SWAP[kind], shape[1], shape[2])]
    out += [(kind, s, shape[2]) for s in siblings(shape[1])]
    out += [(kind, shape[1], s) for s in siblings(shape[2])]
    return out


_NAMES: dict[Shape, str] = {}


def op_name(shape: Shape) -> str:
    """``"gsm8k:" + shape_text(shape)``: the name of the operation of ``shape``."""
    name = _NAMES.get(shape)
    if name is None:
        name = _NAMES[shape] = OP_PREFIX + shape_text(shape)
    return name


def _operand_text(v: Value) -> str:
    text = format_value(v)
    return f"({text})" if text.startswith("-") or "/" in text else text


def _render(template: str, args: tuple[Value, ...], result: Value) -> str:
    if template == "{0}":  # <<60=60>>: a value restated, written once
        return format_value(result)
    return f"{template.format(*(_operand_text(a) for a in args))} = {format_value(result)}"


def _evaluate_op(shape: Shape, *args: Value) -> Number:
    return evaluate(shape, args)


_COMPLETE: set[str] = set()  # names whose siblings are registered too


def shape_op(shape: Shape) -> str:
    """Register the operation of ``shape`` and of its siblings (once); returns its name."""
    name = op_name(shape)
    if name in _COMPLETE:
        return name
    sibs = siblings(shape)
    for s in (shape, *sibs):
        n = op_name(s)
        if n not in OPS:
            register_op(
                Op(
                    n,
                    partial(_evaluate_op, s),
                    partial(_render, shape_text(s, " ")),
                    tuple(dict.fromkeys(op_name(x) for x in siblings(s))),
                )
            )
    _COMPLETE.add(name)
    return name


def op_from_name(name: str) -> Op:
    """The operation named ``name`` (``"gsm8k:{0}/{1}"``), registered (with its siblings) if it is
    not yet: a hook for :func:`r1gym.core.ops.get_op` to resolve GSM8K names in a process that
    unpickled a problem without its task."""
    if not name.startswith(OP_PREFIX):
        raise ValueError(f"{name!r} is not a GSM8K operation (those start with {OP_PREFIX!r})")
    parsed = parse_expression(re.sub(r"\{\d+\}", "1", name[len(OP_PREFIX) :]))
    if parsed is None or op_name(parsed[0]) != name:
        raise ValueError(f"{name!r} is not a GSM8K operation: {OP_PREFIX!r} + a shape such as '{{0}}*{{1}}+{{2}}'")
    return OPS[shape_op(parsed[0])]
