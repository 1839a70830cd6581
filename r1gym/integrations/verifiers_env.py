"""r1gym as a `verifiers <https://github.com/PrimeIntellect-ai/verifiers>`_ environment (verifiers 0.4.0).

verifiers 0.4.0 has no ``MultiTurnEnv`` / ``Rubric`` any more: its stack is ``verifiers.v1``, where an
environment is a *taskset* (rows: prompt, system prompt, ``info``), an ``Env`` whose ``run(task, agents)``
plays one episode as the run's user (the pattern of verifiers' own TextArena taskset), and rewards and
metrics recorded on the trace (``trace.record_reward`` / ``record_metric``). This module is that, for
r1gym's chat door (:mod:`r1gym.integrations.chat`):

* :class:`R1Taskset`: ``num_examples`` seeded problems (seeds ``seed``, ``seed + 1``, ...); each row's
  prompt is :class:`~r1gym.integrations.chat.ChatEpisode`'s first user message and its system prompt
  the chat system message; ``info`` holds ``env_id``, ``seed``, ``problem_index`` and ``env_kwargs``,
  enough to rebuild the episode exactly.
* :class:`R1Env`: rebuilds the episode from ``info``, plays each model reply with
  :meth:`ChatEpisode.step` (the one parser, ``parse_action_text``; menu or write mode) and answers
  with the next user message, until the r1gym episode ends (terminated or truncated). Its reward
  ``r1gym_reward`` is r1gym's return (the sum of the episode's rewards: the submit reward and any
  invalid-move penalties); its metrics are the reward terms (``accuracy``, ``efficiency``,
  ``novelty``), ``is_correct``, ``turns``, ``invalid_replies``, ``truncated`` and the step judge's
  labels of the path's steps (``steps_correct``, ``steps_wrong``, ``steps_neutral``, ``first_error``;
  written steps in write mode, the candidates taken in the menu).
* :class:`R1ChatHarness`: verifiers' tool-less chat loop (its ``null`` harness, the same program),
  run with this interpreter instead of a ``uv``-synced script environment, so that a run needs no
  network (verifiers' own harnesses install ``uv`` and the program's packages on first use).

:func:`load_environment` returns the ``Env``; verifiers' evaluation runs it
(``verifiers.v1.cli.eval.runner.run_eval``), against any OpenAI-compatible endpoint. See
docs/trainers.md ("verifiers").
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

try:
    import verifiers.v1 as vf
    from verifiers.v1.harnesses.null.harness import NullHarness, NullHarnessConfig
    from verifiers.v1.harnesses.utils.launch import CHAT_PROGRAM_SOURCE
except ImportError as e:  # pragma: no cover - the optional extra
    raise ImportError("r1gym.integrations.verifiers_env needs verifiers: pip install 'r1gym[verifiers]'") from e

from r1gym.integrations.chat import ChatEpisode

#: The id verifiers resolves this module by (``--env.taskset.id``). verifiers imports a taskset id
#: as a top-level module name (``r1gym-verifiers`` -> ``r1gym_verifiers``), so importing this module
#: registers that name for it.
TASKSET_ID = "r1gym-verifiers"
sys.modules.setdefault(TASKSET_ID.replace("-", "_"), sys.modules[__name__])

REWARD_NAME = "r1gym_reward"
REWARD_TERMS = ("accuracy", "efficiency", "novelty")


class R1TasksetConfig(vf.TasksetConfig):
    """The rows: ``num_examples`` problems of ``env_id`` made with ``env_kwargs``, seeds from ``seed``."""

    env_id: str = "R1Math-v0"
    num_examples: int = 8
    seed: int = 0
    env_kwargs: dict[str, Any] = {}


class R1Data(vf.TaskData):
    info: dict
    """``env_id``, ``seed``, ``problem_index``, ``env_kwargs``: the episode, rebuilt exactly."""


class R1Task(vf.Task[R1Data, vf.State, vf.TaskConfig]):
    pass


class R1Taskset(vf.Taskset[R1Task, R1TasksetConfig]):
    def load(self) -> Iterator[R1Task]:
        cfg = self.config
        chat = ChatEpisode(cfg.env_id, **cfg.env_kwargs)
        try:
            for i in range(cfg.num_examples):
                seed = cfg.seed + i
                index = int(chat.reset(seed=seed)[1]["problem_index"])  # the seed's problem
                # the row is the episode of (seed, problem_index), as R1Env rebuilds it
                messages, _ = chat.reset(seed=seed, options={"problem_index": index})
                yield R1Task(
                    R1Data(
                        name=f"{cfg.env_id}#{seed}",
                        system_prompt=messages[0]["content"],
                        prompt=messages[1]["content"],
                        info={
                            "env_id": cfg.env_id,
                            "seed": seed,
                            "problem_index": index,
                            "env_kwargs": dict(cfg.env_kwargs),
                        },
                    ),
                    cfg.task,
                )
        finally:
            chat.close()


def episode_from_info(info: dict[str, Any]) -> tuple[ChatEpisode, list[dict[str, str]]]:
    """The r1gym episode of a row's ``info``, reset: ``(chat, messages)``."""
    chat = ChatEpisode(info["env_id"], **info.get("env_kwargs", {}))
    messages, _ = chat.reset(seed=info["seed"], options={"problem_index": info["problem_index"]})
    return chat, messages


