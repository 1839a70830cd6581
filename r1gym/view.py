"""The tree, seen: ``r1gym view`` writes one self-contained HTML page of episodes (docs/view.md).

An episode becomes a *trace*, a JSON-ready dict: the question, every node the episode visited
(the step's text, the judge's label and reason, the candidates shown there with their
confidences), every move in order (expand, backtrack, submit, invalid; revisits marked), the
path it ended on, the answer and the reward terms with the weights and formula that combined
them. :func:`record_traces` plays episodes live; :func:`traces_from_export` reads a ``tree``
export (``r1gym export --format tree``, the format that holds whole episodes); :func:`write_page`
puts traces into the page template (``r1gym/view.html``: CSS and JavaScript inline, nothing
fetched when the page is opened).

Live episodes are played by :func:`r1gym.export.record_episodes` (any agent spec, its
observations as in ``r1gym eval``), then replayed move by move in a ``reveal=True`` environment
to read the judge's labels and, with ``reveal``, the oracle: which candidates keep the path on
the reference solution and what each unexplored candidate would be labelled (a lookahead through
``snapshot``/``restore``, which leaves no trace in the episode). Without ``reveal`` the trace
holds only what an observer of the episode sees: the labels of the steps taken.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import gymnasium as gym

from r1gym._version import __version__
from r1gym.core.actions import action_token, parse_action_text
from r1gym.evaluation import json_safe
from r1gym.export import EpisodeRecord, record_episodes

__all__ = ["TEMPLATE", "record_traces", "render_page", "traces_from_export", "write_page"]

#: The page template, installed beside this module (package data).
TEMPLATE = "view.html"

#: Where the template takes the traces (inside ``<script type="application/json">``).
_SLOT = "__R1GYM_TRACES__"
_TITLE_SLOT = "__R1GYM_TITLE__"

#: The formulas of core/reward.py, by reward mode.
FORMULAS = {
    "gated": "R = A × (α + β·E + γ·N) / (α + β + γ)",
    "additive": "R = (α·A + β·E + γ·N) / (α + β + γ)",
}


# --- live episodes --------------------------------------------------------------------------------


def record_traces(
    agent: Any,
    env_id: str,
    episodes: int = 1,
    seed: int = 0,
    reveal: bool = False,
    agent_spec: str | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Play ``episodes`` episodes of ``env_id`` with ``agent`` and return their traces.

    Episode ``i`` is reset with ``episode_seeds(seed, episodes)[i]`` (as ``r1gym export``), all in
    one environment. ``reveal`` adds the oracle: ``on_path`` of every node and candidate, the
    judge's label of every candidate shown (explored or not) and the reference solution.
    """
    kwargs = dict(env_kwargs or {})
    for key in ("reveal", "obs_mode", "step_labels"):
        if key in kwargs:
            raise TypeError(f"view sets {key} itself; do not pass it")
    records = record_episodes(agent, env_id, episodes, seed, kwargs)
    spec = agent_spec or getattr(agent, "name", type(agent).__name__)
    env = gym.make(env_id, reveal=True, obs_mode="text", step_labels=True, **kwargs)
    try:
        return [_replay(env, rec, env_id, spec, seed, reveal, kwargs) for rec in records]
    finally:
        env.close()


def _candidates(obs: Mapping[str, Any]) -> list[dict[str, Any]]:
    texts = [str(c) for c in obs.get("candidates", ()) if c]
    conf = [float(c) for c in list(obs.get("confidence", ()))[: len(texts)]]
    return [{"text": t, "confidence": round(c, 4), "child": None} for t, c in zip(texts, conf)]


