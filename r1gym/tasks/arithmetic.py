"""Arithmetic chains: ``((12 + 7) * 3 - 15) / 6``, solved one operation at a time."""

from __future__ import annotations

import numpy as np

from r1gym.core.problem import Problem, Program, StepSpec, problem_from_program
from r1gym.core.protocols import Task

_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, None: 3}


class ArithmeticTask(Task):
    """Chains of 2 to 5 integer operations whose every intermediate value is a clean integer.

    Start with a number in [2, 50]; each operation adds or subtracts a number in [2, 50]
    (never going below zero), multiplies by 2 to 9 (while the value stays at most 2,000), or
    divides by an exact divisor in 2 to 12. The question writes the chain with the fewest
    parentheses; the solution evaluates it left to right, one operation a step.

    Args:
        seed: the task seed.
        min_ops: fewest operations in a chain.
        max_ops: most operations in a chain.
    """

    domain = "arithmetic"

    def __init__(self, seed: int = 0, min_ops: int = 2, max_ops: int = 5) -> None:
        super().__init__(seed)
        if not (isinstance(min_ops, int) and isinstance(max_ops, int) and 1 <= min_ops <= max_ops <= 12):
            raise ValueError(f"need 1 <= min_ops <= max_ops <= 12, got min_ops={min_ops!r}, max_ops={max_ops!r}")
        self.min_ops, self.max_ops = min_ops, max_ops

    def problem(self, index: int) -> Problem:
        rng = self.rng(index)
        n = int(rng.integers(self.min_ops, self.max_ops + 1))
        value = int(rng.integers(2, 51))
        constants: dict[str, int] = {"c0": value}
        specs: list[StepSpec] = []
        expr, top = str(value), None
        prev = "c0"
        for i in range(1, n + 1):
            op, b = _next_op(value, rng)
            constants[f"c{i}"] = b
            specs.append(StepSpec(id=f"s{i}", op=op, args=(prev, f"c{i}")))
            left = f"({expr})" if _PRECEDENCE[top] < _PRECEDENCE[op] else expr
            expr, top = f"{left} {_SYMBOL[op]} {b}", op
            value = {"add": value + b, "sub": value - b, "mul": value * b, "div": value // b}[op]
            prev = f"s{i}"
        program = Program(constants=constants, steps=tuple(specs))
        return problem_from_program(
            f"Compute {expr}.",
            program,
            domain=self.domain,
            uid=f"arithmetic:{self.seed}:{index}",
            difficulty=f"{n} steps",
            meta={"index": index},
        )


def _next_op(value: int, rng: np.random.Generator) -> tuple[str, int]:
    choices = ["add", "mul", "div", "sub"]
    while True:
        op = choices[int(rng.integers(4))]
        if op == "add":
            return op, int(rng.integers(2, 51))
        if op == "sub" and value >= 4:
            return op, int(rng.integers(2, min(50, value - 1) + 1))
        if op == "mul" and value <= 2000:
            return op, int(rng.integers(2, 10))
        if op == "div":
            divisors = [d for d in range(2, 13) if value % d == 0 and value // d >= 2]
            if divisors:
                return op, divisors[int(rng.integers(len(divisors)))]
