"""The interfaces the rest of r1gym plugs into, and the registries that name their implementations.

The environment (:mod:`r1gym.core.env`) is written against these and nothing else:

* :class:`Task`: a source of problems (``r1gym.tasks`` registers its generators and loaders);
* :class:`Proposer`: where a node's candidate steps and confidences come from
  (``r1gym.proposers``);
* :class:`Embedder`: text -> vectors for the numeric observation (``r1gym.embed``);
* :class:`StepJudge`: labels a step ``correct`` / ``wrong`` / ``neutral`` from the problem's
  program (``r1gym.judge`` registers ``"program"``; ``"none"`` here labels every step neutral);
* :class:`Agent` (and :class:`BatchAgent`): what :func:`r1gym.evaluate` plays.

A name in ``gym.make(..., task=..., proposer=..., embedder=...)`` is looked up in
:data:`TASKS`, :data:`PROPOSERS` or :data:`EMBEDDERS`, which the packages above fill when
``import r1gym`` runs; an instance is used as it is. Text distractor families
(:data:`TEXT_DISTRACTORS`) are named by a problem (``Problem.distractors``) and registered by the
task that writes such problems (code lines, say).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from r1gym.core.registry import Registry, must_be_callable

if TYPE_CHECKING:
    from r1gym.core.draws import Draws
    from r1gym.core.problem import Problem
    from r1gym.core.tree import Candidate, PathState

#: The difficulty presets every proposer understands.
DIFFICULTIES = ("easy", "medium", "hard")


class Task(ABC):
    """A source of problems, each rebuilt from ``(seed, index)`` without iterating.

    Procedural tasks are unlimited (``size is None``): problem ``i`` is generated from a random
    generator seeded with ``SeedSequence([seed, i])``, so problem 7 is the same problem in every
    process and on every machine, and distinct ``(seed, index)`` pairs draw independent streams
    (never ``seed + index``, which makes seed 43 replay seed 42 shifted by one).
    Datasets have a ``size`` and serve their items in order.

    Args:
        seed: the task's own seed; it fixes which problem each index is.
    """

    #: the domain label written into every problem
    domain: str = ""
    #: number of problems, or None for an unlimited procedural source
    size: int | None = None

    def __init__(self, seed: int = 0) -> None:
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"task seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)

    @abstractmethod
    def problem(self, index: int) -> Problem:
        """The problem at ``index``: always the same for the same task seed and index."""

    def rng(self, index: int) -> np.random.Generator:
        """The generator problem ``index`` is drawn with."""
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, index])))

    def sample_index(self, rng: np.random.Generator) -> int:
        """A problem index drawn with the environment's generator."""
        if self.size is None:
            return int(rng.integers(0, 2**62))
        return int(rng.integers(0, self.size))

    def check_index(self, index: object) -> int:
        """Validate a ``problem_index`` from ``reset(options=...)``."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"problem_index must be an integer, got {index!r}")
        index = int(index)
        limit = self.size if self.size is not None else 2**62
        if not 0 <= index < limit:
            raise ValueError(f"problem_index must lie in [0, {limit}) for this task, got {index}")
        return index


class ProposerConfig(Protocol):
    """What the environment reads of a proposer's settings: K."""

    num_candidates: int


@runtime_checkable
class Proposer(Protocol):
    """Makes a node's candidate next steps and their confidences.

    ``propose`` is called once per node, on its first visit, with the node's own generator (a
    pure function of the episode's tree seed and the path), so a node looks the same whatever
    order the tree is explored in. It returns at most ``config.num_candidates`` candidates and a
    float32 confidence for each (a softmax: they sum to 1 when there is any candidate).
    """

    config: ProposerConfig

    def propose(
        self, problem: Problem, state: PathState, texts: tuple[str, ...], rng: np.random.Generator
    ) -> tuple[list[Candidate], np.ndarray]: ...


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to float32 rows of L2 norm at most 1.

    Optional: ``embed_node(question, steps, candidates, k) -> (candidate_vecs, context_vec)``,
    what a new node needs in one call (``(k, dim)`` with zero rows past the candidates, and
    ``(dim,)``), equal to ``embed`` and ``embed_context``; the environment uses it when present
    (the hashing embedder has it: one pass over the texts instead of two).
    """

    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32."""
        ...

    def embed_context(self, question: str, steps: Sequence[str]) -> np.ndarray:
        """``(dim,)`` float32 for a question and the steps of a path."""
        ...


