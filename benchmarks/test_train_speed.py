"""Training throughput: environment steps per second under SB3's PPO, R1Math-v0 against CartPole-v1.

Run: pytest benchmarks/test_train_speed.py --benchmark-enable --benchmark-only
(In the normal test run, --benchmark-disable runs each body once, on one rollout, as a smoke test.)

Each environment is vectorized by Gymnasium's ``gym.make_vec`` (``sync`` or ``async``, 1 or 2
copies, autoreset in the same step) and handed to PPO through
:class:`r1gym.wrappers.sb3_vec.SB3VecEnv`. The model is built, and warmed up on one rollout,
outside the timed part; one round is ``model.learn(STEPS, reset_num_timesteps=False)``: the
rollouts (policy forward pass, environment steps) and the PPO updates, as in training.

Both environments train with the same hyperparameters, those of ``agents/ppo.py`` (batch 256,
10 epochs, two hidden layers of 128), on one torch thread, with a rollout of ``ROLLOUT``
transitions however many copies there are, so every configuration does the same gradient work
per environment step. The policies differ only as the observations do: ``MlpPolicy`` on
CartPole's 4 numbers, ``MultiInputPolicy`` on R1Math's dict of 337.

The figure is the time of R1Math-v0 over the time of CartPole-v1 for the same mode and copies
(medians of the same run): the conftest prints it with the other ratios, this module prints the
steps per second, and each benchmark's ``extra_info`` holds ``steps_per_second`` (and, for
R1Math-v0, ``reference`` and ``ratio_to_reference``).

``test_ppo_learn_floor`` is the floor under the R1Math-v0 figure: the same PPO on an environment
with R1Math-v0's spaces, its info dicts and its mean episode length under random actions (6 steps),
whose step computes nothing (it hands back observations and infos recorded from R1Math-v0). Its
ratio to CartPole-v1 is what stable-baselines3's own work on this observation costs, so it bounds
the R1Math-v0 ratio from below whatever the environment's speed.
"""

from __future__ import annotations

import pytest

pytest.importorskip("stable_baselines3")

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO

import r1gym  # noqa: F401  (registers the ids)
from r1gym.wrappers.sb3_vec import SB3VecEnv

ROLLOUT = 1024  # transitions per rollout, over all copies
STEPS = 4 * ROLLOUT  # environment steps per timed round
ROUNDS = 3
REFERENCE_ENV = "CartPole-v1"
ENVS = (REFERENCE_ENV, "R1Math-v0")
CONFIGS = (("sync", 1), ("sync", 2), ("async", 1), ("async", 2))
CASES = [(mode, workers, env_id) for mode, workers in CONFIGS for env_id in ENVS]

FLOOR_ENV = "r1gym-bench/R1MathFloor-v0"
FLOOR_LENGTH = 6  # R1Math-v0's mean episode length under uniformly random actions (20,000 steps, seed 0)
CASES += [(mode, workers, FLOOR_ENV) for mode, workers in CONFIGS if mode == "sync"]  # in-process only
_RESULTS: dict[tuple[str, int, str], tuple[float, int]] = {}  # (mode, workers, env) -> (median s, steps)


class _FloorEnv(gym.Env):
    """R1Math-v0's spaces, observations and infos, recorded once; a step computes nothing."""

    def __init__(self) -> None:
        real = gym.make("R1Math-v0")
        self.observation_space, self.action_space = real.observation_space, real.action_space
        self._reset = real.reset(seed=0)
        obs, _, _, _, self._info = real.step(0)
        self._obs = obs
        while True:  # an info of a last step (reward terms, verdict) for the episode's end
            obs, _, terminated, truncated, info = real.step(real.unwrapped.SUBMIT)
            if terminated or truncated:
                self._last = info
                break
        real.close()
        self._t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._t = 0
        obs, info = self._reset
        return {k: np.copy(v) for k, v in obs.items()}, dict(info)

    def step(self, action):
        self._t += 1
        end = self._t >= FLOOR_LENGTH
        obs = {k: np.copy(v) for k, v in self._obs.items()}
        return obs, 0.0, end, False, dict(self._last if end else self._info)


