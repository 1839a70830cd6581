"""reasoning-gym's task families as r1gym problem sources (``R1Open-v0``, extra ``open``).

`reasoning-gym <https://github.com/open-thought/reasoning-gym>`_ (Apache-2.0, pinned at 0.1.25)
generates problems of a hundred-odd families (arithmetic, algebra, logic, puzzles, graphs,
cognition, ...) and checks answers with each family's own ``score_answer``, but gives no steps.
Any family is a task here: ``task="reasoning_gym:<family>"`` (or ``task="reasoning_gym"`` with
``task_kwargs={"family": ...}``); every other task keyword is a field of that family's config
dataclass (``min_digits``, ``max_words``, ...), checked when the task is built.

* **Seeding, independent per item.** Problem ``i`` of a task with seed ``s`` is item 0 of the
  family's dataset built with ``size=1`` and ``seed = SeedSequence([s, i]).generate_state(1)[0]``
  (a 32-bit word), so problem 7 is the same in every process, and seed 43 does not replay seed 42
  shifted by one (reasoning-gym's own datasets seed item ``i`` with ``seed + i``).
* **Steps.** The reference solution is the one step ``The answer is <answer>.``: r1gym has no
  program for these families, so written steps are judged ``neutral`` (``judge="none"``) and the
  outcome reward carries the episode. The oracle writes that step and submits.
* **Verifier** ``"reasoning_gym"``: rebuilds the item (cached) and calls the family's
  ``score_answer(answer, entry)``. A score of 1.0 is correct; below 1 the score is the
  similarity, so a wrong answer earns ``partial_credit * score`` (``R1Open-v0`` sets
  ``partial_credit=0`` by default: many families pay small format credit, e.g. 0.01 for any
  answer, or ``len(reference) / len(answer)`` for an answer that contains the reference).
* **One line.** A written step has no line breaks (the environment joins lines with a space), so
  a multi-line answer (a grid) is written on one line; before scoring, the verifier also tries
  the answer's whitespace-separated tokens laid out in the reference's lines (the layout only:
  the tokens are the agent's) and keeps the better score. The stated-answer protocol drops one
  final period; the verifier also tries the answer with it put back when the reference ends
  with one.

Importing this module does not import reasoning-gym: it loads on the first problem or verdict.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from r1gym.core.problem import ANSWER_PREFIX, Problem
from r1gym.core.protocols import TASKS, Task
from r1gym.core.verify import register_similarity, register_verifier
from r1gym.errors import DataError

#: The task name prefix: ``"reasoning_gym:leg_counting"``.
PREFIX = "reasoning_gym"
#: The family ``R1Open-v0`` serves when no task is given.
DEFAULT_FAMILY = "basic_arithmetic"
#: The verifier (and similarity) name the problems give.
VERIFIER = "reasoning_gym"
#: Config fields r1gym sets itself (the item's seed, one item per dataset).
RESERVED = ("seed", "size")
_INSTALL = "pip install 'r1gym[open]' (reasoning-gym==0.1.25)"
_WS = re.compile(r"(\s+)")


def _rg() -> Any:
    try:
        import reasoning_gym
    except ImportError as e:
        raise ImportError(f"reasoning-gym tasks (R1Open-v0) need the package reasoning-gym: {_INSTALL}") from e
    return reasoning_gym


def families() -> list[str]:
    """Every family reasoning-gym registers (imports reasoning-gym)."""
    return sorted(_rg().factory.DATASETS)


def check_family(family: str) -> str:
    """``family`` if reasoning-gym registers it; otherwise ``ValueError`` naming the closest ones."""
    names = families()
    if isinstance(family, str) and family in names:
        return family
    close = difflib.get_close_matches(str(family), names, n=5, cutoff=0.5)
    hint = f" Closest: {close}." if close else ""
    raise ValueError(
        f"unknown reasoning-gym family {family!r}.{hint} {len(names)} families are registered; "
        f"list them with r1gym.tasks.reasoning_gym.families()"
    )


def item_seed(task_seed: int, index: int, attempt: int = 0) -> int:
    """The seed of problem ``index``'s one-item dataset: a 32-bit word of ``SeedSequence([task_seed, index])``;
    ``attempt`` k > 0 (a redraw after the family's generator failed) takes ``SeedSequence([task_seed, index, k])``."""
    entropy = [int(task_seed), int(index)] + ([int(attempt)] if attempt else [])
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint32)[0])


#: how many seeds a problem tries when the family's own generator fails on one (reasoning-gym 0.1.25's
#: basic_arithmetic can divide by zero); the seed that worked is recorded in the problem
GENERATOR_ATTEMPTS = 8
#: what a family's generator raises on an unlucky draw
GENERATOR_ERRORS = (ArithmeticError, ValueError, IndexError, KeyError, AssertionError, RecursionError)


