"""pareto_front / pareto_mask / dominates / plot_pareto against a brute-force reference."""

from __future__ import annotations

import dataclasses
import math
import sys

import numpy as np
import pytest

from r1gym import pareto
from r1gym.evaluation import EvalReport
from r1gym.pareto import DEFAULT_OBJECTIVES, dominates, pareto_front, pareto_mask, plot_pareto

AL = {"accuracy": "max", "latency": "min"}


# --------------------------------------------------------------------------------------------
# references: the definition, written out with no cleverness


def ref_dominates(a, b, objectives) -> bool:
    """a dominates b: at least as good on every objective, strictly better on at least one."""
    at_least = all(a[k] >= b[k] if d == "max" else a[k] <= b[k] for k, d in objectives.items())
    strictly = any(a[k] > b[k] if d == "max" else a[k] < b[k] for k, d in objectives.items())
    return at_least and strictly


def ref_front(rows, objectives) -> list:
    """O(n^2) brute force: keep each row that no *other* row dominates."""
    return [
        b for i, b in enumerate(rows) if not any(j != i and ref_dominates(a, b, objectives) for j, a in enumerate(rows))
    ]


def ref_mask(values: np.ndarray, maximize) -> np.ndarray:
    """O(n^2) brute force in numpy (for sizes where the Python loop is too slow)."""
    v = values * np.where(maximize, -1.0, 1.0)
    le = (v[:, None, :] <= v[None, :, :]).all(axis=2)  # le[a, b]: a <= b everywhere
    lt = (v[:, None, :] < v[None, :, :]).any(axis=2)
    return ~(le & lt).any(axis=0)


def random_objectives(rng: np.random.Generator, m: int) -> dict[str, str]:
    return {f"o{j}": str(rng.choice(["max", "min"])) for j in range(m)}


