"""The physics task: clean families with units, the "units" verifier, and the environment on it."""

from __future__ import annotations

import importlib
import pickle
import re
import time
import warnings
from collections import Counter
from fractions import Fraction

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from helpers import play

from r1gym.baselines import BacktrackAgent, GreedyAgent, OracleAgent
from r1gym.core.ops import Op, get_op, register_op
from r1gym.core.verify import get_verifier
from r1gym.evaluation import evaluate
from r1gym.tasks import make_task
from r1gym.tasks.physics import AREAS, FAMILIES, FAMILY_TABLE, PhysicsTask, parse_quantity, verify_units
from r1gym.tasks.physics import ops as physics_ops

# A step states its result with a unit: "... = 25 m/s." (the unit is the word after the number).
_STEP_RESULT = re.compile(r"= (-?\d+(?:\.\d+)?) ([A-Za-z][\w^/]*)")


def make_env(**kwargs) -> gym.Env:
    return gym.make("R1Math-v0", task=PhysicsTask(), **kwargs)


# -- the task --------------------------------------------------------------------------------


def test_families_cover_every_area_with_2_to_5_steps() -> None:
    assert len(FAMILIES) >= 12
    areas = Counter(area for area, _ in FAMILY_TABLE.values())
    assert set(areas) == set(AREAS) and min(areas.values()) >= 3
    lengths = {f: len(PhysicsTask(families=[f]).problem(0).steps) for f in FAMILIES}
    assert min(lengths.values()) == 2 and max(lengths.values()) == 5, lengths


def test_every_family_generates_clean_verified_problems() -> None:
    task = PhysicsTask(seed=0)
    seen: Counter[str] = Counter()
    for i in range(3000):
        p = task.problem(i)
        family = p.meta["family"]
        seen[family] += 1
        assert p.domain == "physics" and p.verifier == "units" and p.uid == f"physics:0:{i}"
        assert p.question.isascii() and all(s.isascii() for s in p.steps)
        assert 2 <= len(p.steps) <= 5 and p.difficulty == f"{len(p.steps)} steps"
        unit = p.program.answer_unit
        assert unit and p.answer.endswith(f" {unit}")
        assert p.steps[-1].endswith(f"The answer is {p.answer}.")
        values = p.program.run()
        for v, spec, text in zip(values, p.program.steps, p.steps):
            assert isinstance(v, (int, Fraction)) and 0 < v < 10**7, (family, spec.id, v)
            assert type(v) is int or v.denominator != 1  # whole values are ints (the fast path)
            assert (v * 100).denominator == 1, (family, spec.id, v)  # at most two decimals
            m = _STEP_RESULT.findall(text)
            assert m, (family, text)
            number, step_unit = m[-1]
            assert Fraction(number) == v, (family, text)
            q = parse_quantity(f"{number} {step_unit}")
            assert q is not None and q.has_unit, (family, text)  # every step carries a unit
        assert values[-1] not in values[:-1]  # an early answer never states the right number
        assert verify_units(p.answer, p.answer)
    assert set(seen) == set(FAMILIES), set(FAMILIES) - set(seen)


def test_problems_are_rebuilt_from_seed_and_index() -> None:
    a, b = PhysicsTask(seed=3), PhysicsTask(seed=3)
    for i in (0, 1, 17, 2**40):
        assert a.problem(i) == b.problem(i)
    other = PhysicsTask(seed=4)
    assert sum(a.problem(i).question == other.problem(i).question for i in range(200)) <= 2
    assert len({a.problem(i).question for i in range(500)}) >= 490


def test_families_and_areas_select() -> None:
    assert PhysicsTask(families=["units"]).families == tuple(
        f for f, (area, _) in FAMILY_TABLE.items() if area == "units"
    )
    task = PhysicsTask(families=("braking_distance", "forces"))
    assert task.families[0] == "braking_distance" and "weight_total" in task.families
    assert {task.problem(i).meta["area"] for i in range(100)} == {"kinematics", "forces"}
    assert PhysicsTask(families="drop_speed").families == ("drop_speed",)
    with pytest.raises(ValueError, match="valid families"):
        PhysicsTask(families=["optics"])
    with pytest.raises(ValueError, match="at least one"):
        PhysicsTask(families=[])
    assert isinstance(make_task("physics", families=["energy"]), PhysicsTask)


