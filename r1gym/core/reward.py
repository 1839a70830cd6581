"""The reward paid on submit: ``alpha * accuracy + beta * efficiency + gamma * novelty``.

Each term lies in [0, 1]; weights are relative (they are divided by their sum, so the reward
lies in [0, 1] too). Two ways to combine them:

* ``"gated"`` (default): ``R = A * (alpha + beta * E + gamma * N) / (alpha + beta + gamma)``.
  Efficiency and novelty are paid in proportion to accuracy, so submitting nothing pays nothing.
* ``"additive"``: ``R = (alpha * A + beta * E + gamma * N) / (alpha + beta + gamma)``, the
  report's literal formula. It pays 0.3 + 0.1 for an empty answer submitted at once, close to
  what honest reasoning earns, and a learner collapses onto that: kept for those who study it.

Terms:

* accuracy ``A``: 1 when the verifier accepts the answer; otherwise ``partial_credit`` times a
  similarity in [0, 1]: ``1 - lev(a, r) / max(len(a), len(r))`` on the normalized answer strings
  by default, edits counted in lines of the body for programs, and the numbers compared in SI
  units for quantities (0 for a wrong dimension). A wrong answer never earns more than
  ``partial_credit`` (default 0.5) and an empty one earns 0.
* efficiency ``E = 1 / log2(1 + n)`` where ``n >= 1`` counts the actions of the episode, the
  submit included: 1 for a submit at once, 0.5 after three actions, 1/3 after seven.
* novelty ``N = 1 / sqrt(1 + c)`` where ``c`` counts earlier submissions of the same reasoning path
  (the same step texts) for the same problem: 1 for a new path. It is the count-based form of an
  exploration bonus; memory is bounded (least recently used problems are forgotten first).
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from r1gym.core.verify import text_similarity, verify

REWARD_MODES = ("gated", "additive")


@dataclass(frozen=True, slots=True)
class RewardTerms:
    accuracy: float
    efficiency: float
    novelty: float

    def as_dict(self) -> dict[str, float]:
        return {"accuracy": self.accuracy, "efficiency": self.efficiency, "novelty": self.novelty}


def accuracy_term(
    answer: str,
    reference: str,
    partial_credit: float = 0.5,
    verifier: Callable[[str, str, Any], bool] | None = None,
    problem: Any = None,
    similarity: Callable[[str, str, Any], float] | None = None,
) -> tuple[float, bool]:
    """``(A, is_correct)`` for a submitted answer.

    ``verifier(answer, reference, problem)`` decides correctness (default: numbers exactly,
    expressions with sympy); a wrong answer earns ``partial_credit * similarity(...)`` (default:
    the edit-distance similarity of the normalized strings).
    """
    judge = verifier or (lambda a, r, p: verify(a, r))
    if answer and judge(answer, reference, problem):
        return 1.0, True
    close = similarity or text_similarity
    return partial_credit * close(answer, reference, problem), False


def efficiency_term(num_actions: int) -> float:
    """``1 / log2(1 + n)``: 1 for one action, falling slowly; finite for every ``n >= 1``."""
    return 1.0 / math.log2(1 + max(1, num_actions))


def combine(terms: RewardTerms, weights: tuple[float, float, float], mode: str) -> float:
    """The scalar reward from the three terms (see the module docstring for both modes)."""
    wa, wb, wc = weights
    total = wa + wb + wc
    if mode == "gated":
        return terms.accuracy * (wa + wb * terms.efficiency + wc * terms.novelty) / total
    return (wa * terms.accuracy + wb * terms.efficiency + wc * terms.novelty) / total


def check_weights(weights: object) -> tuple[float, float, float]:
    """Validate ``reward_weights``: three finite non-negative numbers, not all zero."""
    try:
        w = tuple(float(x) for x in weights)  # type: ignore[union-attr]
    except TypeError:
        raise TypeError(f"reward_weights must be three numbers (alpha, beta, gamma), got {weights!r}") from None
    if len(w) != 3 or not all(math.isfinite(x) and x >= 0 for x in w) or sum(w) <= 0:
        raise ValueError(
            f"reward_weights must be three finite non-negative numbers (alpha, beta, gamma) "
            f"with a positive sum, got {weights!r}; the default is (0.6, 0.3, 0.1)"
        )
    return w  # type: ignore[return-value]


def path_key(step_texts: tuple[str, ...]) -> bytes:
    """A short stable digest of a reasoning path, independent of process and candidate order."""
    return hashlib.blake2b("\n".join(step_texts).encode(), digest_size=12).digest()


class NoveltyMemory:
    """Counts of submitted paths per problem, bounded in problems and in paths per problem.

    Only the entry of the problem being played changes during an episode; the environment's
    ``snapshot()`` saves that entry and ``restore()`` puts it back.
    """

    def __init__(self, max_problems: int = 4096, max_paths: int = 256) -> None:
        if max_problems < 1 or max_paths < 1:
            raise ValueError("novelty memory bounds must be at least 1")
        self.max_problems = max_problems
        self.max_paths = max_paths
        self._memory: OrderedDict[str, OrderedDict[bytes, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._memory)

    def count(self, uid: str, key: bytes) -> int:
        entry = self._memory.get(uid)
        return entry.get(key, 0) if entry is not None else 0

    def novelty(self, uid: str, key: bytes) -> float:
        return 1.0 / math.sqrt(1.0 + self.count(uid, key))

    def record(self, uid: str, key: bytes) -> None:
        entry = self._memory.get(uid)
        if entry is None:
            entry = self._memory[uid] = OrderedDict()
            while len(self._memory) > self.max_problems:
                self._memory.popitem(last=False)
        else:
            self._memory.move_to_end(uid)
        entry[key] = entry.get(key, 0) + 1
        entry.move_to_end(key)
        while len(entry) > self.max_paths:
            entry.popitem(last=False)

    def get_entry(self, uid: str) -> dict[bytes, int] | None:
        entry = self._memory.get(uid)
        return dict(entry) if entry is not None else None

    def set_entry(self, uid: str, entry: dict[bytes, int] | None) -> None:
        if entry is None:
            self._memory.pop(uid, None)
        else:
            self._memory[uid] = OrderedDict(entry)

    def clear(self) -> None:
        self._memory.clear()
