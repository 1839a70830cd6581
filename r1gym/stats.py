"""Statistics for evaluations and experiments: intervals, paired differences, learning curves.

One place for the arithmetic that turns numbers into claims, so that every table states its
uncertainty the same way:

- a proportion measured once (an evaluation's accuracy over ``n`` episodes) has its Wilson score
  interval (:func:`wilson_interval`), which stays inside [0, 1] and behaves at 0 and ``n``
  successes where the normal approximation does not;
- a mean across a few independent runs (seeds) has its Student-t interval (:func:`mean_ci`),
  wide on purpose at 3 seeds (t = 4.30);
- a difference between two arms trained on the same seeds is the mean of the per-seed
  differences with its t interval (:func:`paired_diff`), which removes what the seed does to
  both arms alike;
- a learning curve (accuracy evaluated every so many environment steps) is summarised by the
  first step count that reaches a target (:func:`steps_to`) and by its area divided by its span
  (:func:`curve_mean`).

numpy only: this module sits in the package's plug-in layer and imports nothing of r1gym.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

#: Two-sided 95 % Student-t quantiles t(0.975, df) for df = 1 .. 30 (3 decimals, as printed in
#: every table of the t distribution); :func:`t_quantile` extends them beyond 30.
T975: dict[int, float] = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
    11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086,
    21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042,
}  # fmt: skip

#: the normal quantile z(0.975)
Z975 = 1.959963984540054


def t_quantile(df: int) -> float:
    """The two-sided 95 % Student-t quantile ``t(0.975, df)``.

    From the table :data:`T975` for ``df <= 30``; above, the Cornish-Fisher expansion around the
    normal quantile ``z`` (Abramowitz and Stegun 26.7.5)::

        t = z + (z^3 + z) / (4 df) + (5 z^5 + 16 z^3 + 3 z) / (96 df^2)
              + (3 z^7 + 19 z^5 + 17 z^3 - 15 z) / (384 df^3)

    which is within 2e-6 of the exact value there (2.0395 at 31, 1.9799 at 120) and tends to
    ``z`` = 1.960 as ``df`` grows.
    """
    if df < 1:
        raise ValueError(f"t_quantile: degrees of freedom must be >= 1, got {df}")
    if df in T975:
        return T975[df]
    z = Z975
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


def mean_ci(values: Sequence[float | None]) -> tuple[float, float, float]:
    """Mean of ``values`` and its two-sided 95 % Student-t interval: ``(mean, low, high)``.

    With ``n`` values, mean ``m`` and sample standard deviation ``s`` (``ddof=1``)::

        m +- t(0.975, n - 1) * s / sqrt(n)

    ``None`` and NaN values are left out (a run that has no such number, e.g. no error recovery
    because it never left the correct path). No value left: ``(nan, nan, nan)``; one value:
    ``(value, nan, nan)``, since one run says nothing about the spread.
    """
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if len(x) == 1:
        return m, math.nan, math.nan
    half = t_quantile(len(x) - 1) * float(x.std(ddof=1)) / math.sqrt(len(x))
    return m, m - half, m + half


def paired_diff(a: Mapping[int, float], b: Mapping[int, float]) -> tuple[float, float, float]:
    """Mean of the per-seed differences ``a[seed] - b[seed]`` and its 95 % t interval.

    Only the seeds both arms have count (a paired design: each difference compares two runs that
    share a seed); the differences then go through :func:`mean_ci`, so a NaN on either side
    drops that seed, and fewer than two seeds give NaN bounds.
    """
    seeds = sorted(set(a) & set(b))
    return mean_ci([a[s] - b[s] for s in seeds])


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion ``successes / n`` (95 % at z = 1.96).

    With ``p = successes / n``::

        centre = (p + z^2 / (2n)) / (1 + z^2 / n)
        half   = z * sqrt(p (1 - p) / n + z^2 / (4 n^2)) / (1 + z^2 / n)

    and the interval ``(centre - half, centre + half)``, clipped to [0, 1] against rounding.
    ``n = 0`` (nothing measured): ``(nan, nan)``.
    """
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def normal_interval(values: Sequence[float], z: float = 1.96) -> tuple[float, float]:
    """The normal-approximation interval of a mean over many samples (episodes), 95 % at z = 1.96:
    ``mean -+ z * s / sqrt(n)`` with ``s`` the sample standard deviation. With fewer than two
    values there is no spread to measure: ``(m, m)`` for one value, ``(nan, nan)`` for none.

    For a handful of samples (seeds) use :func:`mean_ci`, whose Student-t quantile is honest at
    small n; over hundreds of episodes the two agree.
    """
    if len(values) < 2:
        m = float(values[0]) if len(values) else math.nan
        return (m, m)
    a = np.asarray(values, dtype=np.float64)
    half = z * a.std(ddof=1) / math.sqrt(a.size)
    return (float(a.mean() - half), float(a.mean() + half))


