"""Runs survive damage: each trainer is killed with SIGKILL at a seeded point of a smoke-size run,
the same command is run again, and the rerun must finish at the step count of an uninterrupted
run with no corrupt file left in the run folder.

The kill points are conditions on what the run has written (a number of checkpoints, a number of
logged iterations, the final model), each followed by a delay drawn from a generator seeded with
the case's name: which points are picked is the same on every run of the test, only where the
process is when the signal lands depends on the machine. Files whose names start with ``.`` are
a killed save's temporaries (written, synced, renamed): they are not part of the run's state.
"""

from __future__ import annotations

import csv
import json
import os
import pickle
import random
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("stable_baselines3")
pytest.importorskip("sb3_contrib")
pytest.importorskip("transformers")

import torch

from r1gym.agent_specs import resolve_agent

ROOT = Path(__file__).resolve().parents[1]
AGENTS = ROOT / "agents"

#: the smallest sizes of tests/test_agents.py and tests/test_llm_policy.py
SB3 = ["--n-envs", "2", "--net-arch", "16", "--no-progress-bar", "--eval-episodes", "2", "--eval-baselines", "greedy"]
PPO = [*SB3, "--n-steps", "16", "--batch-size", "32", "--n-epochs", "1"]
PPO_ROLLOUT = 32  # steps per rollout: --n-steps 16 * --n-envs 2
DQN = [*SB3, "--buffer-size", "1000", "--learning-starts", "50", "--batch-size", "16", "--train-freq", "1"]
LLM = ["--hidden-size", "32", "--num-layers", "1", "--no-progress-bar", "--torch-threads", "1", "--sft-episodes", "0"]
LLM += ["--groups", "2", "--group-size", "2", "--replay-batch", "4", "--eval-episodes", "0"]


@dataclass(frozen=True)
class Case:
    script: str
    args: tuple[str, ...]
    #: the steps (SB3: ``num_timesteps`` of model.zip) or iterations (llm_policy) an uninterrupted run ends at
    total: int
    #: kill once this many checkpoints / logged iterations exist, or ("final", 1): once the final model does
    point: tuple[str, int]


PPO_RUN = (*PPO, "--total-timesteps", "256", "--checkpoint-freq", "32")  # uninterrupted: 8 rollouts, 256 steps
# --checkpoint-freq 200 is not a whole number of rollouts: on-policy checkpoints are at rollout boundaries only
# (rounded up: 224 and 448 steps), so the rerun collects the same whole rollouts: 16 of them = 512, not 520 or 528
PPO_UNALIGNED = (*PPO, "--total-timesteps", "512", "--checkpoint-freq", "200")
DQN_RUN = (*DQN, "--total-timesteps", "300", "--checkpoint-freq", "50")  # 150 calls of 2 copies: 300 steps
LLM_RUN = (*LLM, "--iterations", "6", "--checkpoint-every", "2")

CASES = [
    pytest.param(Case("ppo_mask", PPO_RUN, 256, ("checkpoints", 2)), id="ppo_mask-checkpoints2"),
    pytest.param(Case("ppo_mask", PPO_RUN, 256, ("checkpoints", 5)), id="ppo_mask-checkpoints5"),
    pytest.param(Case("ppo_mask", PPO_UNALIGNED, 512, ("checkpoints", 1)), id="ppo_mask-mid-rollout-checkpoint"),
    pytest.param(Case("dqn_per", DQN_RUN, 300, ("checkpoints", 2)), id="dqn_per-checkpoints2"),
    pytest.param(Case("dqn_per", DQN_RUN, 300, ("final", 1)), id="dqn_per-final"),
    pytest.param(Case("llm_policy", LLM_RUN, 6, ("iterations", 3)), id="llm_policy-iterations3"),
    pytest.param(Case("llm_policy", LLM_RUN, 6, ("final", 1)), id="llm_policy-final"),
]


