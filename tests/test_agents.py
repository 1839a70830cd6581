"""The SB3 training scripts of agents/ and the plumbing they share (r1gym.training).

The scripts run as a user runs them, ``python agents/X.py ...`` in a subprocess from a folder
outside the repository, at tiny budgets; their promises are checked on what they leave behind:
``model.zip`` that ``r1gym eval --agent sb3:PATH`` loads with the right class, logs,
``eval.json``, checkpoints, a resumed run that continues from the latest checkpoint, and errors
that are one clear line. The plumbing (argument parsing, configs, the run folder, the training
loop's crash and Ctrl-C handling) is imported from r1gym.training and checked in-process.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("sb3_contrib")

import torch
from sb3_contrib import MaskablePPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.save_util import load_from_pkl

import r1gym.training.args as training_args
from r1gym.agent_specs import resolve_agent
from r1gym.training.args import SB3Args, env_kwargs_of, parse_args
from r1gym.training.sb3 import Run, make_vec_env, train

ROOT = Path(__file__).resolve().parents[1]
AGENTS = ROOT / "agents"
SCRIPTS = ["ppo", "ppo_mask", "dqn_per", "llm_policy"]

#: the smallest runs that still roll out, update, checkpoint and evaluate
RUN = ["--n-envs", "2", "--net-arch", "16", "--no-progress-bar", "--eval-episodes", "3", "--eval-baselines", "greedy"]
PPO_RUN = [*RUN, "--n-steps", "16", "--batch-size", "32", "--n-epochs", "1"]
DQN_RUN = [*RUN, "--buffer-size", "1000", "--learning-starts", "50", "--batch-size", "16", "--train-freq", "1"]


def run_script(name: str, args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """``python agents/<name>.py ARGS`` from ``cwd``, as a user would type it."""
    env = {**os.environ, "COLUMNS": "300", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(AGENTS / f"{name}.py"), *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _logs_written(out: Path) -> None:
    assert "time/total_timesteps" in (out / "progress.csv").read_text().splitlines()[0]
    if importlib.util.find_spec("tensorboard") is not None:
        assert list((out / "tb").glob("events.out.tfevents.*"))


# --------------------------------------------------------------------------------------------
# --help, --config, errors: every script
# --------------------------------------------------------------------------------------------


def _class_fields(path: Path) -> dict[str, tuple[list[str], dict[str, str | None]]]:
    """Each class of the file: its base names, and its annotated fields with the docstring
    under each (None where there is none)."""
    out = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ClassDef):
            docs: dict[str, str | None] = {}
            for stmt, nxt in zip(node.body, [*node.body[1:], None]):
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    if "ClassVar" in ast.unparse(stmt.annotation):
                        continue
                    doc = nxt.value.value if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) else None
                    docs[stmt.target.id] = " ".join(doc.split()) if doc else None
            out[node.name] = ([ast.unparse(b) for b in node.bases], docs)
    return out


def documented_fields(script: Path) -> dict[str, str]:
    """Every field of the script's ``Args`` with its docstring, through its bases in
    r1gym.training.args (a field redeclared without a docstring keeps its base's)."""
    classes = {**_class_fields(Path(training_args.__file__)), **_class_fields(script)}
    chain, name = [], "Args"
    while name in classes:
        chain.append(name)
        bases = classes[name][0]
        name = bases[0] if bases else ""
    docs: dict[str, str] = {}
    for cls in reversed(chain):
        for field, doc in classes[cls][1].items():
            if doc is not None or field not in docs:
                docs[field] = doc  # type: ignore[assignment]
    return docs


def test_documented_fields_are_the_dataclass_fields() -> None:
    """The source walk of the help test finds exactly the fields of the base dataclasses."""
    classes = _class_fields(Path(training_args.__file__))
    assert list(classes["RunArgs"][1]) == [f.name for f in fields(training_args.RunArgs)]
    sb3 = list(classes["RunArgs"][1]) + list(classes["SB3Args"][1])
    assert sb3 == [f.name for f in fields(SB3Args)]


def test_ppo_and_ppo_mask_take_the_same_arguments() -> None:
    """ppo_mask.py is ppo.py with the mask enforced: both take r1gym.training.args.PPOArgs and
    add nothing, so the two cannot drift apart."""
    for name in ("ppo", "ppo_mask"):
        bases, own = _class_fields(AGENTS / f"{name}.py")["Args"]
        assert bases == ["PPOArgs"] and own == {}, name


def test_import_r1gym_loads_neither_torch_nor_sb3() -> None:
    """The training plumbing is not part of ``import r1gym``; its argument, run-folder and
    evaluation modules load without torch too (only sb3, distributed, checkpoints and
    cold_start need it)."""
    code = (
        "import sys, r1gym; assert 'r1gym.training' not in sys.modules; "
        "import r1gym.training.args, r1gym.training.runs, r1gym.training.evaluation, r1gym.training.seeding; "
        "heavy = [m for m in ('torch', 'stable_baselines3', 'sb3_contrib') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", SCRIPTS)
def test_help_lists_every_argument_with_its_docstring(name: str, tmp_path: Path) -> None:
    if name == "llm_policy":
        pytest.importorskip("transformers")
    docs = documented_fields(AGENTS / f"{name}.py")
    assert {"env_id", "seed", "out", "config", "eval_episodes", "torch_threads"} <= set(docs)
    assert all(docs.values()), f"fields without a docstring: {[f for f, d in docs.items() if not d]}"
    done = run_script(name, ["--help"], cwd=tmp_path)
    text = " ".join(re.sub(r"[│╭╮╰╯─]", " ", done.stdout).split())
    for field, doc in docs.items():
        assert f"--{field.replace('_', '-')}" in text, field
        assert doc in text, (field, doc)


@pytest.mark.parametrize(
    ("name", "config", "shown"),
    [
        ("ppo", "ppo.R1Math-v0", "--total-timesteps INT environment steps"),
        ("ppo_mask", "ppo_mask.R1Math-v0", "--eval-seed INT"),
        ("dqn_per", "dqn_per.R1Math-v0", "--per-alpha FLOAT"),
        ("llm_policy", "llm_policy.R1Arith-v0", "--sft-episodes INT"),
    ],
)
def test_shipped_configs_by_name_from_anywhere(name: str, config: str, shown: str, tmp_path: Path) -> None:
    """``--config NAME`` finds agents/configs/NAME.toml from any folder; its values are the
    defaults that --help shows."""
    if name == "llm_policy":
        pytest.importorskip("transformers")
    done = run_script(name, ["--config", config, "--help"], cwd=tmp_path)
    text = " ".join(re.sub(r"[│╭╮╰╯─]", " ", done.stdout).split())
    assert shown in text
    assert "--difficulty {None}|STR" in text and "(default: medium)" in text
    if name != "llm_policy":
        assert "(default: 1000)" in text  # eval_seed = 1000 in the SB3 configs


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_bad_flag_is_a_clear_error_without_traceback(name: str, tmp_path: Path) -> None:
    if name == "llm_policy":
        pytest.importorskip("transformers")
    done = run_script(name, ["--total-timestep", "10"], cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "Unrecognized options: --total-timestep" in done.stderr
    done = run_script(name, ["--seed", "one"], cwd=tmp_path, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Error parsing --seed: invalid literal for int() with base 10: 'one'" in done.stderr


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("ppo", ["--env-kwargs", "[1]"], "ppo.py: error: --env-kwargs must be a JSON object, got '[1]'"),
        ("ppo_mask", ["--net-arch", "wide"], "ppo_mask.py: error: --net-arch must be comma-separated layer sizes"),
        ("dqn_per", ["--vec-env", "threads"], "dqn_per.py: error: --vec-env must be dummy or subproc, got 'threads'"),
        ("llm_policy", ["--sft-noise", "1.5"], "llm_policy.py: error: --sft-noise is a probability"),
        ("ppo", ["--config", "nowhere"], "ppo.py: error: --config nowhere: no such file"),
    ],
)
def test_a_bad_value_is_one_line_without_traceback(name: str, args: list[str], message: str, tmp_path: Path) -> None:
    if name == "llm_policy":
        pytest.importorskip("transformers")
    done = run_script(name, args, cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(message), done.stderr


@pytest.mark.parametrize("name", ["ppo_mask", "llm_policy"])
def test_a_bad_config_value_is_one_line_without_traceback(name: str, tmp_path: Path) -> None:
    if name == "llm_policy":
        pytest.importorskip("transformers")
    config = tmp_path / "bad.toml"
    config.write_text('seed = "one"\n')
    done = run_script(name, ["--config", str(config)], cwd=tmp_path, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr == f"{name}.py: error: config {config}: seed must be an integer, got 'one'\n"
    config.write_text("seeds = 2\n")
    done = run_script(name, ["--config", str(config)], cwd=tmp_path, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "unknown argument(s) ['seeds']" in done.stderr


# --------------------------------------------------------------------------------------------
# The plumbing, in-process
# --------------------------------------------------------------------------------------------


@dataclass
class PPOArgs(SB3Args):
    """A script's Args, for the plumbing's tests."""

    n_steps: int = 256
    """steps per copy per rollout"""
    ent_coef: float = 0.01
    """entropy bonus"""
    normalize: bool = False
    """a bool hyperparameter"""


def test_config_sets_defaults_and_flags_win(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('n_steps = 64\nent-coef = 0.05\nenv_kwargs = { reward_mode = "additive" }\nnormalize = true\n')
    args = parse_args(PPOArgs, ["--config", str(config), "--n-steps", "32"], run_name="ppo")
    assert (args.n_steps, args.ent_coef, args.normalize) == (32, 0.05, True)
    assert env_kwargs_of(args) == {"reward_mode": "additive"}
    assert args.out == str(Path("runs") / "ppo-R1Math-v0-s1")
    assert args.config == str(config)
    # a name in the configs folder, with or without its suffix; JSON too; the last --config wins
    (tmp_path / "d.json").write_text('{"n_steps": "16", "seed": 3}')
    assert parse_args(PPOArgs, ["--config", "c", "--config=d"], run_name="ppo", configs=tmp_path).n_steps == 16
    args = parse_args(
        PPOArgs, ["--config", "d.json", "--no-normalize"], run_name=lambda a: f"x{a.seed}", configs=tmp_path
    )
    assert (args.seed, args.normalize, args.out) == (3, False, str(Path("runs") / "x3-R1Math-v0-s3"))
    # the launcher's underscore spelling, and the empty string for "no baselines"
    args = parse_args(PPOArgs, ["--n_envs=3", "--eval-baselines", ""], run_name="ppo")
    assert (args.n_envs, args.eval_baselines) == (3, "")


@pytest.mark.parametrize(
    ("text", "argv", "message"),
    [
        ("n_step = 64\n", [], "unknown argument(s) ['n_step']"),
        ('n_steps = "many"\n', [], "n_steps must be an integer, got 'many'"),
        ("n_steps = true\n", [], "n_steps must be an integer, got True"),
        ("normalize = 1\n", [], "normalize must be true or false, got 1"),
        ("ent_coef = [1]\n", [], "ent_coef must be a number, got [1]"),
        ("n_steps = \n", [], "not valid TOML"),
        ("", ["--env-kwargs", '{"reveal": true}'], "reveal would show the agent the answer key"),
        ("", ["--eval-env-kwargs", "[1"], "--eval-env-kwargs must be a JSON object"),
        ("", ["--n-envs", "0"], "--n-envs must be >= 1, got 0"),
        ("", ["--seed", "-1"], "--seed must be >= 0"),
    ],
)
def test_bad_configs_and_values_exit_with_one_line(
    text: str, argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(text)
    with pytest.raises(SystemExit) as exc:
        parse_args(PPOArgs, ["--config", str(config), *argv], run_name="ppo")
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("test_agents.py: error: ") and message in err, err


def test_missing_named_config_lists_the_known_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ppo.R1Math-v0.toml").write_text("")
    with pytest.raises(SystemExit):
        parse_args(PPOArgs, ["--config", "ppo.R1Mat-v0"], run_name="ppo", configs=tmp_path)
    err = capsys.readouterr().err
    assert f"--config ppo.R1Mat-v0: no such file (as a path or in {tmp_path}; there: ppo.R1Math-v0.toml)" in err


def test_resume_refuses_other_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = ["--out", str(tmp_path), "--ent-coef", "0.001"]
    Run(parse_args(PPOArgs, out, run_name="ppo"))
    assert json.loads((tmp_path / "args.json").read_text())["ent_coef"] == 0.001
    with zipfile.ZipFile(tmp_path / "checkpoints" / "model_10_steps.zip", "w") as z:
        z.writestr("data", "{}")  # the smallest file that reads back as a whole SB3 model
    longer = parse_args(PPOArgs, [*out, "--total-timesteps", "9", "--no-progress-bar"], run_name="ppo")
    assert Run(longer).latest.steps == 10  # the budget and the display may change
    with pytest.raises(SystemExit) as exc:
        parse_args(PPOArgs, ["--out", str(tmp_path), "--ent-coef", "0.01"], run_name="ppo")
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--ent-coef was 0.001, now 0.01" in err and "pass a new --out" in err


def test_a_damaged_newest_checkpoint_is_reported_and_the_one_before_it_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--n-envs", "1", "--no-progress-bar", "--out", str(tmp_path), "--eval-episodes", "0"]
    run = Run(parse_args(PPOArgs, argv, run_name="ppo_mask"))
    env = make_vec_env(parse_args(PPOArgs, argv, run_name="ppo_mask"), seed=0)
    model = MaskablePPO("MultiInputPolicy", env, n_steps=16, batch_size=16, policy_kwargs={"net_arch": [4]})
    for steps in (100, 200, 300):
        model.num_timesteps = steps
        run.save_checkpoint(model)
    assert not [p for p in run.checkpoints.iterdir() if p.name.startswith(".")]  # no temporary left
    newest = run.checkpoints / "model_300_steps.zip"
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])  # a copy cut short
    (run.checkpoints / "model_200_steps.zip").write_bytes(b"")  # a full disk
    capsys.readouterr()
    ckpt = Run(parse_args(PPOArgs, argv, run_name="ppo_mask")).latest
    assert ckpt is not None and ckpt.steps == 100
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2, lines  # one line each
    assert lines[0].startswith(f"checkpoint {newest} is damaged (") and "using the one before it" in lines[0]
    assert "model_200_steps.zip is damaged" in lines[1]
    assert MaskablePPO.load(ckpt.model).num_timesteps == 100
    (run.checkpoints / "model_100_steps.zip").write_bytes(b"PK")
    assert Run(parse_args(PPOArgs, argv, run_name="ppo_mask")).latest is None
    assert "none is left: starting afresh" in capsys.readouterr().out
    env.close()


class StopAt(BaseCallback):
    """Raises ``error`` once the run has taken ``steps`` steps: an interruption."""

    def __init__(self, steps: int, error: type[BaseException]) -> None:
        super().__init__()
        self.steps, self.error = steps, error

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.steps:
            raise self.error("interrupted by the test")
        return True


def test_training_loop_resumes_after_a_crash_and_after_ctrl_c(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--n-envs", "2", "--no-progress-bar", "--out", str(tmp_path), "--checkpoint-freq", "100"]
    argv += ["--eval-episodes", "0", "--total-timesteps", "400"]

    def run(callbacks: tuple[BaseCallback, ...] = ()) -> MaskablePPO:
        args = parse_args(PPOArgs, argv, run_name="ppo_mask")
        new_model = lambda env: MaskablePPO(  # noqa: E731
            "MultiInputPolicy", env, n_steps=16, batch_size=32, n_epochs=1, policy_kwargs={"net_arch": [16]}, seed=1
        )
        return train(args, "ppo_mask", MaskablePPO, new_model, callbacks)

    # A crash: only the periodic checkpoint survives. Rollouts are 32 steps (16 per copy, 2 copies):
    # --checkpoint-freq 100 is rounded up to 128, a rollout boundary.
    with pytest.raises(RuntimeError):
        run((StopAt(150, RuntimeError),))
    assert "resuming" not in capsys.readouterr().out
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["model_128_steps.zip"]
    # Ctrl-C in the rollout from 224 to 256: saved at its start, the steps it has learned from
    with pytest.raises(KeyboardInterrupt):
        run((StopAt(250, KeyboardInterrupt),))
    out = capsys.readouterr().out
    assert f"resuming from {tmp_path / 'checkpoints' / 'model_128_steps.zip'} (128 steps)" in out
    assert "interrupted at 250 steps" in out and "(224 steps); run the same command to resume" in out
    ckpt = Run(parse_args(PPOArgs, argv, run_name="ppo_mask")).latest
    assert ckpt is not None and ckpt.steps == 224 and MaskablePPO.load(ckpt.model).num_timesteps == 224
    model = run()
    assert f"({ckpt.steps} steps)" in capsys.readouterr().out
    assert model.num_timesteps == 416  # as uninterrupted: 400 rounded up to whole rollouts of 32


class Snapshots(BaseCallback):
    """The policy's parameters at each rollout start (after the update on the previous one)."""

    def __init__(self) -> None:
        super().__init__()
        self.at: dict[int, dict[str, torch.Tensor]] = {}

    def _on_rollout_start(self) -> None:
        self.at[self.num_timesteps] = {k: v.clone() for k, v in self.model.policy.state_dict().items()}

    def _on_step(self) -> bool:
        return True


def test_on_policy_checkpoints_are_at_rollout_boundaries_after_the_update(tmp_path: Path) -> None:
    """--checkpoint-freq 50 with rollouts of 32 steps: every 64 steps, each file holding the
    weights updated on all of its steps (saved as the next rollout starts, not before the update)."""
    argv = ["--n-envs", "2", "--no-progress-bar", "--out", str(tmp_path), "--checkpoint-freq", "50"]
    argv += ["--eval-episodes", "0", "--total-timesteps", "200"]
    args = parse_args(PPOArgs, argv, run_name="ppo_mask")
    new_model = lambda env: MaskablePPO(  # noqa: E731
        "MultiInputPolicy", env, n_steps=16, batch_size=32, n_epochs=1, policy_kwargs={"net_arch": [16]}, seed=1
    )
    snapshots = Snapshots()
    model = train(args, "ppo_mask", MaskablePPO, new_model, (snapshots,))
    assert model.num_timesteps == 224
    names = sorted((p.name for p in (tmp_path / "checkpoints").iterdir()), key=lambda n: int(n.split("_")[1]))
    assert names == ["model_64_steps.zip", "model_128_steps.zip", "model_192_steps.zip", "model_224_steps.zip"]
    for steps in (64, 128, 192):
        saved = MaskablePPO.load(tmp_path / "checkpoints" / f"model_{steps}_steps.zip")
        assert saved.num_timesteps == steps
        state = saved.policy.state_dict()
        assert all(torch.equal(state[k], v) for k, v in snapshots.at[steps].items()), steps
        assert not all(torch.equal(state[k], v) for k, v in snapshots.at[steps - 32].items()), steps
    final = MaskablePPO.load(tmp_path / "checkpoints" / "model_224_steps.zip").policy.state_dict()
    assert all(torch.equal(final[k], v) for k, v in model.policy.state_dict().items())


def test_without_tensorboard_logs_csv_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else find_spec(name, *a)
    )
    run = Run(parse_args(PPOArgs, ["--out", str(tmp_path)], run_name="ppo"))
    logger = run.logger(SimpleNamespace(num_timesteps=0))  # type: ignore[arg-type]
    logger.record("time/total_timesteps", 1)
    logger.dump(1)
    logger.close()
    assert "tensorboard is not installed" in capsys.readouterr().out
    assert not (tmp_path / "tb").exists()
    assert "time/total_timesteps" in (tmp_path / "progress.csv").read_text()


# --------------------------------------------------------------------------------------------
# The scripts, end to end
# --------------------------------------------------------------------------------------------


def test_ppo_trains_saves_logs_and_evaluates(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_script("ppo", [*PPO_RUN, "--total-timesteps", "64", "--checkpoint-freq", "32", "--out", str(out)], tmp_path)
    agent = resolve_agent(f"sb3:{out / 'model.zip'}")
    assert type(agent.model).__name__ == "PPO" and not agent.maskable and agent.model.num_timesteps == 64
    _logs_written(out)
    report = json.loads((out / "eval.json").read_text())
    assert [r["agent"] for r in report["reports"]] == ["ppo (64 steps)", "greedy"]
    assert report["num_timesteps"] == 64 and report["episodes"] == 3 and report["seed"] == 10_000
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["model_32_steps.zip", "model_64_steps.zip"]
    assert json.loads((out / "args.json").read_text())["net_arch"] == "16"


def test_ppo_mask_with_a_config_resumes_a_longer_run(tmp_path: Path) -> None:
    """The shipped config by name, flags overriding it; the same command with a larger budget
    resumes; once done, the same command trains nothing."""
    out = tmp_path / "run"
    run = ["--config", "ppo_mask.R1Math-v0", *PPO_RUN, "--out", str(out), "--checkpoint-freq", "100"]
    first = run_script("ppo_mask", [*run, "--total-timesteps", "200", "--eval-episodes", "0"], tmp_path)
    assert "resuming" not in first.stdout
    args = json.loads((out / "args.json").read_text())
    assert (args["difficulty"], args["eval_seed"], args["n_steps"], args["total_timesteps"]) == (
        "medium",
        1000,
        16,
        200,
    )
    second = run_script("ppo_mask", [*run, "--total-timesteps", "400"], tmp_path)
    assert f"resuming from {out / 'checkpoints' / 'model_224_steps.zip'} (224 steps)" in second.stdout  # rollouts of 32
    assert (out / "progress.csv").exists() and (out / "progress_from_224.csv").exists()
    agent = resolve_agent(f"sb3:{out / 'model.zip'}")
    assert type(agent.model).__name__ == "MaskablePPO" and agent.maskable
    assert agent.model.num_timesteps == 416
    assert json.loads((out / "eval.json").read_text())["reports"][0]["agent"] == "ppo_mask (416 steps)"
    third = run_script("ppo_mask", [*run, "--total-timesteps", "400", "--eval-episodes", "0"], tmp_path)
    assert "already trained for 416 steps" in third.stdout


def test_dqn_per_feeds_td_errors_back_and_resumes_with_its_buffer(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run = [*DQN_RUN, "--out", str(out), "--checkpoint-freq", "100"]
    run_script("dqn_per", [*run, "--total-timesteps", "200", "--eval-episodes", "0"], tmp_path)
    buffers = sorted((out / "checkpoints").glob("*.pkl"))
    assert [p.name for p in buffers] == ["model_replay_buffer_200_steps.pkl"]
    buffer = load_from_pkl(buffers[0])
    assert type(buffer).__name__ == "PrioritizedDictReplayBuffer" and buffer.alpha == 0.7 and buffer.n_steps == 3
    assert len(set(buffer.priorities().round(6))) > 10  # priorities moved off the entry maximum
    assert buffer.last_weights.min() < 1.0  # importance weights were not all 1

    resumed = run_script("dqn_per", [*run, "--total-timesteps", "300"], tmp_path)
    assert "resuming from" in resumed.stdout and "(200 steps)" in resumed.stdout
    assert "with the replay buffer" in resumed.stdout and "(100 slots)" in resumed.stdout
    assert load_from_pkl(out / "checkpoints" / "model_replay_buffer_300_steps.pkl").size() == 150  # 300 steps / 2
    agent = resolve_agent(f"sb3:{out / 'model.zip'}")
    assert type(agent.model).__name__ == "DQN" and not agent.maskable
    assert type(agent.model.policy).__name__ == "MaskedDQNPolicy"  # masks its greedy actions itself
    _logs_written(out)
    assert "train/key_share" in (out / "progress.csv").read_text().splitlines()[0].split(",")
    assert json.loads((out / "eval.json").read_text())["reports"][0]["agent"] == "dqn_per (300 steps)"


def test_dqn_uniform_uses_the_uniform_nstep_buffer_and_names_its_run(tmp_path: Path) -> None:
    run_script("dqn_per", [*DQN_RUN, "--uniform", "--total-timesteps", "100", "--eval-episodes", "0"], tmp_path)
    out = tmp_path / "runs" / "dqn_uniform-R1Math-v0-s1"  # the default --out
    assert (out / "model.zip").exists()
    buffer = load_from_pkl(out / "checkpoints" / "model_replay_buffer_100_steps.pkl")
    # SB3's DictReplayBuffer sampling with the prioritized arm's n-step returns (--n-steps 3)
    assert type(buffer).__name__ == "NStepDictReplayBuffer" and buffer.n_steps == 3


def test_learning_curve_and_evaluation_on_another_environment(tmp_path: Path) -> None:
    """Train on R1Curriculum-v0 (arithmetic, then word problems), evaluate on R1Math-v0: the
    curriculum experiment's setting. The curve starts at step 0 and has a row per --curve-freq."""
    out = tmp_path / "run"
    curriculum = {"curriculum": {"stages": [["basic", ["arithmetic"]], ["words", ["word"]]], "window": 5}}
    run = [*PPO_RUN, "--env-id", "R1Curriculum-v0", "--env-kwargs", json.dumps(curriculum), "--difficulty", "medium"]
    run += ["--eval-env-id", "R1Math-v0", "--curve-freq", "32", "--curve-episodes", "4", "--out", str(out)]
    run_script("ppo_mask", [*run, "--total-timesteps", "64", "--checkpoint-freq", "32"], tmp_path)
    rows = (out / "curve.csv").read_text().splitlines()
    assert rows[0].startswith("steps,accuracy,accuracy_low")
    assert [int(r.split(",")[0]) for r in rows[1:]] == [0, 32, 64]
    report = json.loads((out / "eval.json").read_text())
    assert report["env_id"] == "R1Math-v0" and report["train_env_id"] == "R1Curriculum-v0"
    assert report["env_kwargs"] == {"difficulty": "medium"}
    run_script("ppo_mask", [*run, "--total-timesteps", "96"], tmp_path)  # a resumed run appends to the same curve
    steps = [int(r.split(",")[0]) for r in (out / "curve.csv").read_text().splitlines()[1:]]
    assert steps == [0, 32, 64, 96]
