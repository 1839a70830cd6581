"""``evaluate(agent, env_id)``: the metrics the R1 report's tables report.

The environment is made with ``reveal=True`` so that the harness can tell when an episode left
the correct path; the revealed keys (``on_path``, ``oracle_action``, ``left_path``) are removed
from the ``info`` the agent sees, unless the agent declares ``needs_reveal = True`` (the oracle).
Episode ``i`` of a run with seed ``s`` is the same problem and the same tree for every agent: the
environment's generator is used only at reset, never by the agent's actions.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from r1gym.core.protocols import Agent, BatchAgent
from r1gym.core.vector import info_at, obs_at
from r1gym.stats import normal_interval, wilson_interval

REVEALED_KEYS = ("on_path", "oracle_action", "left_path")


@dataclass
class EvalReport:
    """Results of :func:`evaluate`. ``to_dict()`` gives plain JSON-ready values.

    Attributes:
        accuracy: share of episodes whose submitted answer verified.
        accuracy_ci: 95% Wilson interval of the accuracy (``error_recovery_ci`` likewise;
            ``mean_steps_ci`` and ``mean_reward_ci`` are normal-approximation 95% intervals).
        mean_steps: actions per episode (expand, backtrack, submit and masked ones).
        mean_lookahead_steps: environment steps per episode that a planning agent spent looking
            ahead through ``snapshot()`` / ``restore()`` (0 for agents that do not plan): search
            is compared at its true cost, ``mean_steps + mean_lookahead_steps``.
        error_recovery: among episodes that left the correct path, the share that still
            submitted a correct answer (NaN when none left it; ``None`` in ``to_dict()``).
        left_path_rate: share of episodes that left the correct path at least once.
        mean_reward: mean episode return; ``reward_terms`` the mean of each term over submits.
        pass_at_1: accuracy of a single attempt per problem (here equal to accuracy).
        truncated_rate: share of episodes cut by the step limit.
        decisions_per_second: actions per second of wall time, agent (and its lookahead) included.
        env_steps_per_second: actions plus lookahead steps per second of wall time.
    """

    env_id: str
    agent: str
    episodes: int
    seed: int
    accuracy: float
    accuracy_ci: tuple[float, float]
    mean_steps: float
    mean_steps_ci: tuple[float, float]
    mean_lookahead_steps: float
    error_recovery: float
    error_recovery_ci: tuple[float, float]
    left_path_rate: float
    mean_reward: float
    mean_reward_ci: tuple[float, float]
    reward_terms: dict[str, float]
    pass_at_1: float
    truncated_rate: float
    decisions_per_second: float
    env_steps_per_second: float
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for strict JSON: tuples become lists, and a value that is not a finite
        number (the error recovery when no episode left the correct path, its interval, a rate
        over no time) becomes ``None`` (``null``), never a bare ``NaN`` that JSON parsers reject."""
        return json_safe(asdict(self))

    def row(self) -> dict[str, str]:
        """The report as one row of a results table."""
        rec = "n/a" if math.isnan(self.error_recovery) else f"{self.error_recovery:.3f}"
        return {
            "env": self.env_id,
            "agent": self.agent,
            "episodes": str(self.episodes),
            "accuracy": f"{self.accuracy:.3f} [{self.accuracy_ci[0]:.3f}, {self.accuracy_ci[1]:.3f}]",
            "mean steps": f"{self.mean_steps:.2f}",
            "lookahead": f"{self.mean_lookahead_steps:.1f}",
            "error recovery": rec,
            "left path": f"{self.left_path_rate:.3f}",
            "mean reward": f"{self.mean_reward:.3f}",
            "decisions/s": f"{self.decisions_per_second:,.0f}",
        }


