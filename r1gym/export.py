"""Data out: episodes of any agent as JSONL datasets (``r1gym export``).

An agent from a spec (``oracle``, ``greedy``, ``backtrack``, ``random``, ``llm:DIR``, ...) plays N
seeded episodes; every step is labelled by the environment's step judge (``info["step_label"]``,
``step_reason``, ``continues_error``, ``first_error``) and, through ``reveal=True``, whether it is
still on the reference solution (``on_path``). One of four formats is written to ``DIR/data.jsonl``
(``datasets.load_dataset("json", data_files=...)`` reads it), with ``DIR/manifest.json`` beside it:

* ``stepwise``: TRL's stepwise supervision (``prompt``, ``completions``, ``labels``), one row per
  episode, the steps of the path the episode ended on;
* ``first-error``: ProcessBench's shape (``id``, ``generator``, ``problem``, ``steps``,
  ``final_answer_correct``, ``label`` = index of the first wrong step or -1);
* ``sft``: whole episodes as chat messages in the text protocol (system, then user = the state,
  assistant = the action token or the written step, ..., backtracks included): cold-start data;
* ``tree``: one row per node an episode visited: path, parent, text, label, reason, visit order.

The step labels map to TRL's booleans as :data:`STEPWISE_LABELS` says: ``correct`` and
``neutral`` (no claim) are ``True``, ``wrong`` is ``False``, and a step that is right but derived
from an earlier wrong value (``continues_error``) is ``False``. See docs/export.md.

The agent sees what :func:`r1gym.evaluate` shows it (the revealed keys only if it declares
``needs_reveal``). The text of every state comes from an ``obs_mode="text"`` environment; an agent
that reads vectors (an ``sb3:`` model) plays a second environment in lockstep, made with the same
arguments and seeds (the episodes are the same: the environment's generator is used only at reset).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from r1gym._version import __version__
from r1gym.agent_specs import SB3Agent, resolve_agent
from r1gym.core.actions import action_token, parse_action_text
from r1gym.core.env import DEFAULT_HORIZON
from r1gym.evaluation import REVEALED_KEYS, json_safe
from r1gym.integrations.chat import system_message, user_message

__all__ = [
    "DATA_FILE",
    "FORMATS",
    "MANIFEST_FILE",
    "STEPWISE_LABELS",
    "EpisodeRecord",
    "check_out_dir",
    "episode_seeds",
    "export",
    "record_episodes",
    "replay_actions",
    "rows_for",
]

FORMATS = ("stepwise", "first-error", "sft", "tree")
DATA_FILE = "data.jsonl"
MANIFEST_FILE = "manifest.json"

#: How a judged step becomes a TRL stepwise label. A step continuing an earlier error (its own
#: arithmetic right, its value derived from a wrong one) is ``False``: it cannot lead to the answer.
STEPWISE_LABELS = {"correct": True, "neutral": True, "wrong": False, "continues_error": False}


def episode_seeds(seed: int, episodes: int) -> list[int]:
    """The reset seed of each episode: 32-bit draws from ``SeedSequence(seed, spawn_key=(i,))``,
    independent streams for every (seed, episode) pair (never ``seed + i``)."""
    return [int(np.random.SeedSequence(seed, spawn_key=(i,)).generate_state(1)[0]) for i in range(episodes)]


# --- recording ------------------------------------------------------------------------------------


@dataclass
class NodeRecord:
    """A node an episode visited: what the judge said of the step that made it, and when."""

    node_id: int
    parent_id: int
    path: tuple
    texts: tuple[str, ...]
    label: str | None
    reason: str
    continues_error: bool
    first_error: int
    on_path: bool | None
    candidates: list[str]
    confidence: list[float]
    visits: list[int] = field(default_factory=list)


@dataclass
class EpisodeRecord:
    """One episode as played: its seed, problem, every move (as text), every node, the outcome."""

    episode: int
    seed: int
    problem_index: int | None
    uid: str
    question: str
    num_candidates: int
    action_mode: str
    messages: list[dict[str, str]]
    actions: list[str]
    nodes: dict[tuple, NodeRecord]
    final_path: tuple
    reward: float
    terminated: bool
    truncated: bool
    answer: str | None
    reference: str | None
    is_correct: bool
    reward_terms: dict[str, float] | None
    submitted_node: int | None

    def final_nodes(self) -> list[NodeRecord]:
        """The nodes of the path the episode ended on, root excluded, in order."""
        return [self.nodes[self.final_path[:i]] for i in range(1, len(self.final_path) + 1)]


def _visible(info: Mapping[str, Any], agent: Any) -> dict[str, Any]:
    if getattr(agent, "needs_reveal", False):
        return dict(info)
    return {k: v for k, v in info.items() if k not in REVEALED_KEYS}


def _agent_obs_mode(agent: Any, given: str | None, write: bool) -> str:
    if write:
        return "text"
    wanted = getattr(agent, "obs_mode", None)
    if wanted is not None and given is not None and wanted != given:
        raise ValueError(f"this agent reads obs_mode={wanted!r} observations, not {given!r}")
    return given or wanted or ("vector" if isinstance(agent, SB3Agent) else "text")


def _as_action(action: Any, k: int, write: bool) -> tuple[Any, str]:
    """The action to step with and its text in the protocol (a menu int becomes its token)."""
    if isinstance(action, (str, np.str_)):
        if not write:
            raise ValueError(
                f"the agent returned the text {str(action)!r} in menu mode; make the env with action_mode='write'"
            )
        return str(action), str(action)
    a = int(np.asarray(action).reshape(-1)[0])
    token = action_token(a, k)
    return (token if write else a), token


def record_episodes(
    agent: Any,
    env_id: str,
    episodes: int,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    progress: Any = None,
) -> list[EpisodeRecord]:
    """Play ``episodes`` episodes of ``env_id`` with ``agent`` and record them (see the module's docstring).

    Episode ``i`` is reset with ``episode_seeds(seed, episodes)[i]``; all episodes are played in
    one environment, in order (the novelty term of the reward remembers earlier submissions).
    ``progress`` is called with no arguments after each episode.
    """
    kwargs = dict(env_kwargs or {})
    if "reveal" in kwargs:
        raise TypeError("export sets reveal itself (on_path is recorded); do not pass it")
    given_mode = kwargs.pop("obs_mode", None)
    env = gym.make(env_id, reveal=True, obs_mode="text", **kwargs)
    write = env.unwrapped.action_mode == "write"  # asked for, or the id's default (R1Open-v0)
    agent_mode = _agent_obs_mode(agent, given_mode, write)
    agent_env = env if agent_mode == "text" else gym.make(env_id, reveal=True, obs_mode=agent_mode, **kwargs)
    if hasattr(agent, "attach"):
        agent.attach(agent_env)
    k = int(env.unwrapped.num_candidates)
    if hasattr(agent, "check_num_candidates"):
        agent.check_num_candidates(k)
    spec = getattr(env, "spec", None)
    max_moves = int(getattr(spec, "max_episode_steps", None) or DEFAULT_HORIZON)
    seeds = episode_seeds(seed, episodes)
    records = []
    try:
        for ep, s in enumerate(seeds):
            records.append(_play(agent, env, agent_env, ep, s, k, write, max_moves))
            if progress is not None:
                progress()
    finally:
        env.close()
        if agent_env is not env:
            agent_env.close()
    return records


def _play(agent: Any, env: gym.Env, agent_env: gym.Env, ep: int, seed: int, k: int, write: bool, max_moves: int):
    obs, info = env.reset(seed=seed)
    a_obs, a_info = (obs, info) if agent_env is env else agent_env.reset(seed=seed)
    if hasattr(agent, "reset"):
        agent.reset()
    problem = env.unwrapped.problem
    nodes: dict[tuple, NodeRecord] = {}

    def visit(path: tuple, obs: Mapping[str, Any], info: Mapping[str, Any], move: int) -> None:
        node = nodes.get(path)
        if node is None:
            current = env.unwrapped.current_node
            parent = nodes[path[:-1]].node_id if path else -1
            node = NodeRecord(
                node_id=len(nodes),
                parent_id=parent,
                path=path,
                texts=tuple(current.texts),
                label=info.get("step_label"),
                reason=str(info.get("step_reason") or ""),
                continues_error=bool(info.get("continues_error", False)),
                first_error=int(info.get("first_error", -1)),
                on_path=None if info.get("on_path") is None else bool(info["on_path"]),
                candidates=[c for c in obs.get("candidates", ()) if c],
                confidence=[float(c) for c in np.asarray(obs.get("confidence", ()))][: len(obs.get("candidates", ()))],
            )
            node.confidence = node.confidence[: len(node.candidates)]
            nodes[path] = node
        node.visits.append(move)

    visit(tuple(info["path"]), obs, info, 0)
    messages = [system_message(k, max_moves, write), user_message(obs, write=write)]
    actions: list[str] = []
    total, done, move = 0.0, False, 0
    term = trunc = False
    while not done:
        try:
            chosen = agent.act(a_obs, _visible(a_info, agent))
        except (KeyError, IndexError) as e:  # a menu agent on an env that shows no candidates
            name = getattr(agent, "name", type(agent).__name__)
            raise ValueError(
                f"agent {name} cannot act on this environment's observations (missing {e}); with "
                "num_candidates=0 (R1Open-v0's default) there is nothing to pick: use an agent that writes"
            ) from None
        action, text = _as_action(chosen, k, write)
        before = tuple(info["path"])
        obs, r, term, trunc, info = env.step(action)
        if agent_env is not env:
            a_obs, _, _, _, a_info = agent_env.step(action)
            if tuple(a_info["path"]) != tuple(info["path"]):
                raise RuntimeError("the agent's environment and the recording one diverged (is the env deterministic?)")
        else:
            a_obs, a_info = obs, info
        move += 1
        total += float(r)
        actions.append(text)
        messages.append({"role": "assistant", "content": text})
        path = tuple(info["path"])
        if path != before:
            visit(path, obs, info, move)
        done = bool(term or trunc)
        if not done:
            note = (
                f"That move is not allowed here: {info.get('invalid_reason', 'masked')}."
                if info.get("invalid_action")
                else ""
            )
            messages.append(user_message(obs, note, write))
    final = tuple(info["path"])
    return EpisodeRecord(
        episode=ep,
        seed=seed,
        problem_index=None if info.get("problem_index") is None else int(info["problem_index"]),
        uid=str(info["uid"]),
        question=problem.question,
        num_candidates=k,
        action_mode="write" if write else "menu",
        messages=messages,
        actions=actions,
        nodes=nodes,
        final_path=final,
        reward=total,
        terminated=bool(term),
        truncated=bool(trunc and not term),
        answer=info.get("answer") if term else None,
        reference=info.get("reference") if term else str(problem.answer),
        is_correct=bool(term and info.get("is_correct", False)),
        reward_terms=info.get("reward_terms") if term else None,
        submitted_node=nodes[final].node_id if term else None,
    )


# --- formats --------------------------------------------------------------------------------------


def _step_ok(node: NodeRecord) -> bool:
    if node.continues_error:
        return STEPWISE_LABELS["continues_error"]
    return STEPWISE_LABELS.get(node.label or "neutral", True)


def _common(rec: EpisodeRecord, env_id: str) -> dict[str, Any]:
    return {
        "env_id": env_id,
        "episode": rec.episode,
        "seed": rec.seed,
        "problem_index": rec.problem_index,
        "uid": rec.uid,
    }


def rows_for(fmt: str, records: Sequence[EpisodeRecord], env_id: str, agent_spec: str) -> list[dict[str, Any]]:
    """The JSONL rows of format ``fmt`` for the recorded episodes."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; the formats are {', '.join(FORMATS)}")
    rows: list[dict[str, Any]] = []
    for rec in records:
        path_nodes = rec.final_nodes()
        steps = [n.texts[-1] for n in path_nodes]
        if fmt == "stepwise":
            rows.append(
                {
                    "prompt": rec.question,
                    "completions": steps,
                    "labels": [_step_ok(n) for n in path_nodes],
                    "step_labels": [n.label or "neutral" for n in path_nodes],
                    "continues_error": [n.continues_error for n in path_nodes],
                    "is_correct": rec.is_correct,
                    **_common(rec, env_id),
                }
            )
        elif fmt == "first-error":
            rows.append(
                {
                    "id": f"{env_id}-{rec.episode}",
                    "generator": agent_spec,
                    "problem": rec.question,
                    "steps": steps,
                    "final_answer_correct": rec.is_correct,
                    "label": path_nodes[-1].first_error if path_nodes else -1,
                    **_common(rec, env_id),
                }
            )
        elif fmt == "sft":
            rows.append(
                {
                    "messages": rec.messages,
                    "action_mode": rec.action_mode,
                    "num_candidates": rec.num_candidates,
                    "reward": rec.reward,
                    "answer": rec.answer,
                    "reference": rec.reference,
                    "is_correct": rec.is_correct,
                    "terminated": rec.terminated,
                    "truncated": rec.truncated,
                    **_common(rec, env_id),
                }
            )
        else:
            for node in rec.nodes.values():
                rows.append(
                    {
                        **_common(rec, env_id),
                        "question": rec.question,
                        "node_id": node.node_id,
                        "parent_id": node.parent_id,
                        "depth": len(node.texts),
                        "path": list(node.texts),
                        "text": node.texts[-1] if node.texts else "",
                        "label": node.label,
                        "reason": node.reason,
                        "continues_error": node.continues_error,
                        "first_error": node.first_error,
                        "on_path": node.on_path,
                        "visits": node.visits,
                        "first_visit": node.visits[0],
                        "revisits": len(node.visits) - 1,
                        "on_final_path": node.path == rec.final_path[: len(node.path)],
                        "submitted": node.node_id == rec.submitted_node,
                        "candidates": node.candidates,
                        "confidence": node.confidence,
                        "episode_correct": rec.is_correct,
                    }
                )
    return rows


