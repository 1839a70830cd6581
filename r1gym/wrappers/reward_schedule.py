"""Move the reward weights over training, as the R1 report advises."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym

from r1gym.core.reward import check_weights

Weights = tuple[float, float, float]

#: The report's advice: accuracy above 0.7 early, more efficiency later; here 0.8 : 0.1 : 0.1
#: at the start, moving linearly to the default 0.6 : 0.3 : 0.1.
R1_SCHEDULE: tuple[tuple[int, Weights], ...] = ((0, (0.8, 0.1, 0.1)), (10_000, (0.6, 0.3, 0.1)))


def piecewise_linear(points: Sequence[tuple[int, Sequence[float]]]) -> Callable[[int], Weights]:
    """Weights interpolated linearly between ``(episode, weights)`` breakpoints, held at the ends."""
    pts = sorted((int(e), check_weights(w)) for e, w in points)
    if not pts:
        raise ValueError("a schedule needs at least one (episode, weights) point")
    if len({e for e, _ in pts}) != len(pts):
        raise ValueError(f"schedule points must have distinct episodes, got {[e for e, _ in pts]}")

    def schedule(episode: int) -> Weights:
        if episode <= pts[0][0]:
            return pts[0][1]
        for (e0, w0), (e1, w1) in zip(pts, pts[1:]):
            if episode <= e1:
                t = (episode - e0) / (e1 - e0)
                return tuple(a + t * (b - a) for a, b in zip(w0, w1))  # type: ignore[return-value]
        return pts[-1][1]

    return schedule


class RewardScheduleWrapper(gym.Wrapper):
    """Set the environment's reward weights from a schedule over episodes.

    At every reset the wrapper asks ``schedule(episode)`` (episode counting from 0, per
    environment copy) for ``(alpha, beta, gamma)`` and gives them to the environment; the weights
    in force are in ``info["reward_weights"]``.

    Args:
        env: an r1gym environment.
        schedule: ``"r1"`` (:data:`R1_SCHEDULE`), a list of ``(episode, weights)`` breakpoints
            (linear in between), or a callable ``episode -> weights``.
        start_episode: where the count starts (to resume a run).

    Examples:
        >>> import gymnasium as gym, r1gym
        >>> env = RewardScheduleWrapper(gym.make("R1Arith-v0"), [(0, (0.8, 0.1, 0.1)), (100, (0.6, 0.3, 0.1))])
        >>> [round(w, 2) for w in env.reset(seed=0)[1]["reward_weights"]]
        [0.8, 0.1, 0.1]
    """

    def __init__(
        self,
        env: gym.Env,
        schedule: str | Sequence[tuple[int, Sequence[float]]] | Callable[[int], Sequence[float]] = "r1",
        start_episode: int = 0,
    ) -> None:
        super().__init__(env)
        if not hasattr(env.unwrapped, "reward_weights"):
            raise TypeError("RewardScheduleWrapper wraps an r1gym environment (one with reward_weights)")
        if isinstance(schedule, str):
            if schedule != "r1":
                raise ValueError(
                    f"unknown schedule {schedule!r}; valid: 'r1', a list of (episode, weights), a callable"
                )
            self.schedule = piecewise_linear(R1_SCHEDULE)
        elif callable(schedule):
            self.schedule = schedule  # type: ignore[assignment]
        else:
            self.schedule = piecewise_linear(schedule)
        self.episode = int(start_episode)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        weights = check_weights(self.schedule(self.episode))
        self.env.unwrapped.reward_weights = weights
        self.episode += 1
        obs, info = self.env.reset(seed=seed, options=options)
        info["reward_weights"] = weights
        return obs, info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["reward_weights"] = self.env.unwrapped.reward_weights
        return obs, reward, terminated, truncated, info
