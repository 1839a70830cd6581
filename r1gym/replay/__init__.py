"""Prioritized replay: a generic sum tree and the buffers built on it.

* :class:`SumTree` / :class:`MinTree`: segment trees in vectorized numpy, no RL inside.
* :class:`PrioritizedReplay`: arbitrary items drawn with ``P(i) ∝ (r_i + eps) ** omega``,
  with importance weights and ``save`` / ``load``.
* ``PrioritizedReplayBuffer`` / ``PrioritizedDictReplayBuffer`` (in :mod:`r1gym.replay.sb3_buffer`):
  stable-baselines3 replay buffers that sample transitions by priority, with optional n-step
  returns; ``NStepDictReplayBuffer``: the uniform one with the same returns. They are imported on
  first access, so ``import r1gym.replay`` needs neither SB3 nor torch.
* :mod:`r1gym.replay.dqn`: the DQN that trains with them (masked greedy actions, double and
  dueling Q-learning, a step cost), used by ``agents/dqn_per.py``.
"""

from __future__ import annotations

from typing import Any

from r1gym.replay.prioritized import PrioritizedReplay
from r1gym.replay.sumtree import MinTree, SumTree, stratified_indices

_SB3_NAMES = ("NStepDictReplayBuffer", "PrioritizedReplayBuffer", "PrioritizedDictReplayBuffer")


def __getattr__(name: str) -> Any:
    if name in _SB3_NAMES:
        from r1gym.replay import sb3_buffer

        return getattr(sb3_buffer, name)
    raise AttributeError(f"module 'r1gym.replay' has no attribute {name!r}")


__all__ = [
    "MinTree",
    "NStepDictReplayBuffer",
    "PrioritizedDictReplayBuffer",
    "PrioritizedReplay",
    "PrioritizedReplayBuffer",
    "SumTree",
    "stratified_indices",
]
