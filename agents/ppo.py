"""PPO (stable-baselines3) on an r1gym environment, without action masks.

    python agents/ppo.py --env-id R1Math-v0 --total-timesteps 200000 --out runs/ppo

The policy reads the vector observation (a flat Dict of Boxes: context and candidate embeddings,
confidences, the action mask, progress) with ``MultiInputPolicy``. Nothing stops it from picking
a masked action (backtrack at the root, a candidate that does not exist): that is a documented
no-op that costs ``invalid_action_penalty`` (0.05) and a step, so it must learn to read
``action_mask`` itself. ``agents/ppo_mask.py`` is the same with the mask enforced. Run the same
command again with the same ``--out`` to resume an interrupted run. See agents/README.md.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback

sys.path.insert(0, str(Path(__file__).resolve().parent))  # agents/ is not a package
from common import Run, RunArgs, evaluate_run, learn, make_vec_env, net_arch, parse_args


@dataclass
class Args(RunArgs):
    """The run's arguments (environment, budget, --out, checkpoints, evaluation) come from RunArgs."""

    learning_rate: float = 3e-4
    """Adam step size"""
    n_steps: int = 256
    """steps per environment copy in each rollout (a rollout is n_steps * n_envs transitions)"""
    batch_size: int = 256
    """minibatch size of each gradient step"""
    n_epochs: int = 10
    """passes over each rollout"""
    gamma: float = 0.99
    """discount factor"""
    gae_lambda: float = 0.95
    """lambda of generalized advantage estimation"""
    clip_range: float = 0.2
    """PPO's clipping of the probability ratio"""
    ent_coef: float = 0.01
    """entropy bonus: keeps the policy exploring (backtracking pays only after a few tries)"""
    vf_coef: float = 0.5
    """weight of the value loss"""
    max_grad_norm: float = 0.5
    """gradient norm clip"""
    net_arch: str = "128,128"
    """hidden layers of the policy and value networks, comma-separated"""


def main(argv: list[str] | None = None, callbacks: tuple[BaseCallback, ...] = ()) -> PPO:
    return train(PPO, "ppo", argv, callbacks)


def train(algo: type[PPO], name: str, argv: list[str] | None, callbacks: tuple[BaseCallback, ...]) -> PPO:
    """The whole run with ``algo`` (PPO here; sb3-contrib's MaskablePPO in ppo_mask.py)."""
    args: Args = parse_args(Args, argv, run_name=name)
    torch.set_num_threads(args.torch_threads)
    run = Run(args)

    # Resume from the latest checkpoint of --out, or start afresh. A resumed run reseeds the
    # environments with seed + steps so that it does not replay the episodes it has seen.
    ckpt = run.latest
    env = make_vec_env(args, seed=args.seed + (ckpt.steps if ckpt else 0))
    if ckpt is not None:
        print(f"resuming from {ckpt.model} ({ckpt.steps} steps)")
        model = algo.load(ckpt.model, env=env, device="cpu")
    else:
        model = algo(
            "MultiInputPolicy",
            env,
            learning_rate=args.learning_rate,
            n_steps=args.n_steps,
            batch_size=args.batch_size,
            n_epochs=args.n_epochs,
            gamma=args.gamma,
            gae_lambda=args.gae_lambda,
            clip_range=args.clip_range,
            ent_coef=args.ent_coef,
            vf_coef=args.vf_coef,
            max_grad_norm=args.max_grad_norm,
            policy_kwargs={"net_arch": net_arch(args.net_arch)},
            seed=args.seed,
            device="cpu",
        )
    logger = run.logger(model, args.verbose)
    model.set_logger(logger)

    learn(model, run, args, callbacks)
    path = run.save_final(model)
    env.close()
    print(f"saved {path}: r1gym eval {args.env_id} --agent sb3:{path}")
    evaluate_run(run, args, path, name=f"{name} ({model.num_timesteps:,} steps)", logger=logger)
    logger.close()
    return model


if __name__ == "__main__":
    main()
