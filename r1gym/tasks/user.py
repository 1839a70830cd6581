"""Problems a user brings: a list of dicts or a JSONL file of question / steps / answer."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from r1gym.core.problem import Problem, problem_from_record
from r1gym.core.protocols import Task
from r1gym.errors import DataError


def _parse_int(text: str) -> int | str:
    # A number too long for int() (Python refuses over 4300 digits) stays text: the record check
    # then says which field is too long.
    return int(text) if len(text) <= 4000 else text


def read_jsonl(path: str | Path) -> list[tuple[Any, str]]:
    """Parsed lines of a JSONL file with their ``file:line`` (blank lines skipped).

    The file is UTF-8 text; a byte-order mark at its start is allowed."""
    if not str(path).strip():
        raise DataError("the problem file path is empty; give the path of a JSONL file or a list of dicts")
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"problem file {p} does not exist")
    if p.is_dir():
        raise DataError(f"problem file {p} is a folder; give the path of a JSONL file")
    out = []
    with p.open("rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise DataError(f"{p}:{lineno}: not UTF-8 text (byte {e.start + 1}); save the file as UTF-8") from None
            if not line.strip():
                continue
            try:
                out.append((json.loads(line, parse_int=_parse_int), f"{p}:{lineno}"))
            except json.JSONDecodeError as e:
                raise DataError(f"{p}:{lineno}: invalid JSON ({e.msg} at column {e.colno})") from None
    if not out:
        raise DataError(f"{p}: the file holds no problems")
    return out


class UserProblemTask(Task):
    """A fixed list of problems, served by index.

    Each problem is ``{"question": str, "steps": [str, ...], "answer": str | number}`` with
    optional ``domain``, ``difficulty`` and ``id``. The last step should state the answer
    ("... The answer is 42."); if it does not, that sentence is appended. Steps are plain text:
    distractors change one number of a step (``perturb``) or state an early answer.

    Args:
        problems: a list of such dicts, or the path of a JSONL file with one per line.
        seed: unused by the problems themselves (they are fixed); kept for a uniform interface.
    """

    domain = "user"

    def __init__(self, problems: Sequence[Mapping[str, Any]] | str | Path, seed: int = 0) -> None:
        super().__init__(seed)
        if isinstance(problems, (str, Path)):
            records = read_jsonl(problems)
        elif isinstance(problems, Sequence) and problems:
            records = [(rec, f"problems[{i}]") for i, rec in enumerate(problems)]
        else:
            raise DataError("problems must be a non-empty list of dicts or the path of a JSONL file")
        self._problems = [problem_from_record(rec, where, f"user:{i}") for i, (rec, where) in enumerate(records)]
        self.size = len(self._problems)

    def problem(self, index: int) -> Problem:
        return self._problems[index]
