"""The experiments' Ray runner (experiments/r1exp/runner.py): interrupted and resumed.

The driver runs in a subprocess in a session of its own, as a user's ``python experiments/run.py``
does, and is sent what a user sends: SIGINT to its process group (Ctrl-C in a terminal, which
reaches the local Ray's own processes too). The fake jobs are small ``python -c``
commands that behave as the training scripts do: on SIGINT they save a "checkpoint" and exit,
and started again beside one they resume from it. The last test is the issue's: a quick sweep
killed mid-run and resumed, against an uninterrupted one.

Every test but the two user mistakes starts a local Ray (about 10 s on 2 cores each).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"
RUN = EXPERIMENTS / "run.py"

#: a job as the training scripts behave: "start" and "saved" lines with times in ``events``; on
#: SIGINT it takes 1 s to save a checkpoint and exits 130; beside a checkpoint it finishes at once;
#: otherwise it runs as long as the file ``hold`` is beside its folder
JOB = """
import os, signal, sys, time
def note(what):
    with open("events", "a") as f:
        f.write(f"{what} {time.time()} {os.getppid()}\\n")
def save(signum, frame):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # one save, however many signals come
    note(f"signal-{signum}")
    time.sleep(1)
    open("checkpoint", "w").write("saved")
    note("saved")
    sys.exit(130)
signal.signal(signal.SIGINT, save)
note("start")
if os.path.exists("checkpoint"):
    open("done", "w").write("resumed")
    sys.exit(0)
open("pid", "w").write(str(os.getpid()))
while os.path.exists("../hold"):  # the test holds the jobs running until it interrupts them
    time.sleep(0.1)
open("done", "w").write("fresh")
"""

#: the driver: run_jobs over ``n`` fake jobs in the folder argv[1], 2 at a time; prints the finished ones
DRIVER = """
import json, os, sys
from pathlib import Path
from r1exp.job import Job
from r1exp.runner import run_jobs

runs, n, job = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
jobs = [Job(f"j{i}", [sys.executable, "-c", job], runs / f"j{i}", runs / f"j{i}" / "done") for i in range(n)]
try:
    print(json.dumps([j.name for j in run_jobs(jobs, 2, dict(os.environ))]))
except KeyboardInterrupt:
    print("interrupted")
    raise SystemExit(130)
"""


def sigint_as_in_a_terminal() -> None:
    """In a child before exec: SIGINT at its default, as for a command typed at a terminal. A
    pytest started in the background by a shell (`cmd &`, as some CI scripts do) passes it on
    ignored, and Python then never turns it into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def driver(runs: Path, n: int) -> subprocess.Popen[str]:
    """The driver over ``n`` fake jobs, from experiments/ (so ``r1exp`` imports), in a session of its own."""
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(runs), str(n), JOB], cwd=EXPERIMENTS, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=sigint_as_in_a_terminal,
    )  # fmt: skip