def json_safe(value: Any) -> Any:
    """``value`` with tuples as lists and NaN / infinities as ``None``, recursively: what
    ``json.dumps(..., allow_nan=False)`` accepts."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    return value


@dataclass
class _Episode:
    correct: bool
    steps: int
    lookahead: int
    left_path: bool
    ret: float
    terms: dict[str, float] | None
    truncated: bool


def evaluate(
    agent: Agent,
    env_id: str,
    episodes: int = 100,
    seed: int = 0,
    progress: bool = False,
    num_envs: int = 1,
    **env_kwargs: Any,
) -> EvalReport:
    """Play ``episodes`` seeded episodes of ``env_id`` with ``agent`` and measure them.

    Args:
        agent: anything with ``act(obs, info) -> int`` and optionally ``reset()``; planning
            agents also have ``attach(env)``; an agent with an ``obs_mode`` attribute (``"text"``
            for an LLM policy) gets environments made with that observation mode. With
            ``num_envs > 1`` an agent may have ``act_batch(obs, infos) -> actions`` to decide for
            the whole batch at once (otherwise ``act`` is called per environment).
        env_id: a registered id such as ``"R1Math-v0"``.
        episodes: how many episodes.
        seed: the first reset is seeded with it; later resets continue the same generator.
            (With ``num_envs > 1``, environment i is seeded with ``seed + i`` as
            ``gym.make_vec`` does, so the problems differ from the single-environment run.)
        progress: show a progress bar.
        num_envs: play on a synchronous vector environment of this many copies.
        **env_kwargs: passed to ``gym.make`` (``difficulty``, ``obs_mode``, ...).
    """
    if not hasattr(agent, "act") and not hasattr(agent, "act_batch"):
        raise TypeError(f"agent must have act(obs, info) -> int, got {type(agent).__name__}")
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if num_envs < 1:
        raise ValueError(f"num_envs must be >= 1, got {num_envs}")
    if "reveal" in env_kwargs:
        raise TypeError("evaluate() sets reveal itself; do not pass it")
    wanted = getattr(agent, "obs_mode", None)  # an agent that reads text (an LLM policy) says so
    if wanted is not None:
        if env_kwargs.get("obs_mode", wanted) != wanted:
            raise ValueError(f"this agent reads obs_mode={wanted!r} observations, not {env_kwargs['obs_mode']!r}")
        env_kwargs = {**env_kwargs, "obs_mode": wanted}
    name = getattr(agent, "name", type(agent).__name__)
    bar = _progress(progress, episodes, f"{name} on {env_id}")
    t0 = time.perf_counter()
    try:
        if num_envs == 1:
            records = _play_single(agent, env_id, episodes, seed, bar, env_kwargs)
        else:
            if hasattr(agent, "attach"):
                raise ValueError(f"{name} plans through one environment's snapshot(); evaluate it with num_envs=1")
            records = _play_vector(agent, env_id, episodes, seed, num_envs, bar, env_kwargs)
    finally:
        if bar is not None:
            bar[0].stop()
    return _summarize(records, env_id, name, seed, time.perf_counter() - t0, env_kwargs)


def _visible(info: dict[str, Any], agent: Agent) -> dict[str, Any]:
    if getattr(agent, "needs_reveal", False):
        return info
    return {k: v for k, v in info.items() if k not in REVEALED_KEYS}


def _play_single(
    agent: Agent, env_id: str, episodes: int, seed: int, bar, env_kwargs: dict[str, Any]
) -> list[_Episode]:
    env = gym.make(env_id, reveal=True, **env_kwargs)
    if hasattr(agent, "attach"):
        agent.attach(env)
    records = []
    try:
        for ep in range(episodes):
            obs, info = env.reset(seed=seed if ep == 0 else None)
            if hasattr(agent, "reset"):
                agent.reset()
            ret, steps, left, done = 0.0, 0, False, False
            term = trunc = False
            while not done:
                obs, r, term, trunc, info = env.step(agent.act(obs, _visible(info, agent)))
                ret += float(r)
                steps += 1
                left = left or bool(info["left_path"])
                done = term or trunc
            records.append(
                _Episode(
                    correct=bool(term and info.get("is_correct", False)),
                    steps=steps,
                    lookahead=int(getattr(agent, "lookahead_steps", 0)),
                    left_path=left,
                    ret=ret,
                    terms=info.get("reward_terms"),
                    truncated=bool(trunc and not term),
                )
            )
            if bar is not None:
                bar[0].update(bar[1], advance=1)
    finally:
        env.close()
    return records


def _play_vector(
    agent: Agent | BatchAgent, env_id: str, episodes: int, seed: int, num_envs: int, bar, env_kwargs: dict[str, Any]
) -> list[_Episode]:
    envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync", reveal=True, **env_kwargs)
    records: list[_Episode] = []
    ret = [0.0] * num_envs
    steps = [0] * num_envs
    left = [False] * num_envs
    batch = hasattr(agent, "act_batch")
    # Without act_batch, each copy of the environment gets its own copy of the agent, so that
    # per-episode state (a backtracking agent's dead ends) never mixes two episodes.
    copies = [agent] if batch else [copy.deepcopy(agent) for _ in range(num_envs)]
    try:
        obs, infos = envs.reset(seed=seed)
        for a in copies:
            if hasattr(a, "reset"):
                a.reset()
        while len(records) < episodes:
            per_env = [_visible(info_at(infos, i), agent) for i in range(num_envs)]
            if batch:
                actions = np.asarray(agent.act_batch(obs, per_env), dtype=np.int64)
            else:
                actions = np.array([copies[i].act(obs_at(obs, i), per_env[i]) for i in range(num_envs)], dtype=np.int64)
            obs, rewards, terms, truncs, infos = envs.step(actions)
            for i in range(num_envs):
                info = info_at(infos, i)
                ret[i] += float(rewards[i])
                steps[i] += 1
                left[i] = left[i] or bool(info.get("left_path", False))
                if terms[i] or truncs[i]:
                    if len(records) < episodes:
                        records.append(
                            _Episode(
                                correct=bool(terms[i] and info.get("is_correct", False)),
                                steps=steps[i],
                                lookahead=0,
                                left_path=left[i],
                                ret=ret[i],
                                terms=info.get("reward_terms"),
                                truncated=bool(truncs[i] and not terms[i]),
                            )
                        )
                        if bar is not None:
                            bar[0].update(bar[1], advance=1)
                    # The next step of this copy is its automatic reset: start counting afresh.
                    ret[i], steps[i], left[i] = 0.0, -1, False
                    if not batch and hasattr(copies[i], "reset"):
                        copies[i].reset()
    finally:
        envs.close()
    return records


def _summarize(
    records: list[_Episode], env_id: str, name: str, seed: int, elapsed: float, env_kwargs: dict[str, Any]
) -> EvalReport:
    n = len(records)
    correct = sum(r.correct for r in records)
    steps = sum(r.steps for r in records)
    lookahead = sum(r.lookahead for r in records)
    left = [r for r in records if r.left_path]
    recovered = sum(r.correct for r in left)
    submitted = [r.terms for r in records if r.terms]
    terms = {
        k: float(np.mean([t[k] for t in submitted])) if submitted else 0.0
        for k in ("accuracy", "efficiency", "novelty")
    }
    rewards = [r.ret for r in records]
    return EvalReport(
        env_id=env_id,
        agent=name,
        episodes=n,
        seed=seed,
        accuracy=correct / n,
        accuracy_ci=wilson_interval(correct, n),
        mean_steps=steps / n,
        mean_steps_ci=normal_interval([r.steps for r in records]),
        mean_lookahead_steps=lookahead / n,
        error_recovery=recovered / len(left) if left else float("nan"),
        error_recovery_ci=wilson_interval(recovered, len(left)),
        left_path_rate=len(left) / n,
        mean_reward=float(np.mean(rewards)),
        mean_reward_ci=normal_interval(rewards),
        reward_terms=terms,
        pass_at_1=correct / n,
        truncated_rate=sum(r.truncated for r in records) / n,
        decisions_per_second=steps / elapsed if elapsed > 0 else float("inf"),
        env_steps_per_second=(steps + lookahead) / elapsed if elapsed > 0 else float("inf"),
        env_kwargs=dict(env_kwargs),
    )


def _progress(enabled: bool, total: int, label: str):
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import Progress

    p = Progress(console=Console(stderr=True), transient=True)
    p.start()
    return p, p.add_task(label, total=total)


def format_table(reports: list[EvalReport]) -> str:
    """A Markdown table of reports."""
    rows = [r.row() for r in reports]
    if not rows:
        return ""
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
    head = "| " + " | ".join(c.ljust(widths[c]) for c in cols) + " |"
    sep = "|" + "|".join("-" * (widths[c] + 2) for c in cols) + "|"
    body = ["| " + " | ".join(r[c].ljust(widths[c]) for c in cols) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def plot_reports(reports: list[EvalReport], path: str | None = None):  # -> matplotlib Axes
    """A bar chart of accuracy (with its 95% interval) per agent and environment; saved if ``path``."""
    try:
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("plots need matplotlib: pip install 'r1gym[plot]'") from e
    envs = list(dict.fromkeys(r.env_id for r in reports))
    agents = list(dict.fromkeys(r.agent for r in reports))
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(envs) * len(agents)), 4))
    width = 0.8 / max(1, len(agents))
    for j, agent in enumerate(agents):
        xs, ys, lo, hi = [], [], [], []
        for i, env_id in enumerate(envs):
            for r in reports:
                if r.env_id == env_id and r.agent == agent:
                    xs.append(i + j * width)
                    ys.append(r.accuracy)
                    lo.append(r.accuracy - r.accuracy_ci[0])
                    hi.append(r.accuracy_ci[1] - r.accuracy)
        ax.bar(xs, ys, width, yerr=[lo, hi], capsize=3, label=agent)
    ax.set_xticks([i + width * (len(agents) - 1) / 2 for i in range(len(envs))], envs)
    ax.set_ylabel("accuracy (95% interval)")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return ax
