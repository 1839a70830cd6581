"""Prioritized replay: the sum tree against numpy, the sampling law, weights, persistence,
the trajectory recorder and the stable-baselines3 buffers."""

from __future__ import annotations

import doctest
import pickle
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import r1gym  # noqa: F401  (registers the ids)
from r1gym.replay import MinTree, PrioritizedReplay, SumTree
from r1gym.replay import prioritized as prioritized_module
from r1gym.replay import sumtree as sumtree_module
from r1gym.wrappers import record as record_module
from r1gym.wrappers.record import Trajectory, TrajectoryRecorder

try:
    from scipy.stats import chisquare
except ImportError:  # pragma: no cover - scipy is in the dev environment
    chisquare = None

SIZES = [1, 2, 3, 5, 8, 100, 1000, 1023, 1025]


def chi2_pvalue(counts: np.ndarray, probs: np.ndarray) -> float | None:
    """p-value of Pearson's chi-square test (None without scipy: see chi2_ok)."""
    keep = probs > 0
    expected = probs[keep] * counts.sum()
    return float(chisquare(counts[keep], expected).pvalue) if chisquare is not None else None


def chi2_ok(counts: np.ndarray, probs: np.ndarray) -> bool:
    """Whether ``counts`` fit ``probs`` at the 0.1 % level (a fixed critical value without scipy)."""
    if counts[probs == 0].any():
        return False
    p = chi2_pvalue(counts, probs)
    if p is not None:
        return p > 1e-3
    keep = probs > 0
    expected = probs[keep] * counts.sum()
    stat = float(((counts[keep] - expected) ** 2 / expected).sum())
    dof = int(keep.sum()) - 1
    # Wilson-Hilferty approximation of the 99.9 % quantile of chi-square(dof)
    z = 3.090
    return stat < dof * (1 - 2 / (9 * dof) + z * np.sqrt(2 / (9 * dof))) ** 3


def mixed_rewards(rng: np.random.Generator, n: int) -> np.ndarray:
    r = rng.uniform(0.0, 1.0, n)
    r[rng.random(n) < 0.3] = 0.0
    r[:3] = [1.0, 0.0, -0.01]  # the best, a zero, and exactly -eps (priority 0)
    return r


# ---------------------------------------------------------------------------- sum tree


@pytest.mark.parametrize("size", SIZES)
def test_sumtree_matches_cumsum_searchsorted(size: int) -> None:
    rng = np.random.default_rng(size)
    values = rng.random(size)
    values[rng.random(size) < 0.4] = 0.0
    values[rng.integers(size)] = 0.5  # at least one positive leaf
    tree = SumTree(size)
    assert tree.bound >= size and tree.bound & (tree.bound - 1) == 0
    tree[np.arange(size)] = values
    np.testing.assert_allclose(tree.total(), values.sum(), rtol=1e-12)
    np.testing.assert_array_equal(tree.get(np.arange(size)), values)
    np.testing.assert_array_equal(tree.values(), values)
    cumsum = np.cumsum(values)
    queries = rng.random(5000) * values.sum()
    found = tree.find_prefixsum_idx(queries)
    np.testing.assert_array_equal(found, np.searchsorted(cumsum, queries, side="right"))
    assert values[found].min() > 0


@pytest.mark.parametrize("size", SIZES)
def test_sumtree_boundaries_never_return_zero_leaves(size: int) -> None:
    rng = np.random.default_rng(100 + size)
    values = rng.integers(0, 3, size).astype(float)  # integers: every prefix sum is exact
    values[-1] = 0.0 if size > 1 else 1.0
    if values.sum() == 0:
        values[0] = 2.0
    tree = SumTree(size)
    tree.update(np.arange(size), values)
    cumsum = np.cumsum(values)
    positive = np.flatnonzero(values)
    edges = np.concatenate([[0.0], cumsum, [cumsum[-1] + 5.0, -1.0]])
    found = tree.find_prefixsum_idx(edges)
    assert values[found].min() > 0
    # exactly at a prefix sum the next positive leaf is found; past the total, the last one;
    # below 0, the first one
    expected = np.searchsorted(cumsum, edges[:-2], side="right").clip(max=positive[-1])
    np.testing.assert_array_equal(found[:-2], expected)
    assert found[-2] == positive[-1] and found[-1] == positive[0]


