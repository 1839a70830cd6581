"""An episode as a conversation: the one documented way to put a chat model in an r1gym environment.

* :func:`system_message`: the rules and the text protocol (``<expand_i>``, ``<backtrack>``,
  ``<submit>``), once, first.
* :func:`user_message` (:func:`state_text`): the state, as the user: the question, the path so
  far, the candidates each behind its action token with its confidence, the other actions.
* The model's reply, as the assistant, is read by the one parser,
  :func:`r1gym.core.actions.parse_action_text`: lenient with formatting (whitespace, case,
  ``Action: submit``, a token inside a sentence, an explanation after it), strict where it matters
  (two different actions, or a candidate index past K, are invalid).
* :func:`render` turns the messages into the prompt text with a tokenizer's chat template (or
  r1gym's plain format without one).

:class:`ChatEpisode` plays it: ``reset()`` gives the first messages, ``step(reply)`` appends the
reply and the next state. **A reply that names no action** (or names two, or a candidate that does
not exist) **is an invalid action**: the state does not change, it costs the environment's
``invalid_action_penalty`` (0.05 by default) and one move of the step limit, ``info`` says
``invalid_reply=True`` with ``invalid_reason`` and counts ``invalid_replies`` in the episode, and
the next user message says what was wrong. It never raises (unless the env was made with
``invalid_action="raise"``). A menu action that the state masks (backtrack at the root, an empty
candidate) is the environment's own invalid action, as in ``step(int)``.

Examples:
    >>> from r1gym.integrations.chat import ChatEpisode
    >>> chat = ChatEpisode("R1Arith-v0")
    >>> messages, info = chat.reset(seed=0)
    >>> [m["role"] for m in messages]
    ['system', 'user']
    >>> messages, reward, terminated, truncated, info = chat.step("Hmm, I would say both.")
    >>> info["invalid_reply"], info["invalid_replies"], reward
    (True, 1, -0.05)
    >>> messages, reward, terminated, truncated, info = chat.step("Action: submit (I am done)")
    >>> terminated, info["invalid_replies"]
    (True, 1)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym

from r1gym.core.actions import BACKTRACK_TOKEN, SUBMIT_TOKEN, ParsedAction, action_token, parse_action_text
from r1gym.core.env import DEFAULT_HORIZON
from r1gym.errors import EpisodeOverError, InvalidActionError, R1GymError

#: What a reply that names no action becomes: ``"invalid"`` (an invalid action, counted; the chat
#: default) or ``"error"`` (:class:`WriteModeUnavailableError`; the OpenEnv server's ``{"text": ...}``).
NO_ACTION_MODES = ("invalid", "error")

SYSTEM_PROMPT = """You solve a problem step by step by walking a tree of partial solutions.
Each user message shows the question, the steps of your path so far, and up to {k} candidate next steps, \
each behind its action token and with a confidence: how sure the step proposer is. Confidences that go \
flat after a step are a hint that the step was wrong.

Reply with exactly one action:
<expand_i>   take candidate i (0 to {last}) as your next step
{backtrack}  undo your last step
{submit}     end the episode and answer with the result of your path

You may explain your choice after the action, but name only one action. A reply that names no action, \
two different actions, or a candidate that is not shown is an invalid move: nothing changes, it costs \
a small penalty and counts toward the limit of {limit} moves. Submitting an unfinished path answers with \
its last computed value. The reward comes at submit: mostly for a correct answer, a little more for \
fewer steps and for a path not submitted before."""


WRITE_PROMPT = """You solve a problem step by step, writing your own reasoning one step per reply.
Each user message shows the question and the steps of your path so far{cands}.

Reply with exactly one of:
a step       one step of your reasoning in plain text (for example "48 / 2 = 24 clips in May."); it is \
appended to your path and judged. End with "The answer is N." when you have it.{expand}
{backtrack}  undo your last step
{submit}     end the episode and answer with the result of your path

