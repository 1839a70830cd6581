"""An :class:`~r1gym.llm.policy.LLMPolicy` as an r1gym agent, with the report's inference levers.

The R1 report cut its decision latency from 347 ms to 128 ms with three levers; each is an
option here, and ``benchmarks/test_llm_speed.py`` measures them against the naive path:

* **batching** (``act_batch``): every environment of a vector env is decided in one forward
  pass (``r1gym.evaluate(..., num_envs=N)`` calls it): with the prefix cache, the decisions' new
  tokens packed into one sequence without padding; without it, the prompts padded to the longest;
* **prefix cache** (``prefix_cache=True``): the key-value states of the shared prompt prefix are
  reused across decisions and steps: the instruction every prompt starts with is run once, and
  each node's context (question and path) is run on top of its parent's cached context, so a
  decision runs only the newest step of its path and its candidates
  (:meth:`~r1gym.llm.policy.LLMPolicy.forward_cached`);
* **int8** (``quantize="int8"``): ``torch.ao.quantization.quantize_dynamic`` on the decoder's
  linear layers (int8 weights, activations quantized on the fly; CPU only). The output rows that
  score the actions stay in fp32.

Decisions are greedy (the most probable allowed action) unless ``sample=True``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from r1gym.core.vector import obs_at
from r1gym.llm.policy import LLMPolicy

QUANTIZE = (None, "int8")


def quantize_int8(policy: LLMPolicy) -> LLMPolicy:
    """Dynamic int8 quantization of the decoder's ``nn.Linear`` layers, in place (CPU inference)."""
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates the quantized tensor API in favour of torchao
        # The decoder only: the tied output embedding (whose action rows score the actions) stays fp32.
        quantize_dynamic(policy.base, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
    policy.clear_cache()
    return policy


class LLMAgent:
    """Plays an r1gym environment in ``obs_mode="text"`` with an LLM policy.

    Args:
        policy: the policy, or a directory saved by ``LLMPolicy.save_pretrained``.
        prefix_cache: reuse the key-value states of the instruction and of earlier contexts.
        quantize: ``None`` (fp32) or ``"int8"``.
        sample: sample the action from the policy instead of taking the most probable one.
        seed: seed of the sampling.
        name: the agent's name in reports.
    """

    obs_mode = "text"

    def __init__(
        self,
        policy: LLMPolicy | str | Path,
        prefix_cache: bool = True,
        quantize: str | None = None,
        sample: bool = False,
        seed: int = 0,
        name: str | None = None,
    ) -> None:
        if quantize not in QUANTIZE:
            raise ValueError(f"quantize must be one of {QUANTIZE}, got {quantize!r}")
        if not isinstance(policy, LLMPolicy):
            path = policy
            policy = LLMPolicy.from_pretrained(path)
            name = name or f"llm:{Path(path).name}"
        self.policy = policy.eval()
        if quantize == "int8":
            quantize_int8(self.policy)
        self.prefix_cache = prefix_cache
        self.sample = sample
        self.deterministic = not sample  # evaluate(..., samples=n > 1) refuses a greedy policy: pass@k = pass@1
        self.generator = torch.Generator().manual_seed(seed)
        self.name = name or "llm"

    @property
    def num_candidates(self) -> int:
        """K of the environments the policy plays (it was trained for that many candidates)."""
        return self.policy.num_candidates

    def check_num_candidates(self, k: int) -> None:
        """Refuse an environment with ``k`` candidates a node when the policy plays another K:
        the message names both, before any decision."""
        if int(k) != self.num_candidates:
            raise ValueError(
                f"{self.name} was trained with K = {self.num_candidates} candidates, but the environment shows "
                f"K = {int(k)}; evaluate it with num_candidates={self.num_candidates} "
                f"(or the difficulty it was trained at), or train a policy for K = {int(k)}"
            )

    def reset(self) -> None:
        pass

    @torch.no_grad()
    def decide(self, observations: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Actions for a list of text observations, in one forward pass."""
        for obs in observations:  # first contact with the environment: its K must be the policy's
            self.check_num_candidates(len(obs["action_mask"]) - 2)
        logp, _ = self.policy.distribution(observations, prefix_cache=self.prefix_cache)
        if self.sample:
            return torch.multinomial(logp.exp(), 1, generator=self.generator).squeeze(-1).numpy()
        return logp.argmax(-1).numpy()

    def act(self, obs: Mapping[str, Any], info: Mapping[str, Any] | None = None) -> int:
        return int(self.decide([obs])[0])

    def act_batch(self, obs: Mapping[str, Any], infos: Sequence[Mapping[str, Any]] | None = None) -> np.ndarray:
        """Actions for a vector env's batched text observation (one forward pass for all)."""
        n = len(obs["action_mask"])
        return self.decide([obs_at(obs, i) for i in range(n)])
