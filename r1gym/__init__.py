"""r1gym: step-by-step reasoning as a reinforcement-learning problem, after the DeepSeek-R1 report.

Importing r1gym registers the environments::

    import gymnasium as gym, r1gym
    env = gym.make("R1Math-v0")

The package is built in layers (docs/architecture.md): ``core`` (the MDP and the interfaces) at
the bottom; tasks, proposers, embedders, replay and the sandbox on it; wrappers, baselines and
the LLM policy above; evaluation, then the agent specs, the training plumbing and the command
line on top. A module imports only from its own layer or below (tests/test_layers.py checks it).
"""

from __future__ import annotations

from r1gym._version import __version__
from r1gym.envs import ENV_IDS, MAX_EPISODE_STEPS, register_envs

register_envs()

# The plug-ins register their names in core's registries (tasks, proposers, embedders, and the
# operations, verifiers and distractor families their problems name): core never imports them.
from r1gym import (  # noqa: F401  # the contract's r1gym.pareto.* and r1gym.replay.* (numpy only)
    embed,
    judge,
    pareto,
    proposers,
    replay,
    tasks,
)
from r1gym.core.env import ReasoningEnv, Snapshot
from r1gym.core.problem import Problem
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
