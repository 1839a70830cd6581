"""One process, or one rank of the ``deepspeed`` launcher: what a hand-written torch training
loop needs to run either way.

* :class:`Dist` (rank, world size, the DeepSpeed engine if any) with a barrier and a mean over
  the ranks; :func:`setup_deepspeed` joins the launcher's process group and wraps the model and
  optimizer; :func:`optimizer_step` is DeepSpeed's step or plain PyTorch's.
* :func:`check_same_weights`: the ranks of a data-parallel run must end with the same weights.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = [
    "Dist",
    "check_same_weights",
    "deepspeed_config",
    "gathered",
    "optimizer_step",
    "setup_deepspeed",
    "weights_fingerprint",
]


@dataclass
class Dist:
    """Where this process stands: its rank, the number of ranks, and the DeepSpeed engine once
    :func:`setup_deepspeed` has made one."""

    rank: int = 0
    world: int = 1
    engine: Any = None

    @classmethod
    def from_env(cls) -> Dist:
        """The rank and world size a launcher (deepspeed, torchrun) set in ``RANK`` / ``WORLD_SIZE``."""
        return cls(int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1")))

    @property
    def main(self) -> bool:
        """Rank 0: the one that writes the run's shared files and prints."""
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()

    def mean(self, value: float) -> float:
        """The mean of a number over the ranks."""
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64)
        torch.distributed.all_reduce(t)
        return float(t.item()) / self.world

    def close(self) -> None:
        """Wait for every rank, then leave the process group (a process that exits still in it
        can abort at shutdown, its communication threads torn down under it)."""
        if torch.distributed.is_initialized():
            torch.distributed.barrier()
            torch.distributed.destroy_process_group()

    def least(self, value: int) -> int:
        """The smallest of an integer over the ranks (for example how many batches every rank
        has: DeepSpeed steps all ranks together, so each must take as many steps)."""
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.int64)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MIN)
        return int(t.item())


def deepspeed_config(path: str, world: int, max_grad_norm: float) -> dict[str, Any]:
    """The JSON config at ``path`` with the batch bookkeeping filled in: each update is one
    micro-batch per rank, so ``train_batch_size = world``; gradient clipping ``max_grad_norm``
    unless the file sets it; bf16 / fp16 only where there is a GPU."""
    try:
        config = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"--deepspeed-config {path}: no such file (see agents/configs/ds_zero*.json)") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"--deepspeed-config {path}: not valid JSON ({e})") from None
    config["train_micro_batch_size_per_gpu"] = 1
    config["gradient_accumulation_steps"] = 1
    config["train_batch_size"] = world
    config.setdefault("gradient_clipping", max_grad_norm)
    if not torch.cuda.is_available():
        config.pop("bf16", None)
        config.pop("fp16", None)
    return config


def setup_deepspeed(model: nn.Module, optimizer: Any, config_path: str, max_grad_norm: float) -> tuple[Any, Any, Dist]:
    """Join the launcher's process group (NCCL on GPUs, gloo on CPU) and wrap the model and the
    optimizer in a DeepSpeed engine. Returns the model (the engine's module), the optimizer and
    the :class:`Dist` holding the engine."""
    import deepspeed

    deepspeed.init_distributed(dist_backend="nccl" if torch.cuda.is_available() else "gloo")
    dist = Dist(torch.distributed.get_rank(), torch.distributed.get_world_size())
    config = deepspeed_config(config_path, dist.world, max_grad_norm)
    dist.engine, optimizer, _, _ = deepspeed.initialize(model=model, optimizer=optimizer, config=config)
    return dist.engine.module, optimizer, dist


def optimizer_step(loss: torch.Tensor, model: nn.Module, optimizer: Any, dist: Dist, max_grad_norm: float) -> None:
    """One gradient step: DeepSpeed's (gradients averaged over ranks, clipped by its config) or
    plain PyTorch's (clipped to ``max_grad_norm``)."""
    if dist.engine is not None:
        dist.engine.backward(loss)
        dist.engine.step()
    else:
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()


def gathered(model: nn.Module, dist: Dist) -> contextlib.AbstractContextManager[Any]:
    """A context in which every parameter is whole on every rank (ZeRO-3 partitions them)."""
    if dist.engine is not None and dist.engine.zero_optimization_stage() == 3:
        import deepspeed

        return deepspeed.zero.GatheredParameters(list(model.parameters()), modifier_rank=None)
    return contextlib.nullcontext()


def weights_fingerprint(model: nn.Module) -> str:
    """SHA-256 of every parameter's bytes, in order: equal on all ranks iff their weights are."""
    h = hashlib.sha256()
    for name, p in model.named_parameters():
        h.update(name.encode())
        h.update(p.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()


def check_same_weights(model: nn.Module, dist: Dist) -> str:
    """The weights' fingerprint; raises if the ranks' weights differ (data parallelism broke)."""
    with gathered(model, dist):
        mine = weights_fingerprint(model)
    if dist.world == 1:
        return mine
    every: list[str] = [""] * dist.world
    torch.distributed.all_gather_object(every, mine)
    if len(set(every)) != 1:
        raise RuntimeError(f"the ranks hold different weights after training: {every}")
    return mine
