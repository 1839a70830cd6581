"""Play r1gym over OpenEnv with openenv's own GenericEnvClient: one greedy episode (sync), then a
GRPO-style group of four sessions on one problem (async).

Start a server first, then run this script:

    r1gym serve R1Math-v0 --port 8000            # pip install 'r1gym[serve]'
    python examples/openenv_client.py --url http://127.0.0.1:8000

With a token (a server started with --allow-remote and R1GYM_SERVE_TOKEN), put it in the URL:
http://r1gym:TOKEN@host:8000 (sent as HTTP Basic; the server also takes Authorization: Bearer).
"""

from __future__ import annotations

import argparse
import asyncio

from openenv.core import GenericEnvClient


def greedy(obs: dict) -> dict:
    """The most confident allowed candidate, or submit when there is none: sent as protocol text."""
    k = obs["num_candidates"]
    allowed = [i for i in range(k) if obs["action_mask"][i]]
    if not allowed:
        return {"text": "<submit>"}
    best = max(allowed, key=lambda i: obs["confidence"][i])
    return {"text": f"<expand_{best}>"}  # or {"action": best}


def play_one(url: str, seed: int) -> None:
    with GenericEnvClient(base_url=url).sync() as env:
        r = env.reset(seed=seed)
        print(r.observation["system"], "\n")
        while not r.done:
            print(r.observation["prompt"], "\n")
            r = env.step(greedy(r.observation))
        o = r.observation
        print(
            f"answered {o['answer']!r}, reference {o['reference']!r}, correct {o['is_correct']}, reward {r.reward:.3f}"
        )
        print("reward terms:", o["reward_terms"])


async def group(url: str, seed: int, problem_index: int, size: int = 4) -> list[float]:
    """``size`` sessions with the same seed and problem_index: the same problem and tree for each."""

    async def member(i: int) -> float:
        async with GenericEnvClient(base_url=url) as env:
            r = await env.reset(seed=seed, problem_index=problem_index)
            steps = 0
            while not r.done:
                obs = r.observation
                allowed = [a for a in range(obs["num_candidates"]) if obs["action_mask"][a]]
                # each member follows its own candidate first, then the greedy one
                if allowed and steps == 0:
                    step = {"action": allowed[i % len(allowed)]}
                else:
                    step = greedy(obs)
                r = await env.step(step)
                steps += 1
            return float(r.reward)

    return await asyncio.gather(*(member(i) for i in range(size)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--problem-index", type=int, default=7)
    args = p.parse_args()
    play_one(args.url, args.seed)
    rewards = asyncio.run(group(args.url, args.seed, args.problem_index))
    print(f"\nGRPO group on problem {args.problem_index}: rewards {[round(r, 3) for r in rewards]}")


if __name__ == "__main__":
    main()