def _key(config: Mapping[str, Any]) -> str:
    return repr(sorted(config.items()))


def check_config(family: str, config: Mapping[str, Any]) -> None:
    """Refuse keywords the family's config dataclass does not have (naming the valid ones) and
    values its ``validate()`` rejects."""
    family = check_family(family)
    reserved = sorted(set(config) & set(RESERVED))
    if reserved:
        raise TypeError(
            f"reasoning_gym:{family}: {reserved} are set by r1gym (the task's seed is task_kwargs['seed']; "
            "problem i is item 0 of a one-item dataset seeded from SeedSequence([seed, i]))"
        )
    _, config_cls = _rg().factory.DATASETS[family]
    fields = [f.name for f in dataclasses.fields(config_cls) if f.name not in RESERVED]
    unknown = sorted(set(config) - set(fields))
    if unknown:
        hint = difflib.get_close_matches(unknown[0], fields, n=1)
        did = f" Did you mean {hint[0]!r}?" if hint else ""
        raise TypeError(f"reasoning_gym:{family} got unknown config field(s) {unknown}.{did} Valid: {fields}")
    try:
        cfg = config_cls(**dict(config), seed=0, size=1)
        if hasattr(cfg, "validate"):
            cfg.validate()
    except (AssertionError, ValueError, TypeError) as e:
        raise ValueError(f"reasoning_gym:{family}: invalid config {dict(config)!r}: {e or type(e).__name__}") from None


#: configs by their key (their repr): the caches below key on the text, as a config may hold lists
_CONFIGS: dict[str, dict[str, Any]] = {}


def _config_key(config: Mapping[str, Any]) -> str:
    key = _key(config)
    _CONFIGS.setdefault(key, dict(config))
    return key


@lru_cache(maxsize=512)
def _item(family: str, key: str, seed: int) -> tuple[Any, dict[str, Any]]:
    """(dataset, entry) of one item, cached: a problem's verdicts reuse the entry it was built from."""
    dataset = _rg().create_dataset(family, **_CONFIGS[key], seed=seed, size=1)
    return dataset, dataset[0]


def item(family: str, config: Mapping[str, Any], seed: int) -> tuple[Any, dict[str, Any]]:
    """The dataset and entry of reasoning-gym's item ``(family, config, seed)``."""
    return _item(family, _config_key(config), int(seed))


def one_line(text: str) -> str:
    """``text`` as a written step holds it: line breaks become spaces (as the environment joins a
    written step's lines)."""
    return " ".join(text.split("\n")).strip()


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


class ReasoningGymTask(Task):
    """Problems of one reasoning-gym family (see the module docstring).

    Args:
        family: the family's name in reasoning-gym (``"leg_counting"``); ``task="reasoning_gym:NAME"``
            sets it.
        seed: the task's seed; problem ``i`` is seeded from ``SeedSequence([seed, i])``.
        **config: fields of the family's config dataclass (not ``seed`` or ``size``).
    """

    domain = "reasoning_gym"
    size = None
    #: the family a subclass built by :func:`task_from_name` serves by default
    default_family: str = DEFAULT_FAMILY

    def __init__(self, family: str | None = None, seed: int = 0, **config: Any) -> None:
        super().__init__(seed)
        self.family = check_family(family or self.default_family)
        check_config(self.family, config)
        self.config = dict(config)
        self._uid_tag = f"{PREFIX}:{self.family}" + (f"[{_digest(_key(self.config))}]" if self.config else "")

    def __reduce__(self) -> tuple:
        # Subclasses made by the factory are not importable by name: pickle as the base class.
        return (_rebuild, (self.family, self.seed, self.config))

    def problem(self, index: int) -> Problem:
        for attempt in range(GENERATOR_ATTEMPTS):
            seed = item_seed(self.seed, index, attempt)
            try:
                _, entry = item(self.family, self.config, seed)
                break
            except GENERATOR_ERRORS as e:  # the family's generator failed on this draw: redraw, deterministically
                error = e
        else:
            raise DataError(
                f"{self._uid_tag}: reasoning-gym's generator failed on item {index} with {GENERATOR_ATTEMPTS} seeds "
                f"(last: {type(error).__name__}: {error})"
            )
        question, answer = entry.get("question"), entry.get("answer")
        if not isinstance(question, str) or not question.strip():
            raise DataError(f"{self._uid_tag}: item {index} has no question")
        if answer is None:
            raise DataError(f"{self._uid_tag}: item {index} has no reference answer (the family scores from metadata)")
        answer = str(answer)
        flat = one_line(answer)
        return Problem(
            question=question,
            steps=(f"{ANSWER_PREFIX} {flat}.",),
            answer=flat,
            domain=self.domain,
            difficulty=self.family,
            uid=f"{self._uid_tag}:{self.seed}:{index}",
            meta={
                "family": self.family,
                "config": dict(self.config),
                "item_seed": seed,
                "answer_digest": _digest(answer),
                "question_digest": _digest(question),
            },
            verifier=VERIFIER,
        )


