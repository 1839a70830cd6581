"""r1gym in TRL (r1gym.integrations.trl): the environment factory's tools and schemas, whole episodes,
bad tool calls, GRPOTrainer on a tiny model built from a config, and examples/trl_r1.py's smoke size.
Nothing is downloaded (HF_HUB_OFFLINE=1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRL_EXPERIMENTAL_SILENCE"] = "1"
pytest.importorskip("torch")
pytest.importorskip("trl")

import gymnasium as gym
import torch

import r1gym  # noqa: F401
from r1gym.integrations.trl import (
    R1ToolEnv,
    R1WriteOnlyToolEnv,
    R1WriteToolEnv,
    environment_factory,
    grpo_dataset,
    oracle_transcripts,
    tool_chat_tokenizer,
    tool_names,
)

ROOT = Path(__file__).resolve().parents[1]


# -- the tool schemas TRL reads ----------------------------------------------------------------------------


def test_menu_tool_schemas_are_what_trl_builds() -> None:
    from transformers.utils import get_json_schema

    factory = environment_factory("R1Math-v0")
    env = factory()
    assert isinstance(env, R1ToolEnv) and tool_names(type(env)) == ["backtrack", "expand", "submit"]
    schemas = {s["function"]["name"]: s["function"] for s in factory.tool_schemas()}
    assert set(schemas) == {"backtrack", "expand", "submit"}
    assert schemas["expand"]["parameters"] == {
        "type": "object",
        "properties": {
            "index": {"type": "integer", "description": "the number i of the candidate shown as <expand_i>."}
        },
        "required": ["index"],
    }
    assert (
        schemas["backtrack"]["parameters"]["properties"] == {} and schemas["submit"]["parameters"]["properties"] == {}
    )
    assert "ends the episode" in schemas["submit"]["description"]
    assert all(s["return"]["type"] == "string" for s in schemas.values())
    assert get_json_schema(env.expand)["function"] == schemas["expand"]  # bound methods, as TRL passes them


def test_write_mode_tools() -> None:
    f = environment_factory("R1Math-v0", action_mode="write")
    assert f.cls is R1WriteToolEnv
    schemas = {s["function"]["name"]: s["function"] for s in f.tool_schemas()}
    assert set(schemas) == {"backtrack", "expand", "submit", "write_step"}
    assert schemas["write_step"]["parameters"]["properties"]["text"]["type"] == "string"
    f0 = environment_factory("R1Math-v0", action_mode="write", num_candidates=0)
    assert f0.cls is R1WriteOnlyToolEnv and tool_names(f0.cls) == ["backtrack", "submit", "write_step"]
    assert "write_step(text)" in f0.system_prompt() and "expand(index)" not in f0.system_prompt()


def test_bad_arguments_fail_at_the_factory() -> None:
    with pytest.raises(Exception, match="difficulty"):
        environment_factory("R1Math-v0", difficulty="impossible")
    with pytest.raises(ValueError, match="obs_mode"):
        environment_factory("R1Math-v0", obs_mode="vector")


# -- whole episodes: the same reward as the env ----------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"action_mode": "write"}, {"action_mode": "write", "num_candidates": 0}])
def test_oracle_episode_through_tools_pays_what_the_env_pays(kwargs: dict) -> None:
    factory = environment_factory("R1Math-v0", **kwargs)
    rows = oracle_transcripts(factory, 5, seed=3, first_problem=40)
    for e, row in enumerate(rows):
        calls = [m for m in row["messages"] if m["role"] == "assistant" and m.get("tool_calls")]
        tool_env = factory()
        text = tool_env.reset(seed=3 + e, problem_index=40 + e)
        assert text.startswith("You solve a problem") and "Call exactly one tool" in text  # no system message given
        for m in calls:
            fn = m["tool_calls"][0]["function"]
            getattr(tool_env, fn["name"])(**fn["arguments"])
        assert tool_env.done and tool_env.info["is_correct"] and tool_env.invalid_calls == 0
        # the same actions straight in the env
        env = gym.make("R1Math-v0", obs_mode="text", **kwargs)
        env.reset(seed=3 + e, options={"problem_index": 40 + e})
        total = 0.0
        for a in tool_env.actions:
            _, r, terminated, truncated, info = env.step(a)
            total += r
        assert terminated and info["is_correct"]
        assert tool_env.get_reward() == pytest.approx(total) and total > 0.5
        assert tool_env.info["reward_terms"] == info["reward_terms"]


def test_reset_with_a_system_message_returns_the_state_only() -> None:
    env = environment_factory("R1Arith-v0")()
    text = env.reset(seed=1, problem_index=2, prompt=[{"role": "system", "content": "rules"}, {"role": "user"}])
    assert not text.startswith("You solve") and "<expand_0>" in text
    again = environment_factory("R1Arith-v0")().reset(seed=1, problem_index=2, prompt=[{"role": "system"}])
    assert again == text  # a GRPO group: the same row gives the same state


# -- bad tool calls: an error string the model sees, never a crash ---------------------------------------------


def test_bad_tool_calls_are_error_strings() -> None:
    env = environment_factory("R1Arith-v0")()
    env.reset(seed=0, problem_index=0)
    k = env.num_candidates
    out = env.expand(k)
    assert out == f"Error: candidate {k} does not exist (expand takes 0 to {k - 1})."
    assert env.expand(-1).startswith("Error: candidate -1 does not exist")
    assert env.expand("Step 1: 3 + 4 = 7").startswith("Error: expand takes the number of a candidate")
    assert "menu mode" in env.expand("3 + 4 = 7")
    assert env.expand(True).startswith("Error:")
    assert env.backtrack().startswith("Error: that move is not allowed here: backtrack at the root")
    assert env.invalid_calls == 6 and env.get_reward() == pytest.approx(-6 * env.penalty) and not env.done
    assert not env.expand("1").startswith("Error")  # a number as a string is read
    assert env.submit().startswith("You submitted")
    assert env.expand(0) == "Error: the episode is over; do not call more tools."


def test_bad_calls_are_bounded_by_the_step_limit() -> None:
    env = environment_factory("R1Arith-v0")()
    env.reset(seed=0)
    outs = [env.expand(99) for _ in range(env.max_turns)]
    assert outs[-1].endswith("The step limit is reached: the episode is over.") and env.done
    assert env.submit().startswith("Error: the episode is over")


def test_write_step_rejects_tokens_and_empty_steps() -> None:
    env = environment_factory("R1Math-v0", action_mode="write")()
    env.reset(seed=0, problem_index=1)
    assert env.write_step("<submit>").startswith("Error: write_step takes the text of a step")
    assert env.write_step("   ").startswith("Error: the step is empty")
    assert env.write_step(12).startswith("Error: write_step takes the text of a step")
    out = env.write_step("So 2 + 2 = 5.")
    assert not out.startswith("Error") and "Step 1: So 2 + 2 = 5." in out
    assert env.info["step_label"] in ("wrong", "neutral")


# -- GRPOTrainer with the environment factory ---------------------------------------------------------------


def _tiny(tok):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    cfg = Qwen2Config(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=4096,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=True,
    )
    return Qwen2ForCausalLM(cfg)


def _call_bias(tok) -> list:
    """A generation bias toward well-formed calls (submit, or expand 0 to 3), so that a random tiny
    model plays real episodes: the model still chooses among them by sampling."""
    calls = ['{"name": "submit", "arguments": {}}'] + [
        '{"name": "expand", "arguments": {"index": ' + str(i) + "}}" for i in range(4)
    ]
    bias = {}
    for c in calls:
        ids = tok.encode("<tool_call>\n" + c + "\n</tool_call>") + [tok.eos_token_id]
        for j in range(1, len(ids) + 1):
            bias[tuple(ids[:j])] = 20.0 * j
    return [[list(k), v] for k, v in bias.items()]


def test_grpo_trainer_runs_with_the_environment_factory(tmp_path: Path) -> None:
    from trl import GRPOConfig, GRPOTrainer

    tok = tool_chat_tokenizer()
    factory = environment_factory("R1Arith-v0")
    args = GRPOConfig(
        output_dir=str(tmp_path),
        max_steps=2,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=1024,
        max_tool_calling_iterations=4,
        learning_rate=1e-3,
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        save_strategy="no",
        seed=0,
        disable_tqdm=True,
        generation_kwargs={"sequence_bias": _call_bias(tok)},
    )
    trainer = GRPOTrainer(
        model=_tiny(tok),
        args=args,
        train_dataset=grpo_dataset(factory, 8),
        processing_class=tok,
        environment_factory=factory,
    )
    trainer.train()
    assert trainer.state.global_step == 2
    logs = [h for h in trainer.state.log_history if "rewards/R1ToolEnv/mean" in h]
    assert len(logs) == 2 and all(h["tools/call_frequency"] > 0 for h in logs)
    envs = trainer._environment_pool[None]
    assert len(envs) == 4 and len({e.info["problem_index"] for e in envs}) == 1  # one GRPO group, one problem
    rewards = [e.get_reward() for e in envs]
    assert logs[-1]["rewards/R1ToolEnv/mean"] == pytest.approx(sum(rewards) / 4, abs=1e-5)  # r1gym's rewards
    for e in envs:  # each one what the env pays for the same actions
        env = gym.make("R1Arith-v0", obs_mode="text")
        env.reset(seed=e.info["problem_index"], options={"problem_index": e.info["problem_index"]})
        total = sum(env.step(a)[1] for a in e.actions)
        assert e.get_reward() == pytest.approx(total - e.penalty * e.rejected_calls)


def test_example_smoke(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "trl_r1.py"), "--smoke", "--output-dir", str(tmp_path / "run")]
        + ["--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["grpo_optimizer_steps"] == 2
    for stage in ("before", "after_sft", "after_grpo"):
        assert set(figures[stage]) == {"episodes", "valid_tool_call_rate", "accuracy", "mean_reward"}


def test_the_openenv_path_pays_what_the_in_process_factory_pays() -> None:
    """TRL's OpenEnv path: the same tools over a GenericEnvClient session to a real ``r1gym serve``."""
    pytest.importorskip("openenv")
    import threading

    from r1gym.integrations.trl import openenv_environment_factory

    proc = subprocess.Popen(
        [sys.executable, "-m", "r1gym.cli", "serve", "R1Math-v0", "--port", "0", "--max-sessions", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(60)
        assert line and "http://127.0.0.1:" in line[0], proc.stderr.read() if proc.poll() is not None else line
        url = "http://127.0.0.1:" + line[0].split("http://127.0.0.1:")[1].split()[0]
        wire, local = openenv_environment_factory(url)(), environment_factory("R1Math-v0")()
        assert wire.reset(seed=5) == local.reset(seed=5)
        for call in (("expand", 0), ("expand", 9), ("backtrack",), ("expand", 1), ("submit",)):
            name, *args = call
            assert getattr(wire, name)(*args) == getattr(local, name)(*args), call
        assert wire.get_reward() == pytest.approx(local.get_reward())
    finally:
        proc.terminate()
        proc.wait(15)
