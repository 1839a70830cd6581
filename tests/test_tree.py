"""The tree: completion, confidence flatness after a wrong step, snapshot / restore."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from r1gym.baselines import normalized_entropy


def test_confidence_goes_flat_after_a_wrong_step(env_id: str) -> None:
    """The calibration signal: on a correct node the reference step stands out; off the path,
    every candidate scores alike."""
    env = gym.make(env_id, reveal=True)
    on, off, ref_top = [], [], 0
    obs, info = env.reset(seed=0)
    for ep in range(300):
        if ep:
            obs, info = env.reset()
        if not obs["action_mask"][: env.unwrapped.num_candidates].any():
            continue
        correct = info["oracle_action"]
        on.append(normalized_entropy(obs["confidence"]))
        ref_top += int(np.argmax(obs["confidence"]) == correct)
        wrong = next(
            (
                i
                for i in env.unwrapped.valid_actions()
                if i not in (correct, env.unwrapped.SUBMIT, env.unwrapped.BACKTRACK)
            ),
            None,
        )
        if wrong is None:  # a node whose only candidate is the right one
            continue
        obs2, _, term, _, info2 = env.step(wrong)
        if obs2["action_mask"][: env.unwrapped.num_candidates].sum() >= 2:
            assert not info2["on_path"]
            off.append(normalized_entropy(obs2["confidence"]))
    assert np.mean(off) > 0.95 > np.mean(on) + 0.1
    assert ref_top / len(on) > 0.5


def test_complete_path_ends_with_an_answer_and_an_unfinished_submit_is_wrong() -> None:
    env = gym.make("R1Math-v0", reveal=True)
    wrong_early = 0
    for seed in range(50):
        _, info = env.reset(seed=seed)
        _, _, _, _, info = env.step(info["oracle_action"])  # one correct step, then submit
        if env.unwrapped.current_node.state.complete:
            continue
        _, _, term, _, info = env.step(env.unwrapped.SUBMIT)
        wrong_early += not info["is_correct"]
    assert wrong_early >= 45


def test_snapshot_restore_leaves_no_trace(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    env.reset(seed=21)
    env.step(0)
    snap = env.snapshot()
    before_obs, before_info = env.restore(snap)
    rng_state = env.np_random.bit_generator.state
    # A lookahead: expand deeper, backtrack, even submit.
    for a in (0, 0, env.BACKTRACK, 1):
        if a in env.valid_actions():
            env.step(a)
    env.step(env.SUBMIT)
    obs, info = env.restore(snap)
    assert info == before_info and env.np_random.bit_generator.state == rng_state
    for key in obs:
        np.testing.assert_array_equal(obs[key], before_obs[key])
    assert set(env.episode.nodes) == set(snap.episode.nodes)
    # Novelty memory is back: the submit inside the lookahead is forgotten.
    assert env.novelty.get_entry(env.problem.uid) is None
    # Continuing after restore equals continuing without the lookahead.
    fresh = gym.make(env_id).unwrapped
    fresh.reset(seed=21)
    fresh.step(0)
    a = env.step(1 if 1 in env.valid_actions() else env.SUBMIT)
    b = fresh.step(1 if 1 in fresh.valid_actions() else fresh.SUBMIT)
    assert a[1] == b[1] and a[4] == b[4]
    for key in a[0]:
        np.testing.assert_array_equal(a[0][key], b[0][key])


def test_restore_rejects_other_objects() -> None:
    env = gym.make("R1Math-v0").unwrapped
    env.reset(seed=0)
    with pytest.raises(TypeError, match="Snapshot"):
        env.restore({"cur": ()})


def test_text_mode_observation() -> None:
    env = gym.make("R1Math-v0", obs_mode="text")
    obs, _ = env.reset(seed=0)
    assert env.unwrapped.problem.question in obs["context"]
    assert len(obs["candidates"]) == env.unwrapped.num_candidates
    obs, *_ = env.step(0)
    assert "Step 1: " in obs["context"] and obs["context"].endswith(env.unwrapped.current_node.texts[-1])
    from r1gym.wrappers import format_prompt

    prompt = format_prompt(obs)
    assert "Step 1:" in prompt and "[0]" in prompt and "backtrack" in prompt and "submit" in prompt


def test_render_human_prints(capsys) -> None:
    env = gym.make("R1Arith-v0", render_mode="human")
    env.reset(seed=0)
    assert "Question: Compute" in capsys.readouterr().out


def test_a_node_draws_permutations_as_uniform_draws_would_order_them() -> None:
    """``Draws.permutation(n)`` is ``range(n)`` sorted by the next ``n`` numbers ``uniform()``
    would hand out (none for fewer than 2 items), whatever is left of the current block of 32
    (none, some, or fewer than needed, so that one or more new blocks are drawn), and it leaves
    the same numbers after."""
    from r1gym.core.draws import Draws

    plan = np.random.default_rng(0)
    for seed in range(200):
        fast, slow = Draws(np.random.default_rng(seed)), Draws(np.random.default_rng(seed))
        for _ in range(12):
            for _ in range(int(plan.integers(0, 40))):  # use up part of the block
                assert fast.uniform() == slow.uniform()
            n = int(plan.integers(0, 80))
            keys = [slow.uniform() for _ in range(n)] if n >= 2 else [0.0] * n  # 0 or 1 item: nothing drawn
            assert fast.permutation(n) == sorted(range(n), key=keys.__getitem__)
        assert fast.uniform() == slow.uniform()
