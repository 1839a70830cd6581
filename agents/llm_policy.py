"""The LLM policy: a causal LM that reads the reasoning state and learns when to expand, backtrack
and submit, trained by a supervised cold start and then reinforcement, as the R1 report does.

    python agents/llm_policy.py --env-id R1Arith-v0 --out runs/llm        # tiny model, plain PyTorch
    python agents/llm_policy.py --config llm_policy.R1Arith-v0           # the settings in agents/configs/
    python agents/llm_policy.py --model /path/to/local/model ...         # any local causal LM
    DS_ACCELERATOR=cpu deepspeed --num_gpus 2 agents/llm_policy.py --deepspeed-config agents/configs/ds_zero2.json ...
    r1gym eval R1Arith-v0 --agent llm:runs/llm/policy                   # evaluate the saved policy

Read top to bottom:

1. **The policy** (``r1gym.llm.policy.LLMPolicy``) reads ``format_prompt(obs, style="ranked")``:
   the question and the path so far, then the candidates least confident first, each line ending
   with its confidence and its action token ``<expand_i>``, then ``Action:``. ``<backtrack>`` and
   ``<submit>`` are scored by their logits as the next token after ``Action:``; each candidate by
   a linear pointer head on the hidden state at its own ``<expand_i>`` token (the default
   ``action_head="pointer"``; ``"lm"`` scores candidates as next tokens too). Actions the mask
   forbids get ``-inf``; a linear value head on the last hidden state estimates the return. By
   default a tiny Llama built from a config with r1gym's shipped tokenizer; ``--model DIR`` takes
   any local ``transformers`` causal LM (action tokens are added to its vocabulary).
2. **Cold start** (``r1gym.training.cold_start``): supervised learning (cross-entropy) on the
   teacher's actions (``--teacher``: the oracle, or a baseline) over ``--sft-episodes`` episodes
   played by a noisy teacher with ``reveal=True``.
3. **Reinforcement** (``--iterations`` rounds, in this file): ``--groups`` problems, each played
   ``--group-size`` times by sampling from the policy in one vector env (the copies of a group
   are reset with the same seed, so they face the same problem and tree); each trajectory's
   advantage is its return normalized within its group, ``(R - mean) / (std + 1e-4)``, as in
   GRPO. Trajectories go into ``r1gym.replay.PrioritizedReplay`` (``P(i) ~ (r_i + eps)^0.7``,
   r_i the return floored at 0); each update draws ``--replay-batch`` trajectories from it and
   minimizes the PPO-clipped policy loss of their steps, weighted by the importance weights,
   plus a value loss and minus an entropy bonus.
4. **Scale** (``r1gym.training.distributed``): ``--deepspeed-config`` (under the ``deepspeed``
   launcher) wraps the same model and optimizer with DeepSpeed (ZeRO 1-3, bf16 on GPUs, fp32 on
   CPU); every rank plays its own rollouts (its own streams of ``SeedSequence(--seed)``) and
   DeepSpeed averages the gradients. The ranks run the same collectives whatever their data
   (the cold start keeps as many decisions as the rank with the fewest; under ZeRO-3 the
   rollouts step together), and a rank kept waiting longer than ``--dist-timeout`` fails with
   an error naming the step.
5. **Bookkeeping** (``r1gym.training``): progress bar, ``progress.csv`` and TensorBoard
   (``tb/``), a checkpoint every ``--checkpoint-every`` iterations (the same command resumes
   from the newest complete one), the final policy in ``<out>/policy`` and its evaluation
   against random and greedy.

See docs/llm.md for the choices and the measured figures.
"""

from __future__ import annotations

import math
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, NamedTuple

import gymnasium as gym
import numpy as np
import torch

