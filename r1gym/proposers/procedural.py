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
import re
from dataclasses import dataclass, fields, replace
from fractions import Fraction

import numpy as np

from r1gym.core.ops import get_op
from r1gym.core.problem import ANSWER_PREFIX, Problem, render_step, resolve
from r1gym.core.tree import Candidate, PathState
from r1gym.core.values import LinearEquation, Value, answer_of, format_number

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
    boost: float = 2.0
    noise: float = 1.0
    noise_after_error: float = 0.3
    convincing_rate: float = 0.3
    distractors: tuple[str, ...] = DISTRACTOR_KINDS
    temperature: float = 1.0

    def validate(self) -> ProceduralConfig:
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
    "medium": ProceduralConfig(num_candidates=4, boost=2.0, noise=1.0, noise_after_error=0.3, convincing_rate=0.3),
    "hard": ProceduralConfig(num_candidates=5, boost=1.5, noise=1.0, noise_after_error=0.5, convincing_rate=0.4),
}

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


_NUM_IN_TEXT = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_ANSWER_IN_TEXT = re.compile(re.escape(ANSWER_PREFIX) + r"\s*(.+?)\s*\.?\s*$")


def answer_in_text(text: str) -> str | None:
    """The answer a step states ("... The answer is 42." -> "42"), or None."""
    m = _ANSWER_IN_TEXT.search(text)
    return m.group(1) if m else None


