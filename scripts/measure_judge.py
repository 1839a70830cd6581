"""Measure the step judge over held-out episodes of every judged domain (docs/judge.md).

For each problem the reference path is walked with the procedural proposer: at every node the
reference candidate must be judged ``correct`` and every distractor ``wrong``; after each
distractor, the proposer's continuation from the wrong value (its reference candidate at the
child node) is judged too (expected: ``correct`` with ``continues_error``). Rewordings of every
reference step (number formats, product and relation words, result first, extra words) are
judged as well.

Run: python scripts/measure_judge.py --episodes 2000 [--seed 12345]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

import r1gym  # noqa: F401  (registers the tasks)
from r1gym.core.protocols import make_task
from r1gym.core.tree import PathState
from r1gym.judge import StepJudge
from r1gym.judge.rewordings import rewordings
from r1gym.proposers.procedural import ProceduralProposer, make_config

GSM8K = Path(__file__).resolve().parents[2] / "shared" / "data" / "gsm8k" / "train.jsonl"
DOMAINS = {
    "arithmetic": ("arithmetic", {}),
    "algebra": ("algebra", {}),
    "word": ("word", {}),
    "physics": ("physics", {}),
    "gsm8k": ("gsm8k", {"data_path": str(GSM8K)}),
}
CONVERSION_FACTORS = {60, 1000, 3600}


def family(problem, kind: str, pos: int) -> str:
    """The distractor family of the issue: physics' skipped or premature conversions are "unit",
    GSM8K's wrong operation is "operator swap"."""
    if problem.domain == "gsm8k" and kind == "operation":
        return "operator swap"
    if problem.domain == "physics" and kind in ("skip", "premature") and problem.program is not None:
        specs = problem.program.steps
        i = pos if kind == "skip" else pos - 1
        if 0 <= i < len(specs):
            lits = [a for a in specs[i].args if type(a) is not str]
            if any(a in CONVERSION_FACTORS or (a != int(a) and a * 5 == 18) for a in lits):
                return "unit"
    return kind


def walk(problem, proposer, rng, stats, failures, reword: bool) -> None:
    judge = StepJudge(problem)
    js = judge.start()
    ps = PathState()
    texts: tuple[str, ...] = ()
    while not ps.complete:
        cands, _ = proposer.propose(problem, ps, texts, rng)
        ref = next((c for c in cands if c.kind == "reference"), None)
        for c in cands:
            j = judge.judge(c.text, js)
            if c.kind == "reference":
                ok = j.label == "correct"
                stats["reference"][ok] += 1
                if not ok:
                    failures["reference"].append((problem.uid, c.text, j.label, j.reason))
                if reword:
                    for how, t in rewordings(c.text, rng):
                        jr = judge.judge(t, js)
                        okr = jr.label == "correct"
                        stats[f"reword:{how}"][okr] += 1
                        stats["reword:all"][okr] += 1
                        if not okr:
                            failures[f"reword:{how}"].append((problem.uid, t, jr.label, jr.reason))
            else:
                fam = family(problem, c.kind, ps.pos)
                ok = j.label == "wrong"
                stats[f"{problem.domain}/{fam}"][ok] += 1
                stats[f"distractor:{fam}"][ok] += 1
                if not ok:
                    failures[f"{problem.domain}/{fam}"].append((problem.uid, c.text, j.label, j.reason))
                # the continuation from the wrong value, when there is one
                if not c.state.complete and c.kind != "perturb":
                    js2 = judge.advance(js, j)
                    kids, _ = proposer.propose(problem, c.state, texts + (c.text,), rng)
                    cont = next((k for k in kids if k.kind == "reference"), None)
                    if cont is not None:
                        jc = judge.judge(cont.text, js2)
                        okc = jc.label == "correct"
                        stats["continuation"][okc] += 1
                        if not okc:
                            failures["continuation"].append(
                                (problem.uid, c.text + " || " + cont.text, jc.label, jc.reason)
                            )
        if ref is None:
            break
        js = judge.advance(js, judge.judge(ref.text, js))
        texts += (ref.text,)
        ps = ref.state


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=12345, help="task seed (held out: the tests use others)")
    ap.add_argument("--show", type=int, default=3, help="failures shown per row")
    args = ap.parse_args()
    proposer = ProceduralProposer(make_config("hard", num_candidates=16))
    stats: dict[str, Counter] = defaultdict(Counter)
    failures: dict[str, list] = defaultdict(list)
    for name, (task_name, kw) in DOMAINS.items():
        if name == "gsm8k" and not GSM8K.is_file():
            print(f"skip gsm8k: {GSM8K} is absent")
            continue
        task = make_task(task_name, seed=args.seed, **kw) if name != "gsm8k" else make_task(task_name, **kw)
        rng = np.random.default_rng(args.seed)
        dstats: dict[str, Counter] = defaultdict(Counter)
        t0 = time.perf_counter()
        n = task.size if getattr(task, "size", None) else None
        for i in range(args.episodes):
            index = int(rng.integers(n)) if n else i
            walk(task.problem(index), proposer, rng, dstats, failures, reword=True)
        dt = time.perf_counter() - t0
        print(f"\n== {name}: {args.episodes} episodes in {dt:.1f} s")
        for key in sorted(dstats):
            c = dstats[key]
            tot = c[True] + c[False]
            want = "correct" if key in ("reference", "continuation") or key.startswith("reword") else "wrong"
            print(f"  {key:32s} {c[True]:7d} / {tot:7d} {want:8s} = {100 * c[True] / max(tot, 1):7.2f} %")
            stats[key].update(c)
    print("\n== failures (first of each row)")
    for key, rows in sorted(failures.items()):
        print(f"  {key}: {len(rows)}")
        for uid, text, label, reason in rows[: args.show]:
            print(f"     {uid}: {text!r} -> {label}: {reason}")


if __name__ == "__main__":
    main()
