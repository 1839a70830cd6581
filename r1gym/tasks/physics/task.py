"""The physics task: draws a family, keeps the draft whose values are all clean, makes the problem.

Every value of a problem (constants and step results) is *clean*: a positive number below 10^7
with at most two decimal places (:func:`is_clean`); a draft that is not, or whose answer an
earlier step already states, is drawn again. The problem names the ``"units"`` verifier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from r1gym.core.problem import Problem, Program, problem_from_program
from r1gym.core.protocols import Task
from r1gym.core.values import Value
from r1gym.tasks.physics.families import AREAS, FAMILIES, FAMILY_TABLE, Draft
from r1gym.tasks.physics.units import unit_table
from r1gym.tasks.word_problems import load_names

_MAX_TRIES = 500
_MAX_VALUE = 10**7


def is_clean(v: Value) -> bool:
    """A positive number below 10^7 with at most two decimal places."""
    return (type(v) is int or type(v) is Fraction) and 0 < v < _MAX_VALUE and (v * 100).denominator == 1  # type: ignore[operator]


def _accept(draft: Draft) -> Program | None:
    """The draft's program when every value is clean and no earlier step already equals the answer."""
    if not all(is_clean(v) for v in draft.constants.values()):
        return None
    program = Program(constants=draft.constants, steps=draft.steps, answer_unit=draft.unit)
    try:
        values = program.run()
    except ArithmeticError:
        return None
    if not all(is_clean(v) for v in values) or values[-1] in values[:-1]:
        return None  # an early answer ("premature") must never state the right number
    return program


class PhysicsTask(Task):
    """Physics word problems with units: kinematics, forces, work and energy, unit changes.

    Twenty families of 2 to 5 steps (``FAMILIES``; see ``docs/physics.md`` for an example of
    each), drawn uniformly from ``families``. Numbers are drawn so that every value is a positive
    integer or a decimal with at most two places; each step states its unit and the answer is a
    quantity (``"25 m/s"``) judged by the ``"units"`` verifier, which accepts any equivalent unit
    (``"90 km/h"``) and rejects a wrong unit, a value off by a conversion factor or a bare number.

    Args:
        seed: the task seed.
        families: the families to draw: family names, area names (``"kinematics"``,
            ``"forces"``, ``"energy"``, ``"units"``, each standing for all its families), or both.
    """

    domain = "physics"

    def __init__(self, seed: int = 0, families: Sequence[str] = FAMILIES) -> None:
        super().__init__(seed)
        if isinstance(families, str):
            families = (families,)
        chosen: list[str] = []
        for f in families:
            if f in FAMILY_TABLE:
                names = [f]
            elif f in AREAS:
                names = [n for n, (area, _) in FAMILY_TABLE.items() if area == f]
            else:
                raise ValueError(
                    f"unknown physics family or area {f!r}; valid families: {list(FAMILIES)}; areas: {list(AREAS)}"
                )
            chosen += [n for n in names if n not in chosen]
        if not chosen:
            raise ValueError(f"families must name at least one of {list(FAMILIES)} or {list(AREAS)}")
        self.families = tuple(chosen)
        self.names = load_names()
        unit_table()  # read the units from sympy now (about 0.4 s, once a process), not at the first submit

    def problem(self, index: int) -> Problem:
        rng = self.rng(index)
        family = self.families[int(rng.integers(len(self.families)))]
        area, build = FAMILY_TABLE[family]
        for _ in range(_MAX_TRIES):
            name = self.names[int(rng.integers(len(self.names)))]
            draft = build(rng, name)
            program = _accept(draft)
            if program is not None:
                break
        else:  # pragma: no cover - every family's ranges are chosen to be clean
            raise RuntimeError(f"physics family {family!r}: no clean draw in {_MAX_TRIES} tries (index {index})")
        return problem_from_program(
            draft.question,
            program,
            domain=self.domain,
            uid=f"physics:{self.seed}:{index}",
            difficulty=f"{len(program.steps)} steps",
            meta={"index": index, "family": family, "area": area},
            verifier="units",
        )


def family_examples(seed: int = 0) -> Mapping[str, Problem]:
    """One problem of every family (index 0 of a task of that family alone), for docs and tests."""
    out: dict[str, Problem] = {}
    for f in FAMILIES:
        out[f] = PhysicsTask(seed=seed, families=(f,)).problem(0)
    return out
