"""Decision latency of the LLM policy: the report's three levers against the naive path.

Naive: one decision at a time, the whole prompt run every time, fp32. Optimized: the decisions of
16 environments in one forward pass, the shared instruction's key-value cache reused, int8
dynamic quantization of the decoder. Same model (a Llama of 4 layers, width 256, built from a
config with r1gym's tokenizer: random weights, so nothing is downloaded), same 16 text
observations of R1Arith-v0, one torch thread. The figure is milliseconds per decision; the
optimized benchmark names the naive one as its reference, so the conftest prints the ratio.
Each lever alone is measured too. The int8 path's action agreement with fp32 is measured on 256
observations and stored in ``extra_info``.

    pytest benchmarks/test_llm_speed.py --benchmark-enable --benchmark-only
"""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import r1gym  # noqa: E402,F401
from r1gym.llm.agent import LLMAgent, quantize_int8  # noqa: E402
from r1gym.llm.policy import new_policy  # noqa: E402

BATCH = 16
MODEL = {"hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 4, "num_attention_heads": 8, "num_key_value_heads": 8}


def _observations(n: int, seed: int = 0) -> list[dict]:
    """Text observations from n seeded episodes, each a few random steps in."""
    env = gym.make("R1Arith-v0", obs_mode="text")
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        obs, _ = env.reset(seed=seed + i)
        for _ in range(int(rng.integers(0, 3))):
            legal = np.flatnonzero(obs["action_mask"][:4])
            if not len(legal):
                break
            obs, _, term, trunc, _ = env.step(int(rng.choice(legal)))
            if term or trunc:
                obs, _ = env.reset(seed=seed + 10_000 + i)
        out.append(obs)
    return out


@pytest.fixture(scope="module")
def setup():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    policy = new_policy(4, seed=0, **MODEL).eval()
    fp32 = LLMAgent(policy, prefix_cache=False)
    int8 = LLMAgent(quantize_int8(copy.deepcopy(policy)), prefix_cache=True)
    yield fp32, int8, _observations(BATCH)
    torch.set_num_threads(threads)


def _per_decision(benchmark, fn, n: int, **extra) -> None:
    benchmark.extra_info.update(extra)
    benchmark.extra_info["decisions_per_call"] = n
    benchmark.pedantic(fn, rounds=5, iterations=1, warmup_rounds=1)


def test_naive(benchmark, setup) -> None:
    """One decision at a time, no cache, fp32: 16 forward passes per call."""
    fp32, _, obs = setup
    fp32.prefix_cache = False
    _per_decision(benchmark, lambda: [fp32.decide([o]) for o in obs], BATCH)


@pytest.mark.parametrize("lever", ["batching", "prefix_cache", "int8"])
def test_one_lever(benchmark, setup, lever: str) -> None:
    fp32, int8, obs = setup
    if lever == "batching":
        fp32.prefix_cache = False
        fn = lambda: fp32.decide(obs)  # noqa: E731
    elif lever == "prefix_cache":
        fp32.prefix_cache = True
        fn = lambda: [fp32.decide([o]) for o in obs]  # noqa: E731
    else:
        int8.prefix_cache = False
        fn = lambda: [int8.decide([o]) for o in obs]  # noqa: E731
    _per_decision(benchmark, fn, BATCH, reference="test_naive")


def test_optimized(benchmark, setup) -> None:
    """All three: 16 decisions in one pass, the prefix cache, int8."""
    fp32, int8, obs = setup
    int8.prefix_cache = True
    many = _observations(256, seed=1)
    a = np.concatenate([fp32.decide(many[i : i + 32]) for i in range(0, 256, 32)])
    b = np.concatenate([int8.decide(many[i : i + 32]) for i in range(0, 256, 32)])
    agreement = float((a == b).mean())
    _per_decision(benchmark, lambda: int8.decide(obs), BATCH, reference="test_naive", int8_action_agreement=agreement)
    assert 0.0 <= agreement <= 1.0
