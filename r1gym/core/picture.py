"""The reasoning tree as an image: what ``render_mode="rgb_array"`` returns (docs/view.md).

One frame of a fixed size (:data:`FRAME_SIZE`), so that Gymnasium's ``RecordVideo`` films an
episode: on the left the tree explored so far (numbered in the order the nodes were first
reached, the current path in bold, the current node's candidates as hollow dots with their
confidence), on the right the question, the path's steps, the candidates with confidence bars
and, once the answer is submitted, the verdict and the reward terms.

A node's colour is what the environment may show: the judge's label where steps are labelled
(``step_labels``: green correct, red wrong, amber neutral), else whether the step keeps to the
reference solution where the oracle is revealed (``reveal=True``), else grey. Drawn with Pillow
(``pip install 'r1gym[render]'``) and its bundled font, so the same episode gives the same
pixels on every machine with the same Pillow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from r1gym.core.tree import Node

#: (width, height) of every frame, in pixels
FRAME_SIZE = (960, 540)
TREE_WIDTH = 520  # the tree's panel; the text panel takes the rest

BACKGROUND = (250, 250, 247)
INK = (33, 37, 41)
MUTED = (120, 124, 130)
PATH = (37, 99, 235)
EDGE = (190, 193, 198)
COLOURS = {
    "correct": (22, 163, 74),
    "wrong": (220, 38, 38),
    "neutral": (217, 119, 6),
    None: (148, 152, 158),
}

INSTALL_HINT = "render_mode='rgb_array' draws with Pillow: pip install 'r1gym[render]' (or pip install pillow)"


def has_pillow() -> bool:
    """Whether Pillow imports."""
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Scene:
    """What one frame shows (read off the environment by ``render``)."""

    question: str
    nodes: Mapping[tuple, Node]  # every node reached, in the order it was first reached
    cur: tuple
    num_candidates: int
    steps: int
    backtracks: int
    reveal: bool
    outcome: Mapping[str, Any] | None = None  # answer, reference, is_correct, reward, reward_terms


def node_colour(node: Node, reveal: bool) -> tuple[int, int, int]:
    """The judge's label where there is one, else the oracle's verdict if revealed, else grey."""
    if node.label is not None:
        return COLOURS.get(node.label, COLOURS[None])
    if reveal and node.depth > 0:
        return COLOURS["correct" if node.state.on_path else "wrong"]
    return COLOURS[None]


def layout(scene: Scene) -> tuple[dict[tuple, tuple[float, float]], dict[tuple, tuple[float, float]]]:
    """Centres of the explored nodes and of the current node's unexplored candidates, in the tree
    panel: depth downwards, leaves spread evenly left to right in candidate order."""
    children: dict[tuple, list[tuple]] = {}
    for path in scene.nodes:
        if path:
            children.setdefault(path[:-1], []).append(path)
    cur_node = scene.nodes[scene.cur]
    ghosts = [
        scene.cur + (i,)
        for i in range(min(scene.num_candidates, len(cur_node.candidates)))
        if scene.cur + (i,) not in scene.nodes
    ]
    children.setdefault(scene.cur, []).extend(ghosts)

    def order(p: tuple) -> tuple:
        last = p[-1]
        return (0, last, "") if isinstance(last, int) else (1, 0, str(last))

    leaves: dict[tuple, float] = {}
    depth_of: dict[tuple, int] = {}
    n_leaves = 0

    def walk(p: tuple, depth: int) -> tuple[float, float]:
        """(first, last) leaf slot under ``p``; records the slot of ``p`` itself."""
        nonlocal n_leaves
        depth_of[p] = depth
        kids = sorted(children.get(p, []), key=order)
        if not kids:
            slot = float(n_leaves)
            n_leaves += 1
            leaves[p] = slot
            return slot, slot
        spans = [walk(c, depth + 1) for c in kids]
        leaves[p] = (spans[0][0] + spans[-1][1]) / 2
        return spans[0][0], spans[-1][1]

    walk((), 0)
    n_slots = max(1, n_leaves)
    max_depth = max(depth_of.values())
    top, bottom, margin = 88, FRAME_SIZE[1] - 40, 28
    dy = min(64.0, (bottom - top) / max(1, max_depth))
    dx = (TREE_WIDTH - 2 * margin) / n_slots
    pos = {p: (margin + (leaves[p] + 0.5) * dx, top + depth_of[p] * dy) for p in leaves}
    ghost_set = set(ghosts)
    return {p: xy for p, xy in pos.items() if p not in ghost_set}, {p: pos[p] for p in ghosts}


def draw(scene: Scene) -> np.ndarray:
    """The frame of ``scene``: an ``(H, W, 3)`` uint8 array."""
    if not has_pillow():
        raise ImportError(INSTALL_HINT)
    from PIL import Image, ImageDraw, ImageFont

    width, height = FRAME_SIZE
    image = Image.new("RGB", FRAME_SIZE, BACKGROUND)
    d = ImageDraw.Draw(image)
    font, small, bold = _fonts(ImageFont)

    # header: the question and the counters
    lines = _wrap(d, scene.question, font, width - 32, 2)
    for i, line in enumerate(lines):
        d.text((16, 10 + 17 * i), line, fill=INK, font=bold if i == 0 and len(lines) == 1 else font)
    node = scene.nodes[scene.cur]
    counters = (
        f"step {scene.steps} · {scene.backtracks} backtrack{'s' * (scene.backtracks != 1)} · "
        f"depth {node.depth} · {len(scene.nodes)} node{'s' * (len(scene.nodes) != 1)} explored"
    )
    d.text((16, 50), counters, fill=MUTED, font=small)
    d.line([(0, 72), (width, 72)], fill=EDGE, width=1)
    d.line([(TREE_WIDTH, 72), (TREE_WIDTH, height)], fill=EDGE, width=1)

    # the tree
    pos, ghosts = layout(scene)
    on_path = {scene.cur[:i] for i in range(len(scene.cur) + 1)}
    for p, (x, y) in pos.items():
        if p:
            px, py = pos[p[:-1]]
            bold_edge = p in on_path
            d.line([(px, py), (x, y)], fill=PATH if bold_edge else EDGE, width=4 if bold_edge else 2)
    confidence = node.confidence
    for p, (x, y) in ghosts.items():
        px, py = pos[scene.cur]
        d.line([(px, py), (x, y)], fill=EDGE, width=1)
        i = p[-1]
        r = 4 + 8 * float(confidence[i])
        outline = COLOURS["correct" if node.candidates[i].state.on_path else "wrong"] if scene.reveal else MUTED
        d.ellipse([x - r, y - r, x + r, y + r], outline=outline, width=2, fill=BACKGROUND)
        d.text((x, y + r + 3), f"[{i}] {confidence[i]:.2f}", fill=MUTED, font=small, anchor="ma")
    for n, p in enumerate(scene.nodes):  # numbered in the order first reached; the root is the question
        x, y = pos[p]
        r = 11 if p == scene.cur else 9
        if p == scene.cur:
            d.ellipse([x - r - 4, y - r - 4, x + r + 4, y + r + 4], outline=PATH, width=3)
        d.ellipse([x - r, y - r, x + r, y + r], fill=node_colour(scene.nodes[p], scene.reveal), outline=INK)
        d.text((x, y), str(n) if p else "Q", fill=(255, 255, 255), font=small, anchor="mm")
    _legend(d, scene.reveal, small)

    # the text panel: the path, the candidates, the outcome
    x0, y, right = TREE_WIDTH + 16, 84, width - 16
    d.text((x0, y), "Path" if node.texts else "Path: at the question", fill=INK, font=bold)
    y += 22
    path_lines: list[tuple[str, tuple[int, int, int]]] = []
    for i, text in enumerate(node.texts, 1):
        colour = node_colour(scene.nodes[scene.cur[:i]], scene.reveal)
        for j, line in enumerate(_wrap(d, f"{i}. {text}", font, right - x0 - 14, 3)):
            path_lines.append(("   " + line if j else line, colour))
    shown = path_lines[-12:]
    if len(shown) < len(path_lines):
        d.text((x0, y), f"… {len(path_lines) - len(shown)} lines above", fill=MUTED, font=small)
        y += 16
    for line, colour in shown:
        d.rectangle([x0, y + 3, x0 + 4, y + 13], fill=colour)
        d.text((x0 + 10, y), line, fill=INK, font=font)
        y += 17
    y += 10
    if scene.outcome is not None:
        _outcome(d, scene.outcome, x0, y, right, font, bold)
    elif node.candidates and scene.num_candidates:
        d.text((x0, y), "Candidates", fill=INK, font=bold)
        y += 22
        for i, c in enumerate(node.candidates[: scene.num_candidates]):
            conf = float(confidence[i])
            d.rectangle([x0, y + 2, x0 + 60, y + 12], outline=EDGE)
            d.rectangle([x0, y + 2, x0 + int(round(60 * conf)), y + 12], fill=PATH)
            if scene.reveal:  # the oracle: does this candidate keep the path on the reference solution?
                d.ellipse([x0 + 66, y + 3, x0 + 74, y + 11], fill=COLOURS["correct" if c.state.on_path else "wrong"])
            wrapped = _wrap(d, f"[{i}] {conf:.2f}  {c.text}", font, right - x0 - 82, 2)
            for j, line in enumerate(wrapped):
                d.text((x0 + 80, y + 17 * j), line, fill=INK, font=font)
            y += 17 * len(wrapped) + 6
    elif node.state.complete:
        d.text((x0, y), "The path states its answer: submit or backtrack.", fill=MUTED, font=font)
    return np.asarray(image, dtype=np.uint8)


def _legend(d: Any, reveal: bool, font: Any) -> None:
    """What the colours and shapes mean, along the bottom of the tree panel."""
    x, y = 16, FRAME_SIZE[1] - 22
    items = [("correct", COLOURS["correct"]), ("wrong", COLOURS["wrong"]), ("neutral", COLOURS["neutral"])]
    items.append(("not judged" if not reveal else "the question", COLOURS[None]))
    for label, colour in items:
        d.ellipse([x, y + 2, x + 10, y + 12], fill=colour)
        d.text((x + 14, y), label, fill=MUTED, font=font)
        x += 22 + int(d.textlength(label, font=font))
    d.ellipse([x, y + 2, x + 10, y + 12], outline=MUTED, width=2)
    d.text((x + 14, y), "candidate (size: confidence)", fill=MUTED, font=font)


def _outcome(d: Any, outcome: Mapping[str, Any], x0: int, y: int, right: int, font: Any, bold: Any) -> None:
    correct = bool(outcome.get("is_correct"))
    verdict = "correct" if correct else "wrong"
    d.text((x0, y), f"Submitted {outcome.get('answer') or '(nothing)'}: {verdict}", fill=COLOURS[verdict], font=bold)
    y += 22
    d.text((x0, y), f"reference {outcome.get('reference')}", fill=MUTED, font=font)
    y += 22
    terms = outcome.get("reward_terms") or {}
    for name, value in terms.items():
        d.text((x0, y), f"{name}", fill=INK, font=font)
        d.rectangle([x0 + 90, y + 2, x0 + 190, y + 12], outline=EDGE)
        d.rectangle([x0 + 90, y + 2, x0 + 90 + int(round(100 * float(value))), y + 12], fill=PATH)
        d.text((x0 + 198, y), f"{float(value):.2f}", fill=INK, font=font)
        y += 18
    d.text((x0, y + 6), f"reward {float(outcome.get('reward', 0.0)):.3f}", fill=INK, font=bold)


#: the three fonts (text, small, heading), loaded once
_FONT_CACHE: list[Any] = []
#: (font size, word) -> width in pixels; emptied at 8,192 entries
_WIDTHS: dict[tuple[int, str], float] = {}


def _fonts(image_font: Any) -> list[Any]:
    if not _FONT_CACHE:
        _FONT_CACHE.extend(image_font.load_default(size=n) for n in (13, 11, 15))
    return _FONT_CACHE


def _width(d: Any, word: str, font: Any) -> float:
    key = (getattr(font, "size", 0), word)
    w = _WIDTHS.get(key)
    if w is None:
        if len(_WIDTHS) >= 8192:
            _WIDTHS.clear()
        w = _WIDTHS[key] = d.textlength(word, font=font)
    return w


def _wrap(d: Any, text: str, font: Any, width: float, max_lines: int) -> list[str]:
    """``text`` broken at spaces into lines of at most ``width`` pixels, at most ``max_lines``
    (the last one ends in an ellipsis when cut). A line's width is the sum of its words' and
    spaces' widths (measured once per word)."""
    space = _width(d, " ", font)
    lines, line, used = [], "", 0.0
    for word in text.split():
        w = _width(d, word, font)
        if not line or used + space + w <= width:
            line, used = (f"{line} {word}", used + space + w) if line else (word, w)
        else:
            lines.append(line)
            line, used = word, w
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and d.textlength(last + " …", font=font) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + " …"
    return [_cut(d, ln, font, width) if " " not in ln and _width(d, ln, font) > width else ln for ln in lines]


def _cut(d: Any, line: str, font: Any, width: float) -> str:
    while line and d.textlength(line + "…", font=font) > width:
        line = line[:-1]
    return line + "…"
