"""Prioritized versus uniform replay: DQN with r1gym's prioritized buffer (omega = 0.7) against
a uniform one (the report: +41 % use of key experience, which should buy sample efficiency).

Both arms run ``agents/dqn_per.py`` with the same levers (action masks, n-step returns, double
Q-learning, a dueling head, a step cost); only the buffer differs (``--uniform``: SB3's uniform
sampling with the same n-step returns). The headline is what the claim is for: sample
efficiency (steps to a target accuracy; the mean of the learning curve, i.e. the area under it
over its span) and the final accuracy, each per arm and as a paired difference over seeds. The
share of replayed transitions that carry reward ("key experience", ``train/key_share``
averaged over training) is the mechanism, reported after them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from r1gym.stats import curve_mean, mean_ci, paired_diff, steps_to

from .common import (
    ENV,
    Experiment,
    Report,
    Size,
    arm_jobs,
    by_seed,
    curve,
    curves_plot,
    error_bars,
    final_report,
    fmt,
    md_table,
    progress_mean,
    pyplot,
    save,
    steps_cell,
    train_job,
)
from .job import Job

PRIORITIZED, UNIFORM = "prioritized (omega 0.7)", "uniform"
#: label -> (arm, whether the buffer is uniform)
ARMS: dict[str, tuple[str, bool]] = {PRIORITIZED: ("dqn_per-math", False), UNIFORM: ("dqn_uniform-math", True)}


def steps_fmt(m: float, lo: float = math.nan, hi: float = math.nan) -> str:
    """A step count ``m [lo, hi]`` with thousands separators (``m`` alone without an interval)."""
    if math.isnan(m):
        return "n/a"
    return f"{m:,.0f}" if math.isnan(lo) else f"{m:,.0f} [{lo:,.0f}, {hi:,.0f}]"


def training_jobs(size: Size, runs: Path, seeds: Sequence[int]) -> list[Job]:
    """Both buffers' runs on ``seeds`` (the Pareto front takes one seed of each)."""
    return [
        train_job(runs, size, name, "dqn_per", seed, ["--uniform"] if uniform else [], env_id=ENV)
        for name, uniform in ARMS.values()
        for seed in seeds
    ]


def jobs(size: Size, runs: Path, gsm8k: bool) -> list[Job]:
    """Both buffers on every seed of ``size``."""
    return training_jobs(size, runs, size.seeds)


def report(jobs: Mapping[str, Job], size: Size, out: Path) -> Report:
    """The comparison's table and ``replay.png`` (the curves, and the key-experience shares)."""
    arms = {label: arm_jobs(jobs, name) for label, (name, _) in ARMS.items()}
    per = {
        label: {
            "final_accuracy": by_seed(js, lambda j: final_report(j)["accuracy"]),
            "curve_mean": by_seed(js, lambda j: curve_mean(*curve(j))),
            "steps_to_target": by_seed(js, lambda j: steps_to(*curve(j), size.dqn_target)),
            "key_share": by_seed(js, lambda j: progress_mean(j, "train/key_share")),
        }
        for label, js in arms.items()
    }
    # a run that never reaches the target counts as the whole budget (censored: flatters no arm)
    for m in per.values():
        m["steps_censored"] = {s: size.dqn_steps if v is None else v for s, v in m["steps_to_target"].items()}
    p, u = per[PRIORITIZED], per[UNIFORM]
    rows = []
    for label, m in per.items():
        rows.append([
            label,
            steps_cell(list(m["steps_to_target"].values()), size.dqn_steps),
            steps_fmt(*mean_ci(list(m["steps_censored"].values()))),
            fmt(*mean_ci(list(m["curve_mean"].values()))),
            fmt(*mean_ci(list(m["final_accuracy"].values()))),
            fmt(*mean_ci(list(m["key_share"].values()))),
        ])  # fmt: skip
    d_key = paired_diff(p["key_share"], u["key_share"])
    u_key = mean_ci(list(u["key_share"].values()))[0]
    rel = 100.0 * d_key[0] / u_key if u_key else math.nan
    rows.append([
        "prioritized - uniform",
        "",
        steps_fmt(*paired_diff(p["steps_censored"], u["steps_censored"])),
        fmt(*paired_diff(p["curve_mean"], u["curve_mean"])),
        fmt(*paired_diff(p["final_accuracy"], u["final_accuracy"])),
        f"{fmt(*d_key)} ({rel:+.0f} %)",
    ])  # fmt: skip
    fig, axes = pyplot().subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [2, 1]})
    curves_plot(axes[0], arms, size.dqn_target, size.dqn_steps)
    axes[0].set_title("DQN: prioritized versus uniform replay")
    stats = [mean_ci(list(per[k]["key_share"].values())) for k in per]
    axes[1].bar(range(2), [s[0] for s in stats], yerr=error_bars(stats), capsize=3, color=["#c44", "#bbb"])
    axes[1].set_xticks(range(2), ["prioritized", "uniform"])
    axes[1].set_title("rewarded share of replayed batches", fontsize=10)
    save(fig, out / "replay.png")
    header = ["replay", f"steps to {size.dqn_target:.2f} (per seed)", f"steps to {size.dqn_target:.2f} (mean)",
              "curve mean accuracy (area / span)", "final accuracy", "key-experience share"]  # fmt: skip
    summary = {**per, "key_share_relative_change": rel}
    return Report(md_table(header, rows) + "\n\n![prioritized versus uniform replay](replay.png)", summary)


EXPERIMENT = Experiment("replay", "Prioritized versus uniform replay", jobs, report)
