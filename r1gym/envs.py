"""The registered environments: one class per id, each a :class:`ReasoningEnv` on its task.

Each class only fixes the default task; everything else is documented on
:class:`r1gym.core.env.ReasoningEnv`.
"""

from __future__ import annotations

from r1gym.core.env import ReasoningEnv


class R1ArithEnv(ReasoningEnv):
    """``R1Arith-v0``: arithmetic chains, curriculum stage 1.

    ``Compute ((12 + 7) * 3 - 15) / 6.`` solved one operation a step, 2 to 5 steps
    (``task_kwargs={"min_ops": ..., "max_ops": ...}``). Distractors: arithmetic slips, a wrong
    operand, a wrong operation, a skipped operation, an early answer. See
    :class:`r1gym.tasks.ArithmeticTask` and :class:`r1gym.core.env.ReasoningEnv`.
    """

    _default_task = "arithmetic"


class R1AlgebraEnv(ReasoningEnv):
    """``R1Algebra-v0``: linear equations in x, solved step by step and checked with sympy.

    Three families (``a*x + b = d``, ``a*x + b = c*x + d``, ``m*(x + p) = q``), 2 or 3 steps; each
    step's value is the whole equation, so a sign slip or a forgotten distribution propagates.
    See :class:`r1gym.tasks.AlgebraTask` and :class:`r1gym.core.env.ReasoningEnv`.
    """

    _default_task = "algebra"


class R1MathEnv(ReasoningEnv):
    """``R1Math-v0``: the flagship, GSM8K-style word problems generated from templates.

    Templates in ``envs_data/math_templates.json`` cover rates, percentages, fractions, totals,
    time, money, comparisons and unit changes, 2 to 6 steps, with numbers drawn so that every
    intermediate value is clean. Offline and unlimited. See
    :class:`r1gym.tasks.WordProblemTask` and :class:`r1gym.core.env.ReasoningEnv`.
    """

    _default_task = "word"
