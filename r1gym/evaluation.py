"""``evaluate(agent, env_id)``: the metrics the R1 report's tables report.

The environment is made with ``reveal=True`` so that the harness can tell when an episode left
the correct path; the revealed keys (``on_path``, ``oracle_action``, ``left_path``) are removed
from the ``info`` the agent sees, unless the agent declares ``needs_reveal = True`` (the oracle).
Episode ``i`` of a run with seed ``s`` is the same problem and the same tree for every agent: the
environment's generator is used only at reset, never by the agent's actions.

``evaluate(..., samples=n)`` plays each problem ``n`` times and reports pass@k for k = 1..n (the
unbiased estimator of Chen et al. 2021, :func:`r1gym.stats.pass_at_k`); see :func:`evaluate`.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from r1gym.core.protocols import Agent, BatchAgent
from r1gym.core.vector import info_at, obs_at
from r1gym.stats import mean_interval_01, normal_interval, pass_at_k, wilson_interval

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
        problems: distinct problems played (``episodes`` without ``samples``).
        samples: attempts per problem (1 without ``samples``); with ``samples=n``, ``episodes`` is
            ``problems * n`` and the per-episode metrics above (accuracy, steps, reward) are over
            all of them; their intervals treat the episodes as independent, which the n attempts
            at one problem are not: for the accuracy prefer ``pass_at_k_ci[1]``.
        pass_at_k: ``{k: pass@k}`` for the ks asked (k = 1..n by default): the unbiased estimator
            of Chen et al. (2021) per problem, averaged over the problems; empty without ``samples``.
            ``pass_at_k[1]`` equals ``accuracy``.
        pass_at_k_ci: ``{k: (low, high)}``: 95% Student-t interval of the mean of the per-problem
            estimates (the problems are the independent units), clipped to [0, 1].
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
    problems: int = 0
    samples: int = 1
    pass_at_k: dict[int, float] = field(default_factory=dict)
    pass_at_k_ci: dict[int, tuple[float, float]] = field(default_factory=dict)

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
            "episodes": f"{self.problems} x {self.samples}" if self.pass_at_k else str(self.episodes),
            "accuracy": f"{self.accuracy:.3f} [{self.accuracy_ci[0]:.3f}, {self.accuracy_ci[1]:.3f}]",
            "mean steps": f"{self.mean_steps:.2f}",
            "lookahead": f"{self.mean_lookahead_steps:.1f}",
            "error recovery": rec,
            "left path": f"{self.left_path_rate:.3f}",
            "mean reward": f"{self.mean_reward:.3f}",
            "decisions/s": f"{self.decisions_per_second:,.0f}",
            **self._pass_cells(),
        }

    def _pass_cells(self) -> dict[str, str]:
        """pass@1 and pass@(largest k) with their intervals, when the report has them."""
        cells: dict[str, str] = {}
        for k in sorted({min(self.pass_at_k), max(self.pass_at_k)} if self.pass_at_k else ()):
            lo, hi = self.pass_at_k_ci[k]
            cells[f"pass@{k}"] = f"{self.pass_at_k[k]:.3f} [{lo:.3f}, {hi:.3f}]"
        return cells


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

    @classmethod
    def ended(
        cls, info: dict[str, Any], term: bool, trunc: bool, steps: int, ret: float, left: bool, lookahead: int = 0
    ) -> _Episode:
        """The record of an episode that has just ended with ``info`` (terminated or truncated)."""
        return cls(
            correct=bool(term and info.get("is_correct", False)),
            steps=steps,
            lookahead=lookahead,
            left_path=left,
            ret=ret,
            terms=info.get("reward_terms"),
            truncated=bool(trunc and not term),
        )


def evaluate(
    agent: Agent,
    env_id: str,
    episodes: int = 100,
    seed: int = 0,
    progress: bool = False,
    num_envs: int = 1,
    samples: int | None = None,
    ks: Sequence[int] | None = None,
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
        samples: play each of ``episodes`` problems this many times (``n``) with a stochastic
            agent and report ``pass_at_k`` (see below); ``None``, the default: one episode per
            problem and no pass@k.
        ks: the ks of pass@k (each in 1..n); default every k from 1 to n. Only with ``samples``.
        **env_kwargs: passed to ``gym.make`` (``difficulty``, ``obs_mode``, ...).

    **pass@k** (``samples=n``). Problem ``i`` is the problem and the tree of episode ``i`` of the
    run without samples (same ``seed``): before each of its n attempts the environment's generator
    is put back in the state it had before that problem's reset, so every attempt resets to the
    same ``problem_index`` and the same tree seed (checked against ``info["problem_index"]``).
    Attempt ``j`` of problem ``i`` is its own seeded stream: the agent's generator is replaced by
    one seeded with ``SeedSequence([seed, i, j])`` (plus the agent's own integer ``seed``
    attribute, when it has one), for a numpy ``rng`` attribute (the random and MCTS baselines) or
    a torch ``generator`` (a sampling :class:`~r1gym.llm.agent.LLMAgent`); an agent that keeps
    its randomness elsewhere continues its own stream, which is still reproducible. With ``c_i``
    correct attempts at problem ``i``, ``pass@k = mean_i [1 - C(n - c_i, k) / C(n, k)]``
    (:func:`r1gym.stats.pass_at_k`), and its interval is the 95% Student-t interval of the mean
    of the per-problem estimates, clipped to [0, 1] (:func:`r1gym.stats.mean_interval_01`).
    With ``num_envs > 1`` the attempts at a problem are played ``num_envs`` at a time, on as many
    copies of the environment facing the same problem, and an agent with ``act_batch`` decides
    them in one call (an LLM policy: one forward pass); its sampling then draws one stream per
    (problem, batch of attempts), ``SeedSequence([seed, i, first attempt, num_envs])``, so the
    figures are reproducible for a given ``num_envs`` but differ, within their sampling noise,
    from ``num_envs=1``'s. The problems are the same.

    An agent that declares ``deterministic = True`` (greedy, backtrack, best-first, oracle) is
    refused for ``samples > 1`` with a ``ValueError``: its n attempts at a problem are the same
    episode, so pass@k would be pass@1 for every k; evaluate it without ``samples`` (its accuracy
    is its pass@1). ``samples=1`` is allowed for any agent.

    Raises:
        TypeError: ``samples`` or a k is not an integer.
        ValueError: ``samples < 1``, a k outside 1..n, ``ks`` without ``samples``, a deterministic
            agent with ``samples > 1``, ``num_envs > 1`` with a planning agent (``attach``).
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
    if samples is not None:
        ks = check_samples(agent, samples, ks)
        if num_envs > 1 and hasattr(agent, "attach"):
            raise ValueError(f"{name} plans through one environment's snapshot(); evaluate it with num_envs=1")
        bar = _progress(progress, episodes * samples, f"{name} on {env_id}, {samples} samples")
        t0 = time.perf_counter()
        try:
            if num_envs == 1:
                records = _play_samples(agent, env_id, episodes, samples, seed, bar, env_kwargs)
            else:
                records = _play_samples_batched(agent, env_id, episodes, samples, seed, num_envs, bar, env_kwargs)
        finally:
            if bar is not None:
                bar[0].stop()
        report = _summarize(records, env_id, name, seed, time.perf_counter() - t0, env_kwargs)
        correct = np.array([r.correct for r in records], dtype=bool).reshape(episodes, samples).sum(axis=1)
        report.problems, report.samples = episodes, samples
        for k in ks:
            per_problem = [pass_at_k(samples, int(c), k) for c in correct]
            report.pass_at_k[k] = float(np.mean(per_problem))
            report.pass_at_k_ci[k] = mean_interval_01(per_problem)
        return report
    if ks is not None:
        raise ValueError("ks= needs samples=n (pass@k draws k of n attempts at each problem)")
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


def check_samples(agent: Agent, samples: object, ks: Sequence[int] | None = None) -> list[int]:
    """Validate ``evaluate(..., samples=n, ks=...)`` before any episode runs; the ks to report.

    Raises the errors :func:`evaluate` documents (``r1gym eval`` calls this for every agent first,
    so that bad input is said before minutes of play, not after).
    """
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)):
        raise TypeError(f"samples must be an integer (attempts per problem), got {samples!r}")
    n = int(samples)
    if n < 1:
        raise ValueError(f"samples must be >= 1 (attempts per problem), got {n}")
    name = getattr(agent, "name", type(agent).__name__)
    if n > 1 and getattr(agent, "deterministic", False) is True:
        raise ValueError(
            f"{name} is deterministic: its {n} attempts at a problem would be one episode repeated, so pass@k = pass@1 "
            "for every k; evaluate it without samples (its accuracy is its pass@1), or sample a stochastic agent"
        )
    if ks is None:
        return list(range(1, n + 1))
    out = []
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"each k of pass@k must be an integer, got {k!r}")
        if not 1 <= k <= n:
            raise ValueError(f"pass@{k} needs 1 <= k <= samples = {n} (k attempts are drawn from the {n}); got k = {k}")
        out.append(int(k))
    if not out:
        raise ValueError("ks is empty: ask at least one k (or leave ks out for k = 1..n)")
    return sorted(set(out))


def _reseed(agent: Agent, entropy: list[int]) -> None:
    """Give the agent's sampling a fresh stream from ``SeedSequence(entropy)`` (see evaluate)."""
    own = getattr(agent, "seed", None)
    if isinstance(own, (int, np.integer)) and not isinstance(own, bool) and own >= 0:
        entropy = [*entropy, int(own)]
    seq = np.random.SeedSequence(entropy)
    if isinstance(getattr(agent, "rng", None), np.random.Generator):
        agent.rng = np.random.default_rng(seq)
    gen = getattr(agent, "generator", None)
    if gen is not None and hasattr(gen, "manual_seed"):
        gen.manual_seed(int(seq.generate_state(1, np.uint64)[0]))


