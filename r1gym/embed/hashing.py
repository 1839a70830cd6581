"""Signed feature hashing of words, numbers and word pairs (numpy only)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

from r1gym.embed.base import l2_normalize

_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+|[^\sa-z\d]")


class HashingEmbedder:
    """Bag of hashed tokens (words, numbers, symbols) and adjacent token pairs.

    Each feature (a token, or two adjacent tokens joined by a space) goes to bucket
    ``crc32(feature) % dim`` with a sign from bit 31 of the hash (the "hashing trick"); the
    signed counts are L2-normalized, so every coordinate lies in [-1, 1]. Each feature's bucket
    and each text's counts are cached, so a context (the question plus the steps of a path,
    all seen before as candidates) costs a few look-ups and a sum. ``crc32`` rather than
    Python's salted ``hash`` keeps vectors identical across processes and machines.

    Args:
        dim: the vector size D.
        cache_size: texts whose counts are kept (features: four times as many); a cache is
            emptied when full.
    """

    def __init__(self, dim: int = 64, cache_size: int = 50_000) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 2:
            raise ValueError(f"embed_dim must be an integer >= 2, got {dim!r}")
        if cache_size < 1:
            raise ValueError(f"cache_size must be >= 1, got {cache_size!r}")
        self.dim = dim
        self.cache_size = cache_size
        self._cache: dict[str, np.ndarray] = {}
        self._codes: dict[str, tuple[int, int]] = {}

    def __getstate__(self) -> dict:
        return {"dim": self.dim, "cache_size": self.cache_size}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def _code(self, feature: str) -> tuple[int, int]:
        """``(bucket, sign)`` of a feature, memoized."""
        h = zlib.crc32(feature.encode())
        if len(self._codes) >= 4 * self.cache_size:
            self._codes.clear()
        code = self._codes[feature] = (h % self.dim, 1 if h >> 31 else -1)
        return code

    def _count_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Signed counts of tokens and adjacent token pairs, ``(len(texts), dim)``.

        Plain Python over a few dozen features a text beats numpy's per-call overhead here.
        """
        get, new, dim = self._codes.get, self._code, self.dim
        out = []
        for t in texts:
            tokens = _TOKEN.findall(t.lower())
            v = [0] * dim
            for f in tokens:
                b, sgn = get(f) or new(f)
                v[b] += sgn
            for f in map(" ".join, zip(tokens, tokens[1:])):
                b, sgn = get(f) or new(f)
                v[b] += sgn
            out.append(v)
        return np.array(out, dtype=np.float32)

    def raw(self, texts: Sequence[str]) -> np.ndarray:
        """Unnormalized signed feature counts, ``(len(texts), dim)``."""
        cache = self._cache
        rows = [cache.get(t) for t in texts]
        missing = [i for i, v in enumerate(rows) if v is None]
        if missing:
            counts = self._count_batch([texts[i] for i in missing])
            for row, i in enumerate(missing):
                if len(cache) >= self.cache_size:
                    cache.clear()  # O(1) amortized; popping a dict's first key is O(n)
                cache[texts[i]] = rows[i] = counts[row]
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack(rows)  # type: ignore[arg-type]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalize(self.raw(texts))

    def embed_context(self, question: str, steps: Sequence[str]) -> np.ndarray:
        return l2_normalize(self.raw([question, *steps]).sum(axis=0))
