"""The step judge: decides whether a written step is correct, wrong or neutral (no claim).

Layer 1 (beside ``r1gym.tasks``): it reads a problem's program and the path's values, and
imports only ``r1gym.core`` and, for units, ``r1gym.tasks.physics``. See docs/judge.md.

>>> from r1gym.judge import StepJudge
>>> judge = StepJudge(problem)            # doctest: +SKIP
>>> j = judge.judge("3 * 4 = 12.", judge.start())   # doctest: +SKIP
"""

from __future__ import annotations

from r1gym.judge.judge import CORRECT, LABELS, NEUTRAL, WRONG, JudgeState, Judgment, StepJudge
from r1gym.judge.text import MAX_DIGITS, MAX_STEP_CHARS

__all__ = [
    "CORRECT",
    "LABELS",
    "MAX_DIGITS",
    "MAX_STEP_CHARS",
    "NEUTRAL",
    "WRONG",
    "JudgeState",
    "Judgment",
    "StepJudge",
]

from r1gym.core.protocols import JUDGES  # noqa: E402  (after the names it registers)

JUDGES.register("program", StepJudge)
