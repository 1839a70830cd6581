"""Signed feature hashing of words, numbers and word pairs (numpy only)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

from r1gym.embed.base import l2_normalize

_PUNCT = re.compile(r"[.,;:!?]+(?=\s|$)|[()\[\]\"']")


def _tokens(text: str) -> list[str]:
    """Lower-cased words, numbers and symbols: whitespace-separated, with sentence punctuation
    and brackets dropped (a decimal point inside a number stays)."""
    return _PUNCT.sub(" ", text.lower()).split()


class HashingEmbedder:
    """Bag of hashed tokens (words, numbers, symbols) and adjacent token pairs.

    Each feature (a token, or a pair of adjacent tokens) goes to bucket ``hash % dim`` with a
    sign from bit 31 of the hash (the "hashing trick"); the signed counts are L2-normalized, so
    every coordinate lies in [-1, 1]. Each token's hash and each text's counts are cached, so a
    context (the question plus the steps of a path, all seen before as candidates) costs a few
    look-ups and a sum. ``crc32`` rather than Python's salted ``hash`` keeps vectors identical
    across processes and machines.

    Args:
        dim: the vector size D.
        cache_size: texts whose counts are kept (features: four times as many); a cache is
            emptied when full. The default 20,000 holds the caches to about 16 MB at full (the
            memory bound of docs/speed.md).
    """

    def __init__(self, dim: int = 64, cache_size: int = 20_000) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 2:
            raise ValueError(f"embed_dim must be an integer >= 2, got {dim!r}")
        if cache_size < 1:
            raise ValueError(f"cache_size must be >= 1, got {cache_size!r}")
        self.dim = dim
        self.cache_size = cache_size
        self._cache: dict[str, np.ndarray] = {}
        self._hashes: dict[str, int] = {}

    def __getstate__(self) -> dict:
        return {"dim": self.dim, "cache_size": self.cache_size}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def _hash(self, token: str) -> int:
        """``crc32`` of a token, memoized (the memo is emptied when full)."""
        h = zlib.crc32(token.encode())
        if len(self._hashes) >= 4 * self.cache_size:
            self._hashes.clear()
        self._hashes[token] = h
        return h

    def _count_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Signed counts of tokens and adjacent token pairs, ``(len(texts), dim)``.

        A token's hash is its ``crc32``; a pair's hash mixes the two token hashes
        (``(h1 * 0x9E3779B1) ^ h2`` in 32 bits), so no pair string is built. A hash goes to slot
        ``2 * (h % dim) + bit 31``; one ``bincount`` over ``2 * dim`` slots per text counts all
        texts, and the negative slots are subtracted from the positive ones.
        """
        get, new, dim = self._hashes.get, self._hash, self.dim
        width = 2 * dim
        slots: list[int] = []
        for row, t in enumerate(texts):
            hs = [get(tok) or new(tok) for tok in _tokens(t)]
            hs += [((a * 0x9E3779B1) ^ b) & 0xFFFFFFFF for a, b in zip(hs, hs[1:])]
            off = row * width
            slots += [off + 2 * (h % dim) + (h >> 31) for h in hs]
        counts = np.bincount(slots, minlength=len(texts) * width).reshape(len(texts), dim, 2)
        return (counts[:, :, 1] - counts[:, :, 0]).astype(np.float32)

    def raw(self, texts: Sequence[str]) -> np.ndarray:
        """Unnormalized signed feature counts, ``(len(texts), dim)``."""
        cache = self._cache
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        missing = []
        for i, t in enumerate(texts):
            v = cache.get(t)
            if v is None:
                missing.append(i)
            else:
                out[i] = v
        if missing:
            counts = self._count_batch([texts[i] for i in missing])
            out[missing] = counts
            for row, i in enumerate(missing):
                if len(cache) >= self.cache_size:
                    cache.clear()  # O(1) amortized; popping a dict's first key is O(n)
                cache[texts[i]] = counts[row]
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalize(self.raw(texts))

    def embed_context(self, question: str, steps: Sequence[str]) -> np.ndarray:
        return l2_normalize(self.raw([question, *steps]).sum(axis=0))
