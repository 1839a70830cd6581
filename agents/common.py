"""What the training scripts of ``agents/`` share: arguments, run directory, resume, evaluation.

The scripts (``ppo.py``, ``ppo_mask.py``, ``dqn_per.py``) keep their algorithm in their own file,
read top to bottom as CleanRL's do; this module holds only the plumbing that would otherwise be
copied three times:

* :class:`RunArgs` and :func:`parse_args`: the arguments every script takes, and an argparse
  parser built from an ``Args`` dataclass whose field docstrings become the ``--help`` text;
  ``--config FILE`` (TOML or JSON) sets defaults that command-line flags override.
* :class:`Run`: the run directory. ``args.json``, ``checkpoints/`` (model, and replay buffer for
  off-policy algorithms, every ``--checkpoint-freq`` steps and at the end), ``model.zip``,
  ``progress*.csv``, ``tb/`` (TensorBoard) and ``eval.json``. Running the same command again on
  the same ``--out`` resumes from the latest checkpoint.
* :func:`make_vec_env`, :func:`learn` (progress bar, checkpoints, Ctrl-C saves a checkpoint) and
  :func:`evaluate_run` (the trained model against greedy and backtracking on held-out seeds).

``agents/`` is not a package (``agents`` is an import name other distributions take): the
scripts import this file as ``common`` from their own directory.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import inspect
import itertools
import json
import math
import os
import re
import sys
import textwrap
import time
import types
import typing
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback
from stable_baselines3.common.logger import CSVOutputFormat, HumanOutputFormat, KVWriter, Logger
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

import r1gym  # noqa: F401  (registers the ids)
from r1gym.agent_specs import resolve_agent
from r1gym.evaluation import EvalReport, evaluate, format_table

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


@dataclass
class RunArgs:
    """The arguments every training script takes; each script's ``Args`` adds its algorithm's."""

    env_id: str = "R1Math-v0"
    """the environment id"""
    difficulty: str | None = None
    """the environment's difficulty preset (easy, medium, hard); the environment's default if unset"""
    num_candidates: int | None = None
    """K, the candidates per node; the preset's if unset"""
    env_kwargs: str = "{}"
    """more keyword arguments of gym.make, as a JSON object, e.g. '{"reward_mode": "additive"}'"""
    n_envs: int = 4
    """environment copies stepped together"""
    vec_env: str = "dummy"
    """how the copies run: dummy (one process) or subproc (one process each)"""
    total_timesteps: int = 200_000
    """environment steps to train for, counted over all copies and across resumed runs"""
    seed: int = 1
    """seed of the model, the environments and the replay buffer"""
    out: str | None = None
    """the run directory; the same --out resumes. Default: runs/<script>-<env-id>-s<seed>"""
    config: str | None = None
    """a TOML or JSON file of argument defaults (a path, or a name in agents/configs/); flags override it"""
    checkpoint_freq: int = 10_000
    """save a checkpoint every this many environment steps (0: only at the end)"""
    eval_episodes: int = 200
    """episodes of the final evaluation against greedy and backtrack (0: skip it)"""
    eval_seed: int = 10_000
    """seed of the final evaluation, away from the training seeds"""
    eval_baselines: str = "greedy,backtrack"
    """baselines evaluated beside the model, comma-separated (empty: none)"""
    eval_env_id: str | None = None
    """evaluate on this environment id instead of --env-id (e.g. train on R1Curriculum-v0, test on R1Math-v0)"""
    eval_env_kwargs: str | None = None
    """gym.make keyword arguments of the evaluation environment, a JSON object (default: the training ones)"""
    curve_freq: int = 0
    """every this many environment steps, evaluate the deterministic policy on held-out episodes and
    append the result to curve.csv (0: never)"""
    curve_episodes: int = 200
    """episodes of each learning-curve evaluation"""
    curve_seed: int = 20_000
    """seed of every learning-curve evaluation (the same episodes each time)"""
    progress_bar: bool = True
    """show a progress bar (needs tqdm and rich)"""
    verbose: int = 0
    """1: also print SB3's table of logged values"""
    torch_threads: int = 1
    """torch CPU threads (small networks train fastest on one)"""

    #: fields that may change between a run and its resumption; any other difference is an error
    RESUMABLE: typing.ClassVar[frozenset[str]] = frozenset(
        {
            "total_timesteps",
            "out",
            "config",
            "checkpoint_freq",
            "eval_episodes",
            "eval_seed",
            "eval_baselines",
            "eval_env_id",
            "eval_env_kwargs",
            "curve_freq",
            "progress_bar",
            "verbose",
            "torch_threads",
            "vec_env",
        }
    )


