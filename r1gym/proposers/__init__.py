"""Where candidate steps and their confidences come from.

Registers ``"procedural"`` (the default: the reference step and distractors re-derived from the
problem's program) and ``"llm"`` (a local causal LM samples the steps; torch and transformers load
only when it is asked for) in :data:`r1gym.core.protocols.PROPOSERS`.
"""

from __future__ import annotations

from typing import Any

from r1gym.core.protocols import PROPOSERS, make_proposer
from r1gym.proposers.procedural import PRESETS, ProceduralConfig, ProceduralProposer, make_config


def procedural(difficulty: str, num_candidates: int | None, kwargs: dict[str, Any]) -> ProceduralProposer:
    """The proposer behind ``proposer="procedural"``: the difficulty's preset, overridden by ``kwargs``."""
    return ProceduralProposer(make_config(difficulty, num_candidates=num_candidates, **kwargs))


PROPOSERS.register("procedural", procedural)
PROPOSERS.register_lazy("llm", "r1gym.proposers.llm:make_llm_proposer")

__all__ = ["PRESETS", "ProceduralConfig", "ProceduralProposer", "make_config", "make_proposer"]
