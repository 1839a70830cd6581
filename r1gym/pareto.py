"""Pareto front over model variants: which variants no other variant beats on every objective.

A row is one variant's results (a dict, or an object with ``to_dict()`` such as
:class:`r1gym.evaluation.EvalReport`); ``objectives`` says which keys to compare and in which
direction. With every objective turned into "smaller is better", row ``a`` dominates row ``b`` iff

    a_k <= b_k for every objective k   and   a_k < b_k for at least one k.

So a row never dominates itself, two identical rows do not dominate each other (both stay on the
front), and a tie on one objective with a strict win on another is a domination.

Examples:
    >>> rows = [
    ...     {"name": "small", "accuracy": 0.71, "latency": 0.8},
    ...     {"name": "base", "accuracy": 0.84, "latency": 2.1},
    ...     {"name": "slow", "accuracy": 0.80, "latency": 3.5},
    ...     {"name": "large", "accuracy": 0.90, "latency": 6.0},
    ... ]
    >>> [r["name"] for r in pareto_front(rows, {"accuracy": "max", "latency": "min"})]
    ['small', 'base', 'large']

The numeric core, :func:`pareto_mask`, sorts the rows once (O(n log n)); with two objectives the
front then falls out of a running minimum, and with three or more the sorted rows are compared
in blocks against the front found so far with numpy broadcasting. ``docs/pareto.md`` has the
speed figures.
"""

from __future__ import annotations

import difflib
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_OBJECTIVES",
    "DIRECTIONS",
    "dominates",
    "pareto_front",
    "pareto_mask",
    "plot_pareto",
]

#: The directions an objective can take.
DIRECTIONS = ("max", "min")

#: What :func:`pareto_front` compares when not told otherwise (read-only).
DEFAULT_OBJECTIVES: Mapping[str, str] = MappingProxyType({"accuracy": "max", "latency": "min"})

# Candidates taken per block (3+ objectives), and the most booleans one candidates x front
# comparison may allocate (4 MB; the front is compared in slices beyond that).
_BLOCK = 256
_MAX_CELLS = 1 << 22


# --------------------------------------------------------------------------------------------
# the numeric core


def pareto_mask(values: np.ndarray, maximize: Sequence[bool]) -> np.ndarray:
    """Which rows of a numeric table are not dominated by any other row.

    Args:
        values: shape ``(n, m)``, one row per variant and one column per objective (any real
            dtype; compared as float64). NaN is refused: it cannot be ranked.
        maximize: ``m`` booleans, ``True`` where larger is better in that column.

    Returns:
        A boolean array of shape ``(n,)``, ``True`` for the rows on the front. Identical rows
        share their fate: all of them are on the front or none is.

    Raises:
        ValueError: ``values`` is not 2-D, its columns do not match ``maximize``, there are no
            objectives, or a value is NaN (the message names the row and column).
        TypeError: ``values`` is not real-valued, or ``maximize`` holds something other than
            booleans.

    Examples:
        >>> pareto_mask(np.array([[1.0, 5.0], [2.0, 5.0], [2.0, 5.0], [0.5, 1.0]]), [True, False])
        array([False,  True,  True,  True])
    """
    signs = _signs(maximize)
    arr = np.asarray(values)
    if arr.ndim != 2:
        raise ValueError(
            f"values must be 2-D (rows x objectives), got shape {arr.shape}; "
            "reshape a single objective with values.reshape(-1, 1)"
        )
    if arr.shape[1] != len(signs):
        raise ValueError(
            f"values has {arr.shape[1]} columns but maximize has {len(signs)} entries; give one direction per column"
        )
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"values must be real numbers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"values must be real numbers, got dtype {arr.dtype}: complex numbers have no order")
    v = arr.astype(np.float64, copy=True)
    nan = np.isnan(v)
    if nan.any():
        i, j = (int(t) for t in np.argwhere(nan)[0])
        raise ValueError(
            f"values[{i}, {j}] is NaN; NaN cannot be ranked against other values: drop the row "
            "or fill the value before computing the front"
        )
    v *= -signs  # every column now "smaller is better"
    return _min_front(v)


def _signs(maximize: Sequence[bool]) -> np.ndarray:
    """+1 for a column to maximize, -1 for one to minimize."""
    if isinstance(maximize, (str, bytes)) or not isinstance(maximize, Iterable):
        raise TypeError(f"maximize must be a sequence of booleans, one per objective, got {maximize!r}")
    flags = list(maximize)
    if not flags:
        raise ValueError("maximize is empty: give at least one objective")
    for j, flag in enumerate(flags):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(
                f"maximize[{j}] is {flag!r} ({type(flag).__name__}); use True (larger is better) "
                "or False (smaller is better)"
            )
    return np.where(np.array(flags, dtype=bool), 1.0, -1.0)


