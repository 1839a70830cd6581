"""The R1 report's experiments, at a size a 2-core CPU runs in about an hour.

    python experiments/run.py                 # everything: trains, evaluates, writes tables and plots
    python experiments/run.py --quick         # a smoke run of the same pipeline (about a minute)
    python experiments/run.py --only replay   # one experiment (table, weights, curriculum, replay, pareto)
    python experiments/run.py --address auto  # on the Ray cluster this machine belongs to

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

Every training run is one of ``agents/``'s scripts, run by a Ray task (one CPU, one torch thread)
with its own directory under ``--runs``: on a local Ray by default (``--jobs`` at a time), or on
a Ray cluster with ``--address`` (docs/results.md: the runs folder must then be on a filesystem
every node shares). Ray is an extra: ``pip install 'r1gym[experiments]'``. A run with
``eval.json`` is done and skipped, an interrupted one resumes from its checkpoint, so running the
same command again after Ctrl-C (or a crash) continues where it stopped. Runs shared between experiments (the
0.6 : 0.3 : 0.1 MaskablePPO on ``R1Math-v0`` is the table's model, the weights' reference arm and
the curriculum's "none") are trained once. Tables (``tables.md``), ``summary.json`` and PNG plots
go to ``--out``. Across seeds, a mean comes with a 95 % Student-t interval; a difference between
two arms is the mean of the per-seed differences (same seeds) with its t interval; a single
evaluation's accuracy has its Wilson interval (``r1gym.stats``).

Layout. This file is the command line only: it plans (the jobs of the chosen experiments, each
shared run once), runs them and writes the reports. The rest is the package ``r1exp`` beside it,
``experiments/r1exp/``: ``common.py`` (sizes, settings, job builders, reading runs, plotting),
one module per experiment (``table.py``, ``weights.py``, ``curriculum.py``, ``replay.py``,
``pareto.py``) with its jobs and its report, the registry of experiments in ``__init__.py``,
and ``runner.py``, the runner (a list of jobs in, the finished ones out: Ray tasks), which
another runner can replace without touching the experiments. ``r1exp`` is not installed: Python puts
the folder of the script it runs (``experiments/``) first on the import path, from whatever
working directory, so ``import r1exp`` finds it with no edit of the path, and a name no
installed distribution uses cannot be shadowed or shadow one.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from r1exp import EXPERIMENTS
from r1exp.common import FULL, QUICK, ROOT, Size
from r1exp.job import Job
from r1exp.runner import RunnerError, add_runner_arguments, parallel_of, run_jobs

from r1gym.evaluation import json_safe

#: where GSM8K's training split is looked for when neither --gsm8k-path nor $R1GYM_GSM8K_PATH says:
#: a local copy in the checkout (``data/`` is not tracked; r1gym never downloads it)
DEFAULT_GSM8K = ROOT / "data" / "gsm8k" / "train.jsonl"


def plan(only: Sequence[str], size: Size, runs: Path, gsm8k: bool) -> dict[str, Job]:
    """Every job the chosen experiments need, by name, in the experiments' order; a run that
    several experiments need appears once."""
    jobs: dict[str, Job] = {}
    for name in only:
        for job in EXPERIMENTS[name].jobs(size, runs, gsm8k):
            known = jobs.setdefault(job.name, job)
            if known.cmd != job.cmd:
                raise RuntimeError(
                    f"two experiments plan a run named {job.name} with different commands; "
                    "give one of them another arm name (r1exp/common.py's train_job)"
                )
    return jobs


def find_gsm8k(path: str | None) -> str | None:
    """The GSM8K file: ``path`` (--gsm8k-path, already checked), $R1GYM_GSM8K_PATH, or
    :data:`DEFAULT_GSM8K`; None when none of them is a file."""
    for candidate in (path, os.environ.get("R1GYM_GSM8K_PATH"), str(DEFAULT_GSM8K)):
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
    add_runner_arguments(parser)
    parser.add_argument("--runs", default=None, help="where the runs go (default runs/experiments[-quick])")
    parser.add_argument("--out", default=None, help="where tables and plots go (default: --runs)")
    parser.add_argument(
        "--gsm8k-path",
        default=None,
        help="GSM8K's train.jsonl (default $R1GYM_GSM8K_PATH or data/gsm8k/train.jsonl in the checkout); "
        "without it the table skips R1GSM8K-v0",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the commands of the runs that are not done, and stop"
    )
    args = parser.parse_args(argv)

    only = [e.strip() for e in args.only.split(",") if e.strip()]
    unknown = [e for e in only if e not in EXPERIMENTS]
    if unknown:
        parser.error(f"--only: unknown experiment(s) {unknown}; choose among {', '.join(EXPERIMENTS)}")
    if not only:
        parser.error(f"--only: no experiment named; choose among {', '.join(EXPERIMENTS)}")
    if args.gsm8k_path and not Path(args.gsm8k_path).is_file():
        parser.error(
            f"--gsm8k-path {args.gsm8k_path}: no such file; give the path of GSM8K's train.jsonl, "
            "or leave the option out to run the table on R1Math-v0 only"
        )
    parallel = parallel_of(parser, args)
    size = QUICK if args.quick else FULL
    # Absolute: every job runs in its own directory (not in the repository, where `python -m`
    # would import the source tree of r1gym instead of the installed package).
    runs = Path(args.runs or ("runs/experiments-quick" if args.quick else "runs/experiments")).resolve()
    out = Path(args.out) if args.out else runs
    gsm8k = find_gsm8k(args.gsm8k_path)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if gsm8k:
        env["R1GYM_GSM8K_PATH"] = gsm8k
    elif "table" in only:
        print("GSM8K's train.jsonl not found: the table covers R1Math-v0 only (pass --gsm8k-path)")
    jobs = plan(only, size, runs, gsm8k is not None)
    if args.dry_run:
        try:
            for job in jobs.values():
                if not job.is_done():
                    print(shlex.join(job.cmd), flush=True)
        except BrokenPipeError:  # `run.py --dry-run | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0

    t0 = time.perf_counter()
    todo = sum(not j.is_done() for j in jobs.values())
    where = f"on the Ray cluster at {args.address}" if args.address else "on a local Ray"
    at_a_time = f"{parallel} at a time" if parallel else "as many at a time as it has CPUs"
    print(f"{len(jobs)} runs ({todo} to do) for {', '.join(only)}; {where}, {at_a_time}; runs in {runs}")
    try:
        finished = {j.name for j in run_jobs(list(jobs.values()), parallel, env, args.address)}
    except RunnerError as error:
        print(f"run.py: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "\ninterrupted: run the same command to resume "
            "(finished runs are kept, the others resume from their checkpoints)"
        )
        return 130
    failed = [j for j in jobs.values() if j.name not in finished]
    if failed:
        print(f"{len(failed)} run(s) failed: " + ", ".join(f"{j.name} ({j.log})" for j in failed))
        return 1

    out.mkdir(parents=True, exist_ok=True)
    os.environ["OMP_NUM_THREADS"] = "1"  # the Pareto front times the trained policies in this process
    summary: dict[str, Any] = {"size": "quick" if args.quick else "full", "seeds": list(size.seeds)}
    title = (
        f"# Experiments ({summary['size']} size: seeds {', '.join(map(str, size.seeds))}; "
        f"{size.ppo_steps:,} PPO / {size.dqn_steps:,} DQN steps per run)\n\n"
        f"Regenerate: `python experiments/run.py{' --quick' if args.quick else ''}`"
    )
    sections = [title]
    for name in only:
        experiment = EXPERIMENTS[name]
        report = experiment.report(jobs, size, out)
        summary[name] = report.summary
        sections.append(f"## {experiment.title}\n\n{report.markdown}")
    (out / "tables.md").write_text("\n\n".join(sections) + "\n")
    # strict JSON: an undefined value (an interval over one seed, say) is null, never a bare NaN
    (out / "summary.json").write_text(json.dumps(json_safe(summary), indent=2, allow_nan=False) + "\n")
    print(f"wrote {out / 'tables.md'}, {out / 'summary.json'} and the plots in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
