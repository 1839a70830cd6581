"""The LLM policy: a causal LM that reads the reasoning state and learns when to expand, backtrack
and submit, trained by a supervised cold start and then reinforcement, as the R1 report does.

    python agents/llm_policy.py --env-id R1Arith-v0 --out runs/llm        # tiny model, plain PyTorch
    python agents/llm_policy.py --model /path/to/local/model ...         # any local causal LM
    DS_ACCELERATOR=cpu deepspeed --num_gpus 2 agents/llm_policy.py --deepspeed-config agents/configs/ds_zero2.json ...
    r1gym eval R1Arith-v0 --agent llm:runs/llm/policy                   # evaluate the saved policy

Read top to bottom:

1. **The policy** (``r1gym.llm.policy.LLMPolicy``): ``format_prompt(obs)`` in, the logits of
   the action tokens ``<expand_i>``, ``<backtrack>``, ``<submit>`` at the last position out
   (masked by ``action_mask``), and a value from a linear head on the same hidden state. By
   default a tiny Llama built from a config with r1gym's shipped tokenizer; ``--model DIR``
   takes any local ``transformers`` causal LM (action tokens are added to its vocabulary).
2. **Cold start**: supervised learning (cross-entropy) on the oracle's actions over
   ``--sft-episodes`` trajectories played with ``reveal=True``.
3. **Reinforcement** (``--iterations`` rounds): ``--groups`` problems, each played
   ``--group-size`` times by sampling from the policy in one vector env (the copies of a group
   are reset with the same seed, so they face the same problem and tree); each trajectory's
   advantage is its return normalized within its group, ``(R - mean) / (std + 1e-4)``, as in
   GRPO. Trajectories go into ``r1gym.replay.PrioritizedReplay`` (``P(i) ~ (r_i + eps)^0.7``,
   r_i the return floored at 0); each update draws ``--replay-batch`` trajectories from it and
   minimizes the PPO-clipped policy loss of their steps, weighted by the importance weights,
   plus a value loss and minus an entropy bonus.
4. **Scale**: ``--deepspeed-config`` (under the ``deepspeed`` launcher) wraps the same model and
   optimizer with DeepSpeed (ZeRO 1-3, bf16 on GPUs, fp32 on CPU); every rank plays its own
   rollouts (seeds offset by rank) and DeepSpeed averages the gradients.
5. **Bookkeeping**: progress bar, ``progress.csv`` and TensorBoard (``tb/``), a checkpoint every
   ``--checkpoint-every`` iterations (the same command resumes from the newest complete one),
   the final policy in ``<out>/policy`` and its evaluation against random and greedy.

See docs/llm.md for the choices and the measured figures.
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # agents/ is not a package
from common import check_same_arguments, env_kwargs_of, field_docs, parse_args

import r1gym  # noqa: F401  (registers the ids)
from r1gym.baselines import GreedyAgent
from r1gym.agent_specs import resolve_agent
from r1gym.core.vector import obs_at
from r1gym.evaluation import REVEALED_KEYS, evaluate, format_table
from r1gym.llm.agent import LLMAgent
from r1gym.llm.policy import LLMPolicy, new_policy
from r1gym.replay import PrioritizedReplay


@dataclass
class Args:
    """Arguments of the LLM policy's training."""

    env_id: str = "R1Arith-v0"
    """the environment id (played in obs_mode="text")"""
    difficulty: str | None = "medium"
    """the environment's difficulty preset"""
    env_kwargs: str = "{}"
    """more keyword arguments of gym.make, as a JSON object"""
    curriculum: bool = False
    """wrap the environment in r1gym's CurriculumWrapper (the report's staged curriculum by default)"""
    model: str | None = None
    """a local transformers causal LM directory; default: a tiny Llama built from a config with r1gym's tokenizer"""
    hidden_size: int = 96
    """hidden size of the tiny model (ignored with --model)"""
    num_layers: int = 2
    """decoder layers of the tiny model (ignored with --model)"""
    seed: int = 1
    """seed of the model, the environments, the sampling and the replay"""
    out: str | None = None
    """the run directory; the same --out resumes. Default: runs/llm_policy-<env-id>-s<seed>"""
    config: str | None = None
    """a TOML or JSON file of argument defaults (a path, or a name in agents/configs/)"""
    sft_episodes: int = 2000
    """teacher episodes of the supervised cold start (0: no cold start)"""
    teacher: str = "oracle"
    """whose actions the cold start imitates: oracle (reads the answer key), or a baseline (greedy, backtrack)"""
    sft_noise: float = 0.25
    """probability that the cold start's episodes take the most confident or a random candidate instead of the teacher's action (the state is still labelled with the teacher's)"""
    sft_epochs: int = 3
    """passes over the cold start's decisions"""
    sft_lr: float = 1e-3
    """Adam step size of the cold start"""
    iterations: int = 30
    """rounds of reinforcement: play, add to the replay, update"""
    groups: int = 8
    """problems per round"""
    group_size: int = 4
    """rollouts of each problem per round (GRPO's group)"""
    temperature: float = 1.0
    """sampling temperature of the rollouts"""
    replay_capacity: int = 4096
    """trajectories the prioritized replay keeps"""
    omega: float = 0.7
    """priority exponent of the replay (0: uniform)"""
    replay_beta: float = 0.4
    """importance-weight exponent at the start, annealed to 1 over the run"""
    replay_batch: int = 32
    """trajectories per update"""
    updates: int = 2
    """updates per round"""
    lr: float = 1e-4
    """Adam step size of the reinforcement"""
    clip: float = 0.2
    """PPO's clipping of the probability ratio"""
    value_coef: float = 0.5
    """weight of the value loss"""
    entropy_coef: float = 0.01
    """weight of the entropy bonus"""
    max_grad_norm: float = 1.0
    """gradient norm clip"""
    minibatch: int = 16
    """decisions per cold-start batch (an RL update forwards all steps of its --replay-batch trajectories at once)"""
    checkpoint_every: int = 10
    """save a checkpoint every this many rounds (and after the cold start and at the end)"""
    eval_episodes: int = 200
    """episodes of the final evaluation against random and greedy (0: skip it)"""
    eval_seed: int = 10_000
    """seed of the final evaluation, away from the training seeds"""
    deepspeed_config: str | None = None
    """a DeepSpeed JSON config (agents/configs/ds_zero*.json): train under the deepspeed launcher"""
    local_rank: int = -1
    """set by the deepspeed launcher"""
    progress_bar: bool = True
    """show a progress bar"""
    torch_threads: int = 1
    """torch CPU threads per process"""


