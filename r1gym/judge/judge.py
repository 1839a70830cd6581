"""The step judge: is a written step correct, wrong, or no claim at all?

Built once per problem (:class:`StepJudge`), it reads a step's claims (:mod:`r1gym.judge.text`,
:mod:`r1gym.judge.equations`) and checks each against the problem's *program* run on the values of
the path so far (:class:`JudgeState`):

* ``correct``: the claim's own arithmetic is right and its result is a value the program reaches:
  a step of the program computed from the question and the path's values, with the operands the
  step uses (``48 / 2 = 24``), or several steps at once (``3 * 4 + 2 = 14``), or the value alone
  (``So she sold 24 clips.``). On a path that went wrong, a step derived from the wrong value the
  way the program would is ``correct`` with ``continues_error=True``.
* ``wrong``: wrong arithmetic, a value the program does not reach (a wrong operand, operation, a
  skipped step), a wrong unit, a premature answer, a number too long to be a quantity.
* ``neutral``: no claim: no number, a restatement of a value the path already holds, an expression
  with no result, a step of a program-built answer (code is judged at submit), text too long.

See docs/judge.md for the rules, the measured figures and where the judge fails.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import permutations
from typing import NamedTuple

from r1gym.core.ops import get_op
from r1gym.core.problem import Problem, resolve
from r1gym.core.text import NUMBER_IN_TEXT
from r1gym.core.values import FactoredEquation, LinearEquation, Number, Value, answer_of, format_value, is_number
from r1gym.judge import equations as eqs
from r1gym.judge.text import (
    MAX_STEP_CHARS,
    Claim,
    Huge,
    Segment,
    claims,
    clean,
    normalize,
    read_number,
    runs,
    tokenize,
)

CORRECT, WRONG, NEUTRAL = "correct", "wrong", "neutral"
LABELS = (CORRECT, WRONG, NEUTRAL)

_ANSWER = re.compile(
    r"(?:\bthe\s+)?(?:\bfinal\s+)?\banswer\s*(?:is|:|=|equals)\s*(?P<a>[^\n]*?)\s*[.!]?\s*$|####\s*(?P<b>[^\n]*?)\s*$",
    re.IGNORECASE,
)
_ANNOTATION = re.compile(r"<<([^<>]*)>>")
_ANSWER_LEAD = re.compile(r"(?:\bthe\s+)?(?:\bfinal\s+)?$", re.IGNORECASE)
_ANSWER_WORD = re.compile(r"\banswer\b|####", re.IGNORECASE)
_GROUPS = re.compile(r"(?<=\d)[, \u00a0\u2009\u202f](?=\d{3}(?!\d))")
Unit = tuple[Fraction, tuple[int, int, int]]


class JudgeState(NamedTuple):
    """The values a path holds, as the judge tracks them (immutable and hashable: snapshot it freely).

    Attributes:
        slots: ``(step id, value)`` for each program step the path has given a value, in the order
            taken; a wrong step's value sits in the slot of the step it stands for, so the program
            re-derives later steps from it.
        values: values the path stated that no program step names (problems without a program:
            every value stated, each with whether it came from a wrong step).
        steps: the number of steps judged on the path.
        first_error: the index of the path's first wrong step, or None.
    """

    slots: tuple[tuple[str, Value], ...] = ()
    values: tuple[tuple[Value, bool], ...] = ()
    steps: int = 0
    first_error: int | None = None

    @property
    def on_path(self) -> bool:
        """No wrong step so far."""
        return self.first_error is None


@dataclass(frozen=True, slots=True)
class Judgment:
    """The verdict on one step.

    Attributes:
        label: ``"correct"``, ``"wrong"`` or ``"neutral"``.
        reason: a short sentence ("3 * 4 is 12, not 13", "13 is not a quantity this problem reaches").
        value: the value the step claims (the last claim's), or None.
        continues_error: a correct step derived from an earlier wrong value of the path.
        step_id: the program step the step reaches (or, when wrong, stands for), or None.
        answer: the final answer the step states ("The answer is 42." -> ``"42"``), or None.
        assigns: the program slots the step sets (``advance`` applies them).
        stated: values with no program step the step adds to the path, each with a "wrong" flag.
    """

    label: str
    reason: str
    value: Value | None = None
    continues_error: bool = False
    step_id: str | None = None
    answer: str | None = None
    assigns: tuple[tuple[str, Value], ...] = ()
    stated: tuple[tuple[Value, bool], ...] = ()


class _Verdict(NamedTuple):
    label: str
    reason: str
    value: Value | None = None
    continues: bool = False
    sid: str | None = None


def _quantity_text(v: Value, unit: str = "") -> str:
    return f"{format_value(v)} {unit}".strip()


class StepJudge:
    """Judges written steps of one problem (see the module docstring).

    Args:
        problem: the problem; its program (procedural tasks, annotated GSM8K) is precomputed once.

    Examples:
        >>> judge = StepJudge(problem)
        >>> state = judge.start()
        >>> j = judge.judge("48 / 2 = 24 clips in May.", state)
        >>> j.label, j.reason
        ('correct', '48 / 2 = 24 is a step of the solution')
        >>> state = judge.advance(state, j)
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        program = problem.program
        self.program = program
        self.unit_at: Callable[[str, int], tuple[int, Unit] | None] | None = None
        if problem.answer_mode == "program":
            self.mode = "code"
        elif program is None:
            self.mode = "text"
        elif any(isinstance(v, (LinearEquation, FactoredEquation)) for v in program.constants.values()):
            self.mode = "algebra"
        else:
            self.mode = "numbers"
        if problem.verifier == "units":
            self.unit_at = _unit_reader()
        self._derived: dict[tuple[tuple[str, Value], ...], dict[str, Value | None]] = {}
        if program is not None:
            self.ids = tuple(s.id for s in program.steps)
            self.last = self.ids[-1]
            self.constants = dict(program.constants)
            self.ref = self._derive(())
            self.ref_args = {s.id: _sorted(self._args(s, self.ref)) for s in program.steps}
            self.literals = {a for s in program.steps for a in s.args if type(a) is not str}
            self.known = {v for v in self.constants.values() if is_number(v)} | self.literals
            self.known |= {v for v in self.ref.values() if v is not None and is_number(v)}
            self.units = {s.id: self._step_unit(s.text) for s in program.steps} if self.unit_at else {}
            self.answer_unit = self._parse_unit(program.answer_unit) if self.unit_at else None
            eq = next((v for v in self.constants.values() if isinstance(v, (LinearEquation, FactoredEquation))), None)
            self.question_eq = eq
            self.extra_comps: set[tuple[Value, tuple]] = set()
            self.prose = _prose(program) if problem.domain == "gsm8k" else ()
            if problem.domain == "gsm8k":  # computations GSM8K writes without an annotation ("$142.50 x 10 = $1425")
                for t in problem.steps:
                    for c in self._claims(t):
                        if c.error is None and not c.bare and c.result.value in self.literals:
                            self.extra_comps |= {(c.result.value, tuple(_sorted(x.leaves))) for x in c.computations}
        else:
            words = " ".join((problem.question, *problem.steps, problem.answer))
            self.text_known = {_num(t) for t in NUMBER_IN_TEXT.findall(normalize(words))} - {None}
            self.solution_numbers = {_num(t) for t in NUMBER_IN_TEXT.findall(" ".join(problem.steps))} - {None}
            for t in problem.steps:  # the solution's values as the reader reads them ("1/2", "2 1/2", "4 * 0.5")
                try:
                    read = [x for c in self._claims(t) for x in (c.result, *c.computations) if not c.huge]
                except (ArithmeticError, ValueError, TypeError, RecursionError, Huge):
                    continue
                self.text_known |= {x.value for x in read}
                self.solution_numbers |= {x.value for x in read}
            self.reference_answer = _num(problem.answer)

    def __reduce__(self) -> tuple:
        """Pickled as its problem (a judge is a pure function of it; its precomputed readers hold closures)."""
        return (type(self), (self.problem,))

    # -- public ----------------------------------------------------------------------------
    def start(self) -> JudgeState:
        """The state of the empty path (the root): only the question's values."""
        return JudgeState()

    def judge(self, text: str, state: JudgeState | None = None) -> Judgment:
        """Judge one step ``text`` written after a path whose values are ``state``. Never raises."""
        state = state if state is not None else JudgeState()
        if not isinstance(text, str):
            return Judgment(NEUTRAL, f"not text ({type(text).__name__})")
        if len(text) > MAX_STEP_CHARS:
            return Judgment(NEUTRAL, f"too long to judge ({len(text)} characters, at most {MAX_STEP_CHARS})")
        text, _ = clean(text)
        text = text.strip()
        if not text:
            return Judgment(NEUTRAL, "empty step")
        if self.mode == "code":
            return Judgment(NEUTRAL, "code is judged at submit, not line by line")
        try:
            return self._judge(text, state)
        except (ArithmeticError, LookupError, ValueError, TypeError, RecursionError) as e:  # never raises
            return Judgment(NEUTRAL, f"could not read the step ({type(e).__name__})")

    def advance(self, state: JudgeState, judgment: Judgment) -> JudgeState:
        """The path's state after it takes the judged step (a wrong step records its first error)."""
        slots = dict(state.slots)
        for sid, v in judgment.assigns:
            slots[sid] = v
        first = state.first_error
        if judgment.label == WRONG and first is None:
            first = state.steps
        return JudgeState(tuple(slots.items()), state.values + judgment.stated, state.steps + 1, first)

    def judge_path(self, texts: Iterable[str], state: JudgeState | None = None) -> list[Judgment]:
        """Judge the steps of a path in order, each after the ones before it."""
        state = state if state is not None else self.start()
        out: list[Judgment] = []
        for t in texts:
            j = self.judge(t, state)
            out.append(j)
            state = self.advance(state, j)
        return out

    # -- the program on a path ------------------------------------------------------------
    def _args(self, spec, env: dict) -> tuple[Value, ...]:  # noqa: ANN001
        full = dict(self.constants)
        full.update(env)
        return tuple(resolve(a, full) for a in spec.args)

    def _derive(self, slots: tuple[tuple[str, Value], ...]) -> dict[str, Value | None]:
        """Every step's value on a path: its slot if taken, else the program run on the path's values."""
        got = self._derived.get(slots)
        if got is not None:
            return got
        assert self.program is not None
        fixed = dict(slots)
        env: dict[str, Value | None] = dict(self.constants)
        out: dict[str, Value | None] = {}
        for spec in self.program.steps:
            if spec.id in fixed:
                v: Value | None = fixed[spec.id]
            else:
                args = [resolve(a, env) for a in spec.args]  # type: ignore[arg-type]
                try:
                    v = None if any(a is None for a in args) else get_op(spec.op).fn(*args)
                except (ArithmeticError, ValueError, TypeError):
                    v = None
            env[spec.id] = v
            out[spec.id] = v
        if len(self._derived) > 4096:
            self._derived.clear()
        self._derived[slots] = out
        return out

    # -- units (physics) ------------------------------------------------------------------
    def _parse_unit(self, unit: str) -> Unit | None:
        if not unit or self.unit_at is None:
            return None
        got = self.unit_at(unit, 0)
        return got[1] if got is not None and got[0] == len(unit) else None

    def _step_unit(self, template: str) -> Unit | None:
        """The unit a step's text writes after its result ("... is {expr} m/s." -> m/s)."""
        _, _, after = template.partition("{expr}")
        after = after.strip()
        if not after or self.unit_at is None:
            return None
        got = self.unit_at(after, 0)
        return None if got is None else got[1]

    def _same(self, seg: Segment, value: Value | None, sid: str | None) -> bool:
        """Whether a written result is ``value`` (the value of step ``sid``), with units where both have one."""
        if value is None or not is_number(value):
            return False
        unit = self.units.get(sid) if sid is not None else None
        if sid == "__answer__":
            unit = self.answer_unit
        if seg.unit is None or unit is None:
            return seg.value == value
        return seg.unit[1] == unit[1] and seg.value * seg.unit[0] == value * unit[0]

    # -- judging ----------------------------------------------------------------------------
    def _judge(self, text: str, state: JudgeState) -> Judgment:
        answer_text = None
        found_answer = _last_answer(text)
        if found_answer is not None:
            start, answer_text = found_answer
            body = text[:start]
        else:
            body = text
        anns = _ANNOTATION.findall(body)
        if self.mode == "algebra":
            return self._judge_algebra(body, answer_text, state)
        if anns:
            found = []
            for a in anns:
                expr, eq, res = a.rpartition("=")
                if eq:
                    found += self._claims(f"{expr} = {res}")
        else:
            found = self._claims(self._unprose(body) if self.mode == "numbers" else body)
        if self.mode == "text":
            return self._judge_text(body, found, answer_text, state)
        return self._judge_numbers(found, answer_text, state)

    def _unprose(self, body: str) -> str:
        """``body`` with the solution's own prose around its computations blanked out (GSM8K).

        A GSM8K step is the dataset's line with the annotated computation written in place of
        ``{expr}``; the prose around it is the dataset's (it may hold arithmetic of its own,
        sometimes wrong: ``1152/1,536 = .5``). Where that prose appears verbatim in the step,
        only the rest (the computation) is judged."""
        if not self.prose:
            return body
        plain = _GROUPS.sub("", body)  # "1,000" / "1 000" written for the dataset's "1000"
        hit = False
        for lit in self.prose:
            if lit in plain:
                plain, hit = plain.replace(lit, " ; "), True
        return plain if hit else body

    def _claims(self, body: str) -> list[Claim]:
        s = normalize(body)
        out: list[Claim] = []
        for run in runs(tokenize(s, self.unit_at)):
            out += claims(run, s)
        return out

    def _answer_segment(self, answer_text: str) -> Segment | None:
        found = self._claims(answer_text)
        for c in found:
            if c.huge:
                raise Huge(c.huge)
        return found[0].result if found else None

    def _read_answer(self, answer_text: str, verdicts: list[_Verdict]) -> Segment | None:
        """The stated answer's number; one too long to be a quantity adds a ``wrong`` verdict and gives None."""
        try:
            return self._answer_segment(answer_text)
        except Huge as e:
            verdicts.append(_Verdict(WRONG, _huge(e.digits)))
            return None

    # numbers with a program ---------------------------------------------------------------
    def _judge_numbers(self, found: list[Claim], answer_text: str | None, state: JudgeState) -> Judgment:
        slots = dict(state.slots)
        stated: list[tuple[Value, bool]] = []
        if any(not c.bare for c in found):
            found = [c for c in found if not c.bare or c.huge]
        verdicts: list[_Verdict] = []
        for c in found:
            v = self._claim_verdict(c, slots)
            verdicts.append(v)
            if v.sid is not None and v.value is not None and v.label != NEUTRAL:
                if v.label == WRONG and c.computations:
                    self._skipped(v.sid, c.computations[-1].leaves, self._derive(tuple(slots.items())), slots)
                slots[v.sid] = v.value
            elif v.label == WRONG and v.value is not None:
                stated.append((v.value, True))
        answer = answer_text
        if answer_text is not None:
            seg = self._read_answer(answer_text, verdicts)
            if seg is not None:
                now = [v.value for v in verdicts if v.label == CORRECT and v.value is not None]
                v = self._answer_verdict(seg, slots, now)
                verdicts.append(v)
                if v.label == CORRECT and v.sid is not None and v.sid not in slots:
                    slots[v.sid] = v.value  # type: ignore[assignment]
        assigns = tuple((k, v) for k, v in slots.items() if dict(state.slots).get(k, _MISSING) != v)
        return _combine(verdicts, answer, assigns, tuple(stated))

    def _claim_verdict(self, c: Claim, slots: dict[str, Value]) -> _Verdict:
        if c.huge:
            return _Verdict(WRONG, _huge(c.huge))
        derived = self._derive(tuple(slots.items()))
        unreached = [sid for sid in self.ids if sid not in slots]
        r = c.result
        if c.error is not None:
            return _Verdict(WRONG, c.error, r.value, False, self._stand_in(c, unreached, derived))
        if not c.bare:
            for comp in reversed(c.computations):
                for written in _leaf_sets(comp):
                    leaves = _sorted(written)
                    for sid in unreached:  # the program's next values on this path, from these operands
                        pv = derived[sid]
                        if self._same(r, pv, sid) and leaves == _sorted(self._path_args(sid, derived)):
                            cont = pv != self.ref[sid]
                            return _Verdict(CORRECT, _reach(comp, r, cont), pv, cont, sid)
                    for sid in unreached:  # a value of the reference solution, from its operands
                        rv = self.ref[sid]
                        if self._same(r, rv, sid) and leaves == self.ref_args[sid]:
                            return _Verdict(CORRECT, _reach(comp, r, False), rv, False, sid)
                    for sid in slots:
                        if self._same(r, derived[sid], sid) and leaves in (
                            _sorted(self._path_args(sid, derived)),
                            self.ref_args[sid],
                        ):
                            return _Verdict(NEUTRAL, f"repeats {comp.text} = {r.text}, already on the path")
            # several steps at once ("3 * 4 + 2 = 14"), or a conversion ("90 km/h is 25 m/s")
            path_values = {v for v in derived.values() if v is not None and is_number(v)}
            known = self.known | path_values
            multi = not c.computations or any(
                len(comp.leaves) > 2 and all(x in known for x in comp.leaves) for comp in c.computations
            )
            if multi:
                hit = self._value_hit(r, unreached, derived)
                if hit is not None:
                    return hit
            for comp in c.computations:  # GSM8K: a computation the solution writes outside its annotations
                if (r.value, tuple(_sorted(comp.leaves))) in self.extra_comps:
                    return _Verdict(CORRECT, f"{comp.text} = {r.text} is written in the solution", r.value)
            hit = self._continuation(c, slots, unreached, derived)
            if hit is not None:
                return hit
        else:
            hit = self._value_hit(r, unreached, derived)
            if hit is not None:
                return hit
            if self._is_known(r, slots, derived):
                return _Verdict(NEUTRAL, f"restates {r.text}, a value the path already holds")
        return _Verdict(
            WRONG, self._why_wrong(c, unreached, derived), r.value, False, self._stand_in(c, unreached, derived)
        )

    def _continuation(
        self, c: Claim, slots: dict[str, Value], unreached: list[str], derived: dict[str, Value | None]
    ) -> _Verdict | None:
        """A step computed the way the program computes an unreached step, from at least one of the
        path's wrong values (taking a wrong value for an earlier step, as the proposer's branches do)."""
        tainted = [v for sid, v in slots.items() if v != self.ref[sid]]
        if not tainted or not c.computations:
            return None
        assert self.program is not None
        r = c.result
        env = {**self.constants, **derived}
        sets = [w for comp in reversed(c.computations) for w in _leaf_sets(comp)]
        for leaves, sid in ((w, s) for w in sets for s in unreached):
            spec = self.program.steps[self.ids.index(sid)]
            if len(spec.args) != len(leaves) or len(leaves) > 4:
                continue
            fn = get_op(spec.op).fn
            for perm in set(permutations(leaves)):
                used = False
                for a, x in zip(spec.args, perm):
                    if type(a) is str and a in self.ids:
                        if x in tainted:
                            used = True
                        elif x != env.get(a):
                            break
                    elif x != resolve(a, env):  # type: ignore[arg-type]
                        break
                else:
                    try:
                        ok = used and self._same(r, fn(*perm), sid)
                    except (ArithmeticError, ValueError, TypeError):
                        ok = False
                    if ok:
                        return _Verdict(CORRECT, f"{r.text} follows from the path's values" + _CONT, r.value, True, sid)
        return None

    def _path_args(self, sid: str, derived: dict[str, Value | None]) -> tuple[Value, ...]:
        assert self.program is not None
        spec = self.program.steps[self.ids.index(sid)]
        return tuple(resolve(a, {**self.constants, **derived}) for a in spec.args)  # type: ignore[arg-type]

    def _value_hit(self, r: Segment, unreached: list[str], derived: dict[str, Value | None]) -> _Verdict | None:
        for sid in unreached:
            pv = derived[sid]
            if self._same(r, pv, sid):
                cont = pv != self.ref[sid]
                return _Verdict(
                    CORRECT, f"{r.text} is a value of the solution" + (_CONT if cont else ""), pv, cont, sid
                )
        for sid in unreached:
            if self._same(r, self.ref[sid], sid):
                return _Verdict(CORRECT, f"{r.text} is a value of the solution", self.ref[sid], False, sid)
        return None

    def _is_known(self, r: Segment, slots: dict[str, Value], derived: dict[str, Value | None]) -> bool:
        if (
            r.unit is None
            and r.value in self.known
            and (r.value in self.constants.values() or r.value in self.literals)
        ):
            return True
        if any(self._same(r, derived[sid], sid) for sid in slots):
            return True
        if self.unit_at is not None and r.unit is not None:
            return any(
                is_number(v) and self._question_quantity(r, v) for v in self.constants.values()
            )  # "the car moves at 90 km/h"
        return False

    def _question_quantity(self, r: Segment, v: Value) -> bool:
        return r.value == v

    def _why_wrong(self, c: Claim, unreached: list[str], derived: dict[str, Value | None]) -> str:
        r = c.result
        if r.unit is not None:
            for sid in unreached:
                pv, unit = derived[sid], self.units.get(sid)
                if unit is not None and is_number(pv) and (r.value == pv or r.unit[1] != unit[1]):
                    if r.value * r.unit[0] != pv * unit[0]:  # type: ignore[operator]
                        if r.unit[1] != unit[1] or r.value == pv:
                            return f"wrong unit: {r.text} is not a quantity this problem reaches"
        if not c.bare and c.computations:
            for sid in unreached + list(self.ids):
                if self._same(r, derived.get(sid), sid) or self._same(r, self.ref[sid], sid):
                    return f"{r.text} is a value of this problem, but not from {c.computations[-1].text}"
        return f"{r.text} is not a quantity this problem reaches"

    def _stand_in(self, c: Claim, unreached: list[str], derived: dict[str, Value | None]) -> str | None:
        """The program step a wrong claim stands for: the next step (the first unreached one, where
        a wrong step of the procedural proposer goes) when the claim is that step done with one
        operand or the operation wrong; else the unreached step sharing most operands with it, a
        step whose operation gives the claimed result from the written operands first."""
        if not unreached:
            return None
        comp = max(c.computations, key=lambda x: len(x.fused or x.leaves)) if c.computations else None
        leaves = list(comp.fused or comp.leaves) if comp is not None else []
        best, score = unreached[0], -1.0
        for k, sid in enumerate(unreached):
            args = list(self._path_args(sid, derived))
            s = 0.0
            for x in leaves:
                if x in args:
                    args.remove(x)
                    s += 1
            if c.error is None and self._op_gives(sid, leaves, c.result.value):
                s += 0.5
            if k == 0 and leaves and s >= len(leaves) - 0.5:
                return sid  # the next step with one operand wrong (its operation), or all its operands
            if s > score:
                best, score = sid, s
        return best

    def _op_gives(self, sid: str, leaves: list[Number], result: Value) -> bool:
        """Whether step ``sid``'s operation computes ``result`` from the written operands (any order)."""
        assert self.program is not None
        spec = self.program.steps[self.ids.index(sid)]
        if len(leaves) != len(spec.args) or len(leaves) > 4:
            return False
        fn = get_op(spec.op).fn
        for perm in set(permutations(leaves)):
            try:
                if fn(*perm) == result:
                    return True
            except (ArithmeticError, ValueError, TypeError):
                continue
        return False

    def _skipped(self, sid: str, leaves: tuple[Number, ...], derived: dict[str, Value | None], slots: dict) -> None:
        """A wrong claim standing for ``sid`` whose operands leave one unexplained where ``sid`` takes
        an unreached step: that step was skipped, the operand standing in for its result."""
        assert self.program is not None
        spec = self.program.steps[self.ids.index(sid)]
        if len(leaves) != len(spec.args):
            return
        rest = list(leaves)
        open_args = []
        for a in spec.args:
            v = resolve(a, {**self.constants, **derived})  # type: ignore[arg-type]
            if type(a) is str and a in self.ids and a not in slots:
                open_args.append(a)
            elif v in rest:
                rest.remove(v)
        if len(open_args) == 1 and len(rest) == 1:
            slots[open_args[0]] = rest[0]

    def _answer_verdict(self, seg: Segment, slots: dict[str, Value], now: Sequence[Value] = ()) -> _Verdict:
        derived = self._derive(tuple(slots.items()))
        last = self.last
        fv = derived[last]
        if last not in slots and fv is not None and fv in now and self._same(seg, fv, last):
            slots = {**slots, last: fv}  # the step computed the last value outside the program's form
        unit_sid = "__answer__" if self.answer_unit is not None else last
        if last not in slots:
            return _Verdict(WRONG, f"premature answer: {seg.text} comes before the solution's last step", seg.value)
        if self._same(seg, fv, unit_sid) or (seg.unit is None and fv is not None and seg.value == fv):
            cont = fv != self.ref[last]
            return _Verdict(
                CORRECT,
                "the answer is the result of the solution's last step" + (_CONT if cont else ""),
                fv,
                cont,
                last,
            )
        rv = self.ref[last]
        if self._same(seg, rv, unit_sid) or (seg.unit is None and seg.value == rv):
            return _Verdict(CORRECT, "the answer is the result of the solution's last step", rv, False, last)
        return _Verdict(
            WRONG, f"the answer {seg.text} is not the result of the last step, {format_value(fv)}", seg.value
        )  # type: ignore[arg-type]

    # plain-text problems -------------------------------------------------------------------
    def _judge_text(self, body: str, found: list[Claim], answer_text: str | None, state: JudgeState) -> Judgment:
        path = dict(state.values)
        verdicts: list[_Verdict] = []
        stated: list[tuple[Value, bool]] = []
        strict_numbers = [c for c in found if c.bare]
        if any(not c.bare for c in found):
            found = [c for c in found if not c.bare or c.huge]
        for c in found:
            if c.huge:
                verdicts.append(_Verdict(WRONG, _huge(c.huge)))
                continue
            r = c.result
            if c.error is not None:
                verdicts.append(_Verdict(WRONG, c.error, r.value))
                stated.append((r.value, True))
                continue
            tainted = any(path.get(x, False) for comp in c.computations for x in comp.leaves)
            if r.value in path and not tainted:
                verdicts.append(_Verdict(NEUTRAL, f"restates {r.text}, a value the path already holds"))
            elif r.value in self.text_known and (not c.bare or r.value in self.solution_numbers):
                verdicts.append(_Verdict(CORRECT, f"{r.text} is a value of the solution", r.value))
                stated.append((r.value, False))
            elif not c.bare and tainted:
                verdicts.append(_Verdict(CORRECT, f"{r.text} follows from the path's values" + _CONT, r.value, True))
                stated.append((r.value, True))
            elif c.bare and r.value in self.text_known:
                verdicts.append(_Verdict(NEUTRAL, f"restates {r.text}, a number of the question"))
            else:
                verdicts.append(_Verdict(WRONG, f"{r.text} is not a quantity this problem reaches", r.value))
                stated.append((r.value, True))
        # numbers in the prose of a computing step must still be numbers of the problem
        if verdicts and all(v.label != WRONG for v in verdicts):
            for c in strict_numbers:
                if not c.huge and c.result.value not in self.text_known and c.result.value not in path:
                    verdicts.append(_Verdict(WRONG, f"{c.result.text} is not a quantity this problem reaches"))
        answer = answer_text
        if answer_text is not None:
            seg = self._read_answer(answer_text, verdicts)
            if seg is not None:
                last_values = [v for v, _ in stated] or [v for v, _ in state.values]
                computed = [v.value for v in verdicts if v.value is not None and v.label == CORRECT]
                if seg.value == self.reference_answer:
                    verdicts.append(_Verdict(CORRECT, "the answer is the solution's result", seg.value))
                elif computed and seg.value != computed[-1]:
                    verdicts.append(_Verdict(WRONG, f"the answer {seg.text} is not the step's result {computed[-1]}"))
                elif last_values and seg.value == last_values[-1] and path.get(seg.value, True):
                    verdicts.append(_Verdict(CORRECT, "the answer is the path's last result" + _CONT, seg.value, True))
                else:
                    verdicts.append(_Verdict(WRONG, f"{seg.text} is not the solution's result", seg.value))
        return _combine(verdicts, answer, (), tuple(stated))

    # algebra -------------------------------------------------------------------------------
    def _judge_algebra(self, body: str, answer_text: str | None, state: JudgeState) -> Judgment:
        slots = dict(state.slots)
        verdicts: list[_Verdict] = []
        found = eqs.equations(normalize(body, times_x=False))
        if not found:
            huge = [c for c in self._claims(body) if c.huge]
            if huge:
                verdicts.append(_Verdict(WRONG, _huge(huge[0].huge)))
        if found:
            e, factored, source = found[-1]
            v = self._equation_verdict(e, factored, source, slots)
            verdicts.append(v)
            if v.sid is not None and v.label != NEUTRAL:
                slots[v.sid] = v.value  # type: ignore[assignment]
        answer = answer_text
        if answer_text is not None:
            got = eqs.equations(normalize(answer_text, times_x=False))
            value: Number | None = None
            if got and eqs.solution(got[-1][0]) not in ("all", "none"):
                value = eqs.solution(got[-1][0])  # type: ignore[assignment]
            else:
                seg = self._read_answer(answer_text, verdicts)
                value = None if seg is None else seg.value
            if value is not None:
                derived = self._derive(tuple(slots.items()))
                fv = derived[self.last]
                final = (
                    None
                    if fv is None
                    else read_number(answer_of(fv))
                    if "/" not in answer_of(fv)
                    else Fraction(answer_of(fv))
                )
                if self.last not in slots:
                    verdicts.append(
                        _Verdict(WRONG, f"premature answer: {format_value(value)} comes before the last step")
                    )
                elif final is not None and value == final:
                    cont = fv != self.ref[self.last]
                    verdicts.append(
                        _Verdict(
                            CORRECT, "the answer is read off the last equation" + (_CONT if cont else ""), fv, cont
                        )
                    )
                elif self.last not in slots:
                    verdicts.append(
                        _Verdict(WRONG, f"premature answer: {format_value(value)} comes before the last step")
                    )
                else:
                    verdicts.append(
                        _Verdict(WRONG, f"the answer {format_value(value)} is not read off the last equation")
                    )
        assigns = tuple((k, v) for k, v in slots.items() if dict(state.slots).get(k, _MISSING) != v)
        return _combine(verdicts, answer, assigns, ())

    def _equation_verdict(self, e: LinearEquation, factored: bool, source: str, slots: dict[str, Value]) -> _Verdict:
        derived = self._derive(tuple(slots.items()))
        unreached = [sid for sid in self.ids if sid not in slots]
        for sid in unreached:
            pv = derived[sid]
            if isinstance(pv, LinearEquation) and eqs.same_equation(e, pv):
                cont = pv != self.ref[sid]
                return _Verdict(CORRECT, f"{source} is a step of the solution" + (_CONT if cont else ""), pv, cont, sid)
        for sid in unreached:
            rv = self.ref[sid]
            if isinstance(rv, LinearEquation) and eqs.same_equation(e, rv):
                return _Verdict(CORRECT, f"{source} is a step of the solution", rv, False, sid)
        q = self.question_eq
        q_lin = _linear(q) if q is not None else None
        if q_lin is not None and eqs.same_equation(e, q_lin) and (factored or isinstance(q, LinearEquation)):
            return _Verdict(NEUTRAL, "restates the question's equation")
        for sid in slots:
            pv = derived[sid]
            if isinstance(pv, LinearEquation) and eqs.same_equation(e, pv):
                return _Verdict(NEUTRAL, f"repeats {source}, already on the path")
        current = q_lin
        for sid in reversed([s for s, _ in slots.items()]):
            if isinstance(slots[sid], LinearEquation):
                current = slots[sid]  # type: ignore[assignment]
                break
        sid = unreached[0] if unreached else None
        if current is not None and eqs.solution(e) == eqs.solution(current):
            return _Verdict(WRONG, f"{source} holds, but is not a step this solution takes", e, False, sid)
        where = f" (it gives x = {_sol(e)}, the path's equation x = {_sol(current)})" if current is not None else ""
        return _Verdict(WRONG, f"{source} does not follow from {current}{where}", e, False, sid)


# -- helpers ------------------------------------------------------------------------------------
_CONT = " (continuing an earlier error)"
_MISSING = object()


def _sol(e: LinearEquation) -> str:
    s = eqs.solution(e)
    return s if isinstance(s, str) else format_value(s)


def _linear(v: Value | None) -> LinearEquation | None:
    if isinstance(v, LinearEquation):
        return v
    if isinstance(v, FactoredEquation):
        return LinearEquation(v.m, v.m * v.p, 0, v.q)
    return None


def _leaf_sets(comp: Segment) -> tuple[tuple[Number, ...], ...]:
    """The operands a computation is written with: as read, and with tight fractions as one operand."""
    return (comp.leaves,) if comp.fused is None else (comp.leaves, comp.fused)


def _last_answer(text: str) -> tuple[int, str] | None:
    """Where the step's last answer statement starts and the answer it states ("... the final
    answer is 15 * 8 = 120. The answer is 120." states 120; its first "answer is" is prose)."""
    m = _ANSWER.search(text)
    if m is None:
        return None
    for k in reversed([k.start() for k in _ANSWER_WORD.finditer(text, m.end(0) - len(m.group(0)) + 1)]):
        later = _ANSWER.match(text, k)
        if later is not None and k > m.start() + len("the final "):
            lead = _ANSWER_LEAD.search(text, 0, k)
            m = later
            return (lead.start() if lead else k), (m.group("a") if m.group("a") is not None else m.group("b")) or ""
    return m.start(), (m.group("a") if m.group("a") is not None else m.group("b")) or ""


def _prose(program) -> tuple[str, ...]:  # noqa: ANN001
    """The literal text of the program's step templates around ``{expr}`` that holds a digit,
    longest first (GSM8K: the dataset's prose, see ``StepJudge._unprose``)."""
    out: set[str] = set()
    for spec in program.steps:
        for lit, _name, _, _ in string.Formatter().parse(spec.text):
            lit = lit.strip()
            if lit.endswith("."):
                lit = lit[:-1].rstrip()
            if any(ch.isdigit() for ch in lit):
                out.add(_GROUPS.sub("", lit))
    return tuple(sorted(out, key=len, reverse=True))


def _huge(digits: int) -> str:
    return f"a number of {digits} digits is not a quantity this problem reaches"


def _reach(comp: Segment, r: Segment, cont: bool) -> str:
    return f"{comp.text} = {r.text} is a step of the solution" + (_CONT if cont else "")


def _sorted(values: Sequence[Value]) -> list:
    try:
        return sorted(values)  # type: ignore[type-var]
    except TypeError:
        return list(values)


def _num(token: str) -> Number | None:
    try:
        return read_number(token.strip().rstrip("."))
    except (Huge, ValueError, ZeroDivisionError):
        return None


def _combine(
    verdicts: list[_Verdict],
    answer: str | None,
    assigns: tuple[tuple[str, Value], ...],
    stated: tuple[tuple[Value, bool], ...],
) -> Judgment:
    if not verdicts:
        return Judgment(NEUTRAL, "no claim: the step computes and states no value", None, False, None, answer)
    wrong = [v for v in verdicts if v.label == WRONG]
    if wrong:
        w = wrong[0]
        return Judgment(WRONG, w.reason, w.value, False, w.sid, answer, assigns, stated)
    correct = [v for v in verdicts if v.label == CORRECT]
    if correct:
        c = correct[-1]
        cont = any(v.continues for v in correct)
        return Judgment(CORRECT, c.reason, c.value, cont, c.sid, answer, assigns, stated)
    n = verdicts[-1]
    return Judgment(NEUTRAL, n.reason, None, False, None, answer, assigns, stated)


def _unit_reader() -> Callable[[str, int], tuple[int, Unit] | None]:
    """Reads a unit (``m/s``, ``km/h``, ``meters per second``, ``m^2/s^2``) at a position, with the
    physics domain's table of units; the longest prefix that is a unit wins."""
    from r1gym.tasks.physics.units import parse_unit

    span = re.compile(
        r"[A-Za-z]+(?:\^-?\d|[23](?![0-9]))?(?:\s*(?:/|\*|\bper\b)\s*[A-Za-z]+(?:\^-?\d|[23](?![0-9]))?)*"
    )
    cache: dict[str, tuple[int, Unit] | None] = {}

    def unit_at(s: str, pos: int) -> tuple[int, Unit] | None:
        m = span.match(s, pos)
        if m is None:
            return None
        text = m.group()
        if text in cache:
            got = cache[text]
            return None if got is None else (pos + got[0], got[1])
        result: tuple[int, Unit] | None = None
        cut = len(text)
        while cut > 0:
            u = parse_unit(text[:cut])
            if u is not None:
                result = (cut, u)
                break
            nxt = max(text.rfind("/", 0, cut), text.rfind("*", 0, cut), text.rfind(" per", 0, cut))
            cut = nxt if nxt > 0 else 0
            while cut > 0 and text[cut - 1] == " ":
                cut -= 1
        if len(cache) < 4096:
            cache[text] = result
        return None if result is None else (pos + result[0], result[1])

    return unit_at