def field_docs(cls: type) -> dict[str, str]:
    """Each dataclass field's docstring (the string literal under it), through the class hierarchy."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is object or not hasattr(klass, "__dataclass_fields__"):
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        body = tree.body[0].body  # type: ignore[attr-defined]
        for node, nxt in itertools.pairwise(body):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr)
                and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)
            ):
                docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def _converter(tp: Any) -> tuple[Callable[[str], Any], bool]:
    """(string -> value, optional) for a field's type: int, float, str, bool, or one of them | None."""
    optional = False
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) < len(typing.get_args(tp))
        if len(args) != 1:
            raise TypeError(f"unsupported argument type {tp}")
        tp = args[0]
    if tp not in (int, float, str, bool):
        raise TypeError(f"unsupported argument type {tp}: use int, float, str or bool (or X | None)")

    def convert(text: str) -> Any:
        if optional and text.lower() in ("none", "null", ""):
            return None
        return tp(text)

    convert.__name__ = tp.__name__  # argparse names the type in its errors
    return convert, optional


def load_config(path: str) -> dict[str, Any]:
    """Argument defaults from a TOML or JSON file: a path, or a file name in ``agents/configs/``."""
    p = Path(path)
    if not p.exists():
        for candidate in (CONFIG_DIR / path, CONFIG_DIR / f"{path}.toml", CONFIG_DIR / f"{path}.json"):
            if candidate.exists():
                p = candidate
                break
        else:
            known = ", ".join(sorted(c.name for c in CONFIG_DIR.glob("*.*"))) if CONFIG_DIR.exists() else "none"
            raise FileNotFoundError(f"config {path!r} not found (as a path or in {CONFIG_DIR}; there: {known})")
    if p.suffix == ".json":
        data = json.loads(p.read_text())
    elif p.suffix == ".toml":
        try:
            import tomllib
        except ImportError:  # Python 3.10
            try:
                import tomli as tomllib  # type: ignore[no-redef]
            except ImportError:
                raise ImportError(f"{p}: TOML configs need Python 3.11+ or `pip install tomli`; or use JSON") from None
        data = tomllib.loads(p.read_text())
    else:
        raise ValueError(f"config {p}: expected a .toml or .json file")
    if not isinstance(data, dict):
        raise TypeError(f"config {p}: expected a table of argument values, got {type(data).__name__}")
    return {k.replace("-", "_"): v for k, v in data.items()}


def parse_args(cls: type, argv: Sequence[str] | None = None, run_name: str | Callable[[Any], str] = "run") -> Any:
    """An instance of the ``Args`` dataclass ``cls`` from the command line (``argv``; sys.argv if None).

    Every field becomes ``--field-name`` with its docstring as help; a bool field also gets
    ``--no-field-name``. ``--config FILE`` supplies defaults; flags given on the command line win.
    ``out`` defaults to ``runs/<run_name>-<env-id>-s<seed>`` (``run_name`` may be a function of
    the parsed arguments).
    """
    docs = field_docs(cls)
    hints = typing.get_type_hints(cls)
    module = sys.modules[cls.__module__]
    parser = argparse.ArgumentParser(
        prog=f"{run_name}.py" if isinstance(run_name, str) else Path(module.__file__ or "train.py").name,
        description=(module.__doc__ or "").strip().split("\n\n")[0] or None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    converters: dict[str, Callable[[str], Any]] = {}
    for f in fields(cls):
        if f.name not in docs:
            raise TypeError(f"{cls.__name__}.{f.name} has no docstring: every argument documents itself")
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        if hints[f.name] is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=docs[f.name])
            converters[f.name] = bool
        else:
            convert, _ = _converter(hints[f.name])
            converters[f.name] = convert
            # "--local_rank" too: the spelling launchers such as deepspeed's pass
            aliases = [flag] + (["--" + f.name] if "_" in f.name else [])
            parser.add_argument(
                *aliases,
                dest=f.name,
                type=convert,
                default=default,
                help=docs[f.name],
                metavar=convert.__name__.upper(),
            )
    known, _ = parser.parse_known_args(argv)
    if known.config:
        config = load_config(known.config)
        unknown = sorted(set(config) - set(converters))
        if unknown:
            raise ValueError(f"config {known.config}: unknown argument(s) {unknown}; valid: {sorted(converters)}")
        for key, value in config.items():
            if key == "env_kwargs" and isinstance(value, dict):
                value = json.dumps(value)
            if converters[key] is bool and not isinstance(value, bool):
                raise ValueError(f"config {known.config}: {key} must be true or false, got {value!r}")
            parser.set_defaults(**{key: value if converters[key] is bool else converters[key](str(value))})
    args = cls(**vars(parser.parse_args(argv)))
    if args.out is None:
        name = run_name(args) if callable(run_name) else run_name
        args.out = os.path.join("runs", f"{name}-{args.env_id}-s{args.seed}")
    if isinstance(args, RunArgs):
        check_run_args(args)
    return args


