"""The runner: every job a Ray task, on a local Ray or on a cluster, with a progress bar.

The interface is one function, a list of jobs in and the finished ones out
(:func:`run_jobs`); nothing else of ``r1exp`` depends on how the jobs are run.

Without ``address`` the runner starts a local Ray with ``parallel`` CPUs and stops it when the
jobs are done; with one (``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``) it connects to that
cluster, started with Ray's own tooling. Each job is a task of one CPU that runs the job's
command as a subprocess in the job's ``out`` folder, its output appended to its ``log`` file
(so the log of a run interrupted and resumed keeps both parts). A job that is done already (its
``done`` file exists) is not submitted; when every job is done, Ray is not started at all.

On a cluster the run folders must be on a filesystem that every node mounts at the same path
(and so must the checkout whose ``agents/`` scripts the commands run): a run's checkpoints must outlive
the node it ran on, so that a retried or resumed run continues from them on any node, and the
driver reads the results where the nodes wrote them. A task refuses to run where the driver's
folder is not (it looks for a marker file the driver writes there). A command whose first word
is the driver's Python runs with the node's (the one that runs the Ray worker).

Ctrl-C cancels the tasks: a running one sends SIGINT to its command (the training scripts save a
checkpoint on it) and waits for it to exit; the runner waits for them and re-raises
``KeyboardInterrupt``, and running the same jobs again resumes them. A command also gets SIGINT
when the Ray worker running it dies (killed, out of memory), and holds a lock on its folder until
it exits, so that Ray's retry of the task waits for it instead of writing beside it. (When the
driver is killed, Ray ends its tasks and their commands: the runs resume from their last
periodic checkpoint.)
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import socket
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .job import Job

#: how long a job gets to save its checkpoint after Ctrl-C before it is killed
INTERRUPT_GRACE_S = 60
#: the one sentence for a missing Ray
INSTALL = "the experiments run on Ray, which is not installed: pip install 'r1gym[experiments]'"


class RunnerError(RuntimeError):
    """A mistake the user can fix (Ray missing, no cluster at the address), in one sentence;
    raised before any job starts."""


def add_runner_arguments(parser: argparse.ArgumentParser) -> None:
    """``--jobs`` and ``--address``, the runner's options, as every experiment script takes them."""
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="runs at a time, each on one CPU core (default: 2 on a local Ray, as many as the CPUs of a cluster)",
    )
    parser.add_argument(
        "--address",
        default=os.environ.get("RAY_ADDRESS") or None,
        help="a Ray cluster to run on (auto, HOST:PORT, ray://HOST:PORT; --runs on a filesystem every node shares); "
        "default $RAY_ADDRESS (set in a Ray job), else a local Ray of its own, stopped at the end",
    )


