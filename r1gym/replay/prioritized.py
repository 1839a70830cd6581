"""Reward-prioritized replay of arbitrary items (trajectories, prompts, transitions).

Item ``i`` with reward ``r_i`` gets the priority ``p_i = (r_i + eps) ** omega`` and is drawn with
probability

    P(i) = (r_i + eps)^omega / sum_j (r_j + eps)^omega

(DESIGN.md, ``omega = 0.7``). ``eps > 0`` keeps an item of reward 0 in play; ``omega`` tempers
the preference (0: uniform, 1: proportional to ``r + eps``). Rewards must be ``>= -eps``: a
reward of exactly ``-eps`` has priority 0 and is never drawn, and one below ``-eps`` has no real
priority at all and raises ``ValueError``. r1gym's rewards lie in [-0.05, 1] (a masked action
costs 0.05), so shift or clip them yourself before adding, whichever your method calls for;
:class:`r1gym.wrappers.record.TrajectoryRecorder` clips episode returns at 0.

Sampling is stratified (Schaul et al., 2016): the total priority is cut into ``batch_size``
equal segments and one item is drawn in each, through a :class:`~r1gym.replay.sumtree.SumTree`
(``O(log N)`` per draw, vectorized over the batch). Each draw comes with an importance weight

    w_i = (N * P(i))^(-beta) / max_j (N * P(j))^(-beta) = (p_min / p_i)^beta

where the maximum runs over the ``N`` stored items of non-zero priority (the weight of the least
probable one, which a :class:`~r1gym.replay.sumtree.MinTree` keeps exactly), so weights lie in
(0, 1]. ``beta`` grows linearly from ``beta`` to ``beta_final`` over ``beta_steps`` calls of
:meth:`PrioritizedReplay.sample`, as the paper anneals it to full correction at the end of
training.
"""

from __future__ import annotations

import io
import math
import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from r1gym.replay.sumtree import MinTree, SumTree, check_rng, stratified_indices

#: Bumped whenever the layout written by :meth:`PrioritizedReplay.save` changes.
FORMAT_VERSION = 1


