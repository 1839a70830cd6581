"""A problem: a question, a reference solution made of steps, an answer and how to verify it.

Procedural tasks also give the *program* behind the solution: named constants from the question
and, for each step, the operation and the names of its arguments. With it the proposer can
re-derive any branch: a wrong operand, a slip, and every step after a wrong step computed from
the wrong value, the way errors propagate in a real model's reasoning.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

from r1gym.core.ops import OPS, get_op
from r1gym.core.values import Value, answer_of, format_value

ANSWER_PREFIX = "The answer is"


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One step of a program: ``id = op(*args)``, written with ``text``.

    ``text`` is a format string; ``{expr}`` is the operation written out ("3 * 4 = 12"),
    ``{r}`` its result, and any constant of the program may appear by name.
    ``args`` name constants or earlier steps; a number stands for itself.
    """

    id: str
    op: str
    args: tuple[str | int | Fraction, ...]
    text: str = "{expr}."


@dataclass(frozen=True, slots=True)
class Program:
    """Constants of the question and the steps that compute the answer from them."""

    constants: Mapping[str, Value]
    steps: tuple[StepSpec, ...]

    def run(self) -> list[Value]:
        """The reference value of every step."""
        env = dict(self.constants)
        out: list[Value] = []
        for spec in self.steps:
            v = get_op(spec.op).fn(*(resolve(a, env) for a in spec.args))
            env[spec.id] = v
            out.append(v)
        return out


def resolve(arg: str | int | Fraction, env: Mapping[str, Value]) -> Value:
    return env[arg] if type(arg) is str else arg  # type: ignore[index,return-value]


def render_step(
    spec: StepSpec,
    op_name: str,
    args: tuple[Value, ...],
    result: Value,
    env: Mapping[str, Value],
    final: bool,
) -> str:
    """Write a step of ``spec`` computed as ``op_name(*args) = result`` (possibly wrongly)."""
    expr = OPS[op_name].render(args, result)
    parts: list[str] = []
    for literal, name in _compiled(spec.text):
        parts.append(literal)
        if name is None:
            continue
        if name == "expr":
            parts.append(expr)
        elif name == "r":
            parts.append(format_value(result))
        elif name in env:
            parts.append(format_value(env[name]))
        else:
            raise KeyError(f"step text names {{{name}}}, which is neither a constant nor expr / r")
    if final:
        parts.append(f" {ANSWER_PREFIX} {answer_of(result)}.")
    return "".join(parts)


@lru_cache(maxsize=4096)
def _compiled(text: str) -> tuple[tuple[str, str | None], ...]:
    """``text`` split once into (literal, placeholder) pairs; rendering then only joins."""
    return tuple((literal, name) for literal, name, _, _ in string.Formatter().parse(text))


@dataclass(frozen=True, slots=True)
class Problem:
    """A question with its reference solution.

    Attributes:
        question: what the agent is asked.
        steps: the reference solution, one text per step; the last states the answer
            ("... The answer is 42.").
        answer: the reference answer as text.
        domain: ``"arithmetic"``, ``"algebra"``, ``"word"``, ...
        difficulty: a label from the task (for example the number of steps).
        uid: a stable identifier: the novelty memory and result tables key on it.
        program: the computation behind the steps, when the task has one.
        meta: anything else the task records (template id, source file and line, ...).
    """

    question: str
    steps: tuple[str, ...]
    answer: str
    domain: str
    difficulty: str = ""
    uid: str = ""
    program: Program | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


def problem_from_program(
    question: str,
    program: Program,
    *,
    domain: str,
    uid: str,
    difficulty: str = "",
    meta: Mapping[str, Any] | None = None,
) -> Problem:
    """Build a :class:`Problem` whose step texts and answer come from running ``program``."""
    env: dict[str, Value] = dict(program.constants)
    texts: list[str] = []
    last = len(program.steps) - 1
    result: Value = 0
    for i, spec in enumerate(program.steps):
        args = tuple(resolve(a, env) for a in spec.args)
        result = get_op(spec.op).fn(*args)
        texts.append(render_step(spec, spec.op, args, result, env, final=i == last))
        env[spec.id] = result
    return Problem(
        question=question,
        steps=tuple(texts),
        answer=answer_of(result),
        domain=domain,
        difficulty=difficulty,
        uid=uid,
        program=program,
        meta=dict(meta or {}),
    )
