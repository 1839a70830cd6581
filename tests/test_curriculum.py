"""Curricula (staged and adaptive), the curriculum environment, and the reward schedule."""

from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

from r1gym.baselines import BacktrackAgent
from r1gym.envs import R1CurriculumEnv
from r1gym.wrappers import Curriculum, CurriculumWrapper, RewardScheduleWrapper, piecewise_linear

STAGES = [("basic", ["arithmetic"]), ("equations", ["algebra", "arithmetic"]), ("words", ["word"])]


def run(env, episodes: int, oracle: bool, seed: int = 0) -> dict:
    obs, info = env.reset(seed=seed)
    for _ in range(episodes):
        done = False
        while not done:
            a = info["oracle_action"] if oracle else env.unwrapped.SUBMIT  # submitting at once is wrong
            obs, _, term, trunc, info = env.step(a)
            done = term or trunc
        last = info
        obs, info = env.reset()
    return last


def test_staged_promotion_on_rolling_accuracy() -> None:
    c = Curriculum(stages=STAGES, window=10, threshold=0.8)
    env = CurriculumWrapper(gym.make("R1Math-v0", reveal=True), c)
    info = run(env, 35, oracle=True)
    cur = info["curriculum"]
    assert cur["stage_name"] == "words" and len(cur["promotions"]) == 2
    assert [p["episode"] for p in cur["promotions"]] == [10, 20]
    assert all(p["reason"] == "accuracy" for p in cur["promotions"])
    assert info["domain"] == "word"


def test_no_promotion_without_mastery_and_geometric_sizes() -> None:
    c = Curriculum(stages=STAGES, window=10, threshold=0.8)
    info = run(CurriculumWrapper(gym.make("R1Math-v0", reveal=True), c), 30, oracle=False)
    assert info["curriculum"]["stage"] == 0 and info["curriculum"]["rolling_accuracy"] == 0.0
    sized = Curriculum(stages=STAGES, promote_on="size", base_size=5, growth=2.0)
    assert [sized.stage_size(i) for i in range(3)] == [5, 10, 20]
    info = run(CurriculumWrapper(gym.make("R1Math-v0", reveal=True), sized), 16, oracle=False)
    assert [p["episode"] for p in info["curriculum"]["promotions"]] == [5, 15]
    assert all(p["reason"] == "size" for p in info["curriculum"]["promotions"])


def test_adaptive_frontier_prefers_arms_near_one_half() -> None:
    c = Curriculum(stages=STAGES, mode="adaptive", window=20, explore=0.0, temperature=0.05, seed=1)
    for i, arm in enumerate(c.arms()):
        for _ in range(20):
            c.record(arm, i % 2 == 0)  # every other arm mastered, the rest hopeless
    for i in range(20):
        c.record(("algebra", "medium"), i % 2 == 0)  # at the frontier
    picks = [c.next("medium") for _ in range(200)]
    assert picks.count(("algebra", "medium")) > 190


def test_adaptive_progress_prefers_arms_that_moved() -> None:
    c = Curriculum(stages=STAGES, mode="adaptive", signal="progress", window=20, explore=0.0, temperature=0.05)
    for arm in c.arms():
        for i in range(20):
            c.record(arm, i % 2 == 0)  # flat at one half: no progress
    for i in range(20):
        c.record(("word", "easy"), i >= 10)  # 0 then 1: progress
    picks = [c.next("medium") for _ in range(100)]
    assert picks.count(("word", "easy")) > 80


def test_adaptive_mode_changes_the_difficulty_but_not_the_spaces() -> None:
    c = Curriculum(stages=STAGES, mode="adaptive", seed=3)
    env = CurriculumWrapper(gym.make("R1Math-v0", reveal=True), c)
    seen = set()
    obs, info = env.reset(seed=0)
    for _ in range(40):
        seen.add(info["curriculum"]["difficulty"])
        assert env.observation_space.contains(obs)
        obs, info = env.reset()
    assert seen == {"easy", "medium", "hard"}
    assert env.unwrapped.num_candidates == 4


def test_a_stage_can_fix_its_difficulty(tmp_path) -> None:
    stages = [("warm-up", ["word"], "easy"), ("target", ["word"])]
    env = R1CurriculumEnv(
        curriculum={"stages": stages, "window": 10, "threshold": 0.8}, difficulty="medium", reveal=True
    )
    obs, info = env.reset(seed=0)
    assert info["curriculum"]["difficulty"] == "easy" and env.observation_space.contains(obs)
    info = run(env, 15, oracle=True)
    assert info["curriculum"]["stage_name"] == "target" and info["curriculum"]["difficulty"] == "medium"
    c = env.curriculum
    c.save(tmp_path / "c.json")
    assert Curriculum.load(tmp_path / "c.json").stages == c.stages
    with pytest.raises(ValueError, match="stage difficulties"):
        Curriculum(stages=[("a", ["word"], "insane")])
    with pytest.raises(ValueError, match="a stage is"):
        Curriculum(stages=[("a", ["word"], "easy", "extra")])


