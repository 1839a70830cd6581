"""The LLM policy (r1gym.llm) and its training script (agents/llm_policy.py), with tiny models
built from a config and the shipped tokenizer: nothing is downloaded."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import r1gym  # noqa: F401
from r1gym.agent_specs import resolve_agent
from r1gym.evaluation import evaluate
from r1gym.llm.agent import LLMAgent
from r1gym.llm.policy import LLMPolicy, new_policy

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


@pytest.mark.parametrize("head", ["pointer", "lm"])
def test_context_cache_follows_episodes_through_backtracks(head: str) -> None:
    """Decisions along episodes (steps, backtracks, revisits) with the context cache, one at a
    time and batched, equal the uncached ones; the cache stays within its size."""
    policy = new_policy(4, seed=1, hidden_size=32, num_hidden_layers=2).eval()
    policy.action_head = head
    torch.nn.init.normal_(policy.pointer_head.weight)  # zero at the start: make it count
    policy.cache_size = 8
    env = gym.make("R1Arith-v0", obs_mode="text")
    rng = np.random.default_rng(0)
    seen = []
    for ep in range(4):
        obs, _ = env.reset(seed=ep)
        done = False
        while not done:
            seen.append(obs)
            legal = np.flatnonzero(obs["action_mask"][:4])
            u = rng.random()
            action = 4 if (u < 0.3 and obs["action_mask"][4]) else (int(rng.choice(legal)) if len(legal) else 5)
            obs, _, term, trunc, _ = env.step(action)
            done = term or trunc
    assert any(o["action_mask"][4] and o["progress"][2] > 0 for o in seen)  # some backtracks happened
    with torch.no_grad():
        plain, _ = policy(policy.encode(seen))
        policy.clear_cache()
        one = torch.cat([policy.forward_cached(policy.encode_parts([o]))[0] for o in seen])
        assert 0 < len(policy._kv_cache) <= 8
        batched, _ = policy.forward_cached(policy.encode_parts(seen))
    assert torch.allclose(plain, one, atol=1e-5) and torch.allclose(plain, batched, atol=1e-5)


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


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, cwd=ROOT, **kwargs
    )


def _load_script():
    spec = importlib.util.spec_from_file_location("r1gym_agents_llm_policy", SCRIPT)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_training_runs_saves_evaluates_and_resumes(tmp_path: Path) -> None:
    llm = _load_script()
    run = [*TINY, "--sft-episodes", "20", "--sft-epochs", "1", "--groups", "2", "--group-size", "2"]
    run += ["--replay-batch", "4", "--eval-episodes", "3", "--checkpoint-every", "2", "--out", str(tmp_path)]
    llm.main([*run, "--iterations", "2"])
    assert (tmp_path / "checkpoints" / "iter_2" / "complete").exists()
    rows = (tmp_path / "progress.csv").read_text().splitlines()
    assert rows[0].startswith("iteration,rollout/accuracy") and len(rows) == 1 + 2
    assert len((tmp_path / "sft.csv").read_text().splitlines()) == 1 + 1  # one epoch of cold start
    report = json.loads((tmp_path / "eval.json").read_text())
    assert [r["agent"] for r in report["reports"]] == ["llm_policy", "random", "greedy"]
    llm.main([*run, "--iterations", "4"])  # resumes at iteration 2: no second cold start
    rows = (tmp_path / "progress.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    with pytest.raises(ValueError, match="other arguments"):
        llm.main([*run, "--iterations", "5", "--lr", "0.1"])
    # a damaged checkpoint is named in the error
    (tmp_path / "checkpoints" / "iter_4" / "replay_rank0.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="iter_4 is damaged"):
        llm.main([*run, "--iterations", "6"])


@pytest.mark.slow
def test_sigkill_loses_at_most_the_work_since_the_last_checkpoint(tmp_path: Path) -> None:
    run = [*TINY, "--sft-episodes", "0", "--groups", "2", "--group-size", "2", "--replay-batch", "4"]
    run += ["--eval-episodes", "0", "--checkpoint-every", "3", "--iterations", "10000", "--out", str(tmp_path)]
    env = dict(os.environ)
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), *run], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    ckpts = tmp_path / "checkpoints"
    deadline = time.time() + 120
    while time.time() < deadline and not any(
        (p / "complete").exists() for p in ckpts.glob("iter_*") if p.name != "iter_0"
    ):
        time.sleep(0.2)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved = max(int(p.name.split("_")[1]) for p in ckpts.glob("iter_*") if (p / "complete").exists())
    logged = int((tmp_path / "progress.csv").read_text().splitlines()[-1].split(",")[0])
    assert saved >= 3 and logged - saved < 3  # at most checkpoint-every - 1 rounds are lost
    done = _run([*run[:-4], "--iterations", str(saved + 1), "--out", str(tmp_path)], timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"resuming from {ckpts / f'iter_{saved}'}" in done.stdout


def test_cold_start_teachers() -> None:
    llm = _load_script()
    greedy = llm.teacher_decisions(llm.Args(teacher="greedy"), episodes=5, seed=3)
    for obs, action in greedy:  # greedy takes the most confident allowed candidate, else submits
        legal = np.flatnonzero(obs["action_mask"][:4])
        assert action == (int(legal[np.argmax(obs["confidence"][legal])]) if len(legal) else 5)
    oracle = llm.teacher_decisions(llm.Args(sft_noise=0.0), episodes=5, seed=3)
    assert len(oracle) > 0 and all(0 <= a <= 5 for _, a in oracle)
    assert 4 not in {a for _, a in oracle}  # without noise the oracle never leaves the path
    noisy = llm.teacher_decisions(llm.Args(sft_noise=0.5), episodes=20, seed=3)
    assert 4 in {a for _, a in noisy}  # with it, the cold start sees wrong steps to back out of
    with pytest.raises(ValueError, match=r"--sft-noise is a probability: give a number in \[0, 1\], not 1.5"):
        llm.teacher_decisions(llm.Args(sft_noise=1.5), episodes=1, seed=0)
    with pytest.raises(ValueError, match="did you mean 'greedy'"):
        llm.teacher_decisions(llm.Args(teacher="gredy"), episodes=1, seed=0)
    with pytest.raises(ValueError, match="--env-kwargs must be a JSON object"):
        llm.teacher_decisions(llm.Args(env_kwargs="[1"), episodes=1, seed=0)


def test_cold_start_ablation_script_runs() -> None:
    """experiments/llm_cold_start.py (docs/llm.md's layout table) at a smoke size."""
    spec = importlib.util.spec_from_file_location("r1gym_llm_cold_start", ROOT / "experiments" / "llm_cold_start.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    row = module.main(["--episodes", "4", "--epochs", "1", "--eval-episodes", "2", "--action-head", "lm"])
    assert set(row) == {"loss", "right", "right_most_confident", "accuracy"}
    assert 0.0 <= row["right"] <= 1.0 and row["loss"] > 0
