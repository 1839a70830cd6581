"""r1gym's verifiers environment, run by verifiers' own evaluation against a local OpenAI-compatible
server on a tiny model built from a config (nothing is downloaded).

The server is the smallest chat-completions server around the model's real ``generate``: ``transformers
serve`` (5.24.0) serves a local folder offline, but its stream ends without ``data: [DONE]``, which
verifiers 0.4.0 waits for ("upstream stream ended before its terminal event"); see docs/trainers.md.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytest.importorskip("verifiers.v1")
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from r1gym.integrations.verifiers_env import (  # noqa: E402
    REWARD_NAME,
    TASKSET_ID,
    R1EnvConfig,
    R1TasksetConfig,
    load_environment,
    play_replies,
)

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


@pytest.fixture(scope="module")
def server():
    from transformers import LlamaConfig, LlamaForCausalLM

    from r1gym.tokenizer import load_tokenizer

    tok = load_tokenizer()
    tok.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=2, max_position_embeddings=4096, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    model = LlamaForCausalLM(cfg).eval()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            ids = tok.apply_chat_template(body["messages"], add_generation_prompt=True, return_tensors="pt")
            ids = ids["input_ids"] if not torch.is_tensor(ids) else ids
            n = int(body.get("max_completion_tokens") or body.get("max_tokens") or 16)
            with lock, torch.no_grad():
                out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, do_sample=False)
            text = tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True)
            usage = {"prompt_tokens": ids.shape[1], "completion_tokens": out.shape[1] - ids.shape[1]}
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            base = {"id": "r1", "created": int(time.time()), "model": body["model"]}
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                chunks = [
                    {**base, "object": "chat.completion.chunk",
                     "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}}]},
                    {**base, "object": "chat.completion.chunk",
                     "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}], "usage": usage},
                ]  # fmt: skip
                for c in chunks:
                    self.wfile.write(f"data: {json.dumps(c)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                return
            data = json.dumps({
                **base, "object": "chat.completion", "usage": usage,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "length"}],
            }).encode()  # fmt: skip
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def _eval(base_url, tmp_path, monkeypatch, env_kwargs, n=2):
    from verifiers.v1.cli.eval.runner import run_eval
    from verifiers.v1.configs.cli.eval import EvalConfig

    monkeypatch.setenv("R1GYM_TEST_KEY", "local")
    taskset = R1TasksetConfig(id=TASKSET_ID, env_id="R1Arith-v0", num_examples=n, env_kwargs=env_kwargs)
    cfg = EvalConfig(
        env=R1EnvConfig(taskset=taskset),
        model="tiny",
        client={"base_url": base_url, "api_key_var": "R1GYM_TEST_KEY"},
        sampling={"max_tokens": 12},
        num_rollouts=1,
        rich=None,
        run={"dir": str(tmp_path / "run")},
    )
    return asyncio.run(run_eval(cfg))


def _check(episodes, env_kwargs):
    assert len(episodes) == 2
    for ep in episodes:
        assert not ep.errors, ep.errors
        (trace,) = ep.traces
        assert not trace.errors, trace.errors
        replies = [n.message.content or "" for n in trace.nodes if n.sampled]
        assert replies, "the model never answered"
        expected = play_replies(ep.task.data.info, [r.strip() for r in replies])
        assert trace.rewards[REWARD_NAME].score == pytest.approx(expected["reward"])
        assert trace.metrics == pytest.approx(expected["metrics"])
        assert trace.info["r1gym_ended"] is True
        assert ep.task.data.info["env_kwargs"] == env_kwargs
    return [t.metrics for ep in episodes for t in ep.traces]


def test_rows_rebuild_their_episode():
    env = load_environment("R1Arith-v0", num_examples=3, seed=5, action_mode="write", num_candidates=0)
    tasks = list(env.taskset)
    assert [t.data.info["seed"] for t in tasks] == [5, 6, 7]
    from r1gym.integrations.verifiers_env import episode_from_info

    for t in tasks:
        chat, messages = episode_from_info(t.data.info)
        assert messages[0]["content"] == t.data.system_prompt and messages[1]["content"] == t.data.prompt
        chat.close()


def test_menu_mode_rewards_equal_r1gym(server, tmp_path, monkeypatch):
    kwargs = {"max_episode_steps": 4}
    metrics = _check(_eval(server, tmp_path, monkeypatch, kwargs), kwargs)
    assert all({"accuracy", "efficiency", "novelty", "is_correct", "invalid_replies"} <= set(m) for m in metrics)


def test_write_mode_rewards_and_step_labels(server, tmp_path, monkeypatch):
    kwargs = {"max_episode_steps": 4, "action_mode": "write", "num_candidates": 0}
    metrics = _check(_eval(server, tmp_path, monkeypatch, kwargs), kwargs)
    assert all({"steps_correct", "steps_wrong", "steps_neutral", "first_error"} <= set(m) for m in metrics)
