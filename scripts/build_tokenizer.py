"""Rebuild r1gym's tokenizer (``envs_data/tokenizer.json``) from text the environments generate.

Plays ``--episodes`` episodes of each of R1Arith, R1Algebra, R1Math, R1Physics and R1Code in the
text observation mode (random and noisy-oracle policies), collects the prompts, steps and
candidates, and trains a byte-level BPE with digits split one by one (see ``r1gym.tokenizer``).
Deterministic: the same arguments give the same file byte for byte. With the defaults it takes
about 3 s on a 2-core CPU (under 2 s to play the episodes, about 1 s to train)::

    python scripts/build_tokenizer.py                      # writes envs_data/tokenizer.json
    python scripts/build_tokenizer.py --episodes 50 --vocab-size 1024 --out /tmp/tok.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from r1gym.tokenizer import DEFAULT_ENV_IDS, DEFAULT_VOCAB_SIZE, build_corpus, save_tokenizer, train_tokenizer

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=500, help="episodes per environment id (default 500)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the episodes and policies (default 0)")
    parser.add_argument(
        "--vocab-size", type=int, default=DEFAULT_VOCAB_SIZE, help=f"ids in all (default {DEFAULT_VOCAB_SIZE})"
    )
    parser.add_argument("--env-ids", nargs="+", default=list(DEFAULT_ENV_IDS), help="environment ids to play")
    parser.add_argument("--out", type=Path, default=ROOT / "envs_data" / "tokenizer.json", help="output file")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    corpus = build_corpus(args.episodes, seed=args.seed, env_ids=args.env_ids)
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
