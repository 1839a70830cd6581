"""The experiments' pipeline (experiments/run.py) end to end at its --quick size, and its pieces.

The quick run trains every arm for a few hundred steps, so its numbers mean nothing; what is
checked is that every experiment runs, resumes (a second call does no work) and writes its
tables, summary and plots.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("sb3_contrib")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("r1gym_experiments_run", ROOT / "experiments" / "run.py")
run = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
sys.modules[spec.name] = run  # type: ignore[union-attr]
spec.loader.exec_module(run)  # type: ignore[union-attr]


@pytest.mark.slow
def test_quick_experiments_run_resume_and_write_everything(tmp_path: Path) -> None:
    cmd = [sys.executable, str(ROOT / "experiments" / "run.py"), "--quick", "--runs", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    tables = (tmp_path / "tables.md").read_text()
    for title, _ in run.REPORTS.values():
        assert f"## {title}" in tables
    for png in ("table.png", "weights.png", "curriculum.png", "replay.png", "pareto.png"):
        assert (tmp_path / png).stat().st_size > 10_000
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["size"] == "quick"
    assert 0.0 <= summary["table"]["R1Math-v0"]["trained"]["accuracy"][0] <= 1.0
    assert set(summary["weights"]) == set(run.WEIGHTS)
    assert set(summary["curriculum"]) == set(run.CURRICULA)
    assert all(0.0 <= v <= 1.0 for v in summary["replay"]["uniform"]["key_share"].values())
    points = summary["pareto"]
    assert any(p["front"] for p in points) and all(p["latency_ms"] > 0 for p in points)
    trained = [p for p in points if p["kind"] == "trained"]
    assert trained and all(p["parameters"] > 0 for p in trained)
    # curriculum runs are evaluated on R1Math-v0, not on the curriculum they trained on
    ev = json.loads((tmp_path / "ppo_mask-curriculum-easy-medium-s1" / "eval.json").read_text())
    assert ev["env_id"] == "R1Math-v0" and ev["train_env_id"] == "R1Curriculum-v0"

    again = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert again.returncode == 0 and "(0 to do)" in again.stdout


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run.main(["--only", "tables"])
    assert "unknown experiment(s) ['tables']" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="--gsm8k-path"):
        run.find_gsm8k("/nonexistent/train.jsonl")


def test_dry_run_lists_shared_runs_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--dry-run", "--only", "weights,curriculum", "--runs", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    outs = [line.split("--out ")[1].split()[0] for line in lines]
    assert len(outs) == len(set(outs))
    # the 0.6:0.3:0.1 arm of the sweep is the curriculum's "none": one run per seed
    assert sum(o.endswith(("ppo_mask-math-s1", "ppo_mask-math-s2", "ppo_mask-math-s3")) for o in outs) == 3
    assert len(outs) == 3 * (len(run.WEIGHTS) + len(run.CURRICULA) - 1)


def test_statistics() -> None:
    m, lo, hi = run.mean_ci([0.5, 0.6, 0.7])
    assert m == pytest.approx(0.6) and hi - m == pytest.approx(4.303 * 0.1 / math.sqrt(3))
    assert math.isnan(run.mean_ci([0.5])[1])
    d = run.paired_diff({1: 0.6, 2: 0.7, 3: 0.9}, {1: 0.5, 2: 0.6, 3: 0.8})
    assert d[0] == pytest.approx(0.1) and d[2] - d[1] == pytest.approx(0.0)
    steps, acc = np.array([0, 10, 20, 30]), np.array([0.1, 0.4, 0.6, 0.5])
    assert run.steps_to(steps, acc, 0.5) == 20 and run.steps_to(steps, acc, 0.9) is None
    assert run.curve_mean(steps, acc) == pytest.approx((0.25 + 0.5 + 0.55) / 3)