@runtime_checkable
class Agent(Protocol):
    """Anything :func:`r1gym.evaluate` can play: ``act(obs, info) -> action``.

    Optional members the evaluator uses when present: ``reset()`` (called before each episode),
    ``name`` (the row label), ``needs_reveal = True`` (sees ``on_path`` / ``oracle_action``: the
    oracle), ``attach(env)`` (planners that look ahead through ``snapshot()`` / ``restore()``),
    ``deterministic = True`` (plays a problem the same way every time: ``evaluate(...,
    samples=n)`` refuses it for n > 1, since its pass@k is its pass@1; an agent that does not say
    is taken as stochastic) and a numpy ``rng`` or torch ``generator`` attribute (its sampling
    stream, which ``samples=n`` reseeds for every attempt).
    """

    def act(self, obs: Mapping[str, Any], info: Mapping[str, Any]) -> int: ...


@runtime_checkable
class BatchAgent(Agent, Protocol):
    """An agent that decides for several environment copies at once (an LLM's batched forward)."""

    def act_batch(self, obs: Mapping[str, Any], infos: Sequence[Mapping[str, Any]] | None = None) -> np.ndarray: ...


@runtime_checkable
class StepJudge(Protocol):
    """Judges the steps of one problem's paths (built per problem by a :data:`JUDGES` factory).

    ``start()`` is the state of the empty path; ``judge(text, state)`` returns a judgment with
    ``label`` (``"correct"``, ``"wrong"``, ``"neutral"``), ``reason``, ``continues_error``,
    ``answer`` (the final answer the step states, or None) and ``assigns`` (``(program step id,
    value)`` pairs the step sets) and never raises; ``advance(state, judgment)`` is the state
    after the step, with ``first_error`` (the index of the path's first wrong step, or None).
    States are immutable and hashable.
    """

    def start(self) -> Any: ...

    def judge(self, text: str, state: Any) -> Any: ...

    def advance(self, state: Any, judgment: Any) -> Any: ...


#: A distractor family for plain-text steps: ``family(text, final, draws, question)`` yields
#: wrong versions of the step ``text`` (duplicates and the text itself are skipped).
DistractorFamily = Callable[[str, bool, "Draws", str], Iterator[str]]


def _is_task_class(obj: Any) -> None:
    if not (isinstance(obj, type) and issubclass(obj, Task)):
        raise TypeError(f"a task is registered as a subclass of r1gym.core.protocols.Task, got {obj!r}")


#: Task names -> :class:`Task` subclasses (``make_task(name, **kwargs)`` builds one).
TASKS: Registry[type[Task]] = Registry("task", _is_task_class)
#: Proposer names -> ``factory(difficulty, num_candidates, kwargs) -> Proposer``.
PROPOSERS: Registry[Callable[..., Proposer]] = Registry(
    "proposer", must_be_callable("a proposer factory is factory(difficulty, num_candidates, kwargs) -> Proposer")
)
#: Embedder names -> ``factory(dim, **kwargs) -> Embedder``.
EMBEDDERS: Registry[Callable[..., Embedder]] = Registry(
    "embedder", must_be_callable("an embedder factory is factory(dim, **kwargs) -> Embedder")
)
#: Distractor families for plain-text steps, by the name a problem gives (``Problem.distractors``).
TEXT_DISTRACTORS: Registry[DistractorFamily] = Registry(
    "distractor family",
    must_be_callable("a distractor family is a callable family(text, final, draws, question) -> iterator of str"),
)


def register_text_distractors(name: str, family: DistractorFamily, *, replace: bool = False) -> None:
    """Add a distractor family for plain-text steps (a task module registers its own)."""
    TEXT_DISTRACTORS.register(name, family, replace=replace)


