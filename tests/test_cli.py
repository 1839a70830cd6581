"""The r1gym command."""

from __future__ import annotations

import io
import subprocess
import sys

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
