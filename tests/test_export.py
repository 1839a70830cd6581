"""``r1gym export``: every format loads with ``datasets`` and round-trips; bad arguments are refused early."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import gymnasium as gym
import pytest

datasets = pytest.importorskip("datasets")

import r1gym  # noqa: E402
from r1gym.cli import main  # noqa: E402
from r1gym.export import DATA_FILE, FORMATS, MANIFEST_FILE, STEPWISE_LABELS, export, replay_actions  # noqa: E402


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, out=out), out.getvalue()


def load(folder: Path, tmp_path: Path):
    return datasets.load_dataset(
        "json", data_files=str(folder / DATA_FILE), split="train", cache_dir=str(tmp_path / "hf-cache")
    )


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    """Each format from the same 12 backtracking episodes of R1Math-v0 (wrong steps and backtracks)."""
    root = tmp_path_factory.mktemp("export")
    for fmt in FORMATS:
        code, text = run(
            ["export", "R1Math-v0", "--agent", "backtrack", "--episodes", "12", "--seed", "3"]
            + ["--format", fmt, "--out", str(root / fmt)]
        )
        assert code == 0, text
        assert f"12 episodes to {root / fmt / DATA_FILE}" in text
    return {fmt: root / fmt for fmt in FORMATS}


def manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST_FILE).read_text())


def test_manifest_says_how_to_reproduce(exports) -> None:
    m = manifest(exports["sft"])
    assert m["r1gym_version"] == r1gym.__version__
    assert (m["format"], m["env_id"], m["agent"], m["episodes"], m["seed"]) == ("sft", "R1Math-v0", "backtrack", 12, 3)
    assert len(m["episode_seeds"]) == 12 and len(set(m["episode_seeds"])) == 12
    assert m["env_kwargs"] == {} and m["num_candidates"] == 4 and m["action_mode"] == "menu"
    steps = m["label_counts"]["steps"]
    assert set(steps) == {"correct", "wrong", "neutral", "continues_error"} and steps["correct"] > 0
    # every format of the same run saw the same steps
    assert all(manifest(f)["label_counts"]["steps"] == steps for f in exports.values())
    assert all(manifest(f)["episode_seeds"] == m["episode_seeds"] for f in exports.values())


def test_stepwise_is_trls_format(exports, tmp_path) -> None:
    ds = load(exports["stepwise"], tmp_path)
    assert len(ds) == 12
    assert ds.features["prompt"].dtype == "string"
    assert ds.features["completions"].feature.dtype == "string"
    assert ds.features["labels"].feature.dtype == "bool"
    for row in ds:
        assert len(row["completions"]) == len(row["labels"]) == len(row["step_labels"])
        for ok, label, cont in zip(row["labels"], row["step_labels"], row["continues_error"]):
            assert ok == (STEPWISE_LABELS["continues_error"] if cont else STEPWISE_LABELS[label])
    assert manifest(exports["stepwise"])["label_counts"]["labels"]["true"] == sum(sum(r["labels"]) for r in ds)


def test_first_error_is_processbench_shape_and_agrees_with_stepwise(exports, tmp_path) -> None:
    fe = load(exports["first-error"], tmp_path)
    sw = load(exports["stepwise"], tmp_path)
    for col in ("id", "generator", "problem", "steps", "final_answer_correct", "label"):
        assert col in fe.column_names
    assert fe.features["label"].dtype == "int64" and fe.features["final_answer_correct"].dtype == "bool"
    for a, b in zip(fe, sw):
        assert a["problem"] == b["prompt"] and a["steps"] == b["completions"]
        first_false = next((i for i, ok in enumerate(b["labels"]) if not ok), -1)
        assert a["label"] == first_false
        assert a["final_answer_correct"] == b["is_correct"]
        assert a["generator"] == "backtrack"


def test_tree_holds_every_visit(exports, tmp_path) -> None:
    ds = load(exports["tree"], tmp_path)
    by_episode: dict[int, list[dict]] = {}
    for row in ds:
        by_episode.setdefault(row["episode"], []).append(row)
    assert sorted(by_episode) == list(range(12))
    revisits = 0
    for rows in by_episode.values():
        ids = {r["node_id"]: r for r in rows}
        root = ids[0]
        assert root["parent_id"] == -1 and root["path"] == [] and root["label"] is None and root["first_visit"] == 0
        for r in rows:
            assert r["visits"] == sorted(r["visits"]) and r["first_visit"] == r["visits"][0]
            if r["node_id"]:
                parent = ids[r["parent_id"]]
                assert r["path"] == parent["path"] + [r["text"]] and r["depth"] == parent["depth"] + 1
                assert r["label"] in ("correct", "wrong", "neutral") and r["on_path"] is not None
                assert parent["first_visit"] < r["first_visit"]
            revisits += r["revisits"]
        assert sum(r["submitted"] for r in rows) <= 1
    assert revisits > 0, "the backtracking agent returns to nodes: their revisits are recorded"


def replay(folder: Path, tmp_path: Path) -> None:
    """Replay every sft episode's assistant actions in a fresh env made from the manifest."""
    m = manifest(folder)
    ds = load(folder, tmp_path)
    env = gym.make(m["env_id"], **m["env_kwargs"])
    assert len(ds) == m["episodes"]
    for row, seed in zip(ds, m["episode_seeds"]):
        assert row["seed"] == seed
        env.reset(seed=seed)
        total, term, trunc, info = 0.0, False, False, {}
        for action in replay_actions(row["messages"], row["num_candidates"], row["action_mode"]):
            assert not (term or trunc), "actions after the episode ended"
            _, r, term, trunc, info = env.step(action)
            total += r
        assert term == row["terminated"] and (trunc and not term) == row["truncated"]
        assert total == pytest.approx(row["reward"], abs=1e-12)
        if term:
            assert info["answer"] == row["answer"] and info["is_correct"] == row["is_correct"]
    env.close()


