"""MaskablePPO (sb3-contrib) on an r1gym environment: PPO that never picks a masked action.

    python agents/ppo_mask.py --env-id R1Math-v0 --total-timesteps 200000 --out runs/ppo_mask
    python agents/ppo_mask.py --config ppo_mask.R1Math-v0      # the tuned settings in configs/

The policy reads the vector observation (a flat Dict of Boxes: context and candidate embeddings,
confidences, the action mask, progress) with ``MultiInputPolicy``; at every step MaskablePPO asks
each environment copy for ``action_masks()`` and gives masked actions zero probability, in
training and in evaluation (``r1gym eval --agent sb3:PATH`` passes the mask too). The arguments
are ``agents/ppo.py``'s, so that the two differ only in the mask. The run (resume, checkpoints,
logs, the final evaluation) is ``r1gym.training.sb3.train``: run the same command again with the
same ``--out`` to resume an interrupted run. See agents/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sb3_contrib import MaskablePPO
from stable_baselines3.common.vec_env import VecEnv

from r1gym.training.args import SB3Args, net_arch, parse_args
from r1gym.training.sb3 import train

CONFIGS = Path(__file__).resolve().parent / "configs"


@dataclass
class Args(SB3Args):
    """The run's arguments (environment, budget, --out, checkpoints, evaluation) come from SB3Args."""

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

    def validate(self) -> None:
        super().validate()
        net_arch(self.net_arch)


def main() -> None:
    args = parse_args(Args, run_name="ppo_mask", configs=CONFIGS)

    def new_model(env: VecEnv) -> MaskablePPO:
        return MaskablePPO(
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

    train(args, "ppo_mask", MaskablePPO, new_model)


if __name__ == "__main__":
    main()
