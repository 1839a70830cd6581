"""Programs from GSM8K solutions: each ``<<expr=result>>`` annotation becomes a step.

Each annotation becomes a step of a :class:`~r1gym.core.problem.Program` whose operation is the
shape of its expression (:mod:`~r1gym.tasks.gsm8k.expressions`), so that distractors and every
branch after a wrong step are re-derived as in ``R1Math-v0``:

* An operand equal to the result of an earlier annotation refers to that step (the most recent
  one), so that a wrong earlier value propagates; one that appears among the numbers of the
  question is a constant of the question; any other is a literal.
* The step text is the solution line with the computation (the visible ``48/2 = ``, the
  annotation and the result written after it) replaced by the operation written out:
  ``Natalia sold {expr} clips in May.``. When the numbers written before ``=`` are not the
  annotation's operands, only the annotation and its result are replaced.
* A line with several annotations is split into one step per annotation (the text up to the end
  of each result, the rest of the line going with the last); a line without one is joined to the
  step of the next annotated line (or, after the last, to the last step).
* A line whose annotation is not such an expression (``560//10``, ``2^3``, a division by zero,
  a result that is not a number) is plain text.

**Plain text instead.** A solution that has no usable annotation, whose last annotated result is
not the ``####`` answer (the final computation is on a line without annotation), or one of whose
annotations computes something other than the result it states, makes no program
(:func:`build_program` raises :class:`Unusable` with the reason); :func:`text_steps` writes its
plain-text steps (the annotations removed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from r1gym.core.problem import ANSWER_PREFIX, Program, StepSpec
from r1gym.core.values import Number, exact, parse_number
from r1gym.tasks.gsm8k.expressions import Shape, evaluate, exact_number, parse_expression, shape_op

#: why a problem is served as plain text (the keys of ``summary()["text_reasons"]``)
NO_ANNOTATION = "no usable <<expr=result>> annotation"
LAST_DIFFERS = "the last annotated result is not the #### answer"
RESULT_MISMATCH = "an annotation's result does not match its expression"

_ANNOTATION = re.compile(r"<<([^<>]*)>>")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+")
_SIGNED = re.compile(r"-?(?:" + _NUMBER.pattern + ")")
_RESULT_AFTER = re.compile(r"\s*\$?\s*(-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+))")
_CURRENCY = r"(?:\$|EUR|GBP)"
_EQUALS_BEFORE = re.compile(r"(?:=|\bequals)\s*" + _CURRENCY + r"?\s*$")
_CURRENCY_BEFORE = re.compile(_CURRENCY + r"\s*$")
_OPEN_BEFORE = re.compile(r"(?:[$(]|EUR ?|GBP ?)+$")
_SENTENCE_BREAK = re.compile(r"[;:!?]|,\s|\.\s+[A-Z]")


@dataclass(frozen=True)
class Annotation:
    """One usable ``<<expr=result>>`` of a line and the span of the line it replaces."""

    shape: Shape
    operands: tuple[Number, ...]
    result: Number
    start: int  # the span [start, end) becomes {expr}
    end: int
    matches: bool  # the expression computes the stated result


def _result(text: str) -> Number | None:
    """The result an annotation states (``24``, ``-3``, ``0.5``, ``$1,200``), or None."""
    text = text.strip()
    if _SIGNED.fullmatch(text):
        return -exact_number(text[1:]) if text[0] == "-" else exact_number(text)
    value = parse_number(text)
    return None if value is None else exact(value)


def _numbers(text: str) -> list[tuple[int, Number]]:
    return [(m.start(), exact_number(m.group())) for m in _NUMBER.finditer(text)]


def _annotations(line: str) -> list[Annotation] | None:
    """The annotations of ``line`` with their spans; None if one of them is not usable (the line
    is then plain text)."""
    out: list[Annotation] = []
    floor = 0  # a span never reaches back before the end of the previous one
    for m in _ANNOTATION.finditer(line):
        expr, eq, res = m.group(1).rpartition("=")
        parsed = parse_expression(expr) if eq else None
        value = _result(res) if parsed is not None else None
        if parsed is None or value is None:
            return None
        shape, operands = parsed
        try:
            matches = evaluate(shape, operands) == value
        except ArithmeticError:
            return None
        before = line[floor : m.start()]
        eq_m = _EQUALS_BEFORE.search(before)
        currency = _CURRENCY_BEFORE.search(before)
        start = floor + (currency.start() if currency else len(before))
        if eq_m is not None:
            visible = before[: eq_m.start()]
            nums = _numbers(visible)[-len(operands) :] if operands else []
            if (
                len(nums) == len(operands)
                and sorted(v for _, v in nums) == sorted(operands)
                and not _SENTENCE_BREAK.search(visible[nums[0][0] :])
            ):
                first = nums[0][0]
                opener = _OPEN_BEFORE.search(visible[:first])
                start = floor + (opener.start() if opener else first)
        end = m.end()
        after = _RESULT_AFTER.match(line, end)
        if after is not None and exact_number(after.group(1)) == value:
            end = after.end()
        out.append(Annotation(shape, operands, value, start, end, matches))
        floor = end
    return out


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _join(*parts: str) -> str:
    return " ".join(p for p in (s.strip() for s in parts) if p)


def _final_text(text: str) -> str:
    text = text.rstrip()
    return text if not text or text[-1] in ".!?" else text + "."


class Unusable(Exception):
    """A solution that makes no program; ``reason`` is one of the three reasons above."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def build_program(question: str, lines: list[str], answer: Number) -> Program:
    """The program of a solution (``lines`` folded, without the ``####`` line); raises
    ``Unusable`` with the reason when the problem must be served as plain text."""
    constants: dict[str, Number] = {}
    by_value: dict[Number, str] = {}
    for _, v in _numbers(question):
        if v not in by_value:
            name = f"q{len(constants)}"
            constants[name] = v
            by_value[v] = name
    results: dict[Number, str] = {}  # value -> the most recent step that computed it
    steps: list[StepSpec] = []
    pending = ""  # plain lines waiting for the next annotated one
    mismatch = False
    for line in lines:
        anns = _annotations(line)
        if not anns:
            pending = _join(pending, _escape(_ANNOTATION.sub("", line)))
            continue
        cursor = 0
        for j, a in enumerate(anns):
            mismatch |= not a.matches
            args: list[str | Number] = []
            for v in a.operands:
                if v in results:
                    args.append(results[v])
                elif v in by_value:
                    args.append(by_value[v])
                else:
                    args.append(v)
            tail = line[a.end :] if j == len(anns) - 1 else ""
            text = _join(pending, _escape(line[cursor : a.start]).rstrip() + " {expr}" + _escape(tail))
            pending = ""
            cursor = a.end
            sid = f"s{len(steps) + 1}"
            steps.append(StepSpec(sid, shape_op(a.shape), tuple(args), text))
            results[a.result] = sid
    if not steps:
        raise Unusable(NO_ANNOTATION)
    if mismatch:
        raise Unusable(RESULT_MISMATCH)
    last = steps[-1]
    steps[-1] = StepSpec(last.id, last.op, last.args, _final_text(_join(last.text, pending)))
    if results.get(answer) != last.id:
        raise Unusable(LAST_DIFFERS)
    return Program(constants=constants, steps=tuple(steps))


def text_steps(lines: list[str], answer: str) -> tuple[str, ...]:
    """Plain-text steps: the solution lines without annotations, the last stating the answer."""
    texts = [t for t in (" ".join(_ANNOTATION.sub("", line).split()) for line in lines) if t]
    if not texts:
        return (f"{ANSWER_PREFIX} {answer}.",)
    stated = f"{ANSWER_PREFIX} {answer}."
    if not texts[-1].endswith(stated):
        # the proposer reads the answer from the first "The answer is" of the last step
        texts[-1] = f"{_final_text(texts[-1].replace(ANSWER_PREFIX, 'the answer is'))} {stated}"
    return tuple(texts)