def _lookahead(env: gym.Env, node: dict[str, Any], write: bool) -> None:
    """The judge's label and ``on_path`` of every candidate of ``node``, by expanding each in turn
    and restoring the episode (the unwrapped env: no step counted by the wrappers)."""
    u = env.unwrapped
    snap = u.snapshot()
    try:
        for i, cand in enumerate(node["candidates"]):
            _, _, _, _, info = u.step(f"<expand_{i}>" if write else i)
            if not info.get("invalid_action"):
                cand["label"] = info.get("step_label")
                cand["on_path"] = bool(info.get("on_path"))
            u.restore(snap)
    finally:
        u.restore(snap)


def _replay(
    env: gym.Env, rec: EpisodeRecord, env_id: str, spec: str, seed: int, reveal: bool, kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    u = env.unwrapped
    write = rec.action_mode == "write"
    obs, info = env.reset(seed=rec.seed)
    if str(info["uid"]) != rec.uid:
        raise RuntimeError(f"replaying episode {rec.episode} gave problem {info['uid']}, not {rec.uid}")
    ids: dict[tuple, int] = {}
    nodes: list[dict[str, Any]] = []

    def enter(path: tuple, obs: Mapping[str, Any], info: Mapping[str, Any], move: int) -> tuple[int, bool]:
        if path in ids:
            nodes[ids[path]]["visits"].append(move)
            return ids[path], True
        parent = ids[path[:-1]] if path else None
        texts = u.current_node.texts
        node = {
            "id": len(nodes),
            "parent": parent,
            "depth": len(path),
            "index": path[-1] if path and isinstance(path[-1], int) else None,
            "text": texts[-1] if texts else "",
            "label": info.get("step_label"),
            "reason": str(info.get("step_reason") or ""),
            "continues_error": bool(info.get("continues_error", False)),
            "on_path": bool(info["on_path"]) if reveal else None,
            "candidates": _candidates(obs),
            "visits": [move],
        }
        if reveal:
            _lookahead(env, node, write)
        ids[path] = node["id"]
        nodes.append(node)
        if parent is not None:
            siblings = nodes[parent]["candidates"]
            i = node["index"]
            if i is None:  # a written step: the candidate with its text, if one was shown
                i = next((j for j, c in enumerate(siblings) if c["text"] == node["text"]), None)
                node["index"] = i
            if i is not None and i < len(siblings):
                siblings[i]["child"] = node["id"]
        return node["id"], False

    enter(tuple(info["path"]), obs, info, 0)
    moves: list[dict[str, Any]] = []
    total, term, trunc = 0.0, False, False
    k = rec.num_candidates
    for n, text in enumerate(rec.actions, 1):
        action: Any = text
        if not write:
            parsed = parse_action_text(text, k)
            if parsed.action is None:
                raise RuntimeError(f"episode {rec.episode}: the recorded action {text!r} is not an action")
            action = parsed.action
        before = tuple(info["path"])
        obs, r, term, trunc, info = env.step(action)
        total += float(r)
        after = tuple(info["path"])
        move = {"step": n, "action": text, "from": ids[before], "reward": round(float(r), 6)}
        if info.get("invalid_action"):
            move.update(kind="invalid", node=ids[before], reason=str(info.get("invalid_reason", "")))
        elif after != before:
            node_id, again = enter(after, obs, info, n)
            move.update(kind="expand" if len(after) > len(before) else "backtrack", node=node_id, revisit=again)
        else:
            move.update(kind="submit" if term else "stay", node=ids[before])
        moves.append(move)
        if term or trunc:
            break
    final = tuple(info["path"])
    if final != rec.final_path or abs(total - rec.reward) > 1e-9:
        raise RuntimeError(f"episode {rec.episode} replayed differently from how it was played (is the env seeded?)")
    problem = u.problem
    final_ids = [ids[final[:i]] for i in range(1, len(final) + 1)]
    return json_safe(
        {
            "source": "live",
            "env_id": env_id,
            "agent": spec,
            "seed": seed,
            "episode": rec.episode,
            "episode_seed": rec.seed,
            "env_kwargs": dict(kwargs),
            "uid": rec.uid,
            "question": rec.question,
            "num_candidates": k,
            "action_mode": rec.action_mode,
            "reveal": bool(reveal),
            "reference_steps": list(problem.steps) if reveal else None,
            "nodes": nodes,
            "moves": moves,
            "final": {
                "path": final_ids,
                "path_length": len(final_ids),
                "backtracks": int(info["backtracks"]),
                "revisits": sum(m.get("revisit", False) for m in moves),
                "steps": len(moves),
                "terminated": bool(term),
                "truncated": bool(trunc and not term),
                "answer": rec.answer,
                "reference": rec.reference,
                "is_correct": rec.is_correct,
                "reward": round(total, 6),
                "reward_terms": rec.reward_terms,
                "weights": dict(zip(("accuracy", "efficiency", "novelty"), map(float, u.reward_weights))),
                "mode": u.reward_mode,
                "formula": FORMULAS.get(u.reward_mode, u.reward_mode),
            },
            "r1gym_version": __version__,
        }
    )


# --- an export ------------------------------------------------------------------------------------

#: The keys of a ``tree`` export row that the view needs.
TREE_KEYS = ("episode", "question", "node_id", "parent_id", "text", "label", "visits", "candidates", "confidence")
#: A key that tells another format's row (what ``r1gym export`` writes), to name it in the error.
OTHER_FORMATS = {"completions": "stepwise", "steps": "first-error", "messages": "sft"}


def _data_file(path: str | os.PathLike) -> Path:
    p = Path(path)
    if p.is_dir():
        p = p / "data.jsonl"
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file (give the data.jsonl of an export, or its folder)")
    return p


def traces_from_export(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The traces of the episodes of a ``tree`` export (``r1gym export --format tree``): its
    ``data.jsonl`` or the folder holding it. The moves are rebuilt from the nodes' visits (a
    move that changed nothing, an invalid one, is shown as such; the export does not keep the
    answer nor the reward terms). Raises ``ValueError`` naming the file and line of a bad row."""
    file = _data_file(path)
    episodes: dict[tuple, list[dict[str, Any]]] = {}
    with file.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{file} line {lineno}: not JSON ({e.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{file} line {lineno}: a row is a JSON object, got {type(row).__name__}")
            missing = [k for k in TREE_KEYS if k not in row]
            if missing:
                other = next((fmt for key, fmt in OTHER_FORMATS.items() if key in row), None)
                what = f"a row of the {other} format" if other else f"not a tree row (missing {', '.join(missing)})"
                raise ValueError(
                    f"{file} line {lineno}: {what}; r1gym view reads the tree format (r1gym export --format tree)"
                )
            bad = not isinstance(row["visits"], list) or not row["visits"] or not isinstance(row["node_id"], int)
            if bad or not isinstance(row["candidates"], list):
                raise ValueError(f"{file} line {lineno}: node_id, visits or candidates has the wrong type")
            episodes.setdefault((row.get("env_id"), row["episode"]), []).append(row)
    if not episodes:
        raise ValueError(f"{file} holds no rows")
    return [_trace_from_rows(file, rows) for rows in episodes.values()]


def _trace_from_rows(file: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    rows = sorted(rows, key=lambda r: r["node_id"])
    if [r["node_id"] for r in rows] != list(range(len(rows))) or rows[0]["parent_id"] != -1:
        raise ValueError(f"{file}: episode {rows[0]['episode']}'s node ids are not 0..n-1 with the root first")
    reveal = any(r.get("on_path") is not None for r in rows)
    nodes = []
    for r in rows:
        cands = [
            {"text": str(t), "confidence": round(float(c), 4), "child": None}
            for t, c in zip(r["candidates"], r["confidence"])
        ]
        nodes.append(
            {
                "id": r["node_id"],
                "parent": None if r["parent_id"] < 0 else r["parent_id"],
                "depth": int(r.get("depth", 0)),
                "index": None,
                "text": r["text"],
                "label": r["label"],
                "reason": r.get("reason") or "",
                "continues_error": bool(r.get("continues_error", False)),
                "on_path": r.get("on_path") if reveal else None,
                "candidates": cands,
                "visits": list(r["visits"]),
            }
        )
    for node in nodes[1:]:
        parent = nodes[node["parent"]]
        i = next((j for j, c in enumerate(parent["candidates"]) if c["text"] == node["text"]), None)
        node["index"] = i
        if i is not None:
            parent["candidates"][i]["child"] = node["id"]
            parent["candidates"][i]["label"] = node["label"]
            if reveal:
                parent["candidates"][i]["on_path"] = node["on_path"]
    events = sorted((m, n["id"]) for n in nodes for m in n["visits"])
    k = max((len(n["candidates"]) for n in nodes), default=0)
    moves: list[dict[str, Any]] = []
    seen = {events[0][1]}
    prev = events[0][1]
    for m, nid in events[1:]:
        for gap in range(len(moves) + 1, m):  # moves that changed nothing: invalid ones
            moves.append({"step": gap, "action": "?", "kind": "invalid", "from": prev, "node": prev, "reason": ""})
        node = nodes[nid]
        if node["parent"] == prev:
            kind = "expand"
            act = action_token(node["index"], k) if node["index"] is not None else node["text"]
        else:
            kind, act = "backtrack", "<backtrack>"
        moves.append({"step": m, "action": act, "kind": kind, "from": prev, "node": nid, "revisit": nid in seen})
        seen.add(nid)
        prev = nid
    submitted = next((r["node_id"] for r in rows if r.get("submitted")), None)
    if submitted is not None:
        moves.append({"step": len(moves) + 1, "action": "<submit>", "kind": "submit", "from": prev, "node": prev})
    final_ids = []
    n = prev
    while n is not None and nodes[n]["parent"] is not None:
        final_ids.append(n)
        n = nodes[n]["parent"]
    final_ids.reverse()
    first = rows[0]
    return json_safe(
        {
            "source": f"export {file.name}",
            "env_id": first.get("env_id"),
            "agent": None,
            "seed": None,
            "episode": first["episode"],
            "episode_seed": first.get("seed"),
            "env_kwargs": {},
            "uid": first.get("uid"),
            "question": first["question"],
            "num_candidates": k,
            "action_mode": "menu",
            "reveal": reveal,
            "reference_steps": None,
            "nodes": nodes,
            "moves": moves,
            "final": {
                "path": final_ids,
                "path_length": len(final_ids),
                "backtracks": sum(mv["kind"] == "backtrack" for mv in moves),
                "revisits": sum(mv.get("revisit", False) for mv in moves),
                "steps": len(moves),
                "terminated": submitted is not None,
                "truncated": submitted is None,
                "answer": None,
                "reference": None,
                "is_correct": bool(first.get("episode_correct", False)),
                "reward": None,
                "reward_terms": None,
                "weights": None,
                "mode": None,
                "formula": None,
            },
            "r1gym_version": __version__,
        }
    )


# --- the page -------------------------------------------------------------------------------------


def render_page(traces: Sequence[Mapping[str, Any]], title: str = "r1gym view") -> str:
    """The HTML page of ``traces``: the template with the traces inline as JSON."""
    if not traces:
        raise ValueError("no episodes to show")
    template = resources.files("r1gym").joinpath(TEMPLATE).read_text(encoding="utf-8")
    data = json.dumps(list(traces), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")  # safe in <script>
    return template.replace(_TITLE_SLOT, html.escape(title)).replace(_SLOT, data)


def write_page(traces: Sequence[Mapping[str, Any]], out: str | os.PathLike, title: str = "r1gym view") -> Path:
    """Write the page of ``traces`` to ``out`` (atomically); returns its path."""
    page = render_page(traces, title)
    path = Path(out)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, path)
    return path
