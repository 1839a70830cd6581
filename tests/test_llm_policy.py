"""The LLM policy (r1gym.llm) and its training script (agents/llm_policy.py), with tiny models
built from a config and the shipped tokenizer: nothing is downloaded."""

from __future__ import annotations

import csv
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch

import r1gym  # noqa: F401
from r1gym.agent_specs import resolve_agent
from r1gym.evaluation import evaluate
from r1gym.llm.agent import LLMAgent
from r1gym.llm.policy import LLMPolicy, new_policy
from r1gym.training.cold_start import teacher_decisions
from r1gym.training.seeding import child, rank_seeds, seed_of

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "agents" / "llm_policy.py"
TINY = ["--hidden-size", "32", "--num-layers", "1", "--no-progress-bar", "--torch-threads", "1"]


def _observations(n: int, env_id: str = "R1Arith-v0") -> list[dict]:
    env = gym.make(env_id, obs_mode="text")
    out = []
    for s in range(n):
        obs, _ = env.reset(seed=s)
        out.append(obs)
        obs, *_ = env.step(0)
        out.append(obs)
    return out


@pytest.fixture(scope="module")
def policy() -> LLMPolicy:
    torch.manual_seed(0)
    return new_policy(4, seed=0, hidden_size=32, num_hidden_layers=1).eval()


def test_masked_distribution_and_value(policy: LLMPolicy) -> None:
    obs = _observations(3)
    with torch.no_grad():
        logp, values = policy.distribution(obs)
    masks = policy.masks(obs)
    assert logp.shape == (6, 6) and values.shape == (6,)
    assert torch.isinf(logp[~masks]).all() and torch.isfinite(logp[masks]).all()
    assert torch.allclose(logp.exp().sum(-1), torch.ones(6), atol=1e-5)


def test_cache_and_batching_change_nothing(policy: LLMPolicy) -> None:
    obs = _observations(4)
    with torch.no_grad():
        plain, v1 = policy(policy.encode(obs))
        cached, v2 = policy.forward_cached(policy.encode_parts(obs))
        one = torch.cat([policy(policy.encode([o]))[0] for o in obs])
    assert torch.allclose(plain, cached, atol=1e-5) and torch.allclose(v1, v2, atol=1e-5)
    assert torch.allclose(plain, one, atol=1e-5)


def _episode_observations(episodes: int, backtrack: float = 0.3) -> list[dict]:
    env = gym.make("R1Arith-v0", obs_mode="text")
    rng = np.random.default_rng(0)
    seen = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=ep)
        done = False
        while not done:
            seen.append(obs)
            legal = np.flatnonzero(obs["action_mask"][:4])
            u = rng.random()
            action = 4 if (u < backtrack and obs["action_mask"][4]) else (int(rng.choice(legal)) if len(legal) else 5)
            obs, _, term, trunc, _ = env.step(action)
            done = term or trunc
    return seen


@pytest.mark.parametrize("head", ["pointer", "lm"])
def test_context_cache_follows_episodes_through_backtracks(head: str) -> None:
    """Decisions along episodes (steps, backtracks, revisits) with the context cache, one at a
    time and batched, equal the uncached ones; the cache stays within its size."""
    policy = new_policy(4, seed=1, hidden_size=32, num_hidden_layers=2).eval()
    policy.action_head = head
    torch.nn.init.normal_(policy.pointer_head.weight)  # zero at the start: make it count
    policy.cache_size = 8
    seen = _episode_observations(4)
    assert any(o["action_mask"][4] and o["progress"][2] > 0 for o in seen)  # some backtracks happened
    with torch.no_grad():
        plain, _ = policy(policy.encode(seen))
        policy.clear_cache()
        one = torch.cat([policy.forward_cached(policy.encode_parts([o]))[0] for o in seen])
        assert 0 < len(policy._kv_cache) <= 8
        batched, _ = policy.forward_cached(policy.encode_parts(seen))
    assert torch.allclose(plain, one, atol=1e-5) and torch.allclose(plain, batched, atol=1e-5)