def test_square_and_root_operations() -> None:
    sq, sqrt = get_op("sq"), get_op("sqrt")
    assert sq.fn(12) == 144 and sq.fn(Fraction(5, 2)) == Fraction(25, 4)
    assert sq.render((12,), 144) == "12^2 = 144"
    assert sqrt.fn(144) == 12 and sqrt.fn(Fraction(9, 4)) == Fraction(3, 2)
    assert sqrt.render((144,), 12) == "sqrt(144) = 12"
    for bad in (2, 143, Fraction(1, 2), -4):
        with pytest.raises(ArithmeticError):
            sqrt.fn(bad)  # only exact roots: the proposer drops the branch
    # the wrong-operation siblings look like the right operation and compute the classic slips
    assert sq.siblings == ("sq_double",) and get_op("sq_double").fn(12) == 24
    assert get_op("sq_double").render((12,), 24) == "12^2 = 24"
    assert sqrt.siblings == ("sqrt_half",) and get_op("sqrt_half").fn(144) == 72


def test_a_reload_replaces_only_the_modules_own_operations() -> None:
    """Re-running the operations' module replaces its own registrations (no duplicate-name
    error); an operation of another module under one of its names is still refused."""
    before = get_op("sq")
    importlib.reload(physics_ops)
    after = get_op("sq")
    assert after is not before and after.fn.__module__ == physics_ops.__name__ and after.fn(12) == 144
    with pytest.raises(ValueError, match="operation 'sq' is already registered"):
        register_op(Op("sq", abs, after.render))
    assert get_op("sq") is after


# -- the units verifier ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, reference",
    [
        ("25 m/s", "25 m/s"),
        ("90 km/h", "25 m/s"),
        ("25 meter/second", "25 m/s"),
        ("25 meters per second", "90 km/h"),
        ("0.025 km/s", "25 m/s"),
        ("25m/s", "25 m/s."),
        ("v = 25 m/s", "25 m/s"),
        ("2.5e4 J", "25 kJ"),
        ("2.5 x 10^4 J", "25 kJ"),
        ("25,000 J", "25 kJ"),
        ("25000 joules", "25 kJ"),
        ("1.5 h", "90 min"),
        ("5400 s", "1.5 hours"),
        ("90 s", "1.5 min"),
        ("1500 g", "1.5 kg"),
        ("1.5 km", "1500 m"),
        ("18 kN", "18000 N"),
        ("18000 kg*m/s^2", "18 kN"),
        ("2.5 m/s^2", "2.5 m/s/s"),
        ("2.5 meters per second squared", "2.5 m/s^2"),
        ("1 kWh", "3600 kJ"),
        ("8.3333333333 m/s", "30 km/h"),  # within the relative tolerance of 1e-9
        ("12.5 W", "12.5 J/s"),
    ],
)
def test_equivalent_quantities_are_right(answer: str, reference: str) -> None:
    assert verify_units(answer, reference)
    assert get_verifier("units")(answer, reference, None)


@pytest.mark.parametrize(
    "answer, reference",
    [
        ("25 km/h", "25 m/s"),  # off by the conversion factor
        ("90 m/s", "90 km/h"),  # the unit slip: km/h read as m/s
        ("25 m", "25 m/s"),  # wrong dimension
        ("25 s", "25 m/s"),
        ("25 N", "25 J"),
        ("25 m/s^2", "25 m/s"),
        ("25 J", "25 kJ"),  # off by 1000
        ("25000 kJ", "25 kJ"),
        ("1500 kg", "1.5 kg"),
        ("1.5 kg", "1.5 g"),
        ("25", "25 m/s"),  # no unit where one is required
        ("25.0", "25 kJ"),
        ("26 m/s", "25 m/s"),
        ("8.33 m/s", "30 km/h"),  # rounded beyond the tolerance
        ("25 furlongs", "25 m"),  # unknown unit
        ("25 M/S", "25 m/s"),  # symbols are case-sensitive (M is not m)
        ("25 mJ", "25 MJ"),
    ],
)
def test_wrong_quantities_are_wrong(answer: str, reference: str) -> None:
    assert not verify_units(answer, reference)


