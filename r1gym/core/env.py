"""The reasoning MDP as a Gymnasium environment."""

from __future__ import annotations

import difflib
import hashlib
import inspect
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from r1gym.core.actions import BACKTRACK_TOKEN, SUBMIT_TOKEN
from r1gym.core.problem import QUESTION_AS_WRITTEN, Problem, problem_from_record, stated_answer
from r1gym.core.protocols import (
    Embedder,
    Proposer,
    StepJudge,
    Task,
    make_embedder,
    make_judge,
    make_proposer,
    make_task,
)
from r1gym.core.reward import (
    REWARD_MODES,
    NoveltyMemory,
    RewardTerms,
    accuracy_term,
    check_weights,
    combine,
    efficiency_term,
    path_key,
)
from r1gym.core.spaces import (
    CONTROL_CHARS,
    MAX_CANDIDATE_CHARS,
    MAX_CONTEXT_CHARS,
    MAX_STEP_CHARS,
    OBS_MODES,
    UnicodeText,
    clip_text,
    observation_space,
)
from r1gym.core.text import last_number_in_text
from r1gym.core.tree import Node, PathState
from r1gym.core.verify import get_similarity, get_verifier
from r1gym.errors import EpisodeOverError, InvalidActionError, UnsupportedRenderModeError

INVALID_ACTION_MODES = ("penalize", "raise")
ACTION_MODES = ("menu", "write")
STEP_REWARDS = ("outcome", "process")
LABEL_INDEX = {"correct": 0, "wrong": 1, "neutral": 2}
DEFAULT_HORIZON = 40
_EXPAND = re.compile(r"<expand_(\d{1,6})>")
_TOKEN_LIKE = re.compile(r"<[a-z_]+\d*>")


@dataclass(slots=True)
class Episode:
    """The state of one episode: everything ``step()`` reads and writes but the generators and the
    novelty memory. One object, so that a snapshot is a copy of it and a restore puts a copy back.

    ``nodes`` maps a path (candidate indices from the root) to its :class:`~r1gym.core.tree.Node`;
    nodes are immutable once made, so a copy of the dict is a full copy of the tree.
    """

    problem: Problem | None = None
    problem_index: int | None = None
    tree_seed: int = 0
    nodes: dict[tuple[int, ...], Node] = field(default_factory=dict)
    cur: tuple[int, ...] = ()
    steps: int = 0
    backtracks: int = 0
    done: bool = True
    left_path: bool = False
    horizon: int = DEFAULT_HORIZON
    judge: StepJudge | None = None
    outcome: dict[str, Any] | None = None  # the submit's verdict and reward (what render draws at the end)

    def copy(self) -> Episode:
        """An independent copy (the tree dict copied, its immutable nodes shared)."""
        return replace(self, nodes=dict(self.nodes))


@dataclass(frozen=True)
class Snapshot:
    """Everything an episode depends on, as ``snapshot()`` saw it. Opaque to agents."""

    episode: Episode
    rng_state: dict | None
    novelty_entry: dict[bytes, int] | None


#: tree seed -> BLAKE2b keyed with it, before any data; a node's hasher is a copy (cheaper than
#: keying a new one). Emptied at 64 seeds; a pure function of the seed, so shared by every env.
_KEYED_HASHERS: dict[int, Any] = {}


def _keyed_hasher(seed: int) -> Any:
    """A fresh keyed BLAKE2b (32-byte digest) for ``seed``: the same digests as
    ``hashlib.blake2b(data, digest_size=32, key=seed.to_bytes(8, "little"))``."""
    base = _KEYED_HASHERS.get(seed)
    if base is None:
        if len(_KEYED_HASHERS) >= 64:
            _KEYED_HASHERS.clear()
        base = _KEYED_HASHERS[seed] = hashlib.blake2b(digest_size=32, key=seed.to_bytes(8, "little"))
    return base.copy()


