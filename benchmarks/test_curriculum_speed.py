"""Curriculum overhead per step: the same revisiting step with and without CurriculumWrapper.

The step benchmarked is a backtrack / re-expand pair on a node visited before (about a CartPole
step), so the wrapper's own cost is not hidden behind node generation.
"""

from __future__ import annotations

import gymnasium as gym
import pytest
from test_env_speed import revisit_stepper  # benchmarks/ is on sys.path, as for conftest

import r1gym  # noqa: F401
from r1gym.wrappers import Curriculum, CurriculumWrapper, RewardScheduleWrapper


@pytest.mark.parametrize("wrapper", ["none", "curriculum", "adaptive", "reward-schedule"])
def test_step_overhead(benchmark, wrapper: str) -> None:
    env = gym.make("R1Math-v0")
    if wrapper == "curriculum":
        env = CurriculumWrapper(env, Curriculum(stages=[("w", ["word"])]))
    elif wrapper == "adaptive":
        env = CurriculumWrapper(env, Curriculum(stages=[("w", ["word", "arithmetic"])], mode="adaptive"))
    elif wrapper == "reward-schedule":
        env = RewardScheduleWrapper(env)
    benchmark(revisit_stepper(env))


@pytest.mark.parametrize("wrapper", ["none", "adaptive"])
def test_reset_overhead(benchmark, wrapper: str) -> None:
    env = gym.make("R1Math-v0")
    if wrapper == "adaptive":
        env = CurriculumWrapper(env, Curriculum(stages=[("w", ["word", "arithmetic"])], mode="adaptive"))
    env.reset(seed=0)
    benchmark(env.reset)
