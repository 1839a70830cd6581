"""Real DeepSpeed on the CPU: two ranks over gloo, as `DS_ACCELERATOR=cpu deepspeed --num_gpus 2`.

The first launch on a machine compiles DeepSpeed's shared-memory communication op (about two
minutes on 2 cores; kept under $TORCH_EXTENSIONS_DIR, ~/.cache/torch_extensions by default);
later launches take seconds.

The ranks stay in step whatever their data: their episodes make different numbers of decisions
(the tests check that they did, from the line each rank prints at the end), yet every rank runs
as many collectives, and a rank kept waiting fails after --dist-timeout with an error that names
the step, instead of hanging.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("deepspeed")
pytest.importorskip("transformers")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = str(ROOT / "agents" / "llm_policy.py")
EQUIVALENCE = str(ROOT / "tests" / "deepspeed_equivalence.py")
ZERO2 = str(ROOT / "agents" / "configs" / "ds_zero2.json")
DEEPSPEED = shutil.which("deepspeed") or str(Path(sys.executable).with_name("deepspeed"))
ENV = dict(os.environ, DS_ACCELERATOR="cpu", OMP_NUM_THREADS="1")
TINY = [
    "--hidden-size",
    "32",
    "--num-layers",
    "1",
    "--no-progress-bar",
    "--groups",
    "2",
    "--group-size",
    "2",
    "--replay-batch",
    "4",
]

# What each rank of llm_policy.py did, printed at the end of a run with several ranks.
RANK_LINE = re.compile(
    r"rank (\d+): kept (\d+) of its (\d+) teacher decisions; played (\d+) decisions in (\d+) trajectories"
)


def _launch(
    script: str,
    args: list[str],
    cwd: Path,
    ranks: int = 2,
    timeout: float = 900,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """``deepspeed --num_gpus RANKS SCRIPT ARGS`` from ``cwd``, as a user would type it."""
    cmd = [DEEPSPEED, "--num_gpus", str(ranks), "--master_port", str(29500 + os.getpid() % 1000), script, *args]
    done = subprocess.run(cmd, cwd=cwd, env=env or ENV, capture_output=True, text=True, timeout=timeout)
    if check:
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done


def _per_rank(stdout: str) -> dict[int, tuple[int, ...]]:
    """rank -> (decisions kept by the cold start, of how many, rollout decisions, trajectories)."""
    return {int(m[0]): tuple(map(int, m[1:])) for m in RANK_LINE.findall(stdout)}


def test_a_collective_that_times_out_names_the_step() -> None:
    """What a rank sees when its collective waits too long (or its peer left): the step, the rank,
    the timeout; other errors, and one process, pass through unchanged."""
    from r1gym.training.distributed import CollectiveTimeout, Dist

    dist = Dist(rank=1, world=2, timeout_s=7)
    with pytest.raises(CollectiveTimeout, match=r"rank 1 of 2 .* during update 3 of round 2 .* 7 s"):
        with dist.at("round 2"), dist.at("update 3 of round 2"):
            raise RuntimeError("[gloo/transport/tcp/unbound_buffer.cc:78] Timed out waiting 7000ms for recv")
    assert dist.where == "start"
    with pytest.raises(RuntimeError, match="^Connection closed by peer$"), Dist().at("round 1"):
        raise RuntimeError("Connection closed by peer")
    with pytest.raises(RuntimeError, match="^shapes differ$"), dist.at("round 1"):
        raise RuntimeError("shapes differ")


@pytest.mark.slow
def test_two_ranks_match_one_process_on_the_same_data(tmp_path: Path) -> None:
    """Losses within 1e-5 and weights within 1e-5 after three steps (measured: 6e-8 and 5.6e-8)."""
    single = subprocess.run(
        [sys.executable, EQUIVALENCE, "--out", str(tmp_path / "one")],
        cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert single.returncode == 0, single.stderr[-3000:]
    _launch(EQUIVALENCE, ["--out", str(tmp_path / "two"), "--deepspeed-config", ZERO2], cwd=tmp_path)
    one = json.loads((tmp_path / "one" / "losses.json").read_text())
    two = json.loads((tmp_path / "two" / "losses.json").read_text())
    assert two["world"] == 2 and len(one["losses"]) == len(two["losses"]) == 3
    np.testing.assert_allclose(two["losses"], one["losses"], atol=1e-5, rtol=0)
    diff = np.abs(np.load(tmp_path / "one" / "weights.npy") - np.load(tmp_path / "two" / "weights.npy")).max()
    assert diff < 1e-5


@pytest.mark.slow
def test_two_rank_training_holds_identical_weights_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run = [*TINY, "--deepspeed-config", ZERO2, "--sft-episodes", "10", "--sft-epochs", "1"]
    run += ["--eval-episodes", "2", "--checkpoint-every", "1", "--out", str(out)]
    first = _launch(SCRIPT, [*run, "--iterations", "2"], cwd=tmp_path)
    assert "2 rank(s)" in (out / "weights.sha256").read_text()  # the script checks the ranks agree
    ckpt = out / "checkpoints" / "iter_2"
    assert (ckpt / "complete").exists() and (ckpt / "deepspeed").is_dir()
    assert (ckpt / "replay_rank0.npz").exists() and (ckpt / "replay_rank1.npz").exists()
    assert "cold start: " in first.stdout and "decisions of the oracle teacher" in first.stdout
    second = _launch(SCRIPT, [*run, "--iterations", "3"], cwd=tmp_path)
    assert f"resuming from {ckpt}" in second.stdout and "cold start" not in second.stdout
    rows = (out / "progress.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3"]
    assert (out / "policy" / "value_head.pt").exists()


@pytest.mark.slow
def test_the_issues_command_finishes_though_the_ranks_data_differ(tmp_path: Path) -> None:
    """The command of issue 11 (ZeRO-2, smoke size): the ranks' cold starts and rollouts make
    different numbers of decisions, and the run finishes (measured: about 70 s on 2 cores)."""
    out = tmp_path / "run"
    args = ["--env-id", "R1Arith-v0", "--deepspeed-config", ZERO2, "--out", str(out), "--sft-episodes", "40"]
    args += ["--sft-epochs", "1", "--iterations", "3", "--eval-episodes", "20"]
    done = _launch(SCRIPT, args, cwd=tmp_path, timeout=600)
    ranks = _per_rank(done.stdout)
    assert sorted(ranks) == [0, 1], done.stdout[-3000:]
    (kept0, of0, played0, n0), (kept1, of1, played1, n1) = ranks[0], ranks[1]
    assert of0 != of1 and kept0 == kept1 == min(of0, of1)  # uneven cold starts, trimmed to the fewest
    assert played0 != played1 and n0 == n1 == 3 * 8 * 4  # uneven rollouts, as many trajectories
    assert "2 rank(s)" in (out / "weights.sha256").read_text()
    assert (out / "eval.json").exists()


@pytest.mark.slow
def test_zero3_rollouts_step_together(tmp_path: Path) -> None:
    """Under ZeRO-3 every forward pass gathers partitioned parameters from every rank: the
    rollouts, whose lengths differ per rank, step together. DeepSpeed keeps a tiny model's
    parameters gathered by default; this config makes it gather at every forward pass (before
    the fix rank 1 waited in the rollouts of round 1)."""
    config = tmp_path / "zero3_gather_always.json"
    zero = {"stage": 3, "stage3_max_live_parameters": 0, "stage3_max_reuse_distance": 0}
    zero |= {"stage3_prefetch_bucket_size": 0, "stage3_param_persistence_threshold": 0}
    config.write_text(json.dumps({"zero_optimization": zero, "zero_allow_untested_optimizer": True}))
    out = tmp_path / "run"
    args = [*TINY, "--deepspeed-config", str(config), "--sft-episodes", "4", "--sft-epochs", "1"]
    args += ["--iterations", "2", "--eval-episodes", "0", "--dist-timeout", "60", "--out", str(out)]
    done = _launch(SCRIPT, args, cwd=tmp_path, timeout=300, check=False)
    if done.returncode != 0:
        # DeepSpeed's ZeRO-3 on the CPU sometimes aborts at interpreter exit ("terminate called
        # without an active exception", SIGABRT), after the script has finished and saved; seen in
        # about 1 run in 9, before this project's changes too. Only that exit is tolerated.
        finished = (out / "policy").is_dir() and "saved" in done.stdout
        assert finished and "return code = -6" in done.stdout + done.stderr, done.stdout[-4000:] + done.stderr[-4000:]
    ranks = _per_rank(done.stdout)
    assert ranks[0][2] != ranks[1][2], ranks  # the rollouts made different numbers of decisions
    assert "2 rank(s)" in (out / "weights.sha256").read_text()


LATE_RANK = """
import os, runpy, sys, time
import r1gym.training.cold_start as cold_start