def _check_type(name: str, value: Any, kind: type, what: str) -> None:
    """A constructor argument of the wrong type: an error naming it (a bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{name} must be {what}, got {value!r} (a {type(value).__name__})")


class ReasoningEnv(gym.Env[dict, int]):
    """Step-by-step reasoning as an MDP: walk a tree of partial solutions, then submit.

    ## Description
    A problem is a question with a reference solution made of steps. The agent starts at the
    root (the question, no steps) and at every node sees K candidate next steps with a
    confidence for each. It expands a candidate (the path grows by that step), backtracks to the
    parent, or submits the answer of its path. A path is complete when its last step states a
    final answer ("The answer is 42."), on a correct branch or a wrong one alike; a complete node
    offers no candidates. Submitting an unfinished path submits its last computed value.

    ## Action space
    ``Discrete(K + 2)``:

    | action      | meaning                                                   |
    |-------------|-----------------------------------------------------------|
    | 0 .. K-1    | expand candidate i                                        |
    | K           | backtrack to the parent node                              |
    | K + 1       | submit the answer of the current path (ends the episode)  |

    An action the space allows but the state does not (backtrack at the root, an index past the
    candidates of the node) is masked in ``action_mask``. By default it is a no-op that costs
    ``invalid_action_penalty`` (0.05) and one step; with ``invalid_action="raise"`` it raises
    :class:`~r1gym.errors.InvalidActionError` and changes nothing. An action outside the space
    raises ``ValueError`` and changes nothing.

    ``action_mode="write"`` (for language models that write their own steps): the action is a
    string (:class:`~r1gym.core.spaces.UnicodeText`, at most ``MAX_STEP_CHARS`` = 1024
    characters) in the text protocol: ``"<backtrack>"``, ``"<submit>"``, ``"<expand_i>"`` (take
    candidate i, when candidates are shown; ``num_candidates=0`` shows none), or any other text:
    the agent's own next step, appended to the path and judged. A written step equal to a
    candidate's text is that candidate. An empty step, one over the limit, one with control
    characters, an unknown ``<token>``, ``<expand_i>`` past the candidates shown, or a step after
    the path stated its answer is an invalid action (penalized or raised as above); a step in any
    script is a step (the judge labels what it cannot read ``neutral``). Anything but a string
    raises ``ValueError``.

    ## Observation space
    A flat ``Dict``. ``obs_mode="vector"`` (default, for SB3 and numeric agents):

    | key           | shape    | dtype   | bounds   | meaning                                        |
    |---------------|----------|---------|----------|------------------------------------------------|
    | context       | (D,)     | float32 | [-1, 1]  | embedding of the question and the path         |
    | candidates    | (K * D,) | float32 | [-1, 1]  | candidate embeddings, row-major:               |
    |               |          |         |          | ``.reshape(K, D)``; zero rows if none          |
    | confidence    | (K,)     | float32 | [0, 1]   | softmax of the proposer's scores; 0 if none    |
    | action_mask   | (K + 2,) | int8    | {0, 1}   | 1 where the action is allowed                  |
    | progress      | (3,)     | float32 | [0, 1]   | depth, steps used, backtracks; / step limit    |
    | tried         | (K,)     | float32 | {0, 1}   | 1 where the candidate's step was already taken |
    |               |          |         |          | in this episode (its child visited)            |

    ``obs_mode="text"`` (for LLM agents) holds ``context`` as a string (the question, then
    ``Step i: ...`` lines) and ``candidates`` as a tuple of K strings ("" where there is none),
    with the same ``confidence``, ``action_mask``, ``progress`` and ``tried``.
    ``r1gym.wrappers.format_prompt`` turns it into a prompt. In write mode the observation is the
    text mode's, Unicode kept as written; with K = 0 it holds only ``context``, ``action_mask``
    (backtrack, submit) and ``progress``.

    ## Rewards
    0 for every action but submit (a masked action costs ``invalid_action_penalty``). Submit pays
    ``R = A * (alpha + beta * E + gamma * N) / (alpha + beta + gamma)`` (``reward_mode="gated"``,
    default) or ``R = (alpha * A + beta * E + gamma * N) / (alpha + beta + gamma)``
    (``"additive"``, the report's literal formula), weights ``(0.6, 0.3, 0.1)`` by default:

    * accuracy ``A``: 1 if the verifier accepts the answer, else
      ``partial_credit * max(0, 1 - levenshtein(a, r) / max(len(a), len(r)))``;
    * efficiency ``E = 1 / log2(1 + n)``, n the number of actions taken, the submit included;
    * novelty ``N = 1 / sqrt(1 + c)``, c the earlier submissions of the same path for the same
      problem.

    See ``docs/reward.md`` for why the default is gated.

    ``step_reward="process"`` adds a per-step term (opt-in; the default keeps the report's reward
    untouched): on the first visit of a node, ``process_rewards`` = (correct, wrong, neutral),
    default (0.05, -0.1, 0.0), by the judge's label of the step that made it (a correct step that
    continues an earlier error counts as neutral). ``info["process_reward"]`` reports the term
    whether or not it is added.

    ## Starting state
    The root of a problem drawn with the environment's generator, or the problem pinned by
    ``reset(options={"problem_index": i})`` (several rollouts of one problem, as GRPO groups
    need, or a sweep over a dataset).

    ## Episode end
    Terminated on submit. Truncated by the registry's ``max_episode_steps`` (40 for the
    built-in ids) through ``TimeLimit``; a truncated episode earns nothing.

    ## Info
    Always: ``problem_index``, ``uid``, ``domain``, ``depth``, ``steps``, ``backtracks``,
    ``path`` (candidate indices from the root; a written step is its text) and
    ``invalid_action``. With step labels (``step_labels``, on by default in text observations):
    ``step_label`` (``"correct"``,
    ``"wrong"``, ``"neutral"``; None at the root) and ``step_reason``, the step judge's verdict on
    the last step of the path (:mod:`r1gym.judge`), ``continues_error``, ``first_error`` (the
    index of the path's first wrong step, or -1) and ``process_reward``. On submit: ``answer``,
    ``reference``, ``is_correct`` and ``reward_terms``. With ``reveal=True``, also ``on_path``
    (whether the node is still on the reference solution), ``oracle_action`` (the action that
    follows the reference solution) and ``left_path`` (whether the episode has left it).

    ## Arguments
    Args:
        task: a task name (``"arithmetic"``, ``"algebra"``, ``"word"``, ``"user"``) or a
            :class:`~r1gym.tasks.Task`.
        task_kwargs: keyword arguments of the task (``seed``, ``min_ops``, ``templates``, ...).
        problems: your own problems, a list of dicts or a JSONL path (see ``UserProblemTask``);
            replaces ``task``.
        obs_mode: ``"vector"`` or ``"text"``; default ``"vector"``, ``"text"`` in write mode.
        action_mode: ``"menu"`` (default: ``Discrete(K + 2)``) or ``"write"`` (text actions).
        difficulty: ``"easy"``, ``"medium"`` or ``"hard"``: the proposer preset.
        num_candidates: K; overrides the preset's. 0 (write mode only): no candidates shown.
        proposer: ``"procedural"`` (default) or a proposer instance.
        proposer_kwargs: overrides of the preset (``boost``, ``noise``, ``noise_after_error``,
            ``convincing_rate``, ``distractors``, ``temperature``).
        embedder: ``"hashing"`` (default), ``"sentence"`` or an embedder instance.
        embed_dim: D for the hashing embedder.
        embedder_kwargs: keyword arguments of the embedder (``model_path`` for ``"sentence"``).
        reward_weights: ``(alpha, beta, gamma)``.
        reward_mode: ``"gated"`` or ``"additive"``.
        partial_credit: the most accuracy a wrong answer can earn.
        step_labels: judge every step (``info["step_label"]`` ...). Default: on in text
            observations (menu or write), off in the vector mode, where the judge would about
            double the cost of a new node (30 to 100 us; docs/speed.md) for agents that do not read
            it; ``True`` turns it on there. Write mode always judges.
        judge: the step judge: ``"program"`` (default, from the problem's program) or ``"none"``
            (every step neutral), or a factory ``judge(problem)``.
        step_reward: ``"outcome"`` (default) or ``"process"`` (adds the per-step term).
        process_rewards: the per-step term for a (correct, wrong, neutral) step.
        reveal: put ``on_path``, ``oracle_action`` and ``left_path`` in every ``info``.
        invalid_action: ``"penalize"`` or ``"raise"``.
        invalid_action_penalty: cost of a masked action under ``"penalize"``.
        novelty_max_problems: problems the novelty memory keeps.
        novelty_max_paths: paths it keeps per problem.
        render_mode: ``"ansi"`` (``render()`` returns the text), ``"human"`` (prints it) or
            ``"rgb_array"`` (the tree as a 540 x 960 RGB image, for ``RecordVideo``; needs Pillow).

    ## Version history
    * v0: initial release.
    """

    metadata = {"render_modes": ["ansi", "human", "rgb_array"], "render_fps": 4}
    _default_task: str = "arithmetic"

    def __init__(
        self,
        task: str | Task | None = None,
        *,
        task_kwargs: Mapping[str, Any] | None = None,
        problems: Sequence[Mapping[str, Any]] | str | Path | None = None,
        obs_mode: str | None = None,
        action_mode: str = "menu",
        difficulty: str = "medium",
        num_candidates: int | None = None,
        proposer: str | Proposer = "procedural",
        proposer_kwargs: Mapping[str, Any] | None = None,
        embedder: str | Embedder = "hashing",
        embed_dim: int = 64,
        embedder_kwargs: Mapping[str, Any] | None = None,
        reward_weights: Sequence[float] = (0.6, 0.3, 0.1),
        reward_mode: str = "gated",
        partial_credit: float = 0.5,
        step_labels: bool | None = None,
        judge: str | Any = "program",
        step_reward: str = "outcome",
        process_rewards: Sequence[float] = (0.05, -0.1, 0.0),
        reveal: bool = False,
        invalid_action: str = "penalize",
        invalid_action_penalty: float = 0.05,
        novelty_max_problems: int = 4096,
        novelty_max_paths: int = 256,
        render_mode: str | None = None,
        **unknown: Any,
    ) -> None:
        if unknown:
            self._reject_unknown(unknown)
        if action_mode not in ACTION_MODES:
            raise ValueError(f"action_mode must be one of {ACTION_MODES}, got {action_mode!r}")
        write = action_mode == "write"
        if obs_mode is None:
            obs_mode = "text" if write else "vector"
        if write and obs_mode != "text":
            raise ValueError("action_mode='write' observes text: pass obs_mode='text' (its default)")
        if step_reward not in STEP_REWARDS:
            raise ValueError(f"step_reward must be one of {STEP_REWARDS}, got {step_reward!r}")
        process_rewards = tuple(process_rewards)
        if len(process_rewards) != 3 or not all(
            isinstance(x, numbers.Real) and not isinstance(x, bool) and np.isfinite(x) for x in process_rewards
        ):
            raise ValueError(
                f"process_rewards must be three finite numbers (correct, wrong, neutral), got {process_rewards!r}"
            )
        if obs_mode not in OBS_MODES:
            raise ValueError(f"obs_mode must be one of {OBS_MODES}, got {obs_mode!r}")
        if reward_mode not in REWARD_MODES:
            raise ValueError(f"reward_mode must be one of {REWARD_MODES}, got {reward_mode!r}")
        if invalid_action not in INVALID_ACTION_MODES:
            raise ValueError(f"invalid_action must be one of {INVALID_ACTION_MODES}, got {invalid_action!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise UnsupportedRenderModeError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        if render_mode == "rgb_array":
            from r1gym.core.picture import INSTALL_HINT, has_pillow

            if not has_pillow():  # also a TypeError: SB3's make_vec_env then retries without rendering
                raise UnsupportedRenderModeError(INSTALL_HINT)
        if num_candidates is not None:
            _check_type("num_candidates", num_candidates, numbers.Integral, "an integer (K, the candidates at a node)")
        hide = num_candidates == 0
        if hide and not write:
            raise ValueError("num_candidates=0 (no candidates shown) needs action_mode='write'; the menu needs 2 to 16")
        if hide:
            num_candidates = None  # the proposer still writes the preset's candidates: the oracle's and the tree's
        _check_type("partial_credit", partial_credit, numbers.Real, "a number in [0, 1]")
        _check_type("invalid_action_penalty", invalid_action_penalty, numbers.Real, "a number >= 0")
        _check_type("novelty_max_problems", novelty_max_problems, numbers.Integral, "an integer >= 1")
        _check_type("novelty_max_paths", novelty_max_paths, numbers.Integral, "an integer >= 1")
        if not 0.0 <= float(partial_credit) <= 1.0:
            raise ValueError(f"partial_credit must lie in [0, 1], got {partial_credit!r}")
        if not float(invalid_action_penalty) >= 0.0:
            raise ValueError(f"invalid_action_penalty must be >= 0, got {invalid_action_penalty!r}")

        if problems is not None:  # the user's problems replace the id's task
            self.task: Task = make_task("user", problems=problems, **dict(task_kwargs or {}))
        else:
            self.task = make_task(task or self._default_task, **dict(task_kwargs or {}))
        if write and self.task.domain == "code":
            raise ValueError(
                "action_mode='write' is for steps the judge can read; code keeps the menu (its lines are not judged "
                "one by one: the program is judged at submit)"
            )
        self.proposer: Proposer = make_proposer(proposer, difficulty, num_candidates, dict(proposer_kwargs or {}))
        self.num_candidates = 0 if hide else int(self.proposer.config.num_candidates)
        self.obs_mode = obs_mode
        self.action_mode = action_mode
        self.step_labels = (obs_mode == "text" if step_labels is None else bool(step_labels)) or write
        self.judge = judge
        self.step_reward = step_reward
        self.process_rewards = tuple(float(x) for x in process_rewards)
        self.difficulty = difficulty
        self.embedder: Embedder | None = (
            make_embedder(embedder, embed_dim, **dict(embedder_kwargs or {})) if obs_mode == "vector" else None
        )
        dim = self.embedder.dim if self.embedder is not None else 0
        self.reward_weights = check_weights(reward_weights)
        self.reward_mode = reward_mode
        self.partial_credit = float(partial_credit)
        self.reveal = bool(reveal)
        self.invalid_action = invalid_action
        self.invalid_action_penalty = float(invalid_action_penalty)
        self.render_mode = render_mode
        self.novelty = NoveltyMemory(novelty_max_problems, novelty_max_paths)

        k = self.num_candidates
        self.action_space = UnicodeText(MAX_STEP_CHARS, min_length=1) if write else spaces.Discrete(k + 2)
        self.observation_space = observation_space(obs_mode, k, dim)
        self.BACKTRACK = k
        self.SUBMIT = k + 1

        #: The episode's state (the reference solution included: for analysis, not for agents).
        self.episode = Episode()
        self._node_bitgen = np.random.PCG64(0)
        self._node_gen = np.random.Generator(self._node_bitgen)
        self._masks: dict[tuple[int, bool], np.ndarray] = {}  # (candidates, depth > 0) -> mask

    # -- construction helpers --------------------------------------------------------------
    def _reject_unknown(self, unknown: Mapping[str, Any]) -> None:
        valid = [p for p in inspect.signature(ReasoningEnv.__init__).parameters if p not in ("self", "unknown")]
        name = next(iter(unknown))
        hint = difflib.get_close_matches(name, valid, n=1)
        did = f" Did you mean {hint[0]!r}?" if hint else ""
        env_id = getattr(getattr(self, "spec", None), "id", None) or type(self).__name__
        raise TypeError(f"{env_id} got unknown keyword argument(s) {sorted(unknown)}.{did} Valid: {valid}")

    # -- Gymnasium API -----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = sorted(set(options) - {"problem_index", "problem"})
        if unknown:
            raise ValueError(f"unknown reset option(s) {unknown}; valid: ['problem_index', 'problem']")
        if options.get("problem") is not None:
            problem = options["problem"]
            if not isinstance(problem, Problem):
                problem = problem_from_record(problem, "options['problem']", "user:pinned")
            index = None
        else:
            raw = options.get("problem_index")
            index = self.task.sample_index(self.np_random) if raw is None else self.task.check_index(raw)
            problem = self.task.problem(index)
        spec = getattr(self, "spec", None)
        self.episode = Episode(
            problem=problem,
            problem_index=index,
            tree_seed=int(self.np_random.integers(0, 2**63)),
            done=False,
            horizon=(spec.max_episode_steps if spec is not None and spec.max_episode_steps else None)
            or DEFAULT_HORIZON,
            judge=make_judge(self.judge, problem) if self.step_labels else None,
        )
        node = self._node(())
        info = self._info(node)
        if self.render_mode == "human":
            self.render()
        return self._obs(node), info

    def step(self, action: Any) -> tuple[dict, float, bool, bool, dict]:
        ep = self.episode
        if ep.problem is None:
            raise EpisodeOverError("call reset() before step()")
        if ep.done:
            raise EpisodeOverError("the episode is over (the answer was submitted); call reset() to start another")
        node = ep.nodes[ep.cur]
        k = self.num_candidates
        why: str | None = None
        if self.action_mode == "write":
            a, child, why = self._read_written(node, action)
        else:
            a = self._check_action(action)
            child = ep.cur + (a,) if a < k else None
            if not self._allowed(node, a):
                why = self._why_masked(node, a)
        if why is not None:
            if self.invalid_action == "raise":
                if self.action_mode == "write":
                    raise InvalidActionError(f"action {action!r} is not allowed here: {why}")
                raise InvalidActionError(f"action {a} is masked here: {why}. Allowed: {self.valid_actions()}")
            ep.steps += 1
            info = self._info(node)
            info["invalid_action"] = True
            info["invalid_reason"] = why
            return self._obs(node), -self.invalid_action_penalty, False, False, self._finish(info)
        ep.steps += 1
        reward, terminated = 0.0, False
        extra: dict[str, Any] = {}
        if child is not None:
            new = child not in ep.nodes
            ep.cur = child
            node = self._node(child)
            if not node.state.on_path:
                ep.left_path = True
            if self.step_labels:
                process = self._process_reward(node) if new else 0.0
                extra["process_reward"] = process
                if self.step_reward == "process":
                    reward += process
        elif a == self.BACKTRACK:
            ep.cur = ep.cur[:-1]
            ep.backtracks += 1
            node = ep.nodes[ep.cur]
        else:
            outcome, extra = self._submit(node)
            reward += outcome
            terminated = True
            ep.done = True
            ep.outcome = {**extra, "reward": outcome}
        info = self._info(node)
        info.update(extra)
        return self._obs(node), float(reward), terminated, False, self._finish(info)

    def _process_reward(self, node: Node) -> float:
        """The per-step term of the step that made ``node`` (a correct step continuing an error: neutral)."""
        label = node.label
        if label is None:
            return 0.0
        if label == "correct" and node.continues_error:
            label = "neutral"
        return self.process_rewards[LABEL_INDEX.get(label, 2)]

    def _read_written(self, node: Node, action: Any) -> tuple[int, tuple | None, str | None]:
        """A write-mode action: ``(menu action, child path or None, why it is invalid or None)``."""
        if isinstance(action, np.str_):
            action = str(action)
        if not isinstance(action, str):
            raise ValueError(
                f"in action_mode='write' an action is a string: '<expand_i>', '<backtrack>', '<submit>' or the text "
                f"of a step; got {action!r} ({type(action).__name__})"
            )
        k, ep = self.num_candidates, self.episode
        if "\n" in action or "\r" in action:  # a step is one line of the context
            action = " ".join(action.replace("\r", "\n").split("\n"))
        text = action.strip()
        if not text:
            return self.SUBMIT, None, "an empty step (write a step, or '<submit>' / '<backtrack>')"
        if len(text) > MAX_STEP_CHARS:
            return self.SUBMIT, None, f"a step of {len(text)} characters: at most {MAX_STEP_CHARS}"
        bad = next((c for c in text if c in CONTROL_CHARS), None)
        if bad is not None:
            return self.SUBMIT, None, f"the step holds the control character {bad!r}"
        if text == BACKTRACK_TOKEN:
            return self.BACKTRACK, None, None if node.depth > 0 else "backtrack at the root"
        if text == SUBMIT_TOKEN:
            return self.SUBMIT, None, None
        m = _EXPAND.fullmatch(text)
        if m is not None:
            i = int(m.group(1))
            if k == 0:
                return self.SUBMIT, None, f"{text}: no candidates are shown (num_candidates=0): write the step"
            if i >= k:
                shows = f"this environment shows {k} candidates (<expand_0> to <expand_{k - 1}>)"
                return self.SUBMIT, None, f"{text}: {shows}"
            if i >= len(node.candidates):
                return self.SUBMIT, None, self._why_masked(node, i)
            return i, ep.cur + (i,), None
        if _TOKEN_LIKE.fullmatch(text):
            return (
                self.SUBMIT,
                None,
                (f"unknown action token {text}: the tokens are <expand_i>, {BACKTRACK_TOKEN} and {SUBMIT_TOKEN}"),
            )
        if node.state.complete:
            return self.SUBMIT, None, "the path already states its answer: <submit> or <backtrack>"
        for i, c in enumerate(node.candidates):
            if c.text == text:  # the candidate's own step, written out: the same node
                return min(i, k), ep.cur + (i,), None
        return self.SUBMIT, ep.cur + (text,), None

    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self.render_rgb()
        text = self.render_text()
        if self.render_mode == "human":
            print(text)
            return None
        return text

    # -- planning ----------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """Save the episode (tree, path, counters, random state, novelty memory) in O(tree size)."""
        ep = self.episode
        return Snapshot(
            episode=ep.copy(),
            rng_state=self.np_random.bit_generator.state if self._np_random is not None else None,
            novelty_entry=self.novelty.get_entry(ep.problem.uid if ep.problem is not None else ""),
        )

    def restore(self, snap: Snapshot) -> tuple[dict, dict]:
        """Return to a snapshot; returns the observation and info there. A lookahead leaves no trace."""
        if not isinstance(snap, Snapshot):
            raise TypeError(f"restore() takes a Snapshot from snapshot(), got {type(snap).__name__}")
        ep = self.episode = snap.episode.copy()
        if snap.rng_state is not None:
            self.np_random.bit_generator.state = snap.rng_state
        if ep.problem is None:
            return {}, {}
        self.novelty.set_entry(ep.problem.uid, snap.novelty_entry)
        node = ep.nodes[ep.cur]
        return self._obs(node), self._finish(self._info(node))

    # -- masks -------------------------------------------------------------------------------
    def action_masks(self) -> np.ndarray:
        """Boolean mask of the allowed actions (the method sb3-contrib's MaskablePPO calls)."""
        if self.episode.problem is None:
            return np.ones(self.num_candidates + 2, dtype=bool)
        return self._mask(self.episode.nodes[self.episode.cur]).astype(bool)

    def valid_actions(self) -> list[int]:
        return [int(i) for i in np.flatnonzero(self.action_masks())]

    @property
    def problem(self) -> Problem | None:
        """The problem being played (its reference solution included: for analysis, not agents)."""
        return self.episode.problem

    @property
    def current_node(self) -> Node | None:
        return self.episode.nodes.get(self.episode.cur) if self.episode.problem is not None else None

    # -- internals ----------------------------------------------------------------------------
    def _check_action(self, action: Any) -> int:
        if isinstance(action, np.ndarray) and action.shape == ():
            action = action.item()
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
            raise ValueError(
                f"action must be an integer in [0, {self.num_candidates + 1}], got {action!r} "
                f"({type(action).__name__}); 0..{self.num_candidates - 1} expand, "
                f"{self.BACKTRACK} backtrack, {self.SUBMIT} submit"
            )
        a = int(action)
        if not 0 <= a < self.num_candidates + 2:
            raise ValueError(
                f"action {a} is outside the action space Discrete({self.num_candidates + 2}): "
                f"0..{self.num_candidates - 1} expand a candidate, {self.BACKTRACK} backtrack, {self.SUBMIT} submit"
            )
        return a

    def _allowed(self, node: Node, a: int) -> bool:
        if a < self.num_candidates:
            return a < len(node.candidates)
        if a == self.BACKTRACK:
            return node.depth > 0
        return True

    def _why_masked(self, node: Node, a: int) -> str:
        if a == self.BACKTRACK:
            return "backtrack at the root"
        if node.state.complete:
            return f"candidate {a} at a complete path (only backtrack and submit remain)"
        return f"candidate {a} does not exist (this node has {len(node.candidates)})"

    def _mask(self, node: Node) -> np.ndarray:
        """The action mask of ``node`` (a fresh array: it goes into an observation)."""
        key = (len(node.candidates), len(node.path) > 0)
        mask = self._masks.get(key)
        if mask is None:
            mask = np.zeros(self.num_candidates + 2, dtype=np.int8)
            mask[: min(key[0], self.num_candidates)] = 1
            mask[self.BACKTRACK] = 1 if key[1] else 0
            mask[self.SUBMIT] = 1
            self._masks[key] = mask
        return mask.copy()

    def _node(self, path: tuple) -> Node:
        node = self.episode.nodes.get(path)
        if node is not None:
            return node
        ep = self.episode
        problem, judge = ep.problem, ep.judge
        assert problem is not None
        label, reason, continues, jstate = None, "", False, None
        if path:
            parent = ep.nodes[path[:-1]]
            last = path[-1]
            text = last if isinstance(last, str) else parent.candidates[last].text
            if judge is not None:
                j = judge.judge(text, parent.judge_state)
                label, reason, continues = j.label, j.reason, bool(j.continues_error)
                jstate = judge.advance(parent.judge_state, j)
            if isinstance(last, str):
                state = self._written_state(parent.state, text, j, jstate)
            else:
                state = parent.candidates[last].state
            texts = parent.texts + (text,)
        else:
            state, texts = PathState(), ()
            jstate = judge.start() if judge is not None else None
        cands, conf = self.proposer.propose(problem, state, texts, self._node_rng(path))
        k = self.num_candidates
        embed_node = getattr(self.embedder, "embed_node", None)
        if embed_node is not None:  # the candidates and the context in one call
            cvecs, ctx = embed_node(problem.question, texts, [c.text for c in cands], k)
        elif self.embedder is not None:
            cvecs = np.zeros((k, self.embedder.dim), dtype=np.float32)
            if cands:
                cvecs[: len(cands)] = self.embedder.embed([c.text for c in cands])
            ctx = self.embedder.embed_context(problem.question, texts).astype(np.float32)
        else:
            cvecs = ctx = np.zeros(0, dtype=np.float32)
        if len(conf) == k and conf.dtype == np.float32:
            padded = conf
        else:
            padded = np.zeros(k, dtype=np.float32)
            padded[: min(len(conf), k)] = conf[:k]
        node = Node(
            path=path,
            texts=texts,
            state=state,
            candidates=tuple(cands),
            confidence=padded,
            context_vec=ctx,
            candidate_vecs=cvecs,
            label=label,
            reason=reason,
            continues_error=continues,
            judge_state=jstate,
        )
        ep.nodes[path] = node
        return node

    def _written_state(self, parent: PathState, text: str, judgment: Any, jstate: Any) -> PathState:
        """Where a written step leaves the path against the reference program (what the proposer
        and the submit read), from the judge's verdict: a wrong step (or one continuing an error)
        leaves the reference; a stated final answer completes the path; the program steps the
        path has values for, in order, are its slots (a step done out of order waits)."""
        problem = self.episode.problem
        assert problem is not None
        label = judgment.label
        on_path = parent.on_path and label != "wrong" and not judgment.continues_error
        answer = judgment.answer
        program = problem.program
        if program is not None and problem.answer_mode != "program":
            filled = dict(getattr(jstate, "slots", ()))
            slots: list = []
            for spec in program.steps:
                if spec.id not in filled:
                    break
                slots.append(filled[spec.id])
            if len(slots) < len(parent.slots):  # the judge knows nothing of the path's earlier values
                slots = list(parent.slots)
            if answer is None and len(slots) == len(program.steps):  # every step done: its result is the answer
                answer = stated_answer(slots[-1], program.answer_unit)
            return PathState(len(slots), tuple(slots), on_path, answer is not None, answer)
        pos = parent.pos + (1 if label in ("correct", "wrong") else 0)
        if answer is None and pos >= len(problem.steps):  # past the reference's steps: its last number
            answer = last_number_in_text(text)
        return PathState(pos, parent.slots, on_path, answer is not None, answer)

    def _node_rng(self, path: tuple[int, ...]) -> np.random.Generator:
        """The generator of the node at ``path``: a pure function of the tree seed and the path,
        so a node is the same whichever order the tree is explored in (lookahead included).

        A keyed hash of ``(tree seed, path)`` sets the PCG64 state directly: about 2 us, where a
        ``SeedSequence`` per node costs 16 us (the hasher keyed with the tree seed is copied, not
        keyed again, at every node).
        """
        h = _keyed_hasher(self.episode.tree_seed)
        h.update(repr(path).encode())
        digest = h.digest()
        self._node_bitgen.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(digest[:16], "little"), "inc": int.from_bytes(digest[16:], "little") | 1},
            "has_uint32": 0,
            "uinteger": 0,
        }
        return self._node_gen

    def _progress(self, node: Node) -> np.ndarray:
        ep = self.episode
        h = float(ep.horizon)
        # min in float64, then float32: the same numbers as clipping the float32 values at 1.0
        return np.array([min(len(node.path) / h, 1.0), min(ep.steps / h, 1.0), min(ep.backtracks / h, 1.0)], np.float32)

    def _obs(self, node: Node) -> dict[str, Any]:
        common = {
            "confidence": node.confidence.copy(),
            "action_mask": self._mask(node),
            "progress": self._progress(node),
            "tried": self._tried(node),
        }
        if self.obs_mode == "vector":
            return {"context": node.context_vec.copy(), "candidates": node.candidate_vecs.flatten(), **common}
        k = self.num_candidates
        if k == 0:  # write mode, no candidates shown
            return {
                "context": self.context_text(node),
                "action_mask": common["action_mask"],
                "progress": common["progress"],
            }
        shown = node.candidates[:k]
        texts = [clip_text(c.text, MAX_CANDIDATE_CHARS) for c in shown] + [""] * (k - len(shown))
        return {"context": self.context_text(node), "candidates": tuple(texts), **common}

    def _tried(self, node: Node) -> np.ndarray:
        """1 for each candidate whose step was already taken in this episode (a child visited).

        Without it a node looks the same after a backtrack as on the first visit, and a
        memoryless policy that backs out of a wrong step takes it again.
        """
        nodes, path, k = self.episode.nodes, node.path, self.num_candidates
        n = min(len(node.candidates), k)
        return np.array([1.0 if path + (i,) in nodes else 0.0 for i in range(n)] + [0.0] * (k - n), np.float32)

    def context_text(self, node: Node | None = None) -> str:
        """The question and the path of ``node`` (the current one by default) as text."""
        if self.episode.problem is None:
            raise EpisodeOverError("call reset() before context_text(): there is no question yet")
        node = node or self.episode.nodes[self.episode.cur]
        problem = self.episode.problem
        question = problem.meta.get(QUESTION_AS_WRITTEN) or problem.question  # Unicode as written
        lines = [question] + [f"Step {i}: {t}" for i, t in enumerate(node.texts, 1)]
        return clip_text("\n".join(lines), MAX_CONTEXT_CHARS)

    def _submitted_answer(self, node: Node) -> str:
        state, problem = node.state, self.episode.problem
        assert problem is not None
        if state.complete:
            return state.answer or ""
        if problem.answer_mode == "program":
            return problem.program_text(node.texts)  # an unfinished program: it will fail its tests
        if not node.texts:
            return ""
        if problem.program is not None and state.slots:
            return stated_answer(state.slots[-1], problem.program.answer_unit)
        return last_number_in_text(node.texts[-1])

    def _submit(self, node: Node) -> tuple[float, dict[str, Any]]:
        problem = self.episode.problem
        assert problem is not None
        answer = self._submitted_answer(node)
        acc, correct = accuracy_term(
            answer,
            problem.answer,
            self.partial_credit,
            get_verifier(problem.verifier),
            problem,
            get_similarity(problem),
        )
        key = path_key(node.texts)
        terms = RewardTerms(acc, efficiency_term(self.episode.steps), self.novelty.novelty(problem.uid, key))
        self.novelty.record(problem.uid, key)
        reward = combine(terms, self.reward_weights, self.reward_mode)
        return reward, {
            "answer": answer,
            "reference": problem.answer,
            "is_correct": correct,
            "reward_terms": terms.as_dict(),
        }

    def _info(self, node: Node) -> dict[str, Any]:
        problem = self.episode.problem
        assert problem is not None
        info: dict[str, Any] = {
            "problem_index": self.episode.problem_index,
            "uid": problem.uid,
            "domain": problem.domain,
            "depth": node.depth,
            "steps": self.episode.steps,
            "backtracks": self.episode.backtracks,
            "path": node.path,
            "invalid_action": False,
        }
        if self.step_labels:
            info["step_label"] = node.label
            info["step_reason"] = node.reason
            info["continues_error"] = node.continues_error
            first = getattr(node.judge_state, "first_error", None)
            info["first_error"] = -1 if first is None else int(first)  # -1: none, as ProcessBench (vector infos: ints)
            info["process_reward"] = 0.0
        if self.reveal:
            info["on_path"] = node.state.on_path
            info["oracle_action"] = self._oracle_action(node)
            info["left_path"] = self.episode.left_path
        return info

    def _finish(self, info: dict[str, Any]) -> dict[str, Any]:
        if self.render_mode == "human":
            self.render()
        return info

    def _oracle_action(self, node: Node) -> int | str:
        """The action that follows the reference solution: an index in the menu; in write mode a
        token, or the reference step's text where its candidate is not shown."""
        if not node.state.on_path:
            a: int | None = self.BACKTRACK
        elif node.state.complete:
            a = self.SUBMIT
        else:
            a = node.correct_index()
        if self.action_mode == "menu":
            return self.SUBMIT if a is None else a
        if not node.state.on_path:
            return BACKTRACK_TOKEN if node.depth > 0 else SUBMIT_TOKEN
        if node.state.complete or a is None:
            return SUBMIT_TOKEN
        return f"<expand_{a}>" if a < self.num_candidates else node.candidates[a].text

    def render_rgb(self) -> np.ndarray:
        """The tree explored so far as an ``(540, 960, 3)`` uint8 image (r1gym.core.picture)."""
        from r1gym.core.picture import FRAME_SIZE, draw

        if self.episode.problem is None:
            return np.full((FRAME_SIZE[1], FRAME_SIZE[0], 3), 255, dtype=np.uint8)
        return draw(self.scene())

    def scene(self) -> Any:
        """What ``render_rgb`` draws: a :class:`r1gym.core.picture.Scene` of the episode so far."""
        from r1gym.core.picture import Scene

        ep = self.episode
        if ep.problem is None:
            raise EpisodeOverError("call reset() before scene()")
        return Scene(
            question=ep.problem.meta.get(QUESTION_AS_WRITTEN) or ep.problem.question,
            nodes=ep.nodes,
            cur=ep.cur,
            num_candidates=self.num_candidates,
            steps=ep.steps,
            backtracks=ep.backtracks,
            reveal=self.reveal,
            outcome=ep.outcome,
        )

    def render_text(self) -> str:
        """The question, the path and the candidates with their confidences, as text."""
        if self.episode.problem is None:
            return "(call reset() first)"
        node = self.episode.nodes[self.episode.cur]
        k = self.num_candidates
        problem = self.episode.problem
        lines = [f"Question: {problem.meta.get(QUESTION_AS_WRITTEN) or problem.question}", ""]
        lines.append(
            f"Path (depth {node.depth}, {_plural(self.episode.steps, 'step')} used, "
            f"{_plural(self.episode.backtracks, 'backtrack')}):"
            if node.texts
            else "Path: (empty: at the question)"
        )
        lines += [f"  {i}. {t}" for i, t in enumerate(node.texts, 1)]
        lines.append("")
        if node.candidates and k:
            lines.append("Candidates:")
            for i, c in enumerate(node.candidates[:k]):
                bar = "#" * int(round(float(node.confidence[i]) * 20))
                lines.append(f"  [{i}] {node.confidence[i]:.2f} {bar:<20} {c.text}")
        elif node.state.complete:
            lines.append("Candidates: none (the path states its answer: submit or backtrack)")
        else:
            lines.append("Candidates: none shown (write the next step)")
        if self.action_mode == "write":
            acts = ["<backtrack>" if node.depth > 0 else "<backtrack> (not at the root)", "<submit>", "or write a step"]
        else:
            acts = [f"[{k}] backtrack" if node.depth > 0 else f"[{k}] backtrack (not at the root)", f"[{k + 1}] submit"]
        lines.append("  " + "   ".join(acts))
        if self.episode.done:
            lines.append("(episode over)")
        return "\n".join(lines)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
