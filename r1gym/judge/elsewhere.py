"""Which distractors are themselves a step of the program (for measuring the judge, docs/judge.md).

A distractor the procedural proposer writes can, by the numbers, *be* a valid step: ``9 * 2 = 18``
as a wrong operand of one step when the program also computes ``9 * 2`` elsewhere. By the issue's
definition such a step is correct (a quantity the program reaches from the question and the
path's values) or a restatement, so the measurement counts it apart, beside the raw figure.
The check reads the program only, never the judge.
"""

from __future__ import annotations

from itertools import permutations

from r1gym.core.ops import get_op
from r1gym.core.problem import render_step, resolve
from r1gym.core.tree import PathState


def valid_elsewhere(problem, ps: PathState, cand) -> str | None:
    """Whether a distractor's text *is* a step of the program, checked from the program alone (not
    by the judge): the candidate's template with the operation and operands of a program step,
    computed on this path's values, and no final answer stated. ``"unreached"``: a step not yet
    taken whose operands the path already holds (a correct step by the issue's definition: a
    quantity the program reaches from the question and the path's values); ``"repeat"``: a step
    the path already took (a restatement); None: a real distractor."""
    program = problem.program
    if program is None or cand.state.complete or cand.kind == "premature":
        return None
    specs = program.steps
    env = dict(program.constants)
    for spec, v in zip(specs, ps.slots):
        env[spec.id] = v
    values = dict(env)
    for spec in specs[ps.pos :]:
        try:
            args = [resolve(a, values) for a in spec.args]
            values[spec.id] = None if any(a is None for a in args) else get_op(spec.op).fn(*args)
        except (ArithmeticError, ValueError, TypeError, KeyError):
            values[spec.id] = None
    ids = [s.id for s in specs]
    templates = specs[ps.pos : ps.pos + 2]
    for i, spec in enumerate(specs):
        if i >= ps.pos and any(type(a) is str and a in ids and ids.index(a) >= ps.pos for a in spec.args):
            continue  # needs a value the path does not hold yet
        v = values.get(spec.id)
        if v is None:
            continue
        args = tuple(resolve(a, values) for a in spec.args)
        for perm in set(permutations(args)) if len(args) <= 4 else [args]:
            for t in templates:
                try:
                    text = render_step(t, spec.op, perm, v, env, False, program.answer_unit)
                except (ArithmeticError, ValueError, TypeError, KeyError):
                    continue
                if text == cand.text:
                    return "repeat" if i < ps.pos else "unreached"
    return None
