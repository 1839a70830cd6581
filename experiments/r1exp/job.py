"""What a runner runs: one command, the folder it works in, and the file that says it is done.

The experiments describe their work as :class:`Job` objects and never start a process
themselves; a runner (:mod:`r1exp.runner`: each job a Ray task, on a local Ray or a cluster)
takes a list of jobs and hands back the finished ones, so it can be swapped for another without
touching the experiments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Job:
    """One command: a training run (done when its ``eval.json`` exists) or a baseline evaluation.

    ``name`` is unique in a plan and names the run folder ``out`` (the command runs there); a
    job whose ``done`` file exists is not run again, which is how a second call skips finished
    runs and how runs shared between experiments are trained once. ``meta`` is for the reports
    (arm, seed, script, environment); runners ignore it.
    """

    name: str
    cmd: list[str]
    out: Path
    done: Path
    meta: dict[str, Any] = field(default_factory=dict)

    def is_done(self) -> bool:
        return self.done.exists()

    @property
    def log(self) -> Path:
        """Where a runner writes the command's output (stdout and stderr)."""
        return self.out / "log.txt"