from r1gym.agent_specs import resolve_agent
from r1gym.core.vector import obs_at
from r1gym.evaluation import evaluate
from r1gym.llm.agent import LLMAgent
from r1gym.llm.policy import LLMPolicy, new_policy
from r1gym.replay import PrioritizedReplay
from r1gym.training.args import RunArgs, env_kwargs_of, parse_args
from r1gym.training.checkpoints import latest_checkpoint, load_checkpoint, save_checkpoint
from r1gym.training.cold_start import sft_loss, teacher_decisions
from r1gym.training.distributed import (
    DEFAULT_TIMEOUT_S,
    Dist,
    check_same_weights,
    gathered,
    optimizer_step,
    setup_deepspeed,
)
from r1gym.training.evaluation import baselines, final_evaluation
from r1gym.training.logs import ProgressLog, progress_bar
from r1gym.training.runs import start_run
from r1gym.training.seeding import child, rank_seeds, seed_of

CONFIGS = Path(__file__).resolve().parent / "configs"
#: how a trajectory's return becomes its advantage (--advantage; see group_advantages)
ADVANTAGES = ("group", "mean", "batch")


@dataclass
class Args(RunArgs):
    """The run's arguments (environment, seed, --out, evaluation) come from RunArgs."""

    env_id: str = "R1Arith-v0"
    """the environment id (played in obs_mode="text")"""
    difficulty: str | None = "medium"
    curriculum: bool = False
    """wrap the environment in r1gym's CurriculumWrapper (the report's staged curriculum by default)"""
    model: str | None = None
    """a local transformers causal LM directory; default: a tiny Llama built from a config with r1gym's tokenizer"""
    hidden_size: int = 96
    """hidden size of the tiny model (ignored with --model)"""
    num_layers: int = 2
    """decoder layers of the tiny model (ignored with --model)"""
    init: str | None = None
    """start from this saved policy (the ``policy`` folder of an earlier run, ``LLMPolicy.save_pretrained``)
    instead of new weights; the cold start is then skipped whatever --sft-episodes says: reinforcement of one cold
    start under several settings"""
    sft_episodes: int = 2000
    """teacher episodes of the supervised cold start (0: no cold start: RL alone from the initial weights, R1-Zero)"""
    teacher: str = "oracle"
    """whose actions the cold start imitates: oracle (reads the answer key), or a baseline (greedy, backtrack)"""
    sft_noise: float = 0.25
    """probability that the cold start's episodes take the most confident or a random candidate instead of the
    teacher's action (the state is still labelled with the teacher's)"""
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
    advantage: str = "group"
    """how a return becomes an advantage, after subtracting its group's mean: "group" divides by the group's standard
    deviation (GRPO), "mean" does not (Dr. GRPO), "batch" divides by the round's standard deviation"""
    replay_capacity: int = 4096
    """trajectories the prioritized replay keeps"""
    on_policy: bool = False
    """GRPO without replay: each round's --updates passes go over that round's own trajectories (in batches of
    --replay-batch), and the replay is not used"""
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
    kl_coef: float = 0.0
    """weight of the KL divergence from the reference policy, the one reinforcement started from (after the cold
    start, or --init), computed exactly over the K + 2 actions of every step: GRPO's KL penalty (DeepSeekMath). The
    reference is saved in <out>/reference when the reinforcement starts"""
    max_grad_norm: float = 1.0
    """gradient norm clip"""
    minibatch: int = 16
    """decisions per cold-start batch (an RL update forwards all steps of its --replay-batch trajectories at once)"""
    eval_every: int = 0
    """every this many rounds (and before the first), the greedy policy's accuracy on the first --curve-episodes
    episodes of the final evaluation (from --eval-seed) goes into progress.csv as eval/accuracy: a learning curve
    on held-out problems (0: none)"""
    curve_episodes: int = 100
    """episodes of each point of the --eval-every learning curve"""
    checkpoint_every: int = 10
    """save a checkpoint every this many rounds (and after the cold start and at the end)"""
    deepspeed_config: str | None = None
    """a DeepSpeed JSON config (agents/configs/ds_zero*.json): train under the deepspeed launcher"""
    dist_timeout: float = DEFAULT_TIMEOUT_S
    """seconds a rank waits in a collective for the other ranks before the run fails with an error naming the
    step (ranks out of step would otherwise wait for ever); raise it if a rank can compute longer than that alone"""
    local_rank: int = -1
    """set by the deepspeed launcher"""

    RESUMABLE: ClassVar[frozenset[str]] = RunArgs.RESUMABLE | {
        "iterations",
        "checkpoint_every",
        "local_rank",
        "dist_timeout",
        "eval_every",
        "curve_episodes",
    }

    def validate(self) -> None:
        super().validate()
        if not 0.0 <= self.sft_noise <= 1.0:
            raise ValueError(f"--sft-noise is a probability: give a number in [0, 1], not {self.sft_noise}")
        for flag, value in [
            ("--sft-epochs", self.sft_epochs),
            ("--minibatch", self.minibatch),
            ("--groups", self.groups),
            ("--group-size", self.group_size),
            ("--replay-batch", self.replay_batch),
            ("--updates", self.updates),
            ("--checkpoint-every", self.checkpoint_every),
            ("--curve-episodes", self.curve_episodes),
        ]:
            if value < 1:
                raise ValueError(f"{flag} must be >= 1, got {value}")
        if self.sft_episodes < 0 or self.iterations < 0:
            raise ValueError(
                f"--sft-episodes and --iterations must be >= 0, got {self.sft_episodes}, {self.iterations}"
            )
        if self.kl_coef < 0 or self.value_coef < 0 or self.entropy_coef < 0:
            raise ValueError(
                "--kl-coef, --value-coef and --entropy-coef are weights of the loss: give numbers >= 0, not "
                f"{self.kl_coef}, {self.value_coef}, {self.entropy_coef}"
            )
        if self.advantage not in ADVANTAGES:
            raise ValueError(f"--advantage must be one of {', '.join(ADVANTAGES)}, not {self.advantage!r}")
        if self.eval_every < 0:
            raise ValueError(f"--eval-every must be >= 0 (0: no learning curve), got {self.eval_every}")
        if self.init is not None and not Path(self.init).is_dir():
            raise ValueError(
                f"--init {self.init}: no such folder; give the policy folder an earlier run saved (<out>/policy)"
            )
        if self.temperature <= 0:
            raise ValueError(f"--temperature must be > 0, got {self.temperature}")
        if not self.dist_timeout > 0:
            raise ValueError(f"--dist-timeout must be > 0 seconds, got {self.dist_timeout}")
        if self.teacher != "oracle":
            resolve_agent(self.teacher)  # an unknown teacher fails here, not after the model is built
        if self.deepspeed_config is None and int(os.environ.get("WORLD_SIZE", "1")) > 1:
            raise ValueError("several ranks (WORLD_SIZE > 1) need --deepspeed-config")


