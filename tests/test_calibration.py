"""The presets are calibrated by measurement (docs/calibration.md): greedy is clearly imperfect,
backtracking on flat confidence is clearly better, and the difficulty moves both."""

from __future__ import annotations

import pytest

from r1gym.baselines import BacktrackAgent, GreedyAgent, RandomAgent
from r1gym.evaluation import evaluate

N = 1000


@pytest.fixture(scope="module")
def math_table() -> dict[tuple[str, str], object]:
    out = {}
    for difficulty in ("easy", "medium", "hard"):
        for agent in (GreedyAgent(), BacktrackAgent()):
            out[(difficulty, agent.name)] = evaluate(agent, "R1Math-v0", episodes=N, seed=1000, difficulty=difficulty)
    return out


@pytest.mark.slow
def test_medium_greedy_is_clearly_imperfect(math_table) -> None:
    assert 0.35 <= math_table[("medium", "greedy")].accuracy <= 0.6


@pytest.mark.slow
def test_medium_backtracking_beats_greedy(math_table) -> None:
    g, b = math_table[("medium", "greedy")], math_table[("medium", "backtrack")]
    assert b.accuracy >= g.accuracy + 0.1
    assert b.accuracy_ci[0] > g.accuracy_ci[1]  # the 95% intervals do not overlap
    assert g.error_recovery < 0.05 and b.error_recovery > 0.25


@pytest.mark.slow
def test_difficulty_moves_both(math_table) -> None:
    for agent in ("greedy", "backtrack"):
        acc = [math_table[(d, agent)].accuracy for d in ("easy", "medium", "hard")]
        assert acc[0] > acc[1] + 0.1 and acc[1] > acc[2] + 0.1, (agent, acc)


@pytest.mark.slow
def test_random_is_the_floor() -> None:
    r = evaluate(RandomAgent(0), "R1Math-v0", episodes=300, seed=1000)
    g = evaluate(GreedyAgent(), "R1Math-v0", episodes=300, seed=1000)
    assert r.accuracy < 0.1 < g.accuracy
