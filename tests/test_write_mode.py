"""Write mode (issue 12): text actions, the step judge in every mode, process rewards.

``gym.make(ID, action_mode="write")``: the action is a string in the text protocol
(``<expand_i>``, ``<backtrack>``, ``<submit>``) or the agent's own step, judged.
"""

from __future__ import annotations

import os
import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import r1gym  # noqa: F401  (registers the ids)
from r1gym.errors import InvalidActionError

JUDGED = ["R1Arith-v0", "R1Algebra-v0", "R1Math-v0", "R1Physics-v0", "R1GSM8K-v0"]


@pytest.fixture(params=JUDGED)
def judged_id(request: pytest.FixtureRequest) -> str:
    if request.param == "R1GSM8K-v0" and not os.environ.get("R1GYM_GSM8K_PATH"):
        pytest.skip("R1GSM8K-v0 needs GSM8K's train.jsonl (R1GYM_GSM8K_PATH)")
    return request.param


def play_oracle(env: gym.Env, seed: int) -> tuple[list, list, dict]:
    """The revealed oracle's episode: its actions, the step labels, the last info."""
    _, info = env.reset(seed=seed)
    actions, labels = [], []
    for _ in range(60):
        a = info["oracle_action"]
        actions.append(a)
        _, _, term, trunc, info = env.step(a)
        labels.append(info.get("step_label"))
        if term or trunc:
            break
    return actions, labels, info


# -- the checkers and the spaces ------------------------------------------------------------------
@pytest.mark.parametrize("k", [None, 0], ids=["candidates", "no-candidates"])
def test_gymnasium_check_env_in_write_mode(judged_id: str, k: int | None) -> None:
    env = gym.make(judged_id, action_mode="write", num_candidates=k)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=False)
    assert isinstance(env.action_space, gym.spaces.Text)
    assert env.action_space.contains("3 × 4 = 12, and ÷ √ ° é 中文 too")
    assert not env.action_space.contains("a\x00b") and not env.action_space.contains("x" * 1025)


def test_write_mode_needs_text_observations_and_judged_steps() -> None:
    with pytest.raises(ValueError, match="obs_mode='text'"):
        gym.make("R1Math-v0", action_mode="write", obs_mode="vector")
    with pytest.raises(ValueError, match="code keeps the menu"):
        gym.make("R1Code-v0", action_mode="write")
    with pytest.raises(ValueError, match="action_mode"):
        gym.make("R1Math-v0", action_mode="type")
    with pytest.raises(ValueError, match="num_candidates=0"):
        gym.make("R1Math-v0", num_candidates=0)


# -- the oracle writes, with and without candidates ------------------------------------------------
@pytest.mark.parametrize("k", [None, 0], ids=["candidates", "no-candidates"])
def test_the_oracle_solves_every_problem_with_every_step_correct(judged_id: str, k: int | None) -> None:
    env = gym.make(judged_id, action_mode="write", num_candidates=k, reveal=True)
    correct = 0
    for seed in range(20):
        actions, labels, info = play_oracle(env, seed)
        correct += bool(info["is_correct"])
        steps = [label for a, label in zip(actions, labels) if a not in ("<submit>", "<backtrack>")]
        if judged_id != "R1GSM8K-v0":  # GSM8K writes some of its own steps wrongly (docs/judge.md)
            assert info["first_error"] == -1
            assert steps and all(label in ("correct", "neutral") for label in steps), (actions, labels)
    assert correct == 20 if judged_id != "R1GSM8K-v0" else correct >= 19


def test_written_steps_are_judged_and_wrong_ones_leave_the_path() -> None:
    env = gym.make("R1Arith-v0", action_mode="write", num_candidates=0, reveal=True, step_reward="process")
    obs, info = env.reset(seed=3)
    assert obs["context"] == "Compute (42 / 3 + 12) * 5 * 3 / 10." and set(obs) == {
        "context",
        "action_mask",
        "progress",
    }
    _, r, *_, info = env.step("42 ÷ 3 = 14")
    assert (info["step_label"], r, info["on_path"], info["first_error"]) == ("correct", 0.05, True, -1)
    _, r, *_, info = env.step("14 + 12 = 27")
    assert (info["step_label"], r, info["on_path"], info["first_error"]) == ("wrong", -0.1, False, 1)
    assert "26" in info["step_reason"] and info["oracle_action"] == "<backtrack>"
    _, r, *_, info = env.step("27 × 5 = 135")  # consistent with the wrong value: continues the error
    assert info["step_label"] == "correct" and info["continues_error"] and r == 0.0 and info["first_error"] == 1
    env.step("<backtrack>")
    _, r, *_, info = env.step("<backtrack>")
    assert r == 0.0 and info["on_path"] and info["depth"] == 1
    for step in ("14 plus 12 gives 26", "２６ × 5 = 130", "130 * 3 = 390.", "390 / 10 = 39. The answer is 39."):
        obs, r, *_, info = env.step(step)
        assert info["step_label"] == "correct" and r == 0.05, (step, info["step_reason"])
    assert "２６ × 5 = 130" in obs["context"]  # Unicode kept as written
    _, r, term, _, info = env.step("<submit>")
    assert term and info["is_correct"] and info["answer"] == "39"
    assert r == pytest.approx(0.6 + 0.3 * info["reward_terms"]["efficiency"] + 0.1, rel=1e-6)


