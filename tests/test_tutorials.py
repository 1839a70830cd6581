"""Every tutorial in docs/tutorials/ runs: its code blocks, in order, as a reader would run them.

A page's ```python blocks run in one shared namespace (a later block sees an earlier block's
names, as in a notebook); its ```bash blocks run with ``bash -euo pipefail`` at their place in
the order. They run in a fresh folder that links the repository's ``agents/`` and
``experiments/`` (the tutorials' commands run from the repository root), with ``OMP_NUM_THREADS=1``.

Smoke size: a line that ends with ``# smoke: TEXT`` runs as ``TEXT`` (same indentation), so a
page shows the full size and CI runs a small one; a block whose first line is
``# not run in CI: REASON`` is skipped, and says why on the page.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs" / "tutorials").glob("[0-9][0-9]-*.md"))
BLOCK = re.compile(r"^```(python|bash)[^\n]*\n(.*?)^```", re.M | re.S)
SMOKE = re.compile(r"^(\s*)(.*?)\s*# smoke: (.*)$")
SKIP = "# not run in CI:"


def blocks(page: Path, smoke: bool = True) -> list[tuple[str, int, str]]:
    """``(language, line number, code)`` of each block to run, at smoke size when ``smoke``."""
    text = page.read_text(encoding="utf-8")
    out = []
    for match in BLOCK.finditer(text):
        lang, code = match.group(1), match.group(2)
        if code.lstrip().startswith(SKIP):
            continue
        if smoke:
            code = "\n".join(
                (m.group(1) + m.group(3)) if (m := SMOKE.match(line)) else line for line in code.split("\n")
            )
        out.append((lang, text.count("\n", 0, match.start(2)) + 1, code))
    return out


DRIVER = """
import subprocess, sys
namespace = {"__name__": "__main__"}
for lang, line, code in BLOCKS:
    if lang == "python":
        exec(compile("\\n" * (line - 1) + code, PAGE, "exec"), namespace)
    else:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", code])
        if done.returncode:
            sys.exit(f"{PAGE}:{line}: the bash block failed with status {done.returncode}")
"""


def run_page(page: Path, folder: Path, smoke: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    for name in ("agents", "experiments"):
        link = folder / name
        if not link.exists():
            link.symlink_to(ROOT / name, target_is_directory=True)
    driver = f"PAGE = {str(page)!r}\nBLOCKS = {blocks(page, smoke)!r}\n" + DRIVER
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-c", driver], cwd=folder, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_there_are_tutorials_and_each_says_its_run_time() -> None:
    assert len(PAGES) >= 7, [p.name for p in PAGES]
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert re.search(r"\*\*Run time\*\*", text), f"{page.name} does not state its run time"
        assert blocks(page), f"{page.name} has no code that runs"


def test_the_smoke_lines_are_replaced_and_skipped_blocks_dropped(tmp_path: Path) -> None:
    page = tmp_path / "00-x.md"
    page.write_text(
        "```python\nsteps = 50_000  # smoke: steps = 10\n```\n\n"
        "```bash\n# not run in CI: needs a GPU\nnvidia-smi\n```\n\n```bash\necho $((1 + 1))\n```\n"
    )
    assert blocks(page) == [("python", 2, "steps = 10\n"), ("bash", 11, "echo $((1 + 1))\n")]
    assert blocks(page, smoke=False)[0][2] == "steps = 50_000  # smoke: steps = 10\n"


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_the_tutorial_runs(page: Path, tmp_path: Path) -> None:
    done = run_page(page, tmp_path)
    assert done.returncode == 0, f"{page.name} failed:\n{done.stdout[-4000:]}\n{done.stderr[-6000:]}"
