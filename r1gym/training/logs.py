"""Logs and a progress bar for a hand-written training loop (the SB3 runs use SB3's logger).

:class:`ProgressLog` appends rows of scalars to CSV files of the run folder, one file per kind of
row, and to TensorBoard under ``tb/`` when it is installed; :func:`progress_bar` is a rich bar
with the elapsed and remaining time and a free-text field for the latest figures.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

__all__ = ["ProgressLog", "progress_bar"]


class ProgressLog:
    """``<folder>/<name>.csv`` files, one row per call of :meth:`write` (appended across resumes:
    rows replayed after a crash appear again), and TensorBoard under ``<folder>/tb/``.

    Args:
        folder: the run folder.
        enabled: False on all ranks but the main one: they write nothing.
    """

    def __init__(self, folder: Path, enabled: bool = True) -> None:
        self.folder, self.enabled = folder, enabled
        self.tb = None
        if enabled:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(str(folder / "tb"))
            except ImportError:
                print(f"tensorboard is not installed: logging to {folder}/*.csv only")

    def write(self, step: int, row: dict[str, float], name: str = "progress.csv") -> None:
        """Append ``row`` at ``step`` (its first column, ``iteration``) to ``name``; one file per
        kind of row, so that its columns never change."""
        if not self.enabled:
            return
        row = {"iteration": step, **row}
        path = self.folder / name
        new = not path.exists()
        with path.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(row))
            if new:
                w.writeheader()
            w.writerow(row)
        if self.tb is not None:
            for key, value in row.items():
                if key != "iteration":
                    self.tb.add_scalar(key, value, step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


def progress_bar(enabled: bool, total: int, done: int, description: str) -> tuple[Any, Any]:
    """A rich progress bar (and its task) at ``done`` of ``total``; use it as a context manager
    and ``bar.update(task, advance=1, stats="...")``. Disabled, it shows nothing."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[stats]}"),
        disable=not enabled,
    )
    task = bar.add_task(description, total=total, completed=done, stats="")
    return bar, task
