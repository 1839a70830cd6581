"""Wrappers and helpers around the environments."""

from r1gym.wrappers.text_prompt import DEFAULT_INSTRUCTION, format_prompt

__all__ = ["DEFAULT_INSTRUCTION", "format_prompt"]