def test_a_written_step_equal_to_a_candidate_is_that_candidate() -> None:
    env = gym.make("R1Math-v0", action_mode="write", reveal=True)
    obs, info = env.reset(seed=1)
    text = obs["candidates"][2]
    _, _, _, _, by_text = env.step(text)
    env.step("<backtrack>")
    _, _, _, _, by_token = env.step("<expand_2>")
    assert by_text["path"] == by_token["path"] == (2,)


def test_revisiting_a_node_pays_its_process_reward_once() -> None:
    env = gym.make("R1Arith-v0", action_mode="write", num_candidates=0, step_reward="process")
    env.reset(seed=3)
    rewards = [env.step(a)[1] for a in ("42 / 3 = 14", "<backtrack>", "42 / 3 = 14")]
    assert rewards == [0.05, 0.0, 0.0]


# -- bad input: a clear error or a documented label, and the env stays usable ---------------------
@pytest.mark.parametrize(
    ("action", "why"),
    [
        ("", "empty step"),
        ("   ", "empty step"),
        ("x" * 1025, "at most 1024"),
        ("3 + 4\x07 = 7", "control character"),
        ("<expand_9>", "shows 4 candidates"),
        ("<frobnicate>", "unknown action token"),
        ("<backtrack>", "backtrack at the root"),
    ],
)
def test_bad_text_actions_are_invalid_and_change_nothing(action: str, why: str) -> None:
    env = gym.make("R1Math-v0", action_mode="write", reveal=True)
    obs, info = env.reset(seed=0)
    obs2, r, term, trunc, info2 = env.step(action)
    assert info2["invalid_action"] and why in info2["invalid_reason"] and r == -0.05 and not (term or trunc)
    assert obs2["context"] == obs["context"] and info2["path"] == ()
    _, _, _, _, info3 = env.step(info["oracle_action"])  # still usable
    assert not info3["invalid_action"] and info3["depth"] == 1


def test_expand_without_candidates_and_steps_after_the_answer_are_invalid() -> None:
    env = gym.make("R1Arith-v0", action_mode="write", num_candidates=0, reveal=True)
    env.reset(seed=3)
    _, _, _, _, info = env.step("<expand_0>")
    assert info["invalid_action"] and "num_candidates=0" in info["invalid_reason"]
    for a in ("42 / 3 = 14", "14 + 12 = 26", "The answer is 26."):
        env.step(a)
    _, _, _, _, info = env.step("26 * 5 = 130")
    assert info["invalid_action"] and "already states its answer" in info["invalid_reason"]


def test_raise_mode_and_non_strings() -> None:
    env = gym.make("R1Math-v0", action_mode="write", invalid_action="raise")
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="empty step"):
        env.step("")
    with pytest.raises(ValueError, match="is a string"):
        env.step(3)
    env.step("<expand_0>")  # usable after both


@pytest.mark.parametrize(
    "step",
    ["Сначала умножим числа.", "先把两个数相乘。", "ثم نجمع ١٢ و ٣", "9" * 5000 + " = 1", "\N{SNOWMAN} " * 50],
    ids=["cyrillic", "chinese", "arabic", "5000-digits", "symbols"],
)
def test_text_in_any_script_is_a_step_with_a_label(step: str) -> None:
    env = gym.make("R1Math-v0", action_mode="write", num_candidates=0, reveal=True)
    env.reset(seed=0)
    obs, _, _, _, info = env.step(step if len(step) <= 1024 else step[:1024])
    assert not info["invalid_action"] and info["step_label"] in ("neutral", "wrong") and info["step_reason"]
    assert obs["context"].endswith(step[:1024].strip()[-20:])
    _, _, term, _, info = env.step("<submit>")
    assert term and not info["is_correct"]


