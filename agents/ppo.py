"""PPO (stable-baselines3) on an r1gym environment, without action masks.

    python agents/ppo.py --env-id R1Math-v0 --total-timesteps 200000 --out runs/ppo
    python agents/ppo.py --config ppo.R1Math-v0      # the settings in agents/configs/

The policy reads the vector observation (a flat Dict of Boxes: context and candidate embeddings,
confidences, the action mask, progress) with ``MultiInputPolicy``. Nothing stops it from picking
a masked action (backtrack at the root, a candidate that does not exist): that is a documented
no-op that costs ``invalid_action_penalty`` (0.05) and a step, so it must learn to read
``action_mask`` itself. ``agents/ppo_mask.py`` is the same with the mask enforced. The run
(resume, checkpoints, logs, the final evaluation) is ``r1gym.training.sb3.train``: run the same
command again with the same ``--out`` to resume an interrupted run. See agents/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv

from r1gym.training.args import PPOArgs, parse_args
from r1gym.training.sb3 import train

CONFIGS = Path(__file__).resolve().parent / "configs"


@dataclass
class Args(PPOArgs):
    """PPO's hyperparameters and the run's (environment, budget, --out, checkpoints, evaluation):
    ``r1gym.training.args.PPOArgs``, shared with ``agents/ppo_mask.py``."""


def main() -> None:
    args = parse_args(Args, run_name="ppo", configs=CONFIGS)

    def new_model(env: VecEnv) -> PPO:
        return PPO("MultiInputPolicy", env, **args.model_kwargs())

    train(args, "ppo", PPO, new_model)


if __name__ == "__main__":
    main()