RESUMABLE = {
    "iterations",
    "out",
    "config",
    "checkpoint_every",
    "eval_episodes",
    "eval_seed",
    "progress_bar",
    "torch_threads",
    "local_rank",
}


# --------------------------------------------------------------------------------------------
# Distributed setup: one process, or one rank of the deepspeed launcher
# --------------------------------------------------------------------------------------------


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    engine: Any = None  # the DeepSpeed engine, when there is one

    @property
    def main(self) -> bool:
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


def gathered(policy: LLMPolicy, dist: Dist):
    """A context in which every parameter is whole on every rank (ZeRO-3 partitions them)."""
    import contextlib

    if dist.engine is not None and dist.engine.zero_optimization_stage() == 3:
        import deepspeed

        return deepspeed.zero.GatheredParameters(list(policy.parameters()), modifier_rank=None)
    return contextlib.nullcontext()


def weights_fingerprint(policy: LLMPolicy) -> str:
    """SHA-256 of every parameter's bytes, in order: equal on all ranks iff their weights are."""
    import hashlib

    h = hashlib.sha256()
    for name, p in policy.named_parameters():
        h.update(name.encode())
        h.update(p.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()


def check_same_weights(policy: LLMPolicy, dist: Dist) -> str:
    """Every rank's fingerprint; raises if the ranks' weights differ (data parallelism broke)."""
    with gathered(policy, dist):
        mine = weights_fingerprint(policy)
    if dist.world == 1:
        return mine
    every: list[str] = [""] * dist.world
    torch.distributed.all_gather_object(every, mine)
    if len(set(every)) != 1:
        raise RuntimeError(f"the ranks hold different weights after training: {every}")
    return mine


def deepspeed_config(path: str, world: int, args: Args) -> dict[str, Any]:
    """The JSON config with the batch bookkeeping filled in: each update is one micro-batch per
    rank, so ``train_batch_size = world``; bf16 only where there is a GPU."""
    try:
        config = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"--deepspeed-config {path}: no such file (see agents/configs/ds_zero*.json)") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"--deepspeed-config {path}: not valid JSON ({e})") from None
    config["train_micro_batch_size_per_gpu"] = 1
    config["gradient_accumulation_steps"] = 1
    config["train_batch_size"] = world
    config.setdefault("gradient_clipping", args.max_grad_norm)
    if not torch.cuda.is_available():
        config.pop("bf16", None)
        config.pop("fp16", None)
    return config


