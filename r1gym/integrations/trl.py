"""r1gym in TRL: an environment factory for ``GRPOTrainer(environment_factory=...)``.

TRL (tested with ``trl==1.16.0``, ``pip install 'r1gym[trl]'``) plays multi-turn episodes through
*environment objects*: it calls ``factory()`` once per rollout slot, calls ``reset(**row)`` before
each rollout (the row of the training dataset; a returned string is appended to the last user
message), exposes every public method but ``reset`` and ``get_reward`` as a tool (its schema is
read from the type hints and the Google docstring), runs the tool calls the model makes, feeds
back what they return as ``tool`` messages, and scores the rollout with ``get_reward()``.

:func:`environment_factory` ``(ENV_ID, **env_kwargs)`` returns such a factory for any r1gym id:

* menu mode (default): tools ``expand(index)``, ``backtrack()``, ``submit()``;
* write mode (``action_mode="write"``): the same plus ``write_step(text)``, the model's own next
  step, judged by the env (``num_candidates=0``: no ``expand``);
* ``reset(seed=None, problem_index=None, **row)`` returns the state text (the chat user message's
  text, :func:`r1gym.integrations.chat.state_text`); give every member of a GRPO group the same
  ``seed`` and ``problem_index`` columns (:func:`grpo_dataset`) and they play the same problem and
  the same tree;
* ``get_reward()`` is the episode's return in r1gym: the submit reward (``info["reward_terms"]``
  are kept in :attr:`R1ToolEnv.info`), plus any invalid-call penalties; an episode that never
  submits earns no accuracy.

**A bad tool call never raises**: an index out of range, a non-integer index, a written step in
menu mode sent to ``expand``, a protocol token sent to ``write_step``, a call after the episode
ended: the tool returns a string that starts with ``"Error:"`` and says what was wrong, and, as
an invalid reply in :mod:`r1gym.integrations.chat`, costs the env's ``invalid_action_penalty``
and one move of the step limit (a call after the end costs nothing). A tool the class does not
have (``write_step`` in menu mode) is answered by TRL itself (``{"error": "Tool write_step not
found."}``).

:func:`openenv_environment_factory` ``(base_url)`` is the same object over the wire: TRL's
native OpenEnv path is an environment class that holds an OpenEnv client, and this one holds an
``openenv`` ``GenericEnvClient`` connected to ``r1gym serve`` (menu mode).

Examples:
    >>> from r1gym.integrations.trl import environment_factory
    >>> env = environment_factory("R1Arith-v0")()
    >>> text = env.reset(seed=0, problem_index=3)
    >>> env.expand(9).startswith("Error: candidate 9 does not exist")
    True
    >>> env.submit().startswith("You submitted")
    True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import gymnasium as gym

from r1gym.core.actions import BACKTRACK_TOKEN, SUBMIT_TOKEN
from r1gym.core.env import DEFAULT_HORIZON
from r1gym.integrations.chat import state_text

#: The version of TRL this module was tested with (``pip install 'r1gym[trl]'``).
TESTED_TRL_VERSION = "1.16.0"

TOOL_SYSTEM_PROMPT = """You solve a problem step by step by walking a tree of partial solutions, with tools.
Each state shows the question, the steps of your path so far{cands}.
Call exactly one tool per turn:
{tools}
The reward comes at submit: mostly for a correct answer, a little more for fewer steps. A bad call \
(an index that is not shown{bad}) costs a small penalty; you have at most {limit} calls."""

_TOKEN_IN_STEP = re.compile(r"<\s*/?\s*(?:expand[\s_-]*\d*|backtrack|submit)\s*>", re.IGNORECASE)


def system_prompt(action_mode: str = "menu", num_candidates: int = 4, max_moves: int = DEFAULT_HORIZON) -> str:
    """The system message's text for a tool-calling model: the rules and the tools of the mode."""
    tools = []
    if num_candidates:
        tools.append(
            f"expand(index): take candidate <expand_index> (0 to {num_candidates - 1}) as your next step"
            if num_candidates > 1
            else "expand(index): take candidate <expand_0> (index 0) as your next step"
        )
    if action_mode == "write":
        tools.append("write_step(text): write your own next step (one sentence, with its computation)")
    tools += ["backtrack(): undo your last step", "submit(): answer with the result of your path (ends the episode)"]
    return TOOL_SYSTEM_PROMPT.format(
        cands=", and candidate next steps <expand_i> with a confidence each" if num_candidates else "",
        tools="\n".join(f"- {t}" for t in tools),
        bad=", a step that is not a step" if action_mode == "write" else "",
        limit=max_moves,
    )


