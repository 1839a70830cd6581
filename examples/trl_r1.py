"""The R1 pipeline with TRL alone: a cold start with SFTTrainer on oracle transcripts, then GRPOTrainer
with r1gym's environment factory, and what each stage does to the valid tool-call rate and accuracy.

    python examples/trl_r1.py                          # tiny model built from a config, CPU, a few minutes
    python examples/trl_r1.py --smoke                  # the size CI runs (well under a minute)
    python examples/trl_r1.py --model DIR --env R1Math-v0 --sft-episodes 2000 --grpo-steps 500   # a real model, GPUs

A tiny model (``Qwen2ForCausalLM`` from a config, r1gym's shipped tokenizer with TRL's Qwen2.5 chat
template) needs no download. ``--model DIR`` takes any local causal LM whose chat template TRL can
parse tool calls from (Qwen2.5/Qwen3, Llama 3.1/3.2, ...). The figures go to stdout and, with
``--out FILE``, to a JSON file. See docs/trainers.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")

import torch
from datasets import Dataset, Features, Json
from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen2Config, Qwen2ForCausalLM
from trl import GRPOConfig, GRPOTrainer, SFTConfig, SFTTrainer

from r1gym.integrations.trl import environment_factory, grpo_dataset, oracle_transcripts, tool_chat_tokenizer

TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)


def tiny_model(tokenizer, hidden: int, layers: int, seed: int) -> Qwen2ForCausalLM:
    """A small causal LM built from a config (random weights), sized to r1gym's tokenizer."""
    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=8192,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        tie_word_embeddings=True,
    )
    return Qwen2ForCausalLM(config)


