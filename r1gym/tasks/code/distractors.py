"""The ``"code"`` distractor family: plausible wrong versions of a line of code.

For a line of code, :func:`code_variants` yields an off-by-one (``range(n)`` to
``range(n - 1)``, ``<`` to ``<=``, ``[i]`` to ``[i + 1]``, a literal ``k`` to ``k + 1``), a
wrong operator (``+``/``-``, ``*``/``/``, ``and``/``or``, ``==``/``!=``, ``<``/``>``,
``in``/``not in``, ``True``/``False``), a wrong variable (another name of the line, or of the
prompt when the caller passes it), a missing return (``return x`` to ``x`` or ``pass``); strings
and comments are never touched. Lines where none applies (``else:``, ``try:``) fall back to the
line one indentation level deeper or shallower. Registered as ``"code"`` when the package is
imported.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
from collections.abc import Iterator
from functools import lru_cache

from r1gym.core.draws import Draws
from r1gym.core.protocols import register_text_distractors

_BUILTINS = frozenset(dir(builtins))
_KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
_COMPARE = re.compile(r"(?<![<>=!\-])(<=|>=|==|!=|<|>)(?![<>=])")
_OFF_BY_ONE = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
_FLIPPED = {"==": "!=", "!=": "==", "<": ">", ">": "<", "<=": ">=", ">=": "<="}
_BINARY = re.compile(r"(?<=[\w)\]\x00])(\s*)(\*\*|//|\+|-|\*|/|%)(?!=)(?=\s*[\w(\[\x00.])")
_BINARY_SWAP = {"+": "-", "-": "+", "*": "/", "/": "*", "//": "/", "%": "//", "**": "*"}
_AUGMENTED = re.compile(r"(\+=|-=|\*=|//=|/=|%=)")
_AUGMENTED_SWAP = {"+=": "-=", "-=": "+=", "*=": "+=", "/=": "*=", "//=": "/=", "%=": "//="}
_WORD_SWAP = {"and": "or", "or": "and", "True": "False", "False": "True", "break": "continue", "continue": "break"}
_WORDS = re.compile(r"\b(and|or|True|False|break|continue)\b")
_NOT_IN = re.compile(r"\bnot\s+in\b")
_IN = re.compile(r"(?<!not )\bin\b")
_IS_NOT = re.compile(r"\bis\s+not\b")
_IS = re.compile(r"\bis\b(?!\s+not\b)")
_NOT = re.compile(r"\bnot\s+(?!in\b)")
_INT = re.compile(r"(?<![\w.])(\d+)(?![\w.])")
_RANGE = re.compile(r"\brange\(")
_INDEX = re.compile(r"(?<=[\w)\]])\[([A-Za-z_]\w*)\]")
_NAME = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\b")
_RETURN = re.compile(r"^(\s*)return\b\s*(.*)$")
_PREFIX_LETTERS = set("rRbBuUfF")


def _mask(line: str) -> str:
    """``line`` with its string literals and its comment replaced by NUL characters, so that the
    patterns only ever see (and change) code."""
    out = list(line)
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == "#":
            out[i:] = "\x00" * (n - i)
            break
        if c in "'\"":
            start = i
            while start > 0 and line[start - 1] in _PREFIX_LETTERS and i - start < 2:
                start -= 1
            if start > 0 and (line[start - 1].isalnum() or line[start - 1] == "_"):
                start = i  # an identifier ending in r/b/u/f, not a string prefix
            quote = line[i : i + 3] if line[i : i + 3] in ('"""', "'''") else c
            j = i + len(quote)
            while j < n and line[j : j + len(quote)] != quote:
                j += 2 if line[j] == "\\" else 1
            end = min(n, j + len(quote))
            out[start:end] = "\x00" * (end - start)
            i = end
            continue
        i += 1
    return "".join(out)


def _closing(masked: str, open_at: int) -> int | None:
    """Index of the parenthesis that closes the one at ``open_at``."""
    depth = 0
    for j in range(open_at, len(masked)):
        if masked[j] in "([{":
            depth += 1
        elif masked[j] in ")]}":
            depth -= 1
            if depth == 0:
                return j
    return None


def _top_level_commas(masked: str, start: int, end: int) -> list[int]:
    depth, out = 0, []
    for j in range(start, end):
        ch = masked[j]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(j)
    return out


def _depth_at(masked: str, pos: int) -> int:
    depth = 0
    for ch in masked[:pos]:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
    return depth


def _previous_word(masked: str, pos: int) -> str:
    m = re.search(r"(\w+)\s*$", masked[:pos])
    return m.group(1) if m else ""


