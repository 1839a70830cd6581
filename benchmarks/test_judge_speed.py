"""Cost of judging one written step, against one CartPole-v1 step measured in the same run.

Run: pytest benchmarks/test_judge_speed.py --benchmark-enable --benchmark-only
The steps judged cycle through 400 distinct texts (reference steps and their rewordings of
arithmetic, word and physics problems), so caches of normalized text do not hide the parse.
Target (issue 12): at most 20 CartPole steps per judged step.
"""

from __future__ import annotations

import numpy as np

import r1gym  # noqa: F401
from r1gym.core.protocols import make_task
from r1gym.judge import StepJudge
from r1gym.judge.rewordings import rewordings
from r1gym.judge.text import normalize

RESULTS: dict[str, float] = {}


def test_cartpole_step(benchmark, cartpole_step) -> None:
    benchmark(cartpole_step)
    if benchmark.stats is not None:  # None under --benchmark-disable (the normal test run: a smoke run)
        RESULTS["cartpole"] = benchmark.stats.stats.median


def _cases() -> list[tuple[StepJudge, str, object]]:
    rng = np.random.default_rng(0)
    out = []
    for name in ("arithmetic", "word", "physics"):
        task = make_task(name, seed=99)
        for i in range(40):
            p = task.problem(i)
            judge = StepJudge(p)
            state = judge.start()
            for t in p.steps:
                out.append((judge, t, state))
                out += [(judge, r, state) for _, r in list(rewordings(t, rng))[:2]]
                state = judge.advance(state, judge.judge(t, state))
    rng.shuffle(out)
    return out[:400]


def test_judge_written_step(benchmark) -> None:
    cases = _cases()
    state = {"i": 0}

    def one():
        judge, text, s = cases[state["i"] % len(cases)]
        state["i"] += 1
        if state["i"] % len(cases) == 0:
            normalize.cache_clear()
        return judge.judge(text, s)

    benchmark(one)
    if benchmark.stats is not None:
        RESULTS["judge"] = benchmark.stats.stats.median
    if "cartpole" in RESULTS:
        ratio = RESULTS["judge"] / RESULTS["cartpole"]
        print(f"\njudging one step: {RESULTS['judge'] * 1e6:.1f} us = {ratio:.1f} CartPole steps (target <= 20)")
