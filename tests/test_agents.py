"""Smoke runs of the training scripts in agents/: tiny budgets, in-process (torch imports once).

Each script's ``main(argv)`` is called as the command line would call it; the checks are the
script's promises: ``model.zip`` that ``r1gym eval --agent sb3:PATH`` loads with the right class,
logs, ``eval.json``, checkpoints, and a resumed run that continues from the latest checkpoint.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import fields
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("sb3_contrib")

from stable_baselines3.common.callbacks import BaseCallback

from r1gym.agent_specs import resolve_agent

AGENTS = Path(__file__).resolve().parents[1] / "agents"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"r1gym_agents_{name}", AGENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


ppo, ppo_mask, dqn_per = _load("ppo"), _load("ppo_mask"), _load("dqn_per")
common = sys.modules["common"]

#: the smallest runs that still roll out, update, checkpoint and evaluate
RUN = ["--n-envs", "2", "--net-arch", "16", "--no-progress-bar", "--eval-episodes", "3", "--eval-baselines", "greedy"]
PPO_RUN = [*RUN, "--n-steps", "16", "--batch-size", "32", "--n-epochs", "1"]
DQN_RUN = [*RUN, "--buffer-size", "1000", "--learning-starts", "50", "--batch-size", "16", "--train-freq", "1"]


class StopAt(BaseCallback):
    """Raises ``error`` once the run has taken ``steps`` steps: an interruption."""

    def __init__(self, steps: int, error: type[BaseException]) -> None:
        super().__init__()
        self.steps, self.error = steps, error

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.steps:
            raise self.error("interrupted by the test")
        return True


def _logs_written(out: Path) -> None:
    assert "time/total_timesteps" in (out / "progress.csv").read_text().splitlines()[0]
    if importlib.util.find_spec("tensorboard") is not None:
        assert list((out / "tb").glob("events.out.tfevents.*"))


@pytest.mark.parametrize("module", [ppo, ppo_mask, dqn_per], ids=["ppo", "ppo_mask", "dqn_per"])
def test_every_argument_documents_itself(module: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    docs = common.field_docs(module.Args)
    assert {f.name for f in fields(module.Args)} <= set(docs)
    with pytest.raises(SystemExit) as exc:
        common.parse_args(module.Args, ["--help"])
    assert exc.value.code == 0
    assert "--total-timesteps" in capsys.readouterr().out


def test_config_sets_defaults_and_flags_win(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('n_steps = 64\nent-coef = 0.05\nenv_kwargs = { reward_mode = "additive" }\n')
    args = common.parse_args(ppo_mask.Args, ["--config", str(config), "--n-steps", "32"])
    assert (args.n_steps, args.ent_coef) == (32, 0.05)
    assert common.env_kwargs_of(args) == {"reward_mode": "additive"}
    assert args.out == str(Path("runs") / "run-R1Math-v0-s1")
    config.write_text("n_step = 64\n")
    with pytest.raises(ValueError, match="unknown argument.*n_step"):
        common.parse_args(ppo_mask.Args, ["--config", str(config)])
    with pytest.raises(TypeError, match="JSON object"):
        common.parse_args(ppo_mask.Args, ["--env-kwargs", "[1]"])
    with pytest.raises(ValueError, match="reveal"):
        common.parse_args(ppo_mask.Args, ["--env-kwargs", '{"reveal": true}'])


def test_shipped_configs_parse() -> None:
    scripts = {"ppo": ppo, "ppo_mask": ppo_mask, "dqn_per": dqn_per}
    configs = sorted((AGENTS / "configs").glob("*.toml"))
    assert configs
    for path in configs:
        name = path.name.split(".")[0]
        if name not in scripts:  # llm_policy needs the llm extra
            pytest.importorskip("transformers")
            scripts[name] = _load(name)
        args = common.parse_args(scripts[name].Args, ["--config", str(path)])
        assert args.env_id == path.name.split(".")[1]


def test_resume_refuses_other_arguments(tmp_path: Path) -> None:
    args = common.parse_args(ppo.Args, ["--out", str(tmp_path), "--learning-rate", "0.001"])
    common.Run(args)
    (tmp_path / "checkpoints" / "model_10_steps.zip").write_bytes(b"")
    longer = common.parse_args(ppo.Args, ["--out", str(tmp_path), "--learning-rate", "0.001", "--total-timesteps", "9"])
    assert common.Run(longer).latest.steps == 10  # the budget may change
    other = common.parse_args(ppo.Args, ["--out", str(tmp_path), "--learning-rate", "0.01"])
    with pytest.raises(ValueError, match="--learning-rate was 0.001, now 0.01"):
        common.Run(other)


def test_ppo_trains_saves_logs_and_evaluates(tmp_path: Path) -> None:
    model = ppo.main([*PPO_RUN, "--total-timesteps", "64", "--checkpoint-freq", "32", "--out", str(tmp_path)])
    assert model.num_timesteps == 64
    agent = resolve_agent(f"sb3:{tmp_path / 'model.zip'}")
    assert type(agent.model).__name__ == "PPO" and not agent.maskable
    _logs_written(tmp_path)
    report = json.loads((tmp_path / "eval.json").read_text())
    assert [r["agent"] for r in report["reports"]] == ["ppo (64 steps)", "greedy"]
    assert report["num_timesteps"] == 64
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["model_32_steps.zip", "model_64_steps.zip"]


def test_ppo_mask_resumes_a_longer_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = [*PPO_RUN, "--out", str(tmp_path), "--checkpoint-freq", "100", "--eval-episodes", "0"]
    first = ppo_mask.main([*run, "--total-timesteps", "200"])
    assert first.num_timesteps == 224  # whole rollouts of 32
    assert "resuming" not in capsys.readouterr().out
    second = ppo_mask.main([*run, "--total-timesteps", "400", "--eval-episodes", "3"])
    out = capsys.readouterr().out
    assert f"resuming from {tmp_path / 'checkpoints' / 'model_224_steps.zip'} (224 steps)" in out
    assert second.num_timesteps >= 400
    assert (tmp_path / "progress.csv").exists() and (tmp_path / "progress_from_224.csv").exists()
    agent = resolve_agent(f"sb3:{tmp_path / 'model.zip'}")
    assert type(agent.model).__name__ == "MaskablePPO" and agent.maskable
    assert agent.model.num_timesteps == second.num_timesteps
    # Nothing left to do: the same command again trains nothing.
    assert ppo_mask.main([*run, "--total-timesteps", "400"]).num_timesteps == second.num_timesteps


def test_ppo_mask_resumes_after_a_crash_and_after_ctrl_c(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = [
        *PPO_RUN,
        "--out",
        str(tmp_path),
        "--checkpoint-freq",
        "100",
        "--eval-episodes",
        "0",
        "--total-timesteps",
        "400",
    ]
    # A crash: only the periodic checkpoint (every 100 steps = 50 calls of 2 copies) survives.
    with pytest.raises(RuntimeError):
        ppo_mask.main(run, callbacks=(StopAt(150, RuntimeError),))
    assert "resuming" not in capsys.readouterr().out
    with pytest.raises(KeyboardInterrupt):
        ppo_mask.main(run, callbacks=(StopAt(250, KeyboardInterrupt),))
    out = capsys.readouterr().out
    assert f"resuming from {tmp_path / 'checkpoints' / 'model_100_steps.zip'} (100 steps)" in out
    assert "interrupted at" in out and "run the same command to resume" in out
    ckpt = common.Run(common.parse_args(ppo_mask.Args, run)).latest
    assert ckpt is not None and ckpt.steps >= 250  # Ctrl-C saved where it stopped
    model = ppo_mask.main(run)
    assert f"({ckpt.steps} steps)" in capsys.readouterr().out
    assert model.num_timesteps >= 400


def test_dqn_per_feeds_td_errors_back_and_resumes_with_its_buffer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = [*DQN_RUN, "--out", str(tmp_path), "--checkpoint-freq", "100"]
    model = dqn_per.main([*run, "--total-timesteps", "200", "--eval-episodes", "0"])
    buffer = model.replay_buffer
    assert type(buffer).__name__ == "PrioritizedDictReplayBuffer" and buffer.alpha == 0.7
    assert len(set(buffer.priorities().round(6))) > 10  # priorities moved off the entry maximum
    assert buffer.last_weights.min() < 1.0  # importance weights were not all 1
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("*.pkl")) == ["model_replay_buffer_200_steps.pkl"]

    resumed = dqn_per.main([*run, "--total-timesteps", "300"])
    out = capsys.readouterr().out
    assert "resuming from" in out and "(200 steps)" in out and "with the replay buffer" in out
    assert resumed.num_timesteps == 300 and resumed.replay_buffer.size() == 150  # 300 steps / 2 copies
    agent = resolve_agent(f"sb3:{tmp_path / 'model.zip'}")
    assert type(agent.model).__name__ == "DQN" and not agent.maskable
    _logs_written(tmp_path)
    assert json.loads((tmp_path / "eval.json").read_text())["reports"][0]["agent"] == "dqn_per (300 steps)"


def test_dqn_uniform_uses_sb3_buffer(tmp_path: Path) -> None:
    model = dqn_per.main(
        [*DQN_RUN, "--uniform", "--out", str(tmp_path), "--total-timesteps", "100", "--eval-episodes", "0"]
    )
    assert type(model.replay_buffer).__name__ == "DictReplayBuffer"
    assert (tmp_path / "model.zip").exists()


def test_without_tensorboard_logs_csv_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else find_spec(name, *a)
    )
    ppo.main([*PPO_RUN, "--total-timesteps", "32", "--eval-episodes", "0", "--out", str(tmp_path)])
    assert "tensorboard is not installed" in capsys.readouterr().out
    assert not (tmp_path / "tb").exists()
    assert "time/total_timesteps" in (tmp_path / "progress.csv").read_text()


def test_learning_curve_and_evaluation_on_another_environment(tmp_path: Path) -> None:
    """Train on R1Curriculum-v0 (arithmetic, then word problems), evaluate on R1Math-v0: the
    curriculum experiment's setting. The curve starts at step 0 and has a row per --curve-freq."""
    curriculum = {"curriculum": {"stages": [["basic", ["arithmetic"]], ["words", ["word"]]], "window": 5}}
    run = [*PPO_RUN, "--env-id", "R1Curriculum-v0", "--env-kwargs", json.dumps(curriculum), "--difficulty", "medium"]
    run += ["--eval-env-id", "R1Math-v0", "--curve-freq", "32", "--curve-episodes", "4", "--out", str(tmp_path)]
    ppo_mask.main([*run, "--total-timesteps", "64", "--checkpoint-freq", "32"])
    rows = (tmp_path / "curve.csv").read_text().splitlines()
    assert rows[0].startswith("steps,accuracy,accuracy_low")
    assert [int(r.split(",")[0]) for r in rows[1:]] == [0, 32, 64]
    report = json.loads((tmp_path / "eval.json").read_text())
    assert report["env_id"] == "R1Math-v0" and report["train_env_id"] == "R1Curriculum-v0"
    assert report["env_kwargs"] == {"difficulty": "medium"}
    ppo_mask.main([*run, "--total-timesteps", "96"])  # a resumed run appends to the same curve
    steps = [int(r.split(",")[0]) for r in (tmp_path / "curve.csv").read_text().splitlines()[1:]]
    assert steps == [0, 32, 64, 96]
    with pytest.raises(ValueError, match="eval-env-kwargs"):
        common.parse_args(ppo_mask.Args if hasattr(ppo_mask, "Args") else ppo.Args, ["--eval-env-kwargs", "[1"])


def test_dqn_logs_the_share_of_key_experience(tmp_path: Path) -> None:
    dqn_per.main([*DQN_RUN, "--out", str(tmp_path), "--total-timesteps", "300", "--eval-episodes", "0"])
    header = (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    assert "train/key_share" in header
