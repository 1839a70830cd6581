"""What the embedders share. The :class:`~r1gym.core.protocols.Embedder` protocol itself lives in
``core``, beside the other interfaces the environment is written against."""

from __future__ import annotations

import numpy as np

from r1gym.core.protocols import Embedder


def l2_normalize(x: np.ndarray) -> np.ndarray:
    norms = np.sqrt(np.add.reduce(x * x, axis=-1, keepdims=True))  # x.sum(...) without its Python wrapper
    return (x / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


__all__ = ["Embedder", "l2_normalize"]