def setup_deepspeed(policy: LLMPolicy, optimizer: Any, config_path: str, args: Args) -> tuple[LLMPolicy, Any, Dist]:
    """Join the launcher's process group (gloo on CPU) and wrap model and optimizer in DeepSpeed."""
    import deepspeed

    deepspeed.init_distributed(dist_backend="nccl" if torch.cuda.is_available() else "gloo")
    dist = Dist(torch.distributed.get_rank(), torch.distributed.get_world_size())
    config = deepspeed_config(config_path, dist.world, args)
    dist.engine, optimizer, _, _ = deepspeed.initialize(model=policy, optimizer=optimizer, config=config)
    return dist.engine.module, optimizer, dist


def optimizer_step(loss: torch.Tensor, policy: LLMPolicy, optimizer: Any, dist: Dist, max_grad_norm: float) -> None:
    """One gradient step: DeepSpeed's (gradients averaged over ranks, clipped by its config) or
    plain PyTorch's (clipped to ``max_grad_norm``)."""
    if dist.engine is not None:
        dist.engine.backward(loss)
        dist.engine.step()
    else:
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), max_grad_norm)
        optimizer.step()


# --------------------------------------------------------------------------------------------
# Playing: teacher trajectories for the cold start, sampled groups for the reinforcement
# --------------------------------------------------------------------------------------------


def make_envs(args: Args, n: int, reveal: bool = False) -> gym.vector.VectorEnv:
    kwargs = {**env_kwargs_of(args), "obs_mode": "text"}
    wrappers = []
    if args.curriculum:
        from r1gym.wrappers import CurriculumWrapper

        wrappers.append(lambda env: CurriculumWrapper(env))
    return gym.make_vec(args.env_id, num_envs=n, vectorization_mode="sync", wrappers=wrappers, reveal=reveal, **kwargs)


def teacher_decisions(args: Args, episodes: int, seed: int) -> list[tuple[dict, int]]:
    """(observation, teacher action) for every decision of ``episodes`` episodes.

    The teacher (``args.teacher``) is the oracle, which follows the answer key, or a baseline
    policy. The episodes are played by a noisy teacher: with probability ``args.sft_noise`` it
    takes another action than its own, half the time the most confident allowed candidate (the
    mistake a greedy learner makes: a convincing wrong step, and after backing out of it, the
    same step again) and half the time a random allowed candidate; every state it visits is
    labelled with the teacher's action, as in DAgger. Without the noise an oracle never leaves
    the reference path, and the cold start would never see what to do after a wrong step.
    """
    if not 0.0 <= args.sft_noise <= 1.0:
        raise ValueError(f"--sft-noise is a probability: give a number in [0, 1], not {args.sft_noise}")
    env = gym.make(args.env_id, obs_mode="text", reveal=True, **env_kwargs_of(args))
    teacher = None if args.teacher == "oracle" else resolve_agent(args.teacher, seed=seed)
    if teacher is not None and hasattr(teacher, "attach"):
        teacher.attach(env)
    rng = np.random.default_rng(seed)
    k = env.unwrapped.num_candidates
    greedy = GreedyAgent()
    out = []
    for ep in range(episodes):
        obs, info = env.reset(seed=seed + ep)
        if teacher is not None and hasattr(teacher, "reset"):
            teacher.reset()
        done = False
        while not done:
            if teacher is None:
                label = int(info["oracle_action"])
            else:
                label = int(teacher.act(obs, {key: v for key, v in info.items() if key not in REVEALED_KEYS}))
            out.append((obs, label))
            legal = np.flatnonzero(obs["action_mask"][:k])
            action = label
            if len(legal) and rng.random() < args.sft_noise:
                action = greedy.act(obs, info) if rng.random() < 0.5 else int(rng.choice(legal))
            obs, _, term, trunc, info = env.step(action)
            done = term or trunc
    env.close()
    return out