# --------------------------------------------------------------------------------------------
# Playing: groups of rollouts sampled from the policy
# --------------------------------------------------------------------------------------------


class Step(NamedTuple):
    """One decision of a rollout, as the update needs it."""

    suffix: list[int]
    """the prompt's token ids (``policy.encode``)"""
    mask: np.ndarray
    """the legal actions (bool, K + 2)"""
    action: int
    logp: float
    """the log-probability of ``action`` when it was sampled (the PPO ratio's denominator)"""


class Trajectory(NamedTuple):
    """One rollout: its decisions, its return, whether it was right, its advantage within its
    group (0 until :func:`group_advantages`) and the round that played it (its age in the replay)."""

    steps: list[Step]
    episode_return: float
    correct: bool
    advantage: float = 0.0
    played_at: int = 0


def make_envs(args: Args, n: int) -> gym.vector.VectorEnv:
    """``n`` copies of the environment with text observations (and the curriculum wrapper)."""
    kwargs = {**env_kwargs_of(args), "obs_mode": "text"}
    wrappers = []
    if args.curriculum:
        from r1gym.wrappers import CurriculumWrapper

        wrappers.append(lambda env: CurriculumWrapper(env))
    return gym.make_vec(args.env_id, num_envs=n, vectorization_mode="sync", wrappers=wrappers, **kwargs)


