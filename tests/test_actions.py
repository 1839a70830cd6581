"""Bad input: clear errors that change nothing, masked actions, keyword and option checks."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from r1gym.errors import EpisodeOverError, InvalidActionError


def _state(env):
    u = env.unwrapped
    return (u.episode.cur, u.episode.steps, u.episode.backtracks, u.episode.done)


@pytest.mark.parametrize("bad", [-1, 6, 100, 2.5, "0", None, True])
def test_action_outside_space_raises_and_changes_nothing(bad) -> None:
    env = gym.make("R1Math-v0").unwrapped  # K = 4: the space is 0..5
    env.reset(seed=0)
    before = _state(env)
    with pytest.raises(ValueError, match="action"):
        env.step(bad)
    assert _state(env) == before
    env.step(0)  # still usable


def test_numpy_integer_actions_are_accepted() -> None:
    env = gym.make("R1Math-v0")
    env.reset(seed=0)
    *_, info = env.step(np.int64(0))  # expand candidate 0
    assert info["depth"] == 1 and info["path"] == (0,) and not info["invalid_action"]
    *_, info = env.step(np.array(4))  # a 0-d array: backtrack (K = 4)
    assert info["depth"] == 0 and info["backtracks"] == 1 and not info["invalid_action"]


def test_masked_action_is_a_penalized_noop() -> None:
    env = gym.make("R1Math-v0")
    obs, _ = env.reset(seed=0)
    k = env.unwrapped.num_candidates
    assert obs["action_mask"][k] == 0  # no backtrack at the root
    obs2, r, term, trunc, info = env.step(k)
    assert r == pytest.approx(-0.05) and not term and info["invalid_action"] is True
    assert "root" in info["invalid_reason"]
    assert info["steps"] == 1 and info["depth"] == 0
    np.testing.assert_array_equal(obs["candidates"], obs2["candidates"])


def test_masked_action_raises_when_asked() -> None:
    env = gym.make("R1Math-v0", invalid_action="raise")
    env.reset(seed=0)
    before = _state(env)
    with pytest.raises(InvalidActionError, match="masked"):
        env.step(env.unwrapped.BACKTRACK)
    assert _state(env) == before


def test_complete_node_offers_only_backtrack_and_submit() -> None:
    env = gym.make("R1Arith-v0", reveal=True)
    obs, info = env.reset(seed=0)
    while info["oracle_action"] != env.unwrapped.SUBMIT:
        obs, _, _, _, info = env.step(info["oracle_action"])
    k = env.unwrapped.num_candidates
    assert obs["action_mask"].tolist() == [0] * k + [1, 1]
    assert obs["confidence"].sum() == 0 and not obs["candidates"].any()
    assert env.unwrapped.action_masks().dtype == bool


def test_step_after_submit_and_before_reset() -> None:
    env = gym.make("R1Math-v0").unwrapped
    with pytest.raises(EpisodeOverError, match="reset"):
        env.step(0)
    env.reset(seed=0)
    env.step(env.SUBMIT)
    with pytest.raises(EpisodeOverError, match="reset"):
        env.step(0)


def test_context_text_before_reset_is_a_clear_error() -> None:
    env = gym.make("R1Math-v0", obs_mode="text").unwrapped
    with pytest.raises(EpisodeOverError, match=r"call reset\(\) before context_text"):
        env.context_text()
    env.reset(seed=0)
    assert env.context_text() == env.problem.question


def test_unknown_keyword_names_it_and_suggests() -> None:
    with pytest.raises(TypeError, match=r"num_candidate.*Did you mean 'num_candidates'"):
        gym.make("R1Math-v0", num_candidate=3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"obs_mode": "pixels"}, "obs_mode"),
        ({"difficulty": "extreme"}, "difficulty"),
        ({"num_candidates": 1}, "num_candidates"),
        ({"reward_weights": (1, 2)}, "reward_weights"),
        ({"reward_weights": (-1, 0, 0)}, "reward_weights"),
        ({"reward_mode": "mult"}, "reward_mode"),
        ({"invalid_action": "ignore"}, "invalid_action"),
        ({"render_mode": "rgb"}, "render_mode"),
        ({"proposer": "gpt"}, "proposer"),
        ({"embedder": "word2vec"}, "embedder"),
        ({"proposer_kwargs": {"boots": 1.0}}, "boots"),
        ({"task": "chess"}, "chess"),
        ({"partial_credit": 2.0}, "partial_credit"),
    ],
)
@pytest.mark.filterwarnings("ignore:.*render_mode")  # gymnasium's own warning, before ours
def test_bad_arguments_get_clear_errors(kwargs, match) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        gym.make("R1Math-v0", **kwargs)


def test_bad_reset_options() -> None:
    env = gym.make("R1Math-v0")
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"problem_idx": 1})
    with pytest.raises(TypeError, match="problem_index"):
        env.reset(options={"problem_index": "7"})
    with pytest.raises(ValueError, match="problem_index"):
        env.reset(options={"problem_index": -1})


def test_num_candidates_changes_the_spaces() -> None:
    env = gym.make("R1Math-v0", num_candidates=6, embed_dim=32)
    assert env.action_space.n == 8
    obs, _ = env.reset(seed=0)
    assert obs["candidates"].shape == (6 * 32,) and obs["action_mask"].shape == (8,)


def test_truncation_at_step_limit_pays_nothing() -> None:
    env = gym.make("R1Math-v0", max_episode_steps=5)
    obs, _ = env.reset(seed=0)
    total, k = 0.0, env.unwrapped.num_candidates
    for _ in range(5):
        # Expand then backtrack forever: never submits.
        a = 0 if obs["action_mask"][k] == 0 else k
        obs, r, term, trunc, info = env.step(a)
        total += r
    assert trunc and not term and total == 0.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_candidates": "4"}, r"num_candidates must be an integer.*got '4'"),
        ({"num_candidates": 4.5}, r"num_candidates must be an integer"),
        ({"num_candidates": True}, r"num_candidates must be an integer"),
        ({"partial_credit": "x"}, r"partial_credit must be a number in \[0, 1\], got 'x'"),
        ({"partial_credit": None}, r"partial_credit must be a number"),
        ({"partial_credit": float("nan")}, r"partial_credit must lie in \[0, 1\]"),
        ({"invalid_action_penalty": "x"}, r"invalid_action_penalty must be a number"),
        ({"novelty_max_problems": "x"}, r"novelty_max_problems must be an integer"),
        ({"proposer_kwargs": {"boost": "x"}}, r"boost must be a number, got 'x'"),
    ],
)
def test_arguments_of_the_wrong_type_name_the_parameter(kwargs, match) -> None:
    with pytest.raises((TypeError, ValueError), match=match):
        gym.make("R1Math-v0", **kwargs)


def test_numpy_integer_num_candidates_is_accepted() -> None:
    assert gym.make("R1Math-v0", num_candidates=np.int64(5)).action_space.n == 7