if FLOOR_ENV not in gym.registry:
    gym.register(FLOOR_ENV, entry_point=_FloorEnv)


def _name(mode: str, workers: int, env_id: str) -> str:
    return f"test_ppo_learn[{mode}-{workers}-{env_id}]"


class _Report:
    """A plugin registered during the run: the steps per second of every configuration."""

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not _RESULTS:
            return
        terminalreporter.section("PPO training throughput, environment steps/s (median round, same run)")
        terminalreporter.write_line(
            f"{'mode':6s} {'copies':>6s} {REFERENCE_ENV:>12s} {'R1Math-v0':>12s} {'time ratio':>11s}"
            f" {'floor':>12s} {'floor ratio':>12s}"
        )
        for mode, workers in CONFIGS:
            ref = _RESULTS.get((mode, workers, REFERENCE_ENV))
            cells, ratios = [], []
            for env_id in ("R1Math-v0", FLOOR_ENV):
                r = _RESULTS.get((mode, workers, env_id))
                cells.append(f"{r[1] / r[0]:,.0f}" if r else "")
                ratios.append(f"{r[0] / ref[0]:.2f}x" if ref and r else "")
            first = f"{ref[1] / ref[0]:,.0f}" if ref else ""
            terminalreporter.write_line(
                f"{mode:6s} {workers:6d} {first:>12s} {cells[0]:>12s} {ratios[0]:>11s} {cells[1]:>12s} {ratios[1]:>12s}"
            )


@pytest.fixture(scope="module", autouse=True)
def _setup(request: pytest.FixtureRequest):
    """One torch thread (small networks train fastest on one; the CI machine has two cores), restored after."""
    manager = request.config.pluginmanager
    if not manager.has_plugin("r1gym-train-speed"):
        manager.register(_Report(), "r1gym-train-speed")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize(
    ("mode", "workers", "env_id"), CASES, ids=[f"{m}-{w}-{e.rpartition('/')[2]}" for m, w, e in CASES]
)
def test_ppo_learn(benchmark, mode: str, workers: int, env_id: str) -> None:
    env = SB3VecEnv.make(env_id, num_envs=workers, vectorization_mode=mode)
    try:
        model = PPO(
            "MultiInputPolicy" if isinstance(env.observation_space, gym.spaces.Dict) else "MlpPolicy",
            env,
            n_steps=ROLLOUT // workers,
            batch_size=256,
            n_epochs=10,
            policy_kwargs={"net_arch": [128, 128]},
            device="cpu",
            seed=0,
        )
        steps = ROLLOUT if benchmark.disabled else STEPS  # the smoke test: one rollout and one update
        if not benchmark.disabled:
            model.learn(total_timesteps=ROLLOUT)  # warm-up, untimed: first reset, lazy torch set-up
        done: list[int] = []

        def learn() -> None:
            start = model.num_timesteps
            model.learn(total_timesteps=steps, reset_num_timesteps=False)
            done.append(model.num_timesteps - start)

        benchmark.group = f"ppo-{mode}-{workers}"
        benchmark.pedantic(learn, rounds=ROUNDS, iterations=1, warmup_rounds=0)
    finally:
        env.close()
    assert done and all(n == steps for n in done)

    stats = getattr(benchmark, "stats", None)
    if stats is None or getattr(stats, "stats", None) is None:  # --benchmark-disable
        return
    median = stats.stats.median
    _RESULTS[(mode, workers, env_id)] = (median, steps)
    benchmark.extra_info["steps_per_second"] = round(steps / median, 1)
    if env_id != REFERENCE_ENV:
        benchmark.extra_info["reference"] = _name(mode, workers, REFERENCE_ENV)
        ref = _RESULTS.get((mode, workers, REFERENCE_ENV))
        if ref is not None:
            benchmark.extra_info["ratio_to_reference"] = round(median / ref[0], 3)
