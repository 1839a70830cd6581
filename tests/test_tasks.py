"""Problem sources: templates, procedural generators, user problems and their errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from fractions import Fraction

import gymnasium as gym
import pytest

from r1gym.core.ops import OPS, Op, register_op
from r1gym.core.protocols import TEXT_DISTRACTORS, register_text_distractors
from r1gym.core.verify import SIMILARITIES, VERIFIERS, register_similarity, register_verifier, verify
from r1gym.errors import DataError
from r1gym.tasks import AlgebraTask, ArithmeticTask, UserProblemTask, WordProblemTask, make_task
from r1gym.tasks.word_problems import TOPICS, load_templates, parse_template


def test_at_least_40_templates_covering_every_topic() -> None:
    templates = load_templates()
    assert len(templates) >= 40
    topics = Counter(t.topic for t in templates)
    assert set(topics) == set(TOPICS), f"missing topics: {set(TOPICS) - set(topics)}"
    lengths = Counter(len(t.steps) for t in templates)
    assert min(lengths) >= 2 and max(lengths) >= 5


def test_every_template_generates_clean_verified_problems() -> None:
    task = WordProblemTask(seed=0)
    by_template = Counter()
    for i in range(3000):
        p = task.problem(i)
        by_template[p.meta["template"]] += 1
        assert p.question.isascii() and all(s.isascii() for s in p.steps)
        assert p.steps[-1].endswith(f"The answer is {p.answer}.")
        values = p.program.run()
        for v, spec in zip(values, p.program.steps):
            assert isinstance(v, (int, Fraction)) and v >= 0, (p.meta["template"], spec.id, v)
            assert type(v) is int or v.denominator != 1  # whole values are ints (the fast path)
            assert (v * 100).denominator == 1, (p.meta["template"], spec.id, v)
        assert verify(p.answer, p.answer)
    assert len(by_template) == len(task.templates)


def test_arithmetic_chain_values_are_clean_and_questions_evaluate() -> None:
    task = ArithmeticTask(seed=1)
    for i in range(500):
        p = task.problem(i)
        expr = p.question.removeprefix("Compute ").rstrip(".")
        assert Fraction(eval(expr)) == Fraction(p.answer)  # the question means what the steps compute
        assert all(type(v) is int and v >= 0 for v in p.program.run())
        assert 2 <= len(p.steps) <= 5


def test_algebra_answers_solve_the_equation() -> None:
    import sympy

    x = sympy.Symbol("x")
    task = AlgebraTask(seed=2)
    families = Counter()
    for i in range(300):
        p = task.problem(i)
        families[p.meta["family"]] += 1
        lhs, rhs = p.question.removeprefix("Solve for x: ").rstrip(".").split("=")
        t = sympy.parsing.sympy_parser
        tr = t.standard_transformations + (t.implicit_multiplication_application,)
        sol = sympy.solve(t.parse_expr(lhs, transformations=tr) - t.parse_expr(rhs, transformations=tr), x)
        assert sol == [int(p.answer)] == [p.meta["x"]]
    assert set(families) == {"two_step", "both_sides", "distribute"}


def test_task_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="min_ops"):
        ArithmeticTask(min_ops=4, max_ops=2)
    with pytest.raises(ValueError, match="families"):
        AlgebraTask(families=("quartic",))
    with pytest.raises(ValueError, match="topics"):
        WordProblemTask(topics=["poetry"])
    with pytest.raises(ValueError, match="Did you mean 'algebra'"):
        make_task("algebr")
    with pytest.raises(TypeError, match="arithmetic"):
        make_task("arithmetic", max_steps=3)
    with pytest.raises(ValueError, match="seed"):
        ArithmeticTask(seed=-1)


def test_topics_filter() -> None:
    task = WordProblemTask(topics=["money"])
    assert {t.topic for t in task.templates} == {"money"}


# -- user problems -------------------------------------------------------------------------

PROBLEMS = [
    {
        "question": "Tom has 3 bags of 4 apples. He eats 2. How many are left?",
        "steps": ["3 * 4 = 12 apples.", "12 - 2 = 10 apples."],
        "answer": "10",
    },
    {"question": "What is 2 + 2?", "steps": ["2 + 2 = 4. The answer is 4."], "answer": 4, "id": "easy-one"},
]


def test_user_problems_from_a_list_play_and_verify() -> None:
    env = gym.make("R1Math-v0", problems=PROBLEMS, reveal=True)
    for idx in range(2):
        _, info = env.reset(seed=0, options={"problem_index": idx})
        while True:
            _, r, term, _, info = env.step(info["oracle_action"])
            if term:
                break
        assert info["is_correct"] and r > 0.6
    assert env.unwrapped.task.problem(0).steps[-1].endswith("The answer is 10.")
    assert env.unwrapped.task.problem(1).uid == "easy-one"
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        env.reset(options={"problem_index": 2})


def test_user_problems_from_jsonl(tmp_path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in PROBLEMS) + "\n\n")
    env = gym.make("R1Arith-v0", problems=str(path))
    env.reset(seed=0)
    assert env.unwrapped.task.size == 2
    assert env.unwrapped.problem.meta["source"].startswith(str(path))


def test_user_problem_distractors_perturb_numbers() -> None:
    env = gym.make("R1Math-v0", problems=PROBLEMS)
    env.reset(seed=0, options={"problem_index": 0})
    kinds = {c.kind for c in env.unwrapped.current_node.candidates}
    assert "reference" in kinds and kinds & {"perturb"}


@pytest.mark.parametrize(
    "line, match",
    [
        ('{"question": "q", "steps": ["s"]}', r"mine.jsonl:2: missing field\(s\) \['answer'\]"),
        ('{"question": "q", "steps": ["s"], "answer": "1"', r"mine.jsonl:2: invalid JSON"),
        ('{"question": "q", "steps": "s", "answer": "1"}', r"mine.jsonl:2: 'steps' must be"),
        ('{"question": "q", "steps": ["s"], "answer": null}', r"mine.jsonl:2: 'answer' must be"),
        (
            '{"question": "q", "steps": ["s"], "answer": "1", "hint": "x"}',
            r"mine.jsonl:2: unknown field\(s\) \['hint'\]",
        ),
        ("[1, 2]", r"mine.jsonl:2: expected an object"),
    ],
)
def test_malformed_jsonl_names_file_and_line(tmp_path, line: str, match: str) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps(PROBLEMS[0]) + "\n" + line + "\n")
    with pytest.raises(DataError, match=match):
        UserProblemTask(str(path))


def test_missing_and_empty_problem_files(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        UserProblemTask(str(tmp_path / "nope.jsonl"))
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(DataError, match="no problems"):
        UserProblemTask(str(tmp_path / "empty.jsonl"))
    with pytest.raises(DataError, match="non-empty list"):
        UserProblemTask([])


def test_non_ascii_user_text_is_folded() -> None:
    task = UserProblemTask([{"question": "Zoë pays 3 € for café", "steps": ["3 × 1 = 3"], "answer": "3"}])
    p = task.problem(0)
    assert p.question.isascii() and "Zoe" in p.question and p.steps[0].isascii()


def test_bad_templates_get_clear_errors(tmp_path) -> None:
    good = {
        "id": "t",
        "topic": "totals",
        "question": "{name} has {a} and {b}.",
        "vars": {"a": [1, 5], "b": [1, 5]},
        "steps": [{"id": "s", "op": "add", "args": ["a", "b"], "text": "{expr}."}],
    }
    parse_template(good, "x")
    for patch, match in [
        ({"topic": "poetry"}, "topic"),
        ({"steps": [{"id": "s", "op": "pow", "args": ["a", "b"]}]}, "op 'pow'"),
        ({"steps": [{"id": "s", "op": "add", "args": ["a", "c"]}]}, "argument 'c'"),
        ({"require": ["s >"]}, "require"),
        ({"require": ["z > 1"]}, "unknown"),
        ({"question": "{name} has {q}."}, "placeholder"),
        ({"colour": "red"}, "unknown keys"),
        ({"vars": {"a": [5, 1], "b": [1, 5]}}, "lo <= hi"),
    ]:
        with pytest.raises(DataError, match=match):
            parse_template({**good, **patch}, "file.json")
    bad = tmp_path / "t.json"
    bad.write_text('[{"id": "t",\n "topic": }]')
    with pytest.raises(DataError, match=r"t.json:2: invalid JSON"):
        load_templates(bad)
    impossible = {**good, "require": ["s > 100"]}
    (tmp_path / "i.json").write_text(json.dumps([impossible]))
    with pytest.raises(DataError, match="no clean draw"):
        WordProblemTask(templates=tmp_path / "i.json").problem(0)


def test_reset_with_a_pinned_problem_dict() -> None:
    env = gym.make("R1Math-v0", reveal=True)
    _, info = env.reset(seed=0, options={"problem": PROBLEMS[0]})
    assert env.unwrapped.problem.question == PROBLEMS[0]["question"] and info["problem_index"] is None
    while True:
        _, _, term, _, info = env.step(info["oracle_action"])
        if term:
            break
    assert info["is_correct"] and info["answer"] == "10"
    with pytest.raises(DataError, match=r"options\['problem'\]: missing field"):
        env.reset(options={"problem": {"question": "q"}})


# -- registrations -----------------------------------------------------------------------------
THROWAWAY = "test-throwaway"

#: register_* function -> (register(obj, replace), its registry, a new object at each call)
REGISTRATIONS = {
    "register_op": (
        lambda obj, replace: register_op(obj, replace=replace),
        OPS,
        lambda: Op(THROWAWAY, lambda x: x, lambda args, r: f"{args[0]} = {r}"),
    ),
    "register_verifier": (
        lambda obj, replace: register_verifier(THROWAWAY, obj, replace=replace),
        VERIFIERS,
        lambda: lambda answer, reference, problem=None: answer == reference,
    ),
    "register_similarity": (
        lambda obj, replace: register_similarity(THROWAWAY, obj, replace=replace),
        SIMILARITIES,
        lambda: lambda answer, reference, problem=None: 0.0,
    ),
    "register_text_distractors": (
        lambda obj, replace: register_text_distractors(THROWAWAY, obj, replace=replace),
        TEXT_DISTRACTORS,
        lambda: lambda text, final, draws, question: iter(()),
    ),
}


@pytest.fixture
def throwaway_name():
    yield THROWAWAY
    for _, registry, _ in REGISTRATIONS.values():
        registry._items.pop(THROWAWAY, None)  # there is no public unregister


@pytest.mark.parametrize("register", list(REGISTRATIONS))
def test_a_taken_name_needs_replace(register: str, throwaway_name: str) -> None:
    add, registry, new = REGISTRATIONS[register]
    first, second = new(), new()
    add(first, False)
    add(first, False)  # the same object again is a no-op
    taken = rf"^{registry.kind} '{throwaway_name}' is already registered; pass replace=True"
    with pytest.raises(ValueError, match=taken):
        add(second, False)
    assert registry[throwaway_name] is first
    add(second, True)
    assert registry[throwaway_name] is second


def test_import_r1gym_leaves_the_heavy_domains_to_first_use() -> None:
    """``import r1gym`` imports none of physics, code and GSM8K; the first lookup of a name they
    define imports the domain, whose module of that concern registered it."""
    script = """
