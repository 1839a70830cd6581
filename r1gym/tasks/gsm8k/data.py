"""Reading GSM8K: a local JSONL file or the ``datasets`` library, and its text in ASCII.

Nothing of GSM8K ships with r1gym: a file (the ``train.jsonl`` / ``test.jsonl`` of
https://github.com/openai/grade-school-math, or the one the environment variable
``R1GYM_GSM8K_PATH`` names) is read line by line; without one, ``gsm8k`` / ``main`` is loaded
from the Hugging Face Hub with ``datasets``. Each record comes with where it was read
(``file:line``); a line that is not UTF-8 JSON comes as a :class:`BadLine` with the reason, for
the task to reject or skip. :func:`fold` writes the text in printable ASCII.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from r1gym.core.text import to_ascii

#: the file used when no data_path is given, before trying ``datasets``
ENV_VAR = "R1GYM_GSM8K_PATH"
#: what to do when there is no data, the end of every message that says so
HINT = (
    'pass data_path= to a local GSM8K JSONL file (one {"question", "answer"} object a line, for '
    "example grade_school_math/data/train.jsonl of https://github.com/openai/grade-school-math; or set "
    "R1GYM_GSM8K_PATH to it), or `pip install datasets` to load it from the Hugging Face Hub"
)
_FOLD = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
        "\u2212": "-", "\u00d7": "x", "\u00f7": "/", "\u20ac": "EUR ", "\u00a3": "GBP ", "\u00a2": " cents",
        "\u00bc": "1/4", "\u00bd": "1/2", "\u00be": "3/4", "\u221a": "sqrt ", "\u2026": "...",
        "\u2028": " ", "\u2029": " ", "\u200b": "", "\u00a0": " ",
    }
)  # fmt: skip


def fold(text: str) -> str:
    """``text`` in printable ASCII, with the signs GSM8K uses written out (``x`` for the
    multiplication sign, ``/`` for the division sign, ``EUR`` for the euro, straight quotes)."""
    return text if text.isascii() else to_ascii(text.translate(_FOLD))


def read_file(path: Path) -> Iterator[tuple[Any, str]]:
    """The records of a JSONL file with where each was read (``file:line``); blank lines are left
    out, a line that is not UTF-8 JSON comes as a :class:`BadLine`."""
    if not path.is_file():
        raise FileNotFoundError(f"GSM8K file {path} does not exist; {HINT}")
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, 1):
            where = f"{path}:{lineno}"
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as e:
                yield BadLine(f"not UTF-8 text (byte {e.start + 1})"), where
                continue
            if not line.strip():
                continue
            try:
                yield json.loads(line), where
            except json.JSONDecodeError as e:
                yield BadLine(f"invalid JSON ({e.msg} at column {e.colno})"), where


@dataclass(frozen=True)
class BadLine:
    """A line that is not UTF-8 JSON: the task rejects it with the reason (or skips it)."""

    reason: str


def read_hub(split: str) -> Iterable[tuple[Any, str]]:
    """The records of ``gsm8k`` / ``main`` (``split``) from the Hugging Face Hub, with ``datasets``."""
    try:
        import datasets
    except ImportError:
        raise ImportError(
            f"GSM8KTask needs the GSM8K data: no data_path was given and `datasets` is not installed; {HINT}"
        ) from None
    try:
        rows = datasets.load_dataset("gsm8k", "main", split=split)
    except Exception as e:  # offline, unknown split, ...: say what to do instead
        raise FileNotFoundError(f"could not load gsm8k/main split {split!r} with datasets ({e}); {HINT}") from e
    return ((dict(row), f"gsm8k/main[{split}]:{i}") for i, row in enumerate(rows, 1))