@torch.no_grad()
def play_groups(
    policy: LLMPolicy,
    envs: gym.vector.VectorEnv,
    seeds: list[int],
    args: Args,
    gen: torch.Generator,
    dist: Dist | None = None,
) -> list[Trajectory]:
    """One episode per copy, sampling from the policy; copies of a group share a seed.

    Decisions of all unfinished copies are batched into one forward pass. A copy that has
    finished submits (always allowed) while the others play on; what it plays then is dropped.
    Where a forward pass is a collective (ZeRO-3, ``dist.forward_collectives``) the ranks step
    together until every rank's copies have finished: a rank whose copies all have repeats a
    forward pass whose output it drops (it draws no sample: its results are unchanged).
    """
    n = envs.num_envs
    obs, _ = envs.reset(seed=seeds)
    steps: list[list[Step]] = [[] for _ in range(n)]
    returns = [0.0] * n
    correct = [False] * n
    done = [False] * n
    k = policy.num_candidates
    lockstep = dist is not None and dist.forward_collectives
    while True:
        playing = not all(done)
        if lockstep:
            if not dist.greatest(int(playing)):  # type: ignore[union-attr]
                break  # every rank has finished
            if not playing:  # finished here: keep the other ranks' parameter gathers company
                policy([steps[0][-1].suffix])
                continue
        elif not playing:
            break
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
            mask = np.asarray(observations[j]["action_mask"], dtype=bool)
            steps[i].append(Step(suffixes[j], mask, actions[i], float(logp[j, picked[j]])))
        obs, rewards, terms, truncs, infos = envs.step(actions)
        for i in live:
            returns[i] += float(rewards[i])
            if terms[i] or truncs[i]:
                done[i] = True
                correct[i] = bool(terms[i] and infos["is_correct"][i])
    envs.step(np.full(n, k + 1, dtype=np.int64))  # the finished copies' pending autoreset
    return [Trajectory(steps[i], returns[i], correct[i]) for i in range(n)]


def group_advantages(trajectories: list[Trajectory], group_size: int, kind: str = "group") -> list[Trajectory]:
    """Each trajectory's advantage: its return minus its group's mean return, then

    * ``"group"`` (GRPO, DeepSeekMath): divided by the group's standard deviation (+ 1e-4);
    * ``"mean"`` (Dr. GRPO, Liu et al. 2025): not divided;
    * ``"batch"``: divided by the standard deviation of every trajectory's centred return in the
      round (+ 1e-4), so the scale is 1 as with ``"group"``, but a group whose returns barely
      differ keeps small advantages.

    Why it matters here: in a group whose attempts are all right, the returns differ only by the
    efficiency and novelty terms (a few hundredths), and ``"group"`` blows those differences up
    to the same unit scale as right against wrong.
    """
    if kind not in ADVANTAGES:
        raise ValueError(f"unknown advantage {kind!r}; choose among {', '.join(ADVANTAGES)}")
    centred = []
    for g in range(0, len(trajectories), group_size):
        r = np.array([t.episode_return for t in trajectories[g : g + group_size]])
        c = r - r.mean()
        centred.append(c / (r.std() + 1e-4) if kind == "group" else c)
    adv = np.concatenate(centred) if centred else np.zeros(0)
    if kind == "batch":
        adv = adv / (adv.std() + 1e-4)
    return [t._replace(advantage=float(a)) for t, a in zip(trajectories, adv)]


