"""Checkpoints of a hand-written training loop (plain PyTorch or DeepSpeed, one rank or many).

``<folder>/iter_<N>/`` holds the model and optimizer (``model.pt``, or DeepSpeed's own format
under ``deepspeed/``), every rank's replay (``replay_rank<r>.npz``) and loop state
(``state_rank<r>.pt``: counters, generators), and a ``complete`` marker written last, after
every rank has written its part: a run killed mid-save resumes from the previous complete one.
The two newest complete checkpoints are kept.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from torch import nn

from r1gym.replay import PrioritizedReplay
from r1gym.training.distributed import Dist

__all__ = ["latest_checkpoint", "load_checkpoint", "save_checkpoint"]


def _iteration(path: Path) -> int:
    return int(path.name.split("_")[1])


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest complete checkpoint (a directory with a ``complete`` marker), or None."""
    found = [p for p in folder.glob("iter_*") if (p / "complete").exists()]
    return max(found, key=_iteration) if found else None


def save_checkpoint(
    folder: Path, it: int, model: nn.Module, optimizer: Any, replay: PrioritizedReplay, state: dict, dist: Dist
) -> Path:
    """Write ``iter_<it>/`` (every rank calls this together); ``complete`` is written last."""
    path = folder / f"iter_{it}"
    if dist.main and path.exists():
        shutil.rmtree(path)
    dist.barrier()
    path.mkdir(parents=True, exist_ok=True)
    if dist.engine is not None:
        dist.engine.save_checkpoint(str(path / "deepspeed"), tag="state")
    elif dist.main:
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path / "model.pt")
    replay.save(path / f"replay_rank{dist.rank}.npz")
    torch.save(state, path / f"state_rank{dist.rank}.pt")
    dist.barrier()
    if dist.main:
        (path / "complete").write_text(json.dumps({"iteration": it}) + "\n")
        complete = sorted((p for p in folder.glob("iter_*") if (p / "complete").exists()), key=_iteration)
        for old in complete[:-2]:  # keep the two newest complete ones, whatever --checkpoint-every is
            shutil.rmtree(old, ignore_errors=True)
    dist.barrier()
    return path


def load_checkpoint(path: Path, model: nn.Module, optimizer: Any, dist: Dist) -> tuple[PrioritizedReplay, dict]:
    """Restore what :func:`save_checkpoint` wrote into ``model`` and ``optimizer``; return this
    rank's replay and state. A missing or damaged file is an error that names the checkpoint."""
    try:
        if dist.engine is not None:
            dist.engine.load_checkpoint(str(path / "deepspeed"), tag="state")
        else:
            blob = torch.load(path / "model.pt", map_location="cpu", weights_only=False)
            model.load_state_dict(blob["model"])
            optimizer.load_state_dict(blob["optimizer"])
        replay = PrioritizedReplay.load(path / f"replay_rank{dist.rank}.npz")
        state = torch.load(path / f"state_rank{dist.rank}.pt", map_location="cpu", weights_only=False)
    except FileNotFoundError as e:
        raise FileNotFoundError(
            f"checkpoint {path} is incomplete ({e}); delete it to resume from an older one"
        ) from None
    except Exception as e:  # noqa: BLE001  (torch, numpy and pickle raise many types for a damaged file)
        raise ValueError(
            f"checkpoint {path} is damaged ({type(e).__name__}: {e}); delete it to resume from an older one"
        ) from None
    return replay, state
