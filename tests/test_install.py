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
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(target), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert (target / "r1gym" / "envs_data" / "math_templates.json").exists()
    script = (
        "import gymnasium as gym, r1gym, r1gym.envs_data as d, r1gym.replay, r1gym.pareto; "
        "assert d.__file__.startswith(%r), d.__file__; "
        "env = gym.make('R1Math-v0'); obs, info = env.reset(seed=0); "
        "print(len(env.unwrapped.task.templates))" % str(target)
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert int(out.stdout.strip()) >= 40


def test_every_folder_of_the_package_is_a_package() -> None:
    """setuptools finds the packages (``r1gym*``): a folder of modules without ``__init__.py``
    would import in an editable install and be left out of a real one (it happened to r1gym.llm
    when the list was kept by hand)."""
    root = Path(__file__).resolve().parents[1] / "r1gym"
    folders = {p.parent for p in root.rglob("*.py") if "__pycache__" not in p.parts}
    missing = sorted(str(f.relative_to(root.parent)) for f in folders if not (f / "__init__.py").exists())
    assert not missing, f"add an __init__.py to {missing}"
