"""Seeds derived with ``numpy.random.SeedSequence``, as the environments derive theirs.

A run's randomness descends from ``SeedSequence(seed)`` by keys: rank ``r``'s streams are
``SeedSequence(seed, spawn_key=(r,))`` (:func:`rank_seeds`), and each use within them (sampling,
episodes, the teacher) is a further key (:func:`child`). Distinct keys give independent streams,
and no (seed, key) pair stands for another: an offset such as ``seed + 1000 * rank`` would give
rank 1 of seed 1 the episodes of rank 0 of seed 1001.
"""

from __future__ import annotations

import numpy as np

__all__ = ["child", "rank_seeds", "seed_of"]


def child(seeds: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    """The descendant ``key`` of ``seeds`` (its ``spawn_key`` extended by ``key``): what
    ``seeds.spawn`` would give, but the same whatever was spawned from ``seeds`` before."""
    return np.random.SeedSequence(seeds.entropy, spawn_key=(*seeds.spawn_key, *key), pool_size=seeds.pool_size)


def rank_seeds(seed: int, rank: int) -> np.random.SeedSequence:
    """Rank ``rank``'s seed sequence in the run seeded ``seed`` (``seed`` >= 0)."""
    return np.random.SeedSequence(seed, spawn_key=(rank,))


def seed_of(seeds: np.random.SeedSequence) -> int:
    """A 32-bit integer seed from a seed sequence, for APIs that take an int (``env.reset``,
    ``torch.Generator.manual_seed``, ``random.seed``)."""
    return int(seeds.generate_state(1)[0])
