"""MaskablePPO (sb3-contrib) on an r1gym environment: PPO with action masks, never picking a masked action.

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

from r1gym.training.args import PPOArgs, parse_args
from r1gym.training.sb3 import train

CONFIGS = Path(__file__).resolve().parent / "configs"


@dataclass
class Args(PPOArgs):
    """PPO's hyperparameters and the run's (environment, budget, --out, checkpoints, evaluation):
    ``r1gym.training.args.PPOArgs``, shared with ``agents/ppo.py``."""


def main() -> None:
    args = parse_args(Args, run_name="ppo_mask", configs=CONFIGS)

    def new_model(env: VecEnv) -> MaskablePPO:
        return MaskablePPO("MultiInputPolicy", env, **args.model_kwargs())

    train(args, "ppo_mask", MaskablePPO, new_model)


if __name__ == "__main__":
    main()
