"""Rebuild r1gym's tokenizer (``r1gym/envs_data/tokenizer.json``) from text the environments generate.

Plays ``--episodes`` episodes of each of R1Arith, R1Algebra, R1Math, R1Physics and R1Code in the
text observation mode (random and noisy-oracle policies), collects the prompts, steps and
candidates, and trains a byte-level BPE with digits split one by one (see ``r1gym.tokenizer``).
Deterministic: the same arguments give the same file byte for byte. With the defaults it takes
about 3 s on a 2-core CPU (under 2 s to play the episodes, about 1 s to train)::

    python scripts/build_tokenizer.py                      # writes r1gym/envs_data/tokenizer.json
    python scripts/build_tokenizer.py --episodes 50 --vocab-size 1024 --out /tmp/tok.json
    python scripts/build_tokenizer.py --episodes 2 --corpus-out corpus.json   # also keep the texts
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np

import r1gym  # noqa: F401  (registers the ids)
from r1gym.baselines import RandomAgent
from r1gym.tokenizer import DEFAULT_ENV_IDS, DEFAULT_VOCAB_SIZE, save_tokenizer, train_tokenizer
from r1gym.wrappers.text_prompt import format_prompt

ROOT = Path(__file__).resolve().parents[1]


def build_corpus(n_episodes: int, seed: int = 0, env_ids: Sequence[str] = DEFAULT_ENV_IDS) -> list[str]:
    """Distinct texts the environments generate, in a deterministic order.

    For each id, plays ``n_episodes`` episodes in ``obs_mode="text"``: even ones with
    :class:`r1gym.baselines.RandomAgent`, odd ones with a noisy oracle (the oracle's action with
    probability 0.7, else a random allowed one), so that correct paths, wrong branches and
    backtracks all appear. Collects every observation as :func:`r1gym.wrappers.format_prompt`
    writes it (question, path, candidates, actions) and each problem's reference steps and
    answer. Episodes end when the policy would submit (the verdict is not needed, so no code is
    run) or at the step limit.

    Args:
        n_episodes: episodes per environment id.
        seed: seeds the episodes and the policies (through ``np.random.SeedSequence``).
        env_ids: registered ids to play.
    """
    if n_episodes < 0:
        raise ValueError(f"n_episodes must be >= 0, got {n_episodes}")
    texts: dict[str, None] = {}
    for e, env_id in enumerate(env_ids):
        env = gym.make(env_id, obs_mode="text", reveal=True)
        k = env.unwrapped.num_candidates
        for i in range(n_episodes):
            ep_seed, agent_seed = (int(s) for s in np.random.SeedSequence([seed, e, i]).generate_state(2))
            rng = np.random.default_rng(agent_seed)
            agent = RandomAgent(seed=agent_seed)
            obs, info = env.reset(seed=ep_seed)
            problem = env.unwrapped.problem
            for t in (*problem.steps, problem.answer):
                texts.setdefault(t)
            while True:
                texts.setdefault(format_prompt(obs))
                if i % 2 == 0:
                    a = agent.act(obs, info)
                elif rng.random() < 0.7:
                    a = int(info["oracle_action"])
                else:
                    allowed = np.flatnonzero(obs["action_mask"])
                    a = int(allowed[rng.integers(len(allowed))])
                if a == k + 1:
                    break
                obs, _, terminated, truncated, info = env.step(a)
                if terminated or truncated:
                    break
        env.close()
    return list(texts)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=500, help="episodes per environment id (default 500)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the episodes and policies (default 0)")
    parser.add_argument(
        "--vocab-size", type=int, default=DEFAULT_VOCAB_SIZE, help=f"ids in all (default {DEFAULT_VOCAB_SIZE})"
    )
    parser.add_argument("--env-ids", nargs="+", default=list(DEFAULT_ENV_IDS), help="environment ids to play")
    parser.add_argument("--out", type=Path, default=ROOT / "r1gym" / "envs_data" / "tokenizer.json", help="output file")
    parser.add_argument("--corpus-out", type=Path, help="also write the corpus, a JSON list of the texts, here")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    corpus = build_corpus(args.episodes, seed=args.seed, env_ids=args.env_ids)
    if args.corpus_out is not None:
        args.corpus_out.write_text(json.dumps(corpus))
    played = time.perf_counter()
    tok = train_tokenizer(corpus, vocab_size=args.vocab_size)
    out = save_tokenizer(tok, args.out)
    done = time.perf_counter()
    chars = sum(len(t) for t in corpus)
    print(
        f"{len(corpus)} texts ({chars / 1e6:.1f} M chars) in {played - start:.1f} s; trained in {done - played:.1f} s; "
        f"vocabulary {tok.get_vocab_size()}; wrote {out} ({out.stat().st_size / 1024:.0f} KiB)"
    )
    return out


if __name__ == "__main__":
    main()
