"""SB3VecEnv: SB3's VecEnv API over gym.make_vec, checked against SB3's own DummyVecEnv."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv

import r1gym  # noqa: F401  (registers the ids)
from r1gym.wrappers.sb3_vec import SB3VecEnv

ENV_ID = "R1Arith-v0"
N = 2


def _actions(rng: np.random.Generator, submit: int) -> np.ndarray:
    """Mostly expand / backtrack, rarely submit: episodes end both ways (terminated, and truncated at 40)."""
    return np.where(rng.random(N) < 0.03, submit, rng.integers(0, submit, N))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
        )
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _check_step(venv: SB3VecEnv, obs, rewards, dones, infos) -> None:
    """The shapes and types SB3's algorithms rely on."""
    assert isinstance(obs, dict) and obs.keys() == venv.observation_space.spaces.keys()
    for i in range(N):
        assert venv.observation_space.contains({k: v[i] for k, v in obs.items()})
    assert rewards.shape == (N,) and rewards.dtype == np.float32
    assert dones.shape == (N,) and dones.dtype == np.bool_
    assert isinstance(infos, list) and len(infos) == N and all(isinstance(info, dict) for info in infos)


@pytest.fixture
def sync_env():
    env = SB3VecEnv.make(ENV_ID, N, "sync")
    yield env
    env.close()


def test_same_as_dummy_vec_env(sync_env: SB3VecEnv) -> None:
    dummy = DummyVecEnv([lambda: gym.make(ENV_ID) for _ in range(N)])
    submit = dummy.envs[0].unwrapped.SUBMIT
    dummy.seed(7)
    sync_env.seed(7)
    assert _same(sync_env.reset(), dummy.reset())
    assert _same(sync_env.reset_infos, dummy.reset_infos)
    rng = np.random.default_rng(0)
    ended = truncated = 0
    for _ in range(300):
        actions = _actions(rng, submit)
        ours = sync_env.step(actions)
        theirs = dummy.step(actions)
        _check_step(sync_env, *ours)
        for x, y in zip(ours, theirs):
            assert _same(x, y)
        assert _same(sync_env.reset_infos, dummy.reset_infos)
        for done, info in zip(ours[2], ours[3]):
            assert ("terminal_observation" in info) == done
            ended += done
            truncated += info["TimeLimit.truncated"]
    dummy.close()
    assert ended >= 10 and 0 < truncated < ended  # both ways of ending were compared


def test_async_same_as_sync(sync_env: SB3VecEnv) -> None:
    async_env = SB3VecEnv.make(ENV_ID, N, "async")
    try:
        submit = sync_env.get_attr("SUBMIT")[0]
        sync_env.seed(3)
        async_env.seed(3)
        assert _same(async_env.reset(), sync_env.reset())
        rng = np.random.default_rng(1)
        ended = 0
        for _ in range(100):
            actions = _actions(rng, submit)
            ours = async_env.step(actions)
            _check_step(async_env, *ours)
            for x, y in zip(ours, sync_env.step(actions)):
                assert _same(x, y)
            ended += int(ours[2].sum())
        assert ended > 0
        # a missing attribute must not shut a worker down (has_attr goes through has_wrapper_attr)
        assert not async_env.has_attr("no_such_attribute")
        assert async_env.has_attr("action_masks")
        assert async_env.env_is_wrapped(gym.wrappers.TimeLimit) == [False, False]  # documented: cannot look
        async_env.step(np.zeros(N, dtype=np.int64))
    finally:
        async_env.close()


def test_attributes_and_methods(sync_env: SB3VecEnv) -> None:
    sync_env.reset()
    assert sync_env.get_attr("spec", indices=1)[0].id == ENV_ID
    assert sync_env.has_attr("action_masks") and not sync_env.has_attr("no_such_attribute")
    masks = sync_env.env_method("action_masks")
    assert len(masks) == N and all(m.shape == (6,) for m in masks)
    sync_env.set_attr("r1gym_test_value", 5)
    assert sync_env.get_attr("r1gym_test_value") == [5, 5]
    assert sync_env.env_is_wrapped(gym.wrappers.TimeLimit) == [True, True]
    with pytest.raises(NotImplementedError, match="every copy"):
        sync_env.env_method("action_masks", indices=[0])
    with pytest.raises(NotImplementedError, match="every copy"):
        sync_env.set_attr("r1gym_test_value", 1, indices=0)


def test_reset_options(sync_env: SB3VecEnv) -> None:
    sync_env.set_options({"problem_index": 11})
    sync_env.reset()
    assert [info["problem_index"] for info in sync_env.reset_infos] == [11, 11]
    sync_env.set_options([{"problem_index": 1}, {"problem_index": 2}])
    with pytest.raises(NotImplementedError, match="one options dict"):
        sync_env.reset()


def test_refuses_next_step_autoreset() -> None:
    venv = gym.make_vec(ENV_ID, num_envs=1, vectorization_mode="sync")
    with pytest.raises(ValueError, match="SAME_STEP"):
        SB3VecEnv(venv)
    venv.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_ppo_learns(mode: str) -> None:
    env = SB3VecEnv.make(ENV_ID, N, mode)
    try:
        model = PPO("MultiInputPolicy", env, n_steps=32, batch_size=32, n_epochs=1, device="cpu", seed=0)
        model.learn(64)
        assert model.num_timesteps == 64
    finally:
        env.close()
