"""The interface every embedder follows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to float32 rows of L2 norm at most 1."""

    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32."""
        ...

    def embed_context(self, question: str, steps: Sequence[str]) -> np.ndarray:
        """``(dim,)`` float32 for a question and the steps of a path."""
        ...


def l2_normalize(x: np.ndarray) -> np.ndarray:
    norms = np.sqrt((x * x).sum(axis=-1, keepdims=True))
    return (x / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
