"""What reinforcement adds to the LLM policy: RL past the cold start, R1-Zero, and pass@k.

    python experiments/llm_rl.py                          # R1Arith-v0, seeds 1-3 (see docs/llm.md for the time)
    python experiments/llm_rl.py --env-id R1Math-v0 --arms grpo
    python experiments/llm_rl.py --quick                  # the same pipeline at smoke size (about 2 minutes)

Three stages, each a list of jobs for r1exp's runner, on a local Ray or a cluster's
(``--address``, as ``experiments/run.py``): a finished job is skipped and an interrupted one
resumes from its checkpoint, so the same command continues after Ctrl-C:

1. **cold start**, per seed: ``agents/llm_policy.py --iterations 0``, the supervised imitation
   of the oracle alone; its ``eval.json`` holds the greedy and the sampled (temperature 1)
   policy on the held-out episodes.
2. **arms**, per seed:
   * ``grpo``: on-policy GRPO from that cold start (``--init``), no replay;
   * ``replay``: the same budget with the report's prioritized replay (omega 0.7);
   * ``zero``: R1-Zero, reinforcement alone from the initial weights (no cold start, no
     demonstration), with a learning curve, at about the compute of cold start + RL.
   Each arm writes a learning curve (``curve.csv``: greedy and sampled accuracy on the first
   ``--curve-episodes`` held-out episodes every ``--eval-every`` rounds) and the same final
   evaluation as the cold start.
3. **pass@k**: every policy sampled ``--samples`` times on each of ``--passk-problems`` held-out
   problems (``r1gym eval --agent llm:DIR?sample --samples n``), pass@k for k = 1..n with the
   unbiased estimator of Chen et al. (2021): the experiment of Yue et al. (2025), does RL
   sharpen pass@1 at the cost of pass@n?

The report (``tables.md``, ``summary.json``, ``curves.png``, ``passk.png`` in ``--out``): per
arm, the mean over seeds of the greedy and sampled accuracy with a 95 % Student-t interval, the
paired difference against the same seed's cold start with its t interval, the learning curves,
and the pass@k curves.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from r1exp.common import AGENTS, fmt, md_table, pyplot, save
from r1exp.job import Job
from r1exp.runner import RunnerError, add_runner_arguments, parallel_of, run_jobs

from r1gym.evaluation import json_safe
from r1gym.stats import mean_ci, paired_diff

EVAL_SEED = 10_000  # agents/llm_policy.py's --eval-seed: the held-out problems


@dataclass(frozen=True)
class Size:
    seeds: tuple[int, ...]
    common: tuple[str, ...]
    """flags of every run"""
    cold: tuple[str, ...]
    """flags of the cold start"""
    arms: dict[str, tuple[str, ...]]
    """flags of each arm (on top of ``common``)"""
    eval_episodes: int
    passk_problems: int
    samples: int


def flags(text: str) -> tuple[str, ...]:
    return tuple(text.split())


RL = flags("--iterations 40 --groups 8 --group-size 4 --eval-every 10 --curve-episodes 100")
#: the levers the seed-1 diagnosis chose (docs/llm.md): Adam at 5e-4, batch-scaled advantages, no critic, no
#: entropy bonus, a KL penalty of 0.1 to the cold start; the two arms differ only in where the updates' data comes from
LEVERS = flags("--lr 5e-4 --advantage batch --value-coef 0 --entropy-coef 0 --kl-coef 0.1")
#: R1-Zero: no cold start; 4 problems x 8 attempts a round; R1's rule-based reward, right or not (partial credit
#: for a near miss is what a policy from random weights learned to collect instead: docs/llm.md)
ZERO = (
    *flags("--sft-episodes 0 --groups 4 --group-size 8 --on-policy --lr 1e-3 --advantage batch --value-coef 0"),
    *flags("--entropy-coef 0 --updates 4 --replay-batch 16"),
    *("--env-kwargs", '{"partial_credit": 0}'),
)
FULL = Size(
    seeds=(1, 2, 3),
    common=flags("--torch-threads 1 --eval-episodes 300"),
    cold=flags("--iterations 0"),
    arms={
        "grpo": (*RL, *LEVERS, *flags("--on-policy --updates 4 --replay-batch 16")),
        "replay": (*RL, *LEVERS, *flags("--updates 8 --replay-batch 16")),
        "zero": (*ZERO, *flags("--iterations 300 --eval-every 25 --curve-episodes 100")),
    },
    eval_episodes=300,
    passk_problems=100,
    samples=64,
)
TINY_RL = flags("--iterations 2 --groups 2 --group-size 2 --replay-batch 2 --eval-every 1 --curve-episodes 2")
QUICK = Size(
    seeds=(1,),
    common=flags("--torch-threads 1 --eval-episodes 4 --hidden-size 32 --num-layers 1"),
    cold=flags("--iterations 0 --sft-episodes 10 --sft-epochs 1"),
    arms={
        "grpo": (*TINY_RL, "--on-policy"),
        "replay": TINY_RL,
        "zero": (*TINY_RL, *flags("--sft-episodes 0 --on-policy"), *("--env-kwargs", '{"partial_credit": 0}')),
    },
    eval_episodes=4,
    passk_problems=2,
    samples=4,
)


def train(runs: Path, name: str, seed: int, env_id: str, flags: Sequence[str], size: Size) -> Job:
    out = runs / f"{name}-seed{seed}"
    cmd = [sys.executable, str(AGENTS / "llm_policy.py"), "--env-id", env_id, "--seed", str(seed)]
    cmd += [*size.common, *flags, "--no-progress-bar", "--out", str(out)]
    return Job(f"{name}-seed{seed}", cmd, out, out / "eval.json", {"arm": name, "seed": seed})


def passk(runs: Path, job: Job, env_id: str, size: Size) -> Job:
    out = runs / "passk" / job.name
    policy = job.out / "policy"
    cmd = [sys.executable, "-m", "r1gym", "eval", env_id, "--agent", f"llm:{policy}?sample"]
    cmd += ["--episodes", str(size.passk_problems), "--seed", str(EVAL_SEED), "--samples", str(size.samples)]
    cmd += ["--num-envs", str(min(size.samples, 32))]  # 32 attempts at a problem in one forward pass
    cmd += ["--json", str(out / "passk.json")]
    return Job(f"passk-{job.name}", cmd, out, out / "passk.json", dict(job.meta))


def plan(runs: Path, env_id: str, arms: Sequence[str], size: Size) -> tuple[list[Job], list[Job], list[Job]]:
    """The three stages' jobs."""
    cold = [train(runs, "cold", s, env_id, size.cold, size) for s in size.seeds]
    trained = []
    for arm in arms:
        for job in cold:
            seed = job.meta["seed"]
            init = () if arm == "zero" else ("--init", str(job.out / "policy"))
            trained.append(train(runs, arm, seed, env_id, (*size.arms[arm], *init), size))
    return cold, trained, [passk(runs, j, env_id, size) for j in [*cold, *trained]]


