"""The tree of partial solutions.

A node is a path of steps from the question. Its candidates (and their confidences) are made
once, on the first visit, and kept: after a backtrack a node looks exactly as before, which
search agents and determinism depend on. Nodes are immutable once built, so a snapshot of the
tree is a shallow copy of the dictionary that holds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from r1gym.core.values import Value


class PathState(NamedTuple):
    """Where a path stands against the reference program (a NamedTuple: cheap to build).

    Attributes:
        pos: index of the next reference step to take (steps taken, counting a skipped one).
        slots: the value each reference step got on this path (possibly wrong).
        on_path: every step so far matches the reference solution. Hidden from the agent.
        complete: the last step stated a final answer; no candidates follow.
        answer: the stated answer when complete.
    """

    pos: int = 0
    slots: tuple[Value, ...] = ()
    on_path: bool = True
    complete: bool = False
    answer: str | None = None


class Candidate(NamedTuple):
    """A proposed next step: its text, the state it leads to, and what kind of step it is.

    ``kind`` is ``"reference"`` for the step the reference program takes from this node (on a
    wrong branch, re-derived from the wrong values) or a distractor kind (``"slip"``,
    ``"operand"``, ``"operation"``, ``"skip"``, ``"premature"``, ``"perturb"``).
    """

    text: str
    state: PathState
    kind: str


@dataclass(slots=True)
class Node:
    """One node of the tree, built on its first visit and never changed afterwards."""

    path: tuple[int | str, ...]  # candidate indices from the root; a written step is its text
    texts: tuple[str, ...]
    state: PathState
    candidates: tuple[Candidate, ...]
    confidence: np.ndarray  # (len(candidates),) float32, sums to 1
    context_vec: np.ndarray  # (D,) embedding of the question and path (empty in text mode)
    candidate_vecs: np.ndarray  # (K, D) normalized, zero rows for missing candidates
    #: The step judge's verdict on the step that led here (None at the root, or labels off), its
    #: reason, whether it continues an earlier error, and the judge's state of the path.
    label: str | None = None
    reason: str = ""
    continues_error: bool = False
    judge_state: Any = None

    @property
    def depth(self) -> int:
        return len(self.path)

    def correct_index(self) -> int | None:
        """Index of the candidate that keeps the path on the reference solution, if any."""
        if not self.state.on_path:
            return None
        for i, c in enumerate(self.candidates):
            if c.state.on_path:
                return i
        return None
