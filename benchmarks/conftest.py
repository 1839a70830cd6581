"""Print each benchmark as a ratio to the CartPole-v1 step measured in the same run."""

from __future__ import annotations

REFERENCE = "test_cartpole_step"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    session = getattr(config, "_benchmarksession", None)
    if session is None or getattr(session, "disabled", True):
        return
    stats = {b.name: b.stats for b in session.benchmarks if getattr(b, "stats", None) is not None}
    ref = stats.get(REFERENCE)
    if ref is None:
        return
    terminalreporter.section("ratios to one CartPole-v1 step (median / median, same run)")
    for name, s in sorted(stats.items()):
        terminalreporter.write_line(f"{name:45s} {s.median * 1e6:10.1f} us   {s.median / ref.median:8.1f} x")
