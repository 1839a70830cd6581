"""Wrappers and helpers around the environments."""

from r1gym.wrappers.curriculum import DEFAULT_STAGES, Curriculum, CurriculumLoop, CurriculumWrapper
from r1gym.wrappers.record import Trajectory, TrajectoryRecorder
from r1gym.wrappers.reward_schedule import R1_SCHEDULE, RewardScheduleWrapper, piecewise_linear
from r1gym.wrappers.text_prompt import DEFAULT_INSTRUCTION, format_prompt

__all__ = [
    "DEFAULT_INSTRUCTION",
    "DEFAULT_STAGES",
    "R1_SCHEDULE",
    "Curriculum",
    "CurriculumLoop",
    "CurriculumWrapper",
    "RewardScheduleWrapper",
    "Trajectory",
    "TrajectoryRecorder",
    "format_prompt",
    "piecewise_linear",
]