def _min_front(v: np.ndarray) -> np.ndarray:
    """Front of ``v`` (n x m, NaN-free) with every column minimized."""
    n, m = v.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    # Sort lexicographically (first column first) and collapse identical rows. A row can only be
    # dominated by a row that sorts strictly before it, and identical rows share their fate.
    order = np.lexsort(v.T[::-1])
    s = v[order]
    new = np.ones(n, dtype=bool)
    new[1:] = (s[1:] != s[:-1]).any(axis=1)
    unique = s[new]
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    if m == 1:
        front = np.zeros(len(unique), dtype=bool)
        front[0] = True
    elif m == 2:
        front = _front_2d(unique)
    else:
        front = _front_nd(unique)
    return front[inverse]


def _front_2d(u: np.ndarray) -> np.ndarray:
    """Sweep over distinct rows sorted by (x, y): a row is on the front iff its y beats every earlier y.

    An earlier row has a smaller x, or the same x and a smaller y; either way an earlier y that
    is <= this y dominates this row, and if none is, nothing does.
    """
    y = u[:, 1]
    front = np.ones(len(u), dtype=bool)
    front[1:] = y[1:] < np.minimum.accumulate(y)[:-1]
    return front


def _front_nd(u: np.ndarray) -> np.ndarray:
    """Block sweep over distinct rows in lexicographic order (3+ objectives).

    Rows before a candidate can dominate it, rows after it cannot, so the front of every prefix
    is final: a candidate is on the front iff no front row found so far dominates it and no
    earlier candidate of its own block does (domination is transitive, so a dominated dominator
    is always stood in for by a front row). The first column is sorted and the rows are distinct,
    so "dominates" reduces to "<= in the other columns" for an earlier row. Columns are kept
    contiguous and compared one at a time, which numpy does far faster than reducing a
    (candidates, front, columns) cube over its short last axis.
    """
    k = len(u)
    cols = np.ascontiguousarray(u[:, 1:].T)  # (m - 1, k)
    front = np.zeros(k, dtype=bool)
    found = np.empty((cols.shape[0], 0))  # the front so far, column-major
    for start in range(0, k, _BLOCK):
        block = cols[:, start : start + _BLOCK]
        cand = np.arange(block.shape[1])
        step = max(1, _MAX_CELLS // len(cand))
        for f0 in range(0, found.shape[1], step):
            beaten = _leq_any(found[:, f0 : f0 + step], block[:, cand])
            cand = cand[~beaten]
            if cand.size == 0:
                break
        if cand.size > 1:
            c = block[:, cand]
            leq = _leq(c, c)  # leq[i, j]: candidate j <= candidate i everywhere; only j < i counts
            cand = cand[~np.tril(leq, -1).any(axis=1)]
        front[start + cand] = True
        found = np.concatenate([found, block[:, cand]], axis=1)
    return front


def _leq(ref: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """``out[i, j]``: column-major point ``ref[:, j]`` is <= ``cand[:, i]`` in every row."""
    out = ref[0][None, :] <= cand[0][:, None]
    for r, c in zip(ref[1:], cand[1:]):
        out &= r[None, :] <= c[:, None]
    return out


def _leq_any(ref: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """For each column of ``cand``: is some column of ``ref`` <= it everywhere."""
    return _leq(ref, cand).any(axis=1)


# --------------------------------------------------------------------------------------------
# rows and objectives


def pareto_front(rows: Iterable[Any], objectives: Mapping[str, str] = DEFAULT_OBJECTIVES) -> list[Any]:
    """The rows that no other row dominates, in their input order.

    Args:
        rows: the variants: mappings (``{"accuracy": 0.8, "latency": 1.2, ...}``) or objects
            with ``to_dict()`` returning one, such as :class:`r1gym.evaluation.EvalReport`. For a
            pandas DataFrame pass ``df.to_dict("records")``.
        objectives: key -> ``"max"`` or ``"min"``, one or more, in any mix.

    Returns:
        The non-dominated rows themselves (the same objects), in input order. Identical rows
        are all kept. An empty input gives an empty list.

    Raises:
        ValueError: no objectives, an unknown direction, a row without an objective's key, or
            a NaN value (the message names the row index and the key).
        TypeError: a row is neither a mapping nor has ``to_dict()``, or a value is not a real
            number.

    Examples:
        >>> rows = [{"accuracy": 0.9, "latency": 2.0}, {"accuracy": 0.9, "latency": 3.0},
        ...         {"accuracy": 0.7, "latency": 1.0}]
        >>> pareto_front(rows)
        [{'accuracy': 0.9, 'latency': 2.0}, {'accuracy': 0.7, 'latency': 1.0}]
    """
    keys, maximize = _check_objectives(objectives)
    rows = _as_list(rows)
    if not rows:
        return []
    values = _table(rows, keys)
    mask = pareto_mask(values, maximize)
    return [row for row, keep in zip(rows, mask) if keep]


def dominates(a: Any, b: Any, objectives: Mapping[str, str] = DEFAULT_OBJECTIVES) -> bool:
    """Whether row ``a`` dominates row ``b``: at least as good everywhere, strictly better somewhere.

    Args:
        a: a mapping or an object with ``to_dict()``.
        b: the same.
        objectives: key -> ``"max"`` or ``"min"``.

    Returns:
        ``True`` iff ``a`` is at least as good as ``b`` on every objective and strictly better
        on at least one. ``dominates(a, a)`` is ``False``.

    Raises:
        ValueError, TypeError: as :func:`pareto_front` (``a`` is row 0 and ``b`` row 1).

    Examples:
        >>> dominates({"accuracy": 0.9, "latency": 2.0}, {"accuracy": 0.9, "latency": 3.0})
        True
    """
    keys, maximize = _check_objectives(objectives)
    va, vb = _table([a, b], keys) * np.where(maximize, -1.0, 1.0)  # smaller is better
    return bool(np.all(va <= vb) and np.any(va < vb))


def _check_objectives(objectives: Mapping[str, str]) -> tuple[list[str], list[bool]]:
    if not isinstance(objectives, Mapping):
        raise TypeError(
            f"objectives must be a mapping of key -> 'max' or 'min', got {type(objectives).__name__}; "
            "for example {'accuracy': 'max', 'latency': 'min'}"
        )
    if not objectives:
        raise ValueError(
            "objectives is empty: name at least one key and its direction, for example "
            "{'accuracy': 'max', 'latency': 'min'}"
        )
    keys, maximize = [], []
    for key, direction in objectives.items():
        if direction not in DIRECTIONS:
            hint = difflib.get_close_matches(str(direction).lower(), DIRECTIONS, n=1, cutoff=0.3)
            did = f" Did you mean {hint[0]!r}?" if hint else ""
            raise ValueError(
                f"objective {key!r} has direction {direction!r}; valid directions are "
                f"{', '.join(map(repr, DIRECTIONS))}.{did}"
            )
        keys.append(key)
        maximize.append(direction == "max")
    return keys, maximize


def _as_list(rows: Iterable[Any]) -> list[Any]:
    if isinstance(rows, Mapping):
        raise TypeError("rows must be a sequence of rows, got a single mapping; wrap it in a list: [row]")
    if hasattr(rows, "columns") and hasattr(rows, "to_dict"):
        raise TypeError("rows looks like a DataFrame; pass df.to_dict('records') (a list of row dicts)")
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Iterable):
        raise TypeError(f"rows must be a sequence of mappings or objects with to_dict(), got {type(rows).__name__}")
    return list(rows)


def _as_mapping(row: Any, index: int) -> Mapping[str, Any]:
    if isinstance(row, Mapping):
        return row
    to_dict = getattr(row, "to_dict", None)
    if callable(to_dict):
        d = to_dict()
        if isinstance(d, Mapping):
            return d
        raise TypeError(f"row {index}: to_dict() returned {type(d).__name__}, not a mapping")
    raise TypeError(
        f"row {index} is a {type(row).__name__}; each row must be a mapping or have to_dict() (like EvalReport)"
    )


_FAST_TYPES = (float, int)


def _table(rows: list[Any], keys: list[str]) -> np.ndarray:
    """The objectives of ``rows`` as an (n, m) float64 array, every value checked."""
    maps = [_as_mapping(row, i) for i, row in enumerate(rows)]
    out = np.empty((len(maps), len(keys)))
    for j, key in enumerate(keys):
        try:
            col = [d[key] for d in maps]
        except KeyError:
            i = next(i for i, d in enumerate(maps) if key not in d)
            have = ", ".join(map(repr, maps[i])) or "none"
            hint = difflib.get_close_matches(str(key), [str(k) for k in maps[i]], n=1)
            did = f" Did you mean {hint[0]!r}?" if hint else ""
            raise ValueError(f"row {i} has no key {key!r}; its keys are: {have}.{did}") from None
        if not all(type(x) in _FAST_TYPES for x in col):
            for i, x in enumerate(col):
                if not isinstance(x, numbers.Real):
                    raise TypeError(
                        f"row {i}, key {key!r}: {x!r} ({type(x).__name__}) is not a real number; "
                        "objectives must be ints, floats or bools"
                    )
        out[:, j] = col
        nan = np.isnan(out[:, j])
        if nan.any():
            i = int(np.argmax(nan))
            raise ValueError(
                f"row {i}, key {key!r} is NaN; NaN cannot be ranked: drop the row or fill the "
                "value (EvalReport.error_recovery, for one, is NaN when no episode left the path)"
            )
    return out


# --------------------------------------------------------------------------------------------
# plotting


def plot_pareto(
    rows: Iterable[Any],
    x: str,
    y: str,
    objectives: Mapping[str, str] | None = None,
    label_key: str | None = None,
    ax: Any | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Any:
    """Scatter every row on ``x`` against ``y`` and highlight the front, joined as a staircase.

    Args:
        rows: as :func:`pareto_front`.
        x: the key on the horizontal axis.
        y: the key on the vertical axis.
        objectives: key -> ``"max"`` or ``"min"``; it must give directions for ``x`` and ``y``.
            Defaults to :data:`DEFAULT_OBJECTIVES` when both of its keys are plotted, otherwise
            to ``{x: "max", y: "min"}``. With more objectives than ``x`` and ``y`` the front is
            computed over all of them and highlighted without the staircase (a front of three
            objectives seen in two is not a staircase).
        label_key: a key whose value is written next to each point (for example ``"agent"``).
        ax: a matplotlib ``Axes`` to draw on; a new figure when ``None``.
        path: where to save the figure as PNG (150 dpi), if given.

    Returns:
        The ``Axes`` drawn on.

    Raises:
        ImportError: matplotlib is not installed (``pip install "r1gym[plot]"``).
        ValueError, TypeError: as :func:`pareto_front`, or ``x`` / ``y`` without a direction.
    """
    try:
        import matplotlib  # noqa: F401

        if ax is None:
            import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError('plot_pareto needs matplotlib: pip install "r1gym[plot]"') from e

    if objectives is None:
        objectives = DEFAULT_OBJECTIVES if set(DEFAULT_OBJECTIVES) == {x, y} else {x: "max", y: "min"}
    keys, maximize = _check_objectives(objectives)
    for name, axis in ((x, "x"), (y, "y")):
        if name not in objectives:
            raise ValueError(
                f"{axis}={name!r} has no direction in objectives (keys: {', '.join(map(repr, keys))}); "
                f"add it, for example objectives={{..., {name!r}: 'max'}}"
            )
    rows = _as_list(rows)
    table = _table(rows, keys)
    mask = pareto_mask(table, maximize) if rows else np.zeros(0, dtype=bool)
    xs, ys = table[:, keys.index(x)], table[:, keys.index(y)]

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.8), layout="constrained")
    ax.scatter(xs[~mask], ys[~mask], s=28, color="0.65", label="dominated", zorder=2)
    ax.scatter(xs[mask], ys[mask], s=46, color="C3", edgecolor="black", linewidth=0.6, label="Pareto front", zorder=3)
    if mask.any() and set(keys) == {x, y}:
        order = np.argsort(xs[mask], kind="stable")
        # the boundary of what the front dominates: with x to maximize, the best y on
        # (x_i, x_i+1] is that of point i+1 ("pre"); with x to minimize, that of point i ("post")
        where = "pre" if objectives[x] == "max" else "post"
        ax.step(xs[mask][order], ys[mask][order], where=where, color="C3", linewidth=1.2, zorder=1)
    if label_key is not None:
        for i, row in enumerate(rows):
            d = _as_mapping(row, i)
            if label_key not in d:
                raise ValueError(f"row {i} has no label key {label_key!r}; its keys are: {', '.join(map(repr, d))}")
            ax.annotate(str(d[label_key]), (xs[i], ys[i]), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel(_axis_label(x, objectives[x], horizontal=True))
    ax.set_ylabel(_axis_label(y, objectives[y], horizontal=False))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    if path is not None:
        ax.figure.savefig(path, dpi=150, format="png")
    return ax


def _axis_label(key: str, direction: str, horizontal: bool) -> str:
    if direction == "max":
        return f"{key} (higher is better {'→' if horizontal else '↑'})"
    return f"{key} (lower is better {'←' if horizontal else '↓'})"
