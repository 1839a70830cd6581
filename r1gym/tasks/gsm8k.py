"""GSM8K (grade-school math) from a local JSONL file or the ``datasets`` library.

Nothing of GSM8K ships with r1gym: point the task at the data (``GSM8KTask(data_path=...)``, the
``train.jsonl`` / ``test.jsonl`` of https://github.com/openai/grade-school-math, or the
environment variable ``R1GYM_GSM8K_PATH``), or install ``datasets`` and leave ``data_path`` out
to load ``gsm8k`` / ``main`` from the Hugging Face Hub.

Each line is ``{"question": str, "answer": str}``; the answer is the solution, one step a line,
with calculator annotations, and ends with the final answer::

    Natalia sold 48/2 = <<48/2=24>>24 clips in May.
    Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.
    #### 72

**Programs from annotations.** Each ``<<expr=result>>`` becomes a step of a
:class:`~r1gym.core.problem.Program`, so that distractors and every branch after a wrong step
are re-derived as in ``R1Math-v0``:

* ``expr`` is parsed with :mod:`ast` (never evaluated): numbers, ``+ - * /``, parentheses and
  unary signs only. Its *shape* (``{0}/{1}``, ``({0}+{1})*{2}``) is registered once as an
  operation named ``"gsm8k:" + shape`` (:func:`shape_op`) that computes with exact
  ints / Fractions and writes itself with the values it got (``48 / 2 = 24``). Its siblings are
  the shape with one operator swapped (``+`` <-> ``-``, ``*`` <-> ``/``): the wrong-operation
  distractor.
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

**Plain text instead.** A problem whose solution has no usable annotation, whose last annotated
result is not the ``####`` answer (the final computation is on a line without annotation), or
one of whose annotations computes something other than the result it states, is served with
plain-text steps (the annotations removed) and ``distractors="numbers"``: still solvable, with
distractors that change one number of a step. ``GSM8KTask.fallbacks`` lists them with the
reason; ``summary()`` counts them.

**Bad lines.** Invalid JSON, a missing or non-string ``question`` / ``answer``, an answer without
a ``#### N`` line or whose ``N`` is not a number raise :class:`~r1gym.errors.DataError` naming
file and line; with ``strict=False`` the line is skipped and recorded in ``GSM8KTask.skipped``.

Text is folded into printable ASCII (``x`` for the multiplication sign, ``EUR`` for the euro
sign, straight quotes, ...).
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from r1gym.core.ops import OPS, Op, register_op
from r1gym.core.problem import ANSWER_PREFIX, Problem, Program, StepSpec, problem_from_program
from r1gym.core.values import Number, Value, exact, format_number, format_value, is_number, parse_number, qdiv
from r1gym.errors import DataError
from r1gym.core.protocols import Task
from r1gym.core.text import to_ascii

ANSWER_MARK = "####"
#: the file used when no data_path is given, before trying ``datasets``
ENV_VAR = "R1GYM_GSM8K_PATH"
OP_PREFIX = "gsm8k:"
HINT = (
    'pass data_path= to a local GSM8K JSONL file (one {"question", "answer"} object a line, for '
    "example grade_school_math/data/train.jsonl of https://github.com/openai/grade-school-math; or set "
    "R1GYM_GSM8K_PATH to it), or `pip install datasets` to load it from the Hugging Face Hub"
)

#: why a problem is served as plain text (the keys of ``summary()["text_reasons"]``)
NO_ANNOTATION = "no usable <<expr=result>> annotation"
LAST_DIFFERS = "the last annotated result is not the #### answer"
RESULT_MISMATCH = "an annotation's result does not match its expression"

_ANNOTATION = re.compile(r"<<([^<>]*)>>")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+")
_RESULT_AFTER = re.compile(r"\s*\$?\s*(-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+))")
_CURRENCY = r"(?:\$|EUR|GBP)"
_EQUALS_BEFORE = re.compile(r"(?:=|\bequals)\s*" + _CURRENCY + r"?\s*$")
_CURRENCY_BEFORE = re.compile(_CURRENCY + r"\s*$")
_OPEN_BEFORE = re.compile(r"(?:[$(]|EUR ?|GBP ?)+$")
_SENTENCE_BREAK = re.compile(r"[;:!?]|,\s|\.\s+[A-Z]")
_FOLD = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
        "\u2212": "-", "\u00d7": "x", "\u00f7": "/", "\u20ac": "EUR ", "\u00a3": "GBP ", "\u00a2": " cents",
        "\u00bc": "1/4", "\u00bd": "1/2", "\u00be": "3/4", "\u221a": "sqrt ", "\u2026": "...",
        "\u2028": " ", "\u2029": " ", "\u200b": "", "\u00a0": " ",
    }
)  # fmt: skip


def fold(text: str) -> str:
    """``text`` in printable ASCII, with the signs GSM8K uses written out (``x`` for the
    multiplication sign, ``/`` for the division sign, ``EUR`` for the euro, straight quotes)."""
    return text if text.isascii() else to_ascii(text.translate(_FOLD))


# -- expression shapes ---------------------------------------------------------------------------
# A shape is a tuple tree: ("n", i) is operand i, ("neg", x) is -x, (op, left, right) a binary
# operation with op one of "+-*/". Operands are numbered left to right.

Shape = tuple
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "n": 4}
_AST_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_SWAP = {"+": "-", "-": "+", "*": "/", "/": "*"}


class _NotArithmetic(Exception):
    """An annotation's expression holds something other than numbers and + - * /."""


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
                operands.append(_number(text.replace("_", "")))
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


