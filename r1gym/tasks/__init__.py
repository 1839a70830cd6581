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

TASKS: dict[str, type[Task]] = {
    "arithmetic": ArithmeticTask,
    "algebra": AlgebraTask,
    "word": WordProblemTask,
    "user": UserProblemTask,
}


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
        return TASKS[name](**kwargs)
    except TypeError as e:
        raise TypeError(f"task {name!r}: {e}") from None


__all__ = ["TASKS", "AlgebraTask", "ArithmeticTask", "Task", "UserProblemTask", "WordProblemTask", "make_task"]
