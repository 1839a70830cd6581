"""Record whole episodes into a prioritized replay, prioritized by their return."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import gymnasium as gym
import numpy as np

from r1gym.replay.prioritized import PrioritizedReplay

ObsType = TypeVar("ObsType")
ActType = TypeVar("ActType")


@dataclass
class Trajectory:
    """One finished episode.

    Attributes:
        observations: ``T + 1`` observations: the one from ``reset`` and one after each step.
        actions: the ``T`` actions taken.
        rewards: the ``T`` rewards received.
        return_: the undiscounted sum of ``rewards``.
        terminated: whether the episode ended by termination (r1gym: a submit).
        truncated: whether it was cut short (r1gym: the step limit).
        final_info: the ``info`` of the last step (r1gym: ``answer``, ``is_correct``, ...).
    """

    observations: list[Any] = field(default_factory=list)
    actions: list[Any] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    return_: float = 0.0
    terminated: bool = False
    truncated: bool = False
    final_info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.actions)


def clipped_return(trajectory: Trajectory) -> float:
    """The default replay reward of an episode: ``max(return, 0.0)``."""
    return max(trajectory.return_, 0.0)


def _copy(obs: Any) -> Any:
    """A copy of an observation that the env cannot change afterwards (arrays, dicts, tuples)."""
    if isinstance(obs, np.ndarray):
        return obs.copy()
    if isinstance(obs, dict):
        return {k: _copy(v) for k, v in obs.items()}
    if isinstance(obs, (tuple, list)):
        return type(obs)(_copy(v) for v in obs)
    return obs


class TrajectoryRecorder(gym.Wrapper[ObsType, ActType, ObsType, ActType], Generic[ObsType, ActType]):
    """Adds every finished episode of the wrapped env to a :class:`PrioritizedReplay`.

    Each step is recorded; when an episode ends (terminated or truncated), its
    :class:`Trajectory` is added to ``replay`` with the reward ``reward_fn(trajectory)``, by
    default ``max(return, 0.0)``. The clip matters: :class:`PrioritizedReplay` rejects rewards
    below ``-eps``, and an r1gym return is negative when the masked actions' penalties (0.05
    each) exceed what the submit paid. Clipping treats every such episode like one that earned
    nothing; to keep their order instead, pass a shift such as
    ``reward_fn=lambda t: t.return_ + 2.0`` (40 masked actions at 0.05 are the worst r1gym return
    under the default step limit).

    An episode cut off by a ``reset()`` before it ended is not recorded. Observations are
    copied (arrays, dicts, tuples and lists of them), so later steps cannot change a stored
    trajectory. Works with any env; nothing r1gym-specific is read.

    Args:
        env: the environment to record.
        replay: where finished episodes go.
        reward_fn: maps a finished trajectory to its replay reward (must be ``>= -replay.eps``).
        copy_obs: copy each observation before storing it (turn off for immutable observations).

    Attributes:
        last_trajectory: the latest finished episode (None before the first one).
        last_index: its slot in ``replay``.
        episodes_recorded: how many episodes were added.

    Examples:
        >>> import gymnasium as gym, numpy as np, r1gym
        >>> from r1gym.replay import PrioritizedReplay
        >>> replay = PrioritizedReplay(capacity=1000)
        >>> env = TrajectoryRecorder(gym.make("R1Arith-v0", reveal=True), replay)
        >>> obs, info = env.reset(seed=0)
        >>> done = False
        >>> while not done:
        ...     obs, r, term, trunc, info = env.step(info["oracle_action"])
        ...     done = term or trunc
        >>> len(replay), bool(env.last_trajectory.return_ == replay.rewards[0] > 0.5)
        (1, True)
    """

    def __init__(
        self,
        env: gym.Env[ObsType, ActType],
        replay: PrioritizedReplay,
        reward_fn: Callable[[Trajectory], float] = clipped_return,
        copy_obs: bool = True,
    ) -> None:
        if not isinstance(replay, PrioritizedReplay):
            raise TypeError(f"replay must be an r1gym.replay.PrioritizedReplay, got {type(replay).__name__}")
        if not callable(reward_fn):
            raise TypeError(f"reward_fn must be callable (Trajectory -> float), got {reward_fn!r}")
        super().__init__(env)
        self.replay = replay
        self.reward_fn = reward_fn
        self.copy_obs = copy_obs
        self.last_trajectory: Trajectory | None = None
        self.last_index: int | None = None
        self.episodes_recorded = 0
        self._current: Trajectory | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[ObsType, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        self._current = Trajectory(observations=[_copy(obs) if self.copy_obs else obs])
        return obs, info

    def step(self, action: ActType) -> tuple[ObsType, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        traj = self._current
        if traj is not None:
            traj.observations.append(_copy(obs) if self.copy_obs else obs)
            traj.actions.append(action)
            traj.rewards.append(float(reward))
            traj.return_ += float(reward)
            if terminated or truncated:
                traj.terminated, traj.truncated, traj.final_info = bool(terminated), bool(truncated), dict(info)
                self.last_index = self.replay.add(traj, float(self.reward_fn(traj)))
                self.last_trajectory = traj
                self.episodes_recorded += 1
                self._current = None
        return obs, reward, terminated, truncated, info
