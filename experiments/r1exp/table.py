"""Baselines versus trained: MaskablePPO on ``R1Math-v0`` (and ``R1GSM8K-v0`` when GSM8K's data
is there) against random, greedy, backtracking, best-first and MCTS, in accuracy, mean steps and
error recovery.

The baselines' accuracy has its Wilson interval (one evaluation); the trained policy's numbers
are means over seeds with their t intervals.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from r1gym.stats import mean_ci

from .common import (
    DIFFICULTY,
    ENV,
    EVAL_SEED,
    REFERENCE_ARM,
    Experiment,
    Report,
    Size,
    arm_jobs,
    baseline_job,
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

GSM8K_ENV = "R1GSM8K-v0"
GSM8K_ARM = "ppo_mask-gsm8k"


def jobs(size: Size, runs: Path, gsm8k: bool) -> list[Job]:
    """The baselines and the reference runs on R1Math-v0; the same on R1GSM8K-v0 if ``gsm8k``."""
    out = [baseline_job(runs, size, ENV), *(reference_job(runs, size, seed) for seed in size.seeds)]
    if gsm8k:
        out.append(baseline_job(runs, size, GSM8K_ENV))
        out += [
            train_job(runs, size, GSM8K_ARM, "ppo_mask", seed, ["--env-id", GSM8K_ENV], env_id=GSM8K_ENV)
            for seed in size.seeds
        ]
    return out


def report(jobs: Mapping[str, Job], size: Size, out: Path) -> Report:
    """One table per environment and ``table.png`` (accuracy bars, the trained policy in red)."""
    parts = []
    summary: dict[str, Any] = {}
    plt = pyplot()
    envs = [e for e in (ENV, GSM8K_ENV) if f"baselines-{e}" in jobs]
    fig, axes = plt.subplots(1, len(envs), figsize=(5.5 * len(envs), 3.6), squeeze=False)
    for ax, env_id in zip(axes[0], envs):
        base = json.loads(jobs[f"baselines-{env_id}"].done.read_text())
        trained = arm_jobs(jobs, REFERENCE_ARM if env_id == ENV else GSM8K_ARM)
        reps = [final_report(j) for j in trained]
        rows, names, intervals = [], [], []
        for r in base:
            rec = r["error_recovery"]
            rows.append([r["agent"], f"{r['episodes']}", fmt(r["accuracy"], *r["accuracy_ci"]),
                         f"{r['mean_steps']:.2f}", fmt(math.nan if rec is None else rec)])  # fmt: skip
            names.append(r["agent"])
            intervals.append((r["accuracy"], *r["accuracy_ci"]))
        acc = mean_ci([r["accuracy"] for r in reps])
        steps = mean_ci([r["mean_steps"] for r in reps])
        trained_rec = mean_ci([r["error_recovery"] for r in reps])
        label = f"MaskablePPO, {size.ppo_steps:,} steps"
        seeds = ", ".join(str(j.meta["seed"]) for j in trained)
        rows.append([f"**{label}** (seeds {seeds})", f"{size.eval_episodes} x {len(reps)}", fmt(*acc),
                     fmt(*steps, digits=2), fmt(*trained_rec)])  # fmt: skip
        for j, r in zip(trained, reps):
            rec = r["error_recovery"]
            rows.append([f"  seed {j.meta['seed']}", f"{r['episodes']}", fmt(r["accuracy"], *r["accuracy_ci"]),
                         f"{r['mean_steps']:.2f}", fmt(math.nan if rec is None else rec)])  # fmt: skip
        names.append("MaskablePPO")
        intervals.append(acc)
        header = ["agent", "episodes", "accuracy [95% CI]", "mean steps", "error recovery"]
        parts.append(f"**{env_id}** ({DIFFICULTY}; final evaluation seed {EVAL_SEED})\n\n" + md_table(header, rows))
        summary[env_id] = {
            "baselines": {r["agent"]: {k: r[k] for k in ("accuracy", "error_recovery", "mean_steps")} for r in base},
            "trained": {
                "accuracy": acc, "mean_steps": steps, "error_recovery": trained_rec,
                "per_seed": [r["accuracy"] for r in reps],
            },
        }  # fmt: skip
        colors = ["#bbb"] * (len(names) - 1) + ["#c44"]
        ax.bar(range(len(names)), [i[0] for i in intervals], yerr=error_bars(intervals), capsize=3, color=colors)
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
        ax.set_ylim(0, 1)
        ax.set_ylabel("accuracy")
        ax.set_title(env_id)
    save(fig, out / "table.png")
    return Report("\n\n".join(parts) + "\n\n![baselines versus trained](table.png)", summary)


EXPERIMENT = Experiment("table", "Baselines versus trained", jobs, report)