def code_variants(line: str, final: bool, draws: Draws, context: str = "") -> Iterator[str]:
    """The ``"code"`` distractor family: plausible wrong versions of the code line ``line``.

    Yields the mutations that apply (see the module docstring) in a random order drawn from
    ``draws``, then the fallbacks (the line one indentation level deeper, then shallower).
    Every variant keeps the line's indentation (but the fallbacks) and leaves strings and
    comments alone. ``final`` (whether this is the last line) changes nothing; ``context``
    (the prompt, when the caller has it) adds names for the wrong-variable mutation.
    """
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    if not stripped:
        return
    masked = _mask(line)
    kinds: dict[str, list[str]] = {"off_by_one": [], "operator": [], "variable": [], "return": []}
    variants = kinds["operator"]

    def put(start: int, end: int, new: str) -> None:
        variants.append(line[:start] + new + line[end:])

    # off-by-one and flipped comparisons
    for m in _COMPARE.finditer(masked):
        op = m.group(1)
        if op in _OFF_BY_ONE:
            kinds["off_by_one"].append(line[: m.start(1)] + _OFF_BY_ONE[op] + line[m.end(1) :])
        put(m.start(1), m.end(1), _FLIPPED[op])
    # arithmetic operators (binary only: not a sign after a keyword, not an exponent's sign)
    for m in _BINARY.finditer(masked):
        op = m.group(2)
        before = masked[: m.start(2)].rstrip()
        if _previous_word(masked, m.start(2)) in _KEYWORDS:
            continue
        if op in "+-" and re.search(r"(?<![\w.])\d+(\.\d*)?[eE]$", before):
            continue
        put(m.start(2), m.end(2), _BINARY_SWAP[op])
    for m in _AUGMENTED.finditer(masked):
        put(m.start(1), m.end(1), _AUGMENTED_SWAP[m.group(1)])
    # boolean and control words
    for m in _WORDS.finditer(masked):
        put(m.start(1), m.end(1), _WORD_SWAP[m.group(1)])
    for m in _NOT_IN.finditer(masked):
        put(m.start(), m.end(), "in")
    if not re.search(r"\bfor\b", masked):
        for m in _IN.finditer(masked):
            put(m.start(), m.end(), "not in")
    for m in _IS_NOT.finditer(masked):
        put(m.start(), m.end(), "is")
    for m in _IS.finditer(masked):
        put(m.start(), m.end(), "is not")
    for m in _NOT.finditer(masked):
        put(m.start(), m.end(), "")
    # off-by-one: the stop of a range, an index, an integer literal
    variants = kinds["off_by_one"]
    for m in _RANGE.finditer(masked):
        close = _closing(masked, m.end() - 1)
        if close is None:
            continue
        commas = _top_level_commas(masked, m.end(), close)
        if len(commas) == 0:
            lo, hi = m.end(), close
        else:
            lo, hi = commas[0] + 1, (commas[1] if len(commas) > 1 else close)
        stop = line[lo:hi].strip()
        if stop:
            at = lo + line[lo:hi].index(stop)
            put(at, at + len(stop), f"{stop} - 1")
            put(at, at + len(stop), f"{stop} + 1")
    for m in _INDEX.finditer(masked):
        put(m.start(1), m.end(1), f"{m.group(1)} + 1")
        put(m.start(1), m.end(1), f"{m.group(1)} - 1")
    for m in _INT.finditer(masked):
        k = int(m.group(1))
        put(m.start(1), m.end(1), str(k + 1))
        if k > 0:
            put(m.start(1), m.end(1), str(k - 1))
    # a wrong variable: another name of the line (or of the context)
    variants = kinds["variable"]
    spots = []
    for m in _NAME.finditer(masked):
        name = m.group(1)
        if name in _KEYWORDS or name in _BUILTINS:
            continue
        rest = masked[m.end() :]
        if re.match(r"\s*\(", rest):
            continue  # a function being called
        if re.match(r"\s*=(?!=)", rest) and _depth_at(masked, m.start()) > 0:
            continue  # a keyword argument
        spots.append(m)
    names = sorted({m.group(1) for m in spots} | set(_context_names(context)))
    for m in spots:
        others = [n for n in names if n != m.group(1)]
        if others:
            put(m.start(1), m.end(1), others[draws.index(len(others))])
    # a missing return
    m = _RETURN.match(masked)
    if m is not None:
        value = line[m.start(2) :].strip()
        if value:
            kinds["return"].append(indent + value)
        kinds["return"].append(indent + "pass")

    # Round-robin over the kinds (in a random order), each kind's variants in a random order,
    # so that the first few distractors are of different kinds.
    queues = [[group[i] for i in draws.permutation(len(group))] for group in kinds.values() if group]
    queues = [queues[i] for i in draws.permutation(len(queues))]
    seen = {line}
    for rank in range(max((len(q) for q in queues), default=0)):
        for q in queues:
            if rank < len(q) and q[rank] not in seen:
                seen.add(q[rank])
                yield q[rank]
    for v in ("    " + line, line[4:] if indent.startswith("    ") else None):
        if v is not None and v not in seen:
            seen.add(v)
            yield v


@lru_cache(maxsize=1024)
def _context_names(context: str) -> tuple[str, ...]:
    """The argument names of the functions a prompt defines."""
    if not context:
        return ()
    try:
        tree = ast.parse(context)
    except SyntaxError:
        return ()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            names.update(arg.arg for arg in a.posonlyargs + a.args + a.kwonlyargs)
    return tuple(sorted(names))


register_text_distractors("code", code_variants)
