"""The R1 report's experiments, at a size a 2-core CPU runs in about an hour.

    python experiments/run.py                 # everything: trains, evaluates, writes tables and plots
    python experiments/run.py --quick         # a smoke run of the same pipeline (about a minute)
    python experiments/run.py --only replay   # one experiment (table, weights, curriculum, replay, pareto)

Five experiments, each against a claim of the report (docs/results.md reads the outcome):

1. ``table``: baselines versus trained. MaskablePPO on ``R1Math-v0`` and ``R1GSM8K-v0`` (medium)
   against random, greedy, backtracking, best-first and MCTS: accuracy, mean steps, error recovery.
2. ``weights``: the reward weights swept around 0.6 : 0.3 : 0.1 (the report: that ratio is best
   and lifts exploration efficiency by 32 %). Exploration efficiency here is correct answers per
   100 environment steps of evaluation (accuracy / mean steps).
3. ``curriculum``: curriculum versus none, as environment steps to reach a target accuracy on
   held-out ``R1Math-v0`` episodes (the report: 2.4x faster). Two curricula: easy then medium word
   problems, and the report's stages (arithmetic, algebra, word problems). Steps on easier stages
   count.
4. ``replay``: DQN with prioritized replay (omega = 0.7) versus uniform replay, as sample
   efficiency (steps to target, area under the learning curve) and as the share of replayed
   transitions that carry reward, "key experience" (the report: +41 % use of key experience).
5. ``pareto``: every trained variant on ``R1Math-v0`` and the baselines, over accuracy, decision
   latency (agent time per decision, search included) and acting parameters.

Every training run is one of ``agents/``'s scripts in a subprocess (``--jobs`` at a time, one
torch thread each) with its own directory under ``--runs``; a run with ``eval.json`` is done and
skipped, an interrupted one resumes from its checkpoint, so running the same command again after
Ctrl-C (or a crash) continues where it stopped. Runs shared between experiments (the
0.6 : 0.3 : 0.1 MaskablePPO on ``R1Math-v0`` is the table's model, the weights' reference arm and
the curriculum's "none") are trained once. Tables (``tables.md``), ``summary.json`` and PNG plots
go to ``--out``. Across seeds, a mean comes with a 95 % Student-t interval; a difference between
two arms is the mean of the per-seed differences (same seeds) with its t interval; a single
evaluation's accuracy has its Wilson interval.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
AGENTS = ROOT / "agents"
EXPERIMENTS = ("table", "weights", "curriculum", "replay", "pareto")
ENV = "R1Math-v0"
DIFFICULTY = "medium"
EVAL_SEED = 1000  # the final evaluations: the seed of docs/baselines.md's table
CURVE_SEED = 20_000  # the learning curves: other problems than the final evaluation's
LATENCY_SEED = 3000
BASELINES = ("random", "greedy", "backtrack", "best-first", "mcts")

#: the report's ratio first; each other arm moves weight from or to one term
WEIGHTS: dict[str, tuple[float, float, float]] = {
    "0.6:0.3:0.1": (0.6, 0.3, 0.1),
    "1:0:0": (1.0, 0.0, 0.0),
    "0.4:0.5:0.1": (0.4, 0.5, 0.1),
    "0.6:0.1:0.3": (0.6, 0.1, 0.3),
}
REFERENCE_WEIGHTS = "0.6:0.3:0.1"

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
    seeds=(1, 2, 3),
    ppo_steps=300_000,
    dqn_steps=300_000,
    n_envs=4,
    ppo_args=(),
    dqn_args=(),
    curve_freq=25_000,
    curve_episodes=200,
    eval_episodes=1000,
    baseline_episodes=1000,
    latency_episodes=100,
    ppo_target=0.5,
    dqn_target=0.4,
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


# --------------------------------------------------------------------------------------------
# The runs
# --------------------------------------------------------------------------------------------


@dataclass
class Job:
    """One subprocess: a training run (done when its ``eval.json`` exists) or a baseline evaluation."""

    name: str
    cmd: list[str]
    out: Path
    done: Path
    meta: dict[str, Any] = field(default_factory=dict)

    def is_done(self) -> bool:
        return self.done.exists()


def train_job(runs: Path, size: Size, name: str, script: str, seed: int, extra: Sequence[str], **meta: Any) -> Job:
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


def baseline_job(runs: Path, size: Size, env_id: str) -> Job:
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


def plan(only: Sequence[str], size: Size, runs: Path, gsm8k: bool) -> dict[str, Job]:
    """Every job the chosen experiments need, by name (shared runs appear once)."""
    jobs: dict[str, Job] = {}

    def add(job: Job) -> None:
        jobs.setdefault(job.name, job)

    def reference(seed: int) -> None:  # the table's model, the weights' reference, the curriculum's "none"
        add(train_job(runs, size, "ppo_mask-math", "ppo_mask", seed, [], env_id=ENV))

    for exp in only:
        if exp in ("table", "pareto"):
            add(baseline_job(runs, size, ENV))
        if exp == "table":
            for seed in size.seeds:
                reference(seed)
            if gsm8k:
                add(baseline_job(runs, size, "R1GSM8K-v0"))
                for seed in size.seeds:
                    add(
                        train_job(
                            runs,
                            size,
                            "ppo_mask-gsm8k",
                            "ppo_mask",
                            seed,
                            ["--env-id", "R1GSM8K-v0"],
                            env_id="R1GSM8K-v0",
                        )
                    )
        if exp in ("weights", "pareto"):
            for label, w in WEIGHTS.items():
                for seed in size.seeds if exp == "weights" else size.seeds[:1]:
                    if label == REFERENCE_WEIGHTS:
                        reference(seed)
                    else:
                        kwargs = json.dumps({"reward_weights": list(w)})
                        add(
                            train_job(
                                runs,
                                size,
                                f"ppo_mask-math-w{label.replace(':', '_')}",
                                "ppo_mask",
                                seed,
                                ["--env-kwargs", kwargs],
                                env_id=ENV,
                            )
                        )
        if exp in ("curriculum", "pareto"):
            for label, settings in CURRICULA.items():
                for seed in size.seeds if exp == "curriculum" else size.seeds[:1]:
                    if settings is None:
                        reference(seed)
                    else:
                        extra = [
                            "--env-id",
                            "R1Curriculum-v0",
                            "--env-kwargs",
                            json.dumps({"curriculum": settings}),
                            "--eval-env-id",
                            ENV,
                        ]
                        add(
                            train_job(
                                runs, size, f"ppo_mask-curriculum-{_slug(label)}", "ppo_mask", seed, extra, env_id=ENV
                            )
                        )
        if exp in ("replay", "pareto"):
            for uniform in (False, True):
                for seed in size.seeds if exp == "replay" else size.seeds[:1]:
                    name = "dqn_uniform-math" if uniform else "dqn_per-math"
                    add(train_job(runs, size, name, "dqn_per", seed, ["--uniform"] if uniform else [], env_id=ENV))
        if exp == "pareto":  # more sizes and the unmasked PPO, one seed each
            seed = size.seeds[0]
            add(train_job(runs, size, "ppo_mask-math-arch32", "ppo_mask", seed, ["--net-arch", "32,32"], env_id=ENV))
            add(train_job(runs, size, "ppo_mask-math-arch256", "ppo_mask", seed, ["--net-arch", "256,256"], env_id=ENV))
            add(train_job(runs, size, "ppo-math", "ppo", seed, [], env_id=ENV))
    return jobs


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").replace("--", "-").replace("--", "-")


def run_jobs(jobs: Sequence[Job], parallel: int, env: dict[str, str]) -> list[Job]:
    """Run the jobs that are not done, ``parallel`` at a time; returns the failed ones.

    Each job's output goes to ``<out>/log.txt``. Ctrl-C stops the running jobs (the training
    scripts save a checkpoint on SIGINT) and re-raises: run the same command to resume.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    todo = [j for j in jobs if not j.is_done()]
    failed: list[Job] = []
    running: list[tuple[Job, subprocess.Popen, Any]] = []
    with Progress(
        TextColumn("[bold]experiments"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}"),
    ) as bar:  # fmt: skip
        task = bar.add_task("", total=len(jobs), completed=len(jobs) - len(todo))
        try:
            while todo or running:
                while todo and len(running) < parallel:
                    job = todo.pop(0)
                    job.out.mkdir(parents=True, exist_ok=True)
                    log = (job.out / "log.txt").open("a")
                    log.write(f"$ {shlex.join(job.cmd)}\n")
                    log.flush()
                    proc = subprocess.Popen(job.cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=job.out)
                    running.append((job, proc, log))
                bar.update(task, description=", ".join(j.name for j, _, _ in running))
                time.sleep(0.2)
                for item in list(running):
                    job, proc, log = item
                    if proc.poll() is None:
                        continue
                    running.remove(item)
                    log.close()
                    if proc.returncode != 0 or not job.is_done():
                        failed.append(job)
                        bar.console.print(
                            f"[red]failed[/red] {job.name} (exit {proc.returncode}): see {job.out / 'log.txt'}"
                        )
                    bar.advance(task)
        except KeyboardInterrupt:
            for job, proc, log in running:
                proc.send_signal(signal.SIGINT)
            for job, proc, log in running:
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                log.close()
            raise
    return failed


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------