def _rebuild(family: str, seed: int, config: Mapping[str, Any]) -> ReasoningGymTask:
    return ReasoningGymTask(family, seed, **config)


_CLASSES: dict[str, type[ReasoningGymTask]] = {}


def task_from_name(name: str) -> type[ReasoningGymTask]:
    """The task class of ``"reasoning_gym:<family>"`` (the tasks registry's factory for the prefix)."""
    family = check_family(name.partition(":")[2])
    cls = _CLASSES.get(family)
    if cls is None:
        cls = type(f"ReasoningGymTask_{family}", (ReasoningGymTask,), {"default_family": family, "__doc__": None})
        _CLASSES[family] = cls
        TASKS.register(f"{PREFIX}:{family}", cls)
    return cls


# -- the verifier --------------------------------------------------------------------------------
def _entry_of(meta: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    family, config, seed = meta["family"], meta["config"], meta["item_seed"]
    dataset, entry = item(family, config, seed)
    if _digest(str(entry.get("answer"))) != meta.get("answer_digest") or _digest(
        str(entry.get("question"))
    ) != meta.get("question_digest"):
        raise DataError(
            f"reasoning-gym family {family!r} rebuilt a different item for seed {seed} in this process "
            "(its generator is not deterministic across processes): the answer cannot be checked here"
        )
    return dataset, entry


def relaid(answer: str, reference: str) -> str | None:
    """``answer``'s whitespace-separated tokens in the reference's whitespace layout (its line
    breaks), when both have the same number of tokens and the reference has line breaks."""
    if "\n" not in reference:
        return None
    parts = _WS.split(reference.strip())
    tokens = answer.split()
    if len(tokens) != len(parts[0::2]):
        return None
    parts[0::2] = tokens
    return "".join(parts)


def score(answer: str, reference: str, problem: object) -> float:
    """reasoning-gym's score in [0, 1] of ``answer`` for ``problem`` (the best of its readings:
    as written, relaid in the reference's lines, with the final period put back); cached, as the
    verifier and the similarity both ask."""
    meta = getattr(problem, "meta", None) or {}
    if not all(k in meta for k in ("family", "config", "item_seed")):
        raise DataError(f"problem {getattr(problem, 'uid', '?')!r} is not a reasoning-gym problem")
    fields = ("family", "item_seed", "answer_digest", "question_digest")
    return _score(answer, _config_key(meta["config"]), *(meta.get(k) for k in fields))


@lru_cache(maxsize=4096)
def _score(answer: str, key: str, family: str, seed: int, answer_digest: str, question_digest: str) -> float:
    meta = {
        "family": family,
        "config": _CONFIGS[key],
        "item_seed": seed,
        "answer_digest": answer_digest,
        "question_digest": question_digest,
    }
    dataset, entry = _entry_of(meta)
    true_answer = str(entry.get("answer"))
    readings = [answer]
    lines = relaid(answer, true_answer)
    if lines is not None:
        readings.append(lines)
    if true_answer.rstrip().endswith(".") and not answer.rstrip().endswith("."):
        readings += [r + "." for r in list(readings)]
    best = 0.0
    for text in readings:
        try:
            s = float(dataset.score_answer(text, entry))
        except Exception:  # a checker that chokes on a malformed answer: that answer scores 0
            s = 0.0
        if math.isfinite(s):
            best = max(best, min(1.0, max(0.0, s)))
        if best >= 1.0:
            break
    return best


def verify_reasoning_gym(answer: str, reference: str, problem: object = None) -> bool:
    """The ``"reasoning_gym"`` verifier: correct when the family's ``score_answer`` gives 1.0."""
    return score(answer, reference, problem) >= 1.0 - 1e-9


def similarity_reasoning_gym(answer: str, reference: str, problem: object = None) -> float:
    """Partial credit: the family's own score (the reward scales it by ``partial_credit``)."""
    return score(answer, reference, problem) if answer else 0.0


register_verifier(VERIFIER, verify_reasoning_gym)
register_similarity(VERIFIER, similarity_reasoning_gym)
