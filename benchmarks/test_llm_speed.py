"""Decision latency of the LLM policy: the report's three levers against the naive path.

The workload is what an evaluation does: 16 environments each play one episode, decision after
decision (a seeded behaviour that mostly follows the confidence and sometimes takes another
candidate or backtracks, so paths grow, branch and shrink as they do in play). Every benchmark
round decides the same recorded observations in the same order, step by step across the 16
environments, and starts from empty caches.

* naive: one decision at a time, the whole prompt run every time, fp32;
* batching: the decisions of all the environments still playing at a step in one forward pass;
* cache: the key-value states of the instruction and of each context (question and path) are
  kept, so a decision runs only its newest path line and its candidates (``prefix_cache=True``;
  the new tokens of the decisions of a call run packed into one sequence, without padding);
* int8: dynamic int8 quantization of the decoder's linear layers;
* optimized: all three.

Same model (a Llama of 4 layers, width 256, built from a config with r1gym's tokenizer: random
weights, nothing downloaded), one torch thread. Each lever and the optimized path name the
naive benchmark as their reference, so the conftest prints the ratio; R1Math-v0 (longer
questions) is measured too. The int8 path's action agreement with fp32 is measured on the
decisions of 64 episodes and stored in ``extra_info`` (random weights, whose scores lie close
together: a trained policy agrees more, see docs/llm.md).

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
from r1gym.baselines import GreedyAgent  # noqa: E402
from r1gym.llm.agent import LLMAgent, quantize_int8  # noqa: E402
from r1gym.llm.policy import new_policy  # noqa: E402

ENVS = 16
MODEL = {
    "hidden_size": 256,
    "intermediate_size": 512,
    "num_hidden_layers": 4,
    "num_attention_heads": 8,
    "num_key_value_heads": 8,
}


def episodes(env_id: str, n: int, seed: int = 0) -> list[list[dict]]:
    """The text observations of n seeded episodes, one list per episode (decision order)."""
    env = gym.make(env_id, obs_mode="text")
    k = env.unwrapped.num_candidates
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        obs, _ = env.reset(seed=seed + i)
        played, done = [], False
        while not done:
            played.append(obs)
            legal = np.flatnonzero(obs["action_mask"][:k])
            u = rng.random()
            if not len(legal):
                action = k + 1
            elif u < 0.15 and obs["action_mask"][k]:
                action = k
            elif u < 0.3:
                action = int(rng.choice(legal))
            else:
                action = GreedyAgent().act(obs, {})
            obs, _, term, trunc, _ = env.step(action)
            done = term or trunc
        out.append(played)
    return out


def by_step(eps: list[list[dict]]) -> list[list[dict]]:
    """The decisions grouped by step: at step t, the t-th observation of every episode that lasts."""
    return [[e[t] for e in eps if t < len(e)] for t in range(max(map(len, eps)))]


@pytest.fixture(scope="module")
def setup():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    policy = new_policy(4, seed=0, **MODEL).eval()
    # The pointer head starts at zero (every candidate scores alike, so int8 could not disagree):
    # give it random weights, logits of about unit scale, so the agreement below means something.
    torch.nn.init.normal_(policy.pointer_head.weight, std=MODEL["hidden_size"] ** -0.5)
    fp32 = LLMAgent(policy, prefix_cache=False)
    int8 = LLMAgent(quantize_int8(copy.deepcopy(policy)), prefix_cache=True)
    work = {env_id: by_step(episodes(env_id, ENVS)) for env_id in ("R1Arith-v0", "R1Math-v0")}
    yield fp32, int8, work
    torch.set_num_threads(threads)


def run(agent: LLMAgent, steps: list[list[dict]], batched: bool) -> None:
    agent.policy.clear_cache()
    for batch in steps:
        if batched:
            agent.decide(batch)
        else:
            for obs in batch:
                agent.decide([obs])


def _bench(benchmark, fn, steps: list[list[dict]], **extra) -> None:
    benchmark.extra_info.update(extra)
    benchmark.extra_info["decisions_per_call"] = sum(map(len, steps))
    benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("env_id", ["R1Arith-v0", "R1Math-v0"])
def test_naive(benchmark, setup, env_id: str) -> None:
    """One decision at a time, no cache, fp32."""
    fp32, _, work = setup
    fp32.prefix_cache = False
    _bench(benchmark, lambda: run(fp32, work[env_id], batched=False), work[env_id])


@pytest.mark.parametrize("lever", ["batching", "cache", "int8"])
def test_one_lever(benchmark, setup, lever: str) -> None:
    fp32, int8, work = setup
    steps = work["R1Arith-v0"]
    agent = int8 if lever == "int8" else fp32
    agent.prefix_cache = lever == "cache"
    _bench(
        benchmark,
        lambda: run(agent, steps, batched=lever == "batching"),
        steps,
        reference="test_naive[R1Arith-v0]",
    )


@pytest.mark.parametrize("env_id", ["R1Arith-v0", "R1Math-v0"])
def test_optimized(benchmark, setup, env_id: str) -> None:
    """All three: each step's decisions in one pass, the context cache, int8."""
    fp32, int8, work = setup
    fp32.prefix_cache = int8.prefix_cache = True
    many = [o for e in episodes(env_id, 64, seed=1) for o in e]
    a = np.concatenate([fp32.decide(many[i : i + 32]) for i in range(0, len(many), 32)])
    b = np.concatenate([int8.decide(many[i : i + 32]) for i in range(0, len(many), 32)])
    agreement = float((a == b).mean())
    _bench(
        benchmark,
        lambda: run(int8, work[env_id], batched=True),
        work[env_id],
        reference=f"test_naive[{env_id}]",
        int8_action_agreement=agreement,
        agreement_decisions=len(many),
    )
    assert 0.0 <= agreement <= 1.0