#: two-sided 95 % Student-t quantiles by degrees of freedom
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


def mean_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95 % t interval across seeds (NaN bounds for one value)."""
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if len(x) == 1:
        return m, math.nan, math.nan
    half = T975.get(len(x) - 1, 1.96) * float(x.std(ddof=1)) / math.sqrt(len(x))
    return m, m - half, m + half


def paired_diff(a: dict[int, float], b: dict[int, float]) -> tuple[float, float, float]:
    """Mean of ``a[seed] - b[seed]`` over the seeds both have, with its 95 % t interval."""
    seeds = sorted(set(a) & set(b))
    return mean_ci([a[s] - b[s] for s in seeds])


def fmt(m: float, lo: float = math.nan, hi: float = math.nan, digits: int = 3) -> str:
    if m is None or math.isnan(m):
        return "n/a"
    if math.isnan(lo):
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


# --------------------------------------------------------------------------------------------
# Reading the runs
# --------------------------------------------------------------------------------------------


def final_report(job: Job) -> dict[str, Any]:
    return json.loads(job.done.read_text())["reports"][0]


def curve(job: Job) -> tuple[np.ndarray, np.ndarray]:
    """(steps, accuracy) of the run's learning curve."""
    path = job.out / "curve.csv"
    if not path.exists():
        return np.zeros(0), np.zeros(0)
    rows = list(csv.DictReader(path.open()))
    return np.array([float(r["steps"]) for r in rows]), np.array([float(r["accuracy"]) for r in rows])


