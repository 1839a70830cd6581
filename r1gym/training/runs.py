"""The run folder (``--out``): its ``args.json``, the check that a resumed run is the same run,
and JSON written whole and strict.

Every script writes the arguments it ran with to ``<out>/args.json``. Running the same command
again on the same ``--out`` resumes from the newest checkpoint in ``<out>/checkpoints/``; a
resumed run must have the arguments it started with, except those its ``Args.RESUMABLE`` lists
(the budget, checkpointing, evaluation, display): anything else would train another run on top
of this one's checkpoint. :func:`r1gym.training.args.parse_args` checks that before the run starts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from r1gym.evaluation import json_safe

__all__ = ["check_same_arguments", "holds_checkpoints", "start_run", "write_json"]


def start_run(args: Any) -> Path:
    """Create the folder ``args.out`` (``args``: a parsed ``Args`` dataclass) and write its
    ``args.json``. Returns the folder."""
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "args.json", asdict(args))
    return folder


def holds_checkpoints(folder: Path) -> bool:
    """Whether ``folder/checkpoints/`` holds anything: running on this folder resumes a run."""
    checkpoints = folder / "checkpoints"
    return checkpoints.is_dir() and any(checkpoints.iterdir())


def check_same_arguments(folder: Path, now: Mapping[str, Any], resumable: frozenset[str]) -> None:
    """Refuse to resume the run in ``folder`` (its ``args.json``) with other arguments than it
    started with, except those in ``resumable``; naming each one that differs."""
    path = folder / "args.json"
    if not path.exists():
        return
    before = json.loads(path.read_text())
    changed = {k: (before.get(k), v) for k, v in now.items() if k not in resumable and before.get(k) != v}
    if changed:
        diff = "; ".join(f"--{k.replace('_', '-')} was {a!r}, now {b!r}" for k, (a, b) in sorted(changed.items()))
        raise ValueError(
            f"{folder} holds a run started with other arguments ({diff}). Resume with the same "
            "arguments (only the budget, checkpointing, evaluation and display may change), or pass a new --out"
        )


def write_json(path: Path, value: Any) -> Path:
    """Write ``value`` as indented JSON that strict parsers accept (NaN and infinities as
    ``null``, tuples as lists), whole or not at all (a temporary file, then a rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(json_safe(value), indent=2, allow_nan=False) + "\n")
    os.replace(tmp, path)
    return path
