"""The edges of the reward formula (docs/reward.md)."""

from __future__ import annotations

import math

import gymnasium as gym
import pytest

from r1gym.baselines import GreedyAgent
from r1gym.core.reward import NoveltyMemory, RewardTerms, accuracy_term, combine, efficiency_term, path_key
from r1gym.evaluation import evaluate

W = (0.6, 0.3, 0.1)


def test_efficiency_is_finite_and_one_for_a_single_step() -> None:
    assert efficiency_term(1) == 1.0
    assert efficiency_term(3) == pytest.approx(0.5)
    values = [efficiency_term(n) for n in range(1, 200)]
    assert all(0 < v <= 1 and math.isfinite(v) for v in values)
    assert values == sorted(values, reverse=True)
    assert efficiency_term(0) == 1.0  # clamped: never infinite


def test_accuracy_edges() -> None:
    assert accuracy_term("42", "42") == (1.0, True)
    assert accuracy_term("42.0", "42") == (1.0, True)
    assert accuracy_term("", "42") == (0.0, False)
    near, ok = accuracy_term("43", "42")
    assert not ok and 0 < near <= 0.5  # a wrong answer never earns more than partial_credit
    far, _ = accuracy_term("98765", "42")
    assert far < near
    assert accuracy_term("43", "42", partial_credit=0.0) == (0.0, False)


def test_gated_empty_submit_pays_nothing_additive_pays_efficiency() -> None:
    terms = RewardTerms(accuracy=0.0, efficiency=1.0, novelty=1.0)
    assert combine(terms, W, "gated") == 0.0
    assert combine(terms, W, "additive") == pytest.approx(0.4)


def test_correct_in_few_steps_beats_correct_in_many() -> None:
    few = combine(RewardTerms(1.0, efficiency_term(3), 1.0), W, "gated")
    many = combine(RewardTerms(1.0, efficiency_term(20), 1.0), W, "gated")
    assert few > many > 0.6


def test_weights_are_relative() -> None:
    t = RewardTerms(1.0, 0.5, 1.0)
    assert combine(t, (6, 3, 1), "gated") == pytest.approx(combine(t, W, "gated"))
    assert combine(RewardTerms(1, 1, 1), W, "gated") == pytest.approx(1.0)


def test_novelty_highest_for_a_new_path_and_memory_is_bounded() -> None:
    mem = NoveltyMemory(max_problems=2, max_paths=2)
    k1, k2, k3 = path_key(("a",)), path_key(("b",)), path_key(("c",))
    assert mem.novelty("p", k1) == 1.0
    mem.record("p", k1)
    assert mem.novelty("p", k1) == pytest.approx(1 / math.sqrt(2))
    assert mem.novelty("p", k2) == 1.0 and mem.novelty("q", k1) == 1.0
    mem.record("p", k2)
    mem.record("p", k3)  # evicts k1, the least recently submitted path
    assert mem.count("p", k1) == 0 and mem.count("p", k3) == 1
    mem.record("q", k1)
    mem.record("r", k1)  # evicts problem p
    assert len(mem) == 2 and mem.count("p", k3) == 0


def test_env_reports_terms_and_repeat_path_loses_novelty() -> None:
    env = gym.make("R1Arith-v0", reveal=True)
    rewards = []
    for _ in range(2):
        _, info = env.reset(options={"problem_index": 3}, seed=0)
        while True:
            _, r, term, _, info = env.step(info["oracle_action"])
            if term:
                break
        rewards.append(r)
        assert set(info["reward_terms"]) == {"accuracy", "efficiency", "novelty"}
        assert all(0 <= v <= 1 for v in info["reward_terms"].values())
    assert info["reward_terms"]["novelty"] < 1.0 and rewards[1] < rewards[0]


def test_submit_at_once_earns_far_less_than_greedy() -> None:
    class SubmitAtOnce:
        name = "submit-at-once"

        def act(self, obs, info):
            return len(obs["action_mask"]) - 1

    for mode, factor in (("gated", 0.1), ("additive", None)):
        lazy = evaluate(SubmitAtOnce(), "R1Math-v0", episodes=200, seed=0, reward_mode=mode)
        greedy = evaluate(GreedyAgent(), "R1Math-v0", episodes=200, seed=0, reward_mode=mode)
        if mode == "gated":
            assert lazy.mean_reward == 0.0 and lazy.mean_reward < factor * greedy.mean_reward
        else:
            # The literal formula pays 0.4 for nothing: close to what honest reasoning earns.
            assert lazy.mean_reward == pytest.approx(0.4) and lazy.mean_reward > 0.6 * greedy.mean_reward


def test_partial_credit_by_domain() -> None:
    from r1gym.core.problem import Problem
    from r1gym.core.verify import get_similarity, program_similarity, text_similarity

    physics = Problem("q", ("s",), "25 m/s", "physics", verifier="units")
    close = get_similarity(physics)
    assert close("25 m", "25 m/s", physics) == 0.0  # a wrong dimension earns nothing
    assert close("25", "25 m/s", physics) == 0.0  # nor a missing unit
    assert close("25 km/h", "25 m/s", physics) < text_similarity("25 km/h", "25 m/s")
    assert close("26 m/s", "25 m/s", physics) == pytest.approx(0.5)
    code = Problem(
        "def f():\n",
        ("    x = 1", "    return x"),
        "def f():\n    x = 1\n    return x\n",
        "code",
        answer_mode="program",
        meta={"prefix": "def f():\n"},
    )
    assert get_similarity(code) is program_similarity
    assert program_similarity("def f():\n", code.answer, code) == 0.0  # the bare prompt earns nothing
    assert program_similarity("def f():\n    x = 1\n    return 2\n", code.answer, code) == pytest.approx(0.5)
    assert accuracy_term("def f():\n", code.answer, 0.5, lambda a, r, p: False, code, program_similarity) == (
        0.0,
        False,
    )