def steps_to(steps: np.ndarray, acc: np.ndarray, target: float) -> float | None:
    """The first evaluated step count at which accuracy reached ``target`` (None: never)."""
    hit = np.nonzero(acc >= target)[0]
    return float(steps[hit[0]]) if len(hit) else None


def curve_mean(steps: np.ndarray, acc: np.ndarray) -> float:
    """Area under the learning curve over the budget, divided by the budget: mean accuracy."""
    if len(steps) < 2:
        return float(acc.mean()) if len(acc) else math.nan
    return float(np.trapezoid(acc, steps) / (steps[-1] - steps[0]))


def progress_mean(job: Job, column: str) -> float:
    """The mean of a logged column of ``progress*.csv`` over the run (resumed parts included)."""
    values = []
    for path in sorted(job.out.glob("progress*.csv")):
        for row in csv.DictReader(path.open()):
            if row.get(column) not in (None, ""):
                values.append(float(row[column]))
    return float(np.mean(values)) if values else math.nan


def arm_jobs(jobs: dict[str, Job], arm: str) -> list[Job]:
    return sorted((j for j in jobs.values() if j.meta.get("arm") == arm), key=lambda j: j.meta["seed"])


# --------------------------------------------------------------------------------------------
# The experiments' tables and plots
# --------------------------------------------------------------------------------------------


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def table_experiment(jobs: dict[str, Job], size: Size, out: Path, summary: dict[str, Any]) -> str:
    parts = []
    plt = _plt()
    envs = [e for e in (ENV, "R1GSM8K-v0") if f"baselines-{e}" in jobs]
    fig, axes = plt.subplots(1, len(envs), figsize=(5.5 * len(envs), 3.6), squeeze=False)
    for ax, env_id in zip(axes[0], envs):
        base = json.loads(jobs[f"baselines-{env_id}"].done.read_text())
        arm = "ppo_mask-math" if env_id == ENV else "ppo_mask-gsm8k"
        trained = arm_jobs(jobs, arm)
        reps = [final_report(j) for j in trained]
        rows, names, accs, errs = [], [], [], []
        for r in base:
            rec = r["error_recovery"]
            rows.append([r["agent"], f"{r['episodes']}", fmt(r["accuracy"], *r["accuracy_ci"]), f"{r['mean_steps']:.2f}",
                         "n/a" if rec is None or (isinstance(rec, float) and math.isnan(rec)) else f"{rec:.3f}"])  # fmt: skip
            names.append(r["agent"])
            accs.append(r["accuracy"])
            errs.append((r["accuracy"] - r["accuracy_ci"][0], r["accuracy_ci"][1] - r["accuracy"]))
        acc = mean_ci([r["accuracy"] for r in reps])
        steps = mean_ci([r["mean_steps"] for r in reps])
        rec = mean_ci([r["error_recovery"] for r in reps])
        label = f"MaskablePPO, {size.ppo_steps:,} steps"
        rows.append([f"**{label}** (seeds {', '.join(str(j.meta['seed']) for j in trained)})",
                     f"{size.eval_episodes} x {len(reps)}", fmt(*acc), fmt(*steps, digits=2), fmt(*rec)])  # fmt: skip
        for j, r in zip(trained, reps):
            rows.append([f"  seed {j.meta['seed']}", f"{r['episodes']}", fmt(r["accuracy"], *r["accuracy_ci"]),
                         f"{r['mean_steps']:.2f}", fmt(r["error_recovery"] if r["error_recovery"] is not None else math.nan)])  # fmt: skip
        names.append("MaskablePPO")
        accs.append(acc[0])
        errs.append((0.0, 0.0) if math.isnan(acc[1]) else (acc[0] - acc[1], acc[2] - acc[0]))
        parts.append(f"**{env_id}** ({DIFFICULTY}; final evaluation seed {EVAL_SEED})\n\n"
                     + md_table(["agent", "episodes", "accuracy [95% CI]", "mean steps", "error recovery"], rows))  # fmt: skip
        summary.setdefault("table", {})[env_id] = {
            "baselines": {r["agent"]: {"accuracy": r["accuracy"], "error_recovery": r["error_recovery"], "mean_steps": r["mean_steps"]} for r in base},
            "trained": {"accuracy": acc, "mean_steps": steps, "error_recovery": rec, "per_seed": [r["accuracy"] for r in reps]},
        }  # fmt: skip
        ax.bar(range(len(names)), accs, yerr=np.array(errs).T, capsize=3, color=["#bbb"] * (len(names) - 1) + ["#c44"])
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
        ax.set_ylim(0, 1)
        ax.set_ylabel("accuracy")
        ax.set_title(env_id)
    fig.tight_layout()
    fig.savefig(out / "table.png", dpi=150)
    plt.close(fig)
    return "\n\n".join(parts) + "\n\n![baselines versus trained](table.png)"


