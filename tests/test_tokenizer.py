"""r1gym's tokenizer: exact round trips, single-id action tokens, deterministic rebuilds, offline loading."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from r1gym.tokenizer import (
    ACTION_TOKENS,
    SPECIAL_TOKENS,
    action_token,
    action_token_ids,
    load_tokenizer,
    save_tokenizer,
    shipped_tokenizer_path,
    train_tokenizer,
)

pytest.importorskip("tokenizers")
pytest.importorskip("transformers")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer()


def build(tmp: Path, *args: str) -> tuple[Path, list[str]]:
    """Run scripts/build_tokenizer.py as a user does; returns the tokenizer file and the corpus."""
    out, texts = tmp / "tok.json", tmp / "corpus.json"
    cmd = [sys.executable, str(ROOT / "scripts" / "build_tokenizer.py"), "--out", str(out), "--corpus-out", str(texts)]
    done = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, json.loads(texts.read_text())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return build(tmp_path_factory.mktemp("corpus"), "--episodes", "2", "--seed", "7", "--vocab-size", "400")[1]


def test_corpus_covers_every_environment_and_is_deterministic(corpus, tmp_path: Path) -> None:
    assert corpus == build(tmp_path, "--episodes", "2", "--seed", "7", "--vocab-size", "400")[1]
    joined = "\n".join(corpus)
    for marker in ("Compute", "Solve for x", "def ", "Candidates:", "Action:", "backtrack", "The answer is"):
        assert marker in joined, marker
    assert build(tmp_path, "--episodes", "2", "--seed", "8", "--vocab-size", "400")[1] != corpus


def test_round_trip_on_env_texts(tok, corpus) -> None:
    for text in corpus:
        ids = tok.encode(text)
        assert tok.decode(ids) == text
        assert tok.decode(ids, skip_special_tokens=True) == text
    assert tok.encode("Step 1: 12 * 3 = 36.")[0] != tok.bos_token_id  # nothing is added on encode


@pytest.mark.parametrize("text", ["héllo wörld 🤖 中文", "\tdef f(x):\r\n\x00\x7f  return x  ", "ünïcödé → ∞ ≠ 0"])
def test_unknown_characters_survive(tok, text) -> None:
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert tok.unk_token_id is None or tok.unk_token_id not in ids


def test_digits_are_split_one_by_one(tok) -> None:
    pieces = [tok.decode([i]) for i in tok.encode("12345")]
    assert pieces == ["1", "2", "3", "4", "5"]


def test_action_tokens_are_single_fixed_ids(tok) -> None:
    for i, t in enumerate(SPECIAL_TOKENS):
        assert tok.convert_tokens_to_ids(t) == i
    for t in ACTION_TOKENS:
        assert tok.encode(t) == [tok.convert_tokens_to_ids(t)]
        assert tok.decode(tok.encode(f"Action:{t}"), skip_special_tokens=True) == f"Action:{t}"  # kept on decode
    assert (tok.pad_token_id, tok.bos_token_id, tok.eos_token_id) == (0, 1, 2)
    ids = action_token_ids(tok, 4)
    assert tok.convert_ids_to_tokens(ids) == [
        "<expand_0>",
        "<expand_1>",
        "<expand_2>",
        "<expand_3>",
        "<backtrack>",
        "<submit>",
    ]
    assert action_token(5, 4) == "<submit>" and action_token(15, 16) == "<expand_15>"
    with pytest.raises(ValueError, match="action must be in"):
        action_token(6, 4)


def test_rebuild_is_deterministic(corpus, tmp_path: Path) -> None:
    a = train_tokenizer(corpus, vocab_size=400)
    b = train_tokenizer(list(corpus), vocab_size=400)
    assert a.get_vocab_size() == 400
    assert a.to_str() == b.to_str()
    path = save_tokenizer(a, tmp_path / "tok.json")
    small = load_tokenizer(path)
    assert len(small) == 400 and small.decode(small.encode(corpus[-1])) == corpus[-1]
    with pytest.raises(ValueError, match="at least"):
        train_tokenizer(corpus, vocab_size=100)


def test_shipped_file_is_small_and_loads_offline(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    path = shipped_tokenizer_path()
    assert path.is_file() and path.stat().st_size < 1_000_000
    tok = load_tokenizer()
    assert 2000 <= len(tok) <= 4096


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist.*build_tokenizer.py"):
        load_tokenizer(tmp_path / "missing.json")


def test_build_script_writes_the_file(tmp_path: Path) -> None:
    out, texts = build(tmp_path, "--episodes", "2", "--vocab-size", "300", "--env-ids", "R1Arith-v0")
    assert len(load_tokenizer(out)) == 300 and texts