def _state(obs: Mapping[str, Any]) -> str:
    """The state text: chat's :func:`state_text` (its write-mode form where no candidates are shown)."""
    return state_text(obs, write="candidates" not in obs)


def _with_rules(text: str, prompt: Any, action_mode: str, k: int, max_turns: int | None = None) -> str:
    """``text`` (the first state), after the rules unless the dataset row's ``prompt`` has a system message."""
    has_system = isinstance(prompt, list) and any(isinstance(m, Mapping) and m.get("role") == "system" for m in prompt)
    if has_system:
        return text
    rules = system_prompt(action_mode, k) if max_turns is None else system_prompt(action_mode, k, max_turns)
    return rules + "\n\n" + text


def _as_index(index: Any) -> int | None:
    """A candidate index as the model sent it (an int, ``2.0``, ``"2"``), or None."""
    if isinstance(index, bool):
        return None
    if isinstance(index, int):
        return index
    if isinstance(index, float) and index.is_integer():
        return int(index)
    if isinstance(index, str) and re.fullmatch(r"\s*\d{1,6}\s*", index):
        return int(index)
    return None


class R1ToolEnv:
    """One r1gym episode played through tool calls (menu mode: ``expand``, ``backtrack``, ``submit``).

    Made by :func:`environment_factory`; TRL makes one per rollout slot and resets it before each
    rollout. Only the tool methods, ``reset`` and ``get_reward`` are public methods: TRL turns
    every other public method into a tool.

    Attributes:
        env: the Gymnasium env (``obs_mode="text"``).
        obs, info: the last observation and info (``info`` holds ``answer``, ``is_correct`` and
            ``reward_terms`` after submit).
        total_reward: the episode's return so far (what :meth:`get_reward` returns).
        done: the episode ended (submitted, or the step limit was reached).
        actions: the env actions played in this episode (menu ints, or write-mode strings).
        turns, tool_calls, invalid_calls: moves taken (invalid calls included), tool calls
            received, and tool calls that were invalid, in this episode.
    """

    def __init__(self, env_id: str, **env_kwargs: Any):
        kwargs = dict(env_kwargs)
        if kwargs.setdefault("obs_mode", "text") != "text":
            raise ValueError(f"the TRL environment reads text: obs_mode must be 'text', got {kwargs['obs_mode']!r}")
        self.env_id = env_id
        self.env = gym.make(env_id, **kwargs)
        unwrapped = self.env.unwrapped
        self.action_mode = unwrapped.action_mode
        self.num_candidates = int(unwrapped.num_candidates)
        self.penalty = float(unwrapped.invalid_action_penalty)
        spec = getattr(self.env, "spec", None)
        self.max_turns = int(getattr(spec, "max_episode_steps", None) or DEFAULT_HORIZON)
        self.obs: dict[str, Any] | None = None
        self.info: dict[str, Any] = {}
        self.total_reward = 0.0
        self.done = True
        self.turns = self.tool_calls = self.invalid_calls = 0
        self.actions: list[int | str] = []  # the env actions played in this episode, in order
        self.rejected_calls = 0  # bad calls refused before the env (each costs the penalty)

    # -- TRL's interface ----------------------------------------------------------------------------

    def reset(self, seed: int | None = None, problem_index: int | None = None, **kwargs: Any) -> str:
        """Start an episode and return the state text.

        TRL passes the dataset row: ``seed`` and ``problem_index`` columns pin the problem (the
        same for every member of a GRPO group); other columns are ignored. When the row's prompt
        has no system message, the rules and the tools come first in the returned text.
        """
        options = {"problem_index": int(problem_index)} if problem_index is not None else None
        obs, info = self.env.reset(seed=None if seed is None else int(seed), options=options)
        self.obs, self.info = obs, dict(info)
        self.total_reward = 0.0
        self.done = False
        self.turns = self.tool_calls = self.invalid_calls = 0
        self.actions = []
        self.rejected_calls = 0
        text = _state(obs)
        prompt = kwargs.get("prompt")
        return _with_rules(text, prompt, self.action_mode, self.num_candidates, self.max_turns)

    def get_reward(self) -> float:
        """The episode's return in r1gym (the submit reward plus invalid-call penalties)."""
        return float(self.total_reward)

    # -- the tools ------------------------------------------------------------------------------------

    def expand(self, index: int) -> str:
        """Take one of the candidate next steps shown in the state.

        Args:
            index: the number i of the candidate shown as <expand_i>.

        Returns:
            The new state: the question, the path with the new step, and the next candidates.
        """
        self.tool_calls += 1
        if self.done:
            return self._over()
        i = _as_index(index)
        if i is None:
            what = "a written step goes to write_step" if self.action_mode == "write" else "this is menu mode"
            return self._invalid(f"expand takes the number of a candidate, got {index!r} ({what})")
        if not 0 <= i < self.num_candidates:
            return self._invalid(
                f"candidate {i} does not exist (expand takes 0 to {self.num_candidates - 1})"
                if self.num_candidates
                else "no candidates are shown in this environment: use write_step"
            )
        return self._act(f"<expand_{i}>" if self.action_mode == "write" else i)

    def backtrack(self) -> str:
        """Undo the last step of your path and return to the state before it.

        Returns:
            The state one step back.
        """
        self.tool_calls += 1
        if self.done:
            return self._over()
        return self._act(BACKTRACK_TOKEN if self.action_mode == "write" else self.num_candidates)

    def submit(self) -> str:
        """Answer with the result of your path. This ends the episode.

        Returns:
            The answer submitted.
        """
        self.tool_calls += 1
        if self.done:
            return self._over()
        return self._act(SUBMIT_TOKEN if self.action_mode == "write" else self.num_candidates + 1)

    # -- inside ---------------------------------------------------------------------------------------

    def _over(self) -> str:
        self.invalid_calls += 1
        return "Error: the episode is over; do not call more tools."

    def _invalid(self, why: str) -> str:
        """A bad call: the state does not change; the penalty and one move, as chat's invalid replies."""
        self.invalid_calls += 1
        self.rejected_calls += 1
        self.turns += 1
        self.total_reward -= self.penalty
        self.info = {**self.info, "invalid_action": True, "invalid_reason": why}
        if self.turns >= self.max_turns:
            self.done = True
            return f"Error: {why}. The step limit is reached: the episode is over."
        return f"Error: {why}."

    def _act(self, action: int | str) -> str:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.actions.append(action)
        self.turns += 1
        self.total_reward += float(reward)
        self.obs, self.info = obs, dict(info)
        truncated = bool(truncated or (not terminated and self.turns >= self.max_turns))
        self.done = bool(terminated or truncated)
        if terminated:
            return f"You submitted {info.get('answer', '')!r}. The episode is over."
        if info.get("invalid_action"):
            self.invalid_calls += 1
            why = info.get("invalid_reason", "not allowed here")
            text = f"Error: that move is not allowed here: {why}."
            return text if truncated else text + "\n\n" + _state(obs)
        if truncated:
            return "The step limit is reached: the episode is over, with no answer."
        return _state(obs)


