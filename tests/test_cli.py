"""The r1gym command."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator

import gymnasium as gym
import pytest

from r1gym.cli import main


def run(argv, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = main(argv, out=out, inp=io.StringIO(stdin))
    return code, out.getvalue()


def test_list() -> None:
    code, text = run(["list"])
    assert code == 0
    lines = text.strip().splitlines()
    import r1gym

    assert [line.split()[0] for line in lines] == list(r1gym.ENV_IDS)
    assert lines[:3] == [ln for ln in lines if ln.split()[0] in ("R1Arith-v0", "R1Algebra-v0", "R1Math-v0")]


def test_demo_prints_a_table() -> None:
    code, text = run(["demo", "--episodes", "5"])
    assert code == 0
    for word in ("R1Math-v0", "random", "greedy", "backtrack", "accuracy"):
        assert word in text


def test_play_an_episode_with_typed_actions() -> None:
    # 9 is not allowed, "x" is not an action, h shows help, then expand 0 and submit.
    code, text = run(["play", "R1Arith-v0", "--seed", "1"], "9\nx\nh\n0\ns\n")
    assert code == 0
    assert "not allowed" in text and "is not an action" in text
    assert "the reference is" in text and "Reference solution:" in text


def test_play_quits_and_handles_end_of_input() -> None:
    assert run(["play", "R1Math-v0", "--seed", "1"], "q\n")[0] == 0
    code, text = run(["play", "R1Math-v0", "--seed", "1"], "")
    assert code == 0 and "end of input" in text


def test_unknown_env_id_is_an_error() -> None:
    with pytest.raises(SystemExit):
        run(["play", "R1Chess-v0"])


def test_console_script_is_installed() -> None:
    result = subprocess.run([sys.executable, "-m", "r1gym.cli", "list"], capture_output=True, text=True, check=True)
    assert "R1Math-v0" in result.stdout


def test_play_problem_index_out_of_range_is_one_line_and_exit_2(capsys) -> None:
    code, _ = run(["play", "R1Math-v0", "--problem-index", "-1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--problem-index" in err and "got -1" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("data", [None, "corrupt"])
def test_play_gsm8k_without_or_with_bad_data_is_the_message_alone(data, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("R1GYM_GSM8K_PATH", raising=False)
    monkeypatch.setitem(sys.modules, "datasets", None)  # as if not installed: no download
    if data == "corrupt":
        path = tmp_path / "gsm8k.jsonl"
        path.write_bytes(b'{"question": 1}\n\xff\xfe\n')
        monkeypatch.setenv("R1GYM_GSM8K_PATH", str(path))
    code, text = run(["play", "R1GSM8K-v0"])
    err = capsys.readouterr().err
    assert code == 2 and text == ""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert ("gsm8k.jsonl:1" in err) if data else ("R1GYM_GSM8K_PATH" in err)


@pytest.fixture
def no_isolation(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A machine where the sandbox refuses to run code (no namespaces, no opt-in)."""
    from r1gym.errors import SandboxUnavailableError
    from r1gym.tasks.code import verifier

    def refuse(*args, **kwargs):
        raise SandboxUnavailableError("the sandbox cannot isolate a program here: missing mountns.\nWhat to do: ...")

    verifier.passes_tests.cache_clear()  # verdicts are cached: none may come from an earlier test
    monkeypatch.setattr(verifier, "run_python", refuse)
    yield
    verifier.passes_tests.cache_clear()  # nor may a refusal outlive this one


