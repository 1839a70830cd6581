"""R1Open-v0: reasoning-gym's families in write mode (skipped without the extra ``open``)."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

pytest.importorskip("reasoning_gym", reason="R1Open-v0 needs the extra 'open' (reasoning-gym==0.1.25)")

from r1gym.core.protocols import make_task  # noqa: E402
from r1gym.tasks.reasoning_gym import item_seed, relaid  # noqa: E402

FAMILIES = ["basic_arithmetic", "leg_counting", "rotate_matrix", "sentence_reordering"]


def oracle_episode(env: gym.Env, seed: int, index: int) -> tuple[float, dict]:
    obs, info = env.reset(seed=seed, options={"problem_index": index})
    for _ in range(5):
        obs, reward, term, trunc, info = env.step(info["oracle_action"])
        if term or trunc:
            return reward, info
    raise AssertionError("the oracle did not submit")


def test_import_does_not_load_reasoning_gym() -> None:
    code = (
        "import sys, r1gym, r1gym.tasks.reasoning_gym; from r1gym.core.verify import get_verifier; "
        "get_verifier('reasoning_gym'); assert 'reasoning_gym' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("family", FAMILIES)
def test_oracle_solves_and_wrong_scores_zero(family: str) -> None:
    env = gym.make("R1Open-v0", task=f"reasoning_gym:{family}", reveal=True)
    for i in range(3):
        reward, info = oracle_episode(env, 0, i)
        assert info["is_correct"] and info["reward_terms"]["accuracy"] == 1.0 and reward > 0
        env.reset(options={"problem_index": i})
        _, _, _, _, info = env.step("The answer is r1gym-wrong.")
        assert info["step_label"] == "neutral"
        _, reward, term, _, info = env.step("<submit>")
        assert term and not info["is_correct"] and reward == 0.0 and info["reward_terms"]["accuracy"] == 0.0


def test_default_family_and_write_mode() -> None:
    env = gym.make("R1Open-v0")
    obs, info = env.reset(seed=0)
    u = env.unwrapped
    assert u.action_mode == "write" and u.num_candidates == 0 and u.judge == "none"
    assert u.task.family == "basic_arithmetic" and info["domain"] == "reasoning_gym"
    assert set(obs) == {"context", "action_mask", "progress"}


def test_task_by_kwarg_and_config() -> None:
    config = {"family": "leg_counting", "min_animals": 1, "max_animals": 2}
    env = gym.make("R1Open-v0", task="reasoning_gym", task_kwargs=config, reveal=True)
    env.reset(seed=0)
    assert env.unwrapped.problem.meta["family"] == "leg_counting"
    reward, info = oracle_episode(env, 1, 4)
    assert info["is_correct"]


def test_same_seed_same_bytes() -> None:
    def run(seed: int) -> bytes:
        env = gym.make("R1Open-v0", task="reasoning_gym:leg_counting")
        out = []
        obs, info = env.reset(seed=seed)
        out.append((obs, info))
        for action in ("I count the legs of each animal.", "<backtrack>", "The answer is 12.", "<submit>"):
            out.append(env.step(action))
        obs, info = env.reset()
        out.append((obs, info))
        return pickle.dumps(out)

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_seeding_is_independent_per_item() -> None:
    a, b = make_task("reasoning_gym:basic_arithmetic", seed=42), make_task("reasoning_gym:basic_arithmetic", seed=43)
    qa = [a.problem(i).question for i in range(30)]
    qb = [b.problem(i).question for i in range(30)]
    assert sum(x == y for x, y in zip(qa[1:], qb)) <= 2  # seed 43 does not replay seed 42 shifted by one
    assert item_seed(42, 7) == item_seed(42, 7) != item_seed(43, 6)
    assert a.problem(7) == make_task("reasoning_gym:basic_arithmetic", seed=42).problem(7)


def test_problem_seven_is_the_same_in_another_process() -> None:
    code = (
        "import r1gym; from r1gym.core.protocols import make_task; "
        "print(make_task('reasoning_gym:leg_counting', seed=3).problem(7).question)"
    )
    other = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert other.strip() == make_task("reasoning_gym:leg_counting", seed=3).problem(7).question.strip()


def test_gymnasium_env_checker() -> None:
    for family in ("basic_arithmetic", "leg_counting"):
        env = gym.make("R1Open-v0", task=f"reasoning_gym:{family}")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check_env(env.unwrapped, skip_render_check=False)


def test_menu_mode_works_too() -> None:
    env = gym.make("R1Open-v0", action_mode="menu", reveal=True)
    obs, info = env.reset(seed=0)
    while True:
        obs, reward, term, trunc, info = env.step(info["oracle_action"])
        if term or trunc:
            break
    assert info["is_correct"]


def test_pickle_mid_episode_and_in_a_fresh_process() -> None:
    env = gym.make("R1Open-v0", task="reasoning_gym:leg_counting", reveal=True)
    _, info = env.reset(seed=5)
    env.step("Each animal has a known number of legs.")
    clone = pickle.loads(pickle.dumps(env))
    answer = env.unwrapped.problem.answer
    a = env.step(f"The answer is {answer}.")
    b = clone.step(f"The answer is {answer}.")
    assert pickle.dumps(a) == pickle.dumps(b)
    a, b = env.step("<submit>"), clone.step("<submit>")
    assert a[1] == b[1] > 0 and a[4]["is_correct"] and b[4]["is_correct"]
    # the problem alone, verified in a process that never built it
    blob = pickle.dumps(env.unwrapped.problem).hex()
    code = (
        "import pickle, sys; from r1gym.core.verify import get_verifier; "
        f"p = pickle.loads(bytes.fromhex('{blob}')); "
        "assert get_verifier(p.verifier)(p.answer, p.answer, p); "
        "assert not get_verifier(p.verifier)('nonsense', p.answer, p)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_family_lists_close_names() -> None:
    with pytest.raises(ValueError, match="leg_counting"):
        gym.make("R1Open-v0", task="reasoning_gym:leg_countin")
    with pytest.raises(ValueError, match="unknown reasoning-gym family"):
        make_task("reasoning_gym", family="no_such_family")


def test_bad_kwargs() -> None:
    with pytest.raises(TypeError, match="max_animals"):
        gym.make("R1Open-v0", task="reasoning_gym:leg_counting", task_kwargs={"max_animal": 3})
    with pytest.raises(TypeError, match="set by r1gym"):
        gym.make("R1Open-v0", task="reasoning_gym:leg_counting", task_kwargs={"size": 3})
    with pytest.raises(ValueError, match="invalid config"):
        gym.make("R1Open-v0", task="reasoning_gym:leg_counting", task_kwargs={"min_animals": 0})


def test_multi_line_answers_are_written_on_one_line() -> None:
    assert relaid("1 2 3 4", "1 2\n3 4") == "1 2\n3 4"
    assert relaid("1 2 3", "1 2\n3 4") is None
    env = gym.make("R1Open-v0", task="reasoning_gym:rotate_matrix")
    env.reset(seed=0)
    ref = env.unwrapped.problem.meta
    assert "\n" not in env.unwrapped.problem.answer and ref["family"] == "rotate_matrix"
    env.step(f"The answer is {env.unwrapped.problem.answer}.")
    assert env.step("<submit>")[4]["is_correct"]


def test_a_draw_the_family_cannot_generate_is_redrawn_deterministically() -> None:
    """reasoning-gym 0.1.25's basic_arithmetic divides by zero on some seeds (item 104,960 of task
    seed 0): the problem redraws from SeedSequence([seed, i, k]) and records the seed that worked."""
    from r1gym.tasks.reasoning_gym import ReasoningGymTask, item, item_seed

    with pytest.raises(ZeroDivisionError):
        item("basic_arithmetic", {}, item_seed(0, 104_960))
    p = ReasoningGymTask("basic_arithmetic", seed=0).problem(104_960)
    assert p.meta["item_seed"] == item_seed(0, 104_960, 1)
    assert ReasoningGymTask("basic_arithmetic", seed=0).problem(104_960) == p
