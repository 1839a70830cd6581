"""Problem sources: procedural generators and problem lists.

Each task is registered in :data:`r1gym.core.protocols.TASKS` under the name ``gym.make(...,
task=NAME)`` takes; ``make_task(name, **kwargs)`` builds one. The heavier domains (physics with
sympy's units, code with HumanEval and the sandbox, GSM8K) load on first use, and are also the
providers of the operations, verifiers and distractor families their problems name, so a problem
unpickled in a fresh process finds them.
"""

from __future__ import annotations

from r1gym.core.ops import OPS
from r1gym.core.protocols import TASKS, TEXT_DISTRACTORS, Task, make_task
from r1gym.core.verify import SIMILARITIES, VERIFIERS
from r1gym.tasks.algebra import AlgebraTask
from r1gym.tasks.arithmetic import ArithmeticTask
from r1gym.tasks.user import UserProblemTask
from r1gym.tasks.word_problems import WordProblemTask

TASKS.register("arithmetic", ArithmeticTask)
TASKS.register("algebra", AlgebraTask)
TASKS.register("word", WordProblemTask)
TASKS.register("user", UserProblemTask)
TASKS.register_lazy("physics", "r1gym.tasks.physics:PhysicsTask")
TASKS.register_lazy("code", "r1gym.tasks.code:HumanEvalTask")
TASKS.register_lazy("gsm8k", "r1gym.tasks.gsm8k:GSM8KTask")
# reasoning-gym's families (the optional extra "open"): "reasoning_gym:<family>" is built by the
# factory; reasoning-gym itself loads on the first problem, never at import.
TASKS.register_lazy("reasoning_gym", "r1gym.tasks.reasoning_gym:ReasoningGymTask")
TASKS.register_factory("reasoning_gym", "r1gym.tasks.reasoning_gym:task_from_name")

# What the lazily loaded domains register when their package is imported, each in the module of
# its concern: physics its operations (sq, sqrt, ...: physics/ops.py), the "units" verifier and
# similarity (physics/units.py); code the "code" verifier (code/verifier.py) and distractor family
# (code/distractors.py). GSM8K registers one operation per expression shape as its problems need
# it; the factory below builds one from its name alone (gsm8k/expressions.py).
for _registry, _modules in (
    (OPS, ("r1gym.tasks.physics",)),
    (VERIFIERS, ("r1gym.tasks.physics", "r1gym.tasks.code", "r1gym.tasks.reasoning_gym")),
    (SIMILARITIES, ("r1gym.tasks.physics", "r1gym.tasks.reasoning_gym")),
    (TEXT_DISTRACTORS, ("r1gym.tasks.code",)),
):
    for _module in _modules:
        _registry.register_provider(_module)
OPS.register_factory("gsm8k", "r1gym.tasks.gsm8k:op_from_name")


def task_class(name: str) -> type[Task]:
    """The class registered under ``name`` (importing its module if needed)."""
    return TASKS.resolve(name)


__all__ = [
    "AlgebraTask",
    "ArithmeticTask",
    "Task",
    "UserProblemTask",
    "WordProblemTask",
    "make_task",
    "task_class",
]
