"""Search baselines: they look ahead through snapshot()/restore(), never submit inside a lookahead,
leave no trace, and pay for their lookahead in the reported cost."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from r1gym.baselines import BestFirstAgent, GreedyAgent, MCTSAgent
from r1gym.evaluation import evaluate


@pytest.mark.parametrize("make_agent", [BestFirstAgent, MCTSAgent])
def test_lookahead_never_submits_and_leaves_no_trace(env_id: str, make_agent) -> None:
    env = gym.make(env_id)
    u = env.unwrapped
    agent = make_agent()
    agent.attach(env)
    submits_in_lookahead = []
    real_step = u.step

    def spy(action):
        if in_act[0] and int(action) == u.SUBMIT:
            submits_in_lookahead.append(action)
        return real_step(action)

    u.step = spy
    in_act = [False]
    for seed in range(15):
        obs, info = env.reset(seed=seed)
        agent.reset()
        done = False
        while not done:
            before = (
                u.episode.cur,
                u.episode.steps,
                u.episode.backtracks,
                u.np_random.bit_generator.state["state"]["state"],
            )
            in_act[0] = True
            action = agent.act(obs, info)
            in_act[0] = False
            after = (
                u.episode.cur,
                u.episode.steps,
                u.episode.backtracks,
                u.np_random.bit_generator.state["state"]["state"],
            )
            assert before == after  # the lookahead left no trace
            obs, _, term, trunc, info = env.step(action)
            done = term or trunc
        assert agent.lookahead_steps > 0
    assert not submits_in_lookahead


def test_search_beats_greedy_at_its_cost_in_steps() -> None:
    g = evaluate(GreedyAgent(), "R1Math-v0", episodes=300, seed=1000)
    b = evaluate(BestFirstAgent(), "R1Math-v0", episodes=300, seed=1000)
    m = evaluate(MCTSAgent(), "R1Math-v0", episodes=300, seed=1000)
    assert g.mean_lookahead_steps == 0
    for s in (b, m):
        assert s.accuracy > g.accuracy + 0.1 and s.accuracy < 1.0
        assert s.mean_lookahead_steps > 1.0  # search is compared at its true cost


def test_planning_agents_need_an_environment() -> None:
    agent = BestFirstAgent()
    obs = {"confidence": np.array([0.5, 0.5], np.float32), "action_mask": np.array([1, 1, 0, 1], np.int8)}
    with pytest.raises(RuntimeError, match="attach"):
        agent.act(obs, {})
    with pytest.raises(TypeError, match="snapshot"):
        agent.attach(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="budget"):
        BestFirstAgent(budget=0)
    with pytest.raises(ValueError, match="simulations"):
        MCTSAgent(simulations=0)