# --------------------------------------------------------------------------------------------
# Reading the runs
# --------------------------------------------------------------------------------------------


def final(job: Job) -> dict[str, float]:
    """The policy's greedy and sampled accuracy and steps on the held-out episodes."""
    reports = {r["agent"]: r for r in json.loads(job.done.read_text())["reports"]}
    greedy, sampled = reports["llm_policy"], reports["llm_policy (sampled, T=1)"]
    return {
        "greedy": greedy["accuracy"],
        "sampled": sampled["accuracy"],
        "greedy_steps": greedy["mean_steps"],
        "recovery": greedy["error_recovery"],
        "baseline_greedy": reports["greedy"]["accuracy"],
    }


def read_csv(path: Path) -> list[dict[str, float]]:
    if not path.exists():
        return []
    with path.open() as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def train_seconds(job: Job) -> float:
    """Wall time of a run's training (cold start and rounds, without the final evaluation)."""
    rows = read_csv(job.out / "progress.csv") or read_csv(job.out / "sft.csv")
    return rows[-1].get("time/seconds", float("nan")) if rows else float("nan")


def report(cold: list[Job], trained: list[Job], passks: list[Job], env_id: str, size: Size, out: Path) -> str:
    by_arm: dict[str, list[Job]] = {"cold": cold}
    for job in trained:
        by_arm.setdefault(job.meta["arm"], []).append(job)
    cold_of = {j.meta["seed"]: j for j in cold}
    finals = {arm: {j.meta["seed"]: final(j) for j in jobs} for arm, jobs in by_arm.items()}
    summary: dict[str, Any] = {"env_id": env_id, "seeds": list(size.seeds), "arms": {}}
    rows = []
    for arm, per_seed in finals.items():
        entry: dict[str, Any] = {}
        cells = [arm]
        for metric in ("greedy", "sampled"):
            values = {s: f[metric] for s, f in per_seed.items()}
            m = mean_ci(list(values.values()))
            entry[metric] = {"per_seed": values, "mean_ci": m}
            cells.append(fmt(*m))
            if arm != "cold":
                d = paired_diff(values, {s: f[metric] for s, f in finals["cold"].items()})
                entry[metric]["minus_cold"] = d
                cells.append(fmt(*d))
            else:
                cells.append("")
        steps = mean_ci([f["greedy_steps"] for f in per_seed.values()])
        cells.append(fmt(*steps, digits=2))
        # the compute of the policy: a run from a cold start (--init) counts the cold start's time too
        seconds = [train_seconds(j) + (train_seconds(cold_of[j.meta["seed"]]) if arm in ("grpo", "replay") else 0)
                   for j in by_arm[arm]]  # fmt: skip
        cells.append(f"{np.mean(seconds) / 60:.1f}")
        entry["greedy_steps"], entry["train_minutes"] = steps, float(np.mean(seconds) / 60)
        summary["arms"][arm] = entry
        rows.append(cells)
    greedy_baseline = float(np.mean([f["baseline_greedy"] for f in finals["cold"].values()]))
    table = md_table(
        ["policy", "greedy accuracy", "minus cold start", "sampled accuracy (T=1)", "minus cold start",
         "steps (greedy)", "training minutes (with the cold start)"],
        [[r[0], r[1], r[2], r[3], r[4], r[5], r[6]] for r in rows],
    )  # fmt: skip
    text = [
        f"## {env_id}: cold start versus reinforcement (seeds {', '.join(map(str, size.seeds))})\n",
        f"{size.eval_episodes} held-out episodes from seed {EVAL_SEED} per run; mean over seeds [95 % t interval]; "
        f"a difference is the mean of the per-seed differences against the same seed's cold start [t interval]. "
        f"The greedy baseline agent scores {greedy_baseline:.3f} on the same episodes.\n",
        table,
    ]

    # Learning curves: mean over seeds, per arm.
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    curves: dict[str, Any] = {}
    for arm, jobs in by_arm.items():
        if arm == "cold":
            continue
        per_seed = [read_csv(j.out / "curve.csv") for j in jobs]
        per_seed = [c for c in per_seed if c]
        if not per_seed:
            continue
        n = min(len(c) for c in per_seed)
        its = [c["iteration"] for c in per_seed[0][:n]]
        for ax, metric in zip(axes, ("greedy", "sampled")):
            ys = np.array([[row[f"eval/{metric}_accuracy"] for row in c[:n]] for c in per_seed])
            ax.plot(its, ys.mean(0), marker="o", label=arm)
            curves.setdefault(arm, {})[metric] = {"iteration": its, "mean": ys.mean(0).tolist()}
    for ax, metric in zip(axes, ("greedy", "sampled")):
        cold_mean = float(np.mean([f[metric] for f in finals["cold"].values()]))
        ax.axhline(cold_mean, color="grey", linestyle="--", label="cold start")
        ax.axhline(greedy_baseline, color="black", linestyle=":", label="greedy baseline")
        ax.set(title=f"{env_id}: {metric} policy", xlabel="round of RL", ylabel="held-out accuracy", ylim=(0, 1))
        ax.legend(fontsize=8)
    save(fig, out / "curves.png")
    summary["curves"] = curves
    text.append(f"\nLearning curves (mean over seeds; {curves and 'points every --eval-every rounds'}): curves.png")

    # pass@k
    done = [j for j in passks if j.is_done()]
    if done:
        fig, ax = plt.subplots(figsize=(6, 4))
        pk: dict[str, dict[int, list[float]]] = {}
        pk_seed: dict[str, dict[int, dict[int, float]]] = {}  # arm -> k -> seed -> pass@k, for paired differences
        for job in done:
            rep = json.loads(job.done.read_text())[0]
            for k, v in rep["pass_at_k"].items():
                pk.setdefault(job.meta["arm"], {}).setdefault(int(k), []).append(v)
                pk_seed.setdefault(job.meta["arm"], {}).setdefault(int(k), {})[job.meta["seed"]] = v
        ks = sorted(next(iter(pk.values())))
        show = [k for k in ks if k & (k - 1) == 0]  # 1, 2, 4, ..., n
        rows = []
        for arm, per_k in pk.items():
            means = [float(np.mean(per_k[k])) for k in ks]
            ax.plot(ks, means, marker=".", label=arm)
            rows.append([arm, *(fmt(*mean_ci(per_k[k])) for k in show)])
            summary.setdefault("pass_at_k", {})[arm] = {k: mean_ci(per_k[k]) for k in ks}
        ax.set(xscale="log", xlabel="k", ylabel="pass@k", title=f"{env_id}: pass@k, {size.passk_problems} problems")
        ax.legend(fontsize=8)
        save(fig, out / "passk.png")
        text.append(
            f"\npass@k ({size.passk_problems} held-out problems x {size.samples} samples, temperature 1; mean over "
            "seeds [t interval]):\n\n" + md_table(["policy", *(f"pass@{k}" for k in show)], rows)
        )
        # Does RL sharpen pass@1 at the cost of pass@n? The per-seed differences against the same seed's cold start.
        if "cold" in pk_seed and len(pk_seed) > 1:
            top = ks[-1]
            diffs = []
            for arm, per_k in pk_seed.items():
                if arm == "cold":
                    continue
                d1, dn = (paired_diff(per_k[k], pk_seed["cold"][k]) for k in (1, top))
                summary.setdefault("pass_at_k_minus_cold", {})[arm] = {1: d1, top: dn}
                diffs.append([arm, fmt(*d1), fmt(*dn)])
            text.append(
                "\nAgainst the same seed's cold start (mean of the per-seed differences [t interval]):\n\n"
                + md_table(["policy", "pass@1 minus cold start", f"pass@{top} minus cold start"], diffs)
            )
    (out / "summary.json").write_text(json.dumps(json_safe(summary), indent=2, allow_nan=False) + "\n")
    return "\n".join(text) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env-id", default="R1Arith-v0")
    parser.add_argument("--arms", default="grpo,replay,zero", help="comma-separated among grpo, replay, zero")
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (default 1,2,3; --quick: 1)")
    parser.add_argument("--quick", action="store_true", help="smoke size: a tiny model, a few episodes")
    parser.add_argument("--no-passk", action="store_true", help="skip stage 3 (pass@k)")
    add_runner_arguments(parser)
    parser.add_argument("--runs", default=None, help="where the runs go (default runs/llm-rl/<env>[-quick])")
    parser.add_argument("--out", default=None, help="where the tables and plots go (default: --runs)")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    unknown = [a for a in arms if a not in size.arms]
    if unknown or not arms:
        parser.error(f"--arms: unknown or no arm {unknown}; choose among {', '.join(size.arms)}")
    if args.seeds:
        try:
            seeds = tuple(int(s) for s in args.seeds.split(","))
        except ValueError:
            parser.error(f"--seeds: give comma-separated integers such as 1,2,3, not {args.seeds!r}")
        size = Size(**{**size.__dict__, "seeds": seeds})
    runs = Path(args.runs or f"runs/llm-rl/{args.env_id}{'-quick' if args.quick else ''}").resolve()
    out = Path(args.out) if args.out else runs
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cold, trained, passks = plan(runs, args.env_id, arms, size)
    stages = [("cold start", cold), ("reinforcement", trained)] + ([] if args.no_passk else [("pass@k", passks)])
    parallel = parallel_of(parser, args)
    t0 = time.perf_counter()
    for name, jobs in stages:
        print(f"{name}: {len(jobs)} runs ({sum(not j.is_done() for j in jobs)} to do) in {runs}")
        try:
            finished = {j.name for j in run_jobs(jobs, parallel, env, args.address)}
        except RunnerError as error:
            print(f"llm_rl.py: error: {error}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("\ninterrupted: run the same command to resume (finished runs are kept)")
            return 130
        failed = [j for j in jobs if j.name not in finished]
        if failed:
            print(f"{len(failed)} run(s) failed: " + ", ".join(f"{j.name} ({j.log})" for j in failed))
            return 1
    out.mkdir(parents=True, exist_ok=True)
    text = report(cold, trained, [] if args.no_passk else passks, args.env_id, size, out)
    (out / "tables.md").write_text(text)
    print(text)
    print(f"wrote {out / 'tables.md'}, summary.json and the plots in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
