"""The Pareto front of the variants: every model trained on ``R1Math-v0`` and the baselines, over
accuracy (final evaluation), decision latency (agent time per decision, search included, one
torch thread) and acting parameters (what picks an action: no value head, no target network).

Its own runs are one seed of every arm of the weights, curriculum and replay experiments, plus
two other network sizes and PPO without masks; its report takes every trained ``R1Math-v0``
run of the invocation, those of the other experiments chosen included.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import curriculum, replay, weights
from .common import (
    DIFFICULTY,
    ENV,
    LATENCY_SEED,
    Experiment,
    Report,
    Size,
    baseline_job,
    final_report,
    md_table,
    pyplot,
    save,
    train_job,
)
from .job import Job


def jobs(size: Size, runs: Path, gsm8k: bool) -> list[Job]:
    """The baselines, one seed of every other arm, and the extra variants."""
    seeds, seed = size.seeds[:1], size.seeds[0]
    return [
        baseline_job(runs, size, ENV),
        *weights.training_jobs(size, runs, seeds),
        *curriculum.training_jobs(size, runs, seeds),
        *replay.training_jobs(size, runs, seeds),
        train_job(runs, size, "ppo_mask-math-arch32", "ppo_mask", seed, ["--net-arch", "32,32"], env_id=ENV),
        train_job(runs, size, "ppo_mask-math-arch256", "ppo_mask", seed, ["--net-arch", "256,256"], env_id=ENV),
        train_job(runs, size, "ppo-math", "ppo", seed, [], env_id=ENV),
    ]


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


def report(jobs: Mapping[str, Job], size: Size, out: Path) -> Report:
    """Every point with its fronts, and ``pareto.png`` (accuracy against latency)."""
    from r1gym.agent_specs import resolve_agent
    from r1gym.pareto import pareto_mask, plot_pareto

    points = []
    for r in json.loads(jobs[f"baselines-{ENV}"].done.read_text()):
        agent = resolve_agent(r["agent"], seed=LATENCY_SEED)
        points.append({"agent": r["agent"], "kind": "baseline", "accuracy": r["accuracy"],
                       "latency_ms": latency(agent, size), "parameters": 0})  # fmt: skip
    for job in sorted(jobs.values(), key=lambda j: j.name):
        if job.meta.get("env_id") != ENV or "script" not in job.meta:
            continue
        agent = resolve_agent(f"sb3:{job.out / 'model.zip'}")
        points.append({"agent": job.name, "kind": "trained", "accuracy": final_report(job)["accuracy"],
                       "latency_ms": latency(agent, size), "parameters": acting_parameters(agent.model)})  # fmt: skip
    objectives = {"accuracy": "max", "latency_ms": "min", "parameters": "min"}
    maximize = [d == "max" for d in objectives.values()]
    values = np.array([[p[k] for k in objectives] for p in points], dtype=float)
    for p, f in zip(points, pareto_mask(values, maximize)):
        p["front"] = bool(f)
    # The front among the trained variants alone (the baselines dominate them all on latency).
    trained = [p for p in points if p["kind"] == "trained"]
    if trained:
        tv = np.array([[p[k] for k in objectives] for p in trained], dtype=float)
        for p, f in zip(trained, pareto_mask(tv, maximize)):
            p["trained_front"] = bool(f)
    for p in points:
        p["label"] = p["agent"] if p["kind"] == "baseline" or p.get("trained_front") else ""
    rows = [
        [p["agent"], f"{p['accuracy']:.3f}", f"{p['latency_ms']:.3f}", f"{p['parameters']:,}",
         "yes" if p["front"] else "", "yes" if p.get("trained_front") else ""]
        for p in sorted(points, key=lambda p: -p["accuracy"])
    ]  # fmt: skip
    fig, ax = pyplot().subplots(figsize=(7.5, 4.5))
    plot_pareto(points, x="latency_ms", y="accuracy", objectives={"latency_ms": "min", "accuracy": "max"},
                label_key="agent", ax=ax)  # fmt: skip
    ax.set_xscale("log")
    ax.set_title("accuracy versus decision latency (front over these two; labelled: baselines\n"
                 "and the trained variants' own 3-objective front)", fontsize=9)  # fmt: skip
    save(fig, out / "pareto.png")
    header = ["agent", "accuracy", "ms / decision", "acting parameters", "on the 3-objective front",
              "on the trained variants' front"]  # fmt: skip
    return Report(md_table(header, rows) + "\n\n![Pareto front](pareto.png)", points)


EXPERIMENT = Experiment("pareto", "Pareto front of the variants", jobs, report)
