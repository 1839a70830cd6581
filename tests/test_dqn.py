"""The DQN levers of r1gym.replay (issue 14): n-step returns in both replay buffers, masked
greedy / exploring / bootstrapping actions, double Q-learning targets, the dueling head and the
step cost. The whole-run behaviour (checkpoints, resume, evaluation) is in test_agents.py."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch as th

pytest.importorskip("stable_baselines3")

from stable_baselines3 import DQN  # noqa: E402
from stable_baselines3.common.buffers import DictReplayBuffer  # noqa: E402

import r1gym  # noqa: E402, F401
from r1gym.replay.dqn import DQNPER, MaskedDQNPolicy, masked_argmax, random_valid_actions  # noqa: E402
from r1gym.replay.sb3_buffer import (  # noqa: E402
    NStepDictReplayBuffer,
    PrioritizedDictReplayBuffer,
    nstep_indices,
)

GAMMA = 0.9


def _ring(rewards: list[float], dones: list[int], timeouts: list[int]) -> tuple[np.ndarray, ...]:
    col = lambda xs: np.asarray(xs, dtype=np.float32).reshape(-1, 1)  # noqa: E731
    return col(rewards), col(dones), col(timeouts)


def test_nstep_returns_on_a_hand_made_sequence() -> None:
    # slots 0..7 of one environment copy: an episode 0-2 that terminates with reward 1 at slot 2,
    # one 3-5 truncated at slot 5 (a reward 0.5 at slot 4), then slots 6, 7 of a running episode.
    rewards, dones, timeouts = _ring([0, 0, 1, 0, 0.5, 0, 0.25, 0], [0, 0, 1, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 1, 0, 0])
    slots = np.array([0, 1, 2, 3, 4, 6, 7])
    returns, discounts, last, final = nstep_indices(
        rewards, dones, timeouts, slots, np.zeros(7, dtype=int), newest=7, n_steps=3, gamma=GAMMA
    )
    # slot 0: r0 + g r1 + g^2 r2, ends on the terminal slot 2 (done, no bootstrap)
    # slot 1: r1 + g r2, stops at the termination (2 steps)
    # slot 2: the terminal step alone
    # slot 3: r3 + g r4 + g^2 r5, ends on slot 5, a truncation: bootstraps (done 0)
    # slot 4: r4 + g r5, stops at the truncation
    # slot 6: r6 + g r7, stops at the newest slot 7 (its successor is not stored yet)
    # slot 7: the newest step alone
    np.testing.assert_allclose(returns, [GAMMA**2, GAMMA, 1.0, GAMMA * 0.5, 0.5, 0.25, 0.0], rtol=1e-6)
    np.testing.assert_allclose(discounts, [GAMMA**3, GAMMA**2, GAMMA, GAMMA**3, GAMMA**2, GAMMA**2, GAMMA], rtol=1e-6)
    assert last.tolist() == [2, 2, 2, 5, 5, 7, 7]
    assert final.tolist() == [1, 1, 1, 0, 0, 0, 0]


def test_nstep_returns_wrap_around_a_full_ring_but_stop_at_the_newest_slot() -> None:
    # a full ring of 4 slots whose newest write is slot 1: slot 3 continues into 0 and 1, and a
    # return from slot 1 must not run into slot 2, the oldest transition, of another time
    rewards, dones, timeouts = _ring([1, 2, 4, 8], [0, 0, 0, 0], [0, 0, 0, 0])
    returns, discounts, last, final = nstep_indices(
        rewards, dones, timeouts, np.array([3, 1, 0]), np.zeros(3, dtype=int), newest=1, n_steps=3, gamma=0.5
    )
    np.testing.assert_allclose(returns, [8 + 0.5 * 1 + 0.25 * 2, 2, 1 + 0.5 * 2])
    np.testing.assert_allclose(discounts, [0.125, 0.5, 0.25])
    assert last.tolist() == [1, 1, 1] and final.tolist() == [0, 0, 0]


def _filled(buffer_class: type, **kwargs: object) -> DictReplayBuffer:
    """A one-copy buffer of 10 slots holding 12 steps of R1Math-v0 (so it has wrapped)."""
    env = gym.make("R1Math-v0")
    buf = buffer_class(10, env.observation_space, env.action_space, device="cpu", n_envs=1, **kwargs)
    obs, _ = env.reset(seed=0)
    for t in range(12):
        action = int(random_valid_actions(obs["action_mask"][None], np.random.default_rng(t))[0])
        nxt, reward, term, trunc, _ = env.step(action)
        buf.add(
            {k: v[None] for k, v in obs.items()},
            {k: v[None] for k, v in nxt.items()},
            np.array([[action]]),
            np.array([reward + t]),  # distinct rewards, so that sums are checkable
            np.array([term or trunc]),
            [{"TimeLimit.truncated": trunc and not term}],
        )
        obs = env.reset(seed=t + 1)[0] if term or trunc else nxt
    return buf


def test_prioritized_and_uniform_buffers_return_the_same_nstep_transitions() -> None:
    prioritized = _filled(PrioritizedDictReplayBuffer, n_steps=3, gamma=GAMMA, seed=0)
    uniform = _filled(NStepDictReplayBuffer, n_steps=3, gamma=GAMMA)
    a = prioritized.sample(8)
    slots = prioritized.last_indices  # one copy: the flat index is the slot
    b = uniform._get_samples(slots)
    for field in ("actions", "rewards", "dones", "discounts"):
        th.testing.assert_close(getattr(a, field), getattr(b, field))
    for key in a.next_observations:
        th.testing.assert_close(a.next_observations[key], b.next_observations[key])
    expect = nstep_indices(
        prioritized.rewards, prioritized.dones, prioritized.timeouts, slots, np.zeros(8, int), 1, 3, GAMMA
    )
    np.testing.assert_allclose(a.rewards.numpy().ravel(), expect[0], rtol=1e-6)
    # the one-step rewards stay readable for the key-experience share
    np.testing.assert_array_equal(prioritized.last_step_rewards, prioritized.rewards[slots, 0])
    np.testing.assert_array_equal(uniform.last_step_rewards, uniform.rewards[slots, 0])


def test_one_step_buffers_sample_as_before() -> None:
    uniform = _filled(NStepDictReplayBuffer)
    np.random.seed(3)
    a = uniform.sample(6)
    plain = _filled(DictReplayBuffer)
    np.random.seed(3)
    b = plain.sample(6)
    assert a.discounts is None and b.discounts is None
    for field in ("actions", "rewards", "dones"):
        th.testing.assert_close(getattr(a, field), getattr(b, field))
    assert _filled(PrioritizedDictReplayBuffer, seed=0).sample(6).discounts is None


def test_nstep_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="n_steps must be >= 1"):
        _filled(NStepDictReplayBuffer, n_steps=0)
    with pytest.raises(ValueError, match="gamma must be a number in"):
        _filled(PrioritizedDictReplayBuffer, n_steps=2, gamma=1.5)


def test_masked_argmax_and_random_valid_actions_never_pick_a_masked_action() -> None:
    q = th.tensor([[5.0, 1.0, 9.0], [0.0, 2.0, 1.0], [3.0, 2.0, 1.0]])
    mask = th.tensor([[1, 1, 0], [1, 0, 1], [0, 0, 0]]) > 0
    assert masked_argmax(q, mask).tolist() == [0, 2, 0]  # a row with no valid action: plain argmax
    assert masked_argmax(q, None).tolist() == [2, 1, 0]
    draws = random_valid_actions(np.array([[0, 1, 0, 1]] * 4000), np.random.default_rng(0))
    assert set(draws.tolist()) == {1, 3} and abs((draws == 1).mean() - 0.5) < 0.05


def _model(tmp_path: Path | None = None, **kwargs: object) -> DQNPER:
    env = gym.make("R1Math-v0")
    defaults = dict(
        buffer_size=500,
        learning_starts=50,
        batch_size=16,
        train_freq=4,
        policy_kwargs={"net_arch": [16], "dueling": True, "mask_actions": True},
        mask_actions=True,
        double_q=True,
        seed=0,
        device="cpu",
    )
    return DQNPER(MaskedDQNPolicy, env, **{**defaults, **kwargs})


def test_masked_dqn_never_chooses_a_masked_action_greedy_or_exploring() -> None:
    model = _model()
    env = gym.make("R1Math-v0")
    # a Q-network that prefers every action the mask forbids: bias the output layer hard
    head = model.q_net.advantage_head
    with th.no_grad():
        head.bias.copy_(th.tensor([0.0, 0.0, 0.0, 0.0, 100.0, 0.0]))  # backtrack, masked at the root
    obs, _ = env.reset(seed=0)
    assert obs["action_mask"][4] == 0
    assert int(model.predict(obs, deterministic=True)[0]) != 4
    model.exploration_rate = 1.0
    explored = {int(model.predict(obs, deterministic=False)[0]) for _ in range(200)}
    assert 4 not in explored and len(explored) == int(obs["action_mask"].sum())
    # and over whole episodes, greedy and exploring, every action chosen is allowed
    for deterministic in (True, False):
        model.exploration_rate = 0.3
        for ep in range(5):
            obs, _ = env.reset(seed=ep)
            done = False
            while not done:
                action = int(model.predict(obs, deterministic=deterministic)[0])
                assert obs["action_mask"][action] == 1
                obs, _, term, trunc, _ = env.step(action)
                done = term or trunc


def test_masked_dqn_warmup_and_training_steps_stay_valid() -> None:
    model = _model(learning_starts=300, step_cost=0.01)
    model.learn(200)  # all warm-up: random valid actions
    buf = model.replay_buffer
    rewards = buf.rewards[: buf.size(), 0]
    # no masked action was taken (it would have cost 0.05), and every step paid the step cost
    assert rewards.min() >= -0.01 - 1e-6
    non_submit = buf.actions[: buf.size(), 0, 0] != 5
    np.testing.assert_allclose(rewards[non_submit], -0.01, rtol=1e-5)


def test_double_q_target_evaluates_the_online_argmax_with_the_target_network() -> None:
    model = _model()
    online = th.tensor([[5.0, 1.0, 0.0, 0.0, 0.0, 0.0]])
    target = th.tensor([[2.0, 3.0, 10.0, 0.0, 0.0, 0.0]])
    model.q_net = lambda obs: online  # type: ignore[assignment]
    model.q_net_target = lambda obs: target  # type: ignore[assignment]
    next_obs = {"action_mask": th.tensor([[1, 1, 0, 0, 0, 0]], dtype=th.int8)}
    reward, done = th.tensor([[0.5]]), th.tensor([[0.0]])
    # double: the online argmax (action 0) valued by the target network (2)
    assert model.td_targets(reward, next_obs, done, 0.5).item() == pytest.approx(0.5 + 0.5 * 2.0)
    model.double_q = False  # the target's own masked max (action 1: 3; action 2 is masked)
    assert model.td_targets(reward, next_obs, done, 0.5).item() == pytest.approx(0.5 + 0.5 * 3.0)
    model.mask_actions = False  # plain DQN: the max over every action, masked ones too
    assert model.td_targets(reward, next_obs, done, 0.5).item() == pytest.approx(0.5 + 0.5 * 10.0)
    assert model.td_targets(reward, next_obs, th.tensor([[1.0]]), 0.5).item() == pytest.approx(0.5)  # terminal


def test_dueling_head_and_a_saved_model_that_still_masks(tmp_path: Path) -> None:
    model = _model()
    q_net = model.q_net
    obs, _ = gym.make("R1Math-v0").reset(seed=0)
    tensor = model.policy.obs_to_tensor(obs)[0]
    with th.no_grad():
        h = q_net.q_net(q_net.extract_features(tensor, q_net.features_extractor))
        advantage = q_net.advantage_head(h)
        expect = q_net.value_head(h) + advantage - advantage.mean(dim=1, keepdim=True)
        th.testing.assert_close(q_net(tensor), expect)
    with th.no_grad():
        q_net.advantage_head.bias.copy_(th.tensor([0.0, 0.0, 0.0, 0.0, 100.0, 0.0]))
    model.save(tmp_path / "model.zip")
    loaded = DQN.load(tmp_path / "model.zip", device="cpu")  # as r1gym's SB3Agent loads it
    assert type(loaded.policy).__name__ == "MaskedDQNPolicy" and loaded.policy.q_net.dueling
    assert int(loaded.predict(obs, deterministic=True)[0]) != 4
    for key, value in model.policy.state_dict().items():
        th.testing.assert_close(loaded.policy.state_dict()[key], value)


def test_step_cost_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="step_cost must be a finite number >= 0"):
        _model(step_cost=-0.1)
