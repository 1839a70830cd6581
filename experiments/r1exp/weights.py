"""Reward weights around 0.6 : 0.3 : 0.1 (the report: that ratio is best and lifts exploration
efficiency by 32 %).

Each arm is MaskablePPO on ``R1Math-v0`` with other ``reward_weights``; exploration efficiency
is correct answers per 100 environment steps of evaluation (accuracy / mean steps). Every arm
is compared with the report's ratio seed by seed (a paired difference).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from r1gym.stats import curve_mean, mean_ci, paired_diff

from .common import (
    ENV,
    REFERENCE_ARM,
    Experiment,
    Report,
    Size,
    arm_jobs,
    curve,
    error_bars,
    final_report,
    fmt,
    md_table,
    pyplot,
    reference_job,
    save,
    train_job,
)
from .job import Job

#: the report's ratio first; each other arm moves weight from or to one term
WEIGHTS: dict[str, tuple[float, float, float]] = {
    "0.6:0.3:0.1": (0.6, 0.3, 0.1),
    "1:0:0": (1.0, 0.0, 0.0),
    "0.4:0.5:0.1": (0.4, 0.5, 0.1),
    "0.6:0.1:0.3": (0.6, 0.1, 0.3),
}
REFERENCE_WEIGHTS = "0.6:0.3:0.1"  # the environment's default: its arm is the shared reference run
#: per arm and seed (the summary's keys); efficiency: correct answers per 100 steps, auc: curve mean accuracy
METRICS = ("accuracy", "mean_steps", "efficiency", "error_recovery", "auc")


def arm(label: str) -> str:
    """The arm (run name without the seed) of a weighting."""
    return REFERENCE_ARM if label == REFERENCE_WEIGHTS else f"ppo_mask-math-w{label.replace(':', '_')}"


def training_jobs(size: Size, runs: Path, seeds: Sequence[int]) -> list[Job]:
    """Every weighting's runs on ``seeds`` (the Pareto front takes one seed of each)."""
    out = []
    for label, w in WEIGHTS.items():
        for seed in seeds:
            if label == REFERENCE_WEIGHTS:
                out.append(reference_job(runs, size, seed))
            else:
                kwargs = json.dumps({"reward_weights": list(w)})
                out.append(train_job(runs, size, arm(label), "ppo_mask", seed, ["--env-kwargs", kwargs], env_id=ENV))
    return out


def jobs(size: Size, runs: Path, gsm8k: bool) -> list[Job]:
    """Every weighting on every seed of ``size``."""
    return training_jobs(size, runs, size.seeds)


def report(jobs: Mapping[str, Job], size: Size, out: Path) -> Report:
    """The sweep's table and ``weights.png`` (accuracy and efficiency by weighting, seeds as dots)."""
    per: dict[str, dict[str, dict[int, float]]] = {}
    for label in WEIGHTS:
        m: dict[str, dict[int, float]] = {k: {} for k in METRICS}
        for j in arm_jobs(jobs, arm(label)):
            r, s = final_report(j), j.meta["seed"]
            m["accuracy"][s] = r["accuracy"]
            m["mean_steps"][s] = r["mean_steps"]
            m["efficiency"][s] = 100.0 * r["accuracy"] / r["mean_steps"]
            m["error_recovery"][s] = r["error_recovery"] if r["error_recovery"] is not None else math.nan
            m["auc"][s] = curve_mean(*curve(j))
        per[label] = m
    ref = per[REFERENCE_WEIGHTS]
    rows = []
    for label, m in per.items():
        d_eff = paired_diff(ref["efficiency"], m["efficiency"])
        d_acc = paired_diff(ref["accuracy"], m["accuracy"])
        base_eff = mean_ci(list(m["efficiency"].values()))[0]
        rel = 100.0 * d_eff[0] / base_eff if base_eff and not math.isnan(d_eff[0]) else math.nan
        rows.append([
            f"{label}{' (report)' if label == REFERENCE_WEIGHTS else ''}",
            fmt(*mean_ci(list(m["accuracy"].values()))),
            fmt(*mean_ci(list(m["mean_steps"].values())), digits=2),
            fmt(*mean_ci(list(m["efficiency"].values())), digits=2),
            fmt(*mean_ci(list(m["auc"].values()))),
            "-" if label == REFERENCE_WEIGHTS else fmt(*d_acc),
            "-" if label == REFERENCE_WEIGHTS else f"{fmt(*d_eff, digits=2)} ({rel:+.0f} %)",
        ])  # fmt: skip
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for ax, key, title in ((axes[0], "accuracy", "accuracy"), (axes[1], "efficiency", "correct answers per 100 steps")):
        stats = [mean_ci(list(per[k][key].values())) for k in per]
        colors = ["#c44"] + ["#bbb"] * (len(per) - 1)
        ax.bar(range(len(per)), [s[0] for s in stats], yerr=error_bars(stats), capsize=3, color=colors)
        for i, k in enumerate(per):
            ax.scatter([i] * len(per[k][key]), list(per[k][key].values()), color="k", s=8, zorder=3)
        ax.set_xticks(range(len(per)), list(per))
        ax.set_title(title)
        ax.set_xlabel("alpha : beta : gamma")
    save(fig, out / "weights.png")
    header = ["weights", "accuracy", "mean steps", "correct / 100 steps", "curve mean accuracy",
              "report arm - this (accuracy)", "report arm - this (correct / 100 steps)"]  # fmt: skip
    summary = {k: {mk: dict(mv) for mk, mv in v.items()} for k, v in per.items()}
    return Report(md_table(header, rows) + "\n\n![reward weights](weights.png)", summary)


EXPERIMENT = Experiment("weights", "Reward weights around 0.6 : 0.3 : 0.1", jobs, report)
