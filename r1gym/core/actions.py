"""The text protocol of actions, shared by everything that talks to language models.

``<expand_i>`` takes candidate i, ``<backtrack>`` returns to the parent node, ``<submit>`` submits
the path's answer. In an environment with K candidates the menu action ``a`` is written
:func:`action_token` ``(a, K)``: ``a < K`` is ``<expand_a>``, ``K`` is ``<backtrack>``, ``K + 1`` is
``<submit>``. The tokenizer keeps each one a single id; prompts write them; the LLM policy reads
its logits at them.
"""

from __future__ import annotations

#: Most candidates a node can show (``num_candidates`` is validated to 2..16).
MAX_EXPAND = 16
EXPAND_TOKENS = tuple(f"<expand_{i}>" for i in range(MAX_EXPAND))
BACKTRACK_TOKEN, SUBMIT_TOKEN = "<backtrack>", "<submit>"
ACTION_TOKENS = EXPAND_TOKENS + (BACKTRACK_TOKEN, SUBMIT_TOKEN)


def action_token(action: int, num_candidates: int) -> str:
    """The token of ``action`` in an env with K = ``num_candidates`` (``K`` backtrack, ``K + 1`` submit)."""
    if not 1 <= num_candidates <= MAX_EXPAND:
        raise ValueError(f"num_candidates must be between 1 and {MAX_EXPAND}, got {num_candidates}")
    if not 0 <= action <= num_candidates + 1:
        raise ValueError(f"action must be in [0, {num_candidates + 1}] for K = {num_candidates}, got {action}")
    if action < num_candidates:
        return EXPAND_TOKENS[action]
    return BACKTRACK_TOKEN if action == num_candidates else SUBMIT_TOKEN
