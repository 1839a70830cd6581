"""The LLM proposer: mechanics with tiny GPT-2 models built from a config (nothing downloaded).

Random weights write garbage, which is fine: these tests check the contract (K candidates,
confidences, masks, determinism, snapshot / restore, loading) and, with a hand-wired "bigram"
model that can only write " The answer is 42.", the parsing and verification of answers.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import r1gym  # noqa: F401
from r1gym.core.problem import problem_from_record
from r1gym.proposers.llm import OPTIONS, parse_answer, path_answer, step_prompt, verify_path
from r1gym.tokenizer import load_tokenizer

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

FAST = {"max_new_tokens": 8}
SIX_SEVENS = {"question": "What is 6 * 7?", "steps": ["6 * 7 = 42."], "answer": "42"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # Tiny matrices: on a shared 2-core machine, two torch threads spin against each other.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer()


def gpt2_config(tok, **kw):
    base = {"n_embd": 32, "n_layer": 2, "n_head": 2, "n_positions": 512, "bos_token_id": 1, "eos_token_id": 2}
    return transformers.GPT2Config(vocab_size=len(tok), **{**base, **kw})


@pytest.fixture(scope="module")
def model(tok):
    torch.manual_seed(0)
    return transformers.GPT2LMHeadModel(gpt2_config(tok)).eval()


@pytest.fixture(scope="module")
def bigram(tok):
    """A real GPT-2 whose next token depends only on the current one: after ":" it writes
    " The answer is 42." and a newline, with probability ~1 at every token."""
    chain = tok.encode(":") + tok.encode(" The answer is 42.\n")
    assert len(set(chain)) == len(chain), chain
    m = transformers.GPT2LMHeadModel(gpt2_config(tok, n_layer=1, tie_word_embeddings=False)).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.zero_()  # no attention, no MLP, no positions: the hidden state is the token's embedding
        m.transformer.ln_f.weight.fill_(1.0)
        d = m.config.n_embd
        for i, (src, dst) in enumerate(itertools.pairwise(chain)):
            m.transformer.wte.weight[src, i] = 1.0
            basis = torch.zeros(d)
            basis[i] = 1.0
            m.lm_head.weight[dst] = 2.0 * torch.nn.functional.layer_norm(basis, (d,))
    return m


def make(tok, model, env_id="R1Math-v0", obs_mode="text", **kwargs):
    return gym.make(
        env_id, obs_mode=obs_mode, proposer="llm", proposer_kwargs={"model": model, "tokenizer": tok, **FAST}, **kwargs
    )


# -- parsing and verification (strings) -----------------------------------------------------------
@pytest.mark.parametrize(
    "text, answer",
    [
        ("The answer is 42.", "42"),
        ("So 6 * 7 = 42. The answer is 42.", "42"),
        ("the answer is: $3.50.", "$3.50"),
        ("The answer is 12 m/s. Check: done.", "12 m/s"),
        ("The answer is 4. No wait, the answer is 5.", "5"),
        ("The answer is x = 5/2", "x = 5/2"),
        ("6 * 7 = 42.", None),
        ("The answer is .", None),
    ],
)
def test_parse_answer(text, answer) -> None:
    assert parse_answer(text) == answer


def test_path_answer_and_verification() -> None:
    problem = problem_from_record(SIX_SEVENS, "test", "u")
    assert path_answer(["6 * 7 = 42.", "The answer is 42."]) == "42"
    assert verify_path(problem, ["6 * 7 = 42.", "The answer is 42."])
    assert verify_path(problem, ["First, 6 * 7 = 42.0 in total."])  # fallback: the last number of the last step
    assert not verify_path(problem, ["The answer is 41."])
    assert not verify_path(problem, [])


def test_prompt_is_the_text_context_then_the_next_step(tok, model) -> None:
    env = make(tok, model)
    env.reset(seed=0)
    env.step(0)
    u = env.unwrapped
    prompt = step_prompt(u.problem, u.current_node.texts)
    assert prompt.endswith("\n" + u.context_text() + "\nStep 2:")
    assert step_prompt(u.problem, (), instruction="") == f"{u.problem.question}\nStep 1:"


# -- the environment contract -----------------------------------------------------------------------
def test_k_candidates_confidences_and_masks(tok, model) -> None:
    env = make(tok, model, reveal=True)
    obs, info = env.reset(seed=0)
    k = env.unwrapped.num_candidates
    n = int(obs["action_mask"][:k].sum())
    assert n >= 2 and all(obs["candidates"][:n]) and not any(obs["candidates"][n:])
    assert obs["confidence"].dtype == np.float32
    assert obs["confidence"].sum() == pytest.approx(1.0, abs=1e-5) and (obs["confidence"][n:] == 0).all()
    assert list(obs["action_mask"][k:]) == [0, 1]  # no backtrack at the root; submit
    assert env.observation_space.contains(obs)
    assert {c.kind for c in env.unwrapped.current_node.candidates} == {"sampled"}
    assert info["on_path"] and info["oracle_action"] in range(n)  # free-text steps: not known to be wrong
    obs, *_ = env.step(0)
    assert obs["action_mask"][k] == 1 and env.observation_space.contains(obs)


def test_same_seed_same_tree_whatever_the_visit_order(tok, model) -> None:
    a, b = make(tok, model), make(tok, model)
    a.reset(seed=3)
    b.reset(seed=3)
    rng_before = torch.get_rng_state()
    a.step(0)
    a.step(a.unwrapped.BACKTRACK)
    obs_a, *_ = a.step(1)
    obs_b, *_ = b.step(1)  # node (1,) built first here, second there
    assert torch.equal(torch.get_rng_state(), rng_before)  # the global torch state is untouched
    assert obs_a["candidates"] == obs_b["candidates"]
    np.testing.assert_array_equal(obs_a["confidence"], obs_b["confidence"])
    assert make(tok, model).reset(seed=4)[0]["candidates"] != make(tok, model).reset(seed=3)[0]["candidates"]


def test_another_proposer_seed_another_tree(tok, model) -> None:
    kw = {"model": model, "tokenizer": tok, **FAST}
    a = gym.make("R1Arith-v0", obs_mode="text", proposer="llm", proposer_kwargs=kw)
    b = gym.make("R1Arith-v0", obs_mode="text", proposer="llm", proposer_kwargs={**kw, "seed": 1})
    assert a.reset(seed=0)[0]["candidates"] != b.reset(seed=0)[0]["candidates"]


def test_snapshot_restore_leaves_no_trace(tok, model) -> None:
    env = make(tok, model)
    env.reset(seed=1)
    u = env.unwrapped
    snap = u.snapshot()
    first, *_ = env.step(0)  # a lookahead that builds a node ...
    env.step(1)
    u.restore(snap)  # ... and forgets it
    assert u.current_node.depth == 0 and len(u.snapshot().episode.nodes) == 1
    again, *_ = env.step(0)  # rebuilt: the same candidates
    assert again["candidates"] == first["candidates"]
    np.testing.assert_array_equal(again["confidence"], first["confidence"])


def test_passes_the_env_checker(tok, model) -> None:
    from gymnasium.utils.env_checker import check_env

    check_env(make(tok, model).unwrapped, skip_render_check=True)
    check_env(make(tok, model, env_id="R1Arith-v0", obs_mode="vector").unwrapped, skip_render_check=True)


# -- answers stated by the model -----------------------------------------------------------------------
@pytest.mark.parametrize("reference, correct", [("42", True), ("41", False)])
def test_stated_answer_completes_the_path_and_is_verified(tok, bigram, reference, correct) -> None:
    env = make(tok, bigram, env_id="R1Math-v0", reveal=True)
    k = env.unwrapped.num_candidates
    obs, info = env.reset(seed=0, options={"problem": {**SIX_SEVENS, "answer": reference}})
    assert obs["candidates"][0] == "The answer is 42."  # K identical samples, one candidate
    assert obs["confidence"][0] == pytest.approx(1.0) and list(obs["action_mask"]) == [1, 0, 0, 0, 0, 1]
    node = env.unwrapped.current_node
    assert node.candidates[0].state.complete and node.candidates[0].state.answer == "42"
    assert info["oracle_action"] == (0 if correct else k + 1)
    obs, _, _, _, info = env.step(0)
    assert list(obs["action_mask"]) == [0, 0, 0, 0, 1, 1]  # complete: backtrack or submit
    assert info["on_path"] is correct and info["left_path"] is not correct
    _, reward, terminated, _, info = env.step(k + 1)
    assert terminated and info["answer"] == "42" and info["is_correct"] is correct
    assert (reward > 0.5) is correct


def test_sample_scores_are_mean_token_log_probs(tok, bigram, model) -> None:
    p = make(tok, bigram).unwrapped.proposer
    s = p.sample("Step 1:", seed=0)
    assert {x.text for x in s} == {"The answer is 42."}
    assert all(x.stopped and x.num_tokens == 8 and -1e-3 < x.score <= 0 for x in s)
    r = make(tok, model).unwrapped.proposer.sample("Step 1:", seed=0)
    assert all(not x.stopped and x.num_tokens == FAST["max_new_tokens"] and x.score < -1 for x in r)


# -- loading and errors ------------------------------------------------------------------------------
def test_local_directory_loads_by_path(tok, model, tmp_path: Path) -> None:
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    by_path = gym.make(
        "R1Math-v0",
        obs_mode="text",
        proposer="llm",
        proposer_kwargs={"model": str(tmp_path), "dtype": "float32", **FAST},
    )
    assert by_path.unwrapped.proposer.device.type == "cpu"
    obs, _ = by_path.reset(seed=2)
    assert obs["candidates"] == make(tok, model).reset(seed=2)[0]["candidates"]


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist.*never downloads"):
        gym.make("R1Math-v0", proposer="llm", proposer_kwargs={"model": str(tmp_path / "nope")})


def test_bad_options_name_the_valid_ones(tok, model) -> None:
    with pytest.raises(TypeError, match=r"\['temprature'\].*Did you mean 'temperature'.*Valid: .*'top_p'"):
        gym.make("R1Math-v0", proposer="llm", proposer_kwargs={"model": model, "tokenizer": tok, "temprature": 0.7})
    with pytest.raises(TypeError, match="num_candidates argument"):
        gym.make("R1Math-v0", proposer="llm", proposer_kwargs={"model": model, "tokenizer": tok, "num_candidates": 3})
    with pytest.raises(ValueError, match="needs proposer_kwargs=\\{'model'"):
        gym.make("R1Math-v0", proposer="llm")
    with pytest.raises(ValueError, match="pass its tokenizer"):
        gym.make("R1Math-v0", proposer="llm", proposer_kwargs={"model": model})
    with pytest.raises(ValueError, match="top_p"):
        gym.make("R1Math-v0", proposer="llm", proposer_kwargs={"model": model, "tokenizer": tok, "top_p": 0})
    assert "model" in OPTIONS and "max_new_tokens" in OPTIONS


def test_num_candidates_and_sampling_settings(tok, model) -> None:
    env = gym.make(
        "R1Arith-v0",
        obs_mode="text",
        num_candidates=3,
        proposer="llm",
        proposer_kwargs={"model": model, "tokenizer": tok, "temperature": 0.7, "top_p": 0.9, "top_k": 50, **FAST},
    )
    obs, _ = env.reset(seed=0)
    assert env.action_space.n == 5 and len(obs["candidates"]) == 3


def test_without_torch_the_error_names_the_extra(tok, model, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"r1gym\[llm\]"):
        gym.make("R1Math-v0", proposer="llm", proposer_kwargs={"model": model, "tokenizer": tok})


def test_importing_r1gym_does_not_import_torch() -> None:
    code = "import sys, r1gym, r1gym.proposers, r1gym.proposers.llm; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False"


def test_a_proposer_instance_is_shared_not_copied(tok, model) -> None:
    from r1gym.proposers.llm import LLMProposer

    p = LLMProposer(model, tok, num_candidates=3, max_new_tokens=4)
    env = gym.make("R1Math-v0", obs_mode="text", proposer=p)
    assert env.spec.kwargs["proposer"] is p  # gymnasium deep-copies the spec: the model is not copied
    assert env.unwrapped.proposer is p and env.action_space.n == 5
    assert len(env.reset(seed=0)[0]["candidates"]) == 3
