"""Curriculum versus none, as environment steps until the held-out ``R1Math-v0`` accuracy first
reaches a target (the report: a curriculum is 2.4x faster).

Two curricula, both ``R1Curriculum-v0`` evaluated on ``R1Math-v0`` medium: easy then medium word
problems, and the report's stages (arithmetic, algebra, word problems). Steps on easier stages
count. A run that never reaches the target counts as the whole budget in the mean (censored).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from r1gym.stats import curve_mean, mean_ci, paired_diff, steps_to

from .common import (
    ENV,
    REFERENCE_ARM,
    Experiment,
    Report,
    Size,
    arm_jobs,
    by_seed,
    curve,
    curves_plot,
    final_report,
    fmt,
    md_table,
    pyplot,
    reference_job,
    save,
    slug,
    steps_cell,
    train_job,
)
from .job import Job

#: curricula as R1Curriculum-v0 settings; "none" trains on R1Math-v0 medium directly
CURRICULA: dict[str, dict[str, Any] | None] = {
    "none": None,
    "easy -> medium": {
        "stages": [["warm-up", ["word"], "easy"], ["target", ["word"], "medium"]],
        "window": 100,
        "threshold": 0.7,
    },
    "report stages": {
        "stages": [["basic math", ["arithmetic"]], ["algebra", ["algebra"]], ["word problems", ["word"]]],
        "window": 100,
        "threshold": 0.6,
        "promote_on": "either",
        "base_size": 1500,
        "growth": 1.0,
    },
}


def arm(label: str) -> str:
    """The arm (run name without the seed) of a curriculum; "none" is the shared reference run."""
    return REFERENCE_ARM if CURRICULA[label] is None else f"ppo_mask-curriculum-{slug(label)}"


def training_jobs(size: Size, runs: Path, seeds: Sequence[int]) -> list[Job]:
    """Every curriculum's runs on ``seeds`` (the Pareto front takes one seed of each)."""
    out = []
    for label, settings in CURRICULA.items():
        for seed in seeds:
            if settings is None:
                out.append(reference_job(runs, size, seed))
            else:
                extra = ["--env-id", "R1Curriculum-v0", "--env-kwargs", json.dumps({"curriculum": settings}),
                         "--eval-env-id", ENV]  # fmt: skip
                out.append(train_job(runs, size, arm(label), "ppo_mask", seed, extra, env_id=ENV))
    return out


def jobs(size: Size, runs: Path, gsm8k: bool) -> list[Job]:
    """Every curriculum, and none, on every seed of ``size``."""
    return training_jobs(size, runs, size.seeds)


def report(jobs: Mapping[str, Job], size: Size, out: Path) -> Report:
    """Steps to ``size.ppo_target`` and the speed-up over none, and ``curriculum.png`` (the curves)."""
    arms = {label: arm_jobs(jobs, arm(label)) for label in CURRICULA}
    none_steps = by_seed(arms["none"], lambda j: steps_to(*curve(j), size.ppo_target))
    none_acc = by_seed(arms["none"], lambda j: final_report(j)["accuracy"])
    rows, summary = [], {}
    for label, js in arms.items():
        reached = by_seed(js, lambda j: steps_to(*curve(j), size.ppo_target))
        censored = {s: (v if v is not None else float(size.ppo_steps)) for s, v in reached.items()}
        none_c = {s: (v if v is not None else float(size.ppo_steps)) for s, v in none_steps.items()}
        auc = by_seed(js, lambda j: curve_mean(*curve(j)))
        acc = by_seed(js, lambda j: final_report(j)["accuracy"])
        m_none, m_this = mean_ci(list(none_c.values()))[0], mean_ci(list(censored.values()))[0]
        speed = m_none / m_this if m_this else math.nan
        summary[label] = {"steps_to_target": reached, "curve_mean": auc, "final_accuracy": acc, "speedup": speed}
        rows.append([
            label,
            steps_cell(list(reached.values()), size.ppo_steps),
            fmt(*mean_ci(list(censored.values())), digits=0),
            "-" if label == "none" else f"{speed:.2f}x",
            fmt(*mean_ci(list(auc.values()))),
            fmt(*mean_ci(list(acc.values()))),
            "-" if label == "none" else fmt(*paired_diff(acc, none_acc)),
        ])  # fmt: skip
    fig, ax = pyplot().subplots(figsize=(6.5, 3.8))
    curves_plot(ax, arms, size.ppo_target, size.ppo_steps)
    ax.set_title("curriculum versus none (MaskablePPO; band: min-max over seeds)")
    save(fig, out / "curriculum.png")
    header = ["curriculum", f"steps to {size.ppo_target:.2f} (per seed)", "mean (censored at the budget)",
              "speed-up over none", "curve mean accuracy", "final accuracy", "final accuracy - none"]  # fmt: skip
    return Report(md_table(header, rows) + "\n\n![curriculum versus none](curriculum.png)", summary)


EXPERIMENT = Experiment("curriculum", "Curriculum versus none", jobs, report)
