"""Linear equations in one unknown, solved step by step and checked with sympy."""

from __future__ import annotations

import numpy as np

from r1gym.core.problem import Problem, Program, StepSpec, problem_from_program
from r1gym.core.protocols import Task
from r1gym.core.values import FactoredEquation, LinearEquation

FAMILIES = ("two_step", "both_sides", "distribute")


class AlgebraTask(Task):
    """Solve for x; the solution is an integer in [-12, 12] (never 0).

    Families (drawn uniformly from ``families``):

    * ``two_step``: ``a*x + b = d`` -> move b, divide by a (2 steps);
    * ``both_sides``: ``a*x + b = c*x + d`` -> move c*x, move b, divide (3 steps);
    * ``distribute``: ``m*(x + p) = q`` -> expand, move m*p, divide (3 steps).

    Every step's value is the whole equation, so a wrong step (a sign slip, a wrong operand,
    forgetting to distribute) gives a wrong equation and the later steps are re-derived from it.
    The answer is the number x equals; ``"x = 5"`` and ``"5"`` are both accepted.

    Args:
        seed: the task seed.
        families: which equation families to draw.
    """

    domain = "algebra"

    def __init__(self, seed: int = 0, families: tuple[str, ...] | list[str] = FAMILIES) -> None:
        super().__init__(seed)
        families = tuple(families)
        bad = [f for f in families if f not in FAMILIES]
        if bad or not families:
            raise ValueError(f"families must be a non-empty subset of {FAMILIES}, got {families!r}")
        self.families = families

    def problem(self, index: int) -> Problem:
        rng = self.rng(index)
        family = self.families[int(rng.integers(len(self.families)))]
        x = int(rng.choice([v for v in range(-12, 13) if v != 0]))
        specs: list[StepSpec] = []
        consts: dict[str, object] = {}

        def move_const(state: str, b: int, sid: str) -> None:
            if b > 0:
                consts["b"] = b
                specs.append(StepSpec(sid, "eq_sub", (state, "b"), "{expr}."))
            else:
                consts["b"] = -b
                specs.append(StepSpec(sid, "eq_add", (state, "b"), "{expr}."))

        if family == "two_step":
            a, b = _nonzero(rng, 2, 12), _nonzero(rng, -20, 20)
            eq = LinearEquation(a, b, 0, a * x + b)
            consts["eq"], consts["a"] = eq, a
            move_const("eq", b, "s1")
            specs.append(StepSpec("s2", "eq_div", ("s1", "a"), "{expr}."))
        elif family == "both_sides":
            c = int(rng.integers(1, 10))
            a = c + _nonzero(rng, 1, 9) * (1 if rng.random() < 0.8 else -1)
            a = a if a != 0 else c + 1
            b, d0 = _nonzero(rng, -20, 20), 0
            d0 = (a - c) * x + b
            eq = LinearEquation(a, b, c, d0)
            consts["eq"], consts["c"], consts["k"] = eq, c, a - c
            specs.append(StepSpec("s1", "eq_sub_x", ("eq", "c"), "{expr}."))
            move_const("s1", b, "s2")
            specs.append(StepSpec("s3", "eq_div", ("s2", "k"), "{expr}."))
        else:
            m, p = int(rng.integers(2, 10)), _nonzero(rng, -9, 9)
            eq_f = FactoredEquation(m, p, m * (x + p))
            consts["eq"], consts["m"] = eq_f, m
            specs.append(StepSpec("s1", "eq_expand", ("eq",), "{expr}."))
            move_const("s1", m * p, "s2")
            specs.append(StepSpec("s3", "eq_div", ("s2", "m"), "{expr}."))
        program = Program(constants=consts, steps=tuple(specs))  # type: ignore[arg-type]
        return problem_from_program(
            f"Solve for x: {consts['eq']}.",
            program,
            domain=self.domain,
            uid=f"algebra:{self.seed}:{index}",
            difficulty=family,
            meta={"index": index, "family": family, "x": x},
        )


def _nonzero(rng: np.random.Generator, lo: int, hi: int) -> int:
    while True:
        v = int(rng.integers(lo, hi + 1))
        if v != 0:
            return v
