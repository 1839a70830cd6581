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