def _reached(case: Case, out: Path) -> bool:
    kind, n = case.point
    llm = case.script == "llm_policy"
    if kind == "final":
        # llm_policy: as its save_pretrained starts (the folder is made first)
        return (out / "policy").exists() if llm else (out / "model.zip").exists()
    if kind == "checkpoints":
        return len(list((out / "checkpoints").glob("model_*_steps.zip"))) >= n
    progress = out / "progress.csv"
    return progress.exists() and len(progress.read_text().splitlines()) - 1 >= n


def _command(case: Case, out: Path) -> list[str]:
    return [sys.executable, str(AGENTS / f"{case.script}.py"), *case.args, "--out", str(out)]


def _kill_at(case: Case, out: Path, cwd: Path, seed: str) -> bool:
    """Start the run, SIGKILL it at its kill point plus a seeded delay; True if it was killed
    (False: it finished first)."""
    delay = random.Random(seed).uniform(0.0, 0.25)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(_command(case, out), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and not _reached(case, out) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(delay)
        if proc.poll() is not None:
            return False
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()


def _strict(constant: str) -> float:
    raise ValueError(f"not strict JSON: {constant}")


def _corrupt(path: Path) -> str | None:
    """Why ``path`` does not read back whole, or None."""
    try:
        if path.suffix == ".json" or path.name == "complete":
            json.loads(path.read_text(), parse_constant=_strict)
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as z:
                if (bad := z.testzip()) is not None:
                    return f"entry {bad} fails its checksum"
        elif path.suffix == ".pkl":
            with open(path, "rb") as f:
                pickle.load(f)
        elif path.suffix == ".pt":
            torch.load(path, map_location="cpu", weights_only=False)
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                for k in z.files:
                    z[k]
        elif path.suffix == ".csv":
            rows = list(csv.reader(path.read_text().splitlines()))
            widths = {len(r) for r in rows}
            if len(widths) > 1:
                return f"rows of {sorted(widths)} columns"
    except Exception as e:  # noqa: BLE001  (whatever a damaged file raises)
        return f"{type(e).__name__}: {e}"
    return None


def _sb3_steps(model: Path) -> int:
    with zipfile.ZipFile(model) as z:
        return int(json.loads(z.read("data"))["num_timesteps"])


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_a_killed_run_reruns_to_the_same_end_with_no_corrupt_file(case: Case, tmp_path: Path, request) -> None:
    out = tmp_path / "run"
    killed = _kill_at(case, out, tmp_path, seed=request.node.callspec.id)
    assert killed, f"the run finished before its kill point {case.point}: the case tests nothing"

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    rerun = subprocess.run(_command(case, out), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]

    files = [p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")]
    damaged = {str(p.relative_to(out)): why for p in files if (why := _corrupt(p)) is not None}
    assert not damaged, damaged
    json.loads((out / "args.json").read_text(), parse_constant=_strict)

    if case.script == "llm_policy":
        # rows replayed after a crash appear again (r1gym.training.logs.ProgressLog): every
        # iteration is there, and the last row is the last iteration
        its = [int(r.split(",")[0]) for r in (out / "progress.csv").read_text().splitlines()[1:]]
        assert sorted(set(its)) == list(range(1, case.total + 1)) and its[-1] == case.total, its
        done = json.loads((out / "checkpoints" / f"iter_{case.total}" / "complete").read_text())
        assert done == {"iteration": case.total}
        resolve_agent(f"llm:{out / 'policy'}")
    else:
        model = out / "model.zip"
        assert _sb3_steps(model) == case.total, rerun.stdout[-2000:]
        saved = sorted(int(p.name.split("_")[1]) for p in (out / "checkpoints").glob("model_*_steps.zip"))
        assert saved[-1] == case.total
        if case.script.startswith("ppo"):  # on-policy: whole rollouts only, each file at its name's steps
            assert all(n % PPO_ROLLOUT == 0 for n in saved), saved
            assert [_sb3_steps(out / "checkpoints" / f"model_{n}_steps.zip") for n in saved] == saved
        resolve_agent(f"sb3:{model}")
        report = json.loads((out / "eval.json").read_text(), parse_constant=_strict)
        assert report["reports"]