GARBAGE = [
    "",
    "   ",
    "abc",
    "m/s",
    "twenty-five m/s",
    "25 m//s",
    "25 m/",
    "25 * m",
    "25 m/s^",
    "1e999999 m",
    "10^10^10 m",
    "__import__('os').system('echo hi') m",
    "25 m/s " * 40,
    "25 m/s; 30 m/s",
    "25 m s s s s s s s",
]


def test_garbage_is_wrong_and_fast() -> None:
    verify_units("25 m/s", "25 m/s")  # the unit table is read from sympy once
    verify_units.cache_clear()
    parse_quantity.cache_clear()
    t0 = time.perf_counter()
    for g in GARBAGE:
        assert not verify_units(g, "25 m/s"), g
    uncached = (time.perf_counter() - t0) / len(GARBAGE)
    assert uncached < 5e-4, f"{uncached * 1e6:.0f} us per uncached verdict"
    t0 = time.perf_counter()
    for _ in range(100):
        for g in GARBAGE:
            verify_units(g, "25 m/s")
    assert (time.perf_counter() - t0) / (100 * len(GARBAGE)) < 2e-5  # cached


def test_verdicts_are_fast_on_real_answers() -> None:
    verify_units("25 m/s", "25 m/s")
    answers = [f"{v} {u}" for v in range(200) for u in ("m/s", "km/h", "kJ", "J", "m")]
    verify_units.cache_clear()
    parse_quantity.cache_clear()
    t0 = time.perf_counter()
    for a in answers:
        verify_units(a, "90 km/h")
    per = (time.perf_counter() - t0) / len(answers)
    assert per < 3e-4, f"{per * 1e6:.0f} us per uncached verdict"


def test_bare_reference_needs_a_bare_answer_and_unparsed_reference_falls_back() -> None:
    assert verify_units("25", "25") and verify_units("25.0", "25")
    assert not verify_units("25 m", "25")
    assert verify_units("2*(x+1)", "2x + 2")  # not a quantity: the "math" verifier decides


# -- the environment -----------------------------------------------------------------------


def test_oracle_scores_one_on_1000_episodes() -> None:
    report = evaluate(OracleAgent(), "R1Math-v0", episodes=1000, seed=2024, task=PhysicsTask())
    assert report.accuracy == 1.0 and report.left_path_rate == 0.0


def test_oracle_reveal_episode_submits_the_answer_with_its_unit() -> None:
    env = make_env(reveal=True)
    _, _, infos, term, _ = play(env, lambda obs, info: info["oracle_action"], seed=5)
    assert term and infos[-1]["is_correct"] and infos[-1]["reward_terms"]["accuracy"] == 1.0
    assert infos[-1]["answer"] == infos[-1]["reference"] == env.unwrapped.problem.answer
    assert " " in infos[-1]["answer"]  # "25 m/s": a number and its unit


@pytest.mark.parametrize("obs_mode", ["vector", "text"])
def test_gymnasium_check_env(obs_mode: str) -> None:
    env = make_env(obs_mode=obs_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=False)


def test_sb3_check_env_no_warnings() -> None:
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = make_env()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(env, warn=True)


def _episode_bytes(seed: int, obs_mode: str) -> bytes:
    env = make_env(obs_mode=obs_mode)
    rng = np.random.default_rng(99)

    def policy(obs, info):
        return int(rng.choice(np.flatnonzero(obs["action_mask"])))

    return pickle.dumps([play(env, policy, seed=seed if ep == 0 else None) for ep in range(5)])


@pytest.mark.parametrize("obs_mode", ["vector", "text"])
def test_same_seed_same_episode(obs_mode: str) -> None:
    assert _episode_bytes(7, obs_mode) == _episode_bytes(7, obs_mode)
    assert _episode_bytes(7, obs_mode) != _episode_bytes(8, obs_mode)


def _walk_reference(env: gym.Env) -> dict:
    """From the current node, follow the (re-derived) reference step until the path states an
    answer or has no reference step left (a root that is not exact), then submit."""
    u = env.unwrapped
    while not u.current_node.state.complete:
        refs = [j for j, c in enumerate(u.current_node.candidates) if c.kind == "reference"]
        if not refs:
            break
        env.step(refs[0])
    return env.step(u.SUBMIT)[4]


