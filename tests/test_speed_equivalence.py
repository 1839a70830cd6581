"""The speed work of issue 15 changes no episode: seeded random play hashes to the digests recorded
before it (commit e7d47f2), observations, rewards and infos included, and so do the problems the
procedural tasks generate.

A change that is meant to change episodes (a new distractor, another generator) changes these
digests: re-record them with ``python tests/test_speed_equivalence.py`` and say so in the commit.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import r1gym  # noqa: F401  (registers the ids)
from r1gym.core.protocols import make_task

STEPS = 600

#: (id, keyword arguments) -> sha256 of 600 steps of seeded random play
PLAY_DIGESTS: dict[tuple[str, str], str] = {
    ("R1Math-v0", "{}"): "47a8e8c26c2364990e18f440042d0750c7df5b238c70350f5ffaa0f997cdca6d",
    ("R1Arith-v0", "{}"): "379eccf39a6e149c03b491b935be42f69a969df09170179da1d68e495ff62652",
    ("R1Algebra-v0", "{}"): "d53193d1067855fcb00e04712c87b8b1a46fda094fcca7c3d99c7f9a5df30e9e",
    ("R1Math-v0", '{"obs_mode": "text"}'): "912d8a4febbefa6736d399d707f8bb82c8bc4d6ba11fb749a464342079fe1c76",
    ("R1Math-v0", '{"reveal": true, "step_labels": true}'): (
        "7d1bef72df3bb56ff12006716e80dbbe36b4298eb2b183e273d5bc56652682bb"
    ),
    ("R1Math-v0", '{"difficulty": "hard"}'): "7a91a9faf2a4a07b8b9113e2d7c7cd9b056e3092c5e3af46a39383339ba610e2",
    ("R1Arith-v0", '{"difficulty": "easy", "embed_dim": 32}'): (
        "ce32c2568d1a9d53eae88e6712bf08e81da9af2cea29b3beae1fa0e86692e996"
    ),
    ("R1Physics-v0", "{}"): "233be837f46e187a810a755d0622c83a9739e7dc4a5aa5a9534b16459e5875fc",
    ("R1Curriculum-v0", "{}"): "1dac4f152b6b2c4f421546673d612787b6f033a2a6f05536d28cda2fed27e206",
    ("R1Math-v0", '{"action_mode": "write"}'): "5ade5069794469cad752365bbe6749107cff4be14da092f452f36a8dc5c5b3d1",
}

#: task name -> sha256 of problems 0..299 and two large indices
TASK_DIGESTS: dict[str, str] = {
    "word": "1e29c6402ece0c8298d27047af7b3014abdf8621edd7b71954e108b3346222f5",
    "arithmetic": "154860e33e2ca0418f0149598aaba4264c991a3a4eed7e401329f64f6877bf75",
    "algebra": "4e9d2588f665f1d420507570404a75a468b01461231cf4f0959c45163e5cf5bf",
}


def _feed(h: Any, x: Any) -> None:
    if isinstance(x, dict):
        for k in sorted(x):
            h.update(k.encode())
            _feed(h, x[k])
    elif isinstance(x, np.ndarray):
        h.update(str(x.dtype).encode())
        h.update(x.tobytes())
    elif isinstance(x, (list, tuple)):
        h.update(b"[")
        for y in x:
            _feed(h, y)
        h.update(b"]")
    else:
        h.update(repr(x).encode())


def play_digest(env_id: str, kwargs: dict[str, Any], steps: int = STEPS) -> str:
    """sha256 of a seeded random play: every observation, reward and info, resets included."""
    env = gym.make(env_id, **kwargs)
    h = hashlib.sha256()
    rng = np.random.default_rng(123)
    obs, info = env.reset(seed=7)
    _feed(h, obs)
    _feed(h, info)
    write = kwargs.get("action_mode") == "write"
    for _ in range(steps):
        if write:
            u = rng.random()
            if u < 0.1:
                a: Any = "<submit>"
            elif u < 0.25:
                a = "<backtrack>"
            elif u < 0.9:
                a = f"<expand_{int(rng.integers(4))}>"
            else:
                a = "I think 12 + 3 = 15."
        else:
            a = int(rng.choice(np.flatnonzero(env.unwrapped.action_masks())))
        obs, r, term, trunc, info = env.step(a)
        _feed(h, obs)
        _feed(h, r)
        _feed(h, info)
        if term or trunc:
            obs, info = env.reset()
            _feed(h, obs)
            _feed(h, info)
    return h.hexdigest()


def task_digest(name: str) -> str:
    task = make_task(name)
    h = hashlib.sha256()
    for i in [*range(300), 2**61 + 5, 12345678901]:
        p = task.problem(i)
        _feed(h, (p.question, p.steps, p.answer, p.uid, p.difficulty, dict(p.meta)))
    return h.hexdigest()


@pytest.mark.parametrize(("env_id", "kwargs"), sorted(PLAY_DIGESTS))
def test_seeded_play_is_unchanged(env_id: str, kwargs: str) -> None:
    assert play_digest(env_id, json.loads(kwargs)) == PLAY_DIGESTS[(env_id, kwargs)]


@pytest.mark.parametrize("name", sorted(TASK_DIGESTS))
def test_generated_problems_are_unchanged(name: str) -> None:
    assert task_digest(name) == TASK_DIGESTS[name]


if __name__ == "__main__":  # re-record (after a change meant to change episodes)
    for (env_id, kwargs), _ in sorted(PLAY_DIGESTS.items()):
        print(f'("{env_id}", {kwargs!r}): "{play_digest(env_id, json.loads(kwargs))}",')
    for name in sorted(TASK_DIGESTS):
        print(f'"{name}": "{task_digest(name)}",')