def steps_to(steps: Sequence[float] | np.ndarray, acc: Sequence[float] | np.ndarray, target: float) -> float | None:
    """The first evaluated step count whose accuracy reached ``target``: ``min {steps[i] : acc[i] >= target}``.

    ``None`` when the curve never reaches it (the caller decides how to count such a run, e.g.
    censored at the budget). A NaN accuracy never counts as reaching the target. ``steps`` is
    taken in the order given (a learning curve is evaluated at growing step counts).
    """
    steps, acc = np.asarray(steps, dtype=float), np.asarray(acc, dtype=float)
    if steps.shape != acc.shape:
        raise ValueError(f"steps_to: steps and acc differ in shape ({steps.shape} and {acc.shape})")
    hit = np.nonzero(acc >= target)[0]
    return float(steps[hit[0]]) if len(hit) else None


def curve_mean(steps: Sequence[float] | np.ndarray, acc: Sequence[float] | np.ndarray) -> float:
    """The mean accuracy over the curve's span: its area divided by its length.

    By the trapezoidal rule over points ``(s_i, a_i)``::

        sum_i (s_{i+1} - s_i) * (a_i + a_{i+1}) / 2  /  (s_last - s_first)

    so a run that learns early scores higher than one that reaches the same final accuracy late
    (an "area under the learning curve" on the accuracy's own scale). One point, or a span of
    zero steps: the plain mean of the accuracies; no point: NaN. A NaN accuracy makes the
    result NaN (a hole in the curve is not silently bridged).
    """
    steps, acc = np.asarray(steps, dtype=float), np.asarray(acc, dtype=float)
    if steps.shape != acc.shape:
        raise ValueError(f"curve_mean: steps and acc differ in shape ({steps.shape} and {acc.shape})")
    if len(acc) == 0:
        return math.nan
    span = steps[-1] - steps[0] if len(steps) >= 2 else 0.0
    if span == 0:
        return float(acc.mean())
    return float(np.trapezoid(acc, steps) / span)


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k of one problem from ``n`` samples of which ``c`` are correct.

    Chen et al. (2021, "Evaluating large language models trained on code", the HumanEval paper):
    the probability that at least one of ``k`` samples drawn without replacement from the ``n``
    is correct::

        pass@k = 1 - C(n - c, k) / C(n, k)

    computed as the product ``1 - prod_{i = n - c + 1}^{n} (1 - k / i)``, which never forms the
    binomial coefficients (they overflow a float past n ~ 1,000). ``n - c < k`` (every k-subset
    holds a correct sample): exactly 1; ``c = 0``: exactly 0.

    Raises:
        TypeError: ``n``, ``c`` or ``k`` is not an integer.
        ValueError: unless ``n >= 1``, ``0 <= c <= n`` and ``1 <= k <= n``.
    """
    for label, v in (("n", n), ("c", c), ("k", k)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"pass_at_k: {label} must be an integer, got {v!r}")
    if n < 1:
        raise ValueError(f"pass_at_k: n (samples per problem) must be >= 1, got {n}")
    if not 0 <= c <= n:
        raise ValueError(f"pass_at_k: c (correct samples) must lie in [0, n = {n}], got {c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass_at_k: k must lie in [1, n = {n}] (k samples are drawn from the n), got {k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1, dtype=np.float64)))


def mean_interval_01(values: Sequence[float]) -> tuple[float, float]:
    """The 95 % Student-t interval of the mean of ``values`` (:func:`mean_ci`), clipped to [0, 1].

    For a mean of per-item scores that lie in [0, 1] (a per-problem pass@k): the items are the
    independent units, whatever the number of attempts behind each. One value: ``(nan, nan)``
    (no spread to measure); every value equal: a zero-width interval at that value.
    """
    _, lo, hi = mean_ci(values)
    if math.isnan(lo):
        return (math.nan, math.nan)
    return (max(0.0, lo), min(1.0, hi))
