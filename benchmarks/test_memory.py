"""Bounded memory: one environment's resident memory (RSS) after a long run of random play.

Each case plays random valid actions (uniform over ``action_masks()``), resetting at every
episode end, and reads the process's resident memory (``VmRSS``) after a warm-up and again
after N more steps; the growth is printed per id at the end of the run.

* Full size (the figure in docs/speed.md)::

      pytest benchmarks/test_memory.py --benchmark-enable --memory-steps 1000000 -s

  (or ``R1GYM_MEMORY_STEPS=1000000``). The warm-up is then 10,000 steps and each case asserts
  that the growth is at most 50 MB. Run one case at a time (``-k``) for a figure that no earlier
  case's memory blurs: the caches are module-level and shared by all the envs of a process.
* Normal run (no option): a smoke test of 300 + 1,000 steps a case that prints the growth and
  asserts nothing about it. A regression (a new unbounded cache) is caught in the normal run by
  ``tests/test_caches.py``, which checks that every cache the package keeps has a finite bound.

``R1Code-v0`` runs the sandbox at every submit (tens of milliseconds a program): its steps are
capped at :data:`CODE_MAX_STEPS` even at full size. ``R1GSM8K-v0`` needs ``R1GYM_GSM8K_PATH``;
``R1Open-v0`` needs reasoning-gym (the extra ``open``).
"""

from __future__ import annotations

import gc
import os
import random

import gymnasium as gym
import numpy as np
import pytest

import r1gym

FULL_WARMUP = 10_000
SMOKE_WARMUP, SMOKE_STEPS = 300, 1_000
MAX_GROWTH_MB = 50.0
#: R1Code-v0's sandbox runs a program at every submit: its steps are capped at this many.
CODE_MAX_STEPS = 20_000

#: (id, make kwargs, label): every registered id in its default (vector) mode, and R1Math-v0 in text mode
#: too, where step labels are on by default (the judge's caches).
CASES = [(env_id, {}, env_id) for env_id in r1gym.ENV_IDS] + [("R1Math-v0", {"obs_mode": "text"}, "R1Math-v0 text")]


def rss_mb() -> float:
    """This process's resident memory in MB (VmRSS from /proc, or psutil)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def memory_steps(config) -> int | None:
    """N from ``--memory-steps`` or ``R1GYM_MEMORY_STEPS``; None in the normal run."""
    n = config.getoption("--memory-steps", default=None) or os.environ.get("R1GYM_MEMORY_STEPS")
    return int(n) if n else None


def written_step(rng: random.Random) -> str:
    """A random written step for write mode."""
    a, b = rng.randint(0, 999), rng.randint(1, 99)
    return rng.choice([f"{a} + {b} = {a + b}", f"{a} * {b} = {a * b}", f"x = {a}", f"The answer is {a}."])


def play(env, n: int, rng: random.Random, write: bool) -> int:
    """``n`` random valid actions, resetting at episode ends; returns the number of episodes finished."""
    base = env.unwrapped
    episodes = 0
    for _ in range(n):
        valid = np.flatnonzero(base.action_masks())
        if write:  # a mix of written steps and the tokens; the steps most often
            r = rng.random()
            if r < 0.6:
                action = written_step(rng)
            elif r < 0.8 and base.BACKTRACK in valid:
                action = "<backtrack>"
            elif r < 0.9:
                action = "<submit>"
            else:
                action = written_step(rng)
        else:
            action = int(valid[rng.randrange(len(valid))])
        _, _, term, trunc, _ = env.step(action)
        if term or trunc:
            episodes += 1
            env.reset()
    return episodes


@pytest.mark.parametrize(("env_id", "kwargs", "label"), CASES, ids=[c[2] for c in CASES])
def test_memory_growth(request, env_id: str, kwargs: dict, label: str) -> None:
    if env_id == "R1GSM8K-v0" and not os.environ.get("R1GYM_GSM8K_PATH"):
        pytest.skip("R1GSM8K-v0 needs a GSM8K JSONL in R1GYM_GSM8K_PATH")
    if env_id == "R1Open-v0":
        pytest.importorskip("reasoning_gym", reason="R1Open-v0 needs reasoning-gym (the extra 'open')")
    n = memory_steps(request.config)
    full = n is not None
    warmup, steps = (FULL_WARMUP, n) if full else (SMOKE_WARMUP, SMOKE_STEPS)
    capped = env_id == "R1Code-v0" and steps > CODE_MAX_STEPS
    if capped:
        steps = CODE_MAX_STEPS
    env = gym.make(env_id, **kwargs)
    env.reset(seed=0)
    write = env.unwrapped.action_mode == "write"
    rng = random.Random(0)
    play(env, warmup, rng, write)
    gc.collect()
    before = rss_mb()
    episodes = play(env, steps, rng, write)
    gc.collect()
    after = rss_mb()
    env.close()
    growth = after - before
    line = (
        f"{label:16s} RSS after {warmup:,} steps {before:8.1f} MB, after {warmup + steps:,} steps "
        f"{after:8.1f} MB, growth {growth:+7.1f} MB ({episodes:,} episodes{', steps capped' if capped else ''})"
    )
    request.node.user_properties.append(("memory", line))
    print(line)
    if full:
        assert growth <= MAX_GROWTH_MB, line
