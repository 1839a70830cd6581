"""Speed of the core environment, each as a ratio to one Gymnasium CartPole-v1 step.

Run: pytest benchmarks --benchmark-enable --benchmark-only
(In the normal test run, --benchmark-disable runs each body once as a smoke test.)

Every environment is built with gym.make, so both sides pay the same wrappers
(OrderEnforcing, PassiveEnvChecker, TimeLimit). benchmarks/conftest.py prints every row as a ratio
to ``test_cartpole_step`` (median / median, same run) at the end of the run.

Issue 15's goals (at least / goal): a step to a new node in vector mode (``test_step_vector``, each
id) 10x / 5x; an R1Math-v0 reset (``test_reset``) 10x / 5x. docs/speed.md has the figures, before
and after, and why they are not met.
"""

from __future__ import annotations

import gymnasium as gym
import pytest

import r1gym  # noqa: F401  (registers the ids)


def test_cartpole_step(benchmark, cartpole_step) -> None:
    benchmark(cartpole_step)


def _walk_to_complete(env) -> None:
    """Follow the oracle to a complete node (setup for the submit benchmark)."""
    _, info = env.reset()
    while info["oracle_action"] != env.unwrapped.SUBMIT:
        _, _, _, _, info = env.step(info["oracle_action"])


@pytest.mark.parametrize("env_id", ["R1Math-v0", "R1Arith-v0", "R1Algebra-v0"])
def test_step_vector(benchmark, env_id: str) -> None:
    """One expand to a node never visited before: candidates, confidences, embeddings."""
    env = gym.make(env_id)
    env.reset(seed=0)

    def setup():
        env.reset()
        return (), {}

    benchmark.pedantic(lambda: env.step(0), setup=setup, rounds=2000, iterations=1, warmup_rounds=20)


def revisit_stepper(env):
    """A step function that alternates backtrack and re-expand on nodes visited before."""
    env.reset(seed=0)
    env.step(0)
    k = env.unwrapped.BACKTRACK
    state = {"down": False}

    def step():
        env.step(0 if state["down"] else k)
        state["down"] = not state["down"]

    return step


def test_step_revisit_vector(benchmark) -> None:
    """Backtrack and re-expand: a node visited before costs a dictionary look-up."""
    benchmark(revisit_stepper(gym.make("R1Math-v0")))


@pytest.mark.parametrize("env_id", ["R1Math-v0", "R1Arith-v0", "R1Algebra-v0"])
def test_reset(benchmark, env_id: str) -> None:
    """One reset: problem generation from (seed, index) and the root's candidates."""
    env = gym.make(env_id)
    env.reset(seed=0)
    benchmark(env.reset)


@pytest.mark.parametrize("env_id", ["R1Math-v0", "R1Algebra-v0"])
def test_submit(benchmark, env_id: str) -> None:
    """One submit of a complete path: verification and reward."""
    env = gym.make(env_id, reveal=True)
    env.reset(seed=0)

    def setup():
        _walk_to_complete(env)
        return (), {}

    benchmark.pedantic(lambda: env.step(env.unwrapped.SUBMIT), setup=setup, rounds=1000, iterations=1, warmup_rounds=10)


def test_step_text_mode(benchmark) -> None:
    """A new node in the text mode (step labels on, its default)."""
    env = gym.make("R1Math-v0", obs_mode="text")
    env.reset(seed=0)

    def setup():
        env.reset()
        return (), {}

    benchmark.pedantic(lambda: env.step(0), setup=setup, rounds=2000, iterations=1, warmup_rounds=20)


@pytest.mark.parametrize("env_id", ["R1Math-v0", "R1Arith-v0"])
def test_step_vector_labels(benchmark, env_id: str) -> None:
    """As ``test_step_vector`` with ``step_labels=True`` (off by default in the vector mode): what
    the step judge costs a new node."""
    env = gym.make(env_id, step_labels=True)
    env.reset(seed=0)

    def setup():
        env.reset()
        return (), {}

    benchmark.pedantic(lambda: env.step(0), setup=setup, rounds=2000, iterations=1, warmup_rounds=20)


def test_step_write_mode(benchmark) -> None:
    """Write mode without candidates shown: one written step (the reference's text at the root,
    written out), judged, to a new node."""
    env = gym.make("R1Math-v0", action_mode="write", num_candidates=0, reveal=True)
    state = {"step": ""}

    def setup():
        _, info = env.reset()
        state["step"] = info["oracle_action"] + " "  # not the candidate's exact text: a written node
        return (), {}

    benchmark.pedantic(lambda: env.step(state["step"]), setup=setup, rounds=2000, iterations=1, warmup_rounds=20)
