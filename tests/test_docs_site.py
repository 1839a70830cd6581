"""The documentation site builds in strict mode: no broken link or anchor, no missing reference.

``mkdocs build --strict`` (mkdocs.yml) turns every warning into an error: a relative link to a page
or an anchor that does not exist, a docstring griffe cannot read, a cross-reference autorefs cannot
resolve. The generated pages are checked too: one per registered environment id, the API reference.
Skipped when the extra ``docs`` is not installed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "mkdocs_gen_files"):
    pytest.importorskip(module, reason="the documentation site needs the extra 'docs': pip install -e '.[docs]'")
pytest.importorskip("mkdocs_literate_nav", reason="the documentation site needs the extra 'docs'")

import r1gym  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "DISABLE_MKDOCS_2_WARNING": "true", "NO_MKDOCS_2_WARNING": "1"}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    took = time.perf_counter() - start
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    print(f"mkdocs build --strict: {took:.1f} s")
    return out


def test_every_environment_id_has_its_page(site: Path) -> None:
    for env_id in r1gym.ENV_IDS:
        page = site / "envs" / env_id / "index.html"
        assert page.is_file(), f"no reference page for {env_id}"
        html = page.read_text(encoding="utf-8")
        for section in ("Spaces", "Keyword arguments", "Difficulty presets", "An example episode"):
            assert section in html, f"{env_id}: no section {section!r}"
        assert "difficulty" in html and "reward_weights" in html


def test_an_example_episode_is_played_and_scored(site: Path) -> None:
    html = (site / "envs" / "R1Math-v0" / "index.html").read_text(encoding="utf-8")
    assert "reset(seed=0)" in html
    assert "The reward (gated: efficiency and novelty are paid in proportion to accuracy):" in html
    assert re.search(r"efficiency +E = \d\.\d{3} +weight β = 0\.3 +1 / log2\(1 \+ n\), n = \d+ actions", html)
    assert re.search(r"= \d\.\d{3} × \(0\.6 \+ 0\.3·\d\.\d{3} \+ 0\.1·\d\.\d{3}\) / \(0\.6 \+ 0\.3 \+ 0\.1\)", html)


def test_the_api_reference_documents_evaluate(site: Path) -> None:
    html = (site / "api" / "r1gym.evaluation" / "index.html").read_text(encoding="utf-8")
    assert 'id="r1gym.evaluation.evaluate"' in html
    assert "EvalReport" in html


def test_the_pages_of_docs_are_on_the_site(site: Path) -> None:
    for page in (ROOT / "docs").glob("*.md"):
        name = page.stem
        built = site / "index.html" if name == "index" else site / name / "index.html"
        assert built.is_file(), f"docs/{page.name} was not built"
    assert (site / "agents" / "index.html").is_file()  # agents/README.md, carried by the generator


def test_no_page_points_outside_the_repository() -> None:
    for page in (ROOT / "docs").rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text, f"docs/{page.relative_to(ROOT / 'docs')} points to ../shared"
