"""MaskablePPO (sb3-contrib) on an r1gym environment: PPO that never picks a masked action.

    python agents/ppo_mask.py --env-id R1Math-v0 --total-timesteps 200000 --out runs/ppo_mask
    python agents/ppo_mask.py --config ppo_mask.R1Math-v0      # the tuned settings in configs/

The policy reads the vector observation (a flat Dict of Boxes: context and candidate embeddings,
confidences, the action mask, progress) with ``MultiInputPolicy``; at every step MaskablePPO asks
each environment copy for ``action_masks()`` and gives masked actions zero probability, in
training and in evaluation (``r1gym eval --agent sb3:PATH`` passes the mask too). Run the same
command again with the same ``--out`` to resume an interrupted run. See agents/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sb3_contrib import MaskablePPO
from stable_baselines3.common.callbacks import BaseCallback

sys.path.insert(0, str(Path(__file__).resolve().parent))  # agents/ is not a package
from ppo import Args, train  # the same arguments and run as ppo.py; only the algorithm differs

__all__ = ["Args", "main"]


def main(argv: list[str] | None = None, callbacks: tuple[BaseCallback, ...] = ()) -> MaskablePPO:
    return train(MaskablePPO, "ppo_mask", argv, callbacks)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
