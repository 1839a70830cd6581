"""Problems a user brings: a list of dicts or a JSONL file of question / steps / answer."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from r1gym.core.problem import ANSWER_PREFIX, Problem
from r1gym.errors import DataError
from r1gym.tasks.base import Task

REQUIRED = ("question", "steps", "answer")
OPTIONAL = ("domain", "difficulty", "id")


def to_ascii(text: str) -> str:
    """Fold text into printable ASCII (the charset of the text observation): accents dropped,
    other characters written as ``?``."""
    if text.isascii():
        return text
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c if c.isascii() else ("" if unicodedata.combining(c) else "?") for c in folded)


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
    if isinstance(answer, bool) or not isinstance(answer, (str, int, float)) or not str(answer).strip():
        raise DataError(f"{where}: 'answer' must be a non-empty string or number, got {answer!r}")
    answer = to_ascii(str(answer).strip())
    texts = [to_ascii(s.strip()) for s in steps]
    if ANSWER_PREFIX not in texts[-1]:
        texts[-1] = f"{texts[-1].rstrip()} {ANSWER_PREFIX} {answer}."
    return Problem(
        question=to_ascii(question.strip()),
        steps=tuple(texts),
        answer=answer,
        domain=str(rec.get("domain", "user")),
        difficulty=str(rec.get("difficulty", f"{len(texts)} steps")),
        uid=str(rec.get("id", uid)),
        meta={"source": where},
    )


def read_jsonl(path: str | Path) -> list[tuple[Any, str]]:
    """Parsed lines of a JSONL file with their ``file:line`` (blank lines skipped)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"problem file {p} does not exist")
    out = []
    with p.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                out.append((json.loads(line), f"{p}:{lineno}"))
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
