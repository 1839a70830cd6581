"""Multi-step word problems in the style of GSM8K, generated from templates.

The templates live in ``r1gym/envs_data/math_templates.json`` (a list of objects). A template::

    {
      "id": "bakery_trays",
      "topic": "totals",
      "question": "{name} bakes {trays} trays of {per} muffins and sells {sold}. How many are left?",
      "vars": {"trays": [2, 9], "per": {"choice": [6, 8, 12]}, "sold": {"range": [10, 60], "step": 5}},
      "steps": [
        {"id": "total", "op": "mul", "args": ["trays", "per"], "text": "{name} bakes {expr} muffins."},
        {"id": "left", "op": "sub", "args": ["total", "sold"], "text": "{expr} muffins are left."}
      ],
      "require": ["left > 0"]
    }

* ``vars``: ``[lo, hi]`` is an integer drawn uniformly from lo to hi inclusive;
  ``{"range": [lo, hi], "step": s}`` a multiple of s above lo; ``{"choice": [...]}`` one of the
  listed numbers (decimals allowed, written as numbers or strings such as ``"2.5"``).
* ``{name}``, ``{name2}``, ``{name3}`` take distinct first names from ``r1gym/envs_data/names.json``.
* ``steps``: ``op`` is one of ``add``, ``sub``, ``mul``, ``div``, ``pct`` (``a% of b``);
  ``args`` name variables or earlier steps, or are numbers. ``text`` may use ``{expr}`` (the
  operation written out, ``3 * 12 = 36``), ``{r}`` (its result) and any variable or name. The
  last step is the answer; " The answer is N." is appended to it.
* ``require``: conditions over variables and steps, in Python syntax.
* ``decimals`` (default 0): the places every value may have (2 for money in cents);
  ``allow_negative`` (default false).

Numbers are redrawn until every intermediate value is clean (an integer, or a multiple of
``10 ** -decimals``), non-negative unless allowed, and every ``require`` holds.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from r1gym.core.ops import OPS
from r1gym.core.problem import Problem, Program, StepSpec, problem_from_program
from r1gym.core.protocols import Task
from r1gym.core.values import exact, format_value
from r1gym.errors import DataError

TOPICS = (
    "rates",
    "percentages",
    "fractions",
    "totals",
    "time",
    "money",
    "comparisons",
    "units",
)
_NUMERIC_OPS = ("add", "sub", "mul", "div", "pct")
_NAME_KEYS = ("name", "name2", "name3")
_MAX_TRIES = 2000
_NO_BUILTINS: dict[str, Any] = {"__builtins__": {}}  # the globals of ``require`` (expressions: read only)


@dataclass(frozen=True)
class Template:
    id: str
    topic: str
    question: str
    vars: Mapping[str, tuple[str, tuple[Fraction, ...]]]  # kind, parameters
    steps: tuple[StepSpec, ...]
    require: tuple[Any, ...]  # compiled code objects
    require_src: tuple[str, ...]
    decimals: int
    allow_negative: bool
    names: tuple[str, ...]
    #: ``vars`` compiled for drawing (``_drawers``); rebuilt from ``vars`` when empty
    drawers: tuple[tuple[Any, ...], ...] = dataclasses.field(default=(), compare=False, repr=False)


def _frac(x: Any, where: str) -> Fraction:
    if isinstance(x, bool) or not isinstance(x, (int, float, str)):
        raise DataError(f"{where}: expected a number, got {x!r}")
    try:
        return exact(Fraction(str(x)))  # type: ignore[return-value]
    except (ValueError, ZeroDivisionError):
        raise DataError(f"{where}: {x!r} is not a number") from None


def parse_template(obj: Mapping[str, Any], where: str) -> Template:
    """Check one template object and compile it. ``where`` names it in errors."""
    if not isinstance(obj, Mapping):
        raise DataError(f"{where}: a template must be an object, got {type(obj).__name__}")
    missing = [k for k in ("id", "topic", "question", "vars", "steps") if k not in obj]
    if missing:
        raise DataError(f"{where}: template is missing {missing}")
    tid = str(obj["id"])
    where = f"{where} (template {tid!r})"
    known = {"id", "topic", "question", "vars", "steps", "require", "decimals", "allow_negative"}
    extra = sorted(set(obj) - known)
    if extra:
        raise DataError(f"{where}: unknown keys {extra}; valid: {sorted(known)}")
    if obj["topic"] not in TOPICS:
        raise DataError(f"{where}: topic {obj['topic']!r} is not one of {TOPICS}")
    variables: dict[str, tuple[str, tuple[Fraction, ...]]] = {}
    for name, spec in dict(obj["vars"]).items():
        w = f"{where}: var {name!r}"
        if name in _NAME_KEYS or name in ("expr", "r"):
            raise DataError(f"{w}: this name is reserved")
        if isinstance(spec, list) and len(spec) == 2:
            lo, hi = _frac(spec[0], w), _frac(spec[1], w)
            if type(lo) is not int or type(hi) is not int or lo > hi:
                raise DataError(f"{w}: [lo, hi] must be integers with lo <= hi")
            variables[name] = ("range", (lo, hi, 1))
        elif isinstance(spec, Mapping) and "range" in spec:
            lo, hi = (_frac(v, w) for v in spec["range"])
            step = _frac(spec.get("step", 1), w)
            if step <= 0 or lo > hi:
                raise DataError(f"{w}: need lo <= hi and step > 0")
            variables[name] = ("range", (lo, hi, step))
        elif isinstance(spec, Mapping) and "choice" in spec and spec["choice"]:
            variables[name] = ("choice", tuple(_frac(v, w) for v in spec["choice"]))
        else:
            raise DataError(f"{w}: expected [lo, hi], {{'range': [lo, hi], 'step': s}} or {{'choice': [...]}}")
    names = tuple(k for k in _NAME_KEYS if "{" + k + "}" in obj["question"])
    defined = set(variables) | set(names)
    steps: list[StepSpec] = []
    for i, st in enumerate(obj["steps"]):
        w = f"{where}: step {i}"
        if not isinstance(st, Mapping) or {"id", "op", "args"} - set(st):
            raise DataError(f"{w}: a step needs id, op and args")
        if st["op"] not in _NUMERIC_OPS:
            raise DataError(f"{w}: op {st['op']!r} is not one of {_NUMERIC_OPS}")
        args: list[str | Fraction] = []
        for a in st["args"]:
            if isinstance(a, str) and not _is_number(a):
                if a not in defined:
                    raise DataError(f"{w}: argument {a!r} is neither a variable nor an earlier step")
                args.append(a)
            else:
                args.append(_frac(a, w))
        if len(args) != 2:
            raise DataError(f"{w}: op {st['op']!r} takes 2 arguments, got {len(args)}")
        if st["id"] in defined:
            raise DataError(f"{w}: id {st['id']!r} is already used")
        text = st.get("text", "{expr}.")
        if "{expr}" not in text:
            raise DataError(f"{w}: text must contain {{expr}}")
        steps.append(StepSpec(str(st["id"]), st["op"], tuple(args), text))
        defined.add(str(st["id"]))
    if not steps:
        raise DataError(f"{where}: a template needs at least one step")
    require_src = tuple(obj.get("require", ()))
    require = []
    for cond in require_src:
        try:
            tree = ast.parse(cond, mode="eval")
        except SyntaxError as e:
            raise DataError(f"{where}: require {cond!r} is not a Python expression: {e.msg}") from None
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        if used - defined:
            raise DataError(f"{where}: require {cond!r} names unknown {sorted(used - defined)}")
        require.append(compile(tree, f"<{tid}>", "eval"))
    for key in ("question",):
        _check_placeholders(obj[key], defined, f"{where}: {key}")
    for st in steps:
        _check_placeholders(st.text, defined | {"expr", "r"}, f"{where}: step {st.id!r} text")
    if not str(obj["question"]).isascii() or not all(s.text.isascii() for s in steps):
        raise DataError(f"{where}: text must be ASCII (write 'x', '-', '%')")
    return Template(
        id=tid,
        topic=str(obj["topic"]),
        question=str(obj["question"]),
        vars=variables,
        steps=tuple(steps),
        require=tuple(require),
        require_src=require_src,
        decimals=int(obj.get("decimals", 0)),
        allow_negative=bool(obj.get("allow_negative", False)),
        names=names,
        drawers=_drawers(variables),
    )


def _drawers(variables: Mapping[str, tuple[str, tuple[Fraction, ...]]]) -> tuple[tuple[Any, ...], ...]:
    """Each variable as ``(name, choices, count, a, s, d)``, what :func:`_draw` needs without its
    Fraction arithmetic: a choice draws ``choices[integers(count)]``; a range draws
    ``k = integers(0, count)`` and is ``(a + s * k) / d`` (``lo = a / d``, ``step = s / d``), an int
    when whole."""
    out = []
    for name, (kind, params) in variables.items():
        if kind == "choice":
            out.append((name, params, len(params), 0, 0, 1))
            continue
        lo, hi, step = params
        d = math.lcm(Fraction(lo).denominator, Fraction(step).denominator)
        a, s = lo * d, step * d
        out.append((name, None, int((hi - lo) // step) + 1, int(a), int(s), d))
    return tuple(out)


def _is_number(s: str) -> bool:
    try:
        Fraction(s)
    except ValueError:
        return False
    return True


def _check_placeholders(text: str, allowed: set[str], where: str) -> None:
    for _, field, _, _ in string.Formatter().parse(text):
        if field is not None and field not in allowed:
            raise DataError(f"{where}: placeholder {{{field}}} is not defined")


def load_templates(path: str | Path | None = None) -> tuple[Template, ...]:
    """Read and check a template file (the shipped one by default)."""
    if path is None:
        text = resources.files("r1gym.envs_data").joinpath("math_templates.json").read_text()
        where = "r1gym/envs_data/math_templates.json"
    else:
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"template file {p} does not exist")
        text, where = p.read_text(), str(p)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{where}:{e.lineno}: invalid JSON: {e.msg}") from None
    if not isinstance(data, list) or not data:
        raise DataError(f"{where}: expected a non-empty list of templates")
    out = tuple(parse_template(t, f"{where}: template #{i}") for i, t in enumerate(data))
    ids = [t.id for t in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise DataError(f"{where}: duplicate template ids {dup}")
    return out


@lru_cache(maxsize=1)
def _shipped_templates() -> tuple[Template, ...]:
    return load_templates()


@lru_cache(maxsize=1)
def load_names() -> tuple[str, ...]:
    data = json.loads(resources.files("r1gym.envs_data").joinpath("names.json").read_text())
    return tuple(data)


def _draw(kind: str, params: tuple[Fraction, ...], rng: np.random.Generator) -> Fraction:
    if kind == "choice":
        return params[int(rng.integers(len(params)))]
    lo, hi, step = params
    n = int((hi - lo) // step)
    return exact(lo + step * int(rng.integers(0, n + 1)))


def _clean(v: Fraction, decimals: int, allow_negative: bool) -> bool:
    if type(v) is int:
        return allow_negative or v >= 0
    if type(v) is Fraction:  # the same test in integers: 10**decimals * v is whole
        return 10**decimals % v.denominator == 0 and (allow_negative or v.numerator >= 0)
    return (v * 10**decimals).denominator == 1 and (allow_negative or v >= 0)


def sample_template(
    t: Template, rng: np.random.Generator, names: Sequence[str]
) -> tuple[dict[str, Any], list[Fraction]]:
    """Draw variables until every value is clean and every requirement holds.

    The draws are :func:`_draw`'s, from the template's compiled ``drawers``.
    """
    drawers = t.drawers or _drawers(t.vars)
    integers = rng.integers
    for _ in range(_MAX_TRIES):
        env: dict[str, Any] = {}
        for name, choices, count, a, s, d in drawers:
            if choices is not None:
                env[name] = choices[int(integers(count))]
            elif d == 1:
                env[name] = a + s * int(integers(0, count))
            else:
                num = a + s * int(integers(0, count))
                env[name] = num // d if num % d == 0 else Fraction(num, d)
        values = []
        ok = True
        for spec in t.steps:
            args = [env[a] if type(a) is str else a for a in spec.args]
            try:
                v = OPS[spec.op].fn(*args)
            except ArithmeticError:
                ok = False
                break
            if not _clean(v, t.decimals, t.allow_negative):
                ok = False
                break
            env[spec.id] = v
            values.append(v)
        if ok and all(eval(c, _NO_BUILTINS, env) for c in t.require):
            if t.names:
                picks = rng.choice(len(names), size=len(t.names), replace=False)
                for key, i in zip(t.names, picks):
                    env[key] = names[int(i)]
            return env, values
    raise DataError(
        f"template {t.id!r}: no clean draw in {_MAX_TRIES} tries; "
        f"widen its vars or loosen require {list(t.require_src)}"
    )


class WordProblemTask(Task):
    """GSM8K-style word problems from templates (see the module docstring for the format).

    Args:
        seed: the task seed.
        templates: a path to a template file, or None for the shipped templates.
        topics: keep only templates of these topics.
    """

    domain = "word"

    def __init__(self, seed: int = 0, templates: str | Path | None = None, topics: Sequence[str] | None = None) -> None:
        super().__init__(seed)
        self._init_args = {"seed": seed, "templates": templates, "topics": None if topics is None else list(topics)}
        ts = _shipped_templates() if templates is None else load_templates(templates)
        if topics is not None:
            bad = [x for x in topics if x not in TOPICS]
            if bad:
                raise ValueError(f"unknown topics {bad}; valid: {TOPICS}")
            ts = tuple(t for t in ts if t.topic in topics)
            if not ts:
                raise ValueError(f"no template has a topic in {list(topics)}")
        self.templates = ts
        self.names = load_names()

    def __getstate__(self) -> dict[str, Any]:
        # Compiled requirements do not pickle: rebuild from the arguments.
        return dict(self._init_args)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def problem(self, index: int) -> Problem:
        rng = self.rng(index)
        t = self.templates[int(rng.integers(len(self.templates)))]
        env, values = sample_template(t, rng, self.names)
        constants = {k: v for k, v in env.items() if k in t.vars or k in t.names}
        program = Program(constants=constants, steps=t.steps)
        question = t.question.format_map(_QuestionFmt(constants))
        return problem_from_program(
            question,
            program,
            domain=self.domain,
            uid=f"word:{self.seed}:{index}",
            difficulty=f"{len(t.steps)} steps",
            meta={"index": index, "template": t.id, "topic": t.topic},
            values=values,
        )


class _QuestionFmt(dict):
    def __init__(self, env: Mapping[str, Any]) -> None:
        super().__init__()
        self.env = env

    def __missing__(self, key: str) -> str:
        return format_value(self.env[key])
