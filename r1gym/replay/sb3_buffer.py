"""Prioritized replay buffers for stable-baselines3's off-policy algorithms (DQN, SAC, ...).

:class:`PrioritizedReplayBuffer` (Box / Discrete observations) and
:class:`PrioritizedDictReplayBuffer` (``Dict`` observations, e.g. r1gym's vector mode with
``MultiInputPolicy``) store transitions exactly as SB3's ``ReplayBuffer`` / ``DictReplayBuffer``
do, but draw them through a :class:`~r1gym.replay.sumtree.SumTree` with the proportional
prioritization of Schaul et al. (2016)::

    p_i = (|delta_i| + eps) ** alpha      P(i) = p_i / sum_j p_j
    w_i = (N * P(i)) ** -beta / max_j w_j = (p_min / p_i) ** beta

A new transition enters at the largest ``|delta| + eps`` seen so far (1 at first), so it is
drawn at least once soon. Priorities change only through :meth:`update_priorities`, which the
training loop calls after each gradient step with the indices of the batch
(``buffer.last_indices``) and their TD errors. The importance weights of that batch are in
``buffer.last_weights``; multiply the per-sample loss by them.

Note: SB3's own ``DQN.train`` never calls :meth:`update_priorities` and ignores the weights.
Plain ``DQN(..., replay_buffer_class=PrioritizedReplayBuffer)`` therefore runs, but every
transition keeps the priority it entered with (the maximum, which then never changes), so
sampling is uniform over the buffer (stratified) and every weight is 1: the same as SB3's
``ReplayBuffer``, not prioritized replay. Prioritized replay needs a training step that calls
:meth:`update_priorities` and weights its loss: ``agents/dqn_per.py`` does that.

``n_steps > 1`` (with ``gamma``) turns each drawn transition into an n-step one, as SB3's
``NStepReplayBuffer`` does for Box observations (SB3 has none for ``Dict`` ones): the reward is
``sum_{k<m} gamma^k r_{t+k}``, the next observation and done flag are those of step
``t + m - 1``, and the batch's ``discounts`` is ``gamma^m``, where ``m <= n_steps`` stops at the
first end of episode (termination or truncation) and at the newest stored step, so a return
never runs into another episode or an overwritten slot. :func:`nstep_indices` computes it;
:class:`NStepDictReplayBuffer` is the uniform buffer with the same returns (the fair
counterpart of :class:`PrioritizedDictReplayBuffer` in a replay comparison). Every buffer here
also keeps ``last_step_rewards``: the one-step reward of each transition of the last batch (what
a "key experience" count reads; ``rewards`` holds the n-step return).

Sampling uses the buffer's own generator, ``numpy.random.default_rng(seed)`` with ``seed`` from
``replay_buffer_kwargs``, never the global ``np.random``. ``optimize_memory_usage=True`` is not
supported (it would make one slot per environment invalid to draw).

Examples:
    >>> import gymnasium as gym
    >>> from stable_baselines3 import DQN
    >>> from r1gym.replay.sb3_buffer import PrioritizedReplayBuffer
    >>> model = DQN("MlpPolicy", gym.make("CartPole-v1"), buffer_size=1_000, learning_starts=50,
    ...             replay_buffer_class=PrioritizedReplayBuffer,
    ...             replay_buffer_kwargs={"alpha": 0.6, "beta": 0.4, "seed": 0})
    >>> _ = model.learn(200)
    >>> model.replay_buffer.last_weights.shape
    (32,)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from numpy.typing import ArrayLike
from stable_baselines3.common.buffers import DictReplayBuffer, ReplayBuffer
from stable_baselines3.common.type_aliases import DictReplayBufferSamples, ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from r1gym.replay.prioritized import AnnealedBeta, check_beta, check_int
from r1gym.replay.sumtree import MinTree, SumTree, stratified_indices


def nstep_indices(
    rewards: np.ndarray,
    dones: np.ndarray,
    timeouts: np.ndarray,
    slots: np.ndarray,
    envs: np.ndarray,
    newest: int,
    n_steps: int,
    gamma: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The n-step returns of the transitions at ``(slots, envs)`` of a ring buffer.

    Args:
        rewards: the buffer's ``[buffer_size, n_envs]`` rewards.
        dones: the buffer's ``[buffer_size, n_envs]`` array, 1 at every end of episode.
        timeouts: the buffer's ``[buffer_size, n_envs]`` array, 1 where that end was a truncation.
        slots: the drawn transitions' slots.
        envs: the drawn transitions' environments.
        newest: the slot written last (``pos - 1``); a return stops there, since the step after it
            is not stored yet (or is the oldest, of another episode).
        n_steps: the most steps summed (>= 1).
        gamma: the discount factor.

    Returns:
        ``(returns, discounts, last_slots, final_dones)``, one per transition: the discounted sum of
        the ``m`` rewards, ``gamma ** m``, the slot of the ``m``-th step (whose next observation
        the target bootstraps from), and whether that step terminated (a truncation does not).
    """
    size = rewards.shape[0]
    k = np.arange(n_steps)
    idx = (slots[:, None] + k[None, :]) % size  # [batch, n_steps]
    e = envs[:, None]
    stop = (dones[idx, e] > 0) | (timeouts[idx, e] > 0) | (idx == newest % size)
    stop[:, -1] = True
    last = stop.argmax(axis=1)  # the first step that ends the return
    inside = k[None, :] <= last[:, None]
    returns = (rewards[idx, e] * (gamma**k)[None, :] * inside).sum(axis=1)
    last_slots = idx[np.arange(len(slots)), last]
    final_dones = dones[last_slots, envs] * (1 - timeouts[last_slots, envs])
    return returns.astype(np.float32), (gamma ** (last + 1)).astype(np.float32), last_slots, final_dones