def _play_samples(
    agent: Agent, env_id: str, problems: int, samples: int, seed: int, bar, env_kwargs: dict[str, Any]
) -> list[_Episode]:
    """``samples`` episodes of each of ``problems`` problems, problem-major (see evaluate)."""
    from gymnasium.utils import seeding

    env = gym.make(env_id, reveal=True, **env_kwargs)
    base = env.unwrapped
    if hasattr(agent, "attach"):
        agent.attach(env)
    records = []
    try:
        # The generator's state before problem 0's reset is that of reset(seed=seed); each later
        # problem starts from the state the previous problem's reset left (as in _play_single).
        state = seeding.np_random(seed)[0].bit_generator.state
        for i in range(problems):
            index = None
            for j in range(samples):
                base.np_random.bit_generator.state = state
                obs, info = env.reset(seed=seed) if i == 0 and j == 0 else env.reset()
                if j == 0:
                    index, after = info.get("problem_index"), base.np_random.bit_generator.state
                elif info.get("problem_index") != index:  # a task that draws its problem elsewhere
                    raise RuntimeError(f"{env_id}: attempt {j} of problem {i} reset to another problem")
                _reseed(agent, [seed, i, j])
                records.append(_episode(env, agent, obs, info))
                if bar is not None:
                    bar[0].update(bar[1], advance=1)
            state = after
    finally:
        env.close()
    return records