def test_a_wrong_step_propagates_to_a_wrong_answer() -> None:
    env = make_env(reveal=True)
    u = env.unwrapped
    kinds: Counter[str] = Counter()
    finished = unfinished = lucky = 0
    for ep in range(150):
        env.reset(seed=ep)
        while not u.current_node.state.complete:
            node, snap = u.current_node, u.snapshot()
            for i, c in enumerate(node.candidates):
                if c.kind == "reference":
                    continue
                u.restore(snap)
                env.step(i)
                complete_before = u.current_node.state.complete
                info_end = _walk_reference(env)
                kinds[c.kind] += 1
                if u.current_node.state.complete:
                    finished += 1
                    assert not info_end["is_correct"], (u.problem.question, u.current_node.texts, complete_before)
                else:  # the reference continuation needs a root the wrong value does not have
                    unfinished += 1
                    lucky += info_end["is_correct"]
            u.restore(snap)
            env.step(u._oracle_action(node))
    assert finished > 1000 and set(kinds) == {"slip", "operand", "operation", "skip", "premature"}
    assert lucky <= 0.02 * max(unfinished, 1)  # an unfinished path submits its last value


def test_skipping_a_conversion_is_a_unit_slip() -> None:
    env = gym.make("R1Math-v0", task=PhysicsTask(families=["constant_speed_distance"]), reveal=True)
    for seed in range(20):
        _, info = env.reset(seed=seed)
        p = env.unwrapped.problem
        v, t_s = p.program.constants["v"], p.program.constants["t"] * 60
        vehicle = p.question.split()[1]
        env.step(info["oracle_action"])  # the time in seconds; next comes the speed in m/s
        skips = [c for c in env.unwrapped.current_node.candidates if c.kind == "skip"]
        if skips:  # the distance from the speed in km/h, as if it were in m/s
            d = v * t_s
            assert skips[0].text == f"The {vehicle} travels {v} * {t_s} = {d} m. The answer is {d} m."
            assert not skips[0].state.on_path and skips[0].state.answer == f"{d} m" != p.answer
            return
    pytest.fail("no skip distractor at the conversion in 20 episodes")


def test_pickle_round_trip_mid_episode() -> None:
    env = make_env()
    env.reset(seed=5)
    env.step(0)
    clone = pickle.loads(pickle.dumps(env))
    a = env.step(int(env.unwrapped.SUBMIT))
    b = clone.step(int(clone.unwrapped.SUBMIT))
    assert a[1] == b[1] and a[4]["answer"] == b[4]["answer"]
    for key in a[0]:
        np.testing.assert_array_equal(a[0][key], b[0][key])
    task = PhysicsTask(seed=2, families=["energy"])
    assert pickle.loads(pickle.dumps(task)).problem(9) == task.problem(9)


def test_async_vector_env_matches_sync() -> None:
    """Spawned workers import the task's module when they unpickle the task, so its operations
    and its verifier exist there: submissions verify as in the parent process."""
    outs = []
    for mode, kwargs in (("sync", {}), ("async", {"vector_kwargs": {"context": "spawn"}})):
        envs = gym.make_vec("R1Math-v0", num_envs=2, vectorization_mode=mode, task=PhysicsTask(), reveal=True, **kwargs)
        try:
            obs, info = envs.reset(seed=123)
            trace = [obs]
            for _ in range(12):  # follow the oracle: every episode ends with a verified submit
                obs, r, term, _, info = envs.step(np.asarray(info["oracle_action"]))
                trace.append((obs, r, term))
        finally:
            envs.close()
        outs.append(trace)
    assert pickle.dumps(outs[0]) == pickle.dumps(outs[1])
    rewards = np.array([r for _, r, _ in outs[1][1:]])
    assert (rewards > 0.6).sum() >= 2  # the spawned workers verified correct answers


def test_baselines_land_near_the_other_domains() -> None:
    kwargs = {"task": PhysicsTask(), "difficulty": "medium"}
    g = evaluate(GreedyAgent(), "R1Math-v0", episodes=300, seed=1000, **kwargs)
    b = evaluate(BacktrackAgent(), "R1Math-v0", episodes=300, seed=1000, **kwargs)
    assert 0.3 <= g.accuracy <= 0.65, g.accuracy
    assert b.accuracy >= g.accuracy + 0.1, (g.accuracy, b.accuracy)
