"""The experiments' command line (experiments/run.py), started the way a user starts it: as a
file, in a subprocess, from a working directory other than the repository.

The quick run trains every arm for a few hundred steps, so its numbers mean nothing; what is
checked is that every experiment runs, resumes (a second call does no work) and writes its
tables, summary and plots. The other checks use ``--dry-run`` and bad arguments, which start no
training. The statistics the reports use are tested in tests/test_stats.py.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "experiments" / "run.py"

#: the report's sections, in order
TITLES = (
    "Baselines versus trained",
    "Reward weights around 0.6 : 0.3 : 0.1",
    "Curriculum versus none",
    "Prioritized versus uniform replay",
    "Pareto front of the variants",
)
#: the run folders of a full run (with GSM8K), in the order they are planned; a previous full
#: run's folders keep these names, so a later call recognises them as done
SEEDS = (1, 2, 3, 4, 5)  # FULL.seeds
FULL_RUNS = (
    "baselines-R1Math-v0",
    *(f"ppo_mask-math-s{s}" for s in SEEDS),
    "baselines-R1GSM8K-v0",
    *(f"ppo_mask-gsm8k-s{s}" for s in SEEDS),
    *(f"ppo_mask-math-w{w}-s{s}" for w in ("1_0_0", "0.4_0.5_0.1", "0.6_0.1_0.3") for s in SEEDS),
    *(f"ppo_mask-curriculum-{c}-s{s}" for c in ("easy-medium", "report-stages") for s in SEEDS),
    *(f"{d}-math-s{s}" for d in ("dqn_per", "dqn_uniform") for s in SEEDS),
    "ppo_mask-math-arch32-s1",
    "ppo_mask-math-arch256-s1",
    "ppo-math-s1",
)


def run(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def run_folders(dry_run_stdout: str) -> list[str]:
    """The run folder of each command a dry run prints (``--out DIR``, or ``--json DIR/baselines.json``)."""
    folders = []
    for line in dry_run_stdout.splitlines():
        words = shlex.split(line)
        if "--out" in words:
            folders.append(Path(words[words.index("--out") + 1]).name)
        elif "--json" in words:
            folders.append(Path(words[words.index("--json") + 1]).parent.name)
    return folders


@pytest.mark.slow
def test_quick_experiments_run_resume_and_write_everything(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    pytest.importorskip("stable_baselines3")
    pytest.importorskip("sb3_contrib")
    pytest.importorskip("matplotlib")
    runs = tmp_path / "runs"
    done = run("--quick", "--runs", str(runs), cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    tables = (runs / "tables.md").read_text()
    assert [line[3:] for line in tables.splitlines() if line.startswith("## ")] == list(TITLES)
    for png in ("table.png", "weights.png", "curriculum.png", "replay.png", "pareto.png"):
        assert (runs / png).stat().st_size > 10_000
    summary = json.loads((runs / "summary.json").read_text())
    assert summary["size"] == "quick" and summary["seeds"] == [1]
    assert 0.0 <= summary["table"]["R1Math-v0"]["trained"]["accuracy"][0] <= 1.0
    assert set(summary["weights"]) == {"0.6:0.3:0.1", "1:0:0", "0.4:0.5:0.1", "0.6:0.1:0.3"}
    assert set(summary["curriculum"]) == {"none", "easy -> medium", "report stages"}
    assert all(0.0 <= v <= 1.0 for v in summary["replay"]["uniform"]["key_share"].values())
    points = summary["pareto"]
    assert any(p["front"] for p in points) and all(p["latency_ms"] > 0 for p in points)
    trained = [p for p in points if p["kind"] == "trained"]
    assert trained and all(p["parameters"] > 0 for p in trained)
    # curriculum runs are evaluated on R1Math-v0, not on the curriculum they trained on
    ev = json.loads((runs / "ppo_mask-curriculum-easy-medium-s1" / "eval.json").read_text())
    assert ev["env_id"] == "R1Math-v0" and ev["train_env_id"] == "R1Curriculum-v0"

    again = run("--quick", "--runs", str(runs), cwd=tmp_path, timeout=600)
    assert again.returncode == 0 and "(0 to do)" in again.stdout, again.stdout[-3000:] + again.stderr[-3000:]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "tables"], "--only: unknown experiment(s) ['tables']; choose among table, weights,"),
        (["--only", ","], "--only: no experiment named; choose among table,"),
        (["--jobs", "0"], "--jobs must be >= 1, got 0"),
        (["--gsm8k-path", "/nonexistent/train.jsonl"], "--gsm8k-path /nonexistent/train.jsonl: no such file"),
    ],
)
def test_bad_arguments_are_refused_with_a_message(args: list[str], message: str, tmp_path: Path) -> None:
    done = run(*args, "--dry-run", "--runs", str(tmp_path / "runs"), cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr and "usage: run.py" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "runs").exists()


def test_dry_run_lists_every_run_of_a_full_run_with_its_folder(tmp_path: Path) -> None:
    gsm8k = tmp_path / "train.jsonl"
    gsm8k.write_text("")  # a dry run only checks that the file is there
    done = run("--dry-run", "--gsm8k-path", str(gsm8k), "--runs", str(tmp_path / "runs"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert run_folders(done.stdout) == list(FULL_RUNS)
    assert not (tmp_path / "runs").exists()  # nothing started


def test_dry_run_into_head_stops_quietly(tmp_path: Path) -> None:
    """``run.py --dry-run | head -n 1``: the reader closes the pipe early; no traceback, status 0."""
    cmd = f"{shlex.quote(sys.executable)} {shlex.quote(str(RUN))} --dry-run --runs runs | head -n 1"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1 and "Traceback" not in done.stderr and done.stderr == ""


def test_dry_run_lists_shared_runs_once_and_skips_done_ones(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    done = run("--dry-run", "--only", "weights,curriculum", "--runs", str(runs), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    folders = run_folders(done.stdout)
    assert len(folders) == len(set(folders))
    # the 0.6:0.3:0.1 arm of the sweep is the curriculum's "none": one run per seed, so
    # 5 seeds x (4 weightings + 3 curricula - 1 shared arm)
    assert [f for f in folders if f.startswith("ppo_mask-math-s")] == [f"ppo_mask-math-s{s}" for s in SEEDS]
    assert len(folders) == len(SEEDS) * (4 + 3 - 1)

    # a run whose eval.json exists is done: the next call leaves it out
    (runs / "ppo_mask-math-s2").mkdir(parents=True)
    (runs / "ppo_mask-math-s2" / "eval.json").write_text("{}")
    again = run_folders(run("--dry-run", "--only", "weights,curriculum", "--runs", str(runs), cwd=tmp_path).stdout)
    assert again == [f for f in folders if f != "ppo_mask-math-s2"]


RUNNER_CHECK = """
import json, os, sys
from pathlib import Path
from r1exp.job import Job
from r1exp.runner import run_jobs

