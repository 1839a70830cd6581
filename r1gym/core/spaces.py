"""Observation spaces of the two modes."""

from __future__ import annotations

import string

import numpy as np
from gymnasium import spaces

#: Characters a text observation may hold (printable ASCII and whitespace).
CHARSET = string.printable
MAX_CONTEXT_CHARS = 8192
MAX_CANDIDATE_CHARS = 1024
OBS_MODES = ("vector", "text")


def observation_space(obs_mode: str, k: int, dim: int) -> spaces.Dict:
    """The observation space: a flat Dict of bounded Boxes (vector) or with Text parts (text)."""
    common = {
        "confidence": spaces.Box(0.0, 1.0, (k,), np.float32),
        "action_mask": spaces.Box(0, 1, (k + 2,), np.int8),
        "progress": spaces.Box(0.0, 1.0, (3,), np.float32),
        "tried": spaces.Box(0.0, 1.0, (k,), np.float32),
    }
    if obs_mode == "vector":
        return spaces.Dict(
            {
                "context": spaces.Box(-1.0, 1.0, (dim,), np.float32),
                # Flat (K * D,): stable-baselines3 warns on 2-D boxes that are not images.
                # Row i is obs["candidates"].reshape(K, D)[i].
                "candidates": spaces.Box(-1.0, 1.0, (k * dim,), np.float32),
                **common,
            }
        )
    text = spaces.Text(MAX_CANDIDATE_CHARS, min_length=0, charset=CHARSET)
    return spaces.Dict(
        {
            "context": spaces.Text(MAX_CONTEXT_CHARS, min_length=0, charset=CHARSET),
            "candidates": spaces.Tuple([text] * k),
            **common,
        }
    )


def clip_text(text: str, limit: int) -> str:
    """Keep a text within a Text space's length: the end is kept (the latest steps matter most)."""
    return text if len(text) <= limit else "..." + text[-(limit - 3) :]
