"""The GSM8K task: the problems of a file (or a ``datasets`` split), served by index.

A record's answer is the solution, one step a line, ending with ``#### N``. The problem is a
program built from its annotations (:mod:`~r1gym.tasks.gsm8k.annotations`), or plain-text steps
with ``distractors="numbers"`` when the annotations cannot make one (``GSM8KTask.fallbacks``
says why). Invalid JSON, a missing or non-string ``question`` / ``answer``, an answer without a
``#### N`` line or whose ``N`` is not a number raise :class:`~r1gym.errors.DataError` naming file
and line; with ``strict=False`` the line is skipped and recorded in ``GSM8KTask.skipped``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

from r1gym.core.problem import QUESTION_AS_WRITTEN, Problem, problem_from_program
from r1gym.core.protocols import Task
from r1gym.core.text import as_written
from r1gym.core.values import exact, format_number, parse_number
from r1gym.errors import DataError
from r1gym.tasks.gsm8k.annotations import Unusable, build_program, text_steps
from r1gym.tasks.gsm8k.data import ENV_VAR, HINT, BadLine, fold, read_file, read_hub

ANSWER_MARK = "####"


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
        records = read_file(self.data_path) if self.data_path is not None else read_hub(split)
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
        if isinstance(rec, BadLine):
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
        written = as_written(rec["question"])
        shown = {QUESTION_AS_WRITTEN: written} if written != question else {}
        lines = [" ".join(line.split()) for line in fold(solution).splitlines()]
        lines = [line for line in lines if line]
        index = len(self._problems)
        uid = f"gsm8k:{self.split}:{index}"
        try:
            program = build_program(question, lines, value)
        except Unusable as e:
            self.fallbacks.append((where, e.reason))
            steps = text_steps(lines, answer)
            return Problem(
                question=question,
                steps=steps,
                answer=answer,
                domain=self.domain,
                difficulty=f"{len(steps)} steps",
                uid=uid,
                meta={"source": where, "index": index, "annotated": False, "text_reason": e.reason, **shown},
                distractors="numbers",
            )
        return partial(
            problem_from_program,
            question,
            program,
            domain=self.domain,
            uid=uid,
            difficulty=f"{len(program.steps)} steps",
            meta={"source": where, "index": index, "annotated": True, **shown},
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