def update_batches(
    trajectories: list[Trajectory], replay: PrioritizedReplay, args: Args, rng: np.random.Generator
) -> list[tuple[list[Trajectory], np.ndarray]]:
    """The batches of one round's updates, with their importance weights.

    From the replay (the default): the round's trajectories join it (priority
    ``max(return, 0)``), then ``--updates`` batches of ``--replay-batch`` are drawn by priority.
    On-policy (``--on-policy``): ``--updates`` passes over the round's own trajectories, shuffled,
    in batches of ``--replay-batch``, every weight 1; the replay is left alone. Every rank makes
    as many batches (its trajectories are as many), so the updates stay collective.
    """
    if not args.on_policy:
        replay.add_batch(trajectories, [max(t.episode_return, 0.0) for t in trajectories])
        out = []
        for _ in range(args.updates):
            batch, _, weights = replay.sample(args.replay_batch, rng)
            out.append((batch, weights))
        return out
    out = []
    for _ in range(args.updates):
        order = rng.permutation(len(trajectories))
        for b in range(0, len(order), args.replay_batch):
            batch = [trajectories[i] for i in order[b : b + args.replay_batch]]
            out.append((batch, np.ones(len(batch))))
    return out


# --------------------------------------------------------------------------------------------
# The reinforcement loss
# --------------------------------------------------------------------------------------------


