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
import os
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

import r1gym  # noqa: F401  (registers the tasks)
from r1gym.core.protocols import make_task
from r1gym.core.tree import PathState
from r1gym.judge import StepJudge
from r1gym.judge.elsewhere import valid_elsewhere
from r1gym.judge.rewordings import rewordings
from r1gym.proposers.procedural import ProceduralProposer, make_config

# GSM8K: R1GYM_GSM8K_PATH, else beside the code as experiments/run.py reads it (data/ is not committed)
BESIDE = Path(__file__).resolve().parents[1] / "data" / "gsm8k" / "train.jsonl"
GSM8K = Path(os.environ.get("R1GYM_GSM8K_PATH") or BESIDE)
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
    """Judge every candidate along the reference path of ``problem`` (and each distractor's
    continuation); counts go to ``stats[key][ok]``, misses to ``failures[key]``."""
    judge = StepJudge(problem)
    js = judge.start()
    ps = PathState()
    texts: tuple[str, ...] = ()
    ref_key = (
        "reference"
        if problem.domain != "gsm8k"
        else ("reference" if problem.program is not None else "reference (plain text)")
    )
    while not ps.complete:
        cands, _ = proposer.propose(problem, ps, texts, rng)
        ref = next((c for c in cands if c.kind == "reference"), None)
        for c in cands:
            j = judge.judge(c.text, js)
            if c.kind == "reference":
                ok = j.label == "correct"
                stats[ref_key][ok] += 1
                if ref_key != "reference":
                    stats["reference (plain text) not wrong"][j.label != "wrong"] += 1
                if not ok:
                    failures[ref_key].append((problem.uid, c.text, j.label, j.reason))
                if reword:
                    for how, t in rewordings(c.text, rng):
                        jr = judge.judge(t, js)
                        okr = jr.label == "correct"
                        stats[f"reword:{how}"][okr] += 1
                        stats["reword:all"][okr] += 1
                        if not okr:
                            failures[f"reword:{how}"].append((problem.uid, t, jr.label, jr.reason))
                continue
            fam = family(problem, c.kind, ps.pos)
            ok = j.label == "wrong"
            elsewhere = None if ok else valid_elsewhere(problem, ps, c)
            stats[f"distractor:{fam}"][ok] += 1
            if elsewhere is not None:
                stats[f"valid elsewhere:{fam}"][elsewhere == "unreached"] += 1
            else:
                stats[f"real distractor:{fam}"][ok] += 1
                if not ok:
                    failures[f"distractor:{fam}"].append((problem.uid, c.text, j.label, j.reason))
            # the continuation from the wrong value, when there is one (not after a distractor
            # that is itself a step of the program: the judge then rightly reads it as that step)
            if not c.state.complete and c.kind != "perturb":
                js2 = judge.advance(js, j)
                kids, _ = proposer.propose(problem, c.state, texts + (c.text,), rng)
                cont = next((k for k in kids if k.kind == "reference"), None)
                if cont is not None:
                    jc = judge.judge(cont.text, js2)
                    okc = jc.label == "correct"
                    stats["continuation" if elsewhere is None else "continuation after valid elsewhere"][okc] += 1
                    if not okc and elsewhere is None:
                        failures["continuation"].append((problem.uid, c.text + " || " + cont.text, jc.label, jc.reason))
        if ref is None:
            break
        js = judge.advance(js, judge.judge(ref.text, js))
        texts += (ref.text,)
        ps = ref.state


FAMILIES = ("slip", "operand", "operation", "operator swap", "skip", "premature", "unit", "perturb")


def pct(c: Counter) -> str:
    tot = c[True] + c[False]
    return f"{100 * c[True] / tot:.2f} %" if tot else ""


