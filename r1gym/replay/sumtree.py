"""Segment trees over a fixed number of non-negative leaves, in vectorized numpy.

Nothing here knows about reinforcement learning: a :class:`SumTree` holds ``size`` values and
answers "which leaf does the running sum reach ``v`` in?" for a whole batch of ``v`` at once; a
:class:`MinTree` answers "what is the smallest value?". Both are padded to a power of two,
``bound``, and stored in one array of ``2 * bound`` nodes: the root is node 1, node ``k`` has
children ``2k`` and ``2k + 1``, and leaf ``i`` is node ``bound + i``.

Writes are vectorized: the leaves are set in one assignment, then the parents are recomputed
from their children one level at a time (a Python loop over the ``log2(bound)`` levels, none
over the elements). Parents are recomputed, never adjusted by a difference, so no rounding error
accumulates however many updates a tree sees.

Examples:
    >>> import numpy as np
    >>> tree = SumTree(5)
    >>> tree[np.arange(5)] = [1.0, 0.0, 2.0, 0.0, 1.0]
    >>> float(tree.total())
    4.0
    >>> tree.find_prefixsum_idx([0.0, 0.99, 1.0, 2.5, 3.0, 3.99]).tolist()
    [0, 0, 2, 2, 4, 4]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


class _SegmentTree:
    """A complete binary tree over ``size`` leaves that combines children with ``_combine``."""

    _neutral: float = 0.0

    def __init__(self, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
            raise TypeError(f"size must be an int, got {type(size).__name__} {size!r}")
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        self._size = int(size)
        self._bound = 1 << (self._size - 1).bit_length()
        self._depth = self._bound.bit_length() - 1
        self._value = np.full(2 * self._bound, self._neutral, dtype=np.float64)
        # node k's children side by side: row k of this view is (node 2k, node 2k + 1), so one
        # gather fetches both children from the same cache line
        self._pairs = self._value.reshape(-1, 2)

    @staticmethod
    def _combine(left: np.ndarray, right: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __len__(self) -> int:
        return self._size

    @property
    def bound(self) -> int:
        """The number of leaves after padding: the smallest power of two >= ``size``."""
        return self._bound

    def _check_indices(self, indices: ArrayLike) -> np.ndarray:
        idx = np.asarray(indices)
        if idx.dtype == np.bool_ or not np.issubdtype(idx.dtype, np.integer):
            if idx.size == 0:
                return idx.astype(np.int64).reshape(-1)
            raise TypeError(f"indices must be integers, got an array of {idx.dtype}")
        idx = idx.astype(np.int64, copy=False).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self._size):
            bad = idx[(idx < 0) | (idx >= self._size)][0]
            raise IndexError(
                f"index {bad} is out of range for a tree of {self._size} leaves (valid: 0..{self._size - 1})"
            )
        return idx

    def update(self, indices: ArrayLike, values: ArrayLike) -> None:
        """Set the leaves ``indices`` to ``values`` and recompute their ancestors.

        Args:
            indices: leaf indices in ``[0, size)``; a scalar or any 1-D array-like. When an index
                repeats, its last value wins.
            values: one finite non-negative value per index, or a scalar for all of them.

        Raises:
            IndexError: an index outside ``[0, size)``.
            ValueError: a value that is negative, NaN or infinite (where the tree forbids it), or
                a number of values that differs from the number of indices.
        """
        idx = self._check_indices(indices)
        vals = np.asarray(values, dtype=np.float64).reshape(-1)
        if vals.size == 1 and idx.size != 1:
            vals = np.broadcast_to(vals, idx.shape)
        if vals.size != idx.size:
            raise ValueError(f"got {idx.size} indices but {vals.size} values; pass one value per index")
        if idx.size == 0:
            return
        self._check_values(vals)
        if idx.size > 1:
            # keep the last occurrence of a repeated index, so that the result does not depend
            # on numpy's (unspecified) order of fancy assignment
            rev_unique, rev_pos = np.unique(idx[::-1], return_index=True)
            vals = vals[::-1][rev_pos]
            idx = rev_unique
        nodes = idx + self._bound
        tree = self._value
        tree[nodes] = vals
        if 4 * idx.size >= self._bound:
            # a large batch: recomputing whole levels with slices is cheaper than gathering
            lo = self._bound >> 1
            while lo >= 1:
                tree[lo : 2 * lo] = self._combine(tree[2 * lo : 4 * lo : 2], tree[2 * lo + 1 : 4 * lo : 2])
                lo >>= 1
            return
        for _ in range(self._depth):
            # repeated parents are harmless here: each gets the same value from its children
            nodes >>= 1
            children = self._pairs.take(nodes, axis=0)
            tree[nodes] = self._combine(children[:, 0], children[:, 1])

    def __setitem__(self, indices: ArrayLike, values: ArrayLike) -> None:
        self.update(indices, values)

    def get(self, indices: ArrayLike) -> np.ndarray:
        """The values of the leaves ``indices`` (an array even for a scalar index)."""
        return self._value[self._check_indices(indices) + self._bound]

    def __getitem__(self, indices: ArrayLike) -> np.ndarray | float:
        out = self.get(indices)
        return float(out[0]) if np.ndim(indices) == 0 else out

    def values(self) -> np.ndarray:
        """A copy of all ``size`` leaves."""
        return self._value[self._bound : self._bound + self._size].copy()

    def reset(self) -> None:
        """Set every leaf back to the neutral value (0 for a sum tree, +inf for a min tree)."""
        self._value.fill(self._neutral)

    def _check_values(self, vals: np.ndarray) -> None:
        raise NotImplementedError  # pragma: no cover - abstract

    def __getstate__(self) -> dict:
        return {"size": self._size, "value": self._value}

    def __setstate__(self, state: dict) -> None:
        self._size = state["size"]
        self._bound = 1 << (self._size - 1).bit_length()
        self._depth = self._bound.bit_length() - 1
        self._value = state["value"]
        self._pairs = self._value.reshape(-1, 2)


class SumTree(_SegmentTree):
    """Sums of non-negative leaves, with a vectorized prefix-sum search.

    Args:
        size: the number of leaves (any ``size >= 1``; storage is padded to a power of two).

    Examples:
        >>> tree = SumTree(3)
        >>> tree.update([0, 1, 2], [0.5, 0.0, 1.5])
        >>> tree.find_prefixsum_idx([0.25, 0.5, 1.9]).tolist()
        [0, 2, 2]
    """

    _neutral = 0.0

    @staticmethod
    def _combine(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return left + right

    def _check_values(self, vals: np.ndarray) -> None:
        if not np.all(np.isfinite(vals)) or np.any(vals < 0):
            bad = vals[~np.isfinite(vals) | (vals < 0)][0]
            raise ValueError(f"sum-tree values must be finite and >= 0, got {bad!r}")

    def total(self) -> float:
        """The sum of all leaves."""
        return float(self._value[1])

    def find_prefixsum_idx(self, values: ArrayLike) -> np.ndarray:
        """For each ``v``, the leaf ``i`` with ``sum(leaves[:i]) <= v < sum(leaves[:i + 1])``.

        Equivalent to ``np.searchsorted(np.cumsum(leaves), v, side="right")``, but in
        ``O(log size)`` per value: the whole batch descends from the root one level at a time,
        going right where ``v`` reaches the left child's sum (and subtracting that sum).

        A leaf of value 0 is never returned, even under rounding: the descent never enters a
        subtree whose sum is 0. A ``v`` at or past the total lands on the last non-zero leaf,
        a ``v`` below 0 on the first one.

        Args:
            values: a scalar or array of prefix sums, normally in ``[0, total())``.

        Returns:
            An int64 array of leaf indices with the shape of ``values`` (1-D for a scalar).

        Raises:
            ValueError: the tree's total is 0 (there is no leaf to find), or a value is NaN.
        """
        v = np.array(values, dtype=np.float64).reshape(-1)
        if not self._value[1] > 0:
            raise ValueError("find_prefixsum_idx on a tree whose leaves are all 0: set some positive values first")
        if np.isnan(v).any():
            raise ValueError("find_prefixsum_idx got NaN values")
        np.maximum(v, 0.0, out=v)
        node = np.ones(v.shape, dtype=np.int64)
        for _ in range(self._depth):
            children = self._pairs.take(node, axis=0)
            left_sum = children[:, 0]
            # go right where the value reaches the left child's sum and the right child holds
            # mass. Only subtrees with mass are entered: where the left one has none, v >= 0
            # reaches it and the right one must have some. v stays >= 0 (a >= b => a - b >= 0).
            right = (v >= left_sum) & (children[:, 1] > 0)
            v -= left_sum * right
            node <<= 1
            node += right
        return node - self._bound


class MinTree(_SegmentTree):
    """The minimum over the leaves; a leaf never set counts as ``+inf``.

    Args:
        size: the number of leaves.

    Examples:
        >>> tree = MinTree(4)
        >>> tree.update([1, 3], [2.0, 0.5])
        >>> tree.min()
        0.5
    """

    _neutral = float("inf")

    @staticmethod
    def _combine(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return np.minimum(left, right)

    def _check_values(self, vals: np.ndarray) -> None:
        if np.isnan(vals).any():
            raise ValueError("min-tree values must not be NaN (use +inf for an empty leaf)")

    def min(self) -> float:
        """The smallest leaf (``+inf`` when every leaf is empty)."""
        return float(self._value[1])


def stratified_indices(tree: SumTree, batch_size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``batch_size`` leaves with probability proportional to their values, stratified.

    The total is cut into ``batch_size`` equal segments and one point is drawn uniformly in
    each (Schaul et al., 2016, appendix B.2.1), so every draw on its own has the exact marginal
    ``leaf / total``, while a batch covers the whole range more evenly than independent draws.

    Args:
        tree: a sum tree with a positive total.
        batch_size: how many leaves (>= 1).
        rng: the generator to draw from.

    Returns:
        An int64 array of ``batch_size`` leaf indices, in increasing order of their segment.
    """
    total = tree.total()
    segment = total / batch_size
    u = (np.arange(batch_size) + rng.random(batch_size)) * segment
    return tree.find_prefixsum_idx(np.minimum(u, np.nextafter(total, 0.0)))


def check_rng(rng: object) -> np.random.Generator:
    """Raise a clear TypeError unless ``rng`` is a numpy Generator."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy Generator, got {type(rng).__name__}; "
            "pass np.random.default_rng(seed) (the global np.random is never used)"
        )
    return rng


__all__ = ["MinTree", "SumTree", "check_rng", "stratified_indices"]
