"""Helpers shared by the tests (imported as ``helpers``; conftest.py holds only fixtures)."""

from __future__ import annotations

import gymnasium as gym

import r1gym

ENV_IDS = list(r1gym.ENV_IDS)


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
