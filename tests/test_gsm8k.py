"""GSM8K: programs from the <<expr=result>> annotations, the plain-text fallback, bad data, checkers.

The training file is not part of the repository: the tests read it from ``shared/`` beside the
checkout (as CI clones it) and skip when it is absent. The small files of the other tests are
written here, in ``tmp_path``, with problems made up for them.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import types
import warnings
from fractions import Fraction
from pathlib import Path

import gymnasium as gym
import pytest

import r1gym  # noqa: F401  (registers the ids)
from r1gym.core.ops import OPS, get_op
from r1gym.errors import DataError
from r1gym.tasks import make_task
from r1gym.tasks.gsm8k import (
    ENV_VAR,
    LAST_DIFFERS,
    NO_ANNOTATION,
    RESULT_MISMATCH,
    GSM8KTask,
    evaluate,
    op_from_name,
    parse_expression,
    shape_op,
    shape_text,
    siblings,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gsm8k" / "train.jsonl"
needs_data = pytest.mark.skipif(
    not DATA.is_file(),
    reason=f"the GSM8K training file is not at {DATA} (CI clones the repository with shared/ beside it; "
    "nothing of GSM8K ships with r1gym)",
)

# Made-up problems in the GSM8K format (not taken from GSM8K).
FARM = {
    "question": "A farm has 12 cows and buys 5 more. Each cow eats 3 bales of hay a day. How many bales a day?",
    "answer": "The farm has 12+5 = <<12+5=17>>17 cows.\nThey eat 17 x 3 = <<17*3=51>>51 bales a day.\n#### 51",
}
SHOP = {
    "question": "Mia buys 4 pens at $2.50 each and pays with a $20 bill. How much change does she get?",
    "answer": "The pens cost 4 * $2.50 = $<<4*2.5=10>>10.\nHer change is 20 - 10 = $<<20-10=10>>10.\n#### 10",
}
PLAIN = {
    "question": "Tom has 9 apples and eats 2. How many are left?",
    "answer": "Tom has 9 - 2 = 7 apples left.\n#### 7",
}


def write_jsonl(path: Path, lines: list[object]) -> Path:
    """Write ``lines`` one a line: dicts as JSON, strings as they are (for broken lines)."""
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


def play_oracle(env: gym.Env, index: int) -> dict:
    _, info = env.reset(seed=index, options={"problem_index": index})
    while True:
        _, _, term, trunc, info = env.step(info["oracle_action"])
        if term or trunc:
            return info


# -- the training file ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def train_task() -> GSM8KTask:
    if not DATA.is_file():
        pytest.skip(f"the GSM8K training file is not at {DATA}")
    return GSM8KTask(DATA)


@needs_data
def test_oracle_solves_every_problem_of_the_training_file(train_task: GSM8KTask) -> None:
    summary = train_task.summary()
    print(f"\nGSM8K train: {summary}")
    assert summary["problems"] == train_task.size == 7473
    assert summary["skipped"] == 0 and summary["program"] + summary["text"] == summary["problems"]
    assert summary["program"] >= 6900, summary  # 7,000 of 7,473 measured
    env = gym.make("R1Math-v0", task=train_task, reveal=True, obs_mode="text")
    wrong = []
    for i in range(train_task.size):
        info = play_oracle(env, i)
        if not info["is_correct"]:
            wrong.append((i, info["answer"], info["reference"]))
    assert not wrong, f"{len(wrong)} problems the oracle does not solve, first: {wrong[:5]}"


@needs_data
def test_problems_are_ascii_and_state_their_answer(train_task: GSM8KTask) -> None:
    for i in range(train_task.size):
        p = train_task.problem(i)
        assert p.question.isascii() and p.question.isprintable(), i
        assert all(s.isascii() and s.isprintable() for s in p.steps), i
        assert p.steps[-1].endswith(f"The answer is {p.answer}."), (i, p.steps[-1])
        assert p.uid == f"gsm8k:train:{i}" and p.domain == "gsm8k"
        assert p.meta["index"] == i and p.meta["source"].startswith(f"{DATA}:")
        assert p.meta["annotated"] is (p.program is not None)
        if p.program is not None:
            assert str(p.program.run()[-1]) == p.answer or Fraction(p.answer) == p.program.run()[-1]
        else:
            assert p.distractors == "numbers" and p.meta["text_reason"] in (
                NO_ANNOTATION,
                LAST_DIFFERS,
                RESULT_MISMATCH,
            )


@needs_data
def test_first_problem_has_its_program_and_texts(train_task: GSM8KTask) -> None:
    p = train_task.problem(0)
    assert p.steps == (
        "Natalia sold 48 / 2 = 24 clips in May.",
        "Natalia sold 48 + 24 = 72 clips altogether in April and May. The answer is 72.",
    )
    s1, s2 = p.program.steps
    assert (s1.op, s1.args) == ("gsm8k:{0}/{1}", ("q0", 2))  # 48 from the question, 2 a literal
    assert (s2.op, s2.args) == ("gsm8k:{0}+{1}", ("q0", "s1"))  # 24 is the first step's result
    assert p.meta == {"source": f"{DATA}:1", "index": 0, "annotated": True}


@needs_data
def test_a_wrong_step_propagates(train_task: GSM8KTask) -> None:
    index = next(
        i
        for i in range(train_task.size)
        if (p := train_task.problem(i)).program is not None
        and len(p.program.steps) == 2
        and "s1" in p.program.steps[1].args
    )
    program = train_task.problem(index).program
    env = gym.make("R1Math-v0", task=train_task, reveal=True, obs_mode="text")
    env.reset(seed=0, options={"problem_index": index})
    root = env.unwrapped.current_node
    wrong = next(
        i
        for i, c in enumerate(root.candidates)
        if not c.state.on_path and not c.state.complete and c.state.pos == 1 and c.kind != "skip"
    )
    wrong_value = root.candidates[wrong].state.slots[0]
    assert wrong_value != program.run()[0]
    _, _, _, _, info = env.step(wrong)
    assert info["on_path"] is False
    node = env.unwrapped.current_node
    ref = next(c for c in node.candidates if c.kind == "reference")
    spec = program.steps[1]
    env_values = {**program.constants, "s1": wrong_value}
    args = tuple(env_values[a] if isinstance(a, str) else a for a in spec.args)
    expected = get_op(spec.op).fn(*args)  # re-derived from the wrong value
    assert ref.state.slots == (wrong_value, expected)
    assert get_op(spec.op).render(args, expected) in ref.text
    _, _, _, _, info = env.step(node.candidates.index(ref))
    _, _, term, _, info = env.step(env.unwrapped.SUBMIT)
    assert term and info["is_correct"] is False
    assert Fraction(info["answer"]) == expected != Fraction(info["reference"])


@needs_data
@pytest.mark.parametrize("obs_mode", ["vector", "text"])
def test_gymnasium_check_env(train_task: GSM8KTask, obs_mode: str) -> None:
    from gymnasium.utils.env_checker import check_env

    env = gym.make("R1Math-v0", task=train_task, obs_mode=obs_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=True)


@needs_data
def test_sb3_check_env_no_warnings(train_task: GSM8KTask) -> None:
    from stable_baselines3.common.env_checker import check_env

    env = gym.make("R1Math-v0", task=train_task)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, warn=True)


@needs_data
def test_r1gsm8k_env_takes_the_data_path() -> None:
    import r1gym.envs

    if "R1GSM8K-v0" in gym.registry:
        env = gym.make("R1GSM8K-v0", data_path=str(DATA), reveal=True)
    elif hasattr(r1gym.envs, "R1GSM8KEnv"):
        env = r1gym.envs.R1GSM8KEnv(data_path=str(DATA), reveal=True)
    else:
        pytest.skip("R1GSM8K-v0 is not defined yet")
    assert isinstance(env.unwrapped.task, GSM8KTask) and env.unwrapped.task.size == 7473
    assert play_oracle(env, 5)["is_correct"]


# -- expressions and their operations --------------------------------------------------------------
@pytest.mark.parametrize(
    ("expr", "shape", "operands", "value"),
    [
        ("48/2", "{0}/{1}", (48, 2), 24),
        ("100-50-30-15", "{0}-{1}-{2}-{3}", (100, 50, 30, 15), 5),
        ("(10+5)*2", "({0}+{1})*{2}", (10, 5, 2), 30),
        ("10-(5-2)", "{0}-({1}-{2})", (10, 5, 2), 7),
        ("120*.6", "{0}*{1}", (120, Fraction(3, 5)), 72),
        ("-3+10", "-{0}+{1}", (3, 10), 7),
        ("+3+3", "{0}+{1}", (3, 3), 6),
        ("2/3", "{0}/{1}", (2, 3), Fraction(2, 3)),
        ("60", "{0}", (60,), 60),
    ],
)
def test_parse_expression(expr: str, shape: str, operands: tuple, value: Fraction) -> None:
    parsed = parse_expression(expr)
    assert parsed is not None
    tree, ops = parsed
    assert shape_text(tree) == shape and ops == operands and evaluate(tree, ops) == value
    if all(type(o) is int for o in ops):
        assert parse_expression(shape_text(tree).format(*ops))[0] == tree  # the text keeps the tree


@pytest.mark.parametrize(
    "expr",
    ["560//10", "2**3", "2^3", "abs(3)", "x+1", "__import__('os')", "3 if 1 else 2", "'a'*3", "True+1", "1,2", ""],
)
def test_parse_expression_rejects_anything_else(expr: str) -> None:
    assert parse_expression(expr) is None


def test_shape_operation_renders_values_and_swaps_operators() -> None:
    tree, _ = parse_expression("4*2+1")
    name = shape_op(tree)
    op = OPS[name]
    assert name == "gsm8k:{0}*{1}+{2}"
    assert op.fn(4, 2, 1) == 9 and op.render((4, 2, 1), 9) == "4 * 2 + 1 = 9"
    assert op.render((Fraction(-1, 2), 2, 1), 0) == "(-0.5) * 2 + 1 = 0"
    assert op.render((Fraction(2, 3), 3, 1), 3) == "(2/3) * 3 + 1 = 3"
    assert set(op.siblings) == {"gsm8k:{0}*{1}-{2}", "gsm8k:{0}/{1}+{2}"}
    assert all(s in OPS for s in op.siblings)  # registered too: the wrong-operation distractor works
    assert OPS["gsm8k:{0}/{1}+{2}"].fn(4, 2, 1) == 3
    with pytest.raises(ArithmeticError):
        OPS["gsm8k:{0}/{1}+{2}"].fn(4, 0, 1)
    assert shape_op(tree) == name  # idempotent
    assert [shape_text(s) for s in siblings(parse_expression("-(1-2)")[0])] == ["-({0}+{1})"]
    assert OPS[shape_op(parse_expression("60")[0])].render((60,), 60) == "60"


def test_op_from_name_rebuilds_a_shape() -> None:
    op = op_from_name("gsm8k:({0}+{1})*{2}-{3}")
    assert op.name == "gsm8k:({0}+{1})*{2}-{3}" and op.fn(1, 2, 3, 4) == 5
    assert op.render((1, 2, 3, 4), 5) == "(1 + 2) * 3 - 4 = 5"
    for bad in ("add", "gsm8k:{0}**{1}", "gsm8k:({0}*{1})"):  # the last is not the canonical text
        with pytest.raises(ValueError, match="GSM8K operation"):
            op_from_name(bad)


# -- small files ---------------------------------------------------------------------------------------
def test_program_from_annotations(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "g.jsonl", [FARM, SHOP])
    task = GSM8KTask(path, split="dev")
    assert task.size == 2 and task.summary()["program"] == 2
    farm = task.problem(0)
    assert farm.steps == (
        "The farm has 12 + 5 = 17 cows.",
        "They eat 17 * 3 = 51 bales a day. The answer is 51.",
    )
    assert farm.program.constants == {"q0": 12, "q1": 5, "q2": 3}
    assert [s.args for s in farm.program.steps] == [("q0", "q1"), ("s1", "q2")]
    assert farm.uid == "gsm8k:dev:0" and farm.answer == "51" and farm.difficulty == "2 steps"
    shop = task.problem(1)
    assert shop.steps == ("The pens cost 4 * 2.5 = 10.", "Her change is 20 - 10 = 10. The answer is 10.")
    assert shop.program.steps[1].args == ("q2", "s1")


def test_step_text_keeps_the_sentence_and_escapes_braces(tmp_path: Path) -> None:
    rec = {
        "question": "A box {big} holds 6 eggs. How many eggs are in 7 boxes?",
        "answer": "In {all} the boxes there are 6*7=<<6*7=42>>42 eggs (not {x}).\n#### 42",
    }
    p = GSM8KTask(write_jsonl(tmp_path / "g.jsonl", [rec])).problem(0)
    assert p.steps == ("In {all} the boxes there are 6 * 7 = 42 eggs (not {x}). The answer is 42.",)


def test_lines_without_annotation_join_the_next_step(tmp_path: Path) -> None:
    rec = {
        "question": "Ann has 3 bags of 4 marbles and finds 2 more. How many marbles does she have?",
        "answer": "First count the bags.\nShe has 3*4=<<3*4=12>>12 marbles in bags.\nThen add the ones she found.\n"
        "12+2=<<12+2=14>>14\nSo she has 14 marbles\n#### 14",
    }
    p = GSM8KTask(write_jsonl(tmp_path / "g.jsonl", [rec])).problem(0)
    assert p.steps == (
        "First count the bags. She has 3 * 4 = 12 marbles in bags.",
        "Then add the ones she found. 12 + 2 = 14 So she has 14 marbles. The answer is 14.",
    )


def test_several_annotations_on_a_line_become_several_steps(tmp_path: Path) -> None:
    rec = {
        "question": "Ben has 5 boxes of 6 pens and gives away 4 pens. How many pens does he keep?",
        "answer": "He has 5*6=<<5*6=30>>30 pens and keeps 30-4=<<30-4=26>>26 of them.\n#### 26",
    }
    p = GSM8KTask(write_jsonl(tmp_path / "g.jsonl", [rec])).problem(0)
    assert p.steps == ("He has 5 * 6 = 30", "pens and keeps 30 - 4 = 26 of them. The answer is 26.")
    assert p.program.steps[1].args == ("s1", "q2")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("She has 9 - 2 = 7 left.\n#### 7", NO_ANNOTATION),
        ("She has 9-2=<<9-2=7>>7 left.\nShe eats 1 more, 7 - 1 = 6\n#### 6", LAST_DIFFERS),
        ("She has 9-2=<<9-2=8>>8 left.\n#### 8", RESULT_MISMATCH),
        ("She has 9//2=<<9//2=4>>4 left.\n#### 4", NO_ANNOTATION),  # floor division: plain text
        ("She has 2^3=<<2^3=8>>8.\n#### 8", NO_ANNOTATION),
        ("She has 9/0=<<9/0=1>>1.\n#### 1", NO_ANNOTATION),
    ],
)
def test_plain_text_fallback(tmp_path: Path, answer: str, reason: str) -> None:
    rec = {"question": "Sue has 9 plums and eats 2. How many are left?", "answer": answer}
    task = GSM8KTask(write_jsonl(tmp_path / "g.jsonl", [rec]))
    p = task.problem(0)
    assert p.program is None and p.distractors == "numbers"
    assert p.meta["annotated"] is False and p.meta["text_reason"] == reason
    assert task.fallbacks == [(f"{tmp_path / 'g.jsonl'}:1", reason)]
    assert task.summary()["text_reasons"] == {reason: 1}
    assert "<<" not in " ".join(p.steps) and p.steps[-1].endswith(f"The answer is {p.answer}.")
    env = gym.make("R1Math-v0", task=task, reveal=True)
    assert play_oracle(env, 0)["is_correct"]


def test_text_is_folded_to_ascii(tmp_path: Path) -> None:
    rec = {
        "question": "Zo\u00eb\u2019s caf\u00e9 sells 3 cakes at \u20ac4 each \u2013 how much?",
        "answer": "3 \u00d7 \u20ac4 = \u20ac<<3*4=12>>12 in total\u2026\n#### 12",
    }
    p = GSM8KTask(write_jsonl(tmp_path / "g.jsonl", [rec])).problem(0)
    assert p.question == "Zoe's cafe sells 3 cakes at EUR 4 each - how much?"
    assert p.steps == ("3 * 4 = 12 in total... The answer is 12.",)


def test_blank_lines_are_skipped_and_lines_counted(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "g.jsonl", ["", FARM, "   ", SHOP])
    task = GSM8KTask(path)
    assert task.size == 2
    assert [task.problem(i).meta["source"] for i in range(2)] == [f"{path}:2", f"{path}:4"]


# -- bad data --------------------------------------------------------------------------------------------
BAD_LINES = [
    ('{"question": "Q 1?", "answer": "#### 1"', "invalid JSON"),
    ('["question", "answer"]', "expected an object"),
    ({"answer": "#### 1"}, "missing field 'question'"),
    ({"question": "Q 1?"}, "missing field 'answer'"),
    ({"question": "Q 1?", "answer": 3}, "field 'answer' must be a non-empty string"),
    ({"question": "", "answer": "#### 1"}, "field 'question' must be a non-empty string"),
    ({"question": "Q 1?", "answer": "It is 1."}, "no final '#### N' line"),
    ({"question": "Q 1?", "answer": "It is 1.\n#### one"}, "the final answer 'one' is not a number"),
    ({"question": "Q 1?", "answer": "It is 1.\n####"}, "is not a number"),
]


@pytest.mark.parametrize(("line", "message"), BAD_LINES)
def test_bad_line_names_file_and_line(tmp_path: Path, line: object, message: str) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [FARM, "", line, SHOP])
    with pytest.raises(DataError, match=message) as err:
        GSM8KTask(path)
    assert f"{path}:3:" in str(err.value)


def test_bytes_that_are_not_utf8_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + json.dumps(FARM).encode() + b"\n" + '{"question": "Caf\u00e9?"}'.encode("latin-1")
    )
    with pytest.raises(DataError, match=f"{path}:2: not UTF-8 text"):
        GSM8KTask(path)
    assert GSM8KTask(path, strict=False).size == 1  # the byte-order mark of line 1 is fine


def test_the_answer_sentence_is_stated_once(tmp_path: Path) -> None:
    rec = {"question": "Q with 3 and 4?", "answer": "The answer is 3 + 4, which is 7 apples\n#### 7"}
    task = GSM8KTask(write_jsonl(tmp_path / "g.jsonl", [rec]))
    assert task.problem(0).steps == ("the answer is 3 + 4, which is 7 apples. The answer is 7.",)
    assert play_oracle(gym.make("R1Math-v0", task=task, reveal=True), 0)["is_correct"]


def test_non_strict_skips_bad_lines_and_says_why(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [FARM] + [line for line, _ in BAD_LINES] + [SHOP])
    task = GSM8KTask(path, strict=False)
    assert task.size == 2 and task.problem(1).meta["source"] == f"{path}:{len(BAD_LINES) + 2}"
    assert [where for where, _ in task.skipped] == [f"{path}:{n}" for n in range(2, len(BAD_LINES) + 2)]
    for (_, reason), (_, message) in zip(task.skipped, BAD_LINES):
        assert message in reason
    summary = task.summary()
    assert summary["skipped"] == len(BAD_LINES) and sum(summary["skip_reasons"].values()) == len(BAD_LINES)
    assert task.problem(0).uid == "gsm8k:train:0" and task.problem(1).uid == "gsm8k:train:1"


def test_no_problem_left_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="holds no GSM8K problems"):
        GSM8KTask(write_jsonl(tmp_path / "empty.jsonl", ["", "  "]))
    with pytest.raises(DataError, match=r"holds no GSM8K problems \(1 bad lines skipped\)"):
        GSM8KTask(write_jsonl(tmp_path / "bad.jsonl", ["{oops"]), strict=False)


def test_missing_file_names_the_path_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "train.jsonl"
    with pytest.raises(FileNotFoundError, match="data_path=") as err:
        GSM8KTask(missing)
    assert str(missing) in str(err.value) and "pip install datasets" in str(err.value)


def test_no_path_without_datasets_says_how_to_get_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setitem(sys.modules, "datasets", None)  # import datasets -> ImportError
    with pytest.raises(ImportError, match="data_path=") as err:
        GSM8KTask()
    assert "grade-school-math" in str(err.value) and "pip install datasets" in str(err.value)


def test_no_path_loads_with_datasets(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def load_dataset(name: str, config: str, split: str) -> list[dict]:
        calls.append((name, config, split))
        return [dict(FARM, extra="ignored"), SHOP]

    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    task = GSM8KTask(split="test")
    assert calls == [("gsm8k", "main", "test")]
    assert task.size == 2 and task.problem(1).uid == "gsm8k:test:1"
    assert task.problem(0).meta["source"] == "gsm8k/main[test]:1"


def test_datasets_failure_says_how_to_get_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    def load_dataset(*args: object, **kwargs: object) -> None:
        raise ConnectionError("offline")

    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    with pytest.raises(FileNotFoundError, match="offline.*data_path="):
        GSM8KTask()


def test_environment_variable_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_jsonl(tmp_path / "g.jsonl", [FARM])
    monkeypatch.setenv(ENV_VAR, str(path))
    task = make_task("gsm8k")
    assert isinstance(task, GSM8KTask) and task.data_path == path and task.size == 1


def test_bad_arguments(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "g.jsonl", [FARM])
    with pytest.raises(ValueError, match="split"):
        GSM8KTask(path, split="")
    with pytest.raises(ValueError, match="seed"):
        GSM8KTask(path, seed=-1)
    with pytest.raises(ValueError, match="problem_index"):
        GSM8KTask(path).problem(1)


# -- pickling ------------------------------------------------------------------------------------------
def test_task_and_env_pickle(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "g.jsonl", [FARM, SHOP, PLAIN])
    task = GSM8KTask(path, seed=3, split="dev", strict=False)
    clone = pickle.loads(pickle.dumps(task))
    assert (clone.data_path, clone.seed, clone.split, clone.strict, clone.size) == (path, 3, "dev", False, 3)
    assert [clone.problem(i) for i in range(3)] == [task.problem(i) for i in range(3)]
    env = gym.make("R1Math-v0", task=task, reveal=True).unwrapped
    env.reset(seed=1, options={"problem_index": 0})
    env2 = pickle.loads(pickle.dumps(env))
    assert play_oracle(env2, 1)["is_correct"]


def test_env_unpickles_in_a_fresh_process(tmp_path: Path) -> None:
    """The shape operations are re-registered where the environment is unpickled."""
    path = write_jsonl(tmp_path / "g.jsonl", [FARM, SHOP])
    env = gym.make("R1Math-v0", task=GSM8KTask(path), reveal=True).unwrapped
    _, info = env.reset(seed=0, options={"problem_index": 1})
    (tmp_path / "env.pkl").write_bytes(pickle.dumps((env, info)))
    script = (
        "import pickle, sys\n"
        "from r1gym.core.ops import OPS\n"
        "assert not any(n.startswith('gsm8k:') for n in OPS)\n"
        "env, info = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "while True:\n"
        "    _, _, term, trunc, info = env.step(info['oracle_action'])\n"
        "    if term or trunc: break\n"
        "print(info['is_correct'], info['answer'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "env.pkl")], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "10"]
