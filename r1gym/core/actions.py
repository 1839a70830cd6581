"""The text protocol of actions, shared by everything that talks to language models.

``<expand_i>`` takes candidate i, ``<backtrack>`` returns to the parent node, ``<submit>`` submits
the path's answer. In an environment with K candidates the menu action ``a`` is written
:func:`action_token` ``(a, K)``: ``a < K`` is ``<expand_a>``, ``K`` is ``<backtrack>``, ``K + 1`` is
``<submit>``. The tokenizer keeps each one a single id; prompts write them; the LLM policy reads
its logits at them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Most candidates a node can show (``num_candidates`` is validated to 2..16).
MAX_EXPAND = 16
EXPAND_TOKENS = tuple(f"<expand_{i}>" for i in range(MAX_EXPAND))
BACKTRACK_TOKEN, SUBMIT_TOKEN = "<backtrack>", "<submit>"
ACTION_TOKENS = EXPAND_TOKENS + (BACKTRACK_TOKEN, SUBMIT_TOKEN)


def action_token(action: int, num_candidates: int) -> str:
    """The token of ``action`` in an env with K = ``num_candidates`` (``K`` backtrack, ``K + 1`` submit)."""
    if not 1 <= num_candidates <= MAX_EXPAND:
        raise ValueError(f"num_candidates must be between 1 and {MAX_EXPAND}, got {num_candidates}")
    if not 0 <= action <= num_candidates + 1:
        raise ValueError(f"action must be in [0, {num_candidates + 1}] for K = {num_candidates}, got {action}")
    if action < num_candidates:
        return EXPAND_TOKENS[action]
    return BACKTRACK_TOKEN if action == num_candidates else SUBMIT_TOKEN


# --- Reading a model's reply: the one parser from text to a menu action -----------------------------

#: ``ParsedAction.status`` values: the reply names one action (``"ok"``), none (``"none"``), two
#: different ones (``"ambiguous"``), or an index the environment does not have (``"out_of_range"``).
PARSE_STATUSES = ("ok", "none", "ambiguous", "out_of_range")


@dataclass(frozen=True)
class ParsedAction:
    """What :func:`parse_action_text` read: ``action`` (a menu action, or None) and why."""

    action: int | None
    status: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


_TOKEN_RE = re.compile(r"<\s*(?:(expand)[\s_-]*(\d+)|(backtrack)|(submit))\s*>", re.IGNORECASE)
# "Action: submit", "**Action**: expand 2", "action = <submit>" at the start of a line
_ACTION_LINE_RE = re.compile(
    r"^[\s>*_#-]*(?:final\s+)?action[\s*_]*[:=]\s*[*_`\"'\[(]*\s*(expand[\s_-]*\d+|backtrack|submit|\d+)\b",
    re.IGNORECASE | re.MULTILINE,
)
# a reply that starts with the action: "submit", "Backtrack.", "expand 2 because ...", "[3] ...", or
# is a menu number alone ("3"); a number followed by more text ("3 + 4 = 7") is not an action
_LEADING_RE = re.compile(
    r"^[\s*_`\"'(]*(?:(expand)[\s_-]*(\d+)|(backtrack)|(submit))(?=\W|$)|^\s*\[(\d+)\]|^\s*(\d+)\s*[.!]?\s*$",
    re.IGNORECASE,
)


# write mode: a reply that is a protocol word alone ("submit", "Backtrack.", "expand 2") is that action
_WORD_ALONE_RE = re.compile(r"[\s*_`\"'(]*(expand[\s_-]*\d+|backtrack|submit)[\s.!*_`\"')]*", re.IGNORECASE)


def _word_action(word: str, k: int) -> tuple[int | None, str]:
    """A word of the protocol (``expand 2``, ``backtrack``, ``submit``, a menu number) as an action."""
    w = word.lower()
    if w.startswith("expand"):
        i = int(re.sub(r"\D", "", w))
        if k == 0:
            return None, f"candidate {i} does not exist (no candidates are shown: write the step)"
        return (i, "") if i < k else (None, f"candidate {i} does not exist (K = {k}: expand 0 to {k - 1})")
    if w == "backtrack":
        return k, ""
    if w == "submit":
        return k + 1, ""
    i = int(w)
    return (i, "") if i <= k + 1 else (None, f"action {i} does not exist (the menu has 0 to {k + 1})")


def parse_action_text(text: str, num_candidates: int, write: bool = False) -> ParsedAction:
    """Read the menu action a language model's reply names, in an env with K = ``num_candidates``.

    The one parser every door to language models uses (chat messages, the OpenEnv server, the
    trainers). Lenient where models are sloppy, strict where it matters:

    * the protocol tokens anywhere in the reply, any case, spaces inside the brackets allowed:
      ``<submit>``, ``<BACKTRACK>``, ``< expand_2 >``, ``"I'll take <expand_1> because ..."``;
    * an ``Action:`` line (``Action: submit``, ``**Action:** expand 2``, ``Action = 3``);
    * a reply that starts with the action: ``submit``, ``Backtrack.``, ``expand 2: it is right``,
      ``[3]``, or a number alone, ``3`` (a number is a menu action: ``0..K-1`` expand, ``K`` backtrack,
      ``K + 1`` submit), with any explanation after it (but after a bare number: ``3 + 4 = 7`` is
      a step, not an action).

    ``write=True`` (an env with ``action_mode="write"``, where a reply that names no action is the
    model's own step): K may be 0 (then backtrack is 0 and submit 1); numbers are never actions
    (``24`` is a step), and a protocol word counts at the start only when it is the whole reply
    (``Submit.``), not in ``Submit the total: 3 + 4 = 7``.

    Naming one action several times is fine. Two different actions (``<expand_0> or <submit>``)
    are ``"ambiguous"``; an index the environment does not have (``<expand_7>`` with K = 4) is
    ``"out_of_range"``; nothing recognisable is ``"none"``. Those three have ``action=None``:
    the caller treats the reply as an invalid action (``r1gym.integrations.chat`` counts it in
    ``info`` and never raises). Whether the action is allowed at the current node (the mask) is
    the environment's business, not the parser's.

    Example:
        >>> parse_action_text("  Action: SUBMIT -- the path states 42.", 4)
        ParsedAction(action=5, status='ok', detail='')
        >>> parse_action_text("<expand_1> ... or maybe <backtrack>", 4).status
        'ambiguous'
    """
    if not isinstance(text, str):
        raise TypeError(f"a reply is a string, got {type(text).__name__}")
    k = num_candidates
    if not (0 if write else 1) <= k <= MAX_EXPAND:
        raise ValueError(f"num_candidates must be between {0 if write else 1} and {MAX_EXPAND}, got {k}")
    words: list[str] = []
    for m in _TOKEN_RE.finditer(text):
        words.append(f"expand {m.group(2)}" if m.group(1) else (m.group(3) or m.group(4)))
    words += [m.group(1) for m in _ACTION_LINE_RE.finditer(text) if not (write and m.group(1).isdigit())]
    if not words and write:
        m = _WORD_ALONE_RE.fullmatch(text)
        if m:
            words.append(m.group(1))
    elif not words:
        m = _LEADING_RE.match(text)
        if m:
            g = m.groups()
            words.append(f"expand {g[1]}" if g[0] else next(x for x in g[2:] if x))
    if not words:
        return ParsedAction(None, "none", "the reply names no action (<expand_i>, <backtrack> or <submit>)")
    found: dict[int, str] = {}
    for w in words:
        action, why = _word_action(w, k)
        if action is None:
            return ParsedAction(None, "out_of_range", why)
        found.setdefault(action, w)
    if len(found) > 1:
        named = ", ".join(EXPAND_TOKENS[a] if a < k else BACKTRACK_TOKEN if a == k else SUBMIT_TOKEN for a in found)
        return ParsedAction(None, "ambiguous", f"the reply names {len(found)} different actions: {named}")
    return ParsedAction(next(iter(found)), "ok")