def weights_experiment(jobs: dict[str, Job], size: Size, out: Path, summary: dict[str, Any]) -> str:
    plt = _plt()
    per: dict[str, dict[str, dict[int, float]]] = {}
    for label in WEIGHTS:
        arm = "ppo_mask-math" if label == REFERENCE_WEIGHTS else f"ppo_mask-math-w{label.replace(':', '_')}"
        m: dict[str, dict[int, float]] = {
            "accuracy": {},
            "mean_steps": {},
            "efficiency": {},
            "error_recovery": {},
            "auc": {},
        }
        for j in arm_jobs(jobs, arm):
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
    summary["weights"] = {k: {mk: dict(mv) for mk, mv in v.items()} for k, v in per.items()}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for ax, key, title in ((axes[0], "accuracy", "accuracy"), (axes[1], "efficiency", "correct answers per 100 steps")):
        stats = [mean_ci(list(per[k][key].values())) for k in per]
        means = [s[0] for s in stats]
        err = np.array([(0, 0) if math.isnan(s[1]) else (s[0] - s[1], s[2] - s[0]) for s in stats]).T
        ax.bar(range(len(per)), means, yerr=err, capsize=3, color=["#c44"] + ["#bbb"] * (len(per) - 1))
        for i, k in enumerate(per):
            ax.scatter([i] * len(per[k][key]), list(per[k][key].values()), color="k", s=8, zorder=3)
        ax.set_xticks(range(len(per)), list(per))
        ax.set_title(title)
        ax.set_xlabel("alpha : beta : gamma")
    fig.tight_layout()
    fig.savefig(out / "weights.png", dpi=150)
    plt.close(fig)
    header = ["weights", "accuracy", "mean steps", "correct / 100 steps", "curve mean accuracy",
              "report arm - this (accuracy)", "report arm - this (correct / 100 steps)"]  # fmt: skip
    return md_table(header, rows) + "\n\n![reward weights](weights.png)"