def parallel_of(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int | None:
    """The runs at a time that ``--jobs`` and ``--address`` ask for (``--jobs`` checked): 2 on a
    local Ray by default, None (the cluster's CPUs) on a cluster."""
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    return args.jobs if args.jobs or args.address else 2


def run_jobs(
    jobs: Sequence[Job], parallel: int | None, env: Mapping[str, str], address: str | None = None
) -> list[Job]:
    """Run the jobs that are not done as Ray tasks; returns the jobs that are done.

    ``parallel`` bounds the runs at a time: on a local Ray it is also the CPUs Ray gets (None:
    all of them); on a cluster (``address``) None leaves it to the cluster's CPUs. Every job runs
    in its ``out`` folder (created) with the environment ``env`` (on a cluster: the node's
    environment with the variables of ``env`` that differ from the driver's). A job is done when
    it exited with status 0 and its ``done`` file exists; the jobs missing from the result
    failed, and each failure is printed with its log's path as it happens. The result keeps the
    order of ``jobs`` and includes those that were done before the call.
    """
    if parallel is not None and parallel < 1:
        raise ValueError(f"run_jobs: parallel must be >= 1, got {parallel}")
    todo = [j for j in jobs if not j.is_done()]
    failed: set[str] = set()
    if todo:
        with _ray(parallel, address) as ray, _markers({j.out.parent for j in todo}) as marker:
            if address is None:
                overrides = dict(env)
            else:  # the driver's PATH, HOME or virtualenv mean nothing on another machine
                overrides = {k: v for k, v in env.items() if os.environ.get(k) != v}
            task = ray.remote(num_cpus=1)(_execute)
            failed = _submit(ray, task, jobs, todo, parallel, overrides, address is None, marker)
    return [j for j in jobs if j.name not in failed and j.is_done()]


def _submit(
    ray: Any,
    task: Any,
    jobs: Sequence[Job],
    todo: list[Job],
    parallel: int | None,
    env: dict[str, str],
    whole_env: bool,
    marker: str,
) -> set[str]:
    """Submit ``todo`` (at most ``parallel`` in flight) and follow them; the names of those that failed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    waiting = list(todo)
    flying: dict[Any, Job] = {}
    failed: set[str] = set()
    with Progress(
        TextColumn("[bold]experiments"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}"),
    ) as bar:  # fmt: skip
        row = bar.add_task("", total=len(jobs), completed=len(jobs) - len(todo))
        try:
            while waiting or flying:
                while waiting and (parallel is None or len(flying) < parallel):
                    job = waiting.pop(0)
                    ref = task.remote(
                        job.cmd, str(job.out), str(job.log), env, whole_env, sys.executable, marker, INTERRUPT_GRACE_S
                    )
                    flying[ref] = job
                names = [j.name for j in flying.values()]
                bar.update(row, description=", ".join(names) if len(names) <= 3 else f"{len(names)} runs in flight")
                ready, _ = ray.wait(list(flying), num_returns=1, timeout=0.5)
                for ref in ready:
                    job = flying.pop(ref)
                    try:
                        code = ray.get(ref)
                        why = f"exit {code}"
                    except ray.exceptions.RayError as error:
                        code, why = None, _first_line(error)
                    if code != 0 or not job.is_done():
                        failed.add(job.name)
                        bar.console.print(f"[red]failed[/red] {job.name} ({why}): see {job.log}", highlight=False)
                    bar.advance(row)
        except KeyboardInterrupt:
            bar.update(row, description="interrupted: the runs save their checkpoints")
            for ref in flying:
                ray.cancel(ref)  # a running task gets KeyboardInterrupt and sends SIGINT to its command
            ray.wait(list(flying), num_returns=len(flying), timeout=INTERRUPT_GRACE_S + 10)
            raise
    return failed


def _first_line(error: BaseException) -> str:
    """The message of a task's error without Ray's traceback: its cause's last line."""
    cause = getattr(error, "cause", None) or error
    lines = [line for line in str(cause).strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(cause).__name__


@contextmanager
def _ray(parallel: int | None, address: str | None) -> Iterator[Any]:
    """Ray, started (locally, with ``parallel`` CPUs) or connected to ``address``; shut down after."""
    try:
        import ray
    except ImportError:
        raise RunnerError(INSTALL) from None
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    # Ray's default for a local cluster is token authentication, with a warning at every start that it is
    token_warning = logging.getLogger("ray._private.authentication.authentication_token_setup")
    level = token_warning.level
    try:
        if address is None:
            token_warning.setLevel(logging.ERROR)
            # "local": a Ray of its own, even where `ray start` runs one this machine belongs to
            try:
                ray.init(address="local", num_cpus=parallel, num_gpus=0, object_store_memory=100 * 2**20, **quiet)
            except Exception as error:  # a port taken, /tmp full: Ray's reason, without its traceback
                raise RunnerError(f"could not start a local Ray ({_first_line(error)})") from None
        else:
            _reachable(address)
            try:
                ray.init(address=address, **{k: v for k, v in quiet.items() if k != "include_dashboard"})
            except (ConnectionError, ValueError, RuntimeError) as error:
                # Ray sends its token to an explicit address only when told to
                token = address != "auto" and os.environ.get("RAY_AUTH_MODE") != "token"
                raise RunnerError(
                    f"--address {address}: could not connect to a Ray cluster there ({_first_line(error)})"
                    + ("; if the cluster uses token authentication, set RAY_AUTH_MODE=token" if token else "")
                ) from None
        # the tasks run _execute, a function of this module, which the workers cannot import
        import ray.cloudpickle

        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
        yield ray
    finally:
        ray.shutdown()
        token_warning.setLevel(level)


def _reachable(address: str) -> None:
    """Refuse at once a ``HOST:PORT`` (or ``ray://HOST:PORT``) that nothing answers at, which
    ``ray.init`` would retry for minutes; ``auto`` is the address of the cluster this machine
    last started or joined (which may be gone) or none, which Ray reports at once."""
    target = address
    if address == "auto":
        from ray._private.services import canonicalize_bootstrap_address

        target = canonicalize_bootstrap_address("auto") or ""
    host, sep, port = target.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as error:
        what = (
            "nothing answers there"
            if target == address
            else f"the cluster this machine last started or joined, at {target}, does not answer"
        )
        raise RunnerError(
            f"--address {address}: {what} ({error.strerror or error}); start a cluster "
            "with `ray start --head` and pass the address it prints, or leave --address out for a local Ray"
        ) from None


@contextmanager
def _markers(folders: set[Path]) -> Iterator[str]:
    """A marker file with a fresh name in each of ``folders`` (created), removed after; yields
    its name. A task that does not find it is on a node that does not share the folder."""
    name = f".r1exp-driver-{secrets.token_hex(8)}"
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"{socket.gethostname()} {os.getpid()}\n")
    try:
        yield name
    finally:
        for folder in folders:
            (folder / name).unlink(missing_ok=True)


def _execute(
    cmd: list[str], out: str, log: str, env: dict[str, str], whole_env: bool, python: str, marker: str, grace: float
) -> int:
    """A job in a Ray worker: its command in ``out``, the output appended to ``log``; the exit status.

    ``env`` is the command's environment (``whole_env``) or what changes in the node's. On
    ``KeyboardInterrupt`` (``ray.cancel``) the command gets SIGINT and ``grace`` seconds to exit
    (then SIGKILL), and the interrupt goes on. Self-contained: Ray ships it to the workers by value.
    """
    import ctypes
    import fcntl
    import shlex
    import signal
    import subprocess
    import threading
    import time

    folder = Path(out)
    if not (folder.parent / marker).exists():
        raise RuntimeError(
            f"{folder.parent} is not the driver's folder on node {socket.gethostname()}: on a cluster "
            "the runs folder must be on a filesystem every node mounts at the same path"
        )
    folder.mkdir(parents=True, exist_ok=True)
    if cmd and cmd[0] == python:
        cmd = [sys.executable, *cmd[1:]]
    # A lock on the folder, passed on to the command: it stays held while the command runs,
    # even after this worker dies, so that the same job started again waits for it to exit.
    lock = os.open(folder / ".runner.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + grace
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{folder} is in use by another run of this job after {grace:.0f} s") from None
                time.sleep(0.5)
        libc = ctypes.CDLL(None, use_errno=True)
        parent = os.getpid()

        def interrupt_when_parent_dies() -> None:  # in the child, before exec
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # a Ray worker blocks it
            # and a driver started in the background (`nohup ... &`) passes SIGINT on ignored
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            libc.prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGINT)

        # ray.cancel interrupts the task as a SIGINT would: from the command's start on, a handler
        # notes it and the loop passes it on (a KeyboardInterrupt raised anywhere could land in
        # Popen's bookkeeping, or between the start and the loop, leaving the command running)
        interrupted: list[int] = []
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(1)) if main else None
        try:
            with open(log, "a") as output:
                output.write(f"$ {shlex.join(cmd)}\n")
                output.flush()
                proc = subprocess.Popen(
                    cmd, stdout=output, stderr=subprocess.STDOUT, cwd=folder,
                    env=env if whole_env else {**os.environ, **env},
                    start_new_session=True,  # a terminal's Ctrl-C reaches the driver, which cancels
                    pass_fds=(lock,), preexec_fn=interrupt_when_parent_dies,
                )  # fmt: skip
                while proc.poll() is None and not interrupted:
                    time.sleep(0.2)
                if interrupted:
                    proc.send_signal(signal.SIGINT)
                    try:
                        proc.wait(timeout=grace)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)
        if interrupted:
            raise KeyboardInterrupt
        return proc.returncode
    finally:
        os.close(lock)
