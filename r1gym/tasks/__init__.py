"""Problem sources: procedural generators and problem lists.

``make_task(name, **kwargs)`` builds one by name; the names are the keys of :data:`TASKS`.
"""

from __future__ import annotations

import difflib
from typing import Any

from r1gym.tasks.algebra import AlgebraTask
from r1gym.tasks.arithmetic import ArithmeticTask
from r1gym.tasks.base import Task
from r1gym.tasks.user import UserProblemTask
from r1gym.tasks.word_problems import WordProblemTask

#: Task names -> classes, or "module:Class" paths imported on first use (heavier domains).
TASKS: dict[str, type[Task] | str] = {
    "arithmetic": ArithmeticTask,
    "algebra": AlgebraTask,
    "word": WordProblemTask,
    "user": UserProblemTask,
    "physics": "r1gym.tasks.physics:PhysicsTask",
    "code": "r1gym.tasks.code:HumanEvalTask",
    "gsm8k": "r1gym.tasks.gsm8k:GSM8KTask",
}


def task_class(name: str) -> type[Task]:
    """The class registered under ``name`` (importing its module if needed)."""
    cls = TASKS[name]
    if isinstance(cls, str):
        import importlib

        module, _, attr = cls.partition(":")
        cls = TASKS[name] = getattr(importlib.import_module(module), attr)
    return cls


def make_task(name: str | Task, **kwargs: Any) -> Task:
    """A task from its name and keyword arguments, or a :class:`Task` instance returned as is."""
    if isinstance(name, Task):
        if kwargs:
            raise TypeError("task_kwargs cannot be combined with a Task instance")
        return name
    if name not in TASKS:
        hint = difflib.get_close_matches(str(name), TASKS, n=1)
        did = f" Did you mean {hint[0]!r}?" if hint else ""
        raise ValueError(f"unknown task {name!r}.{did} Valid: {sorted(TASKS)}")
    try:
        return task_class(name)(**kwargs)
    except TypeError as e:
        raise TypeError(f"task {name!r}: {e}") from None


__all__ = [
    "TASKS",
    "AlgebraTask",
    "ArithmeticTask",
    "Task",
    "UserProblemTask",
    "WordProblemTask",
    "make_task",
    "task_class",
]