teacher_decisions = cold_start.teacher_decisions


def late(*args, **kwargs):  # rank 1 comes to the cold start long after rank 0
    if os.environ["RANK"] == "1":
        time.sleep(300)
    return teacher_decisions(*args, **kwargs)


cold_start.teacher_decisions = late
sys.argv[0] = os.environ["SCRIPT"]
runpy.run_path(os.environ["SCRIPT"], run_name="__main__")
"""


@pytest.mark.slow
def test_a_rank_out_of_step_fails_after_the_timeout_naming_the_step(tmp_path: Path) -> None:
    """Rank 1 sleeps before the cold start: rank 0 fails after --dist-timeout (gloo honours it on
    the CPU) with an error naming the step, and the launcher stops rank 1 (no hang)."""
    (tmp_path / "late_rank.py").write_text(LATE_RANK)
    args = [*TINY, "--deepspeed-config", ZERO2, "--sft-episodes", "2", "--iterations", "1", "--eval-episodes", "0"]
    args += ["--dist-timeout", "5", "--out", str(tmp_path / "run")]
    env = dict(ENV, SCRIPT=SCRIPT)
    done = _launch(str(tmp_path / "late_rank.py"), args, cwd=tmp_path, timeout=200, env=env, check=False)
    text = done.stdout + done.stderr
    assert done.returncode != 0, text[-3000:]
    assert "CollectiveTimeout: rank 0 of 2 waited in a collective during the cold start's agreement" in text, text[
        -3000:
    ]
    assert "--dist-timeout of 5 s" in text
