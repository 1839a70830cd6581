"""Speed of prioritized replay: the sum tree against the naive ``Generator.choice``.

Run: pytest benchmarks/test_replay_speed.py --benchmark-enable --benchmark-only
(In the normal test run, --benchmark-disable runs each body once as a smoke test.)

Both sides hold 1,000,000 items with random rewards and do the work of one training step:
draw a batch of 256 by priority ``(r + eps) ** omega`` and give the drawn items new rewards.

* naive: recompute every priority, normalize, ``rng.choice(N, 256, p=p)``, write the rewards.
  ``O(N)`` per step.
* sum tree: ``PrioritizedReplay.sample(256, rng)`` (which also fetches the items and computes
  the importance weights, work the naive side skips) and ``update(indices, rewards)``.
  ``O(256 log N)`` per step.

The ratio naive / sum tree (medians, same run) is printed at the end of the run and stored in
the sum-tree benchmark's ``extra_info``; the test fails if it is below 10.
"""

from __future__ import annotations

import numpy as np
import pytest

from r1gym.replay import PrioritizedReplay

N = 1_000_000
BATCH = 256
OMEGA = 0.7
EPS = 1e-2
MIN_SPEEDUP = 10.0

_MEDIANS: dict[str, float] = {}


class _RatioReport:
    """A plugin registered during the run: prints the ratio in the terminal summary."""

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if {"choice", "sumtree"} <= _MEDIANS.keys():
            choice, tree = _MEDIANS["choice"], _MEDIANS["sumtree"]
            terminalreporter.section("prioritized replay: sum tree vs numpy choice (median, same run)")
            terminalreporter.write_line(f"N = {N:,}, batch {BATCH}, sample + update")
            terminalreporter.write_line(f"Generator.choice (naive) {choice * 1e6:10.1f} us")
            terminalreporter.write_line(f"SumTree                  {tree * 1e6:10.1f} us")
            terminalreporter.write_line(f"speed-up                 {choice / tree:10.1f} x")


@pytest.fixture(scope="module", autouse=True)
def _ratio_report(request: pytest.FixtureRequest) -> None:
    manager = request.config.pluginmanager
    if not manager.has_plugin("r1gym-replay-ratio"):
        manager.register(_RatioReport(), "r1gym-replay-ratio")


@pytest.fixture(scope="module")
def filled() -> tuple[PrioritizedReplay, np.ndarray]:
    """One buffer of N items (built once: about 0.2 s) and the same rewards as an array."""
    rewards = np.random.default_rng(0).random(N)
    replay = PrioritizedReplay(N, omega=OMEGA, eps=EPS)
    replay.add_batch(range(N), rewards)
    return replay, rewards


def _record(benchmark, name: str) -> None:
    if benchmark.stats is not None:  # None under --benchmark-disable
        _MEDIANS[name] = benchmark.stats.stats.median


def test_choice_sample_update(benchmark, filled) -> None:
    rewards = filled[1].copy()
    rng = np.random.default_rng(1)

    def step() -> np.ndarray:
        p = (rewards + EPS) ** OMEGA
        p /= p.sum()
        idx = rng.choice(N, BATCH, p=p)
        rewards[idx] = rng.random(BATCH)
        return idx

    assert step().shape == (BATCH,)
    benchmark(step)
    _record(benchmark, "choice")


def test_sumtree_sample_update(benchmark, filled) -> None:
    replay = filled[0]
    rng = np.random.default_rng(1)

    def step() -> np.ndarray:
        _, idx, _ = replay.sample(BATCH, rng)
        replay.update(idx, rng.random(BATCH))
        return idx

    assert step().shape == (BATCH,)
    benchmark(step)
    _record(benchmark, "sumtree")
    if {"choice", "sumtree"} <= _MEDIANS.keys():
        speedup = _MEDIANS["choice"] / _MEDIANS["sumtree"]
        benchmark.extra_info["speedup_over_choice"] = round(speedup, 1)
        assert speedup >= MIN_SPEEDUP, f"sum tree only {speedup:.1f}x faster than Generator.choice"


def test_sumtree_sample_only(benchmark, filled) -> None:
    """The draw alone: stratified descent, item look-up, importance weights."""
    replay = filled[0]
    rng = np.random.default_rng(2)
    benchmark(replay.sample, BATCH, rng)


def test_sumtree_update_only(benchmark, filled) -> None:
    """The update alone: 256 leaves of the sum and min trees and their ancestors."""
    replay = filled[0]
    rng = np.random.default_rng(3)
    idx = rng.integers(0, N, BATCH)
    new = rng.random(BATCH)
    benchmark(replay.update, idx, new)