def rl_loss(
    policy: LLMPolicy,
    trajectories: list[Trajectory],
    weights: np.ndarray,
    args: Args,
    reference: LLMPolicy | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """PPO-clipped policy loss over the trajectories' steps, each weighted by its trajectory's
    importance weight; value loss against the return; entropy bonus; with a ``reference``, the
    exact KL divergence ``KL(policy || reference)`` over the allowed actions times
    ``--kl-coef``. Means over steps."""
    steps = [s for t in trajectories for s in t.steps]
    lengths = torch.tensor([len(t.steps) for t in trajectories])

    def per_step(values: object) -> torch.Tensor:  # a value per trajectory, repeated for its steps
        return torch.tensor(values, dtype=torch.float32).repeat_interleave(lengths)

    masks = torch.as_tensor(np.stack([s.mask for s in steps]))
    actions = torch.tensor([s.action for s in steps])
    old_logp = torch.tensor([s.logp for s in steps])
    adv = per_step([t.advantage for t in trajectories])
    ret = per_step([t.episode_return for t in trajectories])
    w = per_step(weights)
    logits, values = policy([s.suffix for s in steps])
    # the distribution the rollouts sampled from (at --temperature), so that the ratio compares like with like
    logp_all = torch.log_softmax(logits.masked_fill(~masks, float("-inf")) / args.temperature, -1)
    logp = logp_all[torch.arange(len(steps)), actions]
    ratio = torch.exp(logp - old_logp)
    pg = -torch.min(ratio * adv, torch.clamp(ratio, 1 - args.clip, 1 + args.clip) * adv)
    probs = logp_all.exp()
    entropy = -(probs * logp_all.masked_fill(~masks, 0.0)).sum(-1)
    loss = (w * pg).mean() + args.value_coef * (w * (values - ret) ** 2).mean() - args.entropy_coef * entropy.mean()
    kl = torch.zeros(())
    if reference is not None:
        with torch.no_grad():
            ref_logits, _ = reference([s.suffix for s in steps])
            ref_logp = torch.log_softmax(ref_logits.masked_fill(~masks, float("-inf")) / args.temperature, -1)
        kl = (probs * (logp_all - ref_logp).masked_fill(~masks, 0.0)).sum(-1)
        loss = loss + args.kl_coef * (w * kl).mean()
    with torch.no_grad():
        stats = {
            "policy_loss": float(pg.mean()),
            "value_loss": float(((values - ret) ** 2).mean()),
            "entropy": float(entropy.mean()),
            "clip_fraction": float(((ratio - 1).abs() > args.clip).float().mean()),
            # KL(old || new) estimated from the ratio (Schulman's k3): how far the policy has moved
            # from the one that played the steps
            "approx_kl": float(((ratio - 1) - torch.log(ratio)).mean()),
            "adv_abs": float(adv.abs().mean()),
            "is_weight_mean": float(w.mean()),
            "correct_share": float(np.mean([t.correct for t in trajectories])),
            "kl_reference": float(kl.mean()),
        }
    return loss, stats


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args(Args, run_name="llm_policy", configs=CONFIGS)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the run's own bar is enough
    torch.set_num_threads(args.torch_threads)
    dist = Dist.from_env()
    out = Path(args.out)  # type: ignore[arg-type]
    ckpt_dir = out / "checkpoints"

    # Every rank draws from its own streams of SeedSequence(--seed): its own problems, samples
    # and cold-start episodes. The initial weights come from --seed alone, the same on every rank.
    seeds = rank_seeds(args.seed, dist.rank)
    random.seed(seed_of(seeds))
    np.random.seed(seed_of(seeds))
    gen = torch.Generator().manual_seed(seed_of(child(seeds, 0)))  # the rollouts' actions
    rng = np.random.default_rng(child(seeds, 1))  # the problems, the cold start's order, the replay's draws

    # 1. The policy.
    probe = gym.make(args.env_id, **env_kwargs_of(args))
    k = probe.unwrapped.num_candidates
    probe.close()
    tiny = {} if args.model else {"hidden_size": args.hidden_size, "num_hidden_layers": args.num_layers}
    if args.init is not None:
        policy = LLMPolicy.from_pretrained(args.init)
        if policy.num_candidates != k:
            raise SystemExit(
                f"--init {args.init} was trained for K = {policy.num_candidates} candidates, but {args.env_id} "
                f"shows K = {k} at this difficulty: give the difficulty it was trained at"
            )
    else:
        policy = new_policy(k, seed=args.seed, model=args.model, **tiny)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=args.sft_lr)
    if args.deepspeed_config is not None:
        policy, optimizer, dist = setup_deepspeed(
            policy, optimizer, args.deepspeed_config, args.max_grad_norm, timeout_s=args.dist_timeout
        )

    # Resume from the newest complete checkpoint (parse_args has checked that the arguments are
    # the run's), or start afresh. Every rank must resume from the same one (loading is collective).
    ckpt = latest_checkpoint(ckpt_dir)
    with dist.at("the choice of the checkpoint to resume from"):
        found = -1 if ckpt is None else int(ckpt.name.split("_")[1])
        if dist.least(found) != dist.greatest(found):
            raise RuntimeError(
                f"rank {dist.rank} found {ckpt or 'no checkpoint'} in {ckpt_dir}, but not every rank found the same "
                "newest complete checkpoint: is --out on a filesystem every rank shares?"
            )
    if ckpt is not None:
        with dist.at(f"loading {ckpt}"):
            replay, state = load_checkpoint(ckpt, policy, optimizer, dist)
        gen.set_state(state["torch_gen"])
        rng.bit_generator.state = state["np_rng"]
        start, sft_done = state["iteration"], state["sft_done"]
        if dist.main:
            print(f"resuming from {ckpt} (iteration {start})")
    else:
        beta_steps = max(1, args.iterations * args.updates)
        replay = PrioritizedReplay(
            args.replay_capacity, omega=args.omega, beta=args.replay_beta, beta_final=1.0, beta_steps=beta_steps
        )
        start, sft_done = 0, False
    if dist.main:
        start_run(args)
    log = ProgressLog(out, dist.main)

    def step(loss: torch.Tensor) -> None:
        optimizer_step(loss, policy, optimizer, dist, args.max_grad_norm)

    def set_lr(lr: float) -> None:
        for group in optimizer.param_groups:
            group["lr"] = lr

    def state_now(it: int, sft: bool) -> dict:
        return {"iteration": it, "sft_done": sft, "torch_gen": gen.get_state(), "np_rng": rng.bit_generator.state}

    # What this rank did (printed by every rank of a run with several: their data differ).
    counts = {"cold start decisions": 0, "of": 0, "rollout decisions": 0, "trajectories": 0}
    t0 = time.perf_counter()
    # 2. Cold start: imitate the teacher. The ranks' episodes make different numbers of decisions,
    # but every batch is a collective (DeepSpeed's gradient all-reduce; ZeRO-3's gathers): each
    # rank keeps as many decisions as the rank with the fewest, so all make as many batches (one
    # process keeps them all).
    if not sft_done and args.sft_episodes > 0 and args.init is None:
        data = teacher_decisions(
            args.env_id, env_kwargs_of(args), args.sft_episodes, child(seeds, 2), args.teacher, args.sft_noise
        )
        counts["of"] = len(data)
        with dist.at("the cold start's agreement on its number of decisions"):
            data = data[: dist.least(len(data))]
        counts["cold start decisions"] = len(data)
        set_lr(args.sft_lr)
        policy.train()
        n_batches = args.sft_epochs * math.ceil(len(data) / args.minibatch)
        bar, task = progress_bar(args.progress_bar and dist.main, n_batches, 0, "cold start")
        with bar:
            for epoch in range(args.sft_epochs):
                order = rng.permutation(len(data))
                for b in range(0, len(data), args.minibatch):
                    with dist.at(f"the cold start's batch {b // args.minibatch + 1} of epoch {epoch + 1}"):
                        loss = sft_loss(policy, [data[i] for i in order[b : b + args.minibatch]])
                        step(loss)
                    bar.update(task, advance=1, stats=f"loss {loss.item():.3f}")
                with dist.at(f"the cold start's log of epoch {epoch + 1}"):
                    log.write(
                        epoch + 1,
                        {"sft/loss": dist.mean(loss.item()), "time/seconds": time.perf_counter() - t0},
                        name="sft.csv",
                    )
        sft_done = True
        with dist.at("the cold start's checkpoint"):
            save_checkpoint(ckpt_dir, 0, policy, optimizer, replay, state_now(0, True), dist)
        if dist.main:
            print(
                f"cold start: {len(data)} decisions of the {args.teacher} teacher, {args.sft_epochs} epochs, "
                f"final loss {loss.item():.3f}"
            )

    # 3. Reinforcement: play groups, add them to the replay, update from the replay. Every rank
    # plays --groups x --group-size trajectories (of its own lengths), so every replay holds as
    # many trajectories, and every update is one forward and backward pass of --replay-batch of
    # them: --updates collectives per round whatever the lengths. Under ZeRO-3 a forward pass is a
    # collective too, and the rollouts step together (play_groups).
    def learning_curve(it: int) -> None:
        """Every --eval-every rounds, the policy greedy and sampled (temperature 1) on the first
        --curve-episodes held-out episodes, a row of ``curve.csv``. Every rank plays the same
        episodes (under ZeRO-3 a forward pass is a collective); the main one writes."""
        if not args.eval_every or it % args.eval_every:
            return
        policy.eval()
        row = {}
        for name, sample in [("greedy", False), ("sampled", True)]:
            policy.clear_cache()  # key-value states computed with earlier weights
            agent = LLMAgent(policy, sample=sample, seed=args.eval_seed, name=name)
            report = evaluate(
                agent, args.env_id, episodes=args.curve_episodes, seed=args.eval_seed, **env_kwargs_of(args)
            )
            row |= {f"eval/{name}_accuracy": report.accuracy, f"eval/{name}_steps": report.mean_steps}
        policy.clear_cache()
        log.write(it, {**row, "time/seconds": time.perf_counter() - t0}, name="curve.csv")

    # The reference of the KL penalty: the policy as the reinforcement starts, saved once (a resumed
    # run reads it back); every rank holds a whole copy, outside DeepSpeed (no collective).
    reference = None
    if args.kl_coef > 0:
        ref_dir = out / "reference"
        if start == 0:
            with dist.at("saving the reference policy"):
                with gathered(policy, dist):
                    if dist.main:
                        policy.save_pretrained(ref_dir)
                dist.barrier()
        reference = LLMPolicy.from_pretrained(ref_dir).eval()
        reference.requires_grad_(False)

    set_lr(args.lr)
    envs = make_envs(args, args.groups * args.group_size)
    if start == 0:
        with dist.at("the learning curve's first point"):
            learning_curve(0)
    bar, task = progress_bar(args.progress_bar and dist.main, args.iterations, start, "reinforcement")
    with bar:
        for it in range(start + 1, args.iterations + 1):
            policy.eval()
            seeds_now = [int(s) for s in rng.integers(0, 2**31 - 1, args.groups) for _ in range(args.group_size)]
            with dist.at(f"the rollouts of round {it}"):
                played = play_groups(policy, envs, seeds_now, args, gen, dist)
            trajectories = [t._replace(played_at=it) for t in group_advantages(played, args.group_size, args.advantage)]
            counts["trajectories"] += len(trajectories)
            counts["rollout decisions"] += sum(len(t.steps) for t in trajectories)
            policy.train()
            stats: dict[str, float] = {}
            for u, (batch, weights) in enumerate(update_batches(trajectories, replay, args, rng)):
                with dist.at(f"update {u + 1} of round {it}"):
                    loss, stats = rl_loss(policy, batch, weights, args, reference)
                    step(loss)
                stats["age"] = float(np.mean([it - t.played_at for t in batch]))
            with dist.at(f"the log of round {it}"):
                row = {
                    "rollout/accuracy": dist.mean(float(np.mean([t.correct for t in trajectories]))),
                    "rollout/return": dist.mean(float(np.mean([t.episode_return for t in trajectories]))),
                    "rollout/steps": dist.mean(float(np.mean([len(t.steps) for t in trajectories]))),
                    "train/loss": dist.mean(float(loss.item())),
                    **{f"train/{key}": dist.mean(v) for key, v in stats.items()},
                    "replay/beta": replay.beta,
                    "time/seconds": time.perf_counter() - t0,
                }
                learning_curve(it)
            log.write(it, row)
            bar.update(task, advance=1, stats=f"acc {row['rollout/accuracy']:.2f} loss {row['train/loss']:.3f}")
            if it % args.checkpoint_every == 0 or it == args.iterations:
                with dist.at(f"the checkpoint of round {it}"):
                    save_checkpoint(ckpt_dir, it, policy, optimizer, replay, state_now(it, True), dist)
    envs.close()
    log.close()
    if dist.world > 1:
        print(
            f"rank {dist.rank}: kept {counts['cold start decisions']} of its {counts['of']} teacher decisions; "
            f"played {counts['rollout decisions']} decisions in {counts['trajectories']} trajectories",
            flush=True,
        )

    # 5. The final policy (the same on every rank: checked), then the ranks part: rank 0
    # evaluates alone (the others would wait for it past --dist-timeout).
    with dist.at("the final check that the ranks hold the same weights"):
        fingerprint = check_same_weights(policy, dist)
        with gathered(policy, dist):
            if dist.main:
                policy.save_pretrained(out / "policy")
                (out / "weights.sha256").write_text(f"{fingerprint}  {dist.world} rank(s)\n")
        dist.close()
    if dist.main:
        path = out / "policy"
        print(f"trained in {time.perf_counter() - t0:.0f} s; saved {path}: r1gym eval {args.env_id} --agent llm:{path}")
        if args.eval_episodes:
            sampled = LLMAgent(path, sample=True, seed=args.eval_seed, name="llm_policy (sampled, T=1)")
            final_evaluation(
                [LLMAgent(path, name="llm_policy"), sampled, *baselines("random,greedy", seed=args.eval_seed)],
                args.env_id,
                env_kwargs_of(args),
                args.eval_episodes,
                args.eval_seed,
                out / "eval.json",
            )


if __name__ == "__main__":
    main()