def check_run_args(args: RunArgs) -> None:
    """Reject values that would fail later, with the reason."""
    if args.total_timesteps < 1:
        raise ValueError(f"--total-timesteps must be >= 1, got {args.total_timesteps}")
    if args.n_envs < 1:
        raise ValueError(f"--n-envs must be >= 1, got {args.n_envs}")
    if args.checkpoint_freq < 0:
        raise ValueError(f"--checkpoint-freq must be >= 0, got {args.checkpoint_freq}")
    if args.eval_episodes < 0:
        raise ValueError(f"--eval-episodes must be >= 0, got {args.eval_episodes}")
    if args.vec_env not in ("dummy", "subproc"):
        raise ValueError(f"--vec-env must be dummy or subproc, got {args.vec_env!r}")
    if args.curve_freq < 0 or args.curve_episodes < 1:
        raise ValueError(
            f"--curve-freq must be >= 0 and --curve-episodes >= 1, got {args.curve_freq}, {args.curve_episodes}"
        )
    env_kwargs_of(args)
    eval_env_of(args)


def eval_env_of(args: RunArgs) -> tuple[str, dict[str, Any]]:
    """The evaluation environment: ``--eval-env-id`` (default ``--env-id``) and its keyword
    arguments (``--eval-env-kwargs``, default the training environment's when the id is the same;
    a different id starts from ``--difficulty`` / ``--num-candidates`` only)."""
    env_id = args.eval_env_id or args.env_id
    if args.eval_env_kwargs is None:
        if env_id == args.env_id:
            return env_id, env_kwargs_of(args)
        kwargs: dict[str, Any] = {}
    else:
        kwargs = json_object(args.eval_env_kwargs, "--eval-env-kwargs")
        if "reveal" in kwargs:
            raise ValueError("--eval-env-kwargs: reveal is set by evaluation itself")
    if args.difficulty is not None:
        kwargs.setdefault("difficulty", args.difficulty)
    if args.num_candidates is not None:
        kwargs.setdefault("num_candidates", args.num_candidates)
    return env_id, kwargs