def check_nstep(n_steps: int, gamma: float) -> tuple[int, float]:
    """Validate ``n_steps`` (an int >= 1) and ``gamma`` (in [0, 1])."""
    n = check_int("n_steps", n_steps, 1)
    if not (isinstance(gamma, (int, float, np.floating)) and 0.0 <= float(gamma) <= 1.0):
        raise ValueError(f"gamma must be a number in [0, 1], got {gamma!r}")
    return n, float(gamma)


class _NStepMixin:
    """n-step returns for a buffer whose sampler yields ``(slots, envs)``."""

    buffer_size: int
    pos: int
    full: bool
    #: class defaults, so that a buffer pickled before n-step returns existed loads as one-step
    n_steps: int = 1
    gamma: float = 0.99
    rewards: np.ndarray
    dones: np.ndarray
    timeouts: np.ndarray
    last_step_rewards: np.ndarray

    def _returns(
        self, slots: np.ndarray, envs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
        """(rewards, discounts or None for one step, next-observation slots, dones) of a batch."""
        self.last_step_rewards = self.rewards[slots, envs].astype(np.float32)
        if self.n_steps == 1:
            dones = self.dones[slots, envs] * (1 - self.timeouts[slots, envs])
            return self.rewards[slots, envs], None, slots, dones
        returns, discounts, last, dones = nstep_indices(
            self.rewards, self.dones, self.timeouts, slots, envs, self.pos - 1, self.n_steps, self.gamma
        )
        return returns, discounts, last, dones


class _PrioritizedMixin(_NStepMixin, AnnealedBeta):
    """Priorities, sampling and updates shared by the two buffers (flat index ``slot * n_envs + env``)."""

    buffer_size: int
    n_envs: int
    pos: int
    full: bool

    def _init_priorities(
        self,
        alpha: float,
        eps: float,
        beta: float,
        beta_final: float,
        beta_steps: int,
        seed: int | np.random.SeedSequence | None,
    ) -> None:
        if not (isinstance(alpha, (int, float, np.floating)) and math.isfinite(alpha) and alpha >= 0):
            raise ValueError(f"alpha must be a finite number >= 0 (0: uniform, 0.6: Schaul et al.), got {alpha!r}")
        if not (isinstance(eps, (int, float, np.floating)) and math.isfinite(eps) and eps > 0):
            raise ValueError(f"eps must be a finite number > 0 (it keeps zero-error transitions in play), got {eps!r}")
        self.alpha = float(alpha)
        self.eps = float(eps)
        self.beta_initial, self.beta_final, self.beta_steps = check_beta(beta, beta_final, beta_steps)
        self.rng = np.random.default_rng(seed)
        n = self.buffer_size * self.n_envs
        self._sum = SumTree(n)
        self._min = MinTree(n)
        #: the largest ``|delta| + eps`` seen so far; new transitions enter at this priority
        self.max_priority = 1.0
        #: flat indices (``slot * n_envs + env``) of the last batch drawn by :meth:`sample`
        self.last_indices = np.empty(0, dtype=np.int64)
        #: importance weights of the last batch, float32, in (0, 1]
        self.last_weights = np.empty(0, dtype=np.float32)
        #: the one-step rewards of the last batch (``rewards`` holds n-step returns when n_steps > 1)
        self.last_step_rewards = np.empty(0, dtype=np.float32)
        self._sample_calls = 0

    @staticmethod
    def _check_memory_option(optimize_memory_usage: bool) -> None:
        if optimize_memory_usage:
            raise ValueError(
                "prioritized buffers do not support optimize_memory_usage=True (it makes the slot after "
                "the write position invalid to draw); leave it False"
            )

    def add(self, *args: Any, **kwargs: Any) -> None:
        """Store one transition per environment (as SB3 does) at the maximum priority."""
        slot = self.pos
        super().add(*args, **kwargs)  # type: ignore[misc]
        flat = slot * self.n_envs + np.arange(self.n_envs)
        p = self.max_priority**self.alpha
        self._sum.update(flat, p)
        self._min.update(flat, p)

    def reset(self) -> None:
        super().reset()  # type: ignore[misc]
        if hasattr(self, "_sum"):
            self._sum.reset()
            self._min.reset()
            self.max_priority = 1.0

    def priorities(self) -> np.ndarray:
        """The current ``p_i`` of every stored transition, by flat index."""
        return self._sum.values()[: self.size() * self.n_envs]  # type: ignore[attr-defined]

    def _draw(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        batch_size = check_int("batch_size", batch_size, 1)
        if self.size() == 0:  # type: ignore[attr-defined]
            raise ValueError("sample from an empty replay buffer: add transitions first (learning_starts > 0)")
        beta = self.beta
        self._sample_calls += 1
        flat = stratified_indices(self._sum, batch_size, self.rng)
        p = self._sum.get(flat)
        weights = np.power(self._min.min() / p, beta) if beta > 0 else np.ones(batch_size)
        self.last_indices = flat
        self.last_weights = weights.astype(np.float32)
        return np.divmod(flat, self.n_envs)

    def update_priorities(self, indices: ArrayLike, priorities: ArrayLike | th.Tensor) -> None:
        """Set the priorities of the transitions at ``indices`` from their new TD errors.

        Args:
            indices: flat indices, as in ``last_indices`` after :meth:`sample`.
            priorities: one finite number per index, typically the TD errors of the batch
                (their absolute value is taken; a torch tensor is accepted). The stored
                priority is ``(|priority| + eps) ** alpha``. When an index repeats, its last
                value wins.

        Raises:
            IndexError: an index outside the buffer or a slot never written.
            ValueError: a different number of priorities than indices, or a NaN / infinite one.
        """
        if isinstance(priorities, th.Tensor):
            priorities = priorities.detach().cpu().numpy()
        idx = np.asarray(indices)
        if idx.size and (idx.dtype == np.bool_ or not np.issubdtype(idx.dtype, np.integer)):
            raise TypeError(f"indices must be integers (buffer.last_indices), got {idx.dtype}")
        idx = idx.astype(np.int64).reshape(-1)
        pr = np.asarray(priorities, dtype=np.float64).reshape(-1)
        if pr.size != idx.size:
            raise ValueError(f"got {idx.size} indices but {pr.size} priorities; pass one priority per index")
        if idx.size == 0:
            return
        written = self.size() * self.n_envs  # type: ignore[attr-defined]
        if idx.min() < 0 or idx.max() >= len(self._sum):
            raise IndexError(
                f"index out of range for a buffer of {len(self._sum)} transitions: {idx.min()}..{idx.max()}"
            )
        if idx.max() >= written:
            raise IndexError(
                f"index {idx.max()} was never written (the buffer holds {written} transitions); "
                "pass the indices of buffer.last_indices"
            )
        if not np.all(np.isfinite(pr)):
            raise ValueError(f"priorities must be finite, got {pr[~np.isfinite(pr)][0]!r}: check the TD errors")
        raw = np.abs(pr) + self.eps
        self.max_priority = max(self.max_priority, float(raw.max()))
        p = raw**self.alpha
        self._sum.update(idx, p)
        self._min.update(idx, p)


class PrioritizedReplayBuffer(_PrioritizedMixin, ReplayBuffer):
    """SB3 ``ReplayBuffer`` that draws transitions by priority (see the module docstring).

    Pass it to an off-policy algorithm as ``replay_buffer_class``, and its own arguments as
    ``replay_buffer_kwargs``; the others come from the algorithm.

    Args:
        buffer_size: transitions kept (divided among ``n_envs`` as in SB3).
        observation_space: set by the algorithm.
        action_space: set by the algorithm.
        device: set by the algorithm.
        n_envs: set by the algorithm.
        optimize_memory_usage: must stay False.
        handle_timeout_termination: as in SB3.
        alpha: priority exponent (>= 0; 0 is uniform).
        eps: added to ``|delta|`` (> 0).
        beta: importance-weight exponent at the first draw, in [0, 1].
        beta_final: the exponent after ``beta_steps`` draws, in [0, 1].
        beta_steps: the number of :meth:`sample` calls over which ``beta`` is annealed.
        seed: seed of the buffer's generator.
        n_steps: steps per return (1: one-step transitions; see the module docstring).
        gamma: the discount of the n-step returns (the algorithm's gamma).
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        alpha: float = 0.6,
        eps: float = 1e-6,
        beta: float = 0.4,
        beta_final: float = 1.0,
        beta_steps: int = 100_000,
        seed: int | np.random.SeedSequence | None = None,
        n_steps: int = 1,
        gamma: float = 0.99,
    ) -> None:
        self._check_memory_option(optimize_memory_usage)
        self.n_steps, self.gamma = check_nstep(n_steps, gamma)
        super().__init__(
            buffer_size,
            observation_space,
            action_space,
            device=device,
            n_envs=n_envs,
            optimize_memory_usage=False,
            handle_timeout_termination=handle_timeout_termination,
        )
        self._init_priorities(alpha, eps, beta, beta_final, beta_steps, seed)

    def sample(self, batch_size: int, env: VecNormalize | None = None) -> ReplayBufferSamples:
        """Draw a batch by priority; its indices and weights go to ``last_indices`` / ``last_weights``."""
        slots, envs = self._draw(batch_size)
        rewards, discounts, last, dones = self._returns(slots, envs)
        return ReplayBufferSamples(
            observations=self.to_torch(self._normalize_obs(self.observations[slots, envs, :], env)),
            actions=self.to_torch(self.actions[slots, envs, :]),
            next_observations=self.to_torch(self._normalize_obs(self.next_observations[last, envs, :], env)),
            dones=self.to_torch(dones.reshape(-1, 1)),
            rewards=self.to_torch(self._normalize_reward(rewards.reshape(-1, 1), env)),
            discounts=None if discounts is None else self.to_torch(discounts.reshape(-1, 1)),
        )


class PrioritizedDictReplayBuffer(_PrioritizedMixin, DictReplayBuffer):
    """SB3 ``DictReplayBuffer`` that draws transitions by priority, for ``MultiInputPolicy``.

    Same arguments as :class:`PrioritizedReplayBuffer`. Use it for ``Dict`` observation spaces
    such as r1gym's vector mode: ``DQN("MultiInputPolicy", gym.make("R1Math-v0"),
    replay_buffer_class=PrioritizedDictReplayBuffer)``.
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Dict,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        alpha: float = 0.6,
        eps: float = 1e-6,
        beta: float = 0.4,
        beta_final: float = 1.0,
        beta_steps: int = 100_000,
        seed: int | np.random.SeedSequence | None = None,
        n_steps: int = 1,
        gamma: float = 0.99,
    ) -> None:
        self._check_memory_option(optimize_memory_usage)
        self.n_steps, self.gamma = check_nstep(n_steps, gamma)
        if not isinstance(observation_space, spaces.Dict):
            raise TypeError(
                f"PrioritizedDictReplayBuffer needs a Dict observation space, got {type(observation_space).__name__}; "
                "use PrioritizedReplayBuffer"
            )
        super().__init__(
            buffer_size,
            observation_space,
            action_space,
            device=device,
            n_envs=n_envs,
            optimize_memory_usage=False,
            handle_timeout_termination=handle_timeout_termination,
        )
        self._init_priorities(alpha, eps, beta, beta_final, beta_steps, seed)

    def sample(  # type: ignore[override]
        self, batch_size: int, env: VecNormalize | None = None
    ) -> DictReplayBufferSamples:
        """Draw a batch by priority; its indices and weights go to ``last_indices`` / ``last_weights``."""
        slots, envs = self._draw(batch_size)
        return dict_samples(self, slots, envs, env)


