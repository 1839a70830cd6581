"""Small text helpers every layer shares: ASCII folding and reading numbers out of a step."""

from __future__ import annotations

import re
import unicodedata

#: A number written in a step ("12", "-3", "2.5"), not part of a word or of a longer number.
NUMBER_IN_TEXT = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")


def to_ascii(text: str) -> str:
    """Fold text into printable ASCII (the charset of the text observation): accents dropped,
    other characters written as ``?``."""
    if text.isascii():
        return text
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c if c.isascii() else ("" if unicodedata.combining(c) else "?") for c in folded)


def last_number_in_text(text: str) -> str:
    """The last number a text writes ("" if none): what an unfinished plain-text path submits."""
    found = NUMBER_IN_TEXT.findall(text)
    return found[-1] if found else ""


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b]")


def as_written(text: str) -> str:
    """``text`` as its author wrote it, for text observations (Unicode kept, NFC-normalized),
    with control and line-separator characters as spaces and runs of whitespace as one space."""
    return " ".join(_CONTROLS.sub(" ", unicodedata.normalize("NFC", text)).split())