@torch.no_grad()
def play_groups(
    policy: LLMPolicy, envs: gym.vector.VectorEnv, seeds: list[int], args: Args, gen: torch.Generator
) -> list[dict]:
    """One episode per copy, sampling from the policy; copies of a group share a seed.

    Decisions of all unfinished copies are batched into one forward pass. A copy that has
    finished submits (always allowed) while the others play on; what it plays then is dropped.
    """
    n = envs.num_envs
    obs, _ = envs.reset(seed=seeds)
    steps: list[list[tuple[list[int], np.ndarray, int, float]]] = [[] for _ in range(n)]
    returns = [0.0] * n
    correct = [False] * n
    done = [False] * n
    k = policy.num_candidates
    while not all(done):
        live = [i for i in range(n) if not done[i]]
        observations = [obs_at(obs, i) for i in live]
        suffixes = policy.encode(observations)
        logits, _ = policy(suffixes)
        logits = logits.masked_fill(~policy.masks(observations), float("-inf")) / args.temperature
        logp = torch.log_softmax(logits, -1)
        picked = torch.multinomial(logp.exp(), 1, generator=gen).squeeze(-1)
        actions = np.full(n, k + 1, dtype=np.int64)
        for j, i in enumerate(live):
            actions[i] = int(picked[j])
            steps[i].append(
                (
                    suffixes[j],
                    np.asarray(observations[j]["action_mask"], dtype=bool),
                    actions[i],
                    float(logp[j, picked[j]]),
                )
            )
        obs, rewards, terms, truncs, infos = envs.step(actions)
        for i in live:
            returns[i] += float(rewards[i])
            if terms[i] or truncs[i]:
                done[i] = True
                correct[i] = bool(terms[i] and infos["is_correct"][i])
    envs.step(np.full(n, k + 1, dtype=np.int64))  # the finished copies' pending autoreset
    return [{"steps": steps[i], "return": returns[i], "correct": correct[i]} for i in range(n)]


def group_advantages(trajectories: list[dict], group_size: int) -> None:
    """GRPO: each trajectory's return normalized within its group (mean 0, std 1; 0 if all equal)."""
    for g in range(0, len(trajectories), group_size):
        group = trajectories[g : g + group_size]
        r = np.array([t["return"] for t in group])
        adv = (r - r.mean()) / (r.std() + 1e-4)
        for t, a in zip(group, adv):
            t["advantage"] = float(a)


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------


def sft_loss(policy: LLMPolicy, batch: list[tuple[dict, int]]) -> torch.Tensor:
    observations = [o for o, _ in batch]
    logp, _ = policy.distribution(observations)
    actions = torch.tensor([a for _, a in batch])
    return -logp[torch.arange(len(batch)), actions].mean()


