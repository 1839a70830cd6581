"""Every id passes Gymnasium's and SB3's checkers, vectorizes, and pickles."""

from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from helpers import ENV_IDS


@pytest.mark.parametrize("obs_mode", ["vector", "text"])
def test_gymnasium_check_env(env_id: str, obs_mode: str) -> None:
    env = gym.make(env_id, obs_mode=obs_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=False)


def test_gymnasium_check_env_with_render(env_id: str) -> None:
    env = gym.make(env_id, render_mode="ansi")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    env.reset(seed=0)
    text = env.render()
    assert "Question:" in text and "submit" in text


def test_sb3_check_env_no_warnings(env_id: str) -> None:
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(env, warn=True)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_make_vec(env_id: str, mode: str) -> None:
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode=mode)
    try:
        obs, info = envs.reset(seed=3)
        assert obs["candidates"].shape[0] == 2
        for _ in range(30):
            masks = obs["action_mask"].astype(bool)
            actions = np.array([np.flatnonzero(m)[0] for m in masks])  # always a valid action
            obs, r, term, trunc, info = envs.step(actions)
            assert envs.observation_space.contains(obs)
    finally:
        envs.close()


def test_make_vec_text_mode_sync(env_id: str) -> None:
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode="sync", obs_mode="text")
    obs, _ = envs.reset(seed=1)
    assert isinstance(obs["context"][0], str)
    envs.close()


def test_pickle_round_trip_mid_episode(env_id: str) -> None:
    env = gym.make(env_id)
    obs, _ = env.reset(seed=5)
    obs, *_ = env.step(0)
    clone = pickle.loads(pickle.dumps(env))
    a = env.step(int(env.unwrapped.SUBMIT))
    b = clone.step(int(clone.unwrapped.SUBMIT))
    assert a[1] == b[1] and a[4]["answer"] == b[4]["answer"]
    for key in a[0]:
        np.testing.assert_array_equal(a[0][key], b[0][key])


def test_make_with_module_prefix() -> None:
    env = gym.make("r1gym:R1Math-v0")
    env.reset(seed=0)
    assert env.spec.max_episode_steps == 40


def test_all_ids_listed() -> None:
    import r1gym

    assert {
        "R1Arith-v0",
        "R1Algebra-v0",
        "R1Math-v0",
        "R1Physics-v0",
        "R1Code-v0",
        "R1GSM8K-v0",
        "R1Curriculum-v0",
    } <= set(ENV_IDS)
    for env_id in ENV_IDS:
        assert env_id in gym.registry
    assert r1gym.MAX_EPISODE_STEPS == 40


def test_async_matches_sync_across_processes(env_id: str) -> None:
    """Worker processes produce the same bytes as the parent: no per-process hash salt."""
    outs = []
    for mode in ("sync", "async"):
        envs = gym.make_vec(env_id, num_envs=2, vectorization_mode=mode)
        obs, _ = envs.reset(seed=123)
        trace = [obs]
        for _ in range(6):
            actions = np.array([np.flatnonzero(m)[0] for m in obs["action_mask"]])
            obs, *_ = envs.step(actions)
            trace.append(obs)
        envs.close()
        outs.append(trace)
    for a, b in zip(*outs):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


def test_make_vec_text_mode_async() -> None:
    envs = gym.make_vec("R1Math-v0", num_envs=2, vectorization_mode="async", obs_mode="text")
    obs, _ = envs.reset(seed=1)
    assert all(isinstance(c, str) and c for c in obs["context"])
    envs.close()


@pytest.mark.filterwarnings("ignore:.*render_mode")  # gymnasium warns before SB3 retries
def test_sb3_make_vec_env_works() -> None:
    """SB3 asks for render_mode="rgb_array" (drawn with Pillow; where Pillow is missing, refused
    with a TypeError, on which SB3 retries without it)."""
    from stable_baselines3.common.env_util import make_vec_env

    venv = make_vec_env("R1Math-v0", n_envs=2, seed=0)
    obs = venv.reset()
    assert obs["action_mask"].shape == (2, 6)
    venv.close()