def label_counts(fmt: str, records: Sequence[EpisodeRecord], rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The judge's labels over every step taken (each node's first visit), and the format's own labels."""
    steps = Counter()
    for rec in records:
        for node in rec.nodes.values():
            if node.path:
                steps[node.label or "neutral"] += 1
                steps["continues_error"] += node.continues_error
    counts: dict[str, Any] = {
        "steps": {key: steps.get(key, 0) for key in ("correct", "wrong", "neutral", "continues_error")}
    }
    if fmt == "stepwise":
        flat = [b for row in rows for b in row["labels"]]
        counts["labels"] = {"true": sum(flat), "false": len(flat) - sum(flat)}
    elif fmt == "first-error":
        counts["label"] = {"no_error": sum(r["label"] == -1 for r in rows), "error": sum(r["label"] >= 0 for r in rows)}
    elif fmt == "tree":
        counts["nodes"] = len(rows)
        counts["revisits"] = sum(r["revisits"] for r in rows)
    counts["episodes_correct"] = sum(rec.is_correct for rec in records)
    return counts


# --- the output folder ----------------------------------------------------------------------------


def check_out_dir(out: str | os.PathLike, overwrite: bool = False) -> str | None:
    """Why ``out`` cannot take an export (a file, a non-empty folder without ``overwrite``, a
    folder that cannot be written or created), or None."""
    p = Path(out)
    if p.exists() and not p.is_dir():
        return f"--out {out} is a file; give a folder to write {DATA_FILE} and {MANIFEST_FILE} into"
    if p.is_dir():
        if any(p.iterdir()) and not overwrite:
            return f"--out {out} is not empty; choose an empty or new folder, or pass --overwrite"
        if not os.access(p, os.W_OK | os.X_OK):
            return f"--out {out} is not writable; choose another folder"
        return None
    parent = p.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return f"--out {out} cannot be created: {parent} is not a writable folder; choose another path"
    return None


