"""The registered environments: one class per id, each a :class:`ReasoningEnv` on its task.

Each class only fixes the default task; everything else is documented on
:class:`r1gym.core.env.ReasoningEnv`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import register, registry

from r1gym.core.env import ReasoningEnv, Snapshot
from r1gym.wrappers.curriculum import Curriculum, CurriculumLoop

#: id -> (entry point, one-line description); the step limit is the same for all.
ENV_IDS: dict[str, tuple[str, str]] = {
    "R1Arith-v0": ("r1gym.envs:R1ArithEnv", "arithmetic chains, one operation a step (curriculum stage 1)"),
    "R1Algebra-v0": ("r1gym.envs:R1AlgebraEnv", "linear equations in x, solved step by step, checked with sympy"),
    "R1Math-v0": ("r1gym.envs:R1MathEnv", "GSM8K-style multi-step word problems from templates (the flagship)"),
    "R1Physics-v0": (
        "r1gym.envs:R1PhysicsEnv",
        "kinematics, forces, energy and unit changes, answers checked with sympy units",
    ),
    "R1Code-v0": (
        "r1gym.envs:R1CodeEnv",
        "HumanEval (164 problems) built line by line, judged by its tests in a sandbox",
    ),
    "R1Curriculum-v0": (
        "r1gym.envs:R1CurriculumEnv",
        "the report's stages: arithmetic -> physics and code -> word problems",
    ),
    "R1GSM8K-v0": (
        "r1gym.envs:R1GSM8KEnv",
        "GSM8K from a local JSONL (data_path= or R1GYM_GSM8K_PATH); steps from its annotations",
    ),
    "R1Open-v0": (
        "r1gym.envs:R1OpenEnv",
        "reasoning-gym's 100+ task families (extra 'open') in write mode, scored by their own checkers",
    ),
}
MAX_EPISODE_STEPS = 40


def register_envs() -> None:
    """Register every id with Gymnasium (``import r1gym`` does it; a second call does nothing)."""
    for env_id, (entry_point, _) in ENV_IDS.items():
        if env_id not in registry:
            register(id=env_id, entry_point=entry_point, max_episode_steps=MAX_EPISODE_STEPS)


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

    Templates in ``r1gym/envs_data/math_templates.json`` cover rates, percentages, fractions, totals,
    time, money, comparisons and unit changes, 2 to 6 steps, with numbers drawn so that every
    intermediate value is clean. Offline and unlimited. See
    :class:`r1gym.tasks.WordProblemTask` and :class:`r1gym.core.env.ReasoningEnv`.
    """

    _default_task = "word"


