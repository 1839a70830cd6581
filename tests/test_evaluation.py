"""evaluate(): the metrics, and revealed keys kept from the agent."""

from __future__ import annotations

import math

import numpy as np
import pytest

from r1gym.baselines import BacktrackAgent, BestFirstAgent, GreedyAgent, OracleAgent, RandomAgent, make_baseline
from r1gym.evaluation import evaluate, format_table, wilson_interval


class Spy:
    """Records what the agent sees."""

    name = "spy"

    def __init__(self) -> None:
        self.keys: set[str] = set()

    def act(self, obs, info):
        self.keys |= set(info)
        return len(obs["action_mask"]) - 1


def test_agent_never_sees_revealed_keys() -> None:
    spy = Spy()
    evaluate(spy, "R1Math-v0", episodes=5)
    assert not spy.keys & {"on_path", "oracle_action", "left_path"}
    assert {"path", "steps"} <= spy.keys


def test_report_fields_and_same_problems_for_every_agent() -> None:
    a = evaluate(GreedyAgent(), "R1Arith-v0", episodes=50, seed=3)
    b = evaluate(GreedyAgent(), "R1Arith-v0", episodes=50, seed=3)
    timing = {"decisions_per_second": 0, "env_steps_per_second": 0}
    assert a.to_dict() | timing == b.to_dict() | timing
    d = a.to_dict()
    for key in ("accuracy", "mean_steps", "error_recovery", "mean_reward", "pass_at_1", "reward_terms"):
        assert key in d
    assert a.accuracy_ci[0] <= a.accuracy <= a.accuracy_ci[1]
    assert "R1Arith-v0" in format_table([a]) and "greedy" in format_table([a])


def test_oracle_never_leaves_the_path_so_recovery_is_undefined() -> None:
    r = evaluate(OracleAgent(), "R1Algebra-v0", episodes=20)
    assert r.accuracy == 1.0 and math.isnan(r.error_recovery)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="act"):
        evaluate(object(), "R1Math-v0")
    with pytest.raises(ValueError, match="episodes"):
        evaluate(RandomAgent(), "R1Math-v0", episodes=0)
    with pytest.raises(TypeError, match="reveal"):
        evaluate(RandomAgent(), "R1Math-v0", reveal=True)
    with pytest.raises(ValueError, match="valid"):
        make_baseline("mcts-ultra")
    with pytest.raises(ValueError, match="flat_threshold"):
        make_baseline("backtrack", flat_threshold=0)


def test_wilson_interval() -> None:
    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(0.404, abs=1e-3) and hi == pytest.approx(0.596, abs=1e-3)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0


class BatchGreedy:
    name = "batch-greedy"

    def act_batch(self, obs, infos):
        k = obs["action_mask"].shape[1] - 2
        conf = np.where(obs["action_mask"][:, :k] > 0, obs["confidence"], -1.0)
        return np.where(conf.max(axis=1) >= 0, conf.argmax(axis=1), k + 1)


def test_vector_evaluation_matches_single_env_statistically() -> None:
    single = evaluate(GreedyAgent(), "R1Math-v0", episodes=300, seed=0)
    per_env = evaluate(BacktrackAgent(), "R1Math-v0", episodes=300, seed=0, num_envs=4)
    batch = evaluate(BatchGreedy(), "R1Math-v0", episodes=300, seed=0, num_envs=4)
    assert batch.episodes == per_env.episodes == 300
    assert abs(batch.accuracy - single.accuracy) < 0.12  # same policy, other problems
    assert per_env.accuracy > batch.accuracy  # backtracking state kept per copy still pays
    assert batch.mean_steps == pytest.approx(single.mean_steps, rel=0.15)
    with pytest.raises(ValueError, match="num_envs=1"):
        evaluate(BestFirstAgent(), "R1Math-v0", episodes=5, num_envs=2)
