"""What every problem source gives the environment."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from r1gym.core.problem import Problem


class Task(ABC):
    """A source of problems, each rebuilt from ``(seed, index)`` without iterating.

    Procedural tasks are unlimited (``size is None``): problem ``i`` is generated from a random
    generator seeded with ``SeedSequence([seed, i])``, so problem 7 is the same problem in every
    process and on every machine, and distinct ``(seed, index)`` pairs draw independent streams
    (never ``seed + index``, which makes seed 43 replay seed 42 shifted by one).
    Datasets have a ``size`` and serve their items in order.

    Args:
        seed: the task's own seed; it fixes which problem each index is.
    """

    #: the domain label written into every problem
    domain: str = ""
    #: number of problems, or None for an unlimited procedural source
    size: int | None = None

    def __init__(self, seed: int = 0) -> None:
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"task seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)

    @abstractmethod
    def problem(self, index: int) -> Problem:
        """The problem at ``index``: always the same for the same task seed and index."""

    def rng(self, index: int) -> np.random.Generator:
        """The generator problem ``index`` is drawn with."""
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, index])))

    def sample_index(self, rng: np.random.Generator) -> int:
        """A problem index drawn with the environment's generator."""
        if self.size is None:
            return int(rng.integers(0, 2**62))
        return int(rng.integers(0, self.size))

    def check_index(self, index: object) -> int:
        """Validate a ``problem_index`` from ``reset(options=...)``."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"problem_index must be an integer, got {index!r}")
        index = int(index)
        limit = self.size if self.size is not None else 2**62
        if not 0 <= index < limit:
            raise ValueError(f"problem_index must lie in [0, {limit}) for this task, got {index}")
        return index
