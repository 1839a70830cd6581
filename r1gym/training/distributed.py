"""One process, or one rank of the ``deepspeed`` launcher: what a hand-written torch training
loop needs to run either way.

* :class:`Dist` (rank, world size, the DeepSpeed engine if any) with a barrier, a mean, the
  least and the greatest of a number over the ranks; :func:`setup_deepspeed` joins the launcher's
  process group and wraps the model and optimizer; :func:`optimizer_step` is DeepSpeed's step or
  plain PyTorch's.
* :func:`check_same_weights`: the ranks of a data-parallel run must end with the same weights.

**The ranks stay in step.** A collective (DeepSpeed's gradient all-reduce, a forward pass under
ZeRO-3, :meth:`Dist.mean`) returns only once every rank has called it, so every rank must run
as many, in the same order, whatever its data: a loop whose length depends on the rank's data
agrees on it first (:meth:`Dist.least`, :meth:`Dist.greatest`). A rank that waits longer than
the process group's ``timeout`` (:func:`setup_deepspeed`, ``--dist-timeout``) fails, and inside
:meth:`Dist.at` the error names the step it was waiting in (:class:`CollectiveTimeout`) instead
of hanging for ever.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "CollectiveTimeout",
    "Dist",
    "check_same_weights",
    "deepspeed_config",
    "gathered",
    "optimizer_step",
    "setup_deepspeed",
    "weights_fingerprint",
]


DEFAULT_TIMEOUT_S = 300.0
"""How long a rank waits in a collective for the others before it fails (``--dist-timeout``)."""

# What gloo and NCCL say when a collective waited too long, or when the rank at the other end
# left (it failed first, for instance on its own timeout).
_COMM_FAILURES = ("timed out", "timeout", "connection closed", "connection reset", "broken pipe")


class CollectiveTimeout(RuntimeError):
    """A collective waited past the process group's timeout (or its peer left): the ranks were
    not in step. The message names the step this rank was in."""


@dataclass
class Dist:
    """Where this process stands: its rank, the number of ranks, and the DeepSpeed engine once
    :func:`setup_deepspeed` has made one."""

    rank: int = 0
    world: int = 1
    engine: Any = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    """the process group's timeout (for the error message)"""
    where: str = "start"
    """the step the ranks are in (:meth:`at`)"""

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
        return self._reduce_int(value, "MIN")

    def greatest(self, value: int) -> int:
        """The largest of an integer over the ranks (for example whether any rank still plays)."""
        return self._reduce_int(value, "MAX")

    def _reduce_int(self, value: int, op: str) -> int:
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.int64)
        torch.distributed.all_reduce(t, op=getattr(torch.distributed.ReduceOp, op))
        return int(t.item())

    @property
    def forward_collectives(self) -> bool:
        """Whether a forward pass is itself a collective: under ZeRO-3 it gathers each layer's
        partitioned parameters from every rank, so the ranks must make as many forward passes."""
        return self.engine is not None and self.world > 1 and self.engine.zero_optimization_stage() == 3

    @contextlib.contextmanager
    def at(self, step: str) -> Iterator[None]:
        """Name the step the ranks are in: a collective inside that times out (or whose peer left)
        raises :class:`CollectiveTimeout` naming it, this rank and the timeout."""
        before, self.where = self.where, step
        try:
            yield
        except RuntimeError as e:
            if self.world == 1 or isinstance(e, CollectiveTimeout):
                raise
            if not any(word in str(e).lower() for word in _COMM_FAILURES):
                raise
            raise CollectiveTimeout(
                f"rank {self.rank} of {self.world} waited in a collective during {step} longer than the "
                f"--dist-timeout of {self.timeout_s:g} s, or the rank at the other end left: the ranks are not "
                f"in step (another rank is in another step, failed, or is still computing: then raise "
                f"--dist-timeout). The other ranks' errors name their steps. ({type(e).__name__}: {e})"
            ) from e
        finally:
            self.where = before


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


def setup_deepspeed(
    model: nn.Module, optimizer: Any, config_path: str, max_grad_norm: float, timeout_s: float = DEFAULT_TIMEOUT_S
) -> tuple[Any, Any, Dist]:
    """Join the launcher's process group (NCCL on GPUs, gloo on CPU) and wrap the model and the
    optimizer in a DeepSpeed engine. Returns the model (the engine's module), the optimizer and
    the :class:`Dist` holding the engine. A collective that waits more than ``timeout_s``
    seconds for the other ranks fails (gloo honours the timeout on every collective; NCCL's
    watchdog aborts the process)."""
    import deepspeed

    timeout = datetime.timedelta(seconds=timeout_s)
    deepspeed.init_distributed(dist_backend="nccl" if torch.cuda.is_available() else "gloo", timeout=timeout)
    dist = Dist(torch.distributed.get_rank(), torch.distributed.get_world_size(), timeout_s=timeout_s)
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