def _play_samples_batched(
    agent: Agent | BatchAgent,
    env_id: str,
    problems: int,
    samples: int,
    seed: int,
    num_envs: int,
    bar,
    env_kwargs: dict[str, Any],
) -> list[_Episode]:
    """:func:`_play_samples` with ``num_envs`` attempts at a problem played side by side.

    Every copy of the environment faces the problem (and tree) of :func:`_play_samples`: its
    generator is set to the same state before the reset. An agent with ``act_batch`` decides the
    live copies in one call, drawing from one stream per (problem, batch of attempts),
    ``SeedSequence([seed, i, first attempt, num_envs])``; without it, each copy gets its own copy
    of the agent with the stream of :func:`_play_samples` (``[seed, i, j]``). Records come
    problem-major, attempt order within a problem.
    """
    from gymnasium.utils import seeding
    from gymnasium.vector.utils import concatenate, create_empty_array

    width = min(num_envs, samples)
    envs = [gym.make(env_id, reveal=True, **env_kwargs) for _ in range(width)]
    batch = hasattr(agent, "act_batch")
    space = envs[0].observation_space
    records: list[_Episode] = []
    try:
        state = seeding.np_random(seed)[0].bit_generator.state
        for i in range(problems):
            index, after = None, state
            for first in range(0, samples, width):
                live_envs = envs[: min(width, samples - first)]
                n = len(live_envs)
                obs, infos = [], []
                for j, env in enumerate(live_envs):
                    env.unwrapped.np_random.bit_generator.state = state
                    o, info = env.reset(seed=seed) if i == 0 else env.reset()
                    if first == 0 and j == 0:
                        index, after = info.get("problem_index"), env.unwrapped.np_random.bit_generator.state
                    elif info.get("problem_index") != index:  # a task that draws its problem elsewhere
                        raise RuntimeError(f"{env_id}: attempt {first + j} of problem {i} reset to another problem")
                    obs.append(o)
                    infos.append(info)
                if batch:
                    _reseed(agent, [seed, i, first, num_envs])
                    if hasattr(agent, "reset"):
                        agent.reset()
                    copies = [agent] * n
                else:
                    copies = [copy.deepcopy(agent) for _ in range(n)]
                    for j, a in enumerate(copies):
                        _reseed(a, [seed, i, first + j])
                        if hasattr(a, "reset"):
                            a.reset()
                ret, steps, left = [0.0] * n, [0] * n, [False] * n
                done: list[_Episode | None] = [None] * n
                while any(d is None for d in done):
                    live = [j for j in range(n) if done[j] is None]
                    seen = [_visible(infos[j], agent) for j in live]
                    if batch:
                        stacked = concatenate(space, [obs[j] for j in live], create_empty_array(space, len(live)))
                        actions = np.asarray(agent.act_batch(stacked, seen), dtype=np.int64)
                    else:
                        actions = np.array([copies[j].act(obs[j], v) for j, v in zip(live, seen)], dtype=np.int64)
                    for j, action in zip(live, actions):
                        obs[j], r, term, trunc, infos[j] = live_envs[j].step(int(action))
                        ret[j] += float(r)
                        steps[j] += 1
                        left[j] = left[j] or bool(infos[j]["left_path"])
                        if term or trunc:
                            lookahead = int(getattr(copies[j], "lookahead_steps", 0))
                            done[j] = _Episode.ended(infos[j], term, trunc, steps[j], ret[j], left[j], lookahead)
                            if bar is not None:
                                bar[0].update(bar[1], advance=1)
                records += [d for d in done if d is not None]
            state = after
    finally:
        for env in envs:
            env.close()
    return records


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
            records.append(_episode(env, agent, obs, info))
            if bar is not None:
                bar[0].update(bar[1], advance=1)
    finally:
        env.close()
    return records


def _episode(env: gym.Env, agent: Agent, obs: Any, info: dict[str, Any]) -> _Episode:
    """Play one episode from a fresh reset's ``obs`` and ``info`` to its end."""
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
    return _Episode.ended(info, term, trunc, steps, ret, left, int(getattr(agent, "lookahead_steps", 0)))


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
                        records.append(_Episode.ended(info, bool(terms[i]), bool(truncs[i]), steps[i], ret[i], left[i]))
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
        problems=n,
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
