"""r1gym eval: agent specs, tables, JSON, plots, saved SB3 models."""

from __future__ import annotations

import io
import json
from pathlib import Path

import gymnasium as gym
import pytest

from r1gym.agent_specs import SB3Agent, resolve_agent
from r1gym.cli import main
from r1gym.evaluation import evaluate


def run(argv) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, out=out), out.getvalue()


def test_eval_table_json_and_plot(tmp_path) -> None:
    js, png = tmp_path / "r.json", tmp_path / "r.png"
    code, text = run(
        [
            "eval",
            "R1Arith-v0",
            "R1Math-v0",
            "--agent",
            "greedy",
            "best-first",
            "--episodes",
            "5",
            "--json",
            str(js),
            "--plot",
            str(png),
        ]
    )
    assert code == 0 and "best-first" in text and "R1Math-v0" in text
    data = json.loads(js.read_text())
    assert len(data) == 4 and {d["agent"] for d in data} == {"greedy", "best-first"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def strict_json(text: str):
    """json.loads that rejects NaN and Infinity, as every parser but Python's does."""

    def refuse(constant: str):
        raise ValueError(f"invalid JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_json_is_strict_when_no_episode_left_the_path(tmp_path) -> None:
    """The oracle never leaves the correct path: error recovery is undefined, written null."""
    js = tmp_path / "r.json"
    code, _ = run(["eval", "R1Arith-v0", "--agent", "oracle", "--episodes", "3", "--json", str(js)])
    assert code == 0
    (report,) = strict_json(js.read_text())
    assert report["error_recovery"] is None and report["error_recovery_ci"] == [None, None]
    assert report["accuracy"] == 1.0
    rep = evaluate(resolve_agent("oracle"), "R1Arith-v0", episodes=2, seed=0)
    assert strict_json(json.dumps(rep.to_dict(), allow_nan=False))["error_recovery"] is None


@pytest.mark.parametrize(
    "spec, match",
    [
        ("gredy", "did you mean 'greedy'"),
        ("nope.mod:X", "cannot import"),
        ("sb3:/no/such.zip", "does not exist"),
        ("llm:/no/such/dir", "no such model directory"),
        ("llm:/tmp?fp8", "unknown option"),
        ("math:pi", "no act"),
        ("json:dumps", "without arguments"),
    ],
)
def test_bad_specs_list_the_valid_forms(spec: str, match: str) -> None:
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        resolve_agent(spec)


def test_bad_spec_on_the_command_line_exits_2(capsys) -> None:
    assert run(["eval", "R1Math-v0", "--agent", "gredy"])[0] == 2
    assert "Valid forms" in capsys.readouterr().err
    assert run(["eval", "R1Chess-v0", "--agent", "greedy"])[0] == 2


def test_import_path_spec() -> None:
    agent = resolve_agent("r1gym.baselines:GreedyAgent")
    assert evaluate(agent, "R1Arith-v0", episodes=3).episodes == 3


def test_an_agent_in_a_file_of_the_current_folder_resolves_from_the_command(tmp_path) -> None:
    """``r1gym eval --agent my_agents:Always0`` run beside my_agents.py, as ``python -m`` would
    (the console script's sys.path starts with its own folder, not the current one)."""
    import subprocess
    import sys

    (tmp_path / "my_agents_r1gym_test.py").write_text(
        "class Always0:\n    def act(self, obs, info):\n        return 0\n"
    )
    script = Path(sys.executable).with_name("r1gym")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "r1gym"]
    done = subprocess.run(
        [*command, "eval", "R1Arith-v0", "--agent", "my_agents_r1gym_test:Always0", "--episodes", "2"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "my_agents_r1gym_test:Always0" in done.stdout
    missing = subprocess.run(
        [*command, "eval", "R1Arith-v0", "--agent", "no_such_module_here:X"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert missing.returncode == 2 and "No module named 'no_such_module_here'" in missing.stderr
    assert "Traceback" not in missing.stderr


@pytest.mark.slow
@pytest.mark.parametrize("algo", ["ppo", "maskable"])
def test_saved_sb3_model_evaluates(tmp_path, algo: str) -> None:
    from sb3_contrib import MaskablePPO
    from stable_baselines3 import PPO

    env = gym.make("R1Arith-v0")
    cls = MaskablePPO if algo == "maskable" else PPO
    model = cls(
        "MultiInputPolicy",
        env,
        n_steps=32,
        batch_size=16,
        n_epochs=1,
        seed=0,
        device="cpu",
        policy_kwargs={"net_arch": [16]},
    )
    model.learn(64)
    path = tmp_path / "model.zip"
    model.save(path)
    agent = resolve_agent(f"sb3:{path}")
    assert isinstance(agent, SB3Agent) and agent.maskable is (algo == "maskable")
    report = evaluate(agent, "R1Arith-v0", episodes=5)
    assert report.episodes == 5 and 0.0 <= report.accuracy <= 1.0
    bad = tmp_path / "bad.zip"
    bad.write_text("not a zip")
    with pytest.raises(ValueError, match="not a stable-baselines3 model"):
        resolve_agent(f"sb3:{bad}")


@pytest.mark.parametrize("option", ["--json", "--plot"])
def test_unwritable_output_path_fails_before_the_evaluation(option, tmp_path, monkeypatch, capsys) -> None:
    import r1gym.cli

    def never(*a, **k):
        raise AssertionError("the evaluation ran")

    monkeypatch.setattr(r1gym.cli, "evaluate", never)
    assert run(["eval", "R1Arith-v0", "--agent", "greedy", option, "/nonexistent/dir/x.out"])[0] == 2
    err = capsys.readouterr().err
    assert option in err and "/nonexistent/dir" in err and "does not exist" in err
    assert run(["eval", "R1Arith-v0", "--agent", "greedy", option, str(tmp_path)])[0] == 2
    assert "is a folder" in capsys.readouterr().err


def test_eval_gsm8k_without_data_is_the_message_alone(monkeypatch, capsys) -> None:
    monkeypatch.delenv("R1GYM_GSM8K_PATH", raising=False)
    monkeypatch.setitem(__import__("sys").modules, "datasets", None)  # as if not installed
    assert run(["eval", "R1GSM8K-v0", "--agent", "greedy", "--episodes", "2"])[0] == 2
    err = capsys.readouterr().err
    assert "R1GYM_GSM8K_PATH" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
