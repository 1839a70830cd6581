"""A problem: a question, a reference solution made of steps, an answer and how to verify it.

Procedural tasks also give the *program* behind the solution: named constants from the question
and, for each step, the operation and the names of its arguments. With it the proposer can
re-derive any branch: a wrong operand, a slip, and every step after a wrong step computed from
the wrong value, the way errors propagate in a real model's reasoning.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

from r1gym.core.ops import Op, get_op
from r1gym.core.text import as_written, to_ascii
from r1gym.core.values import Value, answer_of, format_value
from r1gym.errors import DataError

ANSWER_PREFIX = "The answer is"
#: ``Problem.meta`` key of the question as its author wrote it (Unicode), when it differs from
#: ``Problem.question`` (folded to ASCII for the embedders, the judge and the proposer): text
#: observations show this one (``ReasoningEnv.context_text``).
QUESTION_AS_WRITTEN = "question_as_written"


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
    """Constants of the question and the steps that compute the answer from them.

    ``answer_unit`` is written after every stated answer ("The answer is 12 m/s."), so that a
    verifier of quantities (physics) sees the unit a path states.
    """

    constants: Mapping[str, Value]
    steps: tuple[StepSpec, ...]
    answer_unit: str = ""

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
    unit: str = "",
    op: Op | None = None,
) -> str:
    """Write a step of ``spec`` computed as ``op_name(*args) = result`` (possibly wrongly).

    A final step ends with "The answer is N." (with ``unit`` after N when given). ``op``, when
    given, is ``get_op(op_name)``, already looked up by the caller.
    """
    expr = (op or get_op(op_name)).render(args, result)
    if spec.text == "{expr}.":  # the common text: no placeholders but the expression
        if final:
            return f"{expr}. {ANSWER_PREFIX} {stated_answer(result, unit)}."
        return expr + "."
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
        parts.append(f" {ANSWER_PREFIX} {stated_answer(result, unit)}.")
    return "".join(parts)


def stated_answer(value: Value, unit: str = "") -> str:
    """The answer a path whose last value is ``value`` states, with its unit if any."""
    ans = str(value) if type(value) is int else answer_of(value)  # answer_of writes an int so
    return f"{ans} {unit}" if unit else ans


@lru_cache(maxsize=4096)
def _compiled(text: str) -> tuple[tuple[str, str | None], ...]:
    """``text`` split once into (literal, placeholder) pairs; rendering then only joins."""
    return tuple((literal, name) for literal, name, _, _ in string.Formatter().parse(text))


@dataclass(frozen=True, slots=True)
class Problem:
    """A question with its reference solution.

    Attributes:
        question: what the agent is asked, in ASCII (``meta["question_as_written"]`` keeps the
            author's Unicode, when it differs, for text observations).
        steps: the reference solution, one text per step; the last states the answer
            ("... The answer is 42.").
        answer: the reference answer as text.
        domain: ``"arithmetic"``, ``"algebra"``, ``"word"``, ...
        difficulty: a label from the task (for example the number of steps).
        uid: a stable identifier: the novelty memory and result tables key on it.
        program: the computation behind the steps, when the task has one.
        meta: anything else the task records (template id, source file and line, ...).
        verifier: the name of the verifier in ``r1gym.core.verify.VERIFIERS`` that judges a
            submitted answer: ``"math"`` (numbers exactly, expressions with sympy) by default.
        answer_mode: ``"stated"`` (the answer is what the last step states, "The answer is
            42.") or ``"program"`` (the answer is ``meta["prefix"]`` followed by the path's steps,
            one a line: a program built line by line, judged by running it).
        distractors: for steps without a program, the family of distractors the proposer
            writes: ``"numbers"`` (change one number) or a family registered with
            ``r1gym.proposers.procedural.register_text_distractors`` (``"code"``).
    """

    question: str
    steps: tuple[str, ...]
    answer: str
    domain: str
    difficulty: str = ""
    uid: str = ""
    program: Program | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    verifier: str = "math"
    answer_mode: str = "stated"
    distractors: str = "numbers"

    def program_text(self, steps: tuple[str, ...] | list[str]) -> str:
        """The program a path of ``steps`` spells, for ``answer_mode="program"``."""
        prefix = str(self.meta.get("prefix", ""))
        body = "\n".join(steps)
        return f"{prefix}{body}\n" if body else prefix


def problem_from_program(
    question: str,
    program: Program,
    *,
    domain: str,
    uid: str,
    difficulty: str = "",
    meta: Mapping[str, Any] | None = None,
    verifier: str = "math",
    values: Sequence[Value] | None = None,
) -> Problem:
    """Build a :class:`Problem` whose step texts and answer come from running ``program``.

    ``values``: the value of every step when the caller has already run the program (a task that
    checked them while drawing its numbers); they are not computed again.
    """
    env: dict[str, Value] = dict(program.constants)
    texts: list[str] = []
    last = len(program.steps) - 1
    result: Value = 0
    for i, spec in enumerate(program.steps):
        args = tuple([env[a] if type(a) is str else a for a in spec.args])
        result = get_op(spec.op).fn(*args) if values is None else values[i]
        texts.append(render_step(spec, spec.op, args, result, env, final=i == last, unit=program.answer_unit))
        env[spec.id] = result
    return Problem(
        question=question,
        steps=tuple(texts),
        answer=stated_answer(result, program.answer_unit),
        domain=domain,
        difficulty=difficulty,
        uid=uid,
        program=program,
        meta=dict(meta or {}),
        verifier=verifier,
    )


#: The fields of a problem record (a user's problem, ``reset(options={"problem": ...})``).
REQUIRED = ("question", "steps", "answer")
OPTIONAL = ("domain", "difficulty", "id")
#: The longest answer a record may give, in characters: an answer is a number or a short expression.
MAX_ANSWER_CHARS = 1000


def problem_from_record(rec: Any, where: str, uid: str) -> Problem:
    """Check one user record and turn it into a :class:`Problem`; errors name ``where``."""
    if not isinstance(rec, Mapping):
        raise DataError(f"{where}: expected an object with {list(REQUIRED)}, got {type(rec).__name__}")
    missing = [k for k in REQUIRED if k not in rec]
    if missing:
        raise DataError(f"{where}: missing field(s) {missing}; each problem needs {list(REQUIRED)}")
    unknown = sorted(set(rec) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise DataError(f"{where}: unknown field(s) {unknown}; valid: {list(REQUIRED + OPTIONAL)}")
    question, steps, answer = rec["question"], rec["steps"], rec["answer"]
    if not isinstance(question, str) or not question.strip():
        raise DataError(f"{where}: 'question' must be a non-empty string")
    if isinstance(steps, str) or not isinstance(steps, Sequence) or not steps:
        raise DataError(f"{where}: 'steps' must be a non-empty list of strings")
    if not all(isinstance(s, str) and s.strip() for s in steps):
        raise DataError(f"{where}: every step must be a non-empty string")
    if isinstance(answer, bool) or not isinstance(answer, (str, int, float)):
        raise DataError(f"{where}: 'answer' must be a non-empty string or number, got {answer!r}")
    if isinstance(answer, float) and not math.isfinite(answer):
        raise DataError(f"{where}: 'answer' must be a finite number, got {answer!r}; write the answer as text if meant")
    if isinstance(answer, int) and answer.bit_length() > MAX_ANSWER_CHARS * 4:  # str() would refuse it
        raise DataError(f"{where}: 'answer' is a number too long to write; at most {MAX_ANSWER_CHARS} characters")
    answer = str(answer).strip()
    if not answer:
        raise DataError(f"{where}: 'answer' must be a non-empty string or number, got {rec['answer']!r}")
    if len(answer) > MAX_ANSWER_CHARS:
        raise DataError(
            f"{where}: 'answer' is {len(answer)} characters long; at most {MAX_ANSWER_CHARS} are allowed "
            "(an answer is a number or a short expression)"
        )
    answer = to_ascii(answer)
    texts = [to_ascii(s.strip()) for s in steps]
    if ANSWER_PREFIX not in texts[-1]:
        texts[-1] = f"{texts[-1].rstrip()} {ANSWER_PREFIX} {answer}."
    folded = to_ascii(question.strip())
    meta: dict[str, Any] = {"source": where}
    written = as_written(question)
    if written != folded:  # text observations show the question as written (QUESTION_AS_WRITTEN)
        meta[QUESTION_AS_WRITTEN] = written
    return Problem(
        question=folded,
        steps=tuple(texts),
        answer=answer,
        domain=str(rec.get("domain", "user")),
        difficulty=str(rec.get("difficulty", f"{len(texts)} steps")),
        uid=str(rec.get("id", uid)),
        meta=meta,
    )