def _other_lm(kind: str, vocab: int, **qwen2: Any) -> torch.nn.Module:
    """A tiny GPT-2, or a tiny Qwen2 with grouped-query attention (4 query heads share 2
    key-value heads; ``qwen2`` overrides its config)."""
    from transformers import GPT2Config, GPT2LMHeadModel, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    if kind == "gpt2":
        return GPT2LMHeadModel(GPT2Config(vocab_size=vocab, n_embd=32, n_layer=2, n_head=2, n_positions=1024))
    config = {
        "vocab_size": vocab,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 1024,
    }
    return Qwen2ForCausalLM(Qwen2Config(**{**config, **qwen2}))


@pytest.mark.parametrize("kind", ["gpt2", "qwen2-gqa"])
def test_packed_cached_decisions_equal_the_full_forward_on_other_architectures(kind: str) -> None:
    """GPT-2 (learned positions, fused attention projection) and Qwen2 with grouped-query attention
    run packed cached decisions that equal the uncached forward, and their contexts are cached."""
    from r1gym.tokenizer import load_tokenizer

    tokenizer = load_tokenizer()
    policy = LLMPolicy(_other_lm(kind, len(tokenizer)), tokenizer, 4).eval()
    torch.nn.init.normal_(policy.pointer_head.weight)
    assert policy._packable
    seen = _episode_observations(2)
    with torch.no_grad():
        plain, v1 = policy(policy.encode(seen))
        one = torch.cat([policy.forward_cached(policy.encode_parts([o]))[0] for o in seen])
        assert len(policy._kv_cache) > 0
        batched, v2 = policy.forward_cached(policy.encode_parts(seen))
    assert torch.allclose(plain, one, atol=1e-5) and torch.allclose(plain, batched, atol=1e-5)
    assert torch.allclose(v1, v2, atol=1e-5)
    assert policy.base.config._attn_implementation != "r1gym_packed"  # put back after the passes


def test_a_sliding_window_shorter_than_a_prompt_decides_through_the_full_forward() -> None:
    """A packed pass attends to every cached token: a model whose layers see only a window shorter
    than a prompt (Qwen2's sliding attention here, 16 tokens) is not packed, and still agrees."""
    from r1gym.tokenizer import load_tokenizer

    tokenizer = load_tokenizer()
    lm = _other_lm("qwen2", len(tokenizer), use_sliding_window=True, sliding_window=16, max_window_layers=0)
    policy = LLMPolicy(lm, tokenizer, 4).eval()
    torch.nn.init.normal_(policy.pointer_head.weight)
    assert policy._window == 16  # packed, its logits would differ by about 1.5
    obs = _observations(2)
    with torch.no_grad():
        plain, _ = policy(policy.encode(obs))
        cached, _ = policy.forward_cached(policy.encode_parts(obs))
    assert not policy._kv_cache and torch.allclose(plain, cached, atol=1e-5)


def test_a_model_that_skips_the_attention_interface_in_a_packed_pass_is_refused() -> None:
    """A decoder that runs fewer attention calls than it has cached layers (here a config that
    runs one of its two layers) would return states no cache matches: the pass says so, names the
    way out, and leaves the model's attention implementation as it was."""
    policy = new_policy(4, seed=0, hidden_size=32, num_hidden_layers=2).eval()
    obs = _observations(1)
    with torch.no_grad():
        policy.forward_cached(policy.encode_parts(obs[:1]))  # the instruction's states: two layers
        before = policy.base.config._attn_implementation
        policy.base.config.num_hidden_layers = 1
        refused = r"called the attention interface 1 times for 2 layers.*prefix_cache=False"
        with pytest.raises(RuntimeError, match=refused):
            policy.forward_cached(policy.encode_parts(obs[1:]))
    assert policy.base.config._attn_implementation == before