def test_sumtree_rounding_never_enters_an_empty_subtree() -> None:
    # values whose sums round: the search must still land on positive leaves
    values = np.array([1e-17, 1.0, 0.0, 0.0, 3e-17, 0.1, 0.0, 0.0, 0.2, 1e-300, 0.0])
    tree = SumTree(values.size)
    tree.update(np.arange(values.size), values)
    total = tree.total()
    queries = np.concatenate([np.linspace(0, total, 10_001), np.nextafter(total, 0) - np.arange(50) * 1e-17])
    assert values[tree.find_prefixsum_idx(queries)].min() > 0


def test_sumtree_scalar_query_and_sizes() -> None:
    tree = SumTree(1)
    tree[0] = 2.0
    assert tree.total() == 2.0 and tree.bound == 1 and len(tree) == 1
    assert tree.find_prefixsum_idx(1.5).tolist() == [0]
    assert tree[0] == 2.0


def test_sumtree_update_repeats_and_paths_agree() -> None:
    rng = np.random.default_rng(0)
    size = 1000
    big, small = SumTree(size), SumTree(size)
    values = rng.random(size)
    big.update(np.arange(size), values)  # the whole-level path
    for chunk in np.array_split(np.arange(size), 50):  # the gather path, 20 at a time
        small.update(chunk, values[chunk])
    np.testing.assert_array_equal(big._value, small._value)
    small.update([3, 7, 3], [0.25, 0.5, 0.75])  # a repeated index: the last value wins
    assert small[3] == 0.75 and small[7] == 0.5
    np.testing.assert_allclose(small.total(), small.values().sum(), rtol=1e-12)
    small.update(np.arange(10), 0.0)  # a scalar for all
    assert small.get(np.arange(10)).sum() == 0.0
    restored = pickle.loads(pickle.dumps(small))
    np.testing.assert_array_equal(restored.values(), small.values())
    assert restored.find_prefixsum_idx(0.3).tolist() == small.find_prefixsum_idx(0.3).tolist()


def test_mintree() -> None:
    tree = MinTree(5)
    assert tree.min() == np.inf
    tree.update([1, 3], [2.0, 0.5])
    assert tree.min() == 0.5
    tree.update(3, np.inf)
    assert tree.min() == 2.0
    tree.reset()
    assert tree.min() == np.inf