import sys
import r1gym
from r1gym.core.ops import get_op
from r1gym.core.protocols import TEXT_DISTRACTORS
from r1gym.core.verify import SIMILARITIES, get_verifier
heavy = [m for m in sys.modules if m.startswith(("r1gym.tasks.physics", "r1gym.tasks.code", "r1gym.tasks.gsm8k"))]
assert not heavy, heavy
print(get_op("sq").fn.__module__, get_verifier("units").__module__, SIMILARITIES.resolve("units").__module__)
print(get_verifier("code").__module__, TEXT_DISTRACTORS.resolve("code").__module__)
print(get_op("gsm8k:{0}*{1}").siblings)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "r1gym.tasks.physics.ops r1gym.tasks.physics.units r1gym.tasks.physics.units",
        "r1gym.tasks.code.verifier r1gym.tasks.code.distractors",
        "('gsm8k:{0}/{1}',)",
    ]


def test_user_problem_file_encoding(tmp_path) -> None:
    line = json.dumps(PROBLEMS[0]).encode()
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + line + b"\n" + line + b"\n")
    assert UserProblemTask(str(bom)).size == 2  # a byte-order mark on line 1 is accepted
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(line + b"\n" + '{"question": "caf\u00e9"}'.encode("latin-1") + b"\n")
    with pytest.raises(DataError, match=r"latin.jsonl:2: not UTF-8 text"):
        UserProblemTask(str(latin))
    bom_later = tmp_path / "bom2.jsonl"
    bom_later.write_bytes(line + b"\n\xef\xbb\xbf" + line + b"\n")
    with pytest.raises(DataError, match=r"bom2.jsonl:2: invalid JSON"):
        UserProblemTask(str(bom_later))


