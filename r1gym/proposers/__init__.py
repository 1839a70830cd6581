"""Where candidate steps and their confidences come from."""

from __future__ import annotations

from typing import Any

from r1gym.proposers.procedural import PRESETS, ProceduralConfig, ProceduralProposer, make_config

PROPOSERS = ("procedural", "llm")


def make_proposer(spec: Any, difficulty: str, num_candidates: int | None, kwargs: dict[str, Any]) -> Any:
    """A proposer from its name and the difficulty preset, or an instance returned as is.

    ``"procedural"`` (the default) or ``"llm"`` (:mod:`r1gym.proposers.llm`: ``kwargs`` name the
    model, its tokenizer and the sampling settings).

    An instance must have ``config.num_candidates`` and
    ``propose(problem, state, texts, rng) -> (candidates, confidences)``.
    """
    if isinstance(spec, str):
        if spec == "llm":  # imported here: torch and transformers load only when asked for
            from r1gym.proposers.llm import make_llm_proposer

            return make_llm_proposer(difficulty, num_candidates, kwargs)
        if spec != "procedural":
            raise ValueError(f"unknown proposer {spec!r}; valid: {list(PROPOSERS)} or a proposer instance")
        return ProceduralProposer(make_config(difficulty, num_candidates=num_candidates, **kwargs))
    if not hasattr(spec, "propose") or not hasattr(getattr(spec, "config", None), "num_candidates"):
        raise TypeError("proposer must be 'procedural', 'llm' or an object with config.num_candidates and propose()")
    if difficulty not in PRESETS:
        raise ValueError(f"unknown difficulty {difficulty!r}; valid: {sorted(PRESETS)}")
    return spec


__all__ = ["PRESETS", "PROPOSERS", "ProceduralConfig", "ProceduralProposer", "make_config", "make_proposer"]