class R1CurriculumEnv(ReasoningEnv):
    """``R1Curriculum-v0``: the R1 report's curriculum as one environment.

    Stages: arithmetic -> physics and code -> word problems (``R1Math-v0``'s), promoted when the
    rolling accuracy over the last 50 episodes of a stage reaches 0.6; or an adaptive curriculum
    over every (source, difficulty) at the agent's frontier. ``info["curriculum"]`` reports the
    stage, source, difficulty, rolling accuracy and promotion history. The episode's task changes
    at reset; the spaces never do (K and D are the environment's). It runs the same loop as
    :class:`r1gym.wrappers.CurriculumWrapper` (:class:`r1gym.wrappers.curriculum.CurriculumLoop`):
    the source is drawn with the environment's generator, so a seeded reset is reproducible for a
    given curriculum state; an episode counts when it ends, by a submit (correct or not) or at the
    step limit (a failure); one abandoned by a reset midway is not counted.

    Args:
        curriculum: a :class:`r1gym.wrappers.Curriculum`, or a dict of its settings (``stages``,
            ``mode``, ``window``, ``threshold``, ``promote_on``, ``base_size``, ``growth``,
            ``signal``, ...). Default: the report's stages, staged mode.
        curriculum_task_kwargs: per task name, that task's keyword arguments.
        **kwargs: as :class:`r1gym.core.env.ReasoningEnv`.

    The curriculum's state is ``env.unwrapped.curriculum`` (``state_dict()``, ``save()``); it
    pickles with the environment.
    """

    _default_task = "arithmetic"

    def __init__(
        self,
        curriculum: Curriculum | Mapping[str, Any] | None = None,
        curriculum_task_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(curriculum, Mapping):
            curriculum = Curriculum(**curriculum)
        elif curriculum is not None and not isinstance(curriculum, Curriculum):
            raise TypeError(
                f"curriculum must be a Curriculum or a dict of its settings, got {type(curriculum).__name__}"
            )
        curriculum = curriculum or Curriculum()
        first = curriculum.current.sources[0]
        super().__init__(task=kwargs.pop("task", first), **kwargs)
        self.loop = CurriculumLoop(self, curriculum, curriculum_task_kwargs, tasks={first: self.task})

    @property
    def curriculum(self) -> Curriculum:
        return self.loop.curriculum

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            gym.Env.reset(self, seed=seed)  # seed the generator before the curriculum draws with it
        self.loop.begin(self.np_random)
        obs, info = super().reset(seed=None, options=options)
        info["curriculum"] = self.loop.info()
        return obs, info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = super().step(action)
        # The step limit (``TimeLimit``, outside this env) truncates the episode at this step.
        self.loop.observe(terminated, truncated or self.episode.steps >= self.episode.horizon, info)
        info["curriculum"] = self.loop.info()
        return obs, reward, terminated, truncated, info

    def snapshot(self) -> CurriculumSnapshot:
        """The episode's snapshot plus the curriculum's state: a lookahead that submits leaves no
        trace in the curriculum either."""
        base = super().snapshot()
        return CurriculumSnapshot(base.episode, base.rng_state, base.novelty_entry, curriculum=self.loop.state())

    def restore(self, snap: Snapshot) -> tuple[dict, dict]:
        if not isinstance(snap, CurriculumSnapshot):
            raise TypeError("R1Curriculum-v0 restores snapshots it took itself (CurriculumSnapshot)")
        self.loop.load_state(snap.curriculum)
        obs, info = super().restore(snap)
        if info:
            info["curriculum"] = self.loop.info()
        return obs, info


@dataclass(frozen=True)
class CurriculumSnapshot(Snapshot):
    """A :class:`~r1gym.core.env.Snapshot` with the curriculum loop's state."""

    curriculum: dict[str, Any] = field(default_factory=dict)


class R1PhysicsEnv(ReasoningEnv):
    """``R1Physics-v0``: procedural kinematics, forces, energy and unit-change problems.

    Answers carry units and are checked with ``sympy.physics.units``: an equivalent unit is
    right (90 km/h for 25 m/s), a wrong unit or a missed conversion factor is wrong. See
    :class:`r1gym.tasks.physics.PhysicsTask` and :class:`r1gym.core.env.ReasoningEnv`.
    """

    _default_task = "physics"


class R1CodeEnv(ReasoningEnv):
    """``R1Code-v0``: the 164 HumanEval problems, a program built line by line.

    The candidates are the next line of the reference solution and plausible wrong lines (an
    off-by-one, a wrong operator, a wrong variable, a missing return). On submit the program
    runs against the problem's tests in a sandboxed subprocess; accuracy is whether they pass
    (pass@1). See :class:`r1gym.tasks.code.HumanEvalTask`, ``r1gym.sandbox`` and
    :class:`r1gym.core.env.ReasoningEnv`.
    """

    _default_task = "code"


class R1GSM8KEnv(ReasoningEnv):
    """``R1GSM8K-v0``: GSM8K from a local JSONL file (``data_path=``) or the ``datasets`` library.

    The ``<<a*b=c>>`` annotations of the solutions give re-derivable steps, so distractors and
    the branches after a wrong step are re-derived as in ``R1Math-v0``; lines without annotations
    become plain-text steps. Nothing of GSM8K ships with r1gym. See
    :class:`r1gym.tasks.gsm8k.GSM8KTask` and :class:`r1gym.core.env.ReasoningEnv`.

    Args:
        data_path: a GSM8K JSONL file (``{"question", "answer"}`` per line).
        split: the ``datasets`` split when no path is given.
        **kwargs: as :class:`r1gym.core.env.ReasoningEnv`.
    """

    _default_task = "gsm8k"

    def __init__(self, data_path: str | None = None, split: str = "train", **kwargs: Any) -> None:
        task_kwargs = dict(kwargs.pop("task_kwargs", None) or {})
        task_kwargs.setdefault("data_path", data_path)
        task_kwargs.setdefault("split", split)
        super().__init__(task_kwargs=task_kwargs, **kwargs)


class R1OpenEnv(ReasoningEnv):
    """``R1Open-v0``: any reasoning-gym family (``task="reasoning_gym:<family>"``), in write mode.

    reasoning-gym (the optional extra ``open``) generates the problems and scores the submitted
    answer with the family's own ``score_answer`` (1.0 is correct). r1gym has no program for these
    problems, so the agent writes its own steps, backtracks and submits; steps are judged
    ``neutral`` and the outcome reward carries the episode. The reference solution is the one step
    ``The answer is <answer>.``, which the oracle writes. See :mod:`r1gym.tasks.reasoning_gym` and
    ``docs/open.md``.

    Defaults that differ from :class:`r1gym.core.env.ReasoningEnv`: ``task`` is
    ``"reasoning_gym:basic_arithmetic"``, ``action_mode="write"``, ``num_candidates=0`` in write
    mode (no candidate steps to show), ``judge="none"`` and ``partial_credit=0.0`` (reasoning-gym's
    scores below 1 are often format credit; pass ``partial_credit > 0`` to pay ``partial_credit *
    score``). ``action_mode="menu"`` works too: the candidates are the reference answer and
    numeric perturbations of it.
    """

    _default_task = "reasoning_gym:basic_arithmetic"

    def __init__(
        self,
        *,
        action_mode: str = "write",
        num_candidates: int | None = None,
        judge: Any = "none",
        partial_credit: float = 0.0,
        **kwargs: Any,
    ) -> None:
        if num_candidates is None and action_mode == "write":
            num_candidates = 0
        super().__init__(
            action_mode=action_mode, num_candidates=num_candidates, judge=judge, partial_credit=partial_credit, **kwargs
        )