def test_a_model_that_cannot_pack_decides_through_the_full_forward(policy: LLMPolicy) -> None:
    from r1gym.llm.packed import packed_attention

    obs = _observations(2)
    with torch.no_grad():
        packed, _ = policy.forward_cached(policy.encode_parts(obs))
        policy._packable = False
        try:
            policy.clear_cache()
            full, _ = policy.forward_cached(policy.encode_parts(obs))
            assert not policy._kv_cache  # nothing cached on the fallback
        finally:
            policy._packable = True
    assert torch.allclose(packed, full, atol=1e-5)
    with pytest.raises(RuntimeError, match="only inside LLMPolicy.forward_cached"):
        packed_attention(policy.base.layers[0].self_attn, *(torch.zeros(1, 2, 3, 4),) * 3, None)


def test_prompt_styles(policy: LLMPolicy) -> None:
    from r1gym.wrappers import format_prompt

    env = gym.make("R1Arith-v0", obs_mode="text")
    obs, _ = env.reset(seed=3)
    obs, *_ = env.step(1)
    obs, *_ = env.step(4)  # back at the root: candidate 1 is marked as tried
    ranked = format_prompt(obs, style="ranked").splitlines()
    rows = [line for line in ranked if re.search(r"<expand_\d+>$", line)]
    confs = [float(re.search(r" (\d\.\d\d)( tried)? <expand_\d+>$", line).group(1)) for line in rows]
    assert confs == sorted(confs) and len(rows) == 4  # least confident first: the best is last
    assert next(line for line in rows if line.endswith("<expand_1>")).endswith("tried <expand_1>")
    assert ranked[-1] == "Action:" and ranked[-2] == rows[-1] and "<submit> submit" in ranked
    assert "[1] (tried)" in format_prompt(obs)
    with pytest.raises(ValueError, match="unknown prompt style 'fancy'; known: plain, ranked"):
        format_prompt(obs, style="fancy")
    with pytest.raises(ValueError, match="unknown prompt_style"):
        LLMPolicy(policy.lm, policy.tokenizer, 4, prompt_style="fancy")
    with pytest.raises(ValueError, match="unknown action_head 'fancy'; known: pointer, lm"):
        LLMPolicy(policy.lm, policy.tokenizer, 4, action_head="fancy")
    with pytest.raises(ValueError, match="needs prompt_style='ranked'"):
        LLMPolicy(policy.lm, policy.tokenizer, 4, prompt_style="plain")
    assert LLMPolicy(policy.lm, policy.tokenizer, 4, prompt_style="plain", action_head="lm").prompt_style == "plain"


def test_wrong_k_is_refused(policy: LLMPolicy) -> None:
    obs = _observations(1, "R1Arith-v0")[0]
    bad = {**obs, "action_mask": np.ones(9, dtype=np.int8)}
    with pytest.raises(ValueError, match="K = 4 candidates; the observation has K = 7"):
        policy.encode([bad])


