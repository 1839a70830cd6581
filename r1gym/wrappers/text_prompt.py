"""Turn a text observation into a prompt for a language-model agent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_INSTRUCTION = (
    "You are solving a problem step by step. Choose the next action: the number of a candidate "
    "step to take it, backtrack to undo the last step, or submit to give the answer of your path."
)


def format_prompt(
    obs: Mapping[str, Any], instruction: str = DEFAULT_INSTRUCTION, show_confidence: bool = True
) -> str:
    """A prompt from a ``obs_mode="text"`` observation.

    Lists the context (question and steps so far), then each allowed candidate as ``[i] text``
    (with its confidence unless ``show_confidence=False``), then the backtrack and submit
    actions with their numbers, and ends with ``Action:``.

    Example:
        >>> import gymnasium as gym, r1gym
        >>> env = gym.make("R1Arith-v0", obs_mode="text")
        >>> obs, _ = env.reset(seed=0)
        >>> print(format_prompt(obs, show_confidence=False).splitlines()[2])
        Compute 32 / 8 / 2 + 50.
    """
    if not isinstance(obs.get("context"), str):
        raise TypeError("format_prompt needs a text observation: make the env with obs_mode='text'")
    mask = list(obs["action_mask"])
    k = len(mask) - 2
    lines = [instruction, "", obs["context"], "", "Candidates:"]
    for i, text in enumerate(obs["candidates"]):
        if i < k and mask[i]:
            conf = f" (confidence {float(obs['confidence'][i]):.2f})" if show_confidence else ""
            lines.append(f"[{i}] {text}{conf}")
    if not any(mask[:k]):
        lines.append("(none: the path states its answer)")
    if mask[k]:
        lines.append(f"[{k}] backtrack")
    lines.append(f"[{k + 1}] submit")
    lines += ["", "Action:"]
    return "\n".join(lines)
