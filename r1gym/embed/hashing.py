"""Signed feature hashing of words, numbers and word pairs (numpy only)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from itertools import islice

import numpy as np

from r1gym.embed.base import l2_normalize

_PUNCT = re.compile(r"[.,;:!?]+(?=\s|$)|[()\[\]\"']")


def _tokens(text: str) -> list[str]:
    """Lower-cased words, numbers and symbols: whitespace-separated, with sentence punctuation
    and brackets dropped (a decimal point inside a number stays)."""
    return _PUNCT.sub(" ", text.lower()).split()


class _Memo(dict):
    """Each key's slot, computed on a miss (``__missing__``), so that ``map(memo.__getitem__,
    keys)`` runs in C for the keys it holds. Emptied when it reaches ``bound`` entries (O(1)
    amortized; popping a dict's first key is O(n)).

    A 32-bit feature hash ``h`` is counted at slot ``2 * (h % dim) + (h >> 31)``: bucket
    ``h % dim``, its sign from bit 31.
    """

    __slots__ = ("bound", "dim")

    def __init__(self, dim: int, bound: int) -> None:
        super().__init__()
        self.dim = dim
        self.bound = bound


class _TokenSlots(_Memo):
    """A token's slot: its hash is ``crc32`` of its UTF-8 bytes."""

    __slots__ = ()

    def __missing__(self, token: str) -> int:
        h = zlib.crc32(token.encode())
        value = 2 * (h % self.dim) + (h >> 31)  # written out in each class: a call less a miss
        if len(self) >= self.bound:
            self.clear()
        self[token] = value
        return value


class _PairSlots(_Memo):
    """A pair of adjacent tokens' slot: its hash mixes the two tokens' hashes,
    ``(h1 * 0x9E3779B1) ^ h2`` in 32 bits, so no pair string is built."""

    __slots__ = ()

    def __missing__(self, pair: tuple[str, str]) -> int:
        a, b = pair
        h = ((zlib.crc32(a.encode()) * 0x9E3779B1) ^ zlib.crc32(b.encode())) & 0xFFFFFFFF
        value = 2 * (h % self.dim) + (h >> 31)
        if len(self) >= self.bound:
            self.clear()
        self[pair] = value
        return value


class HashingEmbedder:
    """Bag of hashed tokens (words, numbers, symbols) and adjacent token pairs.

    Each feature (a token, or a pair of adjacent tokens) goes to bucket ``hash % dim`` with a
    sign from bit 31 of the hash (the "hashing trick"); the signed counts are L2-normalized, so
    every coordinate lies in [-1, 1]. Each token's and token pair's slot and each text's slots
    are cached, so a context (the question plus the steps of a path, all seen before as
    candidates) costs a few look-ups and one count. ``crc32`` rather than Python's salted
    ``hash`` keeps vectors identical across processes and machines.

    Args:
        dim: the vector size D.
        cache_size: texts whose slots are kept (tokens and pairs: four times as many each); a cache is
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
        self._cache: dict[str, list[int]] = {}
        self._tokens = _TokenSlots(dim, 4 * cache_size)
        self._pairs = _PairSlots(dim, 4 * cache_size)

    def __getstate__(self) -> dict:
        return {"dim": self.dim, "cache_size": self.cache_size}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def _slots(self, text: str) -> list[int]:
        """The slots of a text's features, its tokens then its adjacent token pairs (cached).

        A token's hash is its ``crc32``; a pair's hash mixes the two token hashes
        (``(h1 * 0x9E3779B1) ^ h2`` in 32 bits), so no pair string is built. A hash goes to slot
        ``2 * (h % dim) + bit 31``. Each token's slot and each pair's slot are memoized
        (``_tokens``, ``_pairs``), so a new text costs its split and one dictionary look-up a
        feature, inside ``map`` (no Python loop a feature).
        """
        slots = self._cache.get(text)
        if slots is None:
            toks = _PUNCT.sub(" ", text.lower()).split()
            slots = list(map(self._tokens.__getitem__, toks))
            slots += map(self._pairs.__getitem__, zip(toks, islice(toks, 1, None)))
            if len(self._cache) >= self.cache_size:
                self._cache.clear()  # O(1) amortized; popping a dict's first key is O(n)
            self._cache[text] = slots
        return slots

    def _counts(self, groups: Sequence[Sequence[str]]) -> np.ndarray:
        """Signed feature counts, ``(len(groups), dim)`` float32: row r counts the features of
        every text of ``groups[r]`` (a context: the question and its steps, in one row).

        One ``bincount`` counts every row (row r's slots at ``r * 2 * dim``); the negative slots
        are then subtracted from the positive ones.
        """
        cached, slots, dim = self._cache.get, self._slots, self.dim
        width = 2 * dim
        n = len(groups)
        flat: list[int] = []
        if n == 1:
            for t in groups[0]:
                flat += cached(t) or slots(t)  # a text seen before (the context's) without a call
            counts = np.bincount(flat, minlength=width)
        else:
            lens = []
            for texts in groups:
                before = len(flat)
                for t in texts:
                    flat += cached(t) or slots(t)
                lens.append(len(flat) - before)
            rows = np.array(flat, dtype=np.intp)
            rows += np.arange(0, n * width, width).repeat(lens)
            counts = np.bincount(rows, minlength=n * width)
        counts = counts.reshape(n, dim, 2)
        return np.subtract(counts[:, :, 1], counts[:, :, 0], dtype=np.float32)  # small integers: exact

    def raw(self, texts: Sequence[str]) -> np.ndarray:
        """Unnormalized signed feature counts, ``(len(texts), dim)``."""
        return self._counts([(t,) for t in texts])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalize(self.raw(texts))

    def embed_context(self, question: str, steps: Sequence[str]) -> np.ndarray:
        return l2_normalize(self._counts([(question, *steps)])[0])

    def embed_node(
        self, question: str, steps: Sequence[str], candidates: Sequence[str], k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """``embed(candidates)`` padded with zero rows to ``k`` and ``embed_context(question,
        steps)``, from one pass over the texts and one normalization: what a new node costs.

        The same numbers as the two calls: the counts are small integers, so their float32
        sums and sums of squares are exact whatever the order of the additions.
        """
        if len(candidates) > k:
            raise ValueError(f"{len(candidates)} candidates for {k} rows")
        groups: list[Sequence[str]] = [(c,) for c in candidates]
        groups += [()] * (k - len(candidates))  # zero rows: they stay zero when normalized
        groups.append((question, *steps))
        out = l2_normalize(self._counts(groups))
        return out[:k], out[k]
