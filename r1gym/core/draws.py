"""The random choices a node makes, from the node's own generator."""

from __future__ import annotations

import numpy as np


class Draws:
    """Uniform numbers from a node's generator, drawn in blocks of 32 and handed out one at a
    time: a node makes a dozen small random choices, and one numpy call per block costs less
    than a numpy call per choice. Deterministic for a given generator state."""

    __slots__ = ("_buf", "_rng")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._buf: list[float] = []

    def uniform(self) -> float:
        if not self._buf:
            self._buf = self._rng.random(32).tolist()
        return self._buf.pop()

    def index(self, n: int) -> int:
        """Uniform in ``range(n)``."""
        return min(int(self.uniform() * n), n - 1)

    def permutation(self, n: int) -> list[int]:
        """A uniformly random order of ``range(n)``."""
        if n < 2:
            return list(range(n))
        buf = self._buf
        if len(buf) >= n:  # the next n numbers of the block, as n calls of uniform() would pop them
            keys = buf[: -n - 1 : -1]
            del buf[-n:]
        else:  # what is left of the block, then new blocks, in the order uniform() would pop them
            keys = buf[::-1]
            while len(keys) < n:
                buf = self._rng.random(32).tolist()
                take = min(n - len(keys), len(buf))
                keys += buf[: -take - 1 : -1]
                del buf[-take:]
            self._buf = buf
        return sorted(range(n), key=keys.__getitem__)