def test_sumtree_errors() -> None:
    with pytest.raises(ValueError, match=">= 1"):
        SumTree(0)
    with pytest.raises(TypeError, match="int"):
        SumTree(2.5)  # type: ignore[arg-type]
    tree = SumTree(4)
    with pytest.raises(ValueError, match="all 0"):
        tree.find_prefixsum_idx([0.1])
    with pytest.raises(ValueError, match=">= 0"):
        tree.update([0], [-1.0])
    with pytest.raises(ValueError, match="finite"):
        tree.update([0], [np.nan])
    with pytest.raises(IndexError, match="out of range"):
        tree.update([4], [1.0])
    with pytest.raises(IndexError, match="out of range"):
        tree.get([-1])
    with pytest.raises(ValueError, match="one value per index"):
        tree.update([0, 1], [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="integers"):
        tree.update([0.5], [1.0])
    tree.update([0], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        tree.find_prefixsum_idx([np.nan])
    with pytest.raises(ValueError, match="NaN"):
        MinTree(2).update([0], [np.nan])


# ---------------------------------------------------------------------------- prioritized replay


def test_probabilities_follow_the_design_formula() -> None:
    rng = np.random.default_rng(1)
    rewards = mixed_rewards(rng, 50)
    replay = PrioritizedReplay(50, omega=0.7, eps=1e-2)
    replay.add_batch([f"item {i}" for i in range(50)], rewards)
    p = (rewards + 1e-2) ** 0.7
    np.testing.assert_allclose(replay.probabilities(), p / p.sum(), rtol=1e-12)
    assert replay.probabilities()[2] == 0.0  # reward == -eps
    np.testing.assert_allclose(replay.priority(rewards), p)


def test_sampling_frequencies_match_p_and_follow_updates() -> None:
    rng = np.random.default_rng(2)
    n = 50
    rewards = mixed_rewards(rng, n)
    replay = PrioritizedReplay(n, omega=0.7, eps=1e-2)
    replay.add_batch(list(range(n)), rewards)
    probs = replay.probabilities()
    counts = np.zeros(n, dtype=np.int64)
    for _ in range(200):
        items, idx, _ = replay.sample(1000, rng)
        assert items == idx.tolist()
        counts += np.bincount(idx, minlength=n)
    assert counts.sum() == 200_000 and counts[2] == 0  # the priority-0 item is never drawn
    assert chi2_ok(counts, probs)
    # controls: the same counts do not pass as uniform draws, nor as omega = 0.8
    assert not chi2_ok(counts, np.full(n, 1 / n))
    p08 = (rewards + 1e-2) ** 0.8
    assert not chi2_ok(counts, p08 / p08.sum())
    # stratified batches are more even than independent draws (the statistic is small); draws
    # of one are independent, so they check the law with the test's nominal level
    single = np.bincount([int(replay.sample(1, rng)[1][0]) for _ in range(20_000)], minlength=n)
    assert chi2_ok(single, probs)

    # updates move the frequencies: the ten least rewarded now get reward 1, the rest 0
    low = np.argsort(rewards)[1:11]
    new = np.zeros(n)
    new[low] = 1.0
    replay.update(np.arange(n), new)
    probs2 = replay.probabilities()
    np.testing.assert_allclose(probs2[low], (1.01**0.7) / (10 * 1.01**0.7 + 40 * 0.01**0.7))
    counts2 = np.zeros(n, dtype=np.int64)
    for _ in range(50):
        counts2 += np.bincount(replay.sample(1000, rng)[1], minlength=n)
    assert chi2_ok(counts2, probs2)
    assert not chi2_ok(counts2, probs)


def test_importance_weights_edges() -> None:
    rng = np.random.default_rng(3)
    equal = PrioritizedReplay(20, beta=0.4)
    equal.add_batch(range(20), np.full(20, 0.3))
    np.testing.assert_allclose(equal.sample(64, rng)[2], 1.0)

    rewards = np.linspace(0.0, 1.0, 20)
    no_correction = PrioritizedReplay(20, beta=0.0, beta_final=0.0)
    no_correction.add_batch(range(20), rewards)
    np.testing.assert_array_equal(no_correction.sample(64, rng)[2], 1.0)

    replay = PrioritizedReplay(20, omega=0.7, eps=1e-2, beta=0.5, beta_final=0.5)
    replay.add_batch(range(20), rewards)
    probs = replay.probabilities()
    _, idx, w = replay.sample(4000, rng)
    n = len(replay)
    expected = (n * probs[idx]) ** -0.5 / ((n * probs.min()) ** -0.5)
    np.testing.assert_allclose(w, expected, rtol=1e-10)
    assert 0 in idx and np.allclose(w[idx == 0], 1.0)  # the least probable item weighs 1
    assert w.max() <= 1.0 + 1e-12 and w[idx == 19].max() < w[idx == 0].min()

    # the normalization uses the least probable *stored* item, also after it is updated away
    replay.update([0], [0.5])
    _, idx, w = replay.sample(4000, rng)
    assert np.allclose(w[idx == 1], 1.0) and w.max() <= 1.0 + 1e-12


def test_priority_zero_items_do_not_break_the_weights() -> None:
    replay = PrioritizedReplay(4, eps=0.05, beta=1.0)
    replay.add_batch(["gone", "a", "b", "c"], [-0.05, 0.0, 0.5, 1.0])
    items, idx, w = replay.sample(300, np.random.default_rng(4))
    assert "gone" not in items and np.isfinite(w).all() and np.allclose(w[idx == 1], 1.0)


def test_beta_annealing() -> None:
    rng = np.random.default_rng(5)
    replay = PrioritizedReplay(10, beta=0.4, beta_final=1.0, beta_steps=10)
    replay.add_batch(range(10), np.linspace(0, 1, 10))
    seen = []
    for k in range(13):
        assert replay.beta == pytest.approx(min(0.4 + 0.06 * k, 1.0))
        beta = replay.beta
        _, idx, w = replay.sample(8, rng)
        probs = replay.probabilities()
        np.testing.assert_allclose(w, (probs.min() / probs[idx]) ** beta, rtol=1e-10)
        seen.append(beta)
    assert replay.sample_calls == 13 and seen[-1] == 1.0
    assert PrioritizedReplay(3, beta=0.2, beta_final=0.9, beta_steps=0).beta == 0.9


def test_ring_overwrite_matches_sequential_adds() -> None:
    replay = PrioritizedReplay(3)
    assert [replay.add(i, 0.1 * i) for i in range(5)] == [0, 1, 2, 0, 1]
    assert len(replay) == 3 and replay.items() == [3, 4, 2]
    np.testing.assert_allclose(replay.rewards, [0.3, 0.4, 0.2])

    rng = np.random.default_rng(6)
    for first, batch in [(2, 3), (0, 4), (3, 10), (1, 9)]:
        seq, vec = PrioritizedReplay(4), PrioritizedReplay(4)
        pre = rng.random(first)
        for i in range(first):
            seq.add(("pre", i), pre[i])
        vec.add_batch([("pre", i) for i in range(first)], pre)
        rewards = rng.random(batch)
        slots = [seq.add(i, rewards[i]) for i in range(batch)]
        assert vec.add_batch(list(range(batch)), rewards).tolist() == slots
        assert vec.items() == seq.items() and len(vec) == len(seq)
        np.testing.assert_array_equal(vec.rewards, seq.rewards)
        np.testing.assert_allclose(vec.probabilities(), seq.probabilities(), rtol=1e-12)
    assert PrioritizedReplay(2).add_batch([], []).size == 0
    gen = PrioritizedReplay(5)
    gen.add_batch((x for x in "abc"), [0.1, 0.2, 0.3])  # any iterable of items
    assert gen.items() == ["a", "b", "c"]


def test_update_with_a_repeated_index_keeps_the_last_reward() -> None:
    replay = PrioritizedReplay(4)
    replay.add_batch("abcd", [0.1, 0.2, 0.3, 0.4])
    replay.update([1, 2, 1], [0.9, 0.0, 0.5])
    np.testing.assert_allclose(replay.rewards, [0.1, 0.5, 0.0, 0.4])
    replay.update([], [])  # nothing to do


def test_save_load_round_trip(tmp_path) -> None:
    rng = np.random.default_rng(7)
    replay = PrioritizedReplay(8, omega=0.6, eps=0.02, beta=0.3, beta_final=0.9, beta_steps=20)
    replay.add_batch([{"obs": np.arange(i), "tag": f"t{i}"} for i in range(11)], rng.random(11))
    replay.sample(4, rng)
    path = replay.save(tmp_path / "replay.bin")
    assert path == tmp_path / "replay.bin" and path.is_file()  # no suffix appended
    loaded = PrioritizedReplay.load(path)
    assert len(loaded) == len(replay) and loaded.beta == replay.beta
    assert (loaded.capacity, loaded.omega, loaded.eps) == (8, 0.6, 0.02)
    np.testing.assert_array_equal(loaded.rewards, replay.rewards)
    np.testing.assert_array_equal(loaded.probabilities(), replay.probabilities())
    a = replay.sample(16, np.random.default_rng(99))
    b = loaded.sample(16, np.random.default_rng(99))
    assert [x["tag"] for x in a[0]] == [x["tag"] for x in b[0]]
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[2], b[2])
    assert replay.add("next", 0.5) == loaded.add("next", 0.5)  # the write position too

    empty = PrioritizedReplay.load(PrioritizedReplay(3).save(tmp_path / "empty.npz"))
    assert len(empty) == 0 and empty.add("x", 0.0) == 0


def test_load_errors(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no replay file"):
        PrioritizedReplay.load(tmp_path / "missing.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a readable PrioritizedReplay"):
        PrioritizedReplay.load(garbage)
    good = PrioritizedReplay(4)
    good.add_batch("ab", [0.1, 0.2])
    data = good.save(tmp_path / "good.npz").read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable PrioritizedReplay"):
        PrioritizedReplay.load(truncated)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.arange(3))
    with pytest.raises(ValueError, match="not a readable PrioritizedReplay"):
        PrioritizedReplay.load(other)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"capacity": 0}, ValueError, "capacity must be >= 1"),
        ({"capacity": -3}, ValueError, "capacity must be >= 1"),
        ({"capacity": 2.5}, TypeError, "capacity must be an int"),
        ({"capacity": "10"}, TypeError, "capacity must be an int"),
        ({"capacity": True}, TypeError, "capacity must be an int"),
        ({"capacity": 4, "omega": -0.1}, ValueError, "omega"),
        ({"capacity": 4, "omega": float("nan")}, ValueError, "omega"),
        ({"capacity": 4, "eps": 0.0}, ValueError, "eps"),
        ({"capacity": 4, "eps": -1e-3}, ValueError, "eps"),
        ({"capacity": 4, "beta": 1.5}, ValueError, "beta"),
        ({"capacity": 4, "beta_final": -0.1}, ValueError, "beta_final"),
        ({"capacity": 4, "beta_steps": -1}, ValueError, "beta_steps"),
    ],
)
def test_constructor_errors(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        PrioritizedReplay(**kwargs)


def test_reward_and_sampling_errors() -> None:
    rng = np.random.default_rng(8)
    replay = PrioritizedReplay(4, eps=0.01)
    with pytest.raises(ValueError, match="empty"):
        replay.sample(2, rng)
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match="finite"):
            replay.add("x", bad)
    with pytest.raises(ValueError, match="below -eps"):
        replay.add("x", -0.05)
    with pytest.raises(ValueError, match="below -eps"):
        replay.add_batch(["x", "y"], [0.5, -0.02])
    assert len(replay) == 0  # a rejected batch stores nothing
    with pytest.raises(ValueError, match="one reward per item"):
        replay.add_batch(["x", "y"], [0.5])
    with pytest.raises(TypeError, match="numbers"):
        replay.add("x", "high")  # type: ignore[arg-type]
    replay.add("lonely", -0.01)  # exactly -eps: allowed, priority 0
    with pytest.raises(ValueError, match="priority 0"):
        replay.sample(1, rng)
    replay.add_batch(["a", "b"], [0.2, 0.4])
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        replay.sample(0, rng)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        replay.sample(2.0, rng)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Generator"):
        replay.sample(2, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Generator"):
        replay.sample(2, 0)  # type: ignore[arg-type]
    with pytest.raises(IndexError, match="out of range"):
        replay.update([4], [0.1])
    with pytest.raises(IndexError, match="out of range"):
        replay.update([-1], [0.1])
    with pytest.raises(IndexError, match="never written"):
        replay.update([3], [0.1])
    with pytest.raises(ValueError, match="one reward per item"):
        replay.update([0, 1], [0.1])
    with pytest.raises(TypeError, match="integers"):
        replay.update([0.0], [0.1])
    with pytest.raises(ValueError, match="below -eps"):
        replay.update([0], [-1.0])
    with pytest.raises(ValueError, match="finite"):
        replay.update([0], [np.nan])
    np.testing.assert_allclose(replay.rewards, [-0.01, 0.2, 0.4])  # untouched by the failures


def test_import_needs_no_torch() -> None:
    code = (
        "import sys, r1gym.replay, r1gym.wrappers.record; "
        "assert 'torch' not in sys.modules and 'stable_baselines3' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("module", [sumtree_module, prioritized_module, record_module], ids=lambda m: m.__name__)
def test_docstring_examples(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


# ---------------------------------------------------------------------------- recorder


def test_recorder_stores_episode_returns_on_r1arith() -> None:
    replay = PrioritizedReplay(100)
    env = TrajectoryRecorder(gym.make("R1Arith-v0"), replay)
    rng = np.random.default_rng(9)
    n_actions = env.action_space.n
    returns, lengths = [], []
    obs, info = env.reset(seed=0)
    for episode in range(12):
        if episode:
            obs, info = env.reset()
        ret, steps, done = 0.0, 0, False
        while not done:
            # a random policy that ignores the mask half the time (masked actions cost 0.05)
            mask = obs["action_mask"]
            action = int(rng.integers(n_actions)) if rng.random() < 0.5 else int(rng.choice(np.flatnonzero(mask)))
            obs, r, term, trunc, info = env.step(action)
            ret += float(r)
            steps += 1
            done = term or trunc
        returns.append(ret)
        lengths.append(steps)
        traj = env.last_trajectory
        assert traj is not None and env.last_index == episode
        assert traj.return_ == ret and len(traj) == steps and len(traj.observations) == steps + 1
        assert (traj.terminated, traj.truncated) == (bool(term), bool(trunc))
        assert traj.final_info.keys() == info.keys()
        np.testing.assert_array_equal(traj.observations[-1]["context"], obs["context"])
    assert len(replay) == env.episodes_recorded == 12
    np.testing.assert_array_equal(replay.rewards, np.maximum(returns, 0.0))
    assert [t.return_ for t in replay.items()] == returns
    assert min(returns) < 0 < max(returns)  # both sides of the clip were exercised


def test_recorder_skips_unfinished_episodes_and_takes_a_reward_fn() -> None:
    replay = PrioritizedReplay(10, eps=0.1)
    env = TrajectoryRecorder(gym.make("CartPole-v1"), replay, reward_fn=lambda t: t.return_ / 100)
    env.reset(seed=0)
    env.step(0)
    env.reset()  # the unfinished episode is dropped
    done, steps = False, 0
    while not done:
        _, _, term, trunc, _ = env.step(steps % 2)
        steps += 1
        done = term or trunc
    assert len(replay) == 1 and replay.rewards[0] == pytest.approx(steps / 100)
    assert isinstance(replay.items()[0], Trajectory) and len(replay.items()[0]) == steps
    with pytest.raises(TypeError, match="PrioritizedReplay"):
        TrajectoryRecorder(gym.make("CartPole-v1"), replay=[])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        TrajectoryRecorder(gym.make("CartPole-v1"), replay, reward_fn=1.0)  # type: ignore[arg-type]


def test_recorder_copies_observations() -> None:
    class Reuse(gym.Env):
        observation_space = gym.spaces.Box(0, 10, (1,))
        action_space = gym.spaces.Discrete(1)

        def __init__(self) -> None:
            self.buf = np.zeros(1, dtype=np.float32)

        def reset(self, *, seed=None, options=None):
            self.buf[0] = 0
            return self.buf, {}

        def step(self, action):
            self.buf[0] += 1  # the same array every step, as some envs do
            return self.buf, 1.0, bool(self.buf[0] >= 3), False, {}

    replay = PrioritizedReplay(2)
    env = TrajectoryRecorder(Reuse(), replay)
    env.reset()
    while not env.step(0)[2]:
        pass
    assert [float(o[0]) for o in replay.items()[0].observations] == [0.0, 1.0, 2.0, 3.0]


# ---------------------------------------------------------------------------- SB3 buffers


def _box_buffer(sb3_buffer, n: int = 8, n_envs: int = 1, **kwargs):
    space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
    buf = sb3_buffer.PrioritizedReplayBuffer(n, space, gym.spaces.Discrete(3), device="cpu", n_envs=n_envs, **kwargs)
    for t in range(n // n_envs):
        obs = np.array([[t, e] for e in range(n_envs)], dtype=np.float32)
        buf.add(obs, obs + 100, np.zeros(n_envs), np.full(n_envs, t, dtype=np.float32), np.zeros(n_envs), [{}] * n_envs)
    return buf


def test_sb3_buffer_samples_by_priority_and_maps_indices() -> None:
    sb3_buffer = pytest.importorskip("r1gym.replay.sb3_buffer")
    buf = _box_buffer(sb3_buffer, n=8, n_envs=2, alpha=1.0, beta=1.0, seed=0)
    assert buf.size() == 4 and np.allclose(buf.priorities(), 1.0)  # new transitions at max priority
    batch = buf.sample(64)
    slots, envs = np.divmod(buf.last_indices, 2)
    np.testing.assert_array_equal(batch.observations.numpy(), np.stack([slots, envs], 1))
    np.testing.assert_array_equal(batch.next_observations.numpy(), np.stack([slots, envs], 1) + 100)
    np.testing.assert_array_equal(batch.rewards.numpy().ravel(), slots)
    np.testing.assert_allclose(buf.last_weights, 1.0)

    import torch as th

    td = th.tensor([9.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])  # signs ignored, a tensor accepted
    buf.update_priorities(np.arange(8), td)
    p = np.array([9, 1, 0, 0, 0, 0, 0, 0]) + buf.eps
    np.testing.assert_allclose(buf.priorities(), p)
    assert buf.max_priority == pytest.approx(9 + buf.eps)
    counts = np.zeros(8, dtype=np.int64)
    for _ in range(40):
        buf.sample(500)
        counts += np.bincount(buf.last_indices, minlength=8)
    assert chi2_ok(counts, p / p.sum())
    buf.sample(256)
    np.testing.assert_allclose(buf.last_weights, (p.min() / p[buf.last_indices]) ** buf.beta, rtol=1e-5)

    buf.add(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros(2), np.zeros(2), np.zeros(2), [{}, {}])
    np.testing.assert_allclose(buf.priorities()[:2], 9 + buf.eps)  # overwritten slot 0: the max


def test_sb3_buffer_errors_and_pickle() -> None:
    sb3_buffer = pytest.importorskip("r1gym.replay.sb3_buffer")
    box = gym.spaces.Box(-1, 1, (2,), np.float32)
    with pytest.raises(ValueError, match="optimize_memory_usage"):
        sb3_buffer.PrioritizedReplayBuffer(
            8, box, gym.spaces.Discrete(2), optimize_memory_usage=True, handle_timeout_termination=False
        )
    with pytest.raises(TypeError, match="Dict observation space"):
        sb3_buffer.PrioritizedDictReplayBuffer(8, box, gym.spaces.Discrete(2))
    with pytest.raises(ValueError, match="alpha"):
        sb3_buffer.PrioritizedReplayBuffer(8, box, gym.spaces.Discrete(2), alpha=-1)
    with pytest.raises(ValueError, match="empty"):
        sb3_buffer.PrioritizedReplayBuffer(8, box, gym.spaces.Discrete(2)).sample(4)
    buf = _box_buffer(sb3_buffer, n=8)
    buf.reset()
    assert buf.size() == 0 and buf._sum.total() == 0
    buf = _box_buffer(sb3_buffer, n=4, seed=1)
    buf.pos, buf.full = 2, False  # pretend only slots 0 and 1 were written
    with pytest.raises(IndexError, match="never written"):
        buf.update_priorities([3], [1.0])
    with pytest.raises(IndexError, match="out of range"):
        buf.update_priorities([4], [1.0])
    with pytest.raises(ValueError, match="one priority per index"):
        buf.update_priorities([0, 1], [1.0])
    with pytest.raises(ValueError, match="finite"):
        buf.update_priorities([0], [np.nan])
    with pytest.raises(TypeError, match="integers"):
        buf.update_priorities([0.5], [1.0])
    copy = pickle.loads(pickle.dumps(buf))  # SB3's save_replay_buffer pickles the buffer
    buf.sample(16)
    copy.sample(16)
    np.testing.assert_array_equal(buf.last_indices, copy.last_indices)


def test_sb3_dqn_cartpole_runs_with_the_prioritized_buffer() -> None:
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import DQN

    from r1gym.replay.sb3_buffer import PrioritizedReplayBuffer

    model = DQN(
        "MlpPolicy",
        gym.make("CartPole-v1"),
        buffer_size=1_000,
        learning_starts=50,
        train_freq=4,
        batch_size=32,
        policy_kwargs={"net_arch": [16]},
        replay_buffer_class=PrioritizedReplayBuffer,
        replay_buffer_kwargs={"alpha": 0.6, "beta": 0.4, "seed": 0},
        seed=0,
        device="cpu",
    )
    model.learn(300)
    buf = model.replay_buffer
    assert isinstance(buf, PrioritizedReplayBuffer) and buf.size() == 300
    assert buf.sample_calls == 63  # one per gradient step: (300 - 50) / train_freq, rounded up
    assert buf.last_indices.shape == (32,) and buf.last_weights.dtype == np.float32
    np.testing.assert_allclose(buf.last_weights, 1.0)  # plain DQN never updates: uniform


def test_sb3_dqn_r1math_with_the_dict_buffer_and_priority_updates() -> None:
    pytest.importorskip("stable_baselines3")
    import torch as th
    from stable_baselines3 import DQN

    from r1gym.replay.sb3_buffer import PrioritizedDictReplayBuffer

    model = DQN(
        "MultiInputPolicy",
        gym.make("R1Math-v0"),
        buffer_size=500,
        learning_starts=50,
        train_freq=4,
        batch_size=16,
        policy_kwargs={"net_arch": [16]},
        replay_buffer_class=PrioritizedDictReplayBuffer,
        replay_buffer_kwargs={"seed": 0},
        seed=0,
        device="cpu",
    )
    model.learn(200)
    buf = model.replay_buffer
    assert isinstance(buf, PrioritizedDictReplayBuffer) and buf.size() == 200
    # what agents/dqn_per.py does after each train step: TD errors back into the buffer
    batch = buf.sample(16)
    assert set(batch.observations) == set(model.observation_space.spaces)
    with th.no_grad():
        q = model.q_net(batch.observations).gather(1, batch.actions.long())
        target = (
            batch.rewards
            + (1 - batch.dones) * model.gamma * model.q_net_target(batch.next_observations).max(1, keepdim=True)[0]
        )
    buf.update_priorities(buf.last_indices, (target - q).squeeze(1))
    assert buf.max_priority >= 1.0 and not np.allclose(buf.priorities(), buf.priorities()[0])