def json_object(text: str, flag: str) -> dict[str, Any]:
    """A flag's JSON object (``'{"reward_mode": "additive"}'``), or an error naming the flag."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{flag} must be a JSON object, got {text!r} ({e})") from None
    if not isinstance(value, dict):
        raise TypeError(f"{flag} must be a JSON object, got {text!r}")
    return value


def env_kwargs_of(args: Any) -> dict[str, Any]:
    """gym.make keyword arguments: ``--env-kwargs`` JSON, then ``--difficulty`` / ``--num-candidates``
    (any ``Args`` with ``env_kwargs`` and ``difficulty``; ``num_candidates`` if it has one)."""
    kwargs = json_object(args.env_kwargs, "--env-kwargs")
    if "reveal" in kwargs:
        raise ValueError("--env-kwargs: reveal would show the agent the answer key; it is set by evaluation only")
    if args.difficulty is not None:
        kwargs["difficulty"] = args.difficulty
    if getattr(args, "num_candidates", None) is not None:
        kwargs["num_candidates"] = args.num_candidates
    return kwargs


def net_arch(text: str) -> list[int]:
    """``"64,64"`` -> ``[64, 64]``: hidden layer sizes."""
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise ValueError(f"--net-arch must be comma-separated layer sizes such as 64,64; got {text!r}")
    return sizes


# --------------------------------------------------------------------------------------------
# Environments
# --------------------------------------------------------------------------------------------


def make_env(env_id: str, env_kwargs: dict[str, Any]) -> Callable[[], gym.Env]:
    """A thunk that makes one monitored copy of the environment (episode return and length)."""

    def thunk() -> gym.Env:
        return Monitor(gym.make(env_id, **env_kwargs))

    return thunk


def make_vec_env(args: RunArgs, seed: int) -> VecEnv:
    """``args.n_envs`` copies; copy i is seeded with ``seed + i`` at its first reset.

    (Not ``stable_baselines3.common.env_util.make_vec_env``: it passes ``render_mode="rgb_array"``,
    which r1gym's environments refuse.) MaskablePPO finds ``action_masks()`` through the wrappers
    by ``env_method``, which Gymnasium 1.x resolves with ``get_wrapper_attr``.
    """
    thunks = [make_env(args.env_id, env_kwargs_of(args)) for _ in range(args.n_envs)]
    venv: VecEnv = SubprocVecEnv(thunks) if args.vec_env == "subproc" else DummyVecEnv(thunks)
    venv.seed(seed)
    return venv


# --------------------------------------------------------------------------------------------
# The run directory: checkpoints, resume, logs
# --------------------------------------------------------------------------------------------

_CHECKPOINT = re.compile(r"^model_(\d+)_steps\.zip$")


@dataclass
class Checkpoint:
    """A saved model (and, for off-policy algorithms, its replay buffer) at ``steps``."""

    steps: int
    model: Path
    replay_buffer: Path | None


class Run:
    """The run directory ``--out``: where a run writes, and where a resumed run reads.

    Args:
        args: the parsed arguments (written to ``args.json``; a resumed run must match them
            except for the fields in ``RunArgs.RESUMABLE``).
    """

    def __init__(self, args: RunArgs) -> None:
        self.dir = Path(args.out)  # type: ignore[arg-type]
        self.checkpoints = self.dir / "checkpoints"
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        self.args = args
        self.latest = self.latest_checkpoint()
        self._check_same_run()
        (self.dir / "args.json").write_text(json.dumps(asdict(args), indent=2) + "\n")

    def _check_same_run(self) -> None:
        if self.latest is not None:
            check_same_arguments(self.dir, asdict(self.args), self.args.RESUMABLE)

    def latest_checkpoint(self) -> Checkpoint | None:
        """The checkpoint with the most steps, or None for a fresh run."""
        found = [(int(m.group(1)), p) for p in self.checkpoints.iterdir() if (m := _CHECKPOINT.match(p.name))]
        if not found:
            return None
        steps, model = max(found)
        buffer = self.checkpoints / f"model_replay_buffer_{steps}_steps.pkl"
        return Checkpoint(steps, model, buffer if buffer.exists() else None)

    def logger(self, model: BaseAlgorithm, verbose: int = 0) -> Logger:
        """CSV always (``progress.csv``, ``progress_from_<steps>.csv`` after a resume) and
        TensorBoard under ``tb/`` when the ``tensorboard`` package is installed."""
        start = model.num_timesteps
        csv_name = "progress.csv" if start == 0 else f"progress_from_{start}.csv"
        formats: list[KVWriter] = [CSVOutputFormat(str(self.dir / csv_name))]
        if importlib.util.find_spec("tensorboard") is not None:
            from stable_baselines3.common.logger import TensorBoardOutputFormat

            tb = TensorBoardOutputFormat(str(self.dir / "tb"))
            rows = "\n".join(f"|{k}|{v}|" for k, v in asdict(self.args).items())
            tb.writer.add_text("hyperparameters", f"|param|value|\n|-|-|\n{rows}", global_step=start)
            formats.append(tb)
        elif start == 0:
            print(f"tensorboard is not installed: logging to {self.dir / csv_name} only (pip install tensorboard)")
        if verbose:
            formats.append(HumanOutputFormat(sys.stdout))
        return Logger(folder=str(self.dir), output_formats=formats)

    def checkpoint_callback(self, args: RunArgs) -> CheckpointCallback | None:
        if args.checkpoint_freq == 0:
            return None
        return Checkpoints(max(args.checkpoint_freq // args.n_envs, 1), str(self.checkpoints))

    def save_checkpoint(self, model: BaseAlgorithm) -> Path:
        return save_checkpoint(model, self.checkpoints)

    def save_final(self, model: BaseAlgorithm) -> Path:
        """A last checkpoint (so that a longer run can resume from here) and ``model.zip``."""
        self.save_checkpoint(model)
        path = self.dir / "model.zip"
        tmp = self.dir / "model.tmp.zip"
        model.save(tmp)
        os.replace(tmp, path)
        return path


def check_same_arguments(folder: Path, now: dict[str, Any], resumable: typing.AbstractSet[str]) -> None:
    """Refuse to resume the run in ``folder`` (its ``args.json``) with other arguments than it
    started with, except those in ``resumable``; naming each one that differs."""
    path = folder / "args.json"
    if not path.exists():
        return
    before = json.loads(path.read_text())
    changed = {k: (before.get(k), v) for k, v in now.items() if k not in resumable and before.get(k) != v}
    if changed:
        diff = "; ".join(f"--{k.replace('_', '-')} was {a!r}, now {b!r}" for k, (a, b) in sorted(changed.items()))
        raise ValueError(
            f"{folder} holds a run started with other arguments ({diff}). Resume with the same "
            "arguments (only the budget, checkpointing, evaluation and display may change), or pass a new --out"
        )


def save_checkpoint(model: BaseAlgorithm, folder: Path) -> Path:
    """Save ``model_<steps>_steps.zip`` (and its replay buffer) atomically; keep one replay buffer."""
    steps = model.num_timesteps
    path = folder / f"model_{steps}_steps.zip"
    buffer = getattr(model, "replay_buffer", None)
    if buffer is not None:
        # The buffer first: a model file is what marks a checkpoint as complete.
        bpath = folder / f"model_replay_buffer_{steps}_steps.pkl"
        tmp = folder / f".model_replay_buffer_{steps}_steps.tmp.pkl"
        model.save_replay_buffer(tmp)  # type: ignore[attr-defined]
        os.replace(tmp, bpath)
    tmp = folder / f".model_{steps}_steps.tmp.zip"
    model.save(tmp)
    os.replace(tmp, path)
    if buffer is not None:  # a replay buffer can take hundreds of MB: keep only the newest
        for old in folder.glob("model_replay_buffer_*_steps.pkl"):
            if old.name != f"model_replay_buffer_{steps}_steps.pkl":
                old.unlink()
    return path


class Checkpoints(CheckpointCallback):
    """SB3's CheckpointCallback with atomic writes and only the newest replay buffer kept."""

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0:
            save_checkpoint(self.model, Path(self.save_path))
        return True


class LearningCurve(BaseCallback):
    """Every ``freq`` environment steps, evaluate the deterministic policy on the same held-out
    episodes (``episodes`` from ``seed`` of the evaluation environment) and append a row to
    ``curve.csv``: steps, accuracy and its 95% interval, error recovery, mean steps, mean reward,
    truncation rate. A resumed run appends to the same file. Logged as ``curve/*`` too."""

    FIELDS = (
        "steps",
        "accuracy",
        "accuracy_low",
        "accuracy_high",
        "error_recovery",
        "mean_steps",
        "mean_reward",
        "truncated_rate",
    )

    def __init__(
        self, path: Path, env_id: str, env_kwargs: dict[str, Any], freq: int, episodes: int, seed: int
    ) -> None:
        super().__init__()
        self.path, self.env_id, self.env_kwargs = path, env_id, env_kwargs
        self.freq, self.episodes, self.seed = freq, episodes, seed
        self.next_at: int | None = None

    def _on_training_start(self) -> None:
        done = self.model.num_timesteps
        self.next_at = (done // self.freq + 1) * self.freq
        if done == 0 and not self.path.exists():
            self._evaluate()  # the untrained policy: the curve's first point

    def _on_step(self) -> bool:
        if self.next_at is not None and self.model.num_timesteps >= self.next_at:
            self._evaluate()
            self.next_at = (self.model.num_timesteps // self.freq + 1) * self.freq
        return True

    def _evaluate(self) -> None:
        from r1gym.agent_specs import SB3Agent

        maskable = "Maskable" in type(self.model).__name__
        agent = SB3Agent(self.model, maskable, name="curve")
        r = evaluate(agent, self.env_id, episodes=self.episodes, seed=self.seed, **self.env_kwargs)
        row = {
            "steps": self.model.num_timesteps,
            "accuracy": r.accuracy,
            "accuracy_low": r.accuracy_ci[0],
            "accuracy_high": r.accuracy_ci[1],
            "error_recovery": r.error_recovery,
            "mean_steps": r.mean_steps,
            "mean_reward": r.mean_reward,
            "truncated_rate": r.truncated_rate,
        }
        new = not self.path.exists()
        with self.path.open("a") as f:
            if new:
                f.write(",".join(self.FIELDS) + "\n")
            f.write(",".join(str(row[k]) for k in self.FIELDS) + "\n")
        for key in ("accuracy", "error_recovery", "mean_steps"):
            self.logger.record(f"curve/{key}", row[key])


class EpisodeStats(BaseCallback):
    """Logs ``rollout/accuracy`` and ``rollout/truncated_rate`` over the last 100 episodes."""

    def __init__(self, window: int = 100) -> None:
        super().__init__()
        self.correct: deque[float] = deque(maxlen=window)
        self.truncated: deque[float] = deque(maxlen=window)

    def _on_step(self) -> bool:
        for done, info in zip(self.locals["dones"], self.locals["infos"]):
            if done:
                self.correct.append(float(info.get("is_correct", False)))
                self.truncated.append(float(info.get("TimeLimit.truncated", False)))
        if self.correct:
            self.logger.record("rollout/accuracy", float(np.mean(self.correct)))
            self.logger.record("rollout/truncated_rate", float(np.mean(self.truncated)))
        return True


# --------------------------------------------------------------------------------------------
# Training and evaluation
# --------------------------------------------------------------------------------------------


def learn(
    model: BaseAlgorithm,
    run: Run,
    args: RunArgs,
    callbacks: Sequence[BaseCallback] = (),
) -> BaseAlgorithm:
    """Train until ``model.num_timesteps`` reaches ``args.total_timesteps`` (a resumed model
    continues: ``reset_num_timesteps=False``). Ctrl-C saves a checkpoint first, then re-raises."""
    remaining = args.total_timesteps - model.num_timesteps
    if remaining <= 0:
        print(f"{run.dir}: already trained for {model.num_timesteps} steps (--total-timesteps {args.total_timesteps})")
        return model
    cbs: list[BaseCallback] = [EpisodeStats(), *callbacks]
    if args.curve_freq:
        env_id, env_kwargs = eval_env_of(args)
        cbs.append(
            LearningCurve(
                run.dir / "curve.csv", env_id, env_kwargs, args.curve_freq, args.curve_episodes, args.curve_seed
            )
        )
    if (ckpt := run.checkpoint_callback(args)) is not None:
        cbs.append(ckpt)
    t0 = time.perf_counter()
    start = model.num_timesteps
    try:
        model.learn(
            total_timesteps=remaining,
            callback=cbs,
            reset_num_timesteps=False,
            progress_bar=args.progress_bar,
        )
    except KeyboardInterrupt:
        path = run.save_checkpoint(model)
        print(f"\ninterrupted at {model.num_timesteps} steps: saved {path}; run the same command to resume")
        model.logger.close()
        raise
    except BaseException:
        model.logger.close()  # flush and close the CSV / TensorBoard files of a crashed run
        raise
    elapsed = time.perf_counter() - t0
    print(
        f"trained {model.num_timesteps - start} steps in {elapsed:.0f} s "
        f"({(model.num_timesteps - start) / max(elapsed, 1e-9):,.0f} steps/s); total {model.num_timesteps}"
    )
    return model


def evaluate_run(
    run: Run, args: RunArgs, model_path: Path, name: str, logger: Logger | None = None
) -> list[EvalReport]:
    """Evaluate ``model_path`` exactly as ``r1gym eval ENV --agent sb3:PATH`` would, beside the
    baselines, on ``args.eval_episodes`` episodes from ``args.eval_seed``; print a table and
    write ``eval.json``."""
    if args.eval_episodes == 0:
        return []
    env_id, env_kwargs = eval_env_of(args)
    agent = resolve_agent(f"sb3:{model_path}")
    agent.name = name
    agents = [agent] + [resolve_agent(b, seed=args.eval_seed) for b in args.eval_baselines.split(",") if b.strip()]
    reports = [evaluate(a, env_id, episodes=args.eval_episodes, seed=args.eval_seed, **env_kwargs) for a in agents]
    print(format_table(reports))
    out = {
        "env_id": env_id,
        "train_env_id": args.env_id,
        "env_kwargs": env_kwargs,
        "episodes": args.eval_episodes,
        "seed": args.eval_seed,
        "model": str(model_path),
        "num_timesteps": int(getattr(agent.model, "num_timesteps", 0)),
        "reports": [_json_safe(r.to_dict()) for r in reports],
    }
    (run.dir / "eval.json").write_text(json.dumps(out, indent=2) + "\n")
    if logger is not None:
        r = reports[0]
        for key in ("accuracy", "error_recovery", "mean_steps", "mean_reward", "truncated_rate"):
            logger.record(f"eval/{key}", getattr(r, key))
        logger.dump(out["num_timesteps"])
    return reports


def _json_safe(value: Any) -> Any:
    """NaN -> None, recursively (JSON has no NaN)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value
