"""The LLM policy's supervised cold start: a noisy teacher's decisions, and their loss.

``agents/llm_policy.py`` starts its policy by imitation before reinforcement, as the R1 report
does; ``experiments/llm_cold_start.py`` runs the cold start alone (the ablation of docs/llm.md)
and ``tests/deepspeed_equivalence.py`` trains on the same data in one process and in two ranks.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch

from r1gym.agent_specs import resolve_agent
from r1gym.baselines import GreedyAgent
from r1gym.evaluation import REVEALED_KEYS
from r1gym.llm.policy import LLMPolicy
from r1gym.training.seeding import child, seed_of

__all__ = ["Decision", "sft_loss", "teacher_decisions"]


class Decision(NamedTuple):
    """A state the noisy teacher visited (the text observation) and the teacher's action there."""

    obs: dict[str, Any]
    action: int


def teacher_decisions(
    env_id: str,
    env_kwargs: dict[str, Any],
    episodes: int,
    seed: int | np.random.SeedSequence,
    teacher: str = "oracle",
    noise: float = 0.25,
) -> list[Decision]:
    """Every decision of ``episodes`` episodes of ``env_id`` (text observations) played by a
    noisy teacher, labelled with the teacher's action.

    The teacher is the oracle (``"oracle"``: it follows the answer key, read through
    ``reveal=True``) or an agent spec such as ``"backtrack"``. With probability ``noise`` the
    episodes take another action than the teacher's: half the time the most confident allowed
    candidate (the mistake a greedy learner makes: a convincing wrong step, and after backing out
    of it, the same step again), half the time a random allowed candidate; every state visited
    is labelled with the teacher's action, as in DAgger. Without the noise an oracle never
    leaves the reference path, and the cold start would never see what to do after a wrong step.

    ``seed`` (an int or a seed sequence) seeds the noise, the teacher and each episode, through
    separate children of ``SeedSequence(seed)``.
    """
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"--sft-noise is a probability: give a number in [0, 1], not {noise}")
    seeds = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    env = gym.make(env_id, obs_mode="text", reveal=True, **env_kwargs)
    agent = None if teacher == "oracle" else resolve_agent(teacher, seed=seed_of(child(seeds, 1)))
    if agent is not None and hasattr(agent, "attach"):
        agent.attach(env)
    rng = np.random.default_rng(child(seeds, 0))
    k = env.unwrapped.num_candidates
    greedy = GreedyAgent()
    out = []
    for ep in range(episodes):
        obs, info = env.reset(seed=seed_of(child(seeds, 2, ep)))
        if agent is not None and hasattr(agent, "reset"):
            agent.reset()
        done = False
        while not done:
            if agent is None:
                label = int(info["oracle_action"])
            else:
                label = int(agent.act(obs, {key: v for key, v in info.items() if key not in REVEALED_KEYS}))
            out.append(Decision(obs, label))
            legal = np.flatnonzero(obs["action_mask"][:k])
            action = label
            if len(legal) and rng.random() < noise:
                action = greedy.act(obs, info) if rng.random() < 0.5 else int(rng.choice(legal))
            obs, _, term, trunc, info = env.step(action)
            done = term or trunc
    env.close()
    return out


def sft_loss(policy: LLMPolicy, batch: list[Decision]) -> torch.Tensor:
    """Cross-entropy of the teacher's actions under the policy's masked distribution, the mean
    over ``batch``."""
    logp, _ = policy.distribution([d.obs for d in batch])
    actions = torch.tensor([d.action for d in batch])
    return -logp[torch.arange(len(batch)), actions].mean()
