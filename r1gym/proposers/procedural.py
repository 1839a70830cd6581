"""The procedural proposer: the reference step, plausible distractors, and a calibrated confidence.

At a node the proposer writes the step the reference program takes next, computed from the
values *this path* holds (so after a wrong step the continuation is re-derived from the wrong
value and errors propagate), and distractors of the kinds a reasoner really makes:

* ``slip``: the right operation with a wrong result (``12 * 3 = 46``);
* ``operand``: an argument swapped for another number of the problem;
* ``operation``: a sibling operation (``+`` for ``*``, ``Add`` for ``Subtract``);
* ``skip``: the step after next, taken as if the next one had not been needed;
* ``premature``: stating the current value as the final answer.

Problems without a program (plain text steps) get ``perturb`` distractors: one number of the
step changed.

Confidence is a softmax over scores. On a correct node the reference step scores
``boost + noise * z``, a distractor ``noise * z`` (``z`` standard normal), and with probability
``convincing_rate`` one distractor gets the boost too: the model errs confidently and can only
notice later. On a node off the correct path no continuation gets the boost and every score is
``noise_after_error * z``, so confidence goes flat: the signal that makes backtracking learnable.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from fractions import Fraction

import numpy as np

from r1gym.core.draws import Draws
from r1gym.core.ops import Op, get_op
from r1gym.core.problem import ANSWER_PREFIX, Problem, render_step, resolve, stated_answer
from r1gym.core.protocols import DIFFICULTIES, TEXT_DISTRACTORS
from r1gym.core.text import NUMBER_IN_TEXT, last_number_in_text
from r1gym.core.tree import Candidate, PathState
from r1gym.core.values import LinearEquation, Number, Value, exact, format_number, is_number

DISTRACTOR_KINDS = ("slip", "operand", "operation", "skip", "premature")


@dataclass(frozen=True)
class ProceduralConfig:
    """Knobs of the procedural proposer; the difficulty presets are instances of it.

    Attributes:
        num_candidates: K, the number of candidates shown at a node.
        boost: score added to the reference step on a correct node.
        noise: standard deviation of the score noise on a correct node.
        noise_after_error: standard deviation of every score on a node off the correct path.
        convincing_rate: probability that a correct node also holds a distractor with the boost.
        distractors: the distractor kinds in use (a subset of ``DISTRACTOR_KINDS``).
        temperature: softmax temperature of the confidence.
    """

    num_candidates: int = 4
    boost: float = 2.5
    noise: float = 1.0
    noise_after_error: float = 0.3
    convincing_rate: float = 0.3
    distractors: tuple[str, ...] = DISTRACTOR_KINDS
    temperature: float = 1.0

    def validate(self) -> ProceduralConfig:
        if isinstance(self.num_candidates, bool) or not isinstance(self.num_candidates, numbers.Integral):
            raise TypeError(f"num_candidates must be an integer, got {self.num_candidates!r}")
        for name in ("boost", "noise", "noise_after_error", "convincing_rate", "temperature"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"{name} must be a number, got {v!r} (a {type(v).__name__})")
        if not 2 <= self.num_candidates <= 16:
            raise ValueError(f"num_candidates must be between 2 and 16, got {self.num_candidates}")
        for name in ("boost", "noise", "noise_after_error"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        if not 0.0 <= self.convincing_rate <= 1.0:
            raise ValueError(f"convincing_rate must lie in [0, 1], got {self.convincing_rate!r}")
        if not (math.isfinite(self.temperature) and self.temperature > 0):
            raise ValueError(f"temperature must be > 0, got {self.temperature!r}")
        bad = [k for k in self.distractors if k not in DISTRACTOR_KINDS]
        if bad or not self.distractors:
            raise ValueError(f"distractors must be a non-empty subset of {DISTRACTOR_KINDS}, got {self.distractors!r}")
        return self


#: Difficulty presets, calibrated by measuring the baselines (docs/calibration.md).
PRESETS: dict[str, ProceduralConfig] = {
    "easy": ProceduralConfig(num_candidates=3, boost=3.0, noise=1.0, noise_after_error=0.2, convincing_rate=0.1),
    "medium": ProceduralConfig(num_candidates=4, boost=2.5, noise=1.0, noise_after_error=0.3, convincing_rate=0.3),
    "hard": ProceduralConfig(num_candidates=5, boost=2.0, noise=1.0, noise_after_error=0.5, convincing_rate=0.4),
}

assert tuple(PRESETS) == DIFFICULTIES, "a preset for each difficulty every proposer understands"

CONFIG_FIELDS = tuple(f.name for f in fields(ProceduralConfig))


def make_config(difficulty: str, **overrides: object) -> ProceduralConfig:
    """A preset with some fields overridden (``None`` values are ignored)."""
    if difficulty not in PRESETS:
        raise ValueError(f"unknown difficulty {difficulty!r}; valid: {sorted(PRESETS)}")
    unknown = [k for k in overrides if k not in CONFIG_FIELDS]
    if unknown:
        raise TypeError(f"unknown proposer option(s) {unknown}; valid: {list(CONFIG_FIELDS)}")
    clean = {k: v for k, v in overrides.items() if v is not None}
    if "distractors" in clean:
        clean["distractors"] = tuple(clean["distractors"])  # type: ignore[arg-type]
    return replace(PRESETS[difficulty], **clean).validate()  # type: ignore[arg-type]


_ANSWER_IN_TEXT = re.compile(re.escape(ANSWER_PREFIX) + r"\s*(.+?)\s*\.?\s*$")


def answer_in_text(text: str) -> str | None:
    """The answer a step states ("... The answer is 42." -> "42"), or None."""
    m = _ANSWER_IN_TEXT.search(text)
    return m.group(1) if m else None


class ProceduralProposer:
    """Proposes candidates for a node; see the module docstring."""

    name = "procedural"

    def __init__(self, config: ProceduralConfig) -> None:
        self.config = config.validate()

    # -- public ---------------------------------------------------------------------------
    def propose(
        self, problem: Problem, state: PathState, texts: tuple[str, ...], rng: np.random.Generator
    ) -> tuple[list[Candidate], np.ndarray]:
        """Candidates for the node at ``state`` (path ``texts``) and their confidences.

        Returns at most K candidates, in a random order, and a float32 confidence per candidate.
        Distractors are drawn round-robin over the distractor kinds (in a random order), and
        each kind writes a candidate only when one is needed.
        """
        if state.complete:
            return [], np.zeros(0, dtype=np.float32)
        draws = Draws(rng)
        if problem.program is not None:
            ref, pool = self._program_options(problem, state, draws)
        else:
            ref, pool = self._text_options(problem, state, texts, draws)
        k = self.config.num_candidates
        chosen: list[Candidate] = [] if ref is None else [ref]
        seen = {c.text for c in chosen}
        kinds = list(pool)
        kinds = [kinds[i] for i in draws.permutation(len(kinds))]
        while len(chosen) < k and kinds:
            for kind in list(kinds):
                c = next(pool[kind], None)
                while c is not None and c.text in seen:
                    c = next(pool[kind], None)
                if c is None:
                    kinds.remove(kind)
                    continue
                seen.add(c.text)
                chosen.append(c)
                if len(chosen) >= k:
                    break
        n = len(chosen)
        cfg = self.config
        z = rng.standard_normal(n).tolist()
        if state.on_path:
            scores = [cfg.noise * x for x in z]
            if ref is not None:
                scores[0] += cfg.boost
            if n > 1 and draws.uniform() < cfg.convincing_rate:
                scores[1 + draws.index(n - 1)] += cfg.boost
        else:
            scores = [cfg.noise_after_error * x for x in z]
        order = draws.permutation(n)
        scores = [scores[i] / cfg.temperature for i in order]
        top = max(scores)
        weights = [math.exp(x - top) for x in scores]
        total = sum(weights)
        return [chosen[i] for i in order], np.array([w / total for w in weights], dtype=np.float32)

    # -- programs -------------------------------------------------------------------------
    def _program_options(
        self, problem: Problem, state: PathState, draws: Draws
    ) -> tuple[Candidate | None, dict[str, Iterator[Candidate]]]:
        program = problem.program
        assert program is not None  # checked by the caller
        specs = program.steps
        pos = state.pos
        last = len(specs) - 1
        env: dict[str, Value] = dict(program.constants)
        for spec, v in zip(specs, state.slots):
            env[spec.id] = v
        spec = specs[pos]
        final = pos == last
        args = tuple([env[a] if type(a) is str else a for a in spec.args])
        op = get_op(spec.op)
        enabled = self.config.distractors
        unit = program.answer_unit
        next_pos, slots = pos + 1, state.slots

        def child(op_name: str, a: tuple[Value, ...], result: Value, kind: str, on_path: bool, op: Op) -> Candidate:
            text = render_step(spec, op_name, a, result, env, final, unit, op)
            answer = stated_answer(result, unit) if final else None
            return Candidate(text, PathState(next_pos, slots + (result,), on_path, final, answer), kind)

        r: Value | None
        try:
            r = op.fn(*args)
        except (ArithmeticError, ValueError):
            r = None
        ref = None if r is None else child(spec.op, args, r, "reference", state.on_path, op)

        def make(op_name: str, a: tuple[Value, ...], kind: str) -> Candidate | None:
            try:
                other = get_op(op_name)
                v = other.fn(*a)
            except (ArithmeticError, ValueError):
                return None
            if r is not None and v == r:
                return None
            return child(op_name, a, v, kind, False, other)

        def slips() -> Iterator[Candidate]:
            if r is not None:
                for wrong in _slips(r, draws, 3):
                    yield child(spec.op, args, wrong, "slip", False, op)

        def operations() -> Iterator[Candidate]:
            for sibling in op.siblings:
                c = make(sibling, args, "operation")
                if c is not None:
                    yield c

        def operands() -> Iterator[Candidate]:
            values = list(env.values())
            for i in draws.permutation(len(args)):
                a = args[i]
                kind = _kind(a)
                same = [v for v in values if (Fraction if type(v) is int else type(v)) is kind and v != a]
                if same:
                    alt = same[draws.index(len(same))]
                    c = make(spec.op, args[:i] + (alt,) + args[i + 1 :], "operand")
                    if c is not None:
                        yield c

        def skips() -> Iterator[Candidate]:
            if final or r is None:
                return
            nxt = specs[pos + 1]
            stand_in = args[0]
            if spec.id not in nxt.args or _kind(stand_in) is not _kind(r) or stand_in == r:
                return
            env2 = dict(env)
            env2[spec.id] = stand_in
            nargs = tuple(resolve(a, env2) for a in nxt.args)
            try:
                nr = get_op(nxt.op).fn(*nargs)
            except (ArithmeticError, ValueError):
                return
            nfinal = pos + 1 == last
            yield Candidate(
                render_step(nxt, nxt.op, nargs, nr, env2, nfinal, unit),
                PathState(
                    pos + 2, state.slots + (stand_in, nr), False, nfinal, stated_answer(nr, unit) if nfinal else None
                ),
                "skip",
            )

        def prematures() -> Iterator[Candidate]:
            if not state.slots:
                return
            ans = stated_answer(state.slots[-1], unit)
            if r is None or not final or ans != stated_answer(r, unit):
                done = PathState(pos, state.slots, False, True, ans)
                yield Candidate(f"{ANSWER_PREFIX} {ans}.", done, "premature")

        makers = {"slip": slips, "operation": operations, "operand": operands, "skip": skips, "premature": prematures}
        return ref, {kind: makers[kind]() for kind in enabled}

    # -- plain text steps ------------------------------------------------------------------
    def _text_options(
        self, problem: Problem, state: PathState, texts: tuple[str, ...], draws: Draws
    ) -> tuple[Candidate | None, dict[str, Iterator[Candidate]]]:
        pos = state.pos
        final = pos == len(problem.steps) - 1
        text = problem.steps[pos]
        program_mode = problem.answer_mode == "program"

        def child(t: str, on_path: bool) -> PathState:
            if not final:
                answer = None
            elif program_mode:
                answer = problem.program_text(texts + (t,))
            else:
                answer = answer_in_text(t) or last_number_in_text(t)
            return PathState(pos + 1, state.slots, on_path, final, answer)

        ref = Candidate(text, child(text, state.on_path), "reference")
        try:
            family = TEXT_DISTRACTORS.resolve(problem.distractors)
        except ValueError:
            raise ValueError(
                f"problem {problem.uid!r} asks for distractors {problem.distractors!r}; "
                f"registered families: {sorted(TEXT_DISTRACTORS)}"
            ) from None

        def variants() -> Iterator[Candidate]:
            for t in family(text, final, draws, problem.question):
                if t != text:
                    yield Candidate(t, child(t, False), "perturb")

        def prematures() -> Iterator[Candidate]:
            ans = last_number_in_text(texts[-1]) if texts else ""
            if ans and not (final and ans == (answer_in_text(text) or "")):
                yield Candidate(f"{ANSWER_PREFIX} {ans}.", PathState(pos, state.slots, False, True, ans), "premature")

        pool: dict[str, Iterator[Candidate]] = {problem.distractors: variants()}
        if "premature" in self.config.distractors and not program_mode:
            pool["premature"] = prematures()
        return ref, pool


def number_variants(text: str, final: bool, draws: Draws, question: str = "") -> Iterator[str]:
    """The ``"numbers"`` family: change one number of the step (the stated answer, at the end)."""
    matches = list(NUMBER_IN_TEXT.finditer(text))
    for _ in range(6 if matches else 0):
        m = matches[-1] if final else matches[draws.index(len(matches))]
        wrong = format_number(_slips(exact(Fraction(m.group())), draws, 1)[0])
        yield text[: m.start()] + wrong + text[m.end() :]


TEXT_DISTRACTORS.register("numbers", number_variants)


def _kind(v: object) -> type:
    """Numbers of either exact type count as one kind (for swapping operands)."""
    return Fraction if type(v) is int else type(v)


def _slips(r: Value, draws: Draws, n: int) -> list[Value]:
    """Up to ``n`` distinct plausible wrong results near ``r``."""
    if isinstance(r, LinearEquation):
        # Slip the right-hand constant, the number the answer is read from, so that the slip
        # propagates to the answer as an arithmetic slip does.
        coefs = list(r.coefficients())
        out: list[Value] = []
        nonzero = [3]
        for _ in range(n):
            i = nonzero[draws.index(len(nonzero))]
            wrong = list(coefs)
            delta = (1, -1, 2, -2)[draws.index(4)]
            wrong[i] = -wrong[i] if (draws.uniform() < 0.3 and wrong[i] != 0) else wrong[i] + delta
            e = LinearEquation(*wrong)
            if e != r and e not in out:
                out.append(e)
        return out
    if not is_number(r):
        return []
    if type(r) is Fraction and r.denominator != 1:
        return _fraction_slips(r, draws, n)
    options: list[Number] = [r + 1, r - 1, r + 2, r - 2, r + 10, r - 10]
    if type(r) is int:
        s = str(abs(r))
        if len(s) >= 2 and s[-1] != s[-2]:
            options.append(int(s[:-2] + s[-1] + s[-2]) * (1 if r >= 0 else -1))
        if 0 < abs(r) < 1000:
            options.append(r * 10)
    else:
        options.append(round(r))
    if r >= 0:
        options = [o for o in options if o >= 0]
    options = [o for o in dict.fromkeys(options) if o != r]
    return [options[i] for i in draws.permutation(len(options))[:n]]


_SHIFTS = (1, -1, 2, -2, 10, -10)


def _fraction_slips(r: Fraction, draws: Draws, n: int) -> list[Value]:
    """:func:`_slips` of a number that is not whole, in integers: the same options in the same
    order (``r + 1``, ``r - 1``, ``r + 2``, ``r - 2``, ``r + 10``, ``r - 10``, ``round(r)``, the
    negative ones dropped when ``r >= 0``) and the same draws, but only the ``n`` chosen are built
    as Fractions (Fraction arithmetic, comparison and hashing cost about a microsecond each).

    The options are distinct and none equals ``r`` (``r + k`` is not whole and ``round(r)`` is),
    so the general path's de-duplication keeps them all.
    """
    p, q = r.numerator, r.denominator
    floor, rem = divmod(p, q)
    rounded = floor + 1 if 2 * rem > q or (2 * rem == q and floor % 2) else floor  # round(r): half to even
    options: list[int | None] = list(_SHIFTS)  # a shift k stands for r + k; None for round(r)
    options.append(None)
    if p >= 0:
        options = [k for k in options if (rounded >= 0 if k is None else p + k * q >= 0)]
    chosen = [options[i] for i in draws.permutation(len(options))[:n]]
    return [rounded if k is None else Fraction(p + k * q, q) for k in chosen]
