"""What makes DQN learn R1Math-v0: ``agents/dqn_per.py`` with its levers added one at a time, then
each taken away from the full set, at one step budget (docs/results.md, section 4).

    python experiments/dqn_levers.py                      # 10 runs of 50,000 steps, ~15 min on one core
    python experiments/dqn_levers.py --only none,all --steps 20000 --runs runs/levers-short

Each run trains with prioritized replay (the default buffer), seed ``--seed``, and is evaluated on
200 held-out episodes (seed 1000, as the final evaluation of the experiments) and on a learning
curve (seed 20000). A finished run (its ``eval.json`` exists) is not trained again. The
diagnostics then play each saved model greedily on ``--diag-episodes`` other problems (seeds
5000, 5001, ...) and count what the greedy Q-policy does: the share of its steps that submit
or backtrack, the share of masked actions it picks, and, over the states where submit is
allowed, the mean of Q(submit) minus the best other allowed action's Q. The table goes to stdout
(Markdown) and ``<runs>/levers.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SUBMIT, BACKTRACK = 5, 4  # R1Math-v0's menu: K = 4 candidates, then backtrack, then submit

#: name -> (what it is, the flags that set it; the defaults are every lever on)
LEVERS: dict[str, tuple[str, list[str]]] = {
    "none": ("none (old DQN)", ["--no-mask", "--no-double-q", "--no-dueling", "--n-steps", "1", "--step-cost", "0"]),
    "mask": ("+ masks", ["--no-double-q", "--no-dueling", "--n-steps", "1", "--step-cost", "0"]),
    "mask_cost": ("+ masks + step cost 0.01", ["--no-double-q", "--no-dueling", "--n-steps", "1"]),
    "mask_cost_n3": ("+ masks + step cost + 3-step returns", ["--no-double-q", "--no-dueling"]),
    "mask_cost_n3_double": ("+ masks + step cost + 3-step + double Q", ["--no-dueling"]),
    "all": ("all (+ dueling): the defaults", []),
    "all_nomask": ("all but masks", ["--no-mask"]),
    "all_nocost": ("all but the step cost", ["--step-cost", "0"]),
    "all_n1": ("all but n-step (1-step)", ["--n-steps", "1"]),
    "all_explore": (
        "all, exploring longer (eps 1 -> 0.1 over half the run)",
        ["--exploration-fraction", "0.5", "--exploration-final-eps", "0.1"],
    ),
}


def command(name: str, steps: int, seed: int, out: Path) -> list[str]:
    """The training command of one lever run."""
    return [
        sys.executable, str(ROOT / "agents" / "dqn_per.py"),
        "--config", "dqn_per.R1Math-v0",
        "--seed", str(seed),
        "--total-timesteps", str(steps),
        "--n-envs", "4",
        "--difficulty", "medium",
        "--curve-freq", str(max(steps // 2, 1)),
        "--curve-episodes", "200",
        "--curve-seed", "20000",
        "--eval-episodes", "200",
        "--eval-seed", "1000",
        "--eval-baselines", "",
        "--torch-threads", "1",
        "--no-progress-bar",
        "--checkpoint-freq", str(10 * steps),
        "--out", str(out),
        *LEVERS[name][1],
    ]  # fmt: skip


def diagnose(model_path: Path, episodes: int) -> dict[str, float]:
    """Play the saved model greedily and count what it does (see the module docstring)."""
    import gymnasium as gym
    import torch as th
    from stable_baselines3 import DQN

    import r1gym  # noqa: F401  (registers the environments)

    th.set_num_threads(1)
    model = DQN.load(str(model_path), device="cpu")  # as r1gym eval loads it
    env = gym.make("R1Math-v0", difficulty="medium")
    steps = masked = submits = backtracks = 0
    gaps: list[float] = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=5000 + ep)
        done = False
        while not done:
            action = int(np.asarray(model.predict(obs, deterministic=True)[0]).reshape(-1)[0])
            valid = np.asarray(obs["action_mask"]) > 0
            if valid[SUBMIT]:
                with th.no_grad():
                    q = model.q_net(model.policy.obs_to_tensor(obs)[0])[0].numpy()
                others = q[np.flatnonzero(valid & (np.arange(len(q)) != SUBMIT))]
                if len(others):
                    gaps.append(float(q[SUBMIT] - others.max()))
            steps += 1
            masked += int(not valid[action])
            submits += int(action == SUBMIT)
            backtracks += int(action == BACKTRACK)
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
    return {
        "submit_share": submits / steps,
        "backtrack_share": backtracks / steps,
        "masked_share": masked / steps,
        "q_submit_gap": float(np.mean(gaps)) if gaps else float("nan"),
    }


def read(out: Path) -> dict[str, float]:
    """The final evaluation and the learning curve of a finished run."""
    from r1gym.stats import wilson_interval

    report = json.loads((out / "eval.json").read_text())["reports"][0]
    low, high = wilson_interval(round(report["accuracy"] * report["episodes"]), report["episodes"])
    curve = [(int(float(r["steps"])), float(r["accuracy"])) for r in csv.DictReader((out / "curve.csv").open())]
    return {
        "accuracy": report["accuracy"],
        "accuracy_low": low,
        "accuracy_high": high,
        "mean_steps": report["mean_steps"],
        "truncated_rate": report["truncated_rate"],
        "curve": curve,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=50_000, help="environment steps per run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "dqn-levers", help="where the runs go")
    parser.add_argument("--only", default="", help="comma-separated lever names: " + ", ".join(LEVERS))
    parser.add_argument("--diag-episodes", type=int, default=100)
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(LEVERS)
    unknown = sorted(set(names) - set(LEVERS))
    if unknown:
        parser.error(f"unknown lever(s) {unknown}; choose among {', '.join(LEVERS)}")

    results = {}
    for name in names:
        out = args.runs / f"{name}-s{args.seed}"
        if not (out / "eval.json").exists():
            print(f"training {name}: {' '.join(command(name, args.steps, args.seed, out)[1:])}", flush=True)
            env = {**os.environ, "OMP_NUM_THREADS": "1"}
            subprocess.run(command(name, args.steps, args.seed, out), check=True, env=env, stdout=subprocess.DEVNULL)
        results[name] = {**read(out), **diagnose(out / "model.zip", args.diag_episodes)}

    half = args.steps // 2
    print(
        f"| levers (seed {args.seed}, {args.steps:,} steps) | curve accuracy at {half:,} / {args.steps:,} "
        "| accuracy (200 episodes) | mean steps | truncated | greedy steps that submit / backtrack "
        "| masked actions picked | mean Q(submit) - best other Q |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        curve = dict(r["curve"])
        print(
            f"| {LEVERS[name][0]} | {curve.get(half, float('nan')):.3f} / {curve.get(args.steps, float('nan')):.3f} "
            f"| {r['accuracy']:.3f} [{r['accuracy_low']:.3f}, {r['accuracy_high']:.3f}] | {r['mean_steps']:.1f} "
            f"| {r['truncated_rate']:.3f} | {r['submit_share']:.3f} / {r['backtrack_share']:.3f} "
            f"| {r['masked_share']:.3f} | {r['q_submit_gap']:+.3f} |"
        )
    args.runs.mkdir(parents=True, exist_ok=True)
    (args.runs / "levers.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
