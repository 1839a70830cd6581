"""Shared fixtures: every registered id, and a helper to play an episode."""

from __future__ import annotations

import gymnasium as gym
import pytest

import r1gym

ENV_IDS = list(r1gym.ENV_IDS)


@pytest.fixture(params=ENV_IDS)
def env_id(request: pytest.FixtureRequest) -> str:
    return request.param


def play(env: gym.Env, policy, seed: int | None = None, options=None):
    """Run one episode; returns (observations, rewards, infos, terminated, truncated)."""
    obs, info = env.reset(seed=seed, options=options)
    observations, rewards, infos = [obs], [], [info]
    while True:
        obs, r, term, trunc, info = env.step(policy(obs, info))
        observations.append(obs)
        rewards.append(r)
        infos.append(info)
        if term or trunc:
            return observations, rewards, infos, term, trunc