A reply that names two different actions{bad} is an invalid move: nothing changes, it costs a small \
penalty and counts toward the limit of {limit} moves. The reward comes at submit: mostly for a correct \
answer, a little more for fewer steps and for a path not submitted before."""


class WriteModeUnavailableError(R1GymError, ValueError):
    """A text that names no action where written steps are not available (menu mode)."""


def system_message(num_candidates: int, max_moves: int = DEFAULT_HORIZON, write: bool = False) -> dict[str, str]:
    """The system message: the rules and the text protocol for an env with K = ``num_candidates``
    (``write``: the env's ``action_mode="write"``, where a reply may be the model's own step)."""
    if write:
        has = num_candidates > 0
        text = WRITE_PROMPT.format(
            cands=f", and up to {num_candidates} candidate next steps you may take instead" if has else "",
            expand=f"\n<expand_i>   take candidate i (0 to {num_candidates - 1}) as your next step" if has else "",
            bad=", or a candidate that is not shown" if has else "",
            backtrack=BACKTRACK_TOKEN,
            submit=SUBMIT_TOKEN,
            limit=max_moves,
        )
        return {"role": "system", "content": text}
    text = SYSTEM_PROMPT.format(
        k=num_candidates, last=num_candidates - 1, backtrack=BACKTRACK_TOKEN, submit=SUBMIT_TOKEN, limit=max_moves
    )
    return {"role": "system", "content": text}


def state_text(obs: Mapping[str, Any], write: bool = False) -> str:
    """The state the model reads, from an ``obs_mode="text"`` observation.

    The context (question and ``Step i:`` lines), then each candidate the state allows as
    ``<expand_i> text (confidence 0.42)`` (``(tried)`` when its step was taken before in this
    episode), then the other actions allowed. Unicode is kept as written. ``write``: the env's
    write mode (a reply may be the model's own step).
    """
    if not isinstance(obs.get("context"), str):
        raise TypeError("state_text needs a text observation: make the env with obs_mode='text'")
    mask = [int(m) for m in obs["action_mask"]]
    k = len(mask) - 2
    tried = obs.get("tried")
    lines = [obs["context"], ""]
    candidates = obs.get("candidates", ())  # none in write mode with num_candidates=0
    shown = [i for i in range(min(k, len(candidates))) if mask[i]]
    if shown:
        lines.append("Candidate next steps:")
        for i in shown:
            mark = " (tried)" if tried is not None and tried[i] else ""
            lines.append(
                f"{action_token(i, k)}{mark} {obs['candidates'][i]} (confidence {float(obs['confidence'][i]):.2f})"
            )
    elif k > 0:
        lines.append("No candidate next steps: your path states its answer.")
    others = [f"{BACKTRACK_TOKEN} (undo the last step)"] if mask[k] else []
    others.append(f"{SUBMIT_TOKEN} (answer with your path's result)")
    ask = "Reply with your next step, or one action." if write else "Reply with one action."
    lines += ["Other actions: " + ", ".join(others) + ".", ask]
    return "\n".join(lines)


def user_message(obs: Mapping[str, Any], note: str = "", write: bool = False) -> dict[str, str]:
    """The state as a user message; ``note`` (what went wrong with the last reply) goes first."""
    return {"role": "user", "content": (note + "\n\n" if note else "") + state_text(obs, write)}


def render(messages: Sequence[Mapping[str, str]], tokenizer: Any = None, add_generation_prompt: bool = True) -> str:
    """The prompt text of ``messages``: ``tokenizer.apply_chat_template`` when a tokenizer is given
    (any ``transformers`` tokenizer with a chat template), else r1gym's plain format,
    ``<|role|>\\ncontent\\n`` per message and ``<|assistant|>\\n`` to prompt the reply."""
    msgs = [dict(m) for m in messages]
    if tokenizer is not None:
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                "the tokenizer has no chat template: set tokenizer.chat_template, or pass tokenizer=None "
                "for r1gym's plain format"
            )
        return tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=add_generation_prompt)
    text = "".join(f"<|{m['role']}|>\n{m['content']}\n" for m in msgs)
    return text + ("<|assistant|>\n" if add_generation_prompt else "")


def _make_env(env: str | gym.Env, env_kwargs: Mapping[str, Any]) -> gym.Env:
    if isinstance(env, str):
        kwargs = dict(env_kwargs)
        if kwargs.setdefault("obs_mode", "text") != "text":
            raise ValueError(f"a chat episode reads text: obs_mode must be 'text', got {kwargs['obs_mode']!r}")
        return gym.make(env, **kwargs)
    if env_kwargs:
        raise TypeError("environment keyword arguments go with an env id, not with an env that is already made")
    if getattr(env.unwrapped, "obs_mode", None) != "text":
        raise ValueError("a chat episode reads text: make the env with obs_mode='text'")
    return env


class ChatEpisode:
    """Plays episodes of an r1gym environment as a conversation (see the module's docstring).

    Args:
        env: an env id (made with ``obs_mode="text"`` and ``env_kwargs``) or an env made with it.
        tokenizer: used by :meth:`prompt` (a ``transformers`` tokenizer with a chat template).
        on_no_action: ``"invalid"`` (default) or ``"error"``: what a reply naming no action is.
        **env_kwargs: keyword arguments of ``gym.make`` when ``env`` is an id.

    Attributes:
        messages: the conversation so far (system, user, then assistant / user turns).
        obs, info: the environment's last observation and info.
        turns: replies and actions taken in this episode, invalid ones included.
        invalid_replies: replies in this episode that named no valid action.
        max_turns: the step limit (the env's ``max_episode_steps``); invalid replies count.
    """

    def __init__(self, env: str | gym.Env, *, tokenizer: Any = None, on_no_action: str = "invalid", **env_kwargs):
        if on_no_action not in NO_ACTION_MODES:
            raise ValueError(f"on_no_action must be one of {NO_ACTION_MODES}, got {on_no_action!r}")
        self.env = _make_env(env, env_kwargs)
        self.tokenizer = tokenizer
        self.on_no_action = on_no_action
        spec = getattr(self.env, "spec", None)
        self.max_turns = int(getattr(spec, "max_episode_steps", None) or DEFAULT_HORIZON)
        self.num_candidates = int(self.env.unwrapped.num_candidates)
        self.write = getattr(self.env.unwrapped, "action_mode", "menu") == "write"
        self.messages: list[dict[str, str]] = []
        self.obs: dict[str, Any] | None = None
        self.info: dict[str, Any] = {}
        self.turns = 0
        self.invalid_replies = 0
        self.done = True

    # -- the conversation ---------------------------------------------------------------------------

    def reset(self, seed: int | None = None, options: Mapping[str, Any] | None = None):
        """Start an episode: ``(messages, info)``, the messages being the system and the first user message."""
        obs, info = self.env.reset(seed=seed, options=dict(options) if options else None)
        self.turns = self.invalid_replies = 0
        self.done = False
        self.obs, self.info = obs, self._counted(info, invalid_reply=False)
        self.messages = [
            system_message(self.num_candidates, self.max_turns, self.write),
            user_message(obs, write=self.write),
        ]
        return self.messages, self.info

    def step(self, reply: str):
        """Append the model's ``reply`` and play the action it names.

        Returns ``(messages, reward, terminated, truncated, info)``, as ``gym.Env.step`` does.
        """
        self._check_running()
        parsed = parse_action_text(reply, self.num_candidates, write=self.write)
        if parsed.status == "none" and not self.write:
            self._no_action(reply, parsed)  # raises with on_no_action="error", before anything changes
        self.messages.append({"role": "assistant", "content": reply})
        if parsed.ok:
            return self._play(parsed.action)
        if parsed.status == "none" and self.write:  # the reply is the model's own step, judged by the env
            return self._play(reply)
        return self._invalid(parsed)

    def step_action(self, action: int):
        """Play a menu action (``0..K-1`` expand, ``K`` backtrack, ``K + 1`` submit), written as its token."""
        self._check_running()
        if isinstance(action, bool) or not isinstance(action, int):
            raise TypeError(f"a menu action is an int, got {action!r}")
        if not 0 <= action <= self.num_candidates + 1:
            raise ValueError(
                f"action {action} is outside the menu: 0 to {self.num_candidates + 1} for K = {self.num_candidates}"
            )
        if self.num_candidates == 0:  # write mode without candidates: 0 backtrack, 1 submit
            token = BACKTRACK_TOKEN if action == 0 else SUBMIT_TOKEN
        else:
            token = action_token(action, self.num_candidates)
        self.messages.append({"role": "assistant", "content": token})
        return self._play(token if self.write else action)

    def prompt(self, tokenizer: Any = None) -> str:
        """The conversation so far as prompt text, ready for the next reply (see :func:`render`)."""
        return render(self.messages, tokenizer if tokenizer is not None else self.tokenizer)

    @property
    def state(self) -> str:
        """The current state as the model reads it (the content of the last user message, without a note)."""
        if self.obs is None:
            raise EpisodeOverError("call reset() first")
        return state_text(self.obs, self.write)

    def close(self) -> None:
        self.env.close()

    # -- inside -------------------------------------------------------------------------------------

    def _no_action(self, reply: str, parsed: ParsedAction) -> None:
        """The one place where a text that names no action goes.

        In write mode it is the agent's own written step (:meth:`step` plays it); in the menu mode
        there are no written steps, so it is an invalid move (``on_no_action="invalid"``, the
        caller goes on) or :class:`WriteModeUnavailableError` (``"error"``).
        """
        if self.on_no_action == "error":
            env_id = getattr(getattr(self.env, "spec", None), "id", None) or type(self.env.unwrapped).__name__
            raise WriteModeUnavailableError(
                f"{reply[:60]!r} is not an action of the text protocol, and written steps need write mode, "
                f"which is not available for this {env_id} server (menu mode): send <expand_i>, <backtrack>, "
                f"<submit> or {{'action': int}}"
            )

    def _check_running(self) -> None:
        if self.done:
            raise EpisodeOverError("the episode is over (or not started); call reset() to start another")

    def _counted(self, info: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
        return {**info, **extra, "turns": self.turns, "invalid_replies": self.invalid_replies}

    def _play(self, action: int | str):
        if self.write and isinstance(action, int):  # a parsed token: the env takes the protocol's text
            k = self.num_candidates
            action = (BACKTRACK_TOKEN if action == 0 else SUBMIT_TOKEN) if k == 0 else action_token(action, k)
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.turns += 1
        truncated = bool(truncated or (not terminated and self.turns >= self.max_turns))
        self.obs, self.info = obs, self._counted(info, invalid_reply=False)
        self.done = bool(terminated or truncated)
        if not self.done:
            note = (
                f"That move is not allowed here: {info.get('invalid_reason', 'masked')}."
                if info.get("invalid_action")
                else ""
            )
            self.messages.append(user_message(obs, note, self.write))
        return self.messages, float(reward), bool(terminated), truncated, self.info

    def _invalid(self, parsed: ParsedAction):
        unwrapped = self.env.unwrapped
        if getattr(unwrapped, "invalid_action", "penalize") == "raise":
            raise InvalidActionError(f"the reply is not a valid action: {parsed.detail}")
        self.turns += 1
        self.invalid_replies += 1
        truncated = self.turns >= self.max_turns
        self.done = truncated
        self.info = self._counted(
            {k: v for k, v in self.info.items() if k not in ("invalid_reason", "parse_status")},
            invalid_action=True,
            invalid_reply=True,
            invalid_reason=parsed.detail,
            parse_status=parsed.status,
        )
        if not truncated:
            self.messages.append(
                user_message(self.obs, f"That reply is not a valid move: {parsed.detail}.", self.write)
            )
        return self.messages, -float(getattr(unwrapped, "invalid_action_penalty", 0.0)), False, truncated, self.info


__all__ = [
    "NO_ACTION_MODES",
    "SYSTEM_PROMPT",
    "ChatEpisode",
    "WriteModeUnavailableError",
    "render",
    "state_text",
    "system_message",
    "user_message",
]
