"""The final evaluation of a training run: the trained policy beside the baselines, on held-out
episodes, as a table and as ``<out>/eval.json``.

Every agent plays the same ``episodes`` episodes from ``seed`` (away from the training seeds),
through :func:`r1gym.evaluation.evaluate`, exactly as ``r1gym eval ENV --agent ...`` would.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from r1gym.agent_specs import resolve_agent
from r1gym.evaluation import EvalReport, evaluate, format_table
from r1gym.training.runs import write_json

__all__ = ["baselines", "final_evaluation"]


def baselines(specs: str | Sequence[str], seed: int) -> list[Any]:
    """The baseline agents named by ``specs`` (``"greedy,backtrack"`` or a list; empty: none),
    the seeded ones (random, MCTS) seeded with ``seed``."""
    names = specs.split(",") if isinstance(specs, str) else specs
    return [resolve_agent(name.strip(), seed=seed) for name in names if name.strip()]


def final_evaluation(
    agents: Sequence[Any],
    env_id: str,
    env_kwargs: dict[str, Any],
    episodes: int,
    seed: int,
    path: Path,
    **meta: Any,
) -> list[EvalReport]:
    """Evaluate each agent on ``episodes`` episodes of ``env_id`` from ``seed``, print the table,
    and write ``path`` (``eval.json``): the environment, the episodes, ``meta`` (what was trained,
    for how long) and one report per agent (``EvalReport.to_dict()``)."""
    reports = [evaluate(agent, env_id, episodes=episodes, seed=seed, **env_kwargs) for agent in agents]
    print(format_table(reports))
    write_json(
        path,
        {
            "env_id": env_id,
            "env_kwargs": env_kwargs,
            "episodes": episodes,
            "seed": seed,
            **meta,
            "reports": [r.to_dict() for r in reports],
        },
    )
    return reports