def play_replies(info: dict[str, Any], replies: list[str]) -> dict[str, Any]:
    """Play ``replies`` in the row's episode in process: what :class:`R1Env` records for them."""
    chat, _ = episode_from_info(info)
    result = _Result()
    try:
        for reply in replies:
            if chat.done:
                break
            result.add(*chat.step(reply)[1:])
    finally:
        chat.close()
    return result.summary()


class _Result:
    def __init__(self) -> None:
        self.total = 0.0
        self.labels: Counter[str] = Counter()
        self.info: dict[str, Any] = {}
        self.truncated = False

    def add(self, reward: float, terminated: bool, truncated: bool, info: dict[str, Any]) -> None:
        self.total += float(reward)
        self.info = info
        self.truncated = bool(truncated)
        if info.get("step_label") and not info.get("invalid_action"):
            self.labels[info["step_label"]] += 1

    def summary(self) -> dict[str, Any]:
        info = self.info
        metrics: dict[str, float] = {
            "is_correct": float(bool(info.get("is_correct"))),
            "turns": float(info.get("turns", 0)),
            "invalid_replies": float(info.get("invalid_replies", 0)),
            "truncated": float(self.truncated),
        }
        terms = info.get("reward_terms") or {}
        for name in REWARD_TERMS:
            metrics[name] = float(terms.get(name, 0.0))
        if "first_error" in info:  # the step judge's labels
            for label in ("correct", "wrong", "neutral"):
                metrics[f"steps_{label}"] = float(self.labels[label])
            metrics["first_error"] = float(info["first_error"])
        return {"reward": self.total, "metrics": metrics, "answer": info.get("answer")}


class R1EnvConfig(vf.EnvConfig):
    # verifiers' default runtime is a Prime cloud sandbox (login and a tunnel); the chat loop runs
    # no code, so a local subprocess is the default here (--env.player.runtime.type to change it).
    player: vf.AgentConfig = vf.AgentConfig(runtime=vf.SubprocessConfig())


class R1Env(vf.Env[R1EnvConfig]):
    """One r1gym episode per task: the env plays each reply in a :class:`ChatEpisode` and answers
    with the next user message; the episode's end ends the exchange."""

    async def run(self, task, agents) -> None:
        chat, messages = episode_from_info(task.data.info)
        if messages[1]["content"] != task.data.prompt:
            chat.close()
            raise ValueError(f"task {task.data.name}: its info does not rebuild its prompt (another r1gym version?)")
        result = _Result()
        try:
            async with agents.player.interaction(task) as interaction:
                segment = await interaction.turn()
                while not segment.terminated:
                    messages, reward, terminated, truncated, info = chat.step(segment.last_reply)
                    result.add(reward, terminated, truncated, info)
                    if terminated or truncated:
                        break
                    segment = await interaction.turn(messages[-1]["content"])
        finally:
            chat.close()
        summary = result.summary()
        trace = interaction.trace
        trace.record_reward(REWARD_NAME, summary["reward"], 1.0)
        trace.record_metrics(summary["metrics"])
        trace.info["r1gym_answer"] = summary["answer"]
        trace.info["r1gym_ended"] = bool(chat.done)


class R1ChatHarnessConfig(NullHarnessConfig):
    pass


class R1ChatHarness(NullHarness):
    """verifiers' ``null`` harness (a tool-less chat loop, the same program), run with this Python
    instead of a ``uv``-synced environment: no ``uv``, no download. The program needs ``openai``,
    ``mcp``, ``httpx``, ``httpx2``, ``tenacity`` and ``certifi``, all installed with verifiers."""

    EXECUTES_CODE = False

    async def setup(self, runtime) -> None:
        return None

    async def launch(self, ctx, trace, runtime, endpoint, secret, mcp_urls, data, tool_interception_url=None):
        system_prompt, prompt = self.resolve_prompt(data)
        source = CHAT_PROGRAM_SOURCE.encode()
        path = f"{runtime.scripts_dir}/r1gym-chat-{hashlib.sha256(source).hexdigest()[:16]}.py"
        await runtime.write(path, source)
        args = [f"--base-url={endpoint}", f"--api-key={secret}", f"--model={ctx.model}"]
        if tool_interception_url:
            args.append(f"--tool-interception-url={tool_interception_url}")
        if system_prompt:
            args.append(f"--system-prompt={system_prompt}")
        if isinstance(prompt, str):
            args.append(f"--prompt={prompt}")
        return await runtime.run_program([sys.executable, path, *args], {**self.config.resolved_env})


def load_environment(env_id: str = "R1Math-v0", num_examples: int = 8, seed: int = 0, **env_kwargs: Any) -> R1Env:
    """The verifiers environment of ``env_id``: ``num_examples`` problems, seeds ``seed`` onwards.

    ``env_kwargs`` go to ``gym.make`` (``action_mode="write"``, ``num_candidates=0``, ``difficulty``...);
    ``obs_mode`` is ``"text"``. Run it with verifiers' evaluation (``run_eval``) or any trainer that
    takes a ``verifiers.v1.Env``.
    """
    taskset = R1TasksetConfig(id=TASKSET_ID, env_id=env_id, num_examples=num_examples, seed=seed, env_kwargs=env_kwargs)
    return R1Env(R1EnvConfig(taskset=taskset))


__all__ = [
    "REWARD_NAME",
    "TASKSET_ID",
    "R1ChatHarness",
    "R1Env",
    "R1Taskset",
    "load_environment",
    "play_replies",
]
