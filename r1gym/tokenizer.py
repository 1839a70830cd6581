"""A small tokenizer for r1gym's text: questions, steps, candidates, prompts and action tokens.

The shipped tokenizer (``r1gym/envs_data/tokenizer.json``, installed as ``r1gym.envs_data``) is a
byte-level BPE trained on text the environments generate, so that a tiny causal LM (a policy or
a proposer) can be built from a config with a vocabulary of a few thousand ids instead of a
general model's 50,000 to 150,000. Rebuild it with ``python scripts/build_tokenizer.py``.

Choices:

* **Byte-level BPE.** Every string is first written as bytes, so any text round-trips exactly
  (``decode(encode(x)) == x``): code indentation, tabs, accents and emoji included, with no
  unknown token. No normalizer, and nothing is added on encode (no ``<bos>``): what you encode is
  what you decode. A caller that wants ``<bos>`` / ``<eos>`` adds them (their ids are fixed).
* **Digits one by one.** Numbers in r1gym are random; a BPE left alone learns arbitrary chunks
  (``120`` one token, ``1200`` as ``12`` + ``00``), so the same digit means different things in
  different numbers and a small model cannot learn arithmetic position by position. Splitting
  every digit (as LLaMA and PaLM do) gives each number one consistent spelling and keeps the
  vocabulary for words.
* **Fixed special ids.** ``<pad>`` = 0, ``<bos>`` = 1, ``<eos>`` = 2, then one token per action:
  ``<expand_0>`` .. ``<expand_15>`` (K can be 2 to 16), ``<backtrack>``, ``<submit>``. Action
  tokens are never split, so a policy reads the K + 2 logits at :func:`action_token_ids`. They
  are added tokens but not "special": ``decode(..., skip_special_tokens=True)`` keeps them.

Examples:
    >>> from r1gym.tokenizer import load_tokenizer, action_token_ids
    >>> tok = load_tokenizer()
    >>> tok.decode(tok.encode("Step 1: 12 * 3 = 36."))
    'Step 1: 12 * 3 = 36.'
    >>> action_token_ids(tok, 4) == [tok.convert_tokens_to_ids(t) for t in
    ...     ["<expand_0>", "<expand_1>", "<expand_2>", "<expand_3>", "<backtrack>", "<submit>"]]
    True
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from r1gym.core.actions import (
    ACTION_TOKENS,
    BACKTRACK_TOKEN,
    EXPAND_TOKENS,
    SUBMIT_TOKEN,
    action_token,
)

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
#: Every added token in id order: ``<pad>`` is 0, ``<bos>`` 1, ``<eos>`` 2, ``<expand_i>`` 3 + i.
SPECIAL_TOKENS = (PAD, BOS, EOS) + ACTION_TOKENS

#: The environments whose text the shipped tokenizer was trained on.
DEFAULT_ENV_IDS = ("R1Arith-v0", "R1Algebra-v0", "R1Math-v0", "R1Physics-v0", "R1Code-v0")
DEFAULT_VOCAB_SIZE = 3072
TOKENIZER_FILE = "tokenizer.json"
REBUILD_HINT = "rebuild it with: python scripts/build_tokenizer.py --out r1gym/envs_data/tokenizer.json"


def action_token_ids(tokenizer: Any, num_candidates: int) -> list[int]:
    """Ids of the K + 2 action tokens in action order: read a policy's logits at these ids."""
    ids = [tokenizer.convert_tokens_to_ids(action_token(a, num_candidates)) for a in range(num_candidates + 2)]
    unk = getattr(tokenizer, "unk_token_id", None)
    if any(i is None or (unk is not None and i == unk) for i in ids):
        raise ValueError(
            "this tokenizer has no action tokens (<expand_i>, <backtrack>, <submit>); use load_tokenizer()"
        )
    return ids


# -- training ----------------------------------------------------------------------------------
def train_tokenizer(texts: Iterable[str], vocab_size: int = DEFAULT_VOCAB_SIZE, min_frequency: int = 2) -> Any:
    """A byte-level BPE (digits split one by one) with r1gym's special and action tokens.

    Deterministic: the same texts in the same order give the same file byte for byte.

    Args:
        texts: the training corpus (see :func:`build_corpus`).
        vocab_size: ids in all, the 256 bytes and the special tokens included.
        min_frequency: fewest occurrences of a pair for it to be merged.

    Returns:
        A ``tokenizers.Tokenizer``; save it with :func:`save_tokenizer`.
    """
    try:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    except ImportError as e:
        raise ImportError("training a tokenizer needs the tokenizers library: pip install 'r1gym[llm]'") from e
    floor = 256 + len(SPECIAL_TOKENS)
    if vocab_size < floor:
        raise ValueError(
            f"vocab_size must be at least {floor} (256 bytes + {len(SPECIAL_TOKENS)} special tokens), got {vocab_size}"
        )
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    # Action tokens stay whole but are not "special": skip_special_tokens keeps them on decode.
    data = json.loads(tok.to_str())
    for entry in data["added_tokens"]:
        if entry["content"] in ACTION_TOKENS:
            entry["special"] = False
    return Tokenizer.from_str(json.dumps(data))


def save_tokenizer(tokenizer: Any, path: str | Path) -> Path:
    """Write ``tokenizer`` (a ``tokenizers.Tokenizer``) as one compact JSON file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tokenizer.to_str(pretty=False), encoding="utf-8")
    return path


# -- loading -----------------------------------------------------------------------------------
def shipped_tokenizer_path() -> Path:
    """Where the shipped ``tokenizer.json`` lies (it may be missing in a source tree)."""
    return Path(str(resources.files("r1gym.envs_data").joinpath(TOKENIZER_FILE)))


def load_tokenizer(path: str | Path | None = None) -> Any:
    """The tokenizer as a ``transformers.PreTrainedTokenizerFast``; nothing is downloaded.

    Args:
        path: a ``tokenizer.json``; the shipped one by default.

    Raises:
        FileNotFoundError: the file is missing (the message says how to rebuild it).
        ImportError: ``transformers`` is not installed.
    """
    file = Path(path) if path is not None else shipped_tokenizer_path()
    if not file.is_file():
        raise FileNotFoundError(f"tokenizer file {file} does not exist; {REBUILD_HINT}")
    try:
        from transformers import PreTrainedTokenizerFast
    except ImportError as e:
        raise ImportError("load_tokenizer() needs transformers: pip install 'r1gym[llm]'") from e
    return PreTrainedTokenizerFast(
        tokenizer_file=str(file),
        pad_token=PAD,
        bos_token=BOS,
        eos_token=EOS,
        clean_up_tokenization_spaces=False,
    )


__all__ = [
    "ACTION_TOKENS",
    "BACKTRACK_TOKEN",
    "DEFAULT_ENV_IDS",
    "DEFAULT_VOCAB_SIZE",
    "EXPAND_TOKENS",
    "SPECIAL_TOKENS",
    "SUBMIT_TOKEN",
    "action_token",
    "action_token_ids",
    "load_tokenizer",
    "save_tokenizer",
    "shipped_tokenizer_path",
    "train_tokenizer",
]