def random_table(rng: np.random.Generator, n: int, m: int, kind: str) -> np.ndarray:
    if kind == "ties":  # few distinct levels: many ties and exact duplicates
        return rng.integers(0, 4, size=(n, m)).astype(float)
    if kind == "dups":  # continuous values, each row repeated a few times
        base = rng.random((max(1, n // 3), m))
        return base[rng.integers(0, len(base), size=n)]
    if kind == "front":  # anti-correlated: (almost) everything on the front
        x = rng.dirichlet(np.ones(m), size=n)
        return np.round(x, 2)
    return rng.standard_normal((n, m))


# --------------------------------------------------------------------------------------------
# what the seed article's sketch gets wrong


def test_a_single_row_is_its_own_front() -> None:
    row = {"accuracy": 0.8, "latency": 1.0}
    assert pareto_front([row], AL) == [row]
    assert not dominates(row, row, AL)


def test_identical_rows_both_stay() -> None:
    a, b = {"accuracy": 0.8, "latency": 1.0}, {"accuracy": 0.8, "latency": 1.0}
    front = pareto_front([a, b], AL)
    assert len(front) == 2 and front[0] is a and front[1] is b
    assert not dominates(a, b, AL) and not dominates(b, a, AL)


def test_tie_in_one_objective_and_better_in_the_other_dominates() -> None:
    fast = {"accuracy": 0.8, "latency": 1.0}
    slow = {"accuracy": 0.8, "latency": 2.0}
    better = {"accuracy": 0.9, "latency": 2.0}
    assert dominates(fast, slow, AL) and not dominates(slow, fast, AL)
    assert dominates(better, slow, AL)
    assert pareto_front([slow, fast, better], AL) == [fast, better]


def test_mixed_directions() -> None:
    rows = [
        {"name": "small", "accuracy": 0.71, "latency": 0.8, "memory": 2.0},
        {"name": "base", "accuracy": 0.84, "latency": 2.1, "memory": 6.0},
        {"name": "slow", "accuracy": 0.80, "latency": 3.5, "memory": 6.0},
        {"name": "large", "accuracy": 0.90, "latency": 6.0, "memory": 30.0},
        {"name": "lean", "accuracy": 0.80, "latency": 3.5, "memory": 3.0},
    ]

    def names(rs):
        return [r["name"] for r in rs]

    assert names(pareto_front(rows, AL)) == ["small", "base", "large"]
    three = {"accuracy": "max", "latency": "min", "memory": "min"}
    assert names(pareto_front(rows, three)) == ["small", "base", "large", "lean"]
    # flipping a direction flips who wins
    assert names(pareto_front(rows, {"accuracy": "min", "latency": "max"})) == ["small", "slow", "large", "lean"]
    assert names(pareto_front(rows, {"accuracy": "max"})) == ["large"]
    assert names(pareto_front(rows, {"latency": "min"})) == ["small"]


def test_default_objectives_and_order_kept() -> None:
    assert dict(DEFAULT_OBJECTIVES) == {"accuracy": "max", "latency": "min"}
    rows = [{"accuracy": a, "latency": lat} for a, lat in [(0.9, 5.0), (0.5, 0.5), (0.6, 9.0), (0.7, 1.0)]]
    assert pareto_front(rows) == [rows[0], rows[1], rows[3]]
    assert pareto_front([]) == []
    assert pareto_front(iter(rows)) == [rows[0], rows[1], rows[3]]  # any iterable


def test_infinities_and_signed_zeros() -> None:
    rows = [
        {"accuracy": 1.0, "latency": math.inf},
        {"accuracy": 1.0, "latency": math.inf},
        {"accuracy": -0.0, "latency": 1.0},
        {"accuracy": 0.0, "latency": 1.0},
        {"accuracy": -math.inf, "latency": -math.inf},
    ]
    assert pareto_front(rows, AL) == ref_front(rows, AL) == rows


# --------------------------------------------------------------------------------------------
# brute-force equivalence


@pytest.mark.parametrize("m", [1, 2, 3, 4])
@pytest.mark.parametrize("kind", ["ties", "dups", "front", "normal"])
def test_matches_brute_force_on_rows(m: int, kind: str) -> None:
    rng = np.random.default_rng([m, len(kind)])
    for n in (0, 1, 2, 3, 7, 40, 150):
        objectives = random_objectives(rng, m)
        values = random_table(rng, n, m, kind)
        rows = [{k: float(v) for k, v in zip(objectives, row)} | {"id": i} for i, row in enumerate(values)]
        got = [r["id"] for r in pareto_front(rows, objectives)]
        want = [r["id"] for r in ref_front(rows, objectives)]
        assert got == want, (n, m, kind, objectives)


@pytest.mark.parametrize("m", [1, 2, 3, 4])
@pytest.mark.parametrize("kind", ["ties", "dups", "front", "normal"])
def test_matches_brute_force_on_arrays_across_blocks(m: int, kind: str, monkeypatch) -> None:
    """Larger tables; tiny blocks so that the block sweep and its slicing run many times."""
    rng = np.random.default_rng([m, len(kind), 7])
    for n, block, cells in ((1200, 512, 1 << 22), (600, 7, 50), (300, 1, 1)):
        monkeypatch.setattr(pareto, "_BLOCK", block)
        monkeypatch.setattr(pareto, "_MAX_CELLS", cells)
        maximize = [bool(b) for b in rng.integers(0, 2, size=m)]
        values = random_table(rng, n, m, kind)
        np.testing.assert_array_equal(pareto_mask(values, maximize), ref_mask(values, maximize))


def test_mask_dtypes() -> None:
    ints = np.array([[1, 2], [2, 1], [1, 2], [0, 0]], dtype=np.int32)
    np.testing.assert_array_equal(pareto_mask(ints, [True, True]), [True, True, True, False])
    np.testing.assert_array_equal(pareto_mask(ints.astype(bool), [True, True]), [True, True, True, False])
    assert pareto_mask(np.empty((0, 3)), [True, False, True]).shape == (0,)
    np.testing.assert_array_equal(pareto_mask(np.array([[1.0], [3.0], [3.0]]), [np.True_]), [False, True, True])


# --------------------------------------------------------------------------------------------
# row types


def report(agent: str, accuracy: float, mean_steps: float, error_recovery: float = 0.5) -> EvalReport:
    """A real EvalReport; the fields this test does not set get a neutral value of their type."""
    given = {
        "agent": agent,
        "accuracy": accuracy,
        "mean_steps": mean_steps,
        "error_recovery": error_recovery,
        "mean_reward": accuracy,
    }
    neutral = {"tuple": (0.0, 0.0), "dict": {}, "str": "", "int": 0}
    fields = {}
    for f in dataclasses.fields(EvalReport):
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            kind = str(f.type).split("[")[0]
            fields[f.name] = given.get(f.name, neutral.get(kind, 0.0))
    return EvalReport(**fields)


def test_eval_reports_and_mixed_row_types() -> None:
    rows = [report("greedy", 0.47, 6.0), report("search", 0.68, 12.0), report("random", 0.2, 9.0)]
    objectives = {"accuracy": "max", "mean_steps": "min"}
    front = pareto_front(rows, objectives)
    assert [r.agent for r in front] == ["greedy", "search"]
    assert front[0] is rows[0]  # the rows themselves, not their dicts
    mixed = [*rows, {"accuracy": 0.9, "mean_steps": 3.0}]
    assert pareto_front(mixed, objectives) == [mixed[3]]
    assert dominates(rows[0], rows[2], objectives)


def test_numpy_scalars_fractions_and_bools_are_numbers() -> None:
    from fractions import Fraction

    rows = [
        {"accuracy": np.float32(0.5), "latency": np.int64(2)},
        {"accuracy": Fraction(1, 2), "latency": 1},
        {"accuracy": True, "latency": 3.0},
    ]
    assert pareto_front(rows, AL) == rows[1:]


# --------------------------------------------------------------------------------------------
# errors


def test_objective_errors() -> None:
    row = {"accuracy": 0.5, "latency": 1.0}
    with pytest.raises(ValueError, match="objectives is empty"):
        pareto_front([row], {})
    with pytest.raises(ValueError, match=r"'maximize'.*valid directions are 'max', 'min'.*Did you mean 'max'"):
        pareto_front([row], {"accuracy": "maximize"})
    with pytest.raises(ValueError, match=r"valid directions are 'max', 'min'"):
        dominates(row, row, {"latency": "lower"})
    with pytest.raises(TypeError, match="must be a mapping"):
        pareto_front([row], ["accuracy", "latency"])


def test_row_errors() -> None:
    good = {"accuracy": 0.5, "latency": 1.0}
    with pytest.raises(ValueError, match=r"row 1 has no key 'latency'; its keys are: 'accuracy', 'latncy'.*'latncy'"):
        pareto_front([good, {"accuracy": 0.4, "latncy": 2.0}], AL)
    with pytest.raises(ValueError, match=r"row 0 has no key 'accuracy'; its keys are: none\."):
        pareto_front([{}], AL)
    with pytest.raises(TypeError, match=r"row 1, key 'accuracy': '0.8' \(str\) is not a real number"):
        pareto_front([good, {"accuracy": "0.8", "latency": 1.0}], AL)
    with pytest.raises(TypeError, match=r"row 0, key 'latency': None"):
        pareto_front([{"accuracy": 1.0, "latency": None}], AL)
    with pytest.raises(TypeError, match=r"complex"):
        pareto_front([{"accuracy": 1j, "latency": 1.0}], AL)
    with pytest.raises(ValueError, match=r"row 2, key 'accuracy' is NaN"):
        pareto_front([good, good, {"accuracy": math.nan, "latency": 1.0}], AL)
    # an EvalReport's undefined error recovery is null in to_dict() (strict JSON): not a number
    with pytest.raises(TypeError, match=r"row 1, key 'error_recovery': None \(NoneType\) is not a real number"):
        pareto_front([report("a", 0.5, 3.0), report("b", 0.4, 2.0, math.nan)], {"error_recovery": "max"})
    with pytest.raises(TypeError, match=r"row 1 is a list; each row must be a mapping or have to_dict\(\)"):
        pareto_front([good, [0.5, 1.0]], AL)
    with pytest.raises(TypeError, match=r"to_dict\(\) returned list"):
        pareto_front([type("Odd", (), {"to_dict": lambda self: [1]})()], AL)
    with pytest.raises(TypeError, match="single mapping; wrap it in a list"):
        pareto_front(good, AL)
    with pytest.raises(TypeError, match="got int"):
        pareto_front(3, AL)
    with pytest.raises(TypeError, match=r"to_dict\('records'\)"):
        pareto_front(type("FakeFrame", (), {"columns": [], "to_dict": lambda self: {}, "__iter__": list})(), AL)


def test_mask_errors() -> None:
    v = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match=r"must be 2-D.*reshape\(-1, 1\)"):
        pareto_mask(np.array([1.0, 2.0]), [True])
    with pytest.raises(ValueError, match="2 columns but maximize has 3"):
        pareto_mask(v, [True, False, True])
    with pytest.raises(ValueError, match="maximize is empty"):
        pareto_mask(np.empty((2, 0)), [])
    with pytest.raises(TypeError, match=r"maximize\[1\] is 'min'"):
        pareto_mask(v, [True, "min"])
    with pytest.raises(TypeError, match="sequence of booleans"):
        pareto_mask(v, "max")
    with pytest.raises(TypeError, match="real numbers, got dtype <U"):
        pareto_mask(np.array([["a", "b"]]), [True, True])
    with pytest.raises(TypeError, match="complex"):
        pareto_mask(v.astype(complex), [True, True])
    with pytest.raises(ValueError, match=r"values\[1, 0\] is NaN"):
        pareto_mask(np.array([[1.0, 2.0], [math.nan, 4.0]]), [True, True])


# --------------------------------------------------------------------------------------------
# the plot


@pytest.fixture
def agg():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plot_writes_png_with_labels_and_staircase(agg, tmp_path) -> None:
    rows = [
        {"name": n, "accuracy": a, "latency": lat}
        for n, a, lat in [("small", 0.71, 0.8), ("base", 0.84, 2.1), ("slow", 0.8, 3.5), ("large", 0.9, 6.0)]
    ]
    out = tmp_path / "front.png"
    ax = plot_pareto(rows, "accuracy", "latency", label_key="name", path=out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ax.get_xlabel() == "accuracy (higher is better →)"
    assert ax.get_ylabel() == "latency (lower is better ↓)"
    assert sorted(t.get_text() for t in ax.texts) == ["base", "large", "slow", "small"]
    (line,) = ax.get_lines()  # the staircase through the three front points
    assert line.get_drawstyle() == "steps-pre"
    np.testing.assert_allclose(line.get_xdata(), [0.71, 0.84, 0.9])
    front, dominated = ax.collections[1], ax.collections[0]
    assert len(front.get_offsets()) == 3 and len(dominated.get_offsets()) == 1


def test_plot_on_given_axes_other_objectives(agg) -> None:
    rows = [report("greedy", 0.47, 6.0), report("search", 0.68, 12.0), report("random", 0.2, 9.0)]
    _, ax = agg.subplots()
    got = plot_pareto(rows, "mean_steps", "accuracy", ax=ax, label_key="agent")
    assert got is ax
    assert ax.get_xlabel() == "mean_steps (higher is better →)"  # default {x: max, y: min}
    got = plot_pareto(rows, "mean_steps", "accuracy", {"mean_steps": "min", "accuracy": "max"}, ax=ax)
    assert ax.get_xlabel() == "mean_steps (lower is better ←)" and ax.get_ylabel() == "accuracy (higher is better ↑)"
    assert ax.get_lines()[-1].get_drawstyle() == "steps-post"
    # a 3-objective front is highlighted without a staircase
    _, ax3 = agg.subplots()
    plot_pareto(rows, "mean_steps", "accuracy", {"mean_steps": "min", "accuracy": "max", "mean_reward": "max"}, ax=ax3)
    assert ax3.get_lines() == []


def test_plot_errors(agg, monkeypatch) -> None:
    rows = [{"accuracy": 0.5, "latency": 1.0}]
    with pytest.raises(ValueError, match=r"y='memory' has no direction in objectives \(keys: 'accuracy', 'latency'\)"):
        plot_pareto(rows, "accuracy", "memory", objectives=AL)
    with pytest.raises(ValueError, match="no label key 'name'"):
        plot_pareto(rows, "accuracy", "latency", label_key="name")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "r1gym\[plot\]"'):
        plot_pareto(rows, "accuracy", "latency")