def dict_samples(buffer: Any, slots: np.ndarray, envs: np.ndarray, env: VecNormalize | None) -> DictReplayBufferSamples:
    """The batch at ``(slots, envs)`` of a Dict buffer with :class:`_NStepMixin`."""
    rewards, discounts, last, dones = buffer._returns(slots, envs)
    obs = buffer._normalize_obs({k: v[slots, envs] for k, v in buffer.observations.items()}, env)
    next_obs = buffer._normalize_obs({k: v[last, envs] for k, v in buffer.next_observations.items()}, env)
    return DictReplayBufferSamples(
        observations={k: buffer.to_torch(v) for k, v in obs.items()},
        actions=buffer.to_torch(buffer.actions[slots, envs]),
        next_observations={k: buffer.to_torch(v) for k, v in next_obs.items()},
        dones=buffer.to_torch(dones).reshape(-1, 1),
        rewards=buffer.to_torch(buffer._normalize_reward(rewards.reshape(-1, 1), env)),
        discounts=None if discounts is None else buffer.to_torch(discounts.reshape(-1, 1)),
    )


class NStepDictReplayBuffer(_NStepMixin, DictReplayBuffer):
    """SB3's uniform ``DictReplayBuffer`` with n-step returns (``n_steps``, ``gamma``).

    It draws as ``DictReplayBuffer`` does (a uniform slot, a uniform environment copy, from the
    global ``np.random`` as SB3 does) and returns what :class:`PrioritizedDictReplayBuffer` returns
    for the same transitions, so a comparison of the two differs in the sampling only. With
    ``n_steps=1`` its batches are ``DictReplayBuffer``'s. Each batch's one-step rewards are in
    ``last_step_rewards``.
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Dict,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        n_steps: int = 1,
        gamma: float = 0.99,
    ) -> None:
        if optimize_memory_usage:
            raise ValueError("NStepDictReplayBuffer does not support optimize_memory_usage=True; leave it False")
        self.n_steps, self.gamma = check_nstep(n_steps, gamma)
        super().__init__(
            buffer_size,
            observation_space,
            action_space,
            device=device,
            n_envs=n_envs,
            optimize_memory_usage=False,
            handle_timeout_termination=handle_timeout_termination,
        )
        self.last_step_rewards = np.empty(0, dtype=np.float32)

    def _get_samples(  # type: ignore[override]
        self, batch_inds: np.ndarray, env: VecNormalize | None = None
    ) -> DictReplayBufferSamples:
        envs = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))
        return dict_samples(self, batch_inds, envs, env)


__all__ = ["NStepDictReplayBuffer", "PrioritizedDictReplayBuffer", "PrioritizedReplayBuffer", "nstep_indices"]