class R1WriteToolEnv(R1ToolEnv):
    """Write mode with candidates shown: ``expand``, ``backtrack``, ``submit`` and ``write_step``."""

    def write_step(self, text: str) -> str:
        """Write your own next step of the solution; it is appended to your path and judged.

        Args:
            text: the step, one sentence with its computation, e.g. "Tom has 3 + 4 = 7 apples."

        Returns:
            The new state: the question and the path with your step.
        """
        self.tool_calls += 1
        if self.done:
            return self._over()
        if not isinstance(text, str):
            return self._invalid(f"write_step takes the text of a step, got {text!r}")
        if _TOKEN_IN_STEP.search(text):
            return self._invalid("write_step takes the text of a step; use the expand, backtrack and submit tools")
        if not text.strip():
            return self._invalid("the step is empty")
        return self._act(text)


class R1WriteOnlyToolEnv(R1WriteToolEnv):
    """Write mode without candidates (``num_candidates=0``): ``write_step``, ``backtrack``, ``submit``."""

    expand = None  # type: ignore[assignment]  # not a tool here: no candidates are shown


class R1EnvironmentFactory:
    """The callable TRL takes as ``environment_factory``: ``factory()`` makes one fresh tool env.

    Picklable (an id and keyword arguments), as TRL's async trainer needs.
    """

    def __init__(self, env_id: str, **env_kwargs: Any):
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs)
        probe = R1ToolEnv(env_id, **self.env_kwargs)  # a bad id or argument fails here, not in the trainer
        self.action_mode, self.num_candidates, self.max_turns = probe.action_mode, probe.num_candidates, probe.max_turns
        probe.env.close()
        if self.action_mode == "menu":
            self.cls: type[R1ToolEnv] = R1ToolEnv
        else:
            self.cls = R1WriteToolEnv if self.num_candidates else R1WriteOnlyToolEnv

    def __call__(self) -> R1ToolEnv:
        return self.cls(self.env_id, **self.env_kwargs)

    def system_prompt(self) -> str:
        """The system message's text for this env's mode and tools."""
        return system_prompt(self.action_mode, self.num_candidates, self.max_turns)

    def tool_schemas(self) -> list[dict[str, Any]]:
        """The JSON schemas TRL (transformers' ``get_json_schema``) makes of the tool methods."""
        from transformers.utils import get_json_schema

        env = self()
        try:
            return [get_json_schema(getattr(env, name)) for name in tool_names(type(env))]
        finally:
            env.env.close()

    def __repr__(self) -> str:
        return f"R1EnvironmentFactory({self.env_id!r}, **{self.env_kwargs!r})"


