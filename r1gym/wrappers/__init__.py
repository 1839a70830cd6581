"""Wrappers and helpers around the environments."""

from r1gym.wrappers.record import Trajectory, TrajectoryRecorder
from r1gym.wrappers.text_prompt import DEFAULT_INSTRUCTION, format_prompt

__all__ = ["DEFAULT_INSTRUCTION", "Trajectory", "TrajectoryRecorder", "format_prompt"]