def rl_loss(
    policy: LLMPolicy, trajectories: list[dict], weights: np.ndarray, args: Args
) -> tuple[torch.Tensor, dict[str, float]]:
    """PPO-clipped policy loss over the trajectories' steps, each weighted by its trajectory's
    importance weight; value loss against the return; entropy bonus. Means over steps."""
    rows = [(s, t["advantage"], t["return"], w) for t, w in zip(trajectories, weights) for s in t["steps"]]
    suffixes = [r[0][0] for r in rows]
    masks = torch.as_tensor(np.stack([r[0][1] for r in rows]))
    actions = torch.tensor([r[0][2] for r in rows])
    old_logp = torch.tensor([r[0][3] for r in rows])
    adv = torch.tensor([r[1] for r in rows], dtype=torch.float32)
    ret = torch.tensor([r[2] for r in rows], dtype=torch.float32)
    w = torch.tensor([r[3] for r in rows], dtype=torch.float32)
    logits, values = policy(suffixes)
    logp_all = torch.log_softmax(logits.masked_fill(~masks, float("-inf")), -1)
    logp = logp_all[torch.arange(len(rows)), actions]
    ratio = torch.exp(logp - old_logp)
    pg = -torch.min(ratio * adv, torch.clamp(ratio, 1 - args.clip, 1 + args.clip) * adv)
    probs = logp_all.exp()
    entropy = -(probs * logp_all.masked_fill(~masks, 0.0)).sum(-1)
    loss = (w * pg).mean() + args.value_coef * (w * (values - ret) ** 2).mean() - args.entropy_coef * entropy.mean()
    with torch.no_grad():
        stats = {
            "policy_loss": float(pg.mean()),
            "value_loss": float(((values - ret) ** 2).mean()),
            "entropy": float(entropy.mean()),
            "clip_fraction": float(((ratio - 1).abs() > args.clip).float().mean()),
            "is_weight_mean": float(w.mean()),
        }
    return loss, stats


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest complete checkpoint (a directory with a ``complete`` marker), or None."""
    found = [p for p in folder.glob("iter_*") if (p / "complete").exists()]
    return max(found, key=lambda p: int(p.name.split("_")[1])) if found else None


def save_checkpoint(
    folder: Path, it: int, policy: LLMPolicy, optimizer: Any, replay: PrioritizedReplay, state: dict, dist: Dist
) -> Path:
    """``iter_<it>/``: model and optimizer (DeepSpeed's own format under DeepSpeed), each rank's
    replay and generators, and the loop's counters; ``complete`` is written last."""
    path = folder / f"iter_{it}"
    if dist.main and path.exists():
        shutil.rmtree(path)
    dist.barrier()
    path.mkdir(parents=True, exist_ok=True)
    if dist.engine is not None:
        dist.engine.save_checkpoint(str(path / "deepspeed"), tag="state")
    elif dist.main:
        torch.save({"model": policy.state_dict(), "optimizer": optimizer.state_dict()}, path / "model.pt")
    replay.save(path / f"replay_rank{dist.rank}.npz")
    torch.save(state, path / f"state_rank{dist.rank}.pt")
    dist.barrier()
    if dist.main:
        (path / "complete").write_text(json.dumps({"iteration": it}) + "\n")
        for old in folder.glob("iter_*"):  # keep the two newest
            if old != path and (old / "complete").exists() and int(old.name.split("_")[1]) < it - 1:
                shutil.rmtree(old, ignore_errors=True)
    dist.barrier()
    return path


def load_checkpoint(path: Path, policy: LLMPolicy, optimizer: Any, dist: Dist) -> tuple[PrioritizedReplay, dict]:
    """Restore what :func:`save_checkpoint` wrote; a damaged checkpoint is an error that says which file."""
    try:
        if dist.engine is not None:
            dist.engine.load_checkpoint(str(path / "deepspeed"), tag="state")
        else:
            blob = torch.load(path / "model.pt", map_location="cpu", weights_only=False)
            policy.load_state_dict(blob["model"])
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


# --------------------------------------------------------------------------------------------
# Logging
# --------------------------------------------------------------------------------------------


class Log:
    """``progress.csv`` (one row per round, appended across resumes; rounds replayed after a crash
    appear again), ``sft.csv`` (the cold start, one row per epoch) and TensorBoard under ``tb/``."""

    def __init__(self, folder: Path, enabled: bool) -> None:
        self.enabled = enabled
        self.path = folder / "progress.csv"
        self.tb = None
        if enabled:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(str(folder / "tb"))
            except ImportError:
                print(f"tensorboard is not installed: logging to {self.path} only")

    def write(self, step: int, row: dict[str, float], name: str = "progress.csv") -> None:
        """Append a row to ``name`` (one file per kind of row: its columns never change)."""
        if not self.enabled:
            return
        row = {"iteration": step, **row}
        path = self.path.with_name(name)
        new = not path.exists()
        with path.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(row))
            if new:
                w.writeheader()
            w.writerow(row)
        if self.tb is not None:
            for key, value in row.items():
                if key != "iteration":
                    self.tb.add_scalar(key, value, step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


def progress(enabled: bool, total: int, done: int, description: str):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[stats]}"),
        disable=not enabled,
    )
    task = bar.add_task(description, total=total, completed=done, stats="")
    return bar, task


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> LLMPolicy:
    args: Args = parse_args(Args, argv, run_name="llm_policy")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the run's own bar is enough
    torch.set_num_threads(args.torch_threads)
    dist = Dist(int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1")))
    if args.deepspeed_config is None and dist.world > 1:
        raise ValueError("several ranks (WORLD_SIZE > 1) need --deepspeed-config")
    out = Path(args.out)  # type: ignore[arg-type]
    ckpt_dir = out / "checkpoints"
    if dist.main:
        ckpt_dir.mkdir(parents=True, exist_ok=True)
    seed = args.seed + 1000 * dist.rank  # every rank plays its own episodes
    random.seed(seed)
    np.random.seed(seed)

    # 1. The policy (the same initial weights on every rank: seeded with args.seed).
    probe = gym.make(args.env_id, **env_kwargs_of(args))
    k = probe.unwrapped.num_candidates
    probe.close()
    tiny = {} if args.model else {"hidden_size": args.hidden_size, "num_hidden_layers": args.num_layers}
    policy = new_policy(k, seed=args.seed, model=args.model, **tiny)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=args.sft_lr)
    if args.deepspeed_config is not None:
        policy, optimizer, dist = setup_deepspeed(policy, optimizer, args.deepspeed_config, args)

    # Resume from the newest complete checkpoint, or start afresh.
    if dist.main and latest_checkpoint(ckpt_dir) is not None:
        check_same_arguments(out, asdict(args), RESUMABLE)
    dist.barrier()
    ckpt = latest_checkpoint(ckpt_dir)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    beta_steps = max(1, args.iterations * args.updates)
    if ckpt is not None:
        replay, state = load_checkpoint(ckpt, policy, optimizer, dist)
        gen.set_state(state["torch_gen"])
        rng.bit_generator.state = state["np_rng"]
        start, sft_done = state["iteration"], state["sft_done"]
        if dist.main:
            print(f"resuming from {ckpt} (iteration {start})")
    else:
        replay = PrioritizedReplay(
            args.replay_capacity, omega=args.omega, beta=args.replay_beta, beta_final=1.0, beta_steps=beta_steps
        )
        start, sft_done = 0, False
    if dist.main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "args.json").write_text(json.dumps(asdict(args), indent=2) + "\n")
    log = Log(out, dist.main)

    def step(loss: torch.Tensor) -> None:
        optimizer_step(loss, policy, optimizer, dist, args.max_grad_norm)

    def set_lr(lr: float) -> None:
        for group in optimizer.param_groups:
            group["lr"] = lr

    def state_now(it: int, sft: bool) -> dict:
        return {"iteration": it, "sft_done": sft, "torch_gen": gen.get_state(), "np_rng": rng.bit_generator.state}

    t0 = time.perf_counter()
    # 2. Cold start: imitate the oracle.
    if not sft_done and args.sft_episodes > 0:
        data = teacher_decisions(args, args.sft_episodes, seed=seed * 100_003)
        set_lr(args.sft_lr)
        policy.train()
        n_batches = args.sft_epochs * math.ceil(len(data) / args.minibatch)
        bar, task = progress(args.progress_bar and dist.main, n_batches, 0, "cold start")
        with bar:
            for epoch in range(args.sft_epochs):
                order = rng.permutation(len(data))
                for b in range(0, len(data), args.minibatch):
                    loss = sft_loss(policy, [data[i] for i in order[b : b + args.minibatch]])
                    step(loss)
                    bar.update(task, advance=1, stats=f"loss {loss.item():.3f}")
                log.write(epoch + 1, {"sft/loss": dist.mean(loss.item())}, name="sft.csv")
        sft_done = True
        save_checkpoint(ckpt_dir, 0, policy, optimizer, replay, state_now(0, True), dist)
        if dist.main:
            print(f"cold start: {len(data)} oracle decisions, {args.sft_epochs} epochs, final loss {loss.item():.3f}")

    # 3. Reinforcement: play groups, add them to the replay, update from the replay.
    set_lr(args.lr)
    envs = make_envs(args, args.groups * args.group_size)
    bar, task = progress(args.progress_bar and dist.main, args.iterations, start, "reinforcement")
    with bar:
        for it in range(start + 1, args.iterations + 1):
            policy.eval()
            seeds = [int(s) for s in rng.integers(0, 2**31 - 1, args.groups) for _ in range(args.group_size)]
            trajectories = play_groups(policy, envs, seeds, args, gen)
            group_advantages(trajectories, args.group_size)
            replay.add_batch(trajectories, [max(t["return"], 0.0) for t in trajectories])
            policy.train()
            stats: dict[str, float] = {}
            for _ in range(args.updates):
                batch, _, weights = replay.sample(args.replay_batch, rng)
                loss, stats = rl_loss(policy, batch, weights, args)
                step(loss)
            row = {
                "rollout/accuracy": dist.mean(float(np.mean([t["correct"] for t in trajectories]))),
                "rollout/return": dist.mean(float(np.mean([t["return"] for t in trajectories]))),
                "rollout/steps": dist.mean(float(np.mean([len(t["steps"]) for t in trajectories]))),
                "train/loss": dist.mean(float(loss.item())),
                **{f"train/{key}": dist.mean(v) for key, v in stats.items()},
                "replay/beta": replay.beta,
                "time/seconds": time.perf_counter() - t0,
            }
            log.write(it, row)
            bar.update(task, advance=1, stats=f"acc {row['rollout/accuracy']:.2f} loss {row['train/loss']:.3f}")
            if it % args.checkpoint_every == 0 or it == args.iterations:
                save_checkpoint(ckpt_dir, it, policy, optimizer, replay, state_now(it, True), dist)
    envs.close()
    log.close()

    # 5. The final policy (the same on every rank: checked) and its evaluation (rank 0).
    fingerprint = check_same_weights(policy, dist)
    with gathered(policy, dist):
        if dist.main:
            policy.save_pretrained(out / "policy")
            (out / "weights.sha256").write_text(f"{fingerprint}  {dist.world} rank(s)\n")
    if dist.main:
        path = out / "policy"
        print(f"trained in {time.perf_counter() - t0:.0f} s; saved {path}: r1gym eval {args.env_id} --agent llm:{path}")
        if args.eval_episodes:
            kwargs = env_kwargs_of(args)
            agents = [
                LLMAgent(path, name="llm_policy"),
                resolve_agent("random", seed=args.eval_seed),
                resolve_agent("greedy"),
            ]
            reports = [
                evaluate(a, args.env_id, episodes=args.eval_episodes, seed=args.eval_seed, **kwargs) for a in agents
            ]
            print(format_table(reports))
            (out / "eval.json").write_text(
                json.dumps({"env_id": args.env_id, "reports": [r.to_dict() for r in reports]}, indent=2, default=_nan)
                + "\n"
            )
    dist.barrier()
    return policy


def _nan(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else float(value)


assert set(field_docs(Args)) == {f for f in Args.__dataclass_fields__}  # every argument documents itself

if __name__ == "__main__":
    main()
