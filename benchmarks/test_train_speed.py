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
"""

from __future__ import annotations

import pytest

pytest.importorskip("stable_baselines3")

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

_RESULTS: dict[tuple[str, int, str], tuple[float, int]] = {}  # (mode, workers, env) -> (median s, steps)


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
        )
        for mode, workers in CONFIGS:
            ref, r1 = _RESULTS.get((mode, workers, REFERENCE_ENV)), _RESULTS.get((mode, workers, "R1Math-v0"))
            cells = [f"{r[1] / r[0]:,.0f}" if r else "" for r in (ref, r1)]
            ratio = f"{r1[0] / ref[0]:.2f}x" if ref and r1 else ""
            terminalreporter.write_line(f"{mode:6s} {workers:6d} {cells[0]:>12s} {cells[1]:>12s} {ratio:>11s}")


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


@pytest.mark.parametrize(("mode", "workers", "env_id"), CASES, ids=[f"{m}-{w}-{e}" for m, w, e in CASES])
def test_ppo_learn(benchmark, mode: str, workers: int, env_id: str) -> None:
    env = SB3VecEnv.make(env_id, num_envs=workers, vectorization_mode=mode)
    try:
        model = PPO(
            "MultiInputPolicy" if env_id.startswith("R1") else "MlpPolicy",
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