def make_task(name: str | Task, **kwargs: Any) -> Task:
    """A task from its registered name and keyword arguments, or a :class:`Task` returned as is."""
    if isinstance(name, Task):
        if kwargs:
            raise TypeError("task_kwargs cannot be combined with a Task instance")
        return name
    cls = TASKS.resolve(name)
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise TypeError(f"task {name!r}: {e}") from None


def make_proposer(
    spec: str | Proposer, difficulty: str, num_candidates: int | None, kwargs: dict[str, Any]
) -> Proposer:
    """A proposer from its registered name and the difficulty preset, or an instance returned as is.

    ``"procedural"`` (the default) or ``"llm"`` (:mod:`r1gym.proposers.llm`: ``kwargs`` name the
    model, its tokenizer and the sampling settings).
    """
    if isinstance(spec, str):
        if spec not in PROPOSERS:
            raise ValueError(f"unknown proposer {spec!r}; valid: {list(PROPOSERS)} or a proposer instance")
        return PROPOSERS[spec](difficulty, num_candidates, kwargs)
    if not hasattr(spec, "propose") or not hasattr(getattr(spec, "config", None), "num_candidates"):
        raise TypeError(
            f"proposer must be one of {list(PROPOSERS)} or an object with config.num_candidates and propose()"
        )
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"unknown difficulty {difficulty!r}; valid: {sorted(DIFFICULTIES)}")
    return spec


def make_embedder(spec: str | Embedder, dim: int = 64, **kwargs: Any) -> Embedder:
    """An embedder from its registered name (``"hashing"``, ``"sentence"``) or an instance, returned as is."""
    if not isinstance(spec, str):
        if not (hasattr(spec, "embed") and hasattr(spec, "embed_context") and hasattr(spec, "dim")):
            raise TypeError(
                f"embedder must be one of {list(EMBEDDERS)} or an object with dim, embed() and embed_context()"
            )
        return spec
    if spec not in EMBEDDERS:
        raise ValueError(f"unknown embedder {spec!r}; valid: {list(EMBEDDERS)} or an Embedder instance")
    return EMBEDDERS[spec](dim, **kwargs)


#: Step judge names -> ``factory(problem) -> StepJudge``.
JUDGES: Registry[Callable[..., StepJudge]] = Registry(
    "step judge", must_be_callable("a step judge factory is factory(problem) -> StepJudge")
)


_STATED_ANSWER = re.compile(r"answer\s*(?:is|:|=)\s*(.+?)\s*\.?\s*$", re.IGNORECASE)


class NeutralJudgment(NamedTuple):
    """The verdict of the ``"none"`` judge: no claim is checked."""

    label: str = "neutral"
    reason: str = "no program to judge steps by: the outcome reward carries the episode"
    continues_error: bool = False
    answer: str | None = None
    assigns: tuple = ()


class NeutralState(NamedTuple):
    """The path state of the ``"none"`` judge."""

    steps: int = 0
    first_error: int | None = None


class NeutralJudge:
    """Labels every step ``neutral`` (problems whose steps r1gym has no program for); reads the
    stated final answer (``The answer is ...``) so that a written path can end."""

    def __init__(self, problem: Problem | None = None) -> None:
        self.problem = problem

    def start(self) -> NeutralState:
        return NeutralState()

    def judge(self, text: str, state: NeutralState | None = None) -> NeutralJudgment:
        m = _STATED_ANSWER.search(text) if isinstance(text, str) else None
        return NeutralJudgment(answer=m.group(1).strip() if m else None)

    def advance(self, state: NeutralState, judgment: NeutralJudgment) -> NeutralState:
        return NeutralState(state.steps + 1, None)


JUDGES.register("none", NeutralJudge)


def make_judge(spec: str | Callable[..., StepJudge], problem: Problem) -> StepJudge:
    """The step judge of ``problem``: a registered name (``"program"``, ``"none"``) or a factory."""
    if isinstance(spec, str):
        return JUDGES.resolve(spec)(problem)
    if callable(spec):
        return spec(problem)
    raise TypeError(f"judge must be one of {list(JUDGES)} or a factory(problem) -> StepJudge, got {spec!r}")