def test_empty_path_and_folder_are_data_errors(tmp_path) -> None:
    with pytest.raises(DataError, match="path is empty"):
        UserProblemTask("")
    with pytest.raises(DataError, match="is a folder"):
        UserProblemTask(tmp_path)


@pytest.mark.parametrize(
    "answer, match",
    [
        (10**5000, r"'answer' is a number too long"),
        ("9" * 5001, r"'answer' is 5001 characters long; at most 1000"),
        (float("nan"), r"'answer' must be a finite number, got nan"),
        (float("inf"), r"'answer' must be a finite number, got inf"),
        ("  ", r"'answer' must be a non-empty string or number"),
    ],
    ids=["int-5001-digits", "text-5001-digits", "nan", "inf", "blank"],
)
def test_bad_answers_name_the_field_and_why(answer, match: str) -> None:
    with pytest.raises(DataError, match=match):
        UserProblemTask([{"question": "q?", "steps": ["1 + 1 = 2"], "answer": answer}])


def test_huge_and_nan_answers_in_a_file(tmp_path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text('{"question": "q?", "steps": ["s"], "answer": ' + "7" * 5001 + "}\n")
    with pytest.raises(DataError, match=r"big.jsonl:1: 'answer' is 5001 characters long"):
        UserProblemTask(str(path))
    path.write_text('{"question": "q?", "steps": ["s"], "answer": NaN}\n')
    with pytest.raises(DataError, match=r"big.jsonl:1: 'answer' must be a finite number"):
        UserProblemTask(str(path))
    # "nan" as text is a text answer like any other
    assert UserProblemTask([{"question": "q?", "steps": ["s"], "answer": "nan"}]).problem(0).answer == "nan"
