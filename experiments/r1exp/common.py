"""What the experiments share: the sizes, the settings every run has, the job builders, reading
a finished run, and the table and plot helpers.

An experiment is a module of this package with an :class:`Experiment` named ``EXPERIMENT``: the
jobs it needs (built with :func:`train_job` and :func:`baseline_job`, so that two experiments
asking for the same run get the same job and it is trained once) and the report that reads
them once they are done.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .job import Job

ROOT = Path(__file__).resolve().parents[2]
AGENTS = ROOT / "agents"
ENV = "R1Math-v0"
DIFFICULTY = "medium"
EVAL_SEED = 1000  # the final evaluations: the seed of docs/baselines.md's table
CURVE_SEED = 20_000  # the learning curves: other problems than the final evaluation's
LATENCY_SEED = 3000
BASELINES = ("random", "greedy", "backtrack", "best-first", "mcts")
#: MaskablePPO on R1Math-v0 with the default 0.6 : 0.3 : 0.1 weights: the table's model, the
#: weights' reference arm and the curriculum's "none", trained once per seed
REFERENCE_ARM = "ppo_mask-math"


@dataclass(frozen=True)
class Size:
    """Budgets of one size of the experiments."""

    seeds: tuple[int, ...]
    ppo_steps: int
    dqn_steps: int
    n_envs: int
    ppo_args: tuple[str, ...]
    dqn_args: tuple[str, ...]
    curve_freq: int
    curve_episodes: int
    eval_episodes: int
    baseline_episodes: int
    latency_episodes: int
    ppo_target: float  # accuracy the curriculum experiment's steps-to-target aim at
    dqn_target: float


FULL = Size(
    seeds=(1, 2, 3, 4, 5),
    ppo_steps=300_000,
    # DQN (with masks and n-step returns) is at its plateau (~0.43) by 50,000 steps: 100,000 steps,
    # with a curve point every 5,000, resolve its sample efficiency (docs/results.md, section 4)
    dqn_steps=100_000,
    n_envs=4,
    ppo_args=(),
    dqn_args=("--curve-freq", "5000"),
    curve_freq=25_000,
    curve_episodes=200,
    # paired by problem (every arm plays the same --eval-seed episodes): 2,000 per seed puts the
    # evaluation noise of a difference near 0.01, under the training seeds' spread
    eval_episodes=2000,
    baseline_episodes=1000,
    latency_episodes=100,
    ppo_target=0.5,
    dqn_target=0.35,  # about 80 % of DQN's plateau, out of the +-0.07 noise of a 200-episode point
)
QUICK = Size(
    seeds=(1,),
    ppo_steps=512,
    dqn_steps=512,
    n_envs=2,
    ppo_args=("--n-steps", "64", "--batch-size", "64", "--n-epochs", "1", "--net-arch", "32,32"),
    dqn_args=("--learning-starts", "64", "--buffer-size", "2000", "--train-freq", "1", "--net-arch", "32,32"),
    curve_freq=256,
    curve_episodes=8,
    eval_episodes=20,
    baseline_episodes=10,
    latency_episodes=3,
    ppo_target=0.5,
    dqn_target=0.4,
)


@dataclass(frozen=True)
class Report:
    """An experiment's outcome: its section of ``tables.md`` (plots already written) and its
    entry of ``summary.json`` (every per-seed number)."""

    markdown: str
    summary: Any


@dataclass(frozen=True)
class Experiment:
    """One experiment of the report, as the command line sees it.

    ``jobs(size, runs, gsm8k)`` lists the runs it needs (``runs``: the folder of the run folders;
    ``gsm8k``: whether GSM8K's data was found). ``report(jobs, size, out)`` reads them once they
    are done, writes its plots into ``out`` and returns its :class:`Report`; ``jobs`` there is
    every job of the invocation by name, those of the other experiments chosen included (the
    Pareto front takes every trained variant there is).
    """

    name: str
    title: str
    jobs: Callable[[Size, Path, bool], list[Job]]
    report: Callable[[Mapping[str, Job], Size, Path], Report]


# --------------------------------------------------------------------------------------------
# The jobs
# --------------------------------------------------------------------------------------------


def train_job(runs: Path, size: Size, name: str, script: str, seed: int, extra: Sequence[str], **meta: Any) -> Job:
    """A run of ``agents/<script>.py`` (ppo_mask, ppo or dqn_per) on ``R1Math-v0`` medium at
    ``size``, in ``runs/<name>-s<seed>``; ``extra`` arguments come last and override."""
    steps = size.dqn_steps if script == "dqn_per" else size.ppo_steps
    out = runs / f"{name}-s{seed}"
    config = {"ppo_mask": "ppo_mask.R1Math-v0", "ppo": "ppo.R1Math-v0", "dqn_per": "dqn_per.R1Math-v0"}[script]
    cmd = [
        sys.executable, str(AGENTS / f"{script}.py"),
        "--config", config,
        "--seed", str(seed),
        "--total-timesteps", str(steps),
        "--n-envs", str(size.n_envs),
        "--difficulty", DIFFICULTY,
        "--checkpoint-freq", str(max(steps // 3, 1)),
        "--curve-freq", str(size.curve_freq),
        "--curve-episodes", str(size.curve_episodes),
        "--curve-seed", str(CURVE_SEED),
        "--eval-episodes", str(size.eval_episodes),
        "--eval-seed", str(EVAL_SEED),
        "--eval-baselines", "",
        "--torch-threads", "1",
        "--no-progress-bar",
        "--out", str(out),
        *(size.dqn_args if script == "dqn_per" else size.ppo_args),
        *extra,
    ]  # fmt: skip
    return Job(f"{name}-s{seed}", cmd, out, out / "eval.json", {"arm": name, "script": script, "seed": seed, **meta})


def reference_job(runs: Path, size: Size, seed: int) -> Job:
    """The :data:`REFERENCE_ARM` run of ``seed``."""
    return train_job(runs, size, REFERENCE_ARM, "ppo_mask", seed, [], env_id=ENV)


def baseline_job(runs: Path, size: Size, env_id: str) -> Job:
    """Every baseline of :data:`BASELINES` on ``env_id``, through ``r1gym eval``, into
    ``runs/baselines-<env_id>/baselines.json``."""
    out = runs / f"baselines-{env_id}"
    cmd = [
        sys.executable, "-m", "r1gym.cli", "eval", env_id,
        "--agent", *BASELINES,
        "--episodes", str(size.baseline_episodes),
        "--seed", str(EVAL_SEED),
        "--difficulty", DIFFICULTY,
        "--json", str(out / "baselines.json"),
    ]  # fmt: skip
    return Job(f"baselines-{env_id}", cmd, out, out / "baselines.json", {"env_id": env_id})


def slug(text: str) -> str:
    """``text`` as a folder name: runs of anything but letters and digits become one ``-``
    (``"easy -> medium"`` -> ``"easy-medium"``)."""
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").replace("--", "-").replace("--", "-")


# --------------------------------------------------------------------------------------------
# Reading a finished run
# --------------------------------------------------------------------------------------------


def final_report(job: Job) -> dict[str, Any]:
    """The final evaluation's report of a training run (its ``eval.json``)."""
    return json.loads(job.done.read_text())["reports"][0]


def curve(job: Job) -> tuple[np.ndarray, np.ndarray]:
    """(steps, accuracy) of the run's learning curve (empty arrays if it has none)."""
    path = job.out / "curve.csv"
    if not path.exists():
        return np.zeros(0), np.zeros(0)
    rows = list(csv.DictReader(path.open()))
    return np.array([float(r["steps"]) for r in rows]), np.array([float(r["accuracy"]) for r in rows])


def progress_mean(job: Job, column: str) -> float:
    """The mean of a logged column of ``progress*.csv`` over the run (resumed parts included)."""
    values = []
    for path in sorted(job.out.glob("progress*.csv")):
        for row in csv.DictReader(path.open()):
            if row.get(column) not in (None, ""):
                values.append(float(row[column]))
    return float(np.mean(values)) if values else math.nan


def arm_jobs(jobs: Mapping[str, Job], arm: str) -> list[Job]:
    """The runs of one arm, by seed."""
    return sorted((j for j in jobs.values() if j.meta.get("arm") == arm), key=lambda j: j.meta["seed"])


def by_seed(jobs: Sequence[Job], value: Callable[[Job], Any]) -> dict[int, Any]:
    """``{seed: value(job)}`` over the runs of an arm."""
    return {j.meta["seed"]: value(j) for j in jobs}


# --------------------------------------------------------------------------------------------
# Tables and plots
# --------------------------------------------------------------------------------------------


def fmt(m: float | None, lo: float = math.nan, hi: float = math.nan, digits: int = 3) -> str:
    """``m [lo, hi]``, or ``m`` alone when there is no interval, or ``n/a``."""
    if m is None or math.isnan(m):
        return "n/a"
    if math.isnan(lo):
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def steps_cell(values: Sequence[float | None], budget: int) -> str:
    """Steps to a target per seed, ``>budget`` for a run that never reached it."""
    return ", ".join(f">{budget:,}" if v is None else f"{v:,.0f}" for v in values)


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (files only, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def error_bars(intervals: Sequence[tuple[float, float, float]]) -> np.ndarray:
    """``yerr`` for ``Axes.bar`` from ``(mean, low, high)`` triples (no bar where no interval)."""
    return np.array([(0, 0) if math.isnan(lo) else (m - lo, hi - m) for m, lo, hi in intervals]).T


def curves_plot(ax: Any, arms: Mapping[str, Sequence[Job]], target: float, budget: int) -> None:
    """The arms' learning curves on ``ax``: mean over seeds, band from min to max, the target."""
    for (label, js), color in zip(arms.items(), ("#c44", "#36c", "#2a2", "#a6c")):
        curves = [curve(j) for j in js]
        curves = [c for c in curves if len(c[0])]
        if not curves:
            continue
        n = min(len(c[0]) for c in curves)
        steps = curves[0][0][:n]
        acc = np.array([c[1][:n] for c in curves])
        ax.plot(steps, acc.mean(0), color=color, label=f"{label} ({len(curves)} seeds)")
        if len(curves) > 1:
            ax.fill_between(steps, acc.min(0), acc.max(0), color=color, alpha=0.15, lw=0)
    ax.axhline(target, color="k", ls=":", lw=1)
    ax.set_xlim(0, budget)
    ax.set_ylim(0, 1)
    ax.set_xlabel("environment steps")
    ax.set_ylabel(f"held-out accuracy ({ENV})")
    ax.legend(fontsize=8)


def save(fig: Any, path: Path) -> None:
    """Write a figure as a 150 dpi PNG and free it."""
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    pyplot().close(fig)