runs = Path(sys.argv[1])
def job(name, code):
    return Job(name, [sys.executable, "-c", code], runs / name, runs / name / "done")

(runs / "before").mkdir(parents=True)
(runs / "before" / "done").write_text("")
jobs = [
    job("writes", "open('done', 'w').write('x')"),  # runs in its own folder
    job("crashes", "raise SystemExit(3)"),
    job("forgets", "print('exit 0 without its done file')"),
    job("before", "raise SystemExit('a done job is not run again')"),
]
print(json.dumps([j.name for j in run_jobs(jobs, parallel=2, env=dict(os.environ))]))
"""


def test_runner_returns_the_finished_jobs(tmp_path: Path) -> None:
    """The runner's contract (r1exp/runner.py): jobs in, the finished ones out, each in its folder
    with its log; a job exiting 0 without its done file has failed too. ``python -c`` from
    experiments/ imports ``r1exp`` as run.py does (the folder first on the path)."""
    pytest.importorskip("ray")
    done = subprocess.run(
        [sys.executable, "-c", RUNNER_CHECK, str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT / "experiments", timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == ["writes", "before"]
    assert "failed crashes (exit 3)" in done.stdout and "failed forgets (exit 0)" in done.stdout
    assert (tmp_path / "writes" / "done").read_text() == "x"
    assert (tmp_path / "forgets" / "log.txt").read_text().endswith("exit 0 without its done file\n")
    assert not (tmp_path / "before" / "log.txt").exists()
