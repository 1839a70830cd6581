"""The r1gym command."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator

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
