"""Following oracle_action scores 1.0: every generated reference solution verifies."""

from __future__ import annotations

import gymnasium as gym
import pytest

from r1gym.baselines import OracleAgent
from r1gym.evaluation import evaluate


def test_oracle_scores_one_on_1000_episodes(env_id: str) -> None:
    report = evaluate(OracleAgent(), env_id, episodes=1000, seed=2024)
    assert report.accuracy == 1.0
    assert report.left_path_rate == 0.0


@pytest.mark.parametrize("difficulty", ["easy", "hard"])
def test_oracle_scores_one_at_every_difficulty(env_id: str, difficulty: str) -> None:
    assert evaluate(OracleAgent(), env_id, episodes=200, seed=1, difficulty=difficulty).accuracy == 1.0


def test_reveal_in_reset_and_every_step(env_id: str) -> None:
    env = gym.make(env_id, reveal=True)
    obs, info = env.reset(seed=0)
    assert info["on_path"] is True and "oracle_action" in info and info["left_path"] is False
    obs, r, term, trunc, info = env.step(info["oracle_action"])
    assert {"on_path", "oracle_action", "left_path"} <= set(info)


def test_no_reveal_by_default(env_id: str) -> None:
    env = gym.make(env_id)
    _, info = env.reset(seed=0)
    assert not {"on_path", "oracle_action", "left_path"} & set(info)


def test_oracle_backtracks_after_a_wrong_step(env_id: str) -> None:
    env = gym.make(env_id, reveal=True)
    _, info = env.reset(seed=3)
    wrong = next(i for i in env.unwrapped.valid_actions() if i not in (info["oracle_action"], env.unwrapped.SUBMIT))
    _, _, _, _, info = env.step(wrong)
    assert info["on_path"] is False and info["left_path"] is True
    assert info["oracle_action"] == env.unwrapped.BACKTRACK