@torch.no_grad()
def play(model, tokenizer, factory, episodes: int, first_problem: int, max_new_tokens: int, max_calls: int) -> dict:
    """Greedy episodes through the tools: valid tool-call rate, accuracy, mean reward."""
    model.eval()
    tools = factory.tool_schemas()
    system = {"role": "system", "content": factory.system_prompt()}
    turns = valid = correct = 0
    rewards = []
    for e in range(episodes):
        env = factory()
        messages = [
            system,
            {
                "role": "user",
                "content": env.reset(seed=first_problem + e, problem_index=first_problem + e, prompt=[system]),
            },
        ]
        for _ in range(max_calls):
            ids = tokenizer.apply_chat_template(
                messages, tools=tools, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            out = model.generate(
                **ids,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
            )
            reply = tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
            turns += 1
            call = TOOL_CALL.search(reply)
            if call is None:
                break  # no tool call: the model ended its turn; the episode ends unfinished
            try:
                parsed = json.loads(call.group(1))
                name, args = parsed["name"], dict(parsed.get("arguments") or {})
                result = getattr(env, name)(**args) if name in {t["function"]["name"] for t in tools} else None
            except (ValueError, KeyError, TypeError, AttributeError):
                result = None
            if result is None or result.startswith("Error:"):
                break
            valid += 1
            messages += [
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{"type": "function", "function": {"name": name, "arguments": args}}],
                },
                {"role": "tool", "name": name, "content": result},
            ]
            if env.done:
                break
        correct += bool(env.info.get("is_correct"))
        rewards.append(env.get_reward())
        env.env.close()
    return {
        "episodes": episodes,
        "valid_tool_call_rate": valid / max(turns, 1),
        "accuracy": correct / episodes,
        "mean_reward": sum(rewards) / episodes,
    }


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="R1Arith-v0")
    p.add_argument("--model", default=None, help="a local model directory (default: a tiny model from a config)")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--sft-episodes", type=int, default=128)
    p.add_argument("--sft-epochs", type=float, default=3)
    p.add_argument("--sft-lr", type=float, default=3e-3)
    p.add_argument("--grpo-steps", type=int, default=20)
    p.add_argument("--grpo-lr", type=float, default=1e-4)
    p.add_argument("--num-generations", type=int, default=4)
    # TRL counts the tool results too: about 160 tokens a state and 4-5 calls an episode
    p.add_argument("--max-completion-length", type=int, default=2048)
    p.add_argument("--eval-episodes", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--smoke", action="store_true", help="the CI size: a few steps of each stage")
    p.add_argument("--output-dir", default="runs/trl_r1")
    p.add_argument("--out", default=None, help="write the figures to this JSON file")
    a = p.parse_args(argv)
    if a.smoke:  # plumbing only: the untrained model writes no call, so 256 tokens hold its rollouts
        a.sft_episodes, a.sft_epochs, a.grpo_steps, a.eval_episodes, a.max_completion_length = 16, 1, 2, 3, 256
    t0 = time.time()
    cpu = not torch.cuda.is_available()
    factory = environment_factory(a.env)
    if a.model:
        tokenizer = AutoTokenizer.from_pretrained(a.model, padding_side="left")
        model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32 if cpu else torch.bfloat16)
    else:
        tokenizer = tool_chat_tokenizer()
        model = tiny_model(tokenizer, a.hidden, a.layers, a.seed)
    held_out = 100_000  # evaluation problems are far from the training ones
    figures: dict = {"env": a.env, "model": a.model or f"tiny Qwen2 (hidden {a.hidden}, {a.layers} layers)"}
    play_args = dict(episodes=a.eval_episodes, first_problem=held_out, max_new_tokens=48, max_calls=12)
    figures["before"] = play(model, tokenizer, factory, **play_args)
    print("before:", figures["before"], flush=True)

    # 1. cold start: SFT on the oracle's tool-calling transcripts
    rows = oracle_transcripts(factory, a.sft_episodes, seed=a.seed)
    # what both trainers share: no checkpoints, no loggers, the seed, bf16 only off the CPU
    trainer_args = dict(save_strategy="no", report_to="none", use_cpu=cpu, seed=a.seed, disable_tqdm=True, bf16=not cpu)
    sft = SFTTrainer(
        model=model,
        processing_class=tokenizer,
        # Json: each call keeps its own arguments (Arrow would give every call the union of the
        # keys, and teach submit() as {"index": null})
        train_dataset=Dataset.from_list(rows, features=Features({"messages": Json(), "tools": Json()})),
        args=SFTConfig(
            output_dir=str(Path(a.output_dir) / "sft"),
            num_train_epochs=a.sft_epochs,
            learning_rate=a.sft_lr,
            per_device_train_batch_size=8,
            max_length=4096,
            assistant_only_loss=True,  # the loss on the model's calls, not on the states the tools return
            logging_steps=10,
            **trainer_args,
        ),
    )
    sft.train()
    model = sft.model
    figures["after_sft"] = play(model, tokenizer, factory, **play_args)
    print("after SFT:", figures["after_sft"], flush=True)

    # 2. GRPO with the environment factory: rewards from r1gym's get_reward
    grpo = GRPOTrainer(
        model=model,
        processing_class=tokenizer,
        train_dataset=grpo_dataset(factory, max(a.grpo_steps, 8), seed=a.seed + 10_000, first_problem=10_000),
        environment_factory=factory,
        args=GRPOConfig(
            output_dir=str(Path(a.output_dir) / "grpo"),
            max_steps=a.grpo_steps,
            learning_rate=a.grpo_lr,
            per_device_train_batch_size=a.num_generations,
            num_generations=a.num_generations,
            max_completion_length=a.max_completion_length,
            max_tool_calling_iterations=12,
            temperature=1.0,
            logging_steps=1,
            **trainer_args,
        ),
    )
    grpo.train()
    model = grpo.model
    logs = [h for h in grpo.state.log_history if "reward" in h]
    figures["grpo_train_reward"] = [round(h["reward"], 4) for h in logs]
    figures["grpo_tool_failure_frequency"] = [round(h.get("tools/failure_frequency", 0.0), 4) for h in logs]
    figures["grpo_optimizer_steps"] = grpo.state.global_step
    figures["after_grpo"] = play(model, tokenizer, factory, **play_args)
    print("after GRPO:", figures["after_grpo"], flush=True)
    figures["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(figures))
    if a.out:
        Path(a.out).write_text(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
