"""Which reasoning-gym families work in R1Open-v0: a table for docs/open.md.

For every family reasoning-gym registers, in a worker process: build problems 0..N-1 (task seed
0, the family's default config), play the oracle in ``R1Open-v0`` (write mode, ``reveal=True``:
it writes ``The answer is <answer>.`` and submits) and a wrong answer
(``The answer is <something else>.``). Then, in another worker process (another hash seed), the
pickled problems are checked again: the item must rebuild to the same question and answer and the
oracle's answer must still verify. A family **works** when every oracle answer is correct, every
wrong one is rejected and the second process agrees; otherwise the first reason it failed is kept.

    python scripts/check_reasoning_gym.py [--problems 5] [--workers 8] [--timeout 120] [--json out.json]

Prints a Markdown table (the one in docs/open.md) and the families that fail, with reasons.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import pickle
import time
from concurrent.futures import ProcessPoolExecutor, TimeoutError
from typing import Any

WRONG = "r1gym-wrong-answer"


def _short(text: object, n: int = 160) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= n else s[: n - 3] + "..."


def play_family(family: str, problems: int) -> dict[str, Any]:
    """Build and play ``problems`` problems of ``family``; the verdict and the pickled problems."""
    import gymnasium as gym

    import r1gym  # noqa: F401  (registers the ids)
    from r1gym.core.spaces import MAX_STEP_CHARS

    t0 = time.perf_counter()
    out: dict[str, Any] = {"family": family, "status": "works", "reason": "", "problems": [], "answers": []}
    try:
        env = gym.make("R1Open-v0", task=f"reasoning_gym:{family}", reveal=True, invalid_action="raise")
    except Exception as e:  # noqa: BLE001 (the table records every way a family fails)
        return {**out, "status": "fails", "reason": f"task: {type(e).__name__}: {_short(e)}"}
    for i in range(problems):
        try:
            obs, info = env.reset(seed=i, options={"problem_index": i})
        except Exception as e:  # noqa: BLE001
            return {**out, "status": "fails", "reason": f"problem {i}: {type(e).__name__}: {_short(e)}"}
        problem = env.unwrapped.problem
        step = problem.steps[0]
        if len(step) > MAX_STEP_CHARS:
            return {
                **out,
                "status": "fails",
                "reason": f"answer of {len(problem.answer)} characters: a written step holds at most {MAX_STEP_CHARS}",
            }
        try:
            reward, info = 0.0, info
            for _ in range(5):  # the oracle: write the reference step, then submit
                obs, reward, term, trunc, info = env.step(info["oracle_action"])
                if term or trunc:
                    break
            if not info.get("is_correct"):
                why = f"oracle answer {_short(info.get('answer'), 60)!r} scored below 1"
                return {**out, "status": "fails", "reason": f"problem {i}: {why}"}
            env.reset(seed=i, options={"problem_index": i})
            wrong = WRONG if problem.answer != WRONG else WRONG + "2"
            env.step(f"The answer is {wrong}.")
            obs, reward, term, trunc, info = env.step("<submit>")
            if info.get("is_correct"):
                return {**out, "status": "fails", "reason": f"problem {i}: the wrong answer {wrong!r} was accepted"}
        except Exception as e:  # noqa: BLE001
            return {**out, "status": "fails", "reason": f"problem {i}: {type(e).__name__}: {_short(e)}"}
        out["problems"].append(pickle.dumps(problem))
        out["answers"].append(problem.answer)
    out["seconds"] = time.perf_counter() - t0
    return out


def verify_elsewhere(family: str, problems: list[bytes], answers: list[str]) -> str:
    """In a fresh process: unpickle the problems and verify the oracle's answers ("" when all pass)."""
    from r1gym.core.verify import get_verifier

    for i, (blob, answer) in enumerate(zip(problems, answers)):
        problem = pickle.loads(blob)
        try:
            ok = get_verifier(problem.verifier)(answer, problem.answer, problem)
        except Exception as e:  # noqa: BLE001
            return f"problem {i} in another process: {type(e).__name__}: {_short(e)}"
        if not ok:
            return f"problem {i} in another process: the oracle's answer no longer verifies"
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=5)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per family")
    parser.add_argument("--families", nargs="*", help="only these (default: every registered family)")
    parser.add_argument("--json", help="write the per-family results here")
    args = parser.parse_args()

    from r1gym.tasks.reasoning_gym import families

    names = args.families or families()
    ctx = mp.get_context("spawn")  # fresh interpreters: each worker has its own hash seed
    results: dict[str, dict[str, Any]] = {}
    with ProcessPoolExecutor(args.workers, mp_context=ctx) as pool:
        futures = {name: pool.submit(play_family, name, args.problems) for name in names}
        for name, fut in futures.items():
            try:
                results[name] = fut.result(timeout=args.timeout)
            except TimeoutError:
                results[name] = {"family": name, "status": "fails", "reason": f"over {args.timeout:.0f} s"}
            except Exception as e:  # noqa: BLE001 (a worker that died)
                results[name] = {"family": name, "status": "fails", "reason": f"worker: {type(e).__name__}: {e}"}
        checks = {
            name: pool.submit(verify_elsewhere, name, r["problems"], r["answers"])
            for name, r in results.items()
            if r["status"] == "works"
        }
        for name, fut in checks.items():
            try:
                why = fut.result(timeout=args.timeout)
            except Exception as e:  # noqa: BLE001
                why = f"check in another process: {type(e).__name__}: {e}"
            if why:
                results[name].update(status="fails", reason=why)

    works = sorted(n for n, r in results.items() if r["status"] == "works")
    fails = sorted(n for n, r in results.items() if r["status"] != "works")
    print(f"| families | {len(results)} |\n|---|---|\n| work | {len(works)} |\n| fail | {len(fails)} |\n")
    if fails:
        print("| family | why it fails |\n|---|---|")
        for n in fails:
            print(f"| `{n}` | {results[n]['reason'].replace('|', '/')} |")
    print(f"\nworking ({len(works)}): " + ", ".join(works))
    if args.json:
        rows = [{k: v for k, v in r.items() if k not in ("problems", "answers")} for r in results.values()]
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
