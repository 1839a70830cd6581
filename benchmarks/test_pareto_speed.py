"""Speed of ``pareto_front`` on 10,000 variants given as dicts (the figures in docs/pareto.md).

Run: pytest benchmarks/test_pareto_speed.py --benchmark-enable --benchmark-only
(In the normal test run, --benchmark-disable runs each body once as a smoke test.)

Two kinds of data, both seeded:
- "random": independent uniform objectives; the front is a few dozen rows, as with real
  model variants, most of which some other variant beats.
- "all-front": every row on the front (points of a simplex, a perfect trade-off), the worst
  case of the block sweep used for 3+ objectives, whose cost grows with n x front size.
"""

from __future__ import annotations

import numpy as np
import pytest

from r1gym.pareto import pareto_front

N = 10_000
OBJECTIVES = {
    2: {"accuracy": "max", "latency": "min"},
    3: {"accuracy": "max", "latency": "min", "memory": "min"},
    4: {"accuracy": "max", "latency": "min", "memory": "min", "params": "min"},
}


def make_rows(m: int, kind: str, n: int = N) -> list[dict[str, float | str]]:
    rng = np.random.default_rng(m)
    if kind == "random":
        values = rng.random((n, m))
    else:  # on the simplex sum = 1, with accuracy counted as 1 - x: nobody beats anybody
        values = rng.dirichlet(np.ones(m), size=n)
        values[:, 0] = 1.0 - values[:, 0]
    keys = list(OBJECTIVES[m])
    return [{"name": f"variant-{i}", **dict(zip(keys, map(float, row)))} for i, row in enumerate(values)]


@pytest.mark.parametrize(
    ("m", "kind"),
    [(2, "random"), (3, "random"), (4, "random"), (2, "all-front"), (3, "all-front")],
    ids=[
        "2-objectives-random",
        "3-objectives-random",
        "4-objectives-random",
        "2-objectives-all-front",
        "3-objectives-all-front",
    ],
)
def test_pareto_front_10k_dicts(benchmark, m: int, kind: str) -> None:
    rows = make_rows(m, kind)
    front = benchmark(pareto_front, rows, OBJECTIVES[m])
    if kind == "all-front":
        assert len(front) == N
    else:
        assert 0 < len(front) < N // 10
