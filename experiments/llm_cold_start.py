"""The LLM policy's cold start alone, with a chosen teacher and action head: the ablation behind
docs/llm.md's table "Why this layout".

    python experiments/llm_cold_start.py --action-head pointer --teacher oracle     # about 3 minutes
    python experiments/llm_cold_start.py --action-head lm --teacher backtrack

Plays ``--episodes`` noisy-teacher episodes of R1Arith-v0 (``teacher_decisions`` of
``r1gym.training.cold_start``, as ``agents/llm_policy.py``'s cold start does), trains a fresh
tiny policy on them for ``--epochs`` passes, prints per epoch the mean loss, the share of
decisions the policy gets right and that share among the decisions whose label is "take the
most confident candidate", then evaluates the policy on ``--eval-episodes`` held-out episodes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from r1gym.baselines import GreedyAgent
from r1gym.evaluation import evaluate
from r1gym.llm.agent import LLMAgent
from r1gym.llm.policy import ACTION_HEADS, new_policy
from r1gym.training.cold_start import teacher_decisions


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-id", default="R1Arith-v0")
    parser.add_argument("--teacher", default="oracle", help="oracle, or a baseline name (backtrack, greedy)")
    parser.add_argument("--action-head", default="pointer", choices=ACTION_HEADS)
    parser.add_argument("--episodes", type=int, default=500)
    parser.add_argument("--noise", type=float, default=0.25)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--minibatch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--eval-episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    a = parser.parse_args(argv)
    torch.set_num_threads(a.threads)
    data = teacher_decisions(a.env_id, {"difficulty": "medium"}, a.episodes, seed=123, teacher=a.teacher, noise=a.noise)
    top = np.array([_takes_most_confident(d.obs, d.action) for d in data])
    print(f"{len(data)} decisions; {top.mean():.2f} of them take the most confident candidate")
    k = len(data[0].obs["action_mask"]) - 2
    policy = new_policy(k, seed=a.seed)
    policy.action_head = a.action_head
    optimizer = torch.optim.AdamW(policy.parameters(), lr=a.lr)
    rng = np.random.default_rng(a.seed)
    t0 = time.perf_counter()
    row: dict[str, float] = {}
    for epoch in range(a.epochs):
        order = rng.permutation(len(data))
        right = np.zeros(len(data))
        total = 0.0
        policy.train()
        for b in range(0, len(data), a.minibatch):
            idx = order[b : b + a.minibatch]
            labels = torch.tensor([data[i].action for i in idx])
            logp, _ = policy.distribution([data[i].obs for i in idx])
            loss = -logp[torch.arange(len(idx)), labels].mean()  # cold_start.sft_loss, keeping logp
            right[idx] = (logp.detach().argmax(-1) == labels).numpy()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
            optimizer.step()
            total += loss.item() * len(idx)
        row = {"loss": total / len(data), "right": right.mean(), "right_most_confident": right[top].mean()}
        print(
            f"epoch {epoch + 1}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()),
            f"({time.perf_counter() - t0:.0f} s)",
        )
    report = evaluate(LLMAgent(policy.eval()), a.env_id, episodes=a.eval_episodes, seed=10_000, num_envs=8)
    row["accuracy"] = report.accuracy
    print(f"held-out accuracy {report.accuracy:.3f} (mean steps {report.mean_steps:.2f})")
    return row


def _takes_most_confident(obs: dict, label: int) -> bool:
    k = len(obs["action_mask"]) - 2
    return bool(np.any(obs["action_mask"][:k])) and label == GreedyAgent().act(obs, {})


if __name__ == "__main__":
    main()