def test_save_load_and_clear_errors(policy: LLMPolicy, tmp_path: Path) -> None:
    path = policy.save_pretrained(tmp_path / "p")
    loaded = LLMPolicy.from_pretrained(path).eval()
    obs = _observations(2)
    with torch.no_grad():
        assert torch.allclose(policy.distribution(obs)[0], loaded.distribution(obs)[0], atol=1e-6)
    with pytest.raises(FileNotFoundError, match="no such model directory"):
        LLMPolicy.from_pretrained(tmp_path / "missing")
    (path / "pointer_head.pt").rename(path / "moved.pt")
    with pytest.raises(FileNotFoundError, match="pointer_head.pt is missing"):
        LLMPolicy.from_pretrained(path)
    (path / "moved.pt").write_bytes(b"not a checkpoint")
    (path / "moved.pt").rename(path / "pointer_head.pt")
    with pytest.raises(ValueError, match="pointer_head.pt is corrupt"):
        LLMPolicy.from_pretrained(path)
    policy.save_pretrained(path)
    (path / "value_head.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="value_head.pt is corrupt"):
        LLMPolicy.from_pretrained(path)
    (path / "r1gym_policy.json").write_text("{")
    with pytest.raises(ValueError, match="r1gym_policy.json is corrupt"):
        LLMPolicy.from_pretrained(path)
    (path / "r1gym_policy.json").unlink()
    with pytest.raises(ValueError, match="pass num_candidates"):
        LLMPolicy.from_pretrained(path)
    (path / "value_head.pt").unlink()
    (path / "pointer_head.pt").unlink()
    plain = LLMPolicy.from_pretrained(path, num_candidates=4)  # a plain model directory
    assert plain.action_head == "lm" and plain.prompt_style == "ranked"


def test_a_truncated_weights_file_is_a_clear_error_naming_it(policy: LLMPolicy, tmp_path: Path, capsys) -> None:
    path = policy.save_pretrained(tmp_path / "p")
    weights = path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # a copy cut short
    with pytest.raises(ValueError, match=r"model.safetensors is damaged .*truncated or corrupt; copy the policy"):
        LLMPolicy.from_pretrained(path)
    with pytest.raises(ValueError, match=r"model.safetensors is damaged"):
        resolve_agent(f"llm:{path}")
    from r1gym.cli import main

    assert main(["eval", "R1Arith-v0", "--agent", f"llm:{path}", "--episodes", "1"]) == 2
    err = capsys.readouterr().err
    assert "model.safetensors is damaged" in err and "Traceback" not in err
    weights.write_bytes(b"")
    with pytest.raises(ValueError, match=r"model.safetensors is damaged"):
        LLMPolicy.from_pretrained(path)


def test_a_policy_for_another_k_is_refused_at_first_contact(policy: LLMPolicy, tmp_path: Path, capsys) -> None:
    agent = LLMAgent(policy)
    assert agent.num_candidates == 4
    obs, _ = gym.make("R1Arith-v0", obs_mode="text", num_candidates=5).reset(seed=0)
    with pytest.raises(ValueError, match=r"trained with K = 4 candidates, but the environment shows K = 5"):
        agent.act(obs)
    with pytest.raises(ValueError, match=r"K = 4 .* K = 5"):
        evaluate(agent, "R1Arith-v0", episodes=1, num_candidates=5)
    from r1gym.cli import main

    path = policy.save_pretrained(tmp_path / "p")
    assert main(["eval", "R1Arith-v0", "--difficulty", "hard", "--agent", f"llm:{path}", "--episodes", "1"]) == 2
    err = capsys.readouterr().err
    assert "K = 4" in err and "K = 5" in err and "Traceback" not in err


def test_agent_plays_single_and_batched_and_int8_mostly_agrees(policy: LLMPolicy, tmp_path: Path) -> None:
    path = policy.save_pretrained(tmp_path / "p")
    agent = resolve_agent(f"llm:{path}")
    assert isinstance(agent, LLMAgent) and agent.obs_mode == "text"
    single = evaluate(agent, "R1Arith-v0", episodes=4, seed=0)
    batched = evaluate(agent, "R1Arith-v0", episodes=4, seed=0, num_envs=2)
    assert single.episodes == batched.episodes == 4
    obs = _observations(8)
    fp32 = LLMAgent(path, prefix_cache=False).decide(obs)
    int8 = resolve_agent(f"llm:{path}?int8").decide(obs)
    assert (fp32 == int8).mean() >= 0.75  # a random tiny model's logits are close together
    with pytest.raises(ValueError, match="obs_mode"):
        evaluate(agent, "R1Arith-v0", episodes=1, obs_mode="vector")


def _run(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """``python agents/llm_policy.py ARGS`` from ``cwd``, as a user would type it."""
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, **kwargs)


def test_training_runs_saves_evaluates_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run = [*TINY, "--sft-episodes", "20", "--sft-epochs", "1", "--groups", "2", "--group-size", "2"]
    run += ["--replay-batch", "4", "--eval-episodes", "3", "--checkpoint-every", "2", "--out", str(out)]
    first = _run([*run, "--iterations", "2", "--teacher", "backtrack"], tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "decisions of the backtrack teacher" in first.stdout
    assert (out / "checkpoints" / "iter_2" / "complete").exists()
    rows = (out / "progress.csv").read_text().splitlines()
    assert rows[0].startswith("iteration,rollout/accuracy") and len(rows) == 1 + 2
    assert len((out / "sft.csv").read_text().splitlines()) == 1 + 1  # one epoch of cold start
    report = json.loads((out / "eval.json").read_text())
    assert [r["agent"] for r in report["reports"]] == ["llm_policy", "llm_policy (sampled, T=1)", "random", "greedy"]
    assert (report["episodes"], report["seed"]) == (3, 10_000)
    resumed = _run([*run, "--iterations", "4", "--teacher", "backtrack"], tmp_path)  # no second cold start
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming from {out / 'checkpoints' / 'iter_2'} (iteration 2)" in resumed.stdout
    assert "cold start" not in resumed.stdout
    rows = (out / "progress.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    # other arguments than the run started with: one line, no traceback
    other = _run([*run, "--iterations", "5", "--teacher", "backtrack", "--lr", "0.1"], tmp_path)
    assert other.returncode == 2 and other.stderr.count("\n") == 1, other.stderr
    assert "other arguments (--lr was 0.0001, now 0.1)" in other.stderr
    # a damaged checkpoint is named in the error
    (out / "checkpoints" / "iter_4" / "replay_rank0.npz").write_bytes(b"garbage")
    damaged = _run([*run, "--iterations", "6", "--teacher", "backtrack"], tmp_path)
    assert damaged.returncode == 1 and "iter_4 is damaged" in damaged.stderr


def test_the_shipped_config_and_its_flags(tmp_path: Path) -> None:
    """``--config llm_policy.R1Arith-v0`` (found from any folder) with flags overriding it."""
    run = ["--config", "llm_policy.R1Arith-v0", *TINY, "--sft-episodes", "4", "--sft-epochs", "1", "--groups", "1"]
    run += ["--group-size", "2", "--replay-batch", "2", "--iterations", "1", "--eval-episodes", "0"]
    done = _run([*run, "--out", str(tmp_path / "run")], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    args = json.loads((tmp_path / "run" / "args.json").read_text())
    assert (args["difficulty"], args["omega"], args["sft_episodes"], args["hidden_size"]) == ("medium", 0.7, 4, 32)
    assert args["config"] == "llm_policy.R1Arith-v0"
    assert (tmp_path / "run" / "policy" / "pointer_head.pt").exists()


@pytest.mark.slow
def test_reinforcement_from_a_saved_policy_on_policy_with_a_learning_curve(tmp_path: Path) -> None:
    """--init starts from a saved policy (no cold start); --on-policy updates on the round's own
    trajectories only (age 0, every weight 1); --eval-every writes curve.csv from round 0."""
    first = tmp_path / "cold"
    base = [*TINY, "--groups", "2", "--group-size", "2", "--replay-batch", "2", "--eval-episodes", "0"]
    done = _run([*base, "--sft-episodes", "6", "--sft-epochs", "1", "--iterations", "0", "--out", str(first)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "rl"
    run = [
        *base,
        "--init",
        str(first / "policy"),
        "--on-policy",
        "--updates",
        "2",
        "--iterations",
        "2",
        "--kl-coef",
        "0.1",
    ]
    run += ["--eval-every", "1", "--curve-episodes", "2", "--out", str(out)]
    done = _run(run, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "cold start" not in done.stdout
    with (out / "progress.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["iteration"] for r in rows] == ["1", "2"]
    assert all(float(r["train/age"]) == 0 and float(r["train/is_weight_mean"]) == 1 for r in rows)
    assert all(float(r["train/approx_kl"]) >= 0 and float(r["train/clip_fraction"]) >= 0 for r in rows)
    # the KL penalty's reference is the policy the run started from, saved beside it
    assert (out / "reference" / "pointer_head.pt").read_bytes() == (first / "policy" / "pointer_head.pt").read_bytes()
    assert all(float(r["train/kl_reference"]) >= 0 for r in rows) and float(rows[-1]["train/kl_reference"]) > 0
    with (out / "curve.csv").open() as f:
        curve = list(csv.DictReader(f))
    assert [r["iteration"] for r in curve] == ["0", "1", "2"]
    assert all(0 <= float(r["eval/greedy_accuracy"]) <= 1 and float(r["eval/sampled_steps"]) >= 1 for r in curve)
    # the first point is the saved policy itself: the same greedy figure as evaluating it directly
    direct = evaluate(LLMAgent(first / "policy"), "R1Arith-v0", episodes=2, seed=10_000)
    assert float(curve[0]["eval/greedy_accuracy"]) == direct.accuracy
    assert float(curve[0]["eval/greedy_steps"]) == direct.mean_steps
    # a folder that is not there: one sentence, no traceback
    missing = _run([*run[:-1], str(tmp_path / "other"), "--init", str(tmp_path / "nope")], tmp_path)
    assert missing.returncode == 2 and "no such folder" in missing.stderr and "Traceback" not in missing.stderr


def test_sigkill_loses_at_most_the_work_since_the_last_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run = [*TINY, "--sft-episodes", "0", "--groups", "2", "--group-size", "2", "--replay-batch", "4"]
    run += ["--eval-episodes", "0", "--checkpoint-every", "3"]
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), *run, "--iterations", "10000", "--out", str(out)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    ckpts = out / "checkpoints"
    deadline = time.time() + 120
    while time.time() < deadline and not any(
        (p / "complete").exists() for p in ckpts.glob("iter_*") if p.name != "iter_0"
    ):
        time.sleep(0.2)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved = max(int(p.name.split("_")[1]) for p in ckpts.glob("iter_*") if (p / "complete").exists())
    logged = int((out / "progress.csv").read_text().splitlines()[-1].split(",")[0])
    assert saved >= 3 and logged - saved < 3  # at most checkpoint-every - 1 rounds are lost
    done = _run([*run, "--iterations", str(saved + 1), "--out", str(out)], tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"resuming from {ckpts / f'iter_{saved}'}" in done.stdout


def test_cold_start_teachers() -> None:
    medium = {"difficulty": "medium"}
    greedy = teacher_decisions("R1Arith-v0", medium, episodes=5, seed=3, teacher="greedy")
    for obs, action in greedy:  # greedy takes the most confident allowed candidate, else submits
        legal = np.flatnonzero(obs["action_mask"][:4])
        assert action == (int(legal[np.argmax(obs["confidence"][legal])]) if len(legal) else 5)
    oracle = teacher_decisions("R1Arith-v0", medium, episodes=5, seed=3, noise=0.0)
    assert len(oracle) > 0 and all(0 <= d.action <= 5 for d in oracle)
    assert 4 not in {d.action for d in oracle}  # without noise the oracle never leaves the path
    noisy = teacher_decisions("R1Arith-v0", medium, episodes=20, seed=3, noise=0.5)
    assert 4 in {d.action for d in noisy}  # with it, the cold start sees wrong steps to back out of
    again = teacher_decisions("R1Arith-v0", medium, episodes=20, seed=np.random.SeedSequence(3), noise=0.5)
    assert [d.action for d in again] == [d.action for d in noisy]  # an int seed is SeedSequence(seed)
    with pytest.raises(ValueError, match=r"--sft-noise is a probability: give a number in \[0, 1\], not 1.5"):
        teacher_decisions("R1Arith-v0", medium, episodes=1, seed=0, noise=1.5)
    with pytest.raises(ValueError, match="did you mean 'greedy'"):
        teacher_decisions("R1Arith-v0", medium, episodes=1, seed=0, teacher="gredy")


def test_ranks_and_seeds_never_share_episodes() -> None:
    """Every (seed, rank) gets its own streams. The seeds were ``seed + 1000 * rank``: rank 1 of
    seed 1 played the episodes of rank 0 of seed 1001."""
    assert seed_of(rank_seeds(1, 1)) != seed_of(rank_seeds(1001, 0))
    streams = {(s, r): seed_of(child(rank_seeds(s, r), 1)) for s in range(0, 3001, 250) for r in range(4)}
    assert len(set(streams.values())) == len(streams)
    # the cold start's episodes of the two runs are other problems
    first = teacher_decisions("R1Arith-v0", {}, episodes=3, seed=child(rank_seeds(1, 1), 2), noise=0.0)
    second = teacher_decisions("R1Arith-v0", {}, episodes=3, seed=child(rank_seeds(1001, 0), 2), noise=0.0)
    assert first[0].obs["context"] != second[0].obs["context"]
    # a child does not depend on what was spawned before
    seeds = rank_seeds(1, 0)
    before = seed_of(child(seeds, 2))
    seeds.spawn(5)
    assert seed_of(child(seeds, 2)) == before


def test_cold_start_ablation_script_runs(tmp_path: Path) -> None:
    """experiments/llm_cold_start.py (docs/llm.md's layout table) at a smoke size."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "llm_cold_start.py"), "--episodes", "4", "--epochs", "1"]
        + ["--eval-episodes", "2", "--action-head", "lm"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"epoch 1: loss \d+\.\d+, right \d\.\d+, right_most_confident", done.stdout)
    assert "held-out accuracy" in done.stdout


def test_spec_options_sample_and_int8_and_pass_at_k(policy: LLMPolicy, tmp_path: Path) -> None:
    """``llm:DIR?sample`` samples (pass@k needs it: a greedy policy is refused for samples > 1)."""
    path = policy.save_pretrained(tmp_path / "p")
    greedy, sampled = resolve_agent(f"llm:{path}"), resolve_agent(f"llm:{path}?sample")
    both = resolve_agent(f"llm:{path}?int8,sample")
    assert greedy.deterministic and not sampled.deterministic and sampled.sample and both.sample
    report = evaluate(sampled, "R1Arith-v0", episodes=2, samples=3, seed=0)
    assert report.samples == 3 and set(report.pass_at_k) == {1, 2, 3}
    with pytest.raises(ValueError, match="pass@1"):
        evaluate(greedy, "R1Arith-v0", episodes=2, samples=3, seed=0)
    with pytest.raises(ValueError, match="unknown option 'fp8'"):
        resolve_agent(f"llm:{path}?sample,fp8")


def test_advantages_group_mean_and_batch() -> None:
    """--advantage: GRPO's per-group scaling blows up the efficiency differences of a group whose
    attempts are all right to the scale of right against wrong; "mean" and "batch" do not."""
    import runpy

    script = runpy.run_path(str(SCRIPT))  # the script's functions, without running main()
    traj = script["Trajectory"]
    returns = [0.80, 0.82, 0.81, 0.83, 0.8, 0.0, 0.0, 0.8]  # all right, then half right
    ts = [traj([], r, r > 0) for r in returns]

    def adv(kind: str) -> np.ndarray:
        return np.array([t.advantage for t in script["group_advantages"](ts, 4, kind)])

    group, mean, batch = adv("group"), adv("mean"), adv("batch")
    assert np.allclose(group[:4].std(), 1, atol=1e-2) and np.allclose(group[4:].std(), 1, atol=1e-3)
    assert np.allclose(mean, [-0.015, 0.005, -0.005, 0.015, 0.4, -0.4, -0.4, 0.4])
    assert np.allclose(batch, mean / (mean.std() + 1e-4))
    assert np.abs(batch[:4]).max() < 0.06 < 0.9 < np.abs(batch[4:]).min()
    for a in (group, mean, batch):  # every group's advantages sum to 0
        assert abs(a[:4].sum()) < 1e-9 and abs(a[4:].sum()) < 1e-9
    with pytest.raises(ValueError, match="unknown advantage"):
        script["group_advantages"](ts, 4, "median")


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--advantage", "median"], "--advantage must be one of group, mean, batch"),
        (["--kl-coef", "-1"], "are weights of the loss"),
        (["--eval-every", "-1"], "--eval-every must be >= 0"),
    ],
)
def test_bad_reinforcement_flags_are_one_sentence(flags: list[str], words: str, tmp_path: Path) -> None:
    done = _run([*TINY, *flags, "--out", str(tmp_path / "run")], tmp_path)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "run").exists()  # refused before anything is written
