"""Signed feature hashing of words and word pairs (numpy only)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

from r1gym.embed.base import l2_normalize

_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+|[^\sa-z\d]")


class HashingEmbedder:
    """Bag of hashed tokens (words, numbers, symbols) and adjacent token pairs.

    Each token feature goes to bucket ``crc32(token) % dim`` with a sign taken from another bit
    of the hash (the "hashing trick"); the counts are L2-normalized. A context is the question
    plus the steps of the path, built from the cached counts of each piece, so a step costs a
    few dictionary look-ups. ``crc32`` rather than Python's ``hash`` keeps vectors identical
    across processes.

    Args:
        dim: the vector size D.
        cache_size: texts whose counts are kept; the oldest are dropped first.
    """

    def __init__(self, dim: int = 64, cache_size: int = 50_000) -> None:
        if not isinstance(dim, int) or dim < 2:
            raise ValueError(f"embed_dim must be an integer >= 2, got {dim!r}")
        if cache_size < 1:
            raise ValueError(f"cache_size must be >= 1, got {cache_size!r}")
        self.dim = dim
        self.cache_size = cache_size
        self._cache: dict[str, np.ndarray] = {}

    def __getstate__(self) -> dict:
        return {"dim": self.dim, "cache_size": self.cache_size}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def _features(self, text: str) -> tuple[list[int], list[float]]:
        tokens = _TOKEN.findall(text.lower())
        feats = tokens + [a + " " + b for a, b in zip(tokens, tokens[1:])]
        idx, sign = [], []
        dim = self.dim
        for f in feats:
            h = zlib.crc32(f.encode())
            idx.append(h % dim)
            sign.append(1.0 if h & 0x80000000 else -1.0)
        return idx, sign

    def raw(self, texts: Sequence[str]) -> np.ndarray:
        """Unnormalized feature counts, ``(len(texts), dim)``."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing = []
        cache = self._cache
        for i, t in enumerate(texts):
            v = cache.get(t)
            if v is None:
                missing.append(i)
            else:
                out[i] = v
        if missing:
            idx_all: list[int] = []
            sign_all: list[float] = []
            for row, i in enumerate(missing):
                idx, sign = self._features(texts[i])
                off = row * self.dim
                idx_all.extend(j + off for j in idx)
                sign_all.extend(sign)
            counts = np.bincount(idx_all, weights=sign_all, minlength=len(missing) * self.dim)
            counts = counts.reshape(len(missing), self.dim).astype(np.float32)
            out[missing] = counts
            for row, i in enumerate(missing):
                if len(cache) >= self.cache_size:
                    del cache[next(iter(cache))]
                cache[texts[i]] = counts[row]
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalize(self.raw(texts))

    def embed_context(self, question: str, steps: Sequence[str]) -> np.ndarray:
        return l2_normalize(self.raw([question, *steps]).sum(axis=0))
