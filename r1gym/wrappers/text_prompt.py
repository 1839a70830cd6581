"""Turn a text observation into a prompt for a language-model agent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from r1gym.core.actions import action_token

DEFAULT_INSTRUCTION = (
    "You are solving a problem step by step. Choose the next action: the number of a candidate "
    "step to take it, backtrack to undo the last step, or submit to give the answer of your path."
)

#: ``"plain"``: candidates in index order as ``[i] text (confidence c)``, actions by number.
#: ``"ranked"``: ``<submit>`` and ``<backtrack>`` first, then the candidates least confident
#: first, each line ending with its confidence and the action token that takes it.
PROMPT_STYLES = ("plain", "ranked")


def prompt_parts(
    obs: Mapping[str, Any],
    instruction: str = DEFAULT_INSTRUCTION,
    show_confidence: bool = True,
    style: str = "plain",
) -> tuple[str, str, str]:
    """The three parts of :func:`format_prompt`'s prompt, which it joins: ``(head, context, tail)``.

    ``head`` is the instruction (the same in every prompt), ``context`` the question and the path
    so far (the same for every decision at one node, and a prefix of the context of the node's
    children), ``tail`` the candidates and actions. A policy that caches key-value states keys
    them on these parts (``r1gym.llm.policy``).
    """
    if not isinstance(obs.get("context"), str):
        raise TypeError("format_prompt needs a text observation: make the env with obs_mode='text'")
    if style not in PROMPT_STYLES:
        raise ValueError(f"unknown prompt style {style!r}; known: {', '.join(PROMPT_STYLES)}")
    mask = list(obs["action_mask"])
    k = len(mask) - 2
    tried = obs.get("tried")
    allowed = [i for i in range(min(k, len(obs["candidates"]))) if mask[i]]
    lines = []
    if style == "plain":
        lines.append("Candidates:")
        for i in allowed:
            mark = " (tried)" if tried is not None and tried[i] else ""
            conf = f" (confidence {float(obs['confidence'][i]):.2f})" if show_confidence else ""
            lines.append(f"[{i}]{mark} {obs['candidates'][i]}{conf}")
        if not allowed:
            lines.append("(none: the path states its answer)")
        if mask[k]:
            lines.append(f"[{k}] backtrack")
        lines += [f"[{k + 1}] submit", ""]
    else:
        lines.append(f"{action_token(k + 1, k)} submit")
        if mask[k]:
            lines.append(f"{action_token(k, k)} backtrack")
        lines.append("Candidates, least confident first:")
        order = sorted(allowed, key=lambda i: (float(obs["confidence"][i]), -i))  # ties: lower index last
        for i in order:
            conf = f" {float(obs['confidence'][i]):.2f}" if show_confidence else ""
            mark = " tried" if tried is not None and tried[i] else ""
            lines.append(f"{obs['candidates'][i]}{conf}{mark} {action_token(i, k)}")
        if not allowed:
            lines.append("(none: the path states its answer)")
    lines.append("Action:")
    return instruction + "\n\n", obs["context"] + "\n\n", "\n".join(lines)


def format_prompt(
    obs: Mapping[str, Any],
    instruction: str = DEFAULT_INSTRUCTION,
    show_confidence: bool = True,
    style: str = "plain",
) -> str:
    """A prompt from a ``obs_mode="text"`` observation.

    The instruction, the context (question and steps so far), then each allowed candidate, then
    the backtrack and submit actions, ending with ``Action:``. A candidate already taken this
    episode (``obs["tried"]``) is marked as tried. Two styles (:data:`PROMPT_STYLES`):

    * ``"plain"`` (default): candidates in index order as ``[i] text (confidence c)`` (the
      confidence unless ``show_confidence=False``), actions by number: for any language model;
    * ``"ranked"``: the actions ``<submit>`` and ``<backtrack>`` first, then the candidates
      least confident first, each line ending with its confidence and the action token that
      takes it (``14 + 12 = 26. 0.91 <expand_1>``), then ``Action:``. For a policy that answers
      with r1gym's action tokens (``r1gym.llm.LLMPolicy``): the most confident candidate's
      token and confidence always sit the same few tokens before the end, so the greedy choice
      is a copy at a fixed distance and a flat confidence shows in a number at a fixed
      distance, which a small model learns in minutes (a label at the start of a line of
      varying length, it did not).

    Examples:
        >>> import gymnasium as gym, r1gym
        >>> env = gym.make("R1Arith-v0", obs_mode="text")
        >>> obs, _ = env.reset(seed=0)
        >>> print(format_prompt(obs, show_confidence=False).splitlines()[2])
        Compute 32 / 8 / 2 + 50.
    """
    return "".join(prompt_parts(obs, instruction, show_confidence, style))
