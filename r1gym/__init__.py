"""r1gym: step-by-step reasoning as a reinforcement-learning problem, after the DeepSeek-R1 report.

Importing r1gym registers the environments::

    import gymnasium as gym, r1gym
    env = gym.make("R1Math-v0")
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

__version__ = "0.1.0"

#: id -> (entry point, one-line description); the step limit is the same for all.
ENV_IDS: dict[str, tuple[str, str]] = {
    "R1Arith-v0": ("r1gym.envs:R1ArithEnv", "arithmetic chains, one operation a step (curriculum stage 1)"),
    "R1Algebra-v0": ("r1gym.envs:R1AlgebraEnv", "linear equations in x, solved step by step, checked with sympy"),
    "R1Math-v0": ("r1gym.envs:R1MathEnv", "GSM8K-style multi-step word problems from templates (the flagship)"),
    "R1Physics-v0": ("r1gym.envs:R1PhysicsEnv", "kinematics, forces, energy and unit changes, answers checked with sympy units"),
    "R1Code-v0": ("r1gym.envs:R1CodeEnv", "HumanEval (164 problems) built line by line, judged by its tests in a sandbox"),
    "R1Curriculum-v0": ("r1gym.envs:R1CurriculumEnv", "the report's stages: arithmetic -> physics and code -> word problems"),
    "R1GSM8K-v0": ("r1gym.envs:R1GSM8KEnv", "GSM8K from a local JSONL (data_path= or R1GYM_GSM8K_PATH); steps from its annotations"),
}
MAX_EPISODE_STEPS = 40

for _id, (_entry, _doc) in ENV_IDS.items():
    if _id not in registry:
        register(id=_id, entry_point=_entry, max_episode_steps=MAX_EPISODE_STEPS)

from r1gym.core.env import ReasoningEnv, Snapshot
from r1gym.core.problem import Problem
from r1gym import pareto, replay  # the contract's r1gym.pareto.* and r1gym.replay.* (numpy only)
from r1gym.evaluation import EvalReport, evaluate

__all__ = [
    "ENV_IDS",
    "MAX_EPISODE_STEPS",
    "EvalReport",
    "Problem",
    "ReasoningEnv",
    "Snapshot",
    "__version__",
    "evaluate",
    "pareto",
    "replay",
]