# -- solutions -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Annotation:
    """One usable ``<<expr=result>>`` of a line and the span of the line it replaces."""

    shape: Shape
    operands: tuple[Number, ...]
    result: Number
    start: int  # the span [start, end) becomes {expr}
    end: int
    matches: bool  # the expression computes the stated result


def _number(text: str) -> Number:
    """A number token (``12,000``, ``0.25``, ``.6``) as an exact value."""
    text = text.replace(",", "")
    return int(text) if "." not in text else exact(Fraction(text))


_SIGNED = re.compile(r"-?(?:" + _NUMBER.pattern + ")")


def _result(text: str) -> Number | None:
    """The result an annotation states (``24``, ``-3``, ``0.5``, ``$1,200``), or None."""
    text = text.strip()
    if _SIGNED.fullmatch(text):
        return -_number(text[1:]) if text[0] == "-" else _number(text)
    value = parse_number(text)
    return None if value is None else exact(value)


def _numbers(text: str) -> list[tuple[int, Number]]:
    return [(m.start(), _number(m.group())) for m in _NUMBER.finditer(text)]


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
        if after is not None and _number(after.group(1)) == value:
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


class _Unusable(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def build_program(question: str, lines: list[str], answer: Number) -> Program:
    """The program of a solution (``lines`` folded, without the ``####`` line); raises
    ``_Unusable`` with the reason when the problem must be served as plain text."""
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
        raise _Unusable(NO_ANNOTATION)
    if mismatch:
        raise _Unusable(RESULT_MISMATCH)
    last = steps[-1]
    steps[-1] = StepSpec(last.id, last.op, last.args, _final_text(_join(last.text, pending)))
    if results.get(answer) != last.id:
        raise _Unusable(LAST_DIFFERS)
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


# -- the task --------------------------------------------------------------------------------------
class GSM8KTask(Task):
    """GSM8K problems served by index in file order (see the module docstring).

    Args:
        data_path: a GSM8K JSONL file. None reads the file named by the environment variable
            ``R1GYM_GSM8K_PATH`` if it is set, else loads
            ``datasets.load_dataset("gsm8k", "main", split=split)``.
        seed: the task seed (the problems are fixed; kept for a uniform interface).
        split: the ``datasets`` split, and the middle of every uid (``gsm8k:train:7``).
        strict: raise :class:`~r1gym.errors.DataError` on a bad line (default); False skips it
            and records ``(file:line, reason)`` in ``skipped``.

    Attributes:
        skipped: the lines left out under ``strict=False`` and why.
        fallbacks: the problems served as plain text (``file:line``, reason).
    """

    domain = "gsm8k"

    def __init__(
        self, data_path: str | Path | None = None, seed: int = 0, split: str = "train", *, strict: bool = True
    ) -> None:
        super().__init__(seed)
        if not isinstance(split, str) or not split:
            raise ValueError(f"split must be a non-empty string such as 'train' or 'test', got {split!r}")
        if data_path is None and os.environ.get(ENV_VAR):
            data_path = os.environ[ENV_VAR]
        self.data_path = None if data_path is None else Path(data_path)
        self.split = split
        self.strict = bool(strict)
        self.skipped: list[tuple[str, str]] = []
        self.fallbacks: list[tuple[str, str]] = []
        # A problem with a program is rendered on first use (a third of the load time otherwise).
        self._problems: list[Problem | partial[Problem]] = []
        key = _cache_key(self.data_path, split, self.strict)
        if key is not None and key in _LOADED:
            problems, skipped, fallbacks = _LOADED[key]
            self._problems, self.skipped, self.fallbacks = list(problems), list(skipped), list(fallbacks)
            self.size = len(self._problems)
            return
        records = _read_file(self.data_path) if self.data_path is not None else _read_hub(split)
        for rec, where in records:
            try:
                problem = self._parse(rec, where)
            except DataError as e:
                if self.strict:
                    raise
                self.skipped.append((where, str(e).removeprefix(f"{where}: ")))
                continue
            self._problems.append(problem)
        if not self._problems:
            source = self.data_path if self.data_path is not None else f"gsm8k/main [{split}]"
            why = f" ({len(self.skipped)} bad lines skipped)" if self.skipped else ""
            raise DataError(f"{source}: holds no GSM8K problems{why}; {HINT}")
        self.size = len(self._problems)
        if key is not None:
            while len(_LOADED) >= 4:
                _LOADED.pop(next(iter(_LOADED)))
            _LOADED[key] = (tuple(self._problems), tuple(self.skipped), tuple(self.fallbacks))

    def __getstate__(self) -> dict[str, Any]:
        # The shape operations live in a process-wide registry: rebuild (and re-register) them.
        return {"data_path": self.data_path, "seed": self.seed, "split": self.split, "strict": self.strict}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def problem(self, index: int) -> Problem:
        index = self.check_index(index)
        item = self._problems[index]
        if not isinstance(item, Problem):
            item = self._problems[index] = item()
        return item

    def summary(self) -> dict[str, Any]:
        """How the problems parsed: with a program, as plain text (by reason), skipped (by reason)."""
        program = sum(not isinstance(p, Problem) or p.program is not None for p in self._problems)
        return {
            "problems": self.size,
            "program": program,
            "text": self.size - program,
            "text_reasons": dict(Counter(r for _, r in self.fallbacks)),
            "skipped": len(self.skipped),
            "skip_reasons": dict(Counter(re.split(r" \(|;", r)[0] for _, r in self.skipped)),
        }

    def _parse(self, rec: Any, where: str) -> Problem:
        if isinstance(rec, _BadJSON):
            raise DataError(f"{where}: {rec.reason}")
        if not isinstance(rec, dict):
            raise DataError(f"{where}: expected an object with 'question' and 'answer', got {type(rec).__name__}")
        for key in ("question", "answer"):
            if key not in rec:
                raise DataError(f"{where}: missing field {key!r}; each line needs 'question' and 'answer'")
            if not isinstance(rec[key], str) or not rec[key].strip():
                raise DataError(f"{where}: field {key!r} must be a non-empty string, got {rec[key]!r}")
        solution, mark, final = rec["answer"].rpartition(ANSWER_MARK)
        if not mark:
            raise DataError(f"{where}: the answer has no final '{ANSWER_MARK} N' line")
        value = parse_number(final.strip())
        if value is None:
            raise DataError(f"{where}: the final answer {final.strip()!r} is not a number")
        value = exact(value)
        answer = format_number(value)
        question = " ".join(fold(rec["question"]).split())
        lines = [" ".join(line.split()) for line in fold(solution).splitlines()]
        lines = [line for line in lines if line]
        index = len(self._problems)
        uid = f"gsm8k:{self.split}:{index}"
        try:
            program = build_program(question, lines, value)
        except _Unusable as e:
            self.fallbacks.append((where, e.reason))
            steps = text_steps(lines, answer)
            return Problem(
                question=question,
                steps=steps,
                answer=answer,
                domain=self.domain,
                difficulty=f"{len(steps)} steps",
                uid=uid,
                meta={"source": where, "index": index, "annotated": False, "text_reason": e.reason},
                distractors="numbers",
            )
        return partial(
            problem_from_program,
            question,
            program,
            domain=self.domain,
            uid=uid,
            difficulty=f"{len(program.steps)} steps",
            meta={"source": where, "index": index, "annotated": True},
        )


#: Parsed files, by (path, modification time, size, split, strict): a second task (or an
#: environment copy in the same process) on the same file costs a list copy, not a re-parse.
_LOADED: dict[tuple, tuple[tuple, tuple, tuple]] = {}


def _cache_key(path: Path | None, split: str, strict: bool) -> tuple | None:
    if path is None:
        return None
    try:
        st = path.resolve().stat()
    except OSError:
        return None
    return (str(path.resolve()), st.st_mtime_ns, st.st_size, split, strict)


def _read_file(path: Path) -> Iterator[tuple[Any, str]]:
    if not path.is_file():
        raise FileNotFoundError(f"GSM8K file {path} does not exist; {HINT}")
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, 1):
            where = f"{path}:{lineno}"
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as e:
                yield _BadJSON(f"not UTF-8 text (byte {e.start + 1})"), where
                continue
            if not line.strip():
                continue
            try:
                yield json.loads(line), where
            except json.JSONDecodeError as e:
                yield _BadJSON(f"invalid JSON ({e.msg} at column {e.colno})"), where


@dataclass(frozen=True)
class _BadJSON:
    """A line that is not JSON: GSM8KTask._parse rejects it with the reason (strict or skipped)."""

    reason: str


def _read_hub(split: str) -> Iterable[tuple[Any, str]]:
    try:
        import datasets
    except ImportError:
        raise ImportError(
            f"GSM8KTask needs the GSM8K data: no data_path was given and `datasets` is not installed; {HINT}"
        ) from None
    try:
        rows = datasets.load_dataset("gsm8k", "main", split=split)
    except Exception as e:  # offline, unknown split, ...: say what to do instead
        raise FileNotFoundError(f"could not load gsm8k/main split {split!r} with datasets ({e}); {HINT}") from e
    return ((dict(row), f"gsm8k/main[{split}]:{i}") for i, row in enumerate(rows, 1))
