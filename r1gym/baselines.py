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
* :class:`BestFirstAgent`: plans before it acts: a best-first search over the tree by the
  log-confidence of each path, looking ahead through ``snapshot()`` / ``restore()`` with a budget
  of expansions, then follows the most probable complete path. Shows what search on the model's
  own confidence buys, at its cost in steps.
* :class:`MCTSAgent`: Monte Carlo tree search (PUCT with the confidences as priors); a rollout
  samples steps by confidence to a complete path and is valued by the geometric mean of the
  confidences along it. Acts on the most visited child.
* :class:`OracleAgent`: follows ``info["oracle_action"]`` (needs ``reveal=True``). Scores 1.0:
  the ceiling, and a check that every reference solution verifies.

The search agents are *confidence-guided*: a lookahead never submits, because submitting would
read the verifier's verdict, which no reasoner has at test time. They need the environment to
look ahead: :func:`r1gym.evaluate` calls their ``attach(env)``; by hand, call
``agent.attach(env)`` after ``gym.make``. Each counts the environment steps its lookahead spent in
``lookahead_steps`` (reset with the episode), which ``evaluate`` adds to the cost it reports.

Each class says whether it is ``deterministic``: greedy, backtrack, best-first and the oracle
play a problem the same way every time (``deterministic = True``, so ``evaluate(..., samples=n)``
refuses them for n > 1: their pass@k is their pass@1); random and MCTS draw from a seeded
generator (``deterministic = False``), which pass@k reseeds for every attempt.
"""

from __future__ import annotations

import heapq
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
    deterministic = False

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
    deterministic = True

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
    deterministic = True

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
    """Follows ``info["oracle_action"]`` (an index in the menu, a string in write mode); needs an
    environment made with ``reveal=True``."""

    name = "oracle"
    deterministic = True
    needs_reveal = True

    def reset(self) -> None:
        pass

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> int:
        if "oracle_action" not in info:
            raise KeyError("OracleAgent needs info['oracle_action']: make the env with reveal=True")
        action = info["oracle_action"]
        return action if isinstance(action, str) else int(action)  # write mode: the token or the step's text


class _Planner:
    """Shared plumbing of the search agents: the environment handle and the step count."""

    lookahead_steps: int = 0

    def attach(self, env: Any) -> None:
        """Give the agent the environment to look ahead in (any wrapper of a ReasoningEnv)."""
        base = getattr(env, "unwrapped", env)
        if not (hasattr(base, "snapshot") and hasattr(base, "restore")):
            raise TypeError(f"{type(self).__name__} needs an r1gym environment with snapshot() / restore()")
        self.env = base

    def _env(self) -> Any:
        env = getattr(self, "env", None)
        if env is None:
            raise RuntimeError(f"{type(self).__name__} plans ahead: call agent.attach(env) first (evaluate() does)")
        return env

    def _look(self, snap: Any, action: int) -> tuple[dict[str, Any], Any]:
        """Restore ``snap``, take ``action`` there, return the observation and a new snapshot."""
        env = self._env()
        env.restore(snap)
        obs, *_ = env.step(action)
        self.lookahead_steps += 1
        return obs, env.snapshot()


class BestFirstAgent(_Planner):
    """Best-first search on the model's confidence, then follow the best complete path.

    At the first decision of an episode the agent searches from the root: a frontier of
    unvisited children ordered by ``sum(log confidence)`` along their path (uniform-cost search
    on ``-log p``). Popping one costs one lookahead step, to see whether it is complete and what
    its candidates are. A node whose confidence is flat (normalized entropy above
    ``flat_threshold``, the signal the backtracking policy uses) is judged to lie after a wrong
    step and is not expanded. When the budget is spent or the frontier is empty, the agent picks,
    among the complete paths whose every node was judged sound, the one that took the most steps
    (an answer stated before the reasoning is done is the usual way to stop early) and then the
    most probable; the environment is restored and the plan executed for real. With no complete
    path found, it follows the most probable path it saw and continues greedily.

    Args:
        budget: most lookahead steps per episode.
        flat_threshold: normalized entropy above which a node counts as flat.
    """

    name = "best-first"
    deterministic = True

    def __init__(self, budget: int = 40, flat_threshold: float = 0.9) -> None:
        if budget < 1:
            raise ValueError(f"budget must be >= 1, got {budget!r}")
        if not 0.0 < flat_threshold <= 1.0:
            raise ValueError(f"flat_threshold must lie in (0, 1], got {flat_threshold!r}")
        self.budget = budget
        self.flat_threshold = flat_threshold
        self.reset()

    def reset(self) -> None:
        self.plan: list[int] | None = None
        self.lookahead_steps = 0

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> int:
        conf, mask, k = _split(obs)
        if self.plan is None:
            self.plan = self._search(obs)
        if self.plan:
            return self.plan.pop(0)
        valid = mask[:k] > 0
        if not valid.any():
            return k + 1
        return int(np.argmax(np.where(valid, conf[:k], -np.inf)))

    def _search(self, obs: dict[str, Any]) -> list[int]:
        env = self._env()
        root = env.snapshot()
        tie = 0
        frontier: list[tuple[float, int, tuple[int, ...], Any, int]] = []

        def push(score: float, path: tuple[int, ...], snap: Any, o: dict[str, Any]) -> None:
            nonlocal tie
            conf, mask, k = _split(o)
            for i in np.flatnonzero(mask[:k]):
                tie += 1
                heapq.heappush(
                    frontier, (-(score + math.log(max(conf[i], 1e-12))), tie, path + (int(i),), snap, int(i))
                )

        push(0.0, (), root, obs)
        most_probable: tuple[float, tuple[int, ...]] = (-math.inf, ())
        best: tuple[int, float, tuple[int, ...]] | None = None  # (steps, log p, path)
        try:
            for _ in range(self.budget):
                if not frontier:
                    break
                neg, _, path, snap, action = heapq.heappop(frontier)
                child_obs, child_snap = self._look(snap, action)
                score = -neg
                conf, mask, k = _split(child_obs)
                valid = mask[:k] > 0
                if not valid.any():  # complete
                    key = (len(path), score, path)
                    if best is None or key[:2] > best[:2]:
                        best = key
                    continue
                if normalized_entropy(conf[valid]) > self.flat_threshold:
                    continue  # flat: a wrong step came before; do not expand
                if score > most_probable[0]:
                    most_probable = (score, path)
                push(score, path, child_snap, child_obs)
        finally:
            env.restore(root)
        return list(best[2] if best is not None else most_probable[1])


class MCTSAgent(_Planner):
    """Monte Carlo tree search guided by confidence (PUCT), without a verifier.

    Before each decision: ``simulations`` times, descend the searched tree by
    ``Q + c_puct * P * sqrt(N) / (1 + n)`` (P the confidence of the step), expand one new node (one
    lookahead step), then roll out by sampling steps in proportion to their confidence until the
    path is complete (at most ``max_rollout`` steps). A simulation that reaches a complete path
    without passing a flat node (normalized entropy above ``flat_threshold``: a wrong step came
    before) is valued by the geometric mean of the confidences of its steps from the current
    node; one that passes a flat node, or does not finish, is valued 0. Acts on the most visited
    child; submits at a complete node.

    Args:
        simulations: simulations per decision.
        c_puct: exploration constant.
        max_rollout: most steps of one rollout.
        flat_threshold: normalized entropy above which a node counts as flat.
        seed: the rollouts' generator.
    """

    name = "mcts"
    deterministic = False

    def __init__(
        self,
        simulations: int = 32,
        c_puct: float = 1.0,
        max_rollout: int = 12,
        flat_threshold: float = 0.9,
        seed: int | None = 0,
    ) -> None:
        if simulations < 1 or max_rollout < 1 or c_puct < 0 or not 0.0 < flat_threshold <= 1.0:
            raise ValueError("need simulations >= 1, max_rollout >= 1, c_puct >= 0 and flat_threshold in (0, 1]")
        self.simulations, self.c_puct, self.max_rollout = simulations, c_puct, max_rollout
        self.flat_threshold = flat_threshold
        self.rng = np.random.default_rng(seed)
        self.reset()

    def reset(self) -> None:
        self.lookahead_steps = 0

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> int:
        conf, mask, k = _split(obs)
        if not mask[:k].any():
            return k + 1
        env = self._env()
        root_snap = env.snapshot()
        # Per searched node (path from the current node): [snapshot, priors, valid, N, W per child].
        tree: dict[tuple[int, ...], list[Any]] = {(): self._new_node(root_snap, obs)}
        try:
            for _ in range(self.simulations):
                self._simulate(tree)
        finally:
            env.restore(root_snap)
        visits = tree[()][3]
        valid = mask[:k] > 0
        return int(np.argmax(np.where(valid, visits + 1e-3 * conf[:k], -np.inf)))

    @staticmethod
    def _new_node(snap: Any, obs: dict[str, Any]) -> list[Any]:
        conf, mask, k = _split(obs)
        valid = mask[:k] > 0
        return [snap, conf[:k].copy(), valid, np.zeros(k), np.zeros(k)]

    def _simulate(self, tree: dict[tuple[int, ...], list[Any]]) -> None:
        path: tuple[int, ...] = ()
        logs: list[float] = []
        visited: list[tuple[tuple[int, ...], int]] = []
        sound = True
        while True:
            snap, prior, valid, n, w = tree[path]
            if not valid.any():  # complete node: the simulation ends here
                break
            q = np.where(n > 0, w / np.maximum(n, 1), 0.0)
            u = q + self.c_puct * prior * math.sqrt(n.sum() + 1) / (1 + n)
            a = int(np.argmax(np.where(valid, u, -np.inf)))
            visited.append((path, a))
            logs.append(math.log(max(prior[a], 1e-12)))
            child = path + (a,)
            if child not in tree:
                obs, child_snap = self._look(snap, a)
                tree[child] = self._new_node(child_snap, obs)
                rollout_logs, sound = self._rollout(obs)
                logs += rollout_logs
                break
            path = child
            if self._flat(tree[path]):
                sound = False
                break
        value = math.exp(sum(logs) / len(logs)) if logs and sound else 0.0
        for p, a in visited:
            node = tree[p]
            node[3][a] += 1
            node[4][a] += value

    def _flat(self, node: list[Any]) -> bool:
        prior, valid = node[1], node[2]
        return bool(valid.any()) and normalized_entropy(prior[valid]) > self.flat_threshold

    def _rollout(self, obs: dict[str, Any]) -> tuple[list[float], bool]:
        """Sample steps by confidence to a complete path; False if it passed a flat node."""
        env = self._env()
        logs: list[float] = []
        for _ in range(self.max_rollout):
            conf, mask, k = _split(obs)
            valid = mask[:k] > 0
            if not valid.any():
                return logs, True
            if normalized_entropy(conf[:k][valid]) > self.flat_threshold:
                return logs, False
            p = np.where(valid, conf[:k], 0.0)
            a = int(self.rng.choice(k, p=p / p.sum()))
            logs.append(math.log(max(conf[a], 1e-12)))
            obs, *_ = env.step(a)
            self.lookahead_steps += 1
        return logs, False


BASELINES: dict[str, type] = {
    "random": RandomAgent,
    "greedy": GreedyAgent,
    "backtrack": BacktrackAgent,
    "best-first": BestFirstAgent,
    "mcts": MCTSAgent,
    "oracle": OracleAgent,
}


def make_baseline(name: str, **kwargs: Any) -> Any:
    """A baseline by name; the error lists the valid names."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; valid: {sorted(BASELINES)}")
    return BASELINES[name](**kwargs)
