"""``r1gym view``: the trace of an episode is the episode, the page is self-contained, and in a real
browser (Debian's Chromium, headless) it loads without a console message, a node folds and
unfolds on click, the slider replays the episode move by move, and the screenshot shows the path
and the backtracks of the episode. The browser test skips where ``chromium`` is not installed."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import time

import gymnasium as gym
import pytest

import r1gym  # noqa: F401  (registers the ids)
from r1gym.baselines import BacktrackAgent
from r1gym.cli import main
from r1gym.export import episode_seeds
from r1gym.view import record_traces, render_page, traces_from_export

ENV, SEED = "R1Math-v0", 7  # a backtracking episode with 4 backtracks and wrong steps


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, out=out), out.getvalue()


@pytest.fixture(scope="module")
def trace() -> dict:
    return record_traces(BacktrackAgent(), ENV, 1, seed=SEED, reveal=True, agent_spec="backtrack")[0]


def play_directly() -> tuple[list[dict], dict, float]:
    """The same episode, played without r1gym.view: every info, and the reward."""
    env = gym.make(ENV, reveal=True, obs_mode="text", step_labels=True)
    agent = BacktrackAgent()
    obs, info = env.reset(seed=episode_seeds(SEED, 1)[0])
    infos, total, done = [info], 0.0, False
    while not done:
        obs, r, term, trunc, info = env.step(agent.act(obs, {k: v for k, v in info.items() if k != "on_path"}))
        infos.append(info)
        total += r
        done = term or trunc
    return infos, info, total


def test_the_trace_is_the_episode(trace) -> None:
    infos, last, total = play_directly()
    f = trace["final"]
    assert f["path_length"] == len(last["path"]) == len(f["path"])
    assert f["backtracks"] == last["backtracks"] >= 2
    assert sum(m["kind"] == "backtrack" for m in trace["moves"]) == f["backtracks"]
    assert f["steps"] == len(trace["moves"]) == last["steps"]
    assert f["reward_terms"] == last["reward_terms"] and f["reward"] == pytest.approx(total)
    assert f["is_correct"] == last["is_correct"] and f["answer"] == last["answer"]
    assert f["weights"] == {"accuracy": 0.6, "efficiency": 0.3, "novelty": 0.1} and f["mode"] == "gated"
    # each move lands where the env went, with the judge's label of the node it entered
    nodes = trace["nodes"]
    for move, info in zip(trace["moves"], infos[1:]):
        node = nodes[move["node"]]
        assert node["depth"] == info["depth"]
        assert node["label"] == info["step_label"] and node["on_path"] == info["on_path"]
    assert any(n["label"] == "wrong" for n in nodes) and any(m.get("revisit") for m in trace["moves"])
    # revealed: every candidate shown is judged, and where the path is on the reference, one candidate keeps it
    for node in nodes:
        assert all("label" in c and "on_path" in c for c in node["candidates"])
        if node["on_path"] and node["candidates"]:
            assert sum(c["on_path"] for c in node["candidates"]) == 1
        for c in node["candidates"]:
            if c["child"] is not None:
                assert nodes[c["child"]]["label"] == c["label"] and nodes[c["child"]]["parent"] == node["id"]
    assert trace["reference_steps"] and trace["reveal"] is True


def test_without_reveal_the_oracle_stays_hidden() -> None:
    t = record_traces(BacktrackAgent(), ENV, 1, seed=SEED)[0]
    assert t["reveal"] is False and t["reference_steps"] is None
    assert all(n["on_path"] is None for n in t["nodes"])
    assert all("on_path" not in c and "label" not in c for n in t["nodes"] for c in n["candidates"])
    assert any(n["label"] == "wrong" for n in t["nodes"])  # the judge's labels of the steps taken stay


def test_a_tree_export_gives_the_same_moves(tmp_path) -> None:
    code, text = run(["export", "R1Arith-v0", "--agent", "backtrack", "--episodes", "4", "--seed", "1"] +
                     ["--format", "tree", "--out", str(tmp_path / "tree")])  # fmt: skip
    assert code == 0, text
    live = record_traces(BacktrackAgent(), "R1Arith-v0", 4, seed=1)
    read = traces_from_export(tmp_path / "tree")
    assert len(read) == 4
    for a, b in zip(live, read):
        assert [(m["kind"], m["node"], m["action"]) for m in a["moves"]] == [
            (m["kind"], m["node"], m["action"]) for m in b["moves"]
        ]
        for key in ("path", "path_length", "backtracks", "revisits", "is_correct"):
            assert a["final"][key] == b["final"][key], key
        assert b["final"]["reward_terms"] is None  # the tree format does not keep them


def test_a_bad_export_names_the_file_and_line(tmp_path, capsys) -> None:
    bad = tmp_path / "data.jsonl"
    bad.write_text('{"episode": 0}\n')
    with pytest.raises(ValueError, match=r"data\.jsonl line 1: not a tree row"):
        traces_from_export(bad)
    bad.write_text("\n{oops\n")
    with pytest.raises(ValueError, match=r"data\.jsonl line 2: not JSON"):
        traces_from_export(bad)
    bad.write_text('{"messages": []}\n')
    code, _ = run(["view", "--from", str(bad), "--out", str(tmp_path / "v.html")])
    err = capsys.readouterr().err
    assert code == 2 and "line 1: a row of the sft format" in err and "--format tree" in err


class Dither:
    """Expands the first candidate and backs up, again and again, until the step limit."""

    name = "dither"

    def reset(self) -> None:
        self.n = 0

    def act(self, obs, info):
        self.n += 1
        return 0 if self.n % 2 else len(obs["confidence"])


class Writer:
    """Writes a step of its own (not a candidate), then submits."""

    name = "writer"

    def reset(self) -> None:
        self.n = 0

    def act(self, obs, info):
        self.n += 1
        return "I think 2 + 2 = 4." if self.n == 1 else "<submit>"


def test_a_cut_episode_and_a_written_step() -> None:
    (t,) = record_traces(Dither(), "R1Arith-v0", 1, seed=0)
    f = t["final"]
    assert f["truncated"] and not f["terminated"] and f["reward_terms"] is None and f["answer"] is None
    assert f["backtracks"] == sum(m["kind"] == "backtrack" for m in t["moves"]) > 0 and len(t["nodes"]) == 2
    (w,) = record_traces(Writer(), "R1Arith-v0", 1, seed=0, reveal=True, env_kwargs={"action_mode": "write"})
    written = w["nodes"][1]
    assert (written["text"], written["index"], written["label"]) == ("I think 2 + 2 = 4.", None, "wrong")
    assert [m["kind"] for m in w["moves"]] == ["expand", "submit"] and w["action_mode"] == "write"
    assert "I think 2 + 2 = 4." in render_page([t, w])


def page_traces(page: str) -> list[dict]:
    m = re.search(r'<script type="application/json" id="traces">(.*?)</script>', page, re.S)
    return json.loads(m.group(1))


def test_the_cli_writes_a_page_that_fetches_nothing(tmp_path) -> None:
    out = tmp_path / "tree.html"
    code, text = run(["view", ENV, "--agent", "backtrack", "--seed", str(SEED), "--reveal", "--out", str(out)])
    assert code == 0 and f"wrote {out}: 1 episode" in text
    page = out.read_text()
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\(", page)  # nothing to load
    assert len(page) < 60_000
    (t,) = page_traces(page)
    assert t["final"]["backtracks"] == record_traces(BacktrackAgent(), ENV, 1, seed=SEED)[0]["final"]["backtracks"]
    code, _ = run(["view", "R1Arith-v0", "--agent", "greedy", "--episodes", "3", "--out", str(out)])
    assert code == 0 and len(page_traces(out.read_text())) == 3


def test_text_that_looks_like_html_stays_text() -> None:
    t = record_traces(BacktrackAgent(), "R1Arith-v0", 1, seed=0)[0]
    t["question"] = "</script><script>alert(1)</script> & <b>"
    page = render_page([t])
    assert "</script><script>alert" not in page
    assert page_traces(page)[0]["question"] == t["question"]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["view", ENV, "--agent", "nope"], "agent spec 'nope' does not resolve"),
        (["view", "R1Nope-v0", "--agent", "greedy"], "unknown environment id"),
        (["view", "--from", "/no/such/export.jsonl"], "no such file"),
        (["view", ENV, "--agent", "greedy", "--from", "x.jsonl"], "leave out ENV_ID, --agent"),
        (["view"], "give ENV_ID and --agent SPEC"),
        (["view", ENV, "--agent", "greedy", "--episodes", "0"], "--episodes must be at least 1"),
    ],
)
def test_bad_input_is_one_sentence(argv, says, tmp_path, capsys) -> None:
    code, _ = run([*argv, "--out", str(tmp_path / "v.html")])
    err = capsys.readouterr().err
    assert code == 2 and says in err and "Traceback" not in err
    assert not (tmp_path / "v.html").exists()


@pytest.mark.parametrize("where", ["missing-folder", "folder", "read-only"])
def test_an_unwritable_out_is_said(where, tmp_path, capsys) -> None:
    if where == "read-only" and os.geteuid() == 0:
        pytest.skip("root writes into a read-only folder")
    target = {"missing-folder": tmp_path / "no" / "v.html", "folder": tmp_path, "read-only": tmp_path / "ro" / "v.html"}
    if where == "read-only":
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro").chmod(0o500)
    code, _ = run(["view", "R1Arith-v0", "--agent", "greedy", "--out", str(target[where])])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("r1gym: --out") and "Traceback" not in err


# --- in a browser ---------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Colours of the page's stylesheet: the bar marking a row of the path (blue, or orange on a wrong
#: step), the row's background behind it, the stripe of a backtrack in the timeline.
ACCENT, BAD = (0x00, 0x72, 0xB2), (0xC2, 0x41, 0x0C)
ROW_BG = {(0xE6, 0xF1, 0xFA), (0xFD, 0xEC, 0xE3)}


def chromium(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    flags = ["--headless", "--disable-gpu", "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1"]
    flags += ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium refuses root with its sandbox
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=timeout)


def runs(ys: list[int]) -> list[int]:
    """The lengths of the runs of consecutive numbers in sorted ``ys``."""
    out: list[int] = []
    for i, y in enumerate(ys):
        if i and y == ys[i - 1] + 1:
            out[-1] += 1
        else:
            out.append(1)
    return out


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium; .ci/run does)")
def test_the_page_in_a_browser(tmp_path) -> None:
    image = pytest.importorskip("PIL.Image", reason="the screenshot is read with Pillow (matplotlib's dependency)")
    page = tmp_path / "tree.html"
    code, _ = run(["view", ENV, "--agent", "backtrack", "--seed", str(SEED), "--reveal", "--out", str(page)])
    assert code == 0
    (t,) = page_traces(page.read_text())
    f = t["final"]
    url = page.as_uri() + "#test"  # the page's self-test: click, step the slider, write what it showed
    start = time.perf_counter()
    window = "--window-size=1280,2000"  # both runs: the same layout, so the rects read apply to the screenshot
    proc = chromium(window, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000", "--dump-dom", url)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console  # the page writes nothing to the console: no error, no warning
    m = re.search(r'<pre id="test-result"[^>]*>(.*?)</pre>', proc.stdout, re.S)
    assert m and m.group(1), "the page's self-test wrote nothing: its script did not run to the end"
    got = json.loads(m.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    assert got["errors"] == []
    # a node folds and unfolds on click (its children hidden, then shown)
    assert (got["folded"], got["hiddenWhenFolded"]) == ("true", True)
    assert (got["unfolded"], got["visibleWhenUnfolded"]) == ("false", True)
    # the slider steps through the real episode: each move's node becomes current, the counts follow
    steps = got["steps"]
    assert [s["step"] for s in steps] == list(range(len(t["moves"]) + 1))
    assert len({s["text"] for s in steps}) == len(steps)  # the current-step element changes every move
    assert [s["current"] for s in steps] == [0] + [mv["node"] for mv in t["moves"]]
    backtracks = 0
    for s, mv in zip(steps[1:], t["moves"]):
        backtracks += mv["kind"] == "backtrack"
        assert s["backtracks"] == backtracks and s["pathLength"] == t["nodes"][mv["node"]]["depth"]
    assert (got["final"]["pathLength"], got["final"]["backtracks"]) == (f["path_length"], f["backtracks"])
    assert f"{f['path_length']}path length{f['backtracks']}backtracks" in got["final"]["summary"]
    assert steps[-1]["nodes"] == len(t["nodes"])

    # the screenshot: the same page after its self-test, read back pixel by pixel
    shot = tmp_path / "view.png"
    proc = chromium(window, "--virtual-time-budget=3000", f"--screenshot={shot}", url)
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    img = image.open(shot).convert("RGB")
    assert img.size == (1280, 2000)
    assert len(img.getcolors(1 << 20) or []) > 200  # text, bars and colours, not a blank page
    px = img.load()
    left, top, right, bottom = got["rects"]["tree"]
    assert 0 <= top < bottom <= img.size[1], "the tree is not all in the screenshot"
    # the path's rows: each starts with a bar 3 pixels wide, blue (orange on a wrong step), as tall as the row
    hits: dict[int, list[int]] = {}
    for y in range(top, bottom):
        for x in range(max(left - 2, 1), right - 4):
            c = px[x, y]
            if c in (ACCENT, BAD) and px[x + 1, y] == px[x + 2, y] == c != px[x - 1, y] and px[x + 3, y] in ROW_BG:
                hits.setdefault(x, []).append(y)
    bars = sum(1 for ys in hits.values() for run in runs(ys) if run >= 12)  # taller than a glyph
    assert bars == f["path_length"] + 1  # the root and the path the episode ended on
    left, top, right, bottom = got["rects"]["timeline"]
    stripes = [y for y in range(top, min(bottom, img.size[1])) if px[left + 1, y] == BAD]
    assert len([r for r in runs(stripes) if r >= 12]) == f["backtracks"]  # a striped row per backtrack, in the timeline
    print(f"browser checks: {time.perf_counter() - start:.1f} s")
