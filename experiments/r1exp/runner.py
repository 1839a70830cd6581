"""The local runner: the jobs as subprocesses, ``parallel`` at a time, with a progress bar.

The interface is one function, a list of jobs in and the finished ones out
(:func:`run_jobs`); nothing else of ``r1exp`` depends on how the jobs are run, so a runner
for a cluster (Ray, a batch queue) replaces this module without touching the experiments.

A job that is done already (its ``done`` file exists) is not started. A job's output goes to
its ``log`` file, appended, so the log of a run interrupted and resumed keeps both parts. Ctrl-C
sends SIGINT to the running jobs (the training scripts save a checkpoint on it), waits for them
and re-raises ``KeyboardInterrupt``: running the same jobs again resumes them.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from typing import IO

from .job import Job

#: how long a job gets to save its checkpoint after Ctrl-C before it is killed
INTERRUPT_GRACE_S = 60


def run_jobs(jobs: Sequence[Job], parallel: int, env: Mapping[str, str]) -> list[Job]:
    """Run the jobs that are not done, ``parallel`` at a time; returns the jobs that are done.

    Every job runs in its ``out`` folder (created) with the environment ``env``. A job is done
    when it exited with status 0 and its ``done`` file exists; the jobs missing from the result
    failed, and each failure is printed with its log's path as it happens. The result keeps the
    order of ``jobs`` and includes those that were done before the call.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if parallel < 1:
        raise ValueError(f"run_jobs: parallel must be >= 1, got {parallel}")
    todo = [j for j in jobs if not j.is_done()]
    failed: set[str] = set()
    running: list[tuple[Job, subprocess.Popen, IO[str]]] = []
    with Progress(
        TextColumn("[bold]experiments"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}"),
    ) as bar:  # fmt: skip
        task = bar.add_task("", total=len(jobs), completed=len(jobs) - len(todo))
        try:
            while todo or running:
                while todo and len(running) < parallel:
                    job = todo.pop(0)
                    job.out.mkdir(parents=True, exist_ok=True)
                    log = job.log.open("a")
                    log.write(f"$ {shlex.join(job.cmd)}\n")
                    log.flush()
                    proc = subprocess.Popen(job.cmd, stdout=log, stderr=subprocess.STDOUT, env=dict(env), cwd=job.out)
                    running.append((job, proc, log))
                bar.update(task, description=", ".join(j.name for j, _, _ in running))
                time.sleep(0.2)
                for item in list(running):
                    job, proc, log = item
                    if proc.poll() is None:
                        continue
                    running.remove(item)
                    log.close()
                    if proc.returncode != 0 or not job.is_done():
                        failed.add(job.name)
                        bar.console.print(f"[red]failed[/red] {job.name} (exit {proc.returncode}): see {job.log}")
                    bar.advance(task)
        except KeyboardInterrupt:
            for _, proc, _ in running:
                proc.send_signal(signal.SIGINT)
            for _, proc, log in running:
                try:
                    proc.wait(timeout=INTERRUPT_GRACE_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                log.close()
            raise
    return [j for j in jobs if j.name not in failed and j.is_done()]