def last_number_in_text(text: str) -> str:
    found = _NUM_IN_TEXT.findall(text)
    return found[-1] if found else ""


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
        """
        if state.complete:
            return [], np.zeros(0, dtype=np.float32)
        if problem.program is not None:
            ref, pool = self._program_options(problem, state, rng)
        else:
            ref, pool = self._text_options(problem, state, texts, rng)
        k = self.config.num_candidates
        chosen: list[Candidate] = [] if ref is None else [ref]
        seen = {c.text for c in chosen}
        # Round-robin over the kinds, in a random order, so every kind shows up.
        kinds = [kind for kind in pool if pool[kind]]
        rng.shuffle(kinds)  # type: ignore[arg-type]
        while len(chosen) < k and kinds:
            for kind in list(kinds):
                options = pool[kind]
                while options:
                    c = options.pop()
                    if c.text not in seen:
                        seen.add(c.text)
                        chosen.append(c)
                        break
                if not options:
                    kinds.remove(kind)
                if len(chosen) >= k:
                    break
        n = len(chosen)
        z = rng.standard_normal(n)
        cfg = self.config
        if state.on_path:
            scores = cfg.noise * z
            if ref is not None:
                scores[0] += cfg.boost
            if n > 1 and rng.random() < cfg.convincing_rate:
                scores[int(rng.integers(1, n))] += cfg.boost
        else:
            scores = cfg.noise_after_error * z
        order = rng.permutation(n)
        scores = scores[order] / cfg.temperature
        conf = np.exp(scores - scores.max())
        conf /= conf.sum()
        return [chosen[i] for i in order], conf.astype(np.float32)

    # -- programs -------------------------------------------------------------------------
    def _program_options(
        self, problem: Problem, state: PathState, rng: np.random.Generator
    ) -> tuple[Candidate | None, dict[str, list[Candidate]]]:
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
        args = tuple(resolve(a, env) for a in spec.args)
        op = get_op(spec.op)
        enabled = self.config.distractors
        pool: dict[str, list[Candidate]] = {}

        def make(op_name: str, a: tuple[Value, ...], kind: str) -> Candidate | None:
            try:
                r = get_op(op_name).fn(*a)
            except (ArithmeticError, ValueError):
                return None
            return self._child(spec, op_name, a, r, env, state, final, kind, on_path=False)

        ref: Candidate | None = None
        r: Value | None
        try:
            r = op.fn(*args)
        except (ArithmeticError, ValueError):
            r = None
        if r is not None:
            ref = self._child(spec, spec.op, args, r, env, state, final, "reference", on_path=state.on_path)

        def differs(c: Candidate | None) -> bool:
            return c is not None and (r is None or c.state.slots[pos] != r)

        if "slip" in enabled and r is not None:
            out = []
            for wrong in _slips(r, rng, 3):
                out.append(self._child(spec, spec.op, args, wrong, env, state, final, "slip", on_path=False))
            pool["slip"] = out
        if "operation" in enabled:
            pool["operation"] = [c for s in op.siblings if differs(c := make(s, args, "operation"))]
        if "operand" in enabled:
            out = []
            for i in rng.permutation(len(args)):
                a = args[i]
                same = [v for v in env.values() if type(v) is type(a) and v != a]
                if not same:
                    continue
                alt = same[int(rng.integers(len(same)))]
                c = make(spec.op, args[:i] + (alt,) + args[i + 1 :], "operand")
                if differs(c):
                    out.append(c)  # type: ignore[arg-type]
                if len(out) >= 2:
                    break
            pool["operand"] = out
        if "skip" in enabled and not final and r is not None:
            nxt = specs[pos + 1]
            stand_in = args[0]
            if spec.id in nxt.args and type(stand_in) is type(r) and stand_in != r:
                env2 = dict(env)
                env2[spec.id] = stand_in
                nargs = tuple(resolve(a, env2) for a in nxt.args)
                try:
                    nr = get_op(nxt.op).fn(*nargs)
                    nfinal = pos + 1 == last
                    text = render_step(nxt, nxt.op, nargs, nr, env2, nfinal)
                    child = PathState(
                        pos=pos + 2,
                        slots=state.slots + (stand_in, nr),
                        on_path=False,
                        complete=nfinal,
                        answer=answer_of(nr) if nfinal else None,
                    )
                    pool["skip"] = [Candidate(text, child, "skip")]
                except (ArithmeticError, ValueError):
                    pass
        if "premature" in enabled and state.slots:
            prev = state.slots[-1]
            ans = answer_of(prev)
            if r is None or ans != answer_of(r) or not final:
                child = PathState(pos=pos, slots=state.slots, on_path=False, complete=True, answer=ans)
                pool["premature"] = [Candidate(f"{ANSWER_PREFIX} {ans}.", child, "premature")]
        return ref, pool

    @staticmethod
    def _child(
        spec,
        op_name: str,
        args: tuple[Value, ...],
        result: Value,
        env: dict[str, Value],
        state: PathState,
        final: bool,
        kind: str,
        *,
        on_path: bool,
    ) -> Candidate:
        text = render_step(spec, op_name, args, result, env, final)
        child = PathState(
            pos=state.pos + 1,
            slots=state.slots + (result,),
            on_path=on_path,
            complete=final,
            answer=answer_of(result) if final else None,
        )
        return Candidate(text, child, kind)

    # -- plain text steps ------------------------------------------------------------------
    def _text_options(
        self, problem: Problem, state: PathState, texts: tuple[str, ...], rng: np.random.Generator
    ) -> tuple[Candidate | None, dict[str, list[Candidate]]]:
        pos = state.pos
        final = pos == len(problem.steps) - 1
        text = problem.steps[pos]

        def child(t: str, on_path: bool) -> PathState:
            return PathState(
                pos=pos + 1,
                slots=state.slots,
                on_path=on_path,
                complete=final,
                answer=(answer_in_text(t) or last_number_in_text(t)) if final else None,
            )

        ref = Candidate(text, child(text, state.on_path), "reference")
        pool: dict[str, list[Candidate]] = {}
        matches = list(_NUM_IN_TEXT.finditer(text))
        out = []
        if matches:
            for _ in range(6):
                m = matches[int(rng.integers(len(matches)))] if not final else matches[-1]
                value = Fraction(m.group())
                wrong = format_number(_slips(value, rng, 1)[0])
                t = text[: m.start()] + wrong + text[m.end() :]
                if t != text:
                    out.append(Candidate(t, child(t, False), "perturb"))
        pool["slip"] = out
        if "premature" in self.config.distractors and texts:
            ans = last_number_in_text(texts[-1])
            if ans and not (final and ans == (answer_in_text(text) or "")):
                cs = PathState(pos=pos, slots=state.slots, on_path=False, complete=True, answer=ans)
                pool["premature"] = [Candidate(f"{ANSWER_PREFIX} {ans}.", cs, "premature")]
        return ref, pool


def _slips(r: Value, rng: np.random.Generator, n: int) -> list[Value]:
    """Up to ``n`` distinct plausible wrong results near ``r``."""
    if isinstance(r, LinearEquation):
        # Slip the right-hand constant, the number the answer is read from, so that the slip
        # propagates to the answer as an arithmetic slip does.
        coefs = list(r.coefficients())
        out: list[Value] = []
        nonzero = [3]
        for _ in range(n):
            i = nonzero[int(rng.integers(len(nonzero)))]
            wrong = list(coefs)
            delta = (1, -1, 2, -2)[int(rng.integers(4))]
            wrong[i] = -wrong[i] if (rng.random() < 0.3 and wrong[i] != 0) else wrong[i] + delta
            e = LinearEquation(*wrong)
            if e != r and e not in out:
                out.append(e)
        return out
    if not isinstance(r, Fraction):
        return []
    options: list[Fraction] = [r + 1, r - 1, r + 2, r - 2, r + 10, r - 10]
    if r.denominator == 1:
        s = str(abs(r.numerator))
        if len(s) >= 2 and s[-1] != s[-2]:
            swapped = Fraction(int(s[:-2] + s[-1] + s[-2])) * (1 if r >= 0 else -1)
            options.append(swapped)
        if 0 < abs(r) < 1000:
            options.append(r * 10)
    else:
        options.append(Fraction(round(r)) if round(r) != r else r + Fraction(1, 2))
    if r >= 0:
        options = [o for o in options if o >= 0]
    options = [o for o in dict.fromkeys(options) if o != r]
    idx = rng.permutation(len(options))[:n]
    return [options[i] for i in idx]
