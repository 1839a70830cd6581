"""Print each benchmark as a ratio to a reference measured in the same run.

* By default the reference is one CartPole-v1 step (``test_cartpole_step``).
* A benchmark that names its own reference in ``benchmark.extra_info["reference"]`` (the name of
  another benchmark of the run, e.g. the same PPO training on CartPole-v1 in
  ``test_train_speed.py``) is printed in a section of its own, as a ratio to that one, and left
  out of the CartPole-step section.
"""

from __future__ import annotations

import os

import gymnasium as gym
import pytest

# Nothing is downloaded in tests: the Hugging Face libraries fail at once instead of retrying a
# network that CI does not have (datasets' GSM8K loader waited 23 s on its back-off per call).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

REFERENCE = "test_cartpole_step"


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--memory-steps",
        default=None,
        help="steps of random play after the 10,000-step warm-up in benchmarks/test_memory.py (full size: "
        "1000000; also R1GYM_MEMORY_STEPS); without it the memory test is a short smoke test",
    )


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    lines = [
        v
        for rep in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])
        for k, v in getattr(rep, "user_properties", [])
        if k == "memory"
    ]
    if lines:
        terminalreporter.section("resident memory growth (benchmarks/test_memory.py)")
        for line in lines:
            terminalreporter.write_line(line)
    session = getattr(config, "_benchmarksession", None)
    if session is None or getattr(session, "disabled", True):
        return
    benches = [b for b in session.benchmarks if getattr(b, "stats", None) is not None]
    stats = {b.name: b.stats for b in benches}
    own = {b.name: b.extra_info["reference"] for b in benches if "reference" in (getattr(b, "extra_info", None) or {})}
    ref = stats.get(REFERENCE)
    if ref is not None:
        terminalreporter.section("ratios to one CartPole-v1 step (median / median, same run)")
        for name, s in sorted(stats.items()):
            if name not in own:
                terminalreporter.write_line(f"{name:45s} {s.median * 1e6:10.1f} us   {s.median / ref.median:8.1f} x")
    pairs = sorted((name, r) for name, r in own.items() if r in stats)
    if pairs:
        terminalreporter.section("ratios to the reference each names (median / median, same run)")
        for name, r in pairs:
            s = stats[name]
            terminalreporter.write_line(
                f"{name:45s} {s.median * 1e3:10.1f} ms   {s.median / stats[r].median:8.2f} x   {r}"
            )


@pytest.fixture
def cartpole_step():
    """One CartPole-v1 step (alternating actions, reset at the end of an episode): the reference
    every ratio is taken against, the same function in every benchmark file that measures it."""
    env = gym.make("CartPole-v1")
    env.reset(seed=0)
    state = {"n": 0}

    def step():
        _, _, term, trunc, _ = env.step(state["n"] & 1)
        state["n"] += 1
        if term or trunc:
            env.reset()

    return step