def tool_names(cls: type) -> list[str]:
    """The methods of ``cls`` that TRL turns into tools (public functions but ``reset`` and ``get_reward``)."""
    import inspect

    return [
        name
        for name, _ in inspect.getmembers(cls, predicate=inspect.isfunction)
        if name not in ("reset", "get_reward") and not name.startswith("_")
    ]


def environment_factory(env_id: str, **env_kwargs: Any) -> R1EnvironmentFactory:
    """What ``GRPOTrainer(environment_factory=...)`` takes, for an r1gym env id.

    Args:
        env_id: a registered id (``"R1Math-v0"``, ...).
        **env_kwargs: ``gym.make`` keyword arguments (``action_mode="write"``, ``difficulty``,
            ``num_candidates``, ``reward_weights``, ...); ``obs_mode`` is ``"text"``.

    Returns:
        A picklable callable; each call makes an :class:`R1ToolEnv` (menu mode) or
        :class:`R1WriteToolEnv` / :class:`R1WriteOnlyToolEnv` (write mode).
    """
    return R1EnvironmentFactory(env_id, **env_kwargs)


def grpo_dataset(
    factory: R1EnvironmentFactory | None = None, num_problems: int = 64, seed: int = 0, first_problem: int = 0
) -> Any:
    """A ``datasets.Dataset`` for ``GRPOTrainer``: one row per problem.

    Columns: ``prompt`` (the system message with the rules and an empty user message, to which
    TRL appends what ``reset`` returns), ``seed`` and ``problem_index`` (read by ``reset``: the
    ``num_generations`` members of a group, which share a row, play the same problem and tree).
    """
    from datasets import Dataset

    system = factory.system_prompt() if factory is not None else system_prompt()
    n = int(num_problems)
    return Dataset.from_dict(
        {
            "prompt": [[{"role": "system", "content": system}, {"role": "user", "content": ""}] for _ in range(n)],
            "seed": [int(seed) + i for i in range(n)],
            "problem_index": [int(first_problem) + i for i in range(n)],
        }
    )


def _tool_call(name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "arguments": dict(arguments)}}


