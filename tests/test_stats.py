"""r1gym.stats: the intervals, paired differences and curve summaries, on values worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from r1gym import stats
from r1gym.stats import T975, curve_mean, mean_ci, paired_diff, steps_to, t_quantile, wilson_interval


def test_t_quantile_table_and_expansion() -> None:
    assert t_quantile(1) == 12.706 and t_quantile(2) == 4.303 and t_quantile(30) == 2.042
    # beyond the table, the expansion: exact values 2.0395 (31), 2.0211 (40), 1.9799 (120)
    assert t_quantile(31) == pytest.approx(2.03951, abs=1e-5)
    assert t_quantile(40) == pytest.approx(2.02108, abs=1e-5)
    assert t_quantile(120) == pytest.approx(1.97993, abs=1e-5)
    assert t_quantile(10**6) == pytest.approx(1.95996, abs=1e-5)
    # it falls with df, table and expansion alike
    values = [t_quantile(df) for df in range(1, 200)]
    assert all(a > b for a, b in zip(values, values[1:]))
    assert len(T975) == 30
    with pytest.raises(ValueError, match="degrees of freedom must be >= 1"):
        t_quantile(0)


def test_mean_ci_known_values() -> None:
    m, lo, hi = mean_ci([0.5, 0.6, 0.7])  # s = 0.1, n = 3, t(2) = 4.303
    assert m == pytest.approx(0.6)
    assert hi - m == pytest.approx(4.303 * 0.1 / math.sqrt(3)) and m - lo == pytest.approx(hi - m)
    m, lo, hi = mean_ci([1.0, 3.0])  # s = sqrt(2), n = 2, t(1) = 12.706: half = 12.706
    assert (m, lo, hi) == pytest.approx((2.0, 2.0 - 12.706, 2.0 + 12.706))
    assert mean_ci([0.4, 0.4, 0.4]) == pytest.approx((0.4, 0.4, 0.4))


def test_mean_ci_edge_cases_and_missing_values() -> None:
    m, lo, hi = mean_ci([0.5])
    assert m == 0.5 and math.isnan(lo) and math.isnan(hi)
    assert all(math.isnan(v) for v in mean_ci([]))
    assert all(math.isnan(v) for v in mean_ci([math.nan, None]))
    # None and NaN are left out: the same as the two real values alone
    assert mean_ci([1.0, None, math.nan, 3.0]) == pytest.approx(mean_ci([1.0, 3.0]))


def test_paired_diff() -> None:
    d = paired_diff({1: 0.6, 2: 0.7, 3: 0.9}, {1: 0.5, 2: 0.6, 3: 0.8})
    assert d == pytest.approx((0.1, 0.1, 0.1))  # the same difference on every seed: no spread
    # only shared seeds count (seed 4 has no partner), in either order of the dicts
    d = paired_diff({3: 0.9, 1: 0.6, 2: 0.8, 4: 5.0}, {1: 0.5, 2: 0.6, 3: 0.6})
    assert d == pytest.approx(mean_ci([0.1, 0.2, 0.3]))
    # pairing removes the seed effect that the unpaired means keep
    a, b = {1: 0.2, 2: 0.5, 3: 0.8}, {1: 0.1, 2: 0.4, 3: 0.7}
    _, lo, hi = paired_diff(a, b)
    assert hi - lo == pytest.approx(0.0)
    _, lo, hi = mean_ci(list(a.values()))
    assert hi - lo > 1.0
    m, lo, _ = paired_diff({1: 0.6}, {1: 0.5})
    assert m == pytest.approx(0.1) and math.isnan(lo)
    assert all(math.isnan(v) for v in paired_diff({1: 0.6}, {2: 0.5}))
    assert paired_diff({1: 0.6, 2: math.nan, 3: 0.7}, {1: 0.5, 2: 0.5, 3: 0.5})[0] == pytest.approx(0.15)


def test_wilson_interval() -> None:
    lo, hi = wilson_interval(5, 10)  # symmetric around 1/2: 0.5 -+ 0.2966
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    lo, hi = wilson_interval(0, 10)  # zero successes: the interval starts at 0 and is not empty
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson_interval(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.7225, abs=1e-4)
    lo, hi = wilson_interval(1, 1)
    assert hi == 1.0 and lo == pytest.approx(0.2065, abs=1e-4)
    lo, hi = wilson_interval(430, 1000)  # docs/results.md's greedy accuracy: [0.400, 0.461]
    assert (round(lo, 3), round(hi, 3)) == (0.400, 0.461)
    narrow, wide = wilson_interval(50, 100, z=1.0), wilson_interval(50, 100)
    assert narrow[0] > wide[0] and narrow[1] < wide[1]
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_steps_to() -> None:
    steps, acc = np.array([0, 10, 20, 30]), np.array([0.1, 0.4, 0.6, 0.5])
    assert steps_to(steps, acc, 0.5) == 20.0  # the first point at or above the target
    assert steps_to(steps, acc, 0.6) == 20.0
    assert steps_to(steps, acc, 0.9) is None
    assert steps_to([0, 10], [math.nan, 0.7], 0.5) == 10.0  # NaN never reaches the target
    assert steps_to([], [], 0.5) is None
    with pytest.raises(ValueError, match="differ in shape"):
        steps_to([0, 10], [0.5], 0.5)


def test_curve_mean() -> None:
    steps, acc = np.array([0, 10, 20, 30]), np.array([0.1, 0.4, 0.6, 0.5])
    assert curve_mean(steps, acc) == pytest.approx((0.25 + 0.5 + 0.55) / 3)
    # uneven spacing weighs each segment by its length
    assert curve_mean([0, 10, 40], [0.0, 1.0, 1.0]) == pytest.approx((10 * 0.5 + 30 * 1.0) / 40)
    assert curve_mean([100], [0.3]) == pytest.approx(0.3)
    assert curve_mean([5, 5], [0.2, 0.4]) == pytest.approx(0.3)  # no span: the plain mean
    assert math.isnan(curve_mean([], []))
    assert math.isnan(curve_mean([0, 10, 20], [0.1, math.nan, 0.3]))
    with pytest.raises(ValueError, match="differ in shape"):
        curve_mean([0, 10], [0.5])


def test_normal_interval_is_mean_plus_minus_z_standard_errors() -> None:
    lo, hi = stats.normal_interval([1.0, 2.0, 3.0, 4.0])
    half = 1.96 * math.sqrt(5 / 3) / 2  # sample sd sqrt(5/3), sqrt(n) = 2
    assert (lo, hi) == pytest.approx((2.5 - half, 2.5 + half))
    assert stats.normal_interval([0.7]) == (0.7, 0.7)
    assert all(math.isnan(x) for x in stats.normal_interval([]))
