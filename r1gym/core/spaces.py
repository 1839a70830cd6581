"""Observation spaces of the two modes."""

from __future__ import annotations

import string

import numpy as np
from gymnasium import spaces

MAX_CONTEXT_CHARS = 8192
MAX_CANDIDATE_CHARS = 1024
OBS_MODES = ("vector", "text")
#: The longest step a model may write in ``action_mode="write"`` (characters).
MAX_STEP_CHARS = 1024
#: Characters that are never part of a step: C0 and C1 controls but tab and newline, DEL.
CONTROL_CHARS = frozenset(chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), *range(127, 160)))
#: What :class:`UnicodeText` samples from: printable ASCII and a few of the non-ASCII characters
#: steps are written with (its ``contains`` accepts any character but the controls).
SAMPLE_CHARSET = string.printable.strip() + " ×÷−√°²³πé中文١٢٣€"


class UnicodeText(spaces.Text):
    """A ``Text`` space of any Unicode string up to ``max_length`` characters without control
    characters (tab and newline allowed): Gymnasium's ``Text`` checks a fixed character set, and a
    step may be written in any script. ``sample()`` draws from :data:`SAMPLE_CHARSET`."""

    def __init__(self, max_length: int, *, min_length: int = 0, seed: int | None = None) -> None:
        super().__init__(max_length, min_length=min_length, charset=SAMPLE_CHARSET, seed=seed)

    def contains(self, x: object) -> bool:
        return (
            isinstance(x, str)
            and self.min_length <= len(x) <= self.max_length
            and not any(c in CONTROL_CHARS for c in x)
        )

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, UnicodeText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )


def observation_space(obs_mode: str, k: int, dim: int) -> spaces.Dict:
    """The observation space: a flat Dict of bounded Boxes (vector) or with :class:`UnicodeText`
    parts (text: the question as its author wrote it, and in write mode the model's own steps)."""
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
    text, context = UnicodeText(MAX_CANDIDATE_CHARS), UnicodeText(MAX_CONTEXT_CHARS)
    if k == 0:  # write mode with no candidates shown: the context, the mask and the progress
        return spaces.Dict({"context": context, "action_mask": common["action_mask"], "progress": common["progress"]})
    return spaces.Dict(
        {
            "context": context,
            "candidates": spaces.Tuple([text] * k),
            **common,
        }
    )


def clip_text(text: str, limit: int) -> str:
    """Keep a text within a Text space's length: the end is kept (the latest steps matter most)."""
    return text if len(text) <= limit else "..." + text[-(limit - 3) :]