def oracle_transcripts(
    factory: R1EnvironmentFactory, num_episodes: int = 64, seed: int = 0, first_problem: int = 0
) -> list[dict[str, Any]]:
    """Oracle episodes as tool-calling conversations, for ``SFTTrainer`` (a cold start).

    Each row: ``messages`` (system, user with the first state, then one assistant turn per action
    with its ``tool_calls`` and the ``tool`` message it returned, and a last assistant message
    after submit) and ``tools`` (the tool schemas). The oracle is the env's own
    (``reveal=True``: ``info["oracle_action"]``); in write mode, where the reference step is not
    among the candidates, it calls ``write_step`` with the reference step's text.
    """
    oracle = R1EnvironmentFactory(factory.env_id, **{**factory.env_kwargs, "reveal": True})
    tools = factory.tool_schemas()
    system = factory.system_prompt()
    rows = []
    for e in range(int(num_episodes)):
        env = oracle()
        first = env.reset(seed=int(seed) + e, problem_index=int(first_problem) + e, prompt=[{"role": "system"}])
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": first},
        ]
        while not env.done:
            a = env.info["oracle_action"]
            if isinstance(a, str):
                m = re.fullmatch(r"<expand_(\d+)>", a)
                if m:
                    name, args = "expand", {"index": int(m.group(1))}
                elif a in (BACKTRACK_TOKEN, SUBMIT_TOKEN):
                    name, args = a.strip("<>"), {}
                else:
                    name, args = "write_step", {"text": a}
            elif a < env.num_candidates:
                name, args = "expand", {"index": int(a)}
            else:
                name, args = ("backtrack" if a == env.num_candidates else "submit"), {}
            result = getattr(env, name)(**args)
            messages.append({"role": "assistant", "content": "", "tool_calls": [_tool_call(name, args)]})
            messages.append({"role": "tool", "name": name, "content": result})
        messages.append({"role": "assistant", "content": "Done."})
        rows.append({"messages": messages, "tools": tools})
        env.env.close()
    return rows


# -- TRL's native OpenEnv path: the same tools over an OpenEnv client connected to `r1gym serve` --------


class R1OpenEnvToolEnv:
    """The menu-mode tools over the wire: an ``openenv`` ``GenericEnvClient`` (sync) on ``r1gym serve``.

    TRL's OpenEnv integration is an environment class holding an OpenEnv client; this is that class
    for r1gym. The server runs the env, parses nothing for us (``{"action": i}`` is sent), and returns
    the reward; ``get_reward`` sums the episode's rewards as :class:`R1ToolEnv` does. One WebSocket
    session per instance: start the server with ``--max-sessions`` at least the number of rollout
    slots (``per_device_train_batch_size`` times ``steps_per_generation``).
    """

    def __init__(self, base_url: str):
        from openenv.core import GenericEnvClient

        self.base_url = base_url
        self._client = GenericEnvClient(base_url=base_url).sync()
        self._client.__enter__()
        self.num_candidates = 0
        self.observation: dict[str, Any] = {}
        self.total_reward = 0.0
        self.done = True
        self.turns = self.tool_calls = self.invalid_calls = 0

    def reset(self, seed: int | None = None, problem_index: int | None = None, **kwargs: Any) -> str:
        """Start an episode on the server and return the state text (see :meth:`R1ToolEnv.reset`)."""
        data = {}
        if seed is not None:
            data["seed"] = int(seed)
        if problem_index is not None:
            data["problem_index"] = int(problem_index)
        r = self._client.reset(**data)
        self.observation = dict(r.observation)
        self.num_candidates = int(self.observation["num_candidates"])
        self.total_reward = 0.0
        self.done = bool(r.done)
        self.turns = self.tool_calls = self.invalid_calls = 0
        return _with_rules(self.observation["prompt"], kwargs.get("prompt"), "menu", self.num_candidates)

    def get_reward(self) -> float:
        """The episode's return (the submit reward plus penalties), as the server reported it."""
        return float(self.total_reward)

    def expand(self, index: int) -> str:
        """Take one of the candidate next steps shown in the state.

        Args:
            index: the number i of the candidate shown as <expand_i>.

        Returns:
            The new state: the question, the path with the new step, and the next candidates.
        """
        self.tool_calls += 1
        i = _as_index(index)
        if self.done:
            self.invalid_calls += 1
            return "Error: the episode is over; do not call more tools."
        if i is None or not 0 <= i < self.num_candidates:
            why = (
                f"expand takes the number of a candidate, got {index!r} (this is menu mode)"
                if i is None
                else f"candidate {i} does not exist (expand takes 0 to {self.num_candidates - 1})"
            )
            # The server counts it as the in-process tools do (the penalty and one move): a token past K
            # is its chat parser's invalid reply.
            r = self._client.step({"text": f"<expand_{self.num_candidates}>"})
            self.invalid_calls += 1
            self.turns += 1
            self.total_reward += float(r.reward or 0.0)
            self.observation = dict(r.observation)
            self.done = bool(r.done)
            return f"Error: {why}. The step limit is reached: the episode is over." if self.done else f"Error: {why}."
        return self._step(i)

    def backtrack(self) -> str:
        """Undo the last step of your path and return to the state before it.

        Returns:
            The state one step back.
        """
        self.tool_calls += 1
        return self._step(self.num_candidates)

    def submit(self) -> str:
        """Answer with the result of your path. This ends the episode.

        Returns:
            The answer submitted.
        """
        self.tool_calls += 1
        return self._step(self.num_candidates + 1)

    def _step(self, action: int) -> str:
        if self.done:
            self.invalid_calls += 1
            return "Error: the episode is over; do not call more tools."
        r = self._client.step({"action": action})
        self.turns += 1
        self.observation = dict(r.observation)
        self.total_reward += float(r.reward or 0.0)
        self.done = bool(r.done)
        if self.observation.get("terminated"):
            return f"You submitted {self.observation.get('answer', '')!r}. The episode is over."
        info = self.observation.get("info") or {}
        if info.get("invalid_action"):
            self.invalid_calls += 1
            return (
                f"Error: that move is not allowed here: {info.get('invalid_reason', 'masked')}.\n\n"
                + (self.observation["prompt"])
            )
        if self.done:
            return "The step limit is reached: the episode is over, with no answer."
        return self.observation["prompt"]