def test_sft_replays_to_the_same_rewards(exports, tmp_path) -> None:
    ds = load(exports["sft"], tmp_path)
    row = ds[0]
    roles = [msg["role"] for msg in row["messages"]]
    assert roles[:2] == ["system", "user"] and roles[-1] == "assistant"
    assert all(a != b for a, b in zip(roles[1:], roles[2:])), "user and assistant alternate"
    tokens = {msg["content"] for r in ds for msg in r["messages"] if msg["role"] == "assistant"}
    assert "<backtrack>" in tokens and "<submit>" in tokens
    replay(exports["sft"], tmp_path)


@pytest.mark.parametrize(
    "agent,kwargs",
    [
        ("random", ["difficulty=hard"]),  # invalid and masked moves, truncations
        ("oracle", ["action_mode=write", "num_candidates=0"]),  # written steps
        ("greedy", ["action_mode=write"]),  # menu actions written as tokens
        ("best-first", []),  # a planner looking ahead in the env
    ],
)
def test_sft_round_trips_for_other_agents_and_modes(tmp_path, agent, kwargs) -> None:
    out = tmp_path / "out"
    code, text = run(
        ["export", "R1Arith-v0", *kwargs, "--agent", agent, "--episodes", "6", "--format", "sft", "--out", str(out)]
    )
    assert code == 0, text
    replay(out, tmp_path)
    if agent == "oracle":
        assert all(r["is_correct"] for r in load(out, tmp_path))


def test_vector_agents_play_in_lockstep_to_the_same_data(tmp_path) -> None:
    """An agent that reads vectors plays its own env beside the recording one: the same episodes."""
    a = export("R1Math-v0", "greedy", 5, "tree", tmp_path / "a", seed=1)
    b = export("R1Math-v0", "greedy", 5, "tree", tmp_path / "b", seed=1, obs_mode="vector")
    assert (tmp_path / "a" / DATA_FILE).read_bytes() == (tmp_path / "b" / DATA_FILE).read_bytes()
    assert a["label_counts"] == b["label_counts"]


def test_same_seed_same_bytes_and_oracle_labels(tmp_path) -> None:
    export("R1Algebra-v0", "oracle", 4, "stepwise", tmp_path / "a", seed=7)
    export("R1Algebra-v0", "oracle", 4, "stepwise", tmp_path / "b", seed=7)
    data = (tmp_path / "a" / DATA_FILE).read_bytes()
    assert data == (tmp_path / "b" / DATA_FILE).read_bytes()
    rows = [json.loads(line) for line in data.decode().splitlines()]
    assert all(all(r["labels"]) and r["is_correct"] for r in rows), "the oracle's steps are all correct"


# --- refusals: one or two sentences, exit status 2, nothing played or written ---------------------


def refused(capsys, argv: list[str], words: str, max_lines: int = 2) -> None:
    code, _ = run(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) <= max_lines, err


def base(out: Path, *extra: str, kwargs: tuple[str, ...] = ()) -> list[str]:
    args = ["--agent", "greedy", "--episodes", "2", "--format", "sft", "--out", str(out), *extra]
    return ["export", "R1Arith-v0", *kwargs, *args]


def test_refuses_a_file_a_non_empty_folder_and_overwrites_on_request(tmp_path, capsys) -> None:
    f = tmp_path / "file.jsonl"
    f.write_text("x")
    refused(capsys, base(f), "is a file")
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("keep")
    refused(capsys, base(full), "--overwrite")
    assert not (full / DATA_FILE).exists()
    assert run(base(full, "--overwrite"))[0] == 0
    assert (full / DATA_FILE).exists() and (full / "notes.txt").read_text() == "keep"
    assert run(base(full, "--overwrite"))[0] == 0  # again, over its own data


def test_refuses_bad_arguments_before_playing(tmp_path, capsys) -> None:
    out = tmp_path / "new" / "deeper"
    refused(capsys, base(out) + ["--format", "parquet"], "unknown --format 'parquet'")
    refused(capsys, base(out) + ["--episodes", "0"], "--episodes must be at least 1")
    refused(
        capsys, base(out) + ["--agent", "gredy"], "does not resolve", max_lines=6
    )  # eval's message: the valid forms
    refused(capsys, base(out, kwargs=("reveal=true",)), "reveal")
    refused(capsys, base(out, kwargs=("num_candidate=3",)), "num_candidate")
    refused(capsys, ["export", "R1Chess-v0", "--agent", "greedy", "--format", "sft", "--out", str(out)], "R1Chess-v0")
    assert not out.exists() and not out.parent.exists()


def test_refuses_an_unwritable_folder(tmp_path, capsys, monkeypatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root writes into read-only folders: say the folder is not writable
        monkeypatch.setattr(os, "access", lambda path, mode: False)
    else:
        locked.chmod(0o500)
    try:
        refused(capsys, base(locked), "not writable")
        refused(capsys, base(locked / "sub"), "cannot be created")
    finally:
        locked.chmod(0o700)
