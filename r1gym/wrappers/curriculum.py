"""Curricula over problem sources: the R1 report's staged one, and an adaptive one.

The report trains in stages (basic math; then physics and programming; then open-domain
problems), promoting the policy when it masters a stage, with stage sizes growing geometrically.
Researchers of curriculum RL compare such a fixed sequence against *adaptive* curricula that
sample where the agent learns most: at its frontier (success near one half) or where its success
rate moved most lately (learning progress). Both are here.

:class:`Curriculum` is the logic alone (which source and difficulty next, what was learned); it
holds plain data, pickles, and saves to JSON. :class:`CurriculumLoop` is the one loop that
applies it to an environment (choose at reset, record when an episode ends);
:class:`CurriculumWrapper` runs it around any r1gym environment, and ``R1Curriculum-v0`` is a
:class:`~r1gym.core.env.ReasoningEnv` that runs it itself.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from r1gym.core.protocols import DIFFICULTIES, make_proposer, make_task

MODES = ("staged", "adaptive")
ADAPTIVE_SIGNALS = ("frontier", "progress")
PROMOTE_ON = ("accuracy", "size", "either")

#: The report's three stages: basic math; physics and programming; open-domain word problems.
DEFAULT_STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("basic math", ("arithmetic",)),
    ("physics and code", ("physics", "code")),
    ("word problems", ("word",)),
)


@dataclass
class Stage:
    """A stage: a name, the task names it samples uniformly, and optionally its difficulty preset
    (``None``: the environment's own)."""

    name: str
    sources: tuple[str, ...]
    difficulty: str | None = None


@dataclass
class Curriculum:
    """Which source (and difficulty) the next episode plays, and what the agent has shown so far.

    Staged mode plays the stages in order. A stage is left when its rolling accuracy over the
    last ``window`` episodes reaches ``threshold`` (``promote_on="accuracy"``), when it has used
    its episode budget (``"size"``: ``base_size * growth ** i`` episodes for stage i, geometric
    as the report advises), or at the first of the two (``"either"``). The last stage is never
    left.

    Adaptive mode treats every (source, difficulty) pair of every stage as an arm and samples
    arms with probability proportional to ``exp(score / temperature)``: with
    ``signal="frontier"`` the score is ``-|p - 0.5|`` (p the arm's rolling success rate, 0.5 before
    any episode), with ``"progress"`` it is ``|p_recent - p_older|`` over the two halves of its
    window (learning progress). ``explore`` is the share of episodes drawn uniformly.

    Args:
        stages: ``(name, (task names...))`` pairs, in order, or ``(name, (task names...), difficulty)``
            triples to also fix the stage's difficulty preset (staged mode; e.g. easy then medium).
        mode: ``"staged"`` or ``"adaptive"``.
        window: episodes in the rolling accuracy (of a stage, or of an arm).
        threshold: rolling accuracy that promotes (staged).
        min_episodes: episodes a stage plays at least before promotion (default: ``window``).
        promote_on: ``"accuracy"``, ``"size"`` or ``"either"`` (staged).
        base_size: episodes of the first stage's budget (``promote_on`` size / either).
        growth: factor of each next stage's budget.
        difficulties: the difficulty presets the adaptive mode chooses among.
        signal: ``"frontier"`` or ``"progress"`` (adaptive).
        temperature: softmax temperature of the adaptive scores.
        explore: share of uniformly drawn arms (adaptive).
        seed: seed of the curriculum's own generator (which source of a stage, which arm).
    """

    stages: Sequence[tuple[str, Sequence[str]] | tuple[str, Sequence[str], str | None]] = DEFAULT_STAGES
    mode: str = "staged"
    window: int = 50
    threshold: float = 0.6
    min_episodes: int | None = None
    promote_on: str = "accuracy"
    base_size: int = 200
    growth: float = 2.0
    difficulties: Sequence[str] = ("easy", "medium", "hard")
    signal: str = "frontier"
    temperature: float = 0.1
    explore: float = 0.1
    seed: int | None = 0
    # state
    stage: int = field(default=0, init=False)
    episodes: int = field(default=0, init=False)
    stage_episodes: int = field(default=0, init=False)
    promotions: list[dict[str, Any]] = field(default_factory=list, init=False)
    _recent: deque = field(init=False, repr=False)
    _arms: dict[str, deque] = field(init=False, repr=False)
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.stages = [_stage(entry) for entry in self.stages]
        if not self.stages or any(not st.sources for st in self.stages):
            raise ValueError("a curriculum needs at least one stage, and every stage at least one source")
        bad_stage = [
            st.difficulty for st in self.stages if st.difficulty is not None and st.difficulty not in DIFFICULTIES
        ]
        if bad_stage:
            raise ValueError(f"stage difficulties must be one of {sorted(DIFFICULTIES)} (or None), got {bad_stage}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.signal not in ADAPTIVE_SIGNALS:
            raise ValueError(f"signal must be one of {ADAPTIVE_SIGNALS}, got {self.signal!r}")
        if self.promote_on not in PROMOTE_ON:
            raise ValueError(f"promote_on must be one of {PROMOTE_ON}, got {self.promote_on!r}")
        if not (isinstance(self.window, int) and self.window >= 1):
            raise ValueError(f"window must be an integer >= 1, got {self.window!r}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must lie in [0, 1], got {self.threshold!r}")
        if self.base_size < 1 or self.growth <= 0:
            raise ValueError("base_size must be >= 1 and growth > 0")
        bad = [d for d in self.difficulties if d not in DIFFICULTIES]
        if bad or not self.difficulties:
            raise ValueError(
                f"difficulties must be a non-empty subset of {sorted(DIFFICULTIES)}, got {list(self.difficulties)}"
            )
        if self.temperature <= 0 or not 0.0 <= self.explore <= 1.0:
            raise ValueError("temperature must be > 0 and explore in [0, 1]")
        self.difficulties = tuple(self.difficulties)
        self._recent = deque(maxlen=self.window)
        self._arms = {}
        self._rng = np.random.default_rng(self.seed)

    # -- choosing ----------------------------------------------------------------------------
    @property
    def current(self) -> Stage:
        return self.stages[self.stage]

    def arms(self) -> list[tuple[str, str]]:
        """Every (source, difficulty) pair the adaptive mode chooses among."""
        sources = dict.fromkeys(s for st in self.stages for s in st.sources)
        return [(s, d) for s in sources for d in self.difficulties]

    def next(self, difficulty: str, rng: np.random.Generator | None = None) -> tuple[str, str]:
        """The (source, difficulty) of the next episode; ``difficulty`` is the env's own.

        ``rng`` draws the choice (the environment's generator, so that a seeded reset is
        reproducible); by default the curriculum's own.
        """
        rng = self._rng if rng is None else rng
        if self.mode == "staged":
            sources = self.current.sources
            return sources[int(rng.integers(len(sources)))], self.current.difficulty or difficulty
        arms = self.arms()
        if rng.random() < self.explore:
            return arms[int(rng.integers(len(arms)))]
        scores = np.array([self._score(a) for a in arms]) / self.temperature
        p = np.exp(scores - scores.max())
        return arms[int(rng.choice(len(arms), p=p / p.sum()))]

    def _score(self, arm: tuple[str, str]) -> float:
        hist = self._arms.get(_key(arm))
        if self.signal == "frontier":
            rate = sum(hist) / len(hist) if hist else 0.5
            return -abs(rate - 0.5)
        if not hist or len(hist) < 4:
            return 1.0  # unexplored arms look promising until measured
        h = list(hist)
        half = len(h) // 2
        return abs(sum(h[half:]) / (len(h) - half) - sum(h[:half]) / half)

    # -- learning ----------------------------------------------------------------------------
    def record(self, arm: tuple[str, str], correct: bool) -> dict[str, Any] | None:
        """Note an episode's outcome; returns the promotion it caused, if any."""
        self.episodes += 1
        self.stage_episodes += 1
        self._recent.append(1.0 if correct else 0.0)
        self._arms.setdefault(_key(arm), deque(maxlen=self.window)).append(1.0 if correct else 0.0)
        if self.mode != "staged" or self.stage == len(self.stages) - 1:
            return None
        mastered = self.stage_episodes >= (self.min_episodes or self.window) and self.rolling_accuracy >= self.threshold
        spent = self.stage_episodes >= self.stage_size(self.stage)
        go = {"accuracy": mastered, "size": spent, "either": mastered or spent}[self.promote_on]
        if not go:
            return None
        event = {
            "episode": self.episodes,
            "from": self.current.name,
            "to": self.stages[self.stage + 1].name,
            "rolling_accuracy": self.rolling_accuracy,
            "stage_episodes": self.stage_episodes,
            "reason": "accuracy" if mastered else "size",
        }
        self.promotions.append(event)
        self.stage += 1
        self.stage_episodes = 0
        self._recent.clear()
        return event

    @property
    def rolling_accuracy(self) -> float:
        """Accuracy over the last ``window`` episodes of the current stage (0 before any)."""
        return sum(self._recent) / len(self._recent) if self._recent else 0.0

    def stage_size(self, i: int) -> int:
        """The episode budget of stage i: ``base_size * growth ** i``."""
        return max(1, int(math.ceil(self.base_size * self.growth**i)))

    def info(self, arm: tuple[str, str]) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "stage": self.stage,
            "stage_name": self.current.name,
            "source": arm[0],
            "difficulty": arm[1],
            "rolling_accuracy": self.rolling_accuracy,
            "episodes": self.episodes,
            "promotions": list(self.promotions),
        }

    # -- saving ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: settings, progress, histories and the generator."""
        return {
            "settings": {
                "stages": [
                    (st.name, list(st.sources)) if st.difficulty is None else (st.name, list(st.sources), st.difficulty)
                    for st in self.stages
                ],
                "mode": self.mode,
                "window": self.window,
                "threshold": self.threshold,
                "min_episodes": self.min_episodes,
                "promote_on": self.promote_on,
                "base_size": self.base_size,
                "growth": self.growth,
                "difficulties": list(self.difficulties),
                "signal": self.signal,
                "temperature": self.temperature,
                "explore": self.explore,
                "seed": self.seed,
            },
            "stage": self.stage,
            "episodes": self.episodes,
            "stage_episodes": self.stage_episodes,
            "promotions": list(self.promotions),
            "recent": list(self._recent),
            "arms": {k: list(v) for k, v in self._arms.items()},
            "rng": self._rng.bit_generator.state,
        }

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> Curriculum:
        try:
            c = cls(**state["settings"])
            c.stage, c.episodes, c.stage_episodes = (
                int(state["stage"]),
                int(state["episodes"]),
                int(state["stage_episodes"]),
            )
            c.promotions = list(state["promotions"])
            c._recent.extend(state["recent"])
            for k, v in state["arms"].items():
                c._arms[k] = deque(v, maxlen=c.window)
            c._rng.bit_generator.state = state["rng"]
        except (KeyError, TypeError) as e:
            raise ValueError(f"not a curriculum state: {e}") from None
        return c

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.state_dict(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> Curriculum:
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"curriculum state {p} does not exist")
        try:
            state = json.loads(p.read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f"{p}:{e.lineno}: not a curriculum state (invalid JSON: {e.msg})") from None
        return cls.from_state_dict(state)


def _stage(entry: Any) -> Stage:
    """A :class:`Stage` from ``(name, sources)`` or ``(name, sources, difficulty)``."""
    if isinstance(entry, Stage):
        return entry
    if isinstance(entry, (str, bytes)) or not isinstance(entry, Sequence) or len(entry) not in (2, 3):
        raise ValueError(f"a stage is (name, [task names]) or (name, [task names], difficulty), got {entry!r}")
    name, sources, *rest = entry
    if isinstance(sources, str):
        sources = (sources,)
    return Stage(str(name), tuple(sources), rest[0] if rest else None)


def _key(arm: tuple[str, str]) -> str:
    return f"{arm[0]}/{arm[1]}"


class CurriculumLoop:
    """The one curriculum loop, shared by :class:`CurriculumWrapper` and ``R1Curriculum-v0``.

    At every reset, :meth:`begin` draws the next (source, difficulty) with the environment's own
    generator, just seeded if the reset was seeded, so a seeded reset is reproducible for a given
    curriculum state; it sets the environment's task and proposer preset (K, and so the spaces,
    never change). :meth:`observe` is called after every step: when the episode ends, by a submit
    (correct or not) or at the step limit (a failure), its outcome goes to the curriculum. An
    episode abandoned by a reset midway is not counted.

    Args:
        env: the unwrapped r1gym environment (``ReasoningEnv``).
        curriculum: the curriculum, or None for the report's default stages.
        task_kwargs: per task name, keyword arguments of that task (``{"gsm8k": {"data_path": ...}}``).
        tasks: tasks already built, by name (the environment's own), used instead of building them again.
    """

    def __init__(
        self,
        env: Any,
        curriculum: Curriculum | None = None,
        task_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
        tasks: Mapping[str, Any] | None = None,
    ) -> None:
        if not hasattr(env, "task") or not hasattr(env, "proposer"):
            raise TypeError("a curriculum drives an r1gym environment (one with a task and a proposer)")
        self.env = env
        self.curriculum = curriculum if curriculum is not None else Curriculum()
        self.switcher = SourceSwitcher(env, task_kwargs, tasks)
        self.arm: tuple[str, str] | None = None
        self.open = False

    def begin(self, rng: np.random.Generator) -> None:
        """Choose the next episode's source and difficulty with ``rng`` and apply them."""
        self.arm = self.curriculum.next(self.switcher.base_difficulty, rng)
        self.switcher.apply(*self.arm)
        self.open = True

    def observe(self, terminated: bool, truncated: bool, info: Mapping[str, Any]) -> None:
        """Record the episode's outcome when this step ended it."""
        if (terminated or truncated) and self.open and self.arm is not None:
            self.curriculum.record(self.arm, bool(terminated and info.get("is_correct", False)))
            self.open = False

    def info(self) -> dict[str, Any]:
        """``info["curriculum"]``: stage, source, difficulty, rolling accuracy, promotions."""
        return self.curriculum.info(self.arm) if self.arm is not None else {}

    def state(self) -> dict[str, Any]:
        """What a snapshot of the environment must hold so a lookahead leaves no trace here."""
        return {"curriculum": self.curriculum.state_dict(), "arm": self.arm, "open": self.open}

    def load_state(self, state: Mapping[str, Any]) -> None:
        self.curriculum = Curriculum.from_state_dict(state["curriculum"])
        self.arm = tuple(state["arm"]) if state["arm"] is not None else None  # type: ignore[assignment]
        self.open = bool(state["open"])
        if self.arm is not None:
            self.switcher.apply(*self.arm)


class CurriculumWrapper(gym.Wrapper):
    """Apply a :class:`Curriculum` to any r1gym environment, through :class:`CurriculumLoop`.

    At every reset the curriculum picks a source (a task name) and, in adaptive mode or from a
    stage that names one, a difficulty; the environment's task and proposer preset follow (the
    number of candidates K stays the environment's, so the spaces never change). When an episode
    ends (a submit, or truncation at the step limit: a failure) its outcome goes back to the
    curriculum. ``info["curriculum"]`` holds the stage, the source, the difficulty, the rolling
    accuracy and the promotion history.

    Seeding is the same as ``R1Curriculum-v0``'s: a seeded reset seeds the unwrapped
    environment's generator, the curriculum draws with it, and the reset goes on with
    ``seed=None`` (the generator is already seeded).

    Args:
        env: an r1gym environment (``gym.make("R1Math-v0")``, for example).
        curriculum: the curriculum, or None for the report's default stages.
        task_kwargs: per task name, keyword arguments of that task (``{"gsm8k": {"data_path": ...}}``).

    Examples:
        >>> import gymnasium as gym, r1gym
        >>> from r1gym.wrappers import Curriculum, CurriculumWrapper
        >>> env = CurriculumWrapper(gym.make("R1Math-v0"), Curriculum(stages=[("a", ["arithmetic"]), ("w", ["word"])]))
        >>> obs, info = env.reset(seed=0)
        >>> info["curriculum"]["stage_name"], info["domain"]
        ('a', 'arithmetic')
    """

    def __init__(
        self,
        env: gym.Env,
        curriculum: Curriculum | None = None,
        task_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(env)
        self.loop = CurriculumLoop(env.unwrapped, curriculum, task_kwargs)

    @property
    def curriculum(self) -> Curriculum:
        return self.loop.curriculum

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        base = self.env.unwrapped
        if seed is not None:
            gym.Env.reset(base, seed=seed)  # seed the generator the curriculum draws with
        self.loop.begin(base.np_random)
        obs, info = self.env.reset(seed=None, options=options)
        info["curriculum"] = self.loop.info()
        return obs, info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.loop.observe(terminated, truncated, info)
        info["curriculum"] = self.loop.info()
        return obs, reward, terminated, truncated, info


class SourceSwitcher:
    """Switches an r1gym environment between tasks and difficulty presets, K kept fixed.

    Tasks are built once per name and reused (so a task's problems stay the same objects);
    ``tasks`` gives some already built, by name.
    """

    def __init__(
        self,
        env: Any,
        task_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
        tasks: Mapping[str, Any] | None = None,
    ) -> None:
        self.env = env
        self.task_kwargs = {k: dict(v) for k, v in (task_kwargs or {}).items()}
        self.base_difficulty = getattr(env, "difficulty", "medium")
        self._tasks: dict[str, Any] = dict(tasks or {})
        # The environment's own proposer serves its own difficulty (its overrides kept).
        self._proposers: dict[str, Any] = {self.base_difficulty: env.proposer}

    def task(self, name: str) -> Any:
        if name not in self._tasks:
            self._tasks[name] = make_task(name, **self.task_kwargs.get(name, {}))
        return self._tasks[name]

    def apply(self, source: str, difficulty: str) -> None:
        self.env.task = self.task(source)
        if difficulty not in self._proposers:
            k = self.env.num_candidates
            self._proposers[difficulty] = make_proposer("procedural", difficulty, k, {})
        self.env.proposer = self._proposers[difficulty]