class R1OpenEnvFactory:
    """``environment_factory`` for TRL's OpenEnv path: each call connects a new session to ``base_url``."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def __call__(self) -> R1OpenEnvToolEnv:
        return R1OpenEnvToolEnv(self.base_url)

    def __repr__(self) -> str:
        return f"R1OpenEnvFactory({self.base_url!r})"


def openenv_environment_factory(base_url: str = "http://127.0.0.1:8000") -> R1OpenEnvFactory:
    """What ``GRPOTrainer(environment_factory=...)`` takes for an ``r1gym serve`` server (menu mode)."""
    return R1OpenEnvFactory(base_url)


# -- a tokenizer that needs no download, with a chat template TRL parses tool calls from ----------------

#: Markers of the Qwen2.5 chat template added to r1gym's tokenizer by :func:`tool_chat_tokenizer`
#: (the first two as special tokens).
QWEN_TOKENS = ("<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>")


def tool_chat_tokenizer() -> Any:
    """r1gym's shipped tokenizer with TRL's Qwen2.5 chat template, for tiny models built from a config.

    TRL parses tool calls only for chat templates it knows (``trl.chat_template_utils
    .add_response_schema``); Qwen2.5's is one. Its markers are added as special tokens (one id each),
    ``<|im_end|>`` is the end of a turn (``eos_token``) and ``<pad>`` pads; nothing is downloaded.
    """
    from trl.chat_template_utils import qwen2_5_chat_template

    from r1gym.tokenizer import PAD, load_tokenizer

    tok = load_tokenizer()
    tok.add_special_tokens({"additional_special_tokens": list(QWEN_TOKENS[:2])})  # turn markers
    tok.add_tokens(list(QWEN_TOKENS[2:]))  # tool markers: kept by decode(..., skip_special_tokens=True), as in Qwen
    tok.chat_template = qwen2_5_chat_template
    tok.eos_token = "<|im_end|>"
    tok.pad_token = PAD
    tok.padding_side = "left"
    return tok


__all__ = [
    "QWEN_TOKENS",
    "TESTED_TRL_VERSION",
    "R1EnvironmentFactory",
    "R1OpenEnvFactory",
    "R1OpenEnvToolEnv",
    "R1ToolEnv",
    "R1WriteOnlyToolEnv",
    "R1WriteToolEnv",
    "environment_factory",
    "grpo_dataset",
    "openenv_environment_factory",
    "oracle_transcripts",
    "system_prompt",
    "tool_chat_tokenizer",
    "tool_names",
]