# -- determinism, snapshots, pickling -------------------------------------------------------------
def _episode_bytes(env_id: str, seed: int, actions: list[str]) -> bytes:
    env = gym.make(env_id, action_mode="write", reveal=True)
    out = [env.reset(seed=seed)]
    for a in actions:
        out.append(env.step(a))
        if out[-1][2]:
            break
    return pickle.dumps(out)


def test_same_seed_and_actions_give_the_same_bytes(judged_id: str) -> None:
    env = gym.make(judged_id, action_mode="write", reveal=True)
    actions, _, _ = play_oracle(env, 7)
    actions = ["I will work it out step by step.", *actions[:-1], "<backtrack>", *actions[-2:]]
    assert _episode_bytes(judged_id, 7, actions) == _episode_bytes(judged_id, 7, actions)


def test_snapshot_restore_and_pickle_in_write_mode() -> None:
    env = gym.make("R1Math-v0", action_mode="write", reveal=True)
    _, info = env.reset(seed=4)
    env.step(info["oracle_action"])
    snap = env.unwrapped.snapshot()
    before = env.unwrapped.step("a wrong claim: 2 + 2 = 5")
    look = env.unwrapped.step("<submit>")
    assert look[2]
    obs, info = env.unwrapped.restore(snap)
    assert info["depth"] == 1 and not env.unwrapped.episode.done and info["on_path"]
    again = env.unwrapped.step("a wrong claim: 2 + 2 = 5")
    assert pickle.dumps(again) == pickle.dumps(before)
    clone = pickle.loads(pickle.dumps(env))
    a = clone.step("<submit>")
    b = env.step("<submit>")
    assert a[1] == b[1] and a[4]["answer"] == b[4]["answer"]


# -- labels in the menu mode ------------------------------------------------------------------------
def test_menu_mode_labels_every_step_and_keeps_its_rewards() -> None:
    """Along the reference path, every candidate is expanded once (snapshot and restore): the
    reference steps are judged correct, the distractors wrong (docs/judge.md has the per-family
    figures); the rewards are those of an env without labels."""
    env = gym.make("R1Math-v0", reveal=True, step_labels=True)
    quiet = gym.make("R1Math-v0", reveal=True)  # the vector mode: no labels by default
    labels: dict[str, list[str]] = {"reference": [], "distractor": []}
    for seed in range(30):
        _, info = env.reset(seed=seed)
        _, info_q = quiet.reset(seed=seed)
        assert "step_label" not in info_q and info["step_label"] is None and info["first_error"] == -1
        while True:
            node = env.unwrapped.current_node
            snap = env.unwrapped.snapshot()
            for i, c in enumerate(node.candidates):
                _, _, _, _, child = env.unwrapped.step(i)
                labels["reference" if c.kind == "reference" else "distractor"].append(child["step_label"])
                env.unwrapped.restore(snap)
            a = info["oracle_action"]
            _, r, term, trunc, info = env.step(a)
            _, r_q, *_ = quiet.step(a)
            assert r == r_q  # the outcome reward is untouched by the labels
            if term or trunc:
                break
    assert labels["reference"] and set(labels["reference"]) == {"correct"}
    wrong = sum(label == "wrong" for label in labels["distractor"]) / len(labels["distractor"])
    assert len(labels["distractor"]) > 300 and wrong >= 0.97, wrong


def test_labels_default_on_in_text_and_off_in_vector_observations() -> None:
    assert "step_label" in gym.make("R1Math-v0", obs_mode="text").reset(seed=0)[1]
    assert "step_label" not in gym.make("R1Math-v0").reset(seed=0)[1]


def test_vector_envs_stack_the_labels() -> None:
    envs = gym.make_vec("R1Math-v0", num_envs=3, vectorization_mode="sync", step_labels=True)
    envs.reset(seed=0)
    _, _, _, _, infos = envs.step(np.zeros(3, dtype=np.int64))
    assert infos["first_error"].dtype.kind == "i" and list(infos["step_label"]) != [None] * 3
    envs.close()


def test_text_observations_show_the_question_as_written() -> None:
    """A user's question keeps its Unicode in text observations; the vector mode, the judge and the
    proposer read its ASCII folding (``Problem.question``), unchanged."""
    record = {
        "question": "Léa buys 3 × 4 apples at 2 € each – how much?",
        "steps": ["3 * 4 = 12.", "12 * 2 = 24."],
        "answer": 24,
    }
    env = gym.make("R1Math-v0", obs_mode="text", problems=[record])
    obs, _ = env.reset(seed=0)
    assert obs["context"] == record["question"] and env.observation_space.contains(obs)
    assert env.unwrapped.problem.question.isascii()
    vec = gym.make("R1Math-v0", problems=[record])
    assert vec.reset(seed=0)[0]["context"].shape == (64,)