def _curves_plot(ax: Any, arms: dict[str, list[Job]], target: float, budget: int) -> None:
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


def _steps_cell(values: list[float | None], budget: int) -> str:
    shown = [f">{budget:,}" if v is None else f"{v:,.0f}" for v in values]
    return ", ".join(shown)


def curriculum_experiment(jobs: dict[str, Job], size: Size, out: Path, summary: dict[str, Any]) -> str:
    plt = _plt()
    arms = {
        label: arm_jobs(jobs, "ppo_mask-math" if s is None else f"ppo_mask-curriculum-{_slug(label)}")
        for label, s in CURRICULA.items()
    }
    rows, res = [], {}
    none_steps = {j.meta["seed"]: steps_to(*curve(j), size.ppo_target) for j in arms["none"]}
    for label, js in arms.items():
        reached = {j.meta["seed"]: steps_to(*curve(j), size.ppo_target) for j in js}
        censored = {s: (v if v is not None else float(size.ppo_steps)) for s, v in reached.items()}
        none_c = {s: (v if v is not None else float(size.ppo_steps)) for s, v in none_steps.items()}
        auc = {j.meta["seed"]: curve_mean(*curve(j)) for j in js}
        acc = {j.meta["seed"]: final_report(j)["accuracy"] for j in js}
        m_none, m_this = mean_ci(list(none_c.values()))[0], mean_ci(list(censored.values()))[0]
        speed = m_none / m_this if m_this else math.nan
        res[label] = {"steps_to_target": reached, "curve_mean": auc, "final_accuracy": acc, "speedup": speed}
        rows.append([
            label,
            _steps_cell(list(reached.values()), size.ppo_steps),
            fmt(*mean_ci(list(censored.values())), digits=0),
            "-" if label == "none" else f"{speed:.2f}x",
            fmt(*mean_ci(list(auc.values()))),
            fmt(*mean_ci(list(acc.values()))),
            "-" if label == "none" else fmt(*paired_diff(acc, {j.meta["seed"]: final_report(j)["accuracy"] for j in arms["none"]})),
        ])  # fmt: skip
    summary["curriculum"] = res
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    _curves_plot(ax, arms, size.ppo_target, size.ppo_steps)
    ax.set_title("curriculum versus none (MaskablePPO; band: min-max over seeds)")
    fig.tight_layout()
    fig.savefig(out / "curriculum.png", dpi=150)
    plt.close(fig)
    header = ["curriculum", f"steps to {size.ppo_target:.2f} (per seed)", "mean (censored at the budget)",
              "speed-up over none", "curve mean accuracy", "final accuracy", "final accuracy - none"]  # fmt: skip
    return md_table(header, rows) + "\n\n![curriculum versus none](curriculum.png)"