def test_state_survives_pickling_and_saving(tmp_path) -> None:
    c = Curriculum(stages=STAGES, window=5, threshold=0.5)
    run(CurriculumWrapper(gym.make("R1Math-v0", reveal=True), c), 12, oracle=True)
    clone = pickle.loads(pickle.dumps(c))
    c.save(tmp_path / "c.json")
    loaded = Curriculum.load(tmp_path / "c.json")
    expected = [c.next("medium") for _ in range(5)]  # c draws after the copies were made
    for other in (clone, loaded):
        assert other.stage == c.stage and other.promotions == c.promotions
        assert [other.next("medium") for _ in range(5)] == expected  # same generator state
        assert other.state_dict() == c.state_dict()
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="bad.json:1"):
        Curriculum.load(tmp_path / "bad.json")
    with pytest.raises(FileNotFoundError):
        Curriculum.load(tmp_path / "none.json")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"mode": "random"}, "mode"),
        ({"stages": []}, "stage"),
        ({"signal": "boredom"}, "signal"),
        ({"promote_on": "time"}, "promote_on"),
        ({"window": 0}, "window"),
        ({"difficulties": ["insane"]}, "difficulties"),
    ],
)
def test_bad_curriculum_settings(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        Curriculum(**kwargs)


def test_curriculum_env_passes_the_checker_and_pickles() -> None:
    env = R1CurriculumEnv(curriculum={"stages": STAGES, "window": 5, "threshold": 0.5})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, skip_render_check=True)
    env.reset(seed=0)
    clone = pickle.loads(pickle.dumps(env))
    assert clone.curriculum.state_dict() == env.curriculum.state_dict()
    with pytest.raises(TypeError, match="curriculum"):
        R1CurriculumEnv(curriculum=42)


def test_curriculum_env_promotes() -> None:
    env = R1CurriculumEnv(curriculum={"stages": STAGES, "window": 10, "threshold": 0.8}, reveal=True)
    info = run(env, 35, oracle=True)
    assert info["curriculum"]["stage_name"] == "words"


def test_reward_schedule() -> None:
    sched = piecewise_linear([(0, (0.8, 0.1, 0.1)), (10, (0.6, 0.3, 0.1))])
    assert sched(0) == (0.8, 0.1, 0.1) and sched(100) == (0.6, 0.3, 0.1)
    assert sched(5) == pytest.approx((0.7, 0.2, 0.1))
    env = RewardScheduleWrapper(gym.make("R1Arith-v0", reveal=True), [(0, (0.8, 0.1, 0.1)), (10, (0.6, 0.3, 0.1))])
    weights = []
    for ep in range(12):
        obs, info = env.reset(seed=ep)
        weights.append(info["reward_weights"])
        while True:
            obs, r, term, trunc, info = env.step(info["oracle_action"])
            if term:
                break
        assert info["reward_weights"] == weights[-1]
    assert weights[0] == (0.8, 0.1, 0.1) and weights[-1] == (0.6, 0.3, 0.1)
    assert weights[5] == pytest.approx((0.7, 0.2, 0.1))
    r1 = RewardScheduleWrapper(gym.make("R1Arith-v0"))
    assert r1.reset(seed=0)[1]["reward_weights"][0] > 0.7  # the report: accuracy above 0.7 early
    with pytest.raises(ValueError, match="schedule"):
        RewardScheduleWrapper(gym.make("R1Arith-v0"), "cosine")
    with pytest.raises(ValueError, match="reward_weights"):
        piecewise_linear([(0, (1, 2))])


def test_the_wrapper_and_the_env_run_the_same_loop() -> None:
    """R1Curriculum-v0 and CurriculumWrapper around R1Math-v0 give the same problems, stages and
    rewards episode for episode: one loop, one seeding, one way of counting an episode."""
    stages = [("a", ["arithmetic", "algebra"]), ("w", ["word"])]
    settings = {"stages": stages, "window": 3, "threshold": 0.5}
    envs = (
        gym.make("R1Curriculum-v0", curriculum=settings),
        CurriculumWrapper(gym.make("R1Math-v0"), Curriculum(**settings)),
    )
    runs = []
    for env in envs:
        agent, out = BacktrackAgent(), []
        for seed in range(30):
            obs, info = env.reset(seed=seed)
            agent.reset()
            done = False
            while not done:
                obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
                done = terminated or truncated
            out.append((info["uid"], info["curriculum"]["stage"], reward))
        runs.append(out)
    assert runs[0] == runs[1]
    assert {stage for _, stage, _ in runs[0]} == {0, 1}  # it promoted on the way
