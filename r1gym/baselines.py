"""Reference policies every agent is compared against.

An agent is anything with ``act(obs, info) -> int`` and an optional ``reset()``. These work
in both observation modes: they read only ``confidence``, ``action_mask`` and, for the
backtracking policy, ``info["path"]`` and ``info["steps"]`` (what any agent could track itself).

* :class:`RandomAgent`: a uniform choice among the allowed actions. The floor.
* :class:`GreedyAgent`: expands the most confident candidate until the path is complete, then
  submits. Never backtracks, so it shows how often confidence alone leads astray.
* :class:`BacktrackAgent`: greedy, but backs up when the confidence at a node is flat
  (normalized entropy above a threshold), the sign that the path went wrong a step earlier; it
  then tries the parent's next best candidate. Shows what noticing one's own errors is worth.
* :class:`OracleAgent`: follows ``info["oracle_action"]`` (needs ``reveal=True``). Scores 1.0:
  the ceiling, and a check that every reference solution verifies.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _split(obs: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, int]:
    mask = np.asarray(obs["action_mask"])
    k = mask.shape[-1] - 2
    return np.asarray(obs["confidence"], dtype=np.float64), mask, k


def normalized_entropy(conf: np.ndarray) -> float:
    """Entropy of the non-zero confidences divided by its maximum, log(n): 1 is flat."""
    p = conf[conf > 0]
    if p.size < 2:
        return 0.0
    p = p / p.sum()
    return float(-(p * np.log(p)).sum() / math.log(p.size))


class RandomAgent:
    """Uniform over the allowed actions (expand any candidate, backtrack, submit)."""

    name = "random"

    def __init__(self, seed: int | None = 0) -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def reset(self) -> None:
        pass

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> int:
        allowed = np.flatnonzero(np.asarray(obs["action_mask"]))
        return int(allowed[self.rng.integers(len(allowed))])


class GreedyAgent:
    """Expand the most confident candidate; submit when none is left."""

    name = "greedy"

    def reset(self) -> None:
        pass

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> int:
        conf, mask, k = _split(obs)
        valid = mask[:k] > 0
        if not valid.any():
            return k + 1
        return int(np.argmax(np.where(valid, conf, -np.inf)))


class BacktrackAgent:
    """Greedy that backs up when confidence goes flat.

    At a node whose normalized confidence entropy exceeds ``flat_threshold`` the agent marks the
    node dead and backtracks; at every node it expands the most confident child not yet marked
    dead, and backtracks once all are. When ``max_steps - reserve`` actions are used it stops
    exploring and submits what it has. If every child of the root is dead it commits to the
    most confident path without further backtracking.

    Args:
        flat_threshold: normalized entropy above which a node counts as flat (calibrated in
            docs/calibration.md).
        max_steps: the episode's step limit (40 for the built-in ids).
        reserve: actions kept in hand to finish a path before the limit.
    """

    name = "backtrack"

    def __init__(self, flat_threshold: float = 0.9, max_steps: int = 40, reserve: int = 1) -> None:
        if not 0.0 < flat_threshold <= 1.0:
            raise ValueError(f"flat_threshold must lie in (0, 1], got {flat_threshold!r}")
        self.flat_threshold = flat_threshold
        self.max_steps = max_steps
        self.reserve = reserve
        self.reset()

    def reset(self) -> None:
        self.dead: set[tuple[int, ...]] = set()
        self.committed = False

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> int:
        conf, mask, k = _split(obs)
        path = tuple(info.get("path", ()))
        valid = mask[:k] > 0
        if not valid.any():
            return k + 1
        if info.get("steps", 0) >= self.max_steps - self.reserve:
            return k + 1
        if path and not self.committed and normalized_entropy(conf[valid]) > self.flat_threshold:
            self.dead.add(path)
            return k
        alive = np.array([valid[i] and (path + (i,)) not in self.dead for i in range(k)])
        if not alive.any():
            if path and not self.committed:
                self.dead.add(path)
                return k
            self.committed = True
            alive = valid
        return int(np.argmax(np.where(alive, conf[:k], -np.inf)))


class OracleAgent:
    """Follows ``info["oracle_action"]``; needs an environment made with ``reveal=True``."""

    name = "oracle"
    needs_reveal = True

    def reset(self) -> None:
        pass

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> int:
        if "oracle_action" not in info:
            raise KeyError("OracleAgent needs info['oracle_action']: make the env with reveal=True")
        return int(info["oracle_action"])


BASELINES: dict[str, type] = {
    "random": RandomAgent,
    "greedy": GreedyAgent,
    "backtrack": BacktrackAgent,
    "oracle": OracleAgent,
}


def make_baseline(name: str, **kwargs: Any) -> Any:
    """A baseline by name; the error lists the valid names."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; valid: {sorted(BASELINES)}")
    return BASELINES[name](**kwargs)
