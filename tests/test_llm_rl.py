"""experiments/llm_rl.py: cold start, the RL arms (GRPO, prioritized replay, R1-Zero) and pass@k,
at smoke size, through the experiments' runner: every stage runs, a second call skips what is
done, and the report reads every run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "experiments" / "llm_rl.py"


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, timeout=900)


@pytest.mark.slow
def test_quick_pipeline_reports_every_arm_and_resumes(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    done = _run(["--quick", "--runs", str(runs)], tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((runs / "summary.json").read_text())
    assert summary["env_id"] == "R1Arith-v0" and summary["seeds"] == [1]
    assert set(summary["arms"]) == {"cold", "grpo", "replay", "zero"}
    for arm, entry in summary["arms"].items():
        assert 0 <= entry["greedy"]["per_seed"]["1"] <= 1 and 0 <= entry["sampled"]["per_seed"]["1"] <= 1
        assert ("minus_cold" in entry["greedy"]) == (arm != "cold")
        assert entry["train_minutes"] > 0
    # the R1-Zero arm learned from nothing: its run has no cold start
    assert not (runs / "zero-seed1" / "sft.csv").exists() and (runs / "cold-seed1" / "sft.csv").exists()
    # every arm's learning curve starts at round 0; pass@k for k = 1..4 and pass@1 <= pass@4
    assert set(summary["curves"]) == {"grpo", "replay", "zero"}
    assert all(c["greedy"]["iteration"][0] == 0 for c in summary["curves"].values())
    for per_k in summary["pass_at_k"].values():
        assert sorted(map(int, per_k)) == [1, 2, 3, 4]
        assert per_k["1"][0] <= per_k["4"][0]
    # the paired differences against the cold start, pass@1 and pass@n (one seed: the difference itself)
    minus = summary["pass_at_k_minus_cold"]
    assert set(minus) == {"grpo", "replay", "zero"}
    for arm, d in minus.items():
        assert math.isclose(d["1"][0], summary["pass_at_k"][arm]["1"][0] - summary["pass_at_k"]["cold"]["1"][0])
    assert "pass@4 minus cold start" in (runs / "tables.md").read_text()
    for name in ("tables.md", "curves.png", "passk.png"):
        assert (runs / name).stat().st_size > 0
    assert "| grpo |" in (runs / "tables.md").read_text()
    # a second call trains nothing
    again = _run(["--quick", "--runs", str(runs)], tmp_path)
    assert again.returncode == 0 and "(0 to do)" in again.stdout and "(1 to do)" not in again.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arms", "ppo"], "--arms: unknown"),
        (["--seeds", "a,b"], "--seeds: give comma-separated"),
        (["--jobs", "0"], "--jobs must be"),
    ],
)
def test_bad_arguments_are_refused_with_a_message(args: list[str], message: str, tmp_path: Path) -> None:
    done = _run(["--quick", "--runs", str(tmp_path / "runs"), *args], tmp_path)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