def test_code_without_isolation_is_a_sentence_not_a_traceback(
    no_isolation: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(["eval", "R1Code-v0", "--agent", "greedy", "--episodes", "2"])
    err = capsys.readouterr().err
    assert code == 2 and "r1gym: the sandbox cannot isolate" in err and "Traceback" not in err
    code, text = run(["play", "R1Code-v0", "--seed", "0"], stdin="s\n")
    err = capsys.readouterr().err
    assert code == 2 and "cannot isolate" in err and "Traceback" not in err


def test_demo_skips_code_where_it_cannot_run_isolated(no_isolation: None) -> None:
    code, text = run(["demo", "--episodes", "2"])
    assert code == 0 and "R1Code-v0 skipped: the sandbox cannot isolate a program here" in text
    assert "R1Math-v0" in text


# --- r1gym play for a classroom: colour, the replay with the judge's labels, --reveal, the reward explained ---

#: An ANSI escape sequence, and one that sets a colour (bold and the like are not colour).
ANSI = re.compile(r"\x1b\[[0-9;]*m")
COLOUR = re.compile(r"\x1b\[(?:\d+;)*(?:3[0-7]|9[0-7]|38;[25];[\d;]+)m")
#: A candidate line of the play screen ("★ [1] 0.45 ####  35 * 7 = 245."), a step of the path, a replayed step.
CANDIDATE = re.compile(r"^(★| ) \[(\d+)\] \d\.\d\d ")
PATH_STEP = re.compile(r"^(★| ) (\d+)\. ")
REPLAYED = re.compile(r"^(★| ) (\d+)\. (✓ correct|✗ wrong|○ neutral) +(.*)$")


@pytest.fixture(autouse=True)
def colour_from_isatty(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich reads FORCE_COLOR, NO_COLOR, TTY_COMPATIBLE and TERM: these tests set them, not the shell."""
    for var in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


def played(actions: list[int], reveal: bool = False, **kwargs) -> tuple[list[dict], float, gym.Env]:
    """The infos of R1Arith-v0 seed 1 after reset and after each action, as r1gym play makes the env."""
    env = gym.make("R1Arith-v0", difficulty="medium", step_labels=True, reveal=reveal, **kwargs)
    _, info = env.reset(seed=1)
    infos, reward = [info], 0.0
    for a in actions:
        _, reward, _, _, info = env.step(a)
        infos.append(info)
    return infos, reward, env


def typed(actions: list[int], k: int = 4) -> str:
    return "".join({k: "b", k + 1: "s"}.get(a, str(a)) + "\n" for a in actions)


# seed 1: [1] is the reference's first step; (0, 0, 1) goes wrong twice, then continues the error to
# its answer; (1, 0) takes the right step, then a premature answer
EPISODES = [[0, 0, 1, 5], [1, 0, 5]]


@pytest.mark.parametrize("actions", EPISODES)
def test_play_replays_the_path_with_the_judges_labels_after_the_submit(actions: list[int]) -> None:
    code, text = run(["play", "R1Arith-v0", "--seed", "1"], typed(actions))
    infos, _, _ = played(actions)
    assert code == 0
    before, after = text.split("Your path, step by step, as the step judge labels it:")
    for shown_early in ("✓", "✗", "○", "judge:", "★", "--reveal", "oracle"):  # nothing judged nor revealed
        assert shown_early not in before
    block = after.split("Reference solution:")[0].splitlines()
    replayed = [(i, m) for i, line in enumerate(block) if (m := REPLAYED.match(line))]
    steps = infos[1:-1]  # the infos after each expand: the judge's verdict on the step taken
    assert [int(m.group(2)) for _, m in replayed] == list(range(1, len(steps) + 1))
    for (i, m), info in zip(replayed, steps):
        assert m.group(3).split()[1] == info["step_label"]
        assert block[i + 1].strip() == f"judge: {info['step_reason']}"
    first = infos[-1]["first_error"]
    assert f"The first wrong step is step {first + 1}." in after
    assert "✗ wrong" in after  # both episodes hold a wrong step: the replay shows it


def test_play_explains_the_reward_and_it_is_the_envs() -> None:
    from r1gym.core.reward import RewardTerms, combine

    actions = EPISODES[1]
    code, text = run(["play", "R1Arith-v0", "--seed", "1"], typed(actions))
    infos, reward, env = played(actions)
    u, terms = env.unwrapped, infos[-1]["reward_terms"]
    assert combine(RewardTerms(**terms), u.reward_weights, u.reward_mode) == pytest.approx(reward, abs=1e-12)
    explained = text.split("The reward (gated")[1].splitlines()
    for (name, sym, greek), weight in zip(
        (("accuracy", "A", "α"), ("efficiency", "E", "β"), ("novelty", "N", "γ")), u.reward_weights
    ):
        line = next(ln for ln in explained if ln.strip().startswith(name))
        assert f"{sym} = {terms[name]:.3f}" in line and f"weight {greek} = {weight:g}" in line
    assert f"n = {infos[-1]['steps']} actions" in text
    formula, numbers, total = explained[-3:]
    assert formula.strip() == "R = A × (α + β·E + γ·N) / (α + β + γ)"
    assert total.strip() == f"= {reward:.3f}"  # the reward the env returned ...
    value = eval(numbers.strip().lstrip("= ").replace("×", "*").replace("·", "*"))  # noqa: S307 (our own output)
    assert value == pytest.approx(reward, abs=2e-3)  # ... and what the formula with the numbers in gives


@pytest.mark.parametrize("mode", ["gated", "additive"])
def test_explain_reward_substitutes_the_terms_into_the_formula_of_the_mode(mode: str) -> None:
    from r1gym.cli import explain_reward
    from r1gym.view import FORMULAS

    infos, reward, env = played(EPISODES[0], reward_mode=mode, reward_weights=(0.5, 0.3, 0.2))
    info, u = infos[-1], env.unwrapped
    lines = explain_reward(
        info["reward_terms"],
        u.reward_weights,
        mode,
        reward,
        steps=info["steps"],
        is_correct=info["is_correct"],
        partial_credit=u.partial_credit,
    )
    assert lines[0].startswith(f"The reward ({mode}:")
    assert lines[-3].strip() == FORMULAS[mode] and lines[-1].strip() == f"= {reward:.3f}"
    value = eval(lines[-2].strip().lstrip("= ").replace("×", "*").replace("·", "*"))  # noqa: S307
    assert value == pytest.approx(reward, abs=2e-3)
    assert "weight γ = 0.2" in lines[3] and "c = 0 earlier submissions" in lines[3]


def test_play_reveal_marks_exactly_the_candidates_on_the_reference_solution() -> None:
    # off the reference, back, on it, a premature answer, back, on, on, submit
    actions = [0, 4, 1, 0, 4, 2, 0, 5]
    code, text = run(["play", "R1Arith-v0", "--seed", "1", "--reveal"], typed(actions))
    assert code == 0 and "★" in text
    screens = text.split("action> ")[:-1]  # the screen before each action
    assert len(screens) == len(actions)
    env = gym.make("R1Arith-v0", difficulty="medium", step_labels=True, reveal=True)
    _, info = env.reset(seed=1)
    u = env.unwrapped
    for screen, action in zip(screens, actions):
        lines = screen.splitlines()
        starred = {int(m.group(2)) for ln in lines if (m := CANDIDATE.match(ln)) and m.group(1) == "★"}
        shown = {int(m.group(2)) for ln in lines if (m := CANDIDATE.match(ln))}
        on_path = set()
        snap = u.snapshot()  # each candidate expanded and undone: its on_path as info says it
        for i in shown:
            if u.step(i)[4]["on_path"]:
                on_path.add(i)
            u.restore(snap)
        assert starred == on_path
        steps = {int(m.group(2)): m.group(1) == "★" for ln in lines if (m := PATH_STEP.match(ln))}
        assert steps == {d: u.episode.nodes[info["path"][:d]].state.on_path for d in range(1, len(info["path"]) + 1)}
        oracle = info["oracle_action"]
        move = {4: "backtrack", 5: "submit"}.get(oracle, "expand")
        assert f"the oracle would {move} [{oracle}]" in [ln for ln in lines if ln.startswith("--reveal: ")][-1]
        _, _, _, _, info = env.step(action)


def test_play_without_a_terminal_is_plain_text_and_forced_colour_is_the_same_text_coloured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv, stdin = ["play", "R1Arith-v0", "--seed", "1", "--reveal"], typed(EPISODES[1])
    plain = run(argv, stdin)[1]
    assert not ANSI.search(plain)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    def on_terminal() -> str:
        out = Terminal()
        main(argv, out=out, inp=io.StringIO(stdin))
        return out.getvalue()

    coloured = on_terminal()  # a terminal, NO_COLOR unset: colour
    assert COLOUR.search(coloured) and ANSI.sub("", coloured) == plain
    monkeypatch.setenv("NO_COLOR", "1")  # NO_COLOR: no colour on a terminal either (bold may stay)
    assert not COLOUR.search(on_terminal())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")  # FORCE_COLOR: colour into a file too (rich reads it)
    forced = run(argv, stdin)[1]
    assert "\x1b[34m" in forced and "\x1b[1;32m" in forced  # the confidence bars; the "correct" label
    assert ANSI.sub("", forced) == plain


def test_play_bad_input_is_a_sentence_never_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run(["play", "R1Arith-v0", "--seed", "1"], "b\n\n-2\n1e3\n[red]x\n")
    assert code == 0 and "Traceback" not in text
    assert "b (backtrack) is not allowed at the question" in text and "allowed: 0, 1, 2, 3, s (submit)" in text
    assert "Type an action" in text and "action -2 is not allowed here" in text
    assert "'1e3' is not an action" in text and "'[red]x' is not an action" in text  # not read as markup

    class CtrlC(io.StringIO):
        def readline(self, *args) -> str:
            raise KeyboardInterrupt

    out = io.StringIO()
    assert main(["play", "R1Arith-v0", "--seed", "1"], out=out, inp=CtrlC()) == 130
    assert out.getvalue().endswith("(interrupted)\n")
    assert run(["play", "R1Arith-v0", "--seed", "-1"])[0] == 2
    assert "--seed must be 0 or more, got -1" in capsys.readouterr().err


def test_play_a_write_mode_env_is_refused_in_a_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run(["play", "R1Open-v0"], "s\n")
    err = capsys.readouterr().err
    assert code == 2 and text == "" and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_play_help_documents_reveal(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(["play", "--help"])
    assert "--reveal" in capsys.readouterr().out


def test_play_at_the_step_limit_replays_the_path_and_pays_nothing() -> None:
    actions = [1, 4] * 19 + [1, 2]  # 40 actions: R1Arith-v0's step limit, ending two steps deep
    code, text = run(["play", "R1Arith-v0", "--seed", "1"], typed(actions))
    infos, _, _ = played(actions)
    assert code == 0 and infos[-1]["steps"] == 40 and "The step limit ended the episode: no reward." in text
    block = text.split("as the step judge labels it:")[1].split("Reference solution:")[0]
    assert [m.group(3) for ln in block.splitlines() if (m := REPLAYED.match(ln))] == ["✓ correct", "✓ correct"]
    assert "No step is labelled wrong." in block and "The reward (" not in text


def test_play_into_an_ascii_output_writes_question_marks_not_a_traceback() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    assert main(["play", "R1Arith-v0", "--seed", "1", "--reveal"], out=out, inp=io.StringIO("1\ns\n")) == 0
    out.flush()
    text = raw.getvalue().decode("ascii")
    assert "? [1] 0.45" in text and "? 1. ? correct" in text
