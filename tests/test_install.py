"""A non-editable install carries the package data and works outside the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_install_works_outside_the_source_tree(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert (target / "r1gym" / "envs_data" / "math_templates.json").exists()
    script = (
        "import gymnasium as gym, r1gym, r1gym.envs_data as d, r1gym.replay, r1gym.pareto; "
        f"assert d.__file__.startswith({str(target)!r}), d.__file__; "
        "env = gym.make('R1Math-v0'); obs, info = env.reset(seed=0); "
        "print(len(env.unwrapped.task.templates))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert int(out.stdout.strip()) >= 40


def test_every_folder_of_the_package_is_a_package() -> None:
    """setuptools finds the packages (``r1gym*``): a folder of modules without ``__init__.py``
    would import in an editable install and be left out of a real one (it happened to r1gym.llm
    when the list was kept by hand)."""
    root = Path(__file__).resolve().parents[1] / "r1gym"
    folders = {p.parent for p in root.rglob("*.py") if "__pycache__" not in p.parts}
    missing = sorted(str(f.relative_to(root.parent)) for f in folders if not (f / "__init__.py").exists())
    assert not missing, f"add an __init__.py to {missing}"


@pytest.mark.slow
def test_agent_scripts_run_on_a_non_editable_install(tmp_path: Path) -> None:
    """``python agents/ppo.py`` imports its plumbing (r1gym.training) from the installed package,
    not from the source tree: --help, a tiny run and its resumption, from a folder outside it."""
    pytest.importorskip("stable_baselines3")
    pytest.importorskip("tyro")
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip, "--target", str(target), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert (target / "r1gym" / "training" / "sb3.py").exists()
    env = {**os.environ, "PYTHONPATH": str(target), "COLUMNS": "200"}
    where = subprocess.run(
        [sys.executable, "-c", "import r1gym.training.args as a; print(a.__file__)"],
        check=True, capture_output=True, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(target)), where.stdout

    def ppo(*args: str) -> subprocess.CompletedProcess:
        script = str(ROOT / "agents" / "ppo.py")
        done = subprocess.run([sys.executable, script, *args], capture_output=True, text=True, cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done

    assert "--total-timesteps" in ppo("--help").stdout
    run = ["--n-envs", "2", "--n-steps", "16", "--batch-size", "32", "--n-epochs", "1", "--net-arch", "16"]
    run += ["--no-progress-bar", "--eval-episodes", "2", "--eval-baselines", "greedy", "--out", "run"]
    ppo(*run, "--total-timesteps", "32")
    resumed = ppo(*run, "--total-timesteps", "64")
    assert f"resuming from {Path('run') / 'checkpoints' / 'model_32_steps.zip'} (32 steps)" in resumed.stdout
    assert (tmp_path / "run" / "model.zip").exists() and (tmp_path / "run" / "eval.json").exists()
