"""Same data, one process or two DeepSpeed ranks: the losses and the weights must match.

    python tests/deepspeed_equivalence.py --out DIR                               # one process
    DS_ACCELERATOR=cpu deepspeed --num_gpus 2 tests/deepspeed_equivalence.py --out DIR \\
        --deepspeed-config agents/configs/ds_zero2.json                           # two ranks

A few steps of the LLM policy's cold-start loss (``r1gym.training.cold_start``) on fixed batches
of oracle decisions, with agents/llm_policy.py's model, optimizer and DeepSpeed setup
(``r1gym.training.distributed``). One process takes each whole batch; each of two
ranks takes one half, and DeepSpeed averages their gradients, which is the whole batch's gradient
when the halves are equal. Writes ``losses.json`` (the loss of each step over the whole batch:
the mean of the ranks' losses) and ``weights.npy`` (every parameter after the last step, rank
0). ``tests/test_llm_deepspeed.py`` runs both and compares them.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch

from r1gym.llm.policy import new_policy
from r1gym.training.cold_start import sft_loss, teacher_decisions
from r1gym.training.distributed import Dist, check_same_weights, gathered, optimizer_step, setup_deepspeed

MAX_GRAD_NORM = 1.0  # agents/llm_policy.py's default


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--deepspeed-config", default=None)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--local_rank", type=int, default=-1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)

    data = teacher_decisions("R1Arith-v0", {"difficulty": "medium"}, episodes=12, seed=5)[: args.steps * args.batch]
    policy = new_policy(4, seed=0, hidden_size=32, num_hidden_layers=1)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=1e-3)
    dist = Dist()
    if args.deepspeed_config:
        policy, optimizer, dist = setup_deepspeed(policy, optimizer, args.deepspeed_config, MAX_GRAD_NORM)
    if args.batch % dist.world:
        raise ValueError(f"--batch {args.batch} must split evenly over {dist.world} ranks")
    part = args.batch // dist.world

    losses = []
    for s in range(args.steps):
        batch = data[s * args.batch : (s + 1) * args.batch]
        loss = sft_loss(policy, batch[dist.rank * part : (dist.rank + 1) * part])
        optimizer_step(loss, policy, optimizer, dist, MAX_GRAD_NORM)
        losses.append(dist.mean(float(loss.item())))
    fingerprint = check_same_weights(policy, dist)
    with gathered(policy, dist):
        weights = np.concatenate([p.detach().float().cpu().numpy().ravel() for p in policy.parameters()])
    if dist.main:
        out.mkdir(parents=True, exist_ok=True)
        np.save(out / "weights.npy", weights)
        (out / "losses.json").write_text(
            json.dumps({"losses": losses, "world": dist.world, "fingerprint": fingerprint}) + "\n"
        )
    dist.close()


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
