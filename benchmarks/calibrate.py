"""Calibrate the difficulty presets by measuring the reference policies.

DESIGN.md asks that the medium preset leave greedy clearly imperfect, the backtracking heuristic
clearly better, and room above both; easy and hard move both. This script measures the
baselines over a grid of proposer settings and prints one table per environment, so a preset is
chosen by measurement, not by guessing (docs/calibration.md shows the result).

    python benchmarks/calibrate.py                    # the presets, 1000 episodes each
    python benchmarks/calibrate.py --sweep            # the grid that chose medium
    python benchmarks/calibrate.py --thresholds       # the backtracking threshold sweep
"""

from __future__ import annotations

import argparse
import itertools

import r1gym
from r1gym.baselines import BacktrackAgent, GreedyAgent, OracleAgent, RandomAgent
from r1gym.evaluation import evaluate, format_table


def presets(episodes: int, seed: int, env_ids: list[str]) -> None:
    for env_id in env_ids:
        reports = []
        for difficulty in ("easy", "medium", "hard"):
            for agent in (RandomAgent(0), GreedyAgent(), BacktrackAgent(), OracleAgent()):
                rep = evaluate(agent, env_id, episodes=episodes, seed=seed, difficulty=difficulty, progress=True)
                rep.agent = f"{agent.name} / {difficulty}"
                reports.append(rep)
        print(f"\n### {env_id} ({episodes} episodes, seed {seed})\n")
        print(format_table(reports))


def sweep(episodes: int, seed: int, env_id: str) -> None:
    print(f"\n### {env_id}: K = 4, noise 1.0 ({episodes} episodes, seed {seed})\n")
    print("| boost | noise after error | convincing rate | greedy | backtrack | gap |")
    print("|---|---|---|---|---|---|")
    for boost, nae, rate in itertools.product((2.0, 2.5, 3.0), (0.3, 0.5), (0.1, 0.2, 0.3)):
        kw = {"boost": boost, "noise_after_error": nae, "convincing_rate": rate}
        g = evaluate(GreedyAgent(), env_id, episodes=episodes, seed=seed, proposer_kwargs=kw)
        b = evaluate(BacktrackAgent(), env_id, episodes=episodes, seed=seed, proposer_kwargs=kw)
        print(f"| {boost} | {nae} | {rate} | {g.accuracy:.3f} | {b.accuracy:.3f} | {b.accuracy - g.accuracy:+.3f} |")


def thresholds(episodes: int, seed: int, env_id: str) -> None:
    print(f"\n### {env_id} medium: backtracking threshold ({episodes} episodes, seed {seed})\n")
    print("| flat threshold | accuracy | error recovery | mean steps |")
    print("|---|---|---|---|")
    for t in (0.7, 0.8, 0.85, 0.9, 0.95, 0.98):
        r = evaluate(BacktrackAgent(flat_threshold=t), env_id, episodes=episodes, seed=seed)
        print(f"| {t} | {r.accuracy:.3f} | {r.error_recovery:.3f} | {r.mean_steps:.2f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--episodes", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1000)
    p.add_argument("--env", action="append", help="env id (repeatable); default: all")
    p.add_argument("--sweep", action="store_true")
    p.add_argument("--thresholds", action="store_true")
    a = p.parse_args()
    env_ids = a.env or list(r1gym.ENV_IDS)
    if a.sweep:
        sweep(a.episodes, a.seed, env_ids[-1] if a.env else "R1Math-v0")
    elif a.thresholds:
        thresholds(a.episodes, a.seed, env_ids[-1] if a.env else "R1Math-v0")
    else:
        presets(a.episodes, a.seed, env_ids)


if __name__ == "__main__":
    main()