def wait_for(condition, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    """Poll ``condition`` until it holds; fail with the driver's output if it exits or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the driver exited ({proc.returncode}) first:\n{out[-2000:]}\n{err[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timed out waiting; the driver's output:\n{proc.communicate()[0][-2000:]}")
        time.sleep(0.05)


def processes() -> list[tuple[str, str, list[str]]]:
    """``(pid, name, the stat fields after the name)`` of every process alive on the machine."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        if fields[0] != "Z":
            found.append((stat.parent.name, name, fields))
    return found


def other_gcs_servers() -> list[str]:
    """The Ray head processes (``gcs_server``) alive on this machine."""
    return [pid for pid, name, _ in processes() if name == "gcs_server"]


def session_processes(sid: int) -> list[str]:
    """The processes (``pid name``) in session ``sid``: the driver's Ray, workers included."""
    return [f"{pid} {name}" for pid, name, fields in processes() if int(fields[3]) == sid]


def events(folder: Path) -> list[tuple[str, float, int]]:
    """The fake job's ``events``: (what, time, parent pid)."""
    lines = (folder / "events").read_text().split("\n")
    return [(w, float(t), int(p)) for w, t, p in (line.split() for line in lines if line)]


@pytest.mark.slow
def test_ctrl_c_interrupts_the_commands_which_save_and_a_rerun_resumes(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads the process table from /proc")
    (tmp_path / "hold").touch()
    first = driver(tmp_path, 3)  # 2 at a time: j0 and j1 run, j2 waits
    wait_for(lambda: all((tmp_path / f"j{i}" / "pid").exists() for i in range(2)), first)
    time.sleep(0.5)
    t0 = time.monotonic()
    os.killpg(first.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the driver's process group, Ray's processes too
    out, err = first.communicate(timeout=120)
    assert first.returncode == 130 and "interrupted" in out, out + err
    # each command got SIGINT (not the grace period's SIGKILL, 60 s later) and saved
    assert time.monotonic() - t0 < 30
    for i in range(2):
        assert [w for w, _, _ in events(tmp_path / f"j{i}")] == ["start", "signal-2", "saved"]
    assert not (tmp_path / "j2").exists()  # never started
    # Ray is gone with the driver: nothing of its session is left
    deadline = time.monotonic() + 20
    while session_processes(first.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert session_processes(first.pid) == []

    (tmp_path / "hold").unlink()
    again = driver(tmp_path, 3)
    out, err = again.communicate(timeout=180)
    assert again.returncode == 0, out + err
    assert json.loads(out.splitlines()[-1]) == ["j0", "j1", "j2"]
    for i in range(2):  # resumed from the checkpoint: one more start, then done
        assert (tmp_path / f"j{i}" / "done").read_text() == "resumed"
        assert (tmp_path / f"j{i}" / "log.txt").read_text().count("$ ") == 2
    assert (tmp_path / "j2" / "done").read_text() == "fresh"
    assert not list(tmp_path.glob(".r1exp-driver-*"))  # the driver's marker is removed


@pytest.mark.slow
def test_a_lost_worker_interrupts_its_command_and_ray_retries_after_it_saved(tmp_path: Path) -> None:
    """A Ray worker killed (a lost node, the OOM killer): its command gets SIGINT and saves; Ray
    retries the task, which waits for the command's lock on the folder, then resumes."""
    pytest.importorskip("ray")
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads the process table from /proc")
    (tmp_path / "hold").touch()
    proc = driver(tmp_path, 1)
    pid = tmp_path / "j0" / "pid"
    wait_for(pid.exists, proc)
    stat = Path(f"/proc/{pid.read_text()}/stat").read_text()
    worker = int(stat[stat.rindex(")") + 2 :].split()[1])
    assert Path(f"/proc/{worker}/cmdline").read_bytes().startswith(b"ray::")
    os.kill(worker, signal.SIGKILL)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0 and json.loads(out.splitlines()[-1]) == ["j0"], out + err
    (s1, _, parent), (s2, _, _), (s3, saved, _), (s4, restart, _) = events(tmp_path / "j0")
    assert (s1, s2, s3, s4) == ("start", "signal-2", "saved", "start")  # SIGINT as its parent died
    assert parent == worker
    assert saved < restart  # the retry started the command only after it had saved
    assert (tmp_path / "j0" / "done").read_text() == "resumed"


#: the driver on a cluster: three jobs that write what their environment says into their done file
CLUSTER_DRIVER = """
import json, os, sys
from pathlib import Path
from r1exp.job import Job
from r1exp.runner import run_jobs

runs, address = Path(sys.argv[1]), sys.argv[2]
code = "import os; open('done', 'w').write(os.environ.get('R1_PROBE', '-') + ' ' + os.environ.get('R1_DRIVER', '-'))"
jobs = [Job(f"j{i}", [sys.executable, "-c", code], runs / f"j{i}", runs / f"j{i}" / "done") for i in range(3)]
os.environ["R1_DRIVER"] = "driver"  # the driver's own environment: not the command's on a cluster
print(json.dumps([j.name for j in run_jobs(jobs, None, dict(os.environ, R1_PROBE="passed"), address)]))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_the_runner_on_a_cluster_started_with_ray_start(tmp_path: Path) -> None:
    """``--address``: a cluster started with Ray's own tooling (``ray start --head``, here a
    one-node cluster on this machine, with token authentication). A command gets the node's
    environment plus what the caller's ``env`` changes, not the driver's whole environment; the
    cluster outlives the sweep."""
    pytest.importorskip("ray")
    ray_cli = Path(sys.executable).with_name("ray")
    if not ray_cli.exists():
        pytest.skip("no ray command beside the Python")
    port = free_port()
    env = dict(os.environ, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16))
    head = subprocess.Popen(
        [str(ray_cli), "start", "--head", "--block", "--port", str(port), "--num-cpus", "2",
         "--include-dashboard=false", "--disable-usage-stats"],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=sigint_as_in_a_terminal,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert head.poll() is None and time.monotonic() < deadline, "ray start --head did not come up"
                time.sleep(0.5)
        done = subprocess.run(
            [sys.executable, "-c", CLUSTER_DRIVER, str(tmp_path), f"127.0.0.1:{port}"],
            capture_output=True, text=True, cwd=EXPERIMENTS, env=env, timeout=180,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert json.loads(done.stdout.splitlines()[-1]) == ["j0", "j1", "j2"]
        assert [(tmp_path / f"j{i}" / "done").read_text() for i in range(3)] == ["passed -"] * 3
        assert head.poll() is None  # the sweep disconnected; the cluster is still up
    finally:
        head.terminate()  # `ray start --block` stops the node's processes on SIGTERM
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
        for line in session_processes(head.pid):
            os.kill(int(line.split()[0]), signal.SIGKILL)
    # the cluster is gone: `auto`, which Ray resolves to the cluster this machine last started,
    # is refused at once in one sentence, not after Ray's minutes of retries. (Ray's `auto` also
    # finds any other Ray running on the machine by its processes, e.g. a sweep of one's own.)
    if other_gcs_servers():
        pytest.skip("another Ray runs on this machine, which --address auto would find: not checked")
    t0, runs = time.monotonic(), tmp_path / "runs"
    done = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--only", "replay", "--runs", str(runs), "--address", "auto"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.startswith("run.py: error: --address auto: "), done.stderr[-2000:]
    assert done.stderr.count("\n") == 1 and time.monotonic() - t0 < 60
    current = Path("/tmp/ray/ray_current_cluster")  # Ray's note of that cluster, left by `ray start --block`
    if current.exists() and current.read_text().strip().endswith(f":{port}"):
        current.unlink()


def test_without_ray_run_py_says_how_to_install_it_in_one_sentence(tmp_path: Path) -> None:
    # ray hidden from the script; `python -c` imports from its working directory, experiments/, where r1exp is
    block = (
        "import runpy, sys; sys.modules['ray'] = None; "
        "sys.argv = [sys.argv[1], *sys.argv[2:]]; runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    runs = tmp_path / "runs"
    done = subprocess.run(
        [sys.executable, "-c", block, str(RUN), "--quick", "--only", "replay", "--runs", str(runs)],
        capture_output=True, text=True, cwd=EXPERIMENTS, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        "run.py: error: the experiments run on Ray, which is not installed: pip install 'r1gym[experiments]'\n"
    )
    assert not runs.exists()


def test_an_address_nothing_answers_at_is_refused_in_one_sentence(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    t0 = time.monotonic()
    runs = tmp_path / "runs"
    address = f"127.0.0.1:{port}"
    done = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--only", "replay", "--runs", str(runs), "--address", address],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(f"run.py: error: --address 127.0.0.1:{port}: nothing answers there (")
    assert "ray start --head" in done.stderr and done.stderr.count("\n") == 1
    assert time.monotonic() - t0 < 60  # not Ray's minutes of retries


def read(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.mark.slow
def test_a_quick_sweep_killed_mid_run_resumes_to_the_results_of_an_uninterrupted_one(tmp_path: Path) -> None:
    """The issue's check, at smoke size: ``--quick --only replay`` (two DQN runs) uninterrupted
    into A; into B one run at a time, Ctrl-C once the first run is done and the second has a
    checkpoint, then the same command again.

    What must match: the finished run is not run again and its results are A's; the cut run
    resumes from its checkpoint and ends at A's step count on the same learning-curve steps;
    the report has A's shape. The cut run's numbers themselves may differ from A's: a resumed
    SB3 run reseeds its environments (agents/README.md, "Resuming"), so it is not bit-identical.
    """
    pytest.importorskip("ray")
    pytest.importorskip("stable_baselines3")
    pytest.importorskip("matplotlib")
    a, b = tmp_path / "a", tmp_path / "b"
    sweep = [sys.executable, str(RUN), "--quick", "--only", "replay"]
    done = subprocess.run([*sweep, "--runs", str(a)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    cmd = [*sweep, "--runs", str(b), "--jobs", "1"]
    first, second = "dqn_per-math-s1", "dqn_uniform-math-s1"
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_as_in_a_terminal,
    )

    # A quick run trains in about a second on a quiet machine, less than the way of a Ctrl-C through
    # Ray: the second run's command is stepped (SIGSTOP / 20 ms of SIGCONT) until its first
    # checkpoint exists, and held stopped while the Ctrl-C travels, so the cut is mid-run on any machine.
    def command() -> int | None:
        found = subprocess.run(["pgrep", "-f", "--", f"--out {b / second}( |$)"], capture_output=True, text=True)
        return int(found.stdout.split()[0]) if found.stdout.split() else None

    wait_for(lambda: command() is not None, proc, timeout=240)
    pid = command()
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    assert (b / first / "eval.json").exists()  # --jobs 1: the first run is done when the second starts
    deadline = time.monotonic() + 240
    while not any((b / second / "checkpoints").glob("model_*_steps.zip")):
        assert time.monotonic() < deadline and proc.poll() is None, "no checkpoint of the second run"
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.02)
        os.kill(pid, signal.SIGSTOP)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C (the interrupt's own checkpoint is newer than any cut short)
    time.sleep(1.0)
    os.kill(pid, signal.SIGCONT)  # the SIGINT is delivered as it continues
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "run the same command to resume" in out, out[-3000:] + err[-3000:]
    assert not (b / second / "eval.json").exists(), "the second run finished before the interrupt: nothing was cut"
    assert "interrupted at" in (b / second / "log.txt").read_text()

    again = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert again.returncode == 0 and "(1 to do)" in again.stdout, again.stdout[-3000:] + again.stderr[-3000:]
    log = (b / second / "log.txt").read_text()
    resumed = log[log.index("resuming from") :].split("\n")[0]
    steps = int(resumed.rsplit("(", 1)[1].split()[0])
    assert 0 < steps < 512, resumed
    assert (b / first / "log.txt").read_text().count("$ ") == 1  # done before the interrupt: not run again

    ra, rb = read(a / "summary.json")["replay"], read(b / "summary.json")["replay"]
    assert ra.keys() == rb.keys() and rb["uniform"].keys() == ra["uniform"].keys()
    assert rb["prioritized (omega 0.7)"] == ra["prioritized (omega 0.7)"]
    timing = {"decisions_per_second", "env_steps_per_second"}
    ea, eb = (read(d / first / "eval.json")["reports"][0] for d in (a, b))
    assert {k: v for k, v in eb.items() if k not in timing} == {k: v for k, v in ea.items() if k not in timing}
    for run in (first, second):
        assert read(b / run / "eval.json")["num_timesteps"] == read(a / run / "eval.json")["num_timesteps"] == 512
        steps_a, steps_b = (
            [row.split(",")[0] for row in (d / run / "curve.csv").read_text().splitlines()] for d in (a, b)
        )
        assert steps_b == steps_a
    assert [line for line in (b / "tables.md").read_text().splitlines() if line.startswith("|")][:2] == [
        line for line in (a / "tables.md").read_text().splitlines() if line.startswith("|")
    ][:2]