def table(results: dict[str, dict[str, Counter]]) -> str:
    """The docs' table: per family the share judged wrong of all its distractors, then (after the
    slash) of the real ones (those that are not a step of the program, see ``valid_elsewhere``)."""
    head = [
        "domain",
        "reference correct",
        *FAMILIES,
        "valid elsewhere (unreached / repeat)",
        "continuation",
        "rewordings",
    ]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, st in results.items():
        ref = st["reference"]
        cells = [name, f"{pct(ref)} ({ref[True] + ref[False]:,})"]
        plain = st.get("reference (plain text)")
        if plain:
            cells[-1] += f"; plain text {pct(plain)} ({plain[True] + plain[False]:,})"
        for fam in FAMILIES:
            a, r = st[f"distractor:{fam}"], st[f"real distractor:{fam}"]
            if not a:
                cells.append("")
            elif a == r:
                cells.append(pct(a))
            else:
                cells.append(f"{pct(a)} / {pct(r)}")
        ve = Counter()
        for k, c in st.items():
            if k.startswith("valid elsewhere:"):
                ve.update(c)
        cells.append(f"{ve[True]:,} / {ve[False]:,}")
        cells.append(pct(st["continuation"]))
        rw = st["reword:all"]
        cells.append(f"{pct(rw)} ({rw[True] + rw[False]:,})")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=12345, help="task seed (held out: the tests use others)")
    ap.add_argument("--show", type=int, default=3, help="failures shown per row")
    ap.add_argument("--domains", default=",".join(DOMAINS), help="comma-separated subset of " + ", ".join(DOMAINS))
    args = ap.parse_args()
    proposer = ProceduralProposer(make_config("hard", num_candidates=16))
    results: dict[str, dict[str, Counter]] = {}
    failures: dict[str, list] = defaultdict(list)
    for name in args.domains.split(","):
        task_name, kw = DOMAINS[name]
        if name == "gsm8k" and not GSM8K.is_file():
            print(f"skip gsm8k: {GSM8K} is absent")
            continue
        task = make_task(task_name, seed=args.seed, **kw) if name != "gsm8k" else make_task(task_name, **kw)
        rng = np.random.default_rng(args.seed)
        dstats: dict[str, Counter] = defaultdict(Counter)
        dfail: dict[str, list] = defaultdict(list)
        t0 = time.perf_counter()
        n = task.size if getattr(task, "size", None) else None
        for i in range(args.episodes):
            index = int(rng.integers(n)) if n else i
            walk(task.problem(index), proposer, rng, dstats, dfail, reword=True)
        dt = time.perf_counter() - t0
        print(f"\n== {name}: {args.episodes} episodes in {dt:.1f} s")
        for key in sorted(dstats):
            c = dstats[key]
            tot = c[True] + c[False]
            if key.startswith("valid elsewhere"):
                print(f"  {key:40s} {c[True]:7d} unreached, {c[False]:7d} repeats")
                continue
            want = "wrong" if "distractor" in key else "correct"
            want = "not wrong" if key.endswith("not wrong") else want
            print(f"  {key:40s} {c[True]:7d} / {tot:7d} {want:9s} = {100 * c[True] / max(tot, 1):7.2f} %")
        results[name] = dstats
        for key, rows in dfail.items():
            failures[f"{name}/{key}"] = rows
    print("\n== failures (first of each row)")
    for key, rows in sorted(failures.items()):
        print(f"  {key}: {len(rows)}")
        for uid, text, label, reason in rows[: args.show]:
            print(f"     {uid}: {text!r} -> {label}: {reason}")
    print("\n== table (distractors: share judged wrong, of all / of the real ones)\n")
    print(table({f"R1{k}": v for k, v in ((DOC_NAMES.get(n, n), st) for n, st in results.items())}))


DOC_NAMES = {"arithmetic": "Arith-v0", "algebra": "Algebra-v0", "word": "Math-v0", "physics": "Physics-v0",
             "gsm8k": "GSM8K-v0"}  # fmt: skip


if __name__ == "__main__":
    main()