def check_int(name: str, value: object, minimum: int) -> int:
    """``value`` as an int, or a clear TypeError / ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_beta(beta: float, beta_final: float, beta_steps: int) -> tuple[float, float, int]:
    """Validate an annealing schedule: both ends in [0, 1], ``beta_steps >= 0``."""
    for name, value in (("beta", beta), ("beta_final", beta_final)):
        if not (isinstance(value, (int, float, np.floating)) and 0.0 <= float(value) <= 1.0):
            raise ValueError(f"{name} must be a number in [0, 1] (0: no correction, 1: full), got {value!r}")
    return float(beta), float(beta_final), check_int("beta_steps", beta_steps, 0)


def annealed_beta(beta: float, beta_final: float, beta_steps: int, calls: int) -> float:
    """``beta`` moved linearly toward ``beta_final``, reached after ``beta_steps`` calls."""
    if beta_steps == 0 or calls >= beta_steps:
        return beta_final
    return beta + (beta_final - beta) * calls / beta_steps


class AnnealedBeta:
    """The importance-weight exponent, annealed linearly over the calls of ``sample``.

    Shared by :class:`PrioritizedReplay` and the SB3 buffers; the class using it sets
    ``beta_initial``, ``beta_final``, ``beta_steps`` and counts ``_sample_calls``.
    """

    beta_initial: float
    beta_final: float
    beta_steps: int
    _sample_calls: int

    @property
    def beta(self) -> float:
        """The importance-weight exponent the next :meth:`sample` call will use."""
        return annealed_beta(self.beta_initial, self.beta_final, self.beta_steps, self._sample_calls)

    @property
    def sample_calls(self) -> int:
        """How many times :meth:`sample` has been called (drives the annealing of ``beta``)."""
        return self._sample_calls


class PrioritizedReplay(AnnealedBeta):
    """A ring buffer of items drawn by reward priority ``(r + eps) ** omega``.

    See the module docstring for the formulas. The buffer keeps ``capacity`` items; once full,
    each add overwrites the oldest slot (slot ``i`` holds the ``i``-th, ``i + capacity``-th, ...
    item added). Indices returned by :meth:`add` and :meth:`sample` are slots.

    Args:
        capacity: how many items the buffer holds (an int >= 1).
        omega: priority exponent (>= 0); 0.7 as in DESIGN.md, 0 gives uniform sampling.
        eps: added to every reward (> 0) so that a reward of 0 keeps a chance.
        beta: importance-weight exponent at the first :meth:`sample` call, in [0, 1].
        beta_final: the exponent after ``beta_steps`` calls, in [0, 1].
        beta_steps: the number of :meth:`sample` calls over which ``beta`` is annealed
            (0: ``beta_final`` from the start).

    Raises:
        TypeError: ``capacity`` or ``beta_steps`` is not an int.
        ValueError: an argument outside the ranges above.

    Examples:
        >>> import numpy as np
        >>> replay = PrioritizedReplay(capacity=100, omega=0.7, eps=1e-2)
        >>> replay.add("a wrong answer", 0.0)
        0
        >>> replay.add_batch(["a good answer", "a perfect answer"], [0.8, 1.0]).tolist()
        [1, 2]
        >>> items, indices, weights = replay.sample(4, np.random.default_rng(0))
        >>> len(items), indices.shape, bool(weights.max() <= 1.0)
        (4, (4,), True)
        >>> replay.update(indices, np.zeros(4))  # re-scored: all four now count as reward 0
    """

    def __init__(
        self,
        capacity: int,
        omega: float = 0.7,
        eps: float = 1e-2,
        beta: float = 0.4,
        beta_final: float = 1.0,
        beta_steps: int = 100_000,
    ) -> None:
        self.capacity = check_int("capacity", capacity, 1)
        if not (isinstance(omega, (int, float, np.floating)) and math.isfinite(omega) and omega >= 0):
            raise ValueError(f"omega must be a finite number >= 0 (0: uniform, 0.7: the default), got {omega!r}")
        if not (isinstance(eps, (int, float, np.floating)) and math.isfinite(eps) and eps > 0):
            raise ValueError(f"eps must be a finite number > 0 (it keeps reward-0 items in play), got {eps!r}")
        self.omega = float(omega)
        self.eps = float(eps)
        self.beta_initial, self.beta_final, self.beta_steps = check_beta(beta, beta_final, beta_steps)
        self._items: list[Any] = [None] * self.capacity
        self._rewards = np.zeros(self.capacity, dtype=np.float64)
        self._sum = SumTree(self.capacity)
        self._min = MinTree(self.capacity)
        self._pos = 0
        self._size = 0
        self._sample_calls = 0

    # ------------------------------------------------------------------ state

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:
        return (
            f"PrioritizedReplay(capacity={self.capacity}, omega={self.omega}, eps={self.eps}, "
            f"beta={self.beta:.3f}, size={self._size})"
        )

    @property
    def rewards(self) -> np.ndarray:
        """A copy of the rewards of the stored items, by slot."""
        return self._rewards[: self._size].copy()

    def items(self) -> list[Any]:
        """The stored items, by slot (a new list; the items themselves are not copied)."""
        return self._items[: self._size]

    def priority(self, rewards: ArrayLike) -> np.ndarray:
        """``(r + eps) ** omega`` for valid rewards (see :meth:`add` for what is valid)."""
        r = self._check_rewards(rewards)
        return np.power(np.maximum(r + self.eps, 0.0), self.omega)

    def probabilities(self) -> np.ndarray:
        """``P(i)`` of every stored item, by slot (sums to 1 unless every priority is 0)."""
        p = self._sum.values()[: self._size]
        total = p.sum()
        return p / total if total > 0 else p

    # ------------------------------------------------------------------ checks

    def _check_rewards(self, rewards: ArrayLike, n: int | None = None) -> np.ndarray:
        try:
            r = np.asarray(rewards, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"rewards must be numbers, got {rewards!r}") from None
        if r.ndim > 1:
            raise ValueError(f"rewards must be a scalar or 1-D, got shape {r.shape}")
        r = r.reshape(-1)
        if n is not None and r.size != n:
            raise ValueError(f"got {n} items/indices but {r.size} rewards; pass one reward per item")
        if not np.all(np.isfinite(r)):
            raise ValueError(f"rewards must be finite, got {r[~np.isfinite(r)][0]!r}")
        if r.size and r.min() < -self.eps:
            raise ValueError(
                f"reward {r.min()!r} is below -eps = {-self.eps}: (r + eps) ** omega has no real value. "
                "Shift or clip rewards to >= -eps before adding them (r1gym rewards lie in [-0.05, 1]: "
                "e.g. max(r, 0.0), or r + 0.05)"
            )
        return r

    def _check_indices(self, indices: ArrayLike) -> np.ndarray:
        idx = np.asarray(indices)
        if idx.size and (idx.dtype == np.bool_ or not np.issubdtype(idx.dtype, np.integer)):
            raise TypeError(f"indices must be integers (slots returned by add or sample), got {idx.dtype}")
        idx = idx.astype(np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self.capacity):
            bad = idx[(idx < 0) | (idx >= self.capacity)][0]
            raise IndexError(f"index {bad} is out of range for a buffer of capacity {self.capacity}")
        if idx.size and idx.max() >= self._size:
            raise IndexError(
                f"slot {idx.max()} was never written (the buffer holds {self._size} items, slots "
                f"0..{self._size - 1}); update only indices returned by add or sample"
            )
        return idx

    # ------------------------------------------------------------------ writing

    def _write(self, slots: np.ndarray, rewards: np.ndarray) -> None:
        p = np.power(np.maximum(rewards + self.eps, 0.0), self.omega)
        self._rewards[slots] = rewards
        self._sum.update(slots, p)
        self._min.update(slots, np.where(p > 0, p, np.inf))

    def add(self, item: Any, reward: float) -> int:
        """Store one item with its reward; returns its slot.

        Args:
            item: any Python object (kept by reference; pickled by :meth:`save`).
            reward: a finite number ``>= -eps``.

        Raises:
            ValueError: the reward is NaN, infinite or below ``-eps`` (nothing is stored).
        """
        r = self._check_rewards(reward, 1)
        slot = self._pos
        self._items[slot] = item
        self._write(np.array([slot]), r)
        self._pos = (slot + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)
        return slot

    def add_batch(self, items: Sequence[Any], rewards: ArrayLike) -> np.ndarray:
        """Store many items at once, as that many :meth:`add` calls would, but vectorized.

        Returns the slot of every item, in order. A batch longer than the free room wraps
        around; one longer than ``capacity`` leaves only its last ``capacity`` items stored
        (the earlier ones' slots, in the result, hold later items).

        Raises:
            ValueError: ``len(items) != len(rewards)``, or an invalid reward (nothing is stored).
        """
        if not hasattr(items, "__len__"):
            items = list(items)
        n = len(items)
        r = self._check_rewards(rewards, n)
        slots = (self._pos + np.arange(n)) % self.capacity
        if n == 0:
            return slots
        keep = min(n, self.capacity)
        first = n - keep
        start = int(slots[first])
        tail = min(keep, self.capacity - start)
        self._items[start : start + tail] = items[first : first + tail]
        if keep > tail:
            self._items[: keep - tail] = items[first + tail : n]
        self._write(slots[first:], r[first:])
        self._pos = (self._pos + n) % self.capacity
        self._size = min(self._size + n, self.capacity)
        return slots

    def update(self, indices: ArrayLike, rewards: ArrayLike) -> None:
        """Give the items at ``indices`` new rewards (and so new priorities), vectorized.

        When a slot repeats, its last reward wins.

        Raises:
            IndexError: an index out of ``[0, capacity)`` or a slot never written.
            ValueError: a different number of rewards than indices, or an invalid reward.
        """
        idx = self._check_indices(indices)
        r = self._check_rewards(rewards, idx.size)
        if idx.size:
            self._write(idx, r)

    # ------------------------------------------------------------------ sampling

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple[list[Any], np.ndarray, np.ndarray]:
        """Draw ``batch_size`` items by priority, with replacement, stratified.

        Args:
            batch_size: how many draws (>= 1; may exceed ``len(self)``).
            rng: the numpy Generator to draw from (required: nothing global is used).

        Returns:
            ``(items, indices, weights)``: the drawn items (a list), their slots (int64) and
            their importance weights ``(p_min / p_i) ** beta`` (float64, in (0, 1]).

        Raises:
            ValueError: the buffer is empty, every stored item has priority 0 (all rewards
                ``== -eps``), or ``batch_size < 1``.
            TypeError: ``rng`` is not a numpy Generator.
        """
        batch_size = check_int("batch_size", batch_size, 1)
        check_rng(rng)
        if self._size == 0:
            raise ValueError("sample from an empty PrioritizedReplay: add items first")
        if not self._sum.total() > 0:
            raise ValueError(
                f"every stored item has priority 0 (reward == -eps = {-self.eps}), so none can be drawn: "
                "update or add items with a larger reward"
            )
        beta = self.beta
        self._sample_calls += 1
        idx = stratified_indices(self._sum, batch_size, rng)
        p = self._sum.get(idx)
        weights = np.power(self._min.min() / p, beta) if beta > 0 else np.ones(batch_size)
        return [self._items[i] for i in idx.tolist()], idx, weights

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the buffer to ``path`` (one ``.npz`` file, written whole or not at all).

        The numeric state (rewards, write position, size, sampling count, the settings) is stored
        as numpy arrays; the items are pickled into one more array of the same file. Priorities
        are recomputed from the rewards on :meth:`load`, so they round-trip exactly.

        Returns:
            The path written (exactly ``path``: no suffix is appended).
        """
        path = Path(path)
        payload = pickle.dumps(self._items[: self._size], protocol=pickle.HIGHEST_PROTOCOL)
        buf = io.BytesIO()
        np.savez(
            buf,
            format_version=np.int64(FORMAT_VERSION),
            capacity=np.int64(self.capacity),
            omega=np.float64(self.omega),
            eps=np.float64(self.eps),
            beta=np.float64(self.beta_initial),
            beta_final=np.float64(self.beta_final),
            beta_steps=np.int64(self.beta_steps),
            pos=np.int64(self._pos),
            size=np.int64(self._size),
            sample_calls=np.int64(self._sample_calls),
            rewards=self._rewards[: self._size],
            items=np.frombuffer(payload, dtype=np.uint8),
        )
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PrioritizedReplay:
        """Read a buffer written by :meth:`save`.

        The items are unpickled: load only files you trust, as with any pickle.

        Raises:
            FileNotFoundError: no file at ``path``.
            ValueError: the file is not a buffer saved by :meth:`save` (corrupt, truncated, or of
                another format version).
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no replay file at {str(path)!r}; write one with PrioritizedReplay.save(path)")
        try:
            with np.load(path, allow_pickle=False) as data:
                state = {key: data[key] for key in data.files}
            version = int(state["format_version"])
            if version != FORMAT_VERSION:
                raise ValueError(f"format version {version}, this r1gym reads {FORMAT_VERSION}")
            replay = cls(
                int(state["capacity"]),
                omega=float(state["omega"]),
                eps=float(state["eps"]),
                beta=float(state["beta"]),
                beta_final=float(state["beta_final"]),
                beta_steps=int(state["beta_steps"]),
            )
            size, pos = int(state["size"]), int(state["pos"])
            rewards = np.asarray(state["rewards"], dtype=np.float64)
            items = pickle.loads(state["items"].tobytes())
            if not (0 <= size <= replay.capacity and 0 <= pos < replay.capacity) or len(items) != size:
                raise ValueError("inconsistent sizes")
            if rewards.shape != (size,):
                raise ValueError("inconsistent rewards")
        except FileNotFoundError:
            raise
        except Exception as exc:  # corrupt zip, missing key, bad pickle, bad values, ...
            raise ValueError(
                f"{str(path)!r} is not a readable PrioritizedReplay file ({type(exc).__name__}: {exc}); "
                "it may be truncated or written by something else"
            ) from exc
        if size:
            replay._items[:size] = items
            replay._write(np.arange(size), replay._check_rewards(rewards))
        replay._size, replay._pos = size, pos
        replay._sample_calls = int(state["sample_calls"])
        return replay