def replay_experiment(jobs: dict[str, Job], size: Size, out: Path, summary: dict[str, Any]) -> str:
    plt = _plt()
    arms = {"prioritized (omega 0.7)": arm_jobs(jobs, "dqn_per-math"), "uniform": arm_jobs(jobs, "dqn_uniform-math")}
    per = {}
    for label, js in arms.items():
        per[label] = {
            "final_accuracy": {j.meta["seed"]: final_report(j)["accuracy"] for j in js},
            "curve_mean": {j.meta["seed"]: curve_mean(*curve(j)) for j in js},
            "steps_to_target": {j.meta["seed"]: steps_to(*curve(j), size.dqn_target) for j in js},
            "key_share": {j.meta["seed"]: progress_mean(j, "train/key_share") for j in js},
        }
    p, u = per["prioritized (omega 0.7)"], per["uniform"]
    rows = []
    for label, m in per.items():
        rows.append([
            label,
            fmt(*mean_ci(list(m["final_accuracy"].values()))),
            fmt(*mean_ci(list(m["curve_mean"].values()))),
            _steps_cell(list(m["steps_to_target"].values()), size.dqn_steps),
            fmt(*mean_ci(list(m["key_share"].values()))),
        ])  # fmt: skip
    d_key = paired_diff(p["key_share"], u["key_share"])
    u_key = mean_ci(list(u["key_share"].values()))[0]
    rel = 100.0 * d_key[0] / u_key if u_key else math.nan
    rows.append([
        "prioritized - uniform",
        fmt(*paired_diff(p["final_accuracy"], u["final_accuracy"])),
        fmt(*paired_diff(p["curve_mean"], u["curve_mean"])),
        "",
        f"{fmt(*d_key)} ({rel:+.0f} %)",
    ])  # fmt: skip
    summary["replay"] = {**per, "key_share_relative_change": rel}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [2, 1]})
    _curves_plot(axes[0], arms, size.dqn_target, size.dqn_steps)
    axes[0].set_title("DQN: prioritized versus uniform replay")
    stats = [mean_ci(list(per[k]["key_share"].values())) for k in per]
    err = np.array([(0, 0) if math.isnan(s[1]) else (s[0] - s[1], s[2] - s[0]) for s in stats]).T
    axes[1].bar(range(2), [s[0] for s in stats], yerr=err, capsize=3, color=["#c44", "#bbb"])
    axes[1].set_xticks(range(2), ["prioritized", "uniform"])
    axes[1].set_title("rewarded transitions in replayed batches")
    fig.tight_layout()
    fig.savefig(out / "replay.png", dpi=150)
    plt.close(fig)
    header = [
        "replay",
        "final accuracy",
        "curve mean accuracy",
        f"steps to {size.dqn_target:.2f} (per seed)",
        "key-experience share",
    ]
    return md_table(header, rows) + "\n\n![prioritized versus uniform replay](replay.png)"


class TimedAgent:
    """Wraps an agent and adds up the wall time of its decisions (lookahead included)."""

    def __init__(self, agent: Any) -> None:
        self.agent, self.seconds, self.decisions = agent, 0.0, 0
        self.name = getattr(agent, "name", type(agent).__name__)

    def __getattr__(self, key: str) -> Any:  # attach, reset, needs_reveal... as the agent has them
        return getattr(self.agent, key)

    def act(self, obs: Any, info: Any) -> int:
        t0 = time.perf_counter()
        action = self.agent.act(obs, info)
        self.seconds += time.perf_counter() - t0
        self.decisions += 1
        return action


def acting_parameters(model: Any) -> int:
    """Parameters a trained SB3 model uses to pick an action (no value head, no target network)."""
    policy = model.policy
    if hasattr(policy, "q_net"):
        return sum(p.numel() for p in policy.q_net.parameters())
    skip = {
        id(p)
        for mod in (getattr(policy, "value_net", None), getattr(policy.mlp_extractor, "value_net", None))
        if mod is not None
        for p in mod.parameters()
    }
    return sum(p.numel() for p in policy.parameters() if id(p) not in skip)