def _write_jsonl(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(json_safe(dict(row)), ensure_ascii=False, allow_nan=False) + "\n")
    os.replace(tmp, path)


def export(
    env_id: str,
    agent: str,
    episodes: int,
    fmt: str,
    out: str | os.PathLike,
    seed: int = 0,
    overwrite: bool = False,
    progress: Any = None,
    agent_spec: str | None = None,
    **env_kwargs: Any,
) -> dict[str, Any]:
    """Play ``episodes`` episodes of ``env_id`` with ``agent`` (a spec such as ``"oracle"``, or an
    agent object, named ``agent_spec`` in the data) and write format
    ``fmt`` to ``out/data.jsonl`` and the manifest to ``out/manifest.json``; returns the manifest.

    ``progress`` (optional) is called after each episode. Raises ``ValueError`` on a bad format,
    episode count or output folder (checked before any episode is played).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; the formats are {', '.join(FORMATS)}")
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    why = check_out_dir(out, overwrite)
    if why:
        raise ValueError(why)
    agent_obj = resolve_agent(agent, seed=seed) if isinstance(agent, str) else agent
    spec = agent_spec or (agent if isinstance(agent, str) else getattr(agent, "name", type(agent).__name__))
    records = record_episodes(agent_obj, env_id, episodes, seed, env_kwargs, progress)
    rows = rows_for(fmt, records, env_id, spec)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    _write_jsonl(folder / DATA_FILE, rows)
    manifest = {
        "r1gym_version": __version__,
        "format": fmt,
        "data_file": DATA_FILE,
        "rows": len(rows),
        "env_id": env_id,
        "env_kwargs": env_kwargs,
        "agent": spec,
        "episodes": episodes,
        "seed": seed,
        "episode_seeds": [r.seed for r in records],
        "num_candidates": records[0].num_candidates,
        "action_mode": records[0].action_mode,
        "stepwise_labels": STEPWISE_LABELS,
        "label_counts": label_counts(fmt, records, rows),
        "replay": "one env made with env_id and env_kwargs, reset with episode_seeds in order",
    }
    tmp = folder / (MANIFEST_FILE + ".tmp")
    tmp.write_text(json.dumps(json_safe(manifest), indent=2, ensure_ascii=False, allow_nan=False) + "\n", "utf-8")
    os.replace(tmp, folder / MANIFEST_FILE)
    return manifest


def replay_actions(messages: Sequence[Mapping[str, str]], num_candidates: int, action_mode: str) -> list[Any]:
    """The env actions of an ``sft`` episode's assistant messages: menu actions read with the one
    parser (:func:`r1gym.core.actions.parse_action_text`), written steps as they are."""
    out: list[Any] = []
    for m in messages:
        if m["role"] != "assistant":
            continue
        if action_mode == "write":
            out.append(m["content"])
        else:
            parsed = parse_action_text(m["content"], num_candidates)
            if not parsed.ok:
                raise ValueError(f"assistant message {m['content']!r} is not an action: {parsed.detail}")
            out.append(parsed.action)
    return out
