"""Load time of the GSM8K training file: ``GSM8KTask(path)`` reads 7,473 lines, parses every
annotation and registers the expression shapes (problems with a program are rendered on first use).

Run: pytest benchmarks/test_gsm8k_speed.py --benchmark-enable --benchmark-only
Skipped when the file is not in ``shared/`` beside the checkout (nothing of GSM8K ships with r1gym).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from r1gym.tasks.gsm8k import GSM8KTask, parse_expression
from r1gym.tasks.gsm8k.task import _LOADED

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gsm8k" / "train.jsonl"


@pytest.mark.skipif(not DATA.is_file(), reason=f"the GSM8K training file is not at {DATA}")
def test_gsm8k_load_train(benchmark) -> None:
    def setup():
        parse_expression.cache_clear()  # measure a first load, not one served from the caches
        _LOADED.clear()
        return (DATA,), {}

    task = benchmark.pedantic(GSM8KTask, setup=setup, rounds=5, iterations=1, warmup_rounds=1)
    assert task.size == 7473


@pytest.mark.skipif(not DATA.is_file(), reason=f"the GSM8K training file is not at {DATA}")
def test_gsm8k_render_all_problems(benchmark) -> None:
    """What the lazy rendering costs in total: every problem of the file built once."""

    def setup():
        return (GSM8KTask(DATA),), {}

    def render_all(task: GSM8KTask) -> None:
        for i in range(task.size):
            task.problem(i)

    benchmark.pedantic(render_all, setup=setup, rounds=3, iterations=1)