def latency(agent: Any, size: Size) -> float:
    """Agent milliseconds per decision on ``size.latency_episodes`` episodes of ``R1Math-v0``."""
    import torch

    from r1gym.evaluation import evaluate

    torch.set_num_threads(1)
    timed = TimedAgent(agent)
    evaluate(timed, ENV, episodes=size.latency_episodes, seed=LATENCY_SEED, difficulty=DIFFICULTY)
    return 1000.0 * timed.seconds / max(timed.decisions, 1)


def pareto_experiment(jobs: dict[str, Job], size: Size, out: Path, summary: dict[str, Any]) -> str:
    from r1gym.agent_specs import resolve_agent
    from r1gym.pareto import pareto_mask, plot_pareto

    points = []
    for r in json.loads(jobs[f"baselines-{ENV}"].done.read_text()):
        agent = resolve_agent(r["agent"], seed=LATENCY_SEED)
        points.append(
            {
                "agent": r["agent"],
                "kind": "baseline",
                "accuracy": r["accuracy"],
                "latency_ms": latency(agent, size),
                "parameters": 0,
            }
        )
    for job in sorted(jobs.values(), key=lambda j: j.name):
        if job.meta.get("env_id") != ENV or "script" not in job.meta:
            continue
        agent = resolve_agent(f"sb3:{job.out / 'model.zip'}")
        points.append({
            "agent": job.name,
            "kind": "trained",
            "accuracy": final_report(job)["accuracy"],
            "latency_ms": latency(agent, size),
            "parameters": acting_parameters(agent.model),
        })  # fmt: skip
    objectives = {"accuracy": "max", "latency_ms": "min", "parameters": "min"}
    values = np.array([[p[k] for k in objectives] for p in points], dtype=float)
    on_front = pareto_mask(values, [d == "max" for d in objectives.values()])
    for p, f in zip(points, on_front):
        p["front"] = bool(f)
    # The front among the trained variants alone (the baselines dominate them all on latency).
    trained = [p for p in points if p["kind"] == "trained"]
    if trained:
        tv = np.array([[p[k] for k in objectives] for p in trained], dtype=float)
        for p, f in zip(trained, pareto_mask(tv, [d == "max" for d in objectives.values()])):
            p["trained_front"] = bool(f)
    for p in points:
        p["label"] = p["agent"] if p["kind"] == "baseline" or p.get("trained_front") else ""
    summary["pareto"] = points
    rows = [[p["agent"], f"{p['accuracy']:.3f}", f"{p['latency_ms']:.3f}", f"{p['parameters']:,}", "yes" if p["front"] else "",
             "yes" if p.get("trained_front") else ""]
            for p in sorted(points, key=lambda p: -p["accuracy"])]  # fmt: skip
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    plot_pareto(
        points,
        x="latency_ms",
        y="accuracy",
        objectives={"latency_ms": "min", "accuracy": "max"},
        label_key="agent",
        ax=ax,
    )
    ax.set_xscale("log")
    ax.set_title("accuracy versus decision latency (front over these two; labelled: baselines\nand the trained variants' own 3-objective front)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "pareto.png", dpi=150)
    plt.close(fig)
    return (
        md_table(["agent", "accuracy", "ms / decision", "acting parameters", "on the 3-objective front", "on the trained variants' front"], rows)
        + "\n\n![Pareto front](pareto.png)"
    )


REPORTS: dict[str, tuple[str, Callable[..., str]]] = {
    "table": ("Baselines versus trained", table_experiment),
    "weights": ("Reward weights around 0.6 : 0.3 : 0.1", weights_experiment),
    "curriculum": ("Curriculum versus none", curriculum_experiment),
    "replay": ("Prioritized versus uniform replay", replay_experiment),
    "pareto": ("Pareto front of the variants", pareto_experiment),
}


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def find_gsm8k(path: str | None) -> str | None:
    """The GSM8K file: --gsm8k-path, $R1GYM_GSM8K_PATH, or ../shared/data/gsm8k/train.jsonl."""
    if path and not Path(path).is_file():
        raise FileNotFoundError(f"--gsm8k-path {path}: no such file (GSM8K's train.jsonl)")
    for candidate in (path, os.environ.get("R1GYM_GSM8K_PATH"), str(ROOT.parent / "shared/data/gsm8k/train.jsonl")):
        if candidate and Path(candidate).is_file():
            return str(Path(candidate).resolve())
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke-test size: one seed, a few hundred steps")
    parser.add_argument(
        "--only", default=",".join(EXPERIMENTS), help=f"comma-separated experiments among {', '.join(EXPERIMENTS)}"
    )
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (each uses one CPU core)")
    parser.add_argument("--runs", default=None, help="where the runs go (default runs/experiments[-quick])")
    parser.add_argument("--out", default=None, help="where tables and plots go (default: --runs)")
    parser.add_argument(
        "--gsm8k-path",
        default=None,
        help="GSM8K's train.jsonl (default $R1GYM_GSM8K_PATH or ../shared/data/gsm8k/train.jsonl); without it the table skips R1GSM8K-v0",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the commands of the runs that are not done, and stop"
    )
    args = parser.parse_args(argv)

    only = [e.strip() for e in args.only.split(",") if e.strip()]
    unknown = [e for e in only if e not in EXPERIMENTS]
    if unknown or not only:
        parser.error(f"--only: unknown experiment(s) {unknown}; choose among {', '.join(EXPERIMENTS)}")
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    size = QUICK if args.quick else FULL
    # Absolute: every job runs in its own directory (not in the repository, where `python -m`
    # would import the source tree of r1gym instead of the installed package).
    runs = Path(args.runs or ("runs/experiments-quick" if args.quick else "runs/experiments")).resolve()
    out = Path(args.out) if args.out else runs
    gsm8k = find_gsm8k(args.gsm8k_path)
    env = dict(
        os.environ,
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    if gsm8k:
        env["R1GYM_GSM8K_PATH"] = gsm8k
    elif "table" in only:
        print("GSM8K's train.jsonl not found: the table covers R1Math-v0 only (pass --gsm8k-path)")
    jobs = plan(only, size, runs, gsm8k is not None)
    if args.dry_run:
        for job in jobs.values():
            if not job.is_done():
                print(shlex.join(job.cmd))
        return 0

    t0 = time.perf_counter()
    todo = sum(not j.is_done() for j in jobs.values())
    print(f"{len(jobs)} runs ({todo} to do) for {', '.join(only)}; {args.jobs} at a time; runs in {runs}")
    try:
        failed = run_jobs(list(jobs.values()), args.jobs, env)
    except KeyboardInterrupt:
        print(
            "\ninterrupted: run the same command to resume (finished runs are kept, the others resume from their checkpoints)"
        )
        return 130
    if failed:
        print(f"{len(failed)} run(s) failed: " + ", ".join(f"{j.name} ({j.out / 'log.txt'})" for j in failed))
        return 1

    out.mkdir(parents=True, exist_ok=True)
    os.environ["OMP_NUM_THREADS"] = "1"
    summary: dict[str, Any] = {"size": "quick" if args.quick else "full", "seeds": list(size.seeds)}
    title = (
        f"# Experiments ({summary['size']} size: seeds {', '.join(map(str, size.seeds))}; "
        f"{size.ppo_steps:,} PPO / {size.dqn_steps:,} DQN steps per run)\n\n"
        f"Regenerate: `python experiments/run.py{' --quick' if args.quick else ''}`"
    )
    sections = [title]
    for exp in only:
        title, report = REPORTS[exp]
        sections.append(f"## {title}\n\n{report(jobs, size, out, summary)}")
    (out / "tables.md").write_text("\n\n".join(sections) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=_json_default) + "\n")
    print(f"wrote {out / 'tables.md'}, {out / 'summary.json'} and the plots in {time.perf_counter() - t0:.0f} s")
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


if __name__ == "__main__":
    raise SystemExit(main())
