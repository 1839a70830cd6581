"""A stable-baselines3 run, shared by ``agents/ppo.py``, ``ppo_mask.py`` and ``dqn_per.py``.

:func:`train` is the whole run around an algorithm: resume from the newest checkpoint of
``--out`` or build a fresh model (the script's ``new_model``), train to ``--total-timesteps``,
save ``model.zip``, evaluate it beside the baselines. What a run folder holds:

* ``args.json``; ``checkpoints/model_<N>_steps.zip`` every ``--checkpoint-freq`` steps and at the
  end (with ``model_replay_buffer_<N>_steps.pkl`` for off-policy algorithms, the newest only);
  Ctrl-C saves one where it stopped. An on-policy algorithm (PPO, MaskablePPO) checkpoints at
  rollout boundaries only, after the rollout's update: the interval is rounded up to a multiple
  of the rollout size ``n_steps * n_envs``, and Ctrl-C saves the last boundary's step count, so
  that a resumed run collects the same whole rollouts as an uninterrupted one and ends at the
  same step count;
* ``model.zip``, ``progress.csv`` (``progress_from_<N>.csv`` after a resume), ``tb/``
  (TensorBoard, when installed), ``curve.csv`` (``--curve-freq``) and ``eval.json``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import time
import zipfile
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback
from stable_baselines3.common.logger import CSVOutputFormat, HumanOutputFormat, KVWriter, Logger
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from r1gym.agent_specs import SB3Agent
from r1gym.evaluation import EvalReport, evaluate
from r1gym.training.args import SB3Args, env_kwargs_of, eval_env_of
from r1gym.training.evaluation import baselines, final_evaluation
from r1gym.training.runs import start_run

__all__ = ["Checkpoint", "EpisodeStats", "RolloutCheckpoints", "LearningCurve", "Run", "learn", "make_vec_env", "train"]

M = TypeVar("M", bound=BaseAlgorithm)


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def train(
    args: SB3Args,
    name: str,
    algo: type[M],
    new_model: Callable[[VecEnv], M],
    callbacks: Sequence[BaseCallback] = (),
) -> M:
    """Run ``algo`` as the arguments say, and return the trained model.

    Args:
        args: the parsed arguments.
        name: the algorithm's name in messages and in the evaluation table (``"ppo_mask"``).
        algo: its class, which loads a checkpoint (``algo.load``) to resume.
        new_model: builds a fresh model on the vector environment (the script's hyperparameters).
        callbacks: more SB3 callbacks for ``model.learn``.

    A resumed run reseeds its environments with ``seed + steps`` so that it does not replay the
    episodes it has seen, and an off-policy model gets its replay buffer back.
    """
    torch.set_num_threads(args.torch_threads)
    run = Run(args)
    ckpt = run.latest
    env = make_vec_env(args, seed=args.seed + (ckpt.steps if ckpt else 0))
    if ckpt is None:
        model = new_model(env)
    else:
        print(f"resuming from {ckpt.model} ({ckpt.steps} steps)")
        model = algo.load(ckpt.model, env=env, device="cpu")
        if hasattr(model, "replay_buffer"):
            if ckpt.replay_buffer is not None:
                model.load_replay_buffer(ckpt.replay_buffer)  # type: ignore[attr-defined]
                size = model.replay_buffer.size()  # type: ignore[attr-defined]
                print(f"resuming with the replay buffer {ckpt.replay_buffer} ({size} slots)")
            else:
                print(f"no replay buffer beside {ckpt.model}: resuming with an empty one")
    logger = run.logger(model, args.verbose)
    model.set_logger(logger)

    learn(model, run, args, callbacks)
    path = run.save_final(model)
    env.close()
    print(f"saved {path}: r1gym eval {args.env_id} --agent sb3:{path}")
    evaluate_run(run, args, path, name=f"{name} ({model.num_timesteps:,} steps)", logger=logger)
    logger.close()
    return model


def make_env(env_id: str, env_kwargs: dict[str, Any]) -> Callable[[], gym.Env]:
    """A thunk that makes one monitored copy of the environment (episode return and length)."""

    def thunk() -> gym.Env:
        return Monitor(gym.make(env_id, **env_kwargs))

    return thunk


def make_vec_env(args: SB3Args, seed: int) -> VecEnv:
    """``args.n_envs`` copies; copy i is seeded with ``seed + i`` at its first reset.

    (Not ``stable_baselines3.common.env_util.make_vec_env``: it passes ``render_mode="rgb_array"``,
    which would draw every copy's tree with Pillow for nothing.) MaskablePPO finds
    ``action_masks()`` through the wrappers by ``env_method``, which Gymnasium 1.x resolves with
    ``get_wrapper_attr``.
    """
    thunks = [make_env(args.env_id, env_kwargs_of(args)) for _ in range(args.n_envs)]
    venv: VecEnv = SubprocVecEnv(thunks) if args.vec_env == "subproc" else DummyVecEnv(thunks)
    venv.seed(seed)
    return venv


_CHECKPOINT = re.compile(r"^model_(\d+)_steps\.zip$")


@dataclass
class Checkpoint:
    """A saved model (and, for off-policy algorithms, its replay buffer) at ``steps``."""

    steps: int
    model: Path
    replay_buffer: Path | None


class Run:
    """The run directory ``--out`` of an SB3 run: where it writes, and where a resumed run reads.

    Creating it makes the folder, writes ``args.json`` and finds the newest checkpoint
    (:attr:`latest`, None for a fresh run); ``parse_args`` has checked that a resumed run's
    arguments are the ones it started with.
    """

    def __init__(self, args: SB3Args) -> None:
        self.args = args
        self.dir = start_run(args)
        self.checkpoints = self.dir / "checkpoints"
        self.checkpoints.mkdir(exist_ok=True)
        self.latest = self.latest_checkpoint()

    def latest_checkpoint(self) -> Checkpoint | None:
        """The complete checkpoint with the most steps, or None for a fresh run.

        A damaged one (truncated by a full disk or a copy cut short) is reported in one line and
        passed over for the one before it."""
        found = [(int(m.group(1)), p) for p in self.checkpoints.iterdir() if (m := _CHECKPOINT.match(p.name))]
        for steps, model in sorted(found, reverse=True):
            why = damaged_checkpoint(model)
            if why is not None:
                then = "using the one before it" if steps != min(found)[0] else "none is left: starting afresh"
                print(f"checkpoint {model} is damaged ({why}); {then}")
                continue
            buffer = self.checkpoints / f"model_replay_buffer_{steps}_steps.pkl"
            return Checkpoint(steps, model, buffer if buffer.exists() else None)
        return None

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

    def checkpoint_callback(self, model: BaseAlgorithm) -> BaseCallback | None:
        """Saves every ``--checkpoint-freq`` steps (counted over all copies); None for 0.

        An on-policy ``model`` saves at rollout boundaries only (:class:`RolloutCheckpoints`: the
        interval rounded up to a multiple of ``n_steps * n_envs``); an off-policy one every
        ``--checkpoint-freq // n_envs`` calls of the environments (:class:`Checkpoints`)."""
        if self.args.checkpoint_freq == 0:
            return None
        if isinstance(model, OnPolicyAlgorithm):
            return RolloutCheckpoints(rollout_interval(self.args.checkpoint_freq, model), self.checkpoints)
        return Checkpoints(max(self.args.checkpoint_freq // self.args.n_envs, 1), str(self.checkpoints))

    def save_checkpoint(self, model: BaseAlgorithm) -> Path:
        return save_checkpoint(model, self.checkpoints)

    def save_final(self, model: BaseAlgorithm) -> Path:
        """A last checkpoint (so that a longer run can resume from here) and ``model.zip``."""
        self.save_checkpoint(model)
        path = self.dir / "model.zip"
        tmp = self.dir / "model.tmp.zip"
        model.save(tmp)
        _replace_durably(tmp, path)
        return path


def damaged_checkpoint(path: Path) -> str | None:
    """Why the SB3 model file ``path`` cannot be loaded (not a whole zip archive, a bad entry, no
    ``data``), or None when it reads back whole."""
    try:
        with zipfile.ZipFile(path) as z:
            if "data" not in z.namelist():
                return "no 'data' entry: not a stable-baselines3 model"
            bad = z.testzip()
            if bad is not None:
                return f"entry {bad!r} fails its checksum"
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        return f"not a whole zip archive, truncated? ({e})"
    return None


def _replace_durably(tmp: Path, path: Path) -> None:
    """Move the finished ``tmp`` to ``path`` once its bytes are on disk: a crash leaves the old
    file or the new one, never a part of one."""
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # a folder that cannot be opened (not POSIX): the rename stands
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_checkpoint(model: BaseAlgorithm, folder: Path) -> Path:
    """Save ``model_<steps>_steps.zip`` (and its replay buffer) atomically: each is written under
    a temporary name, synced and renamed; keep one replay buffer."""
    steps = model.num_timesteps
    path = folder / f"model_{steps}_steps.zip"
    buffer = getattr(model, "replay_buffer", None)
    if buffer is not None:
        # The buffer first: a model file is what marks a checkpoint as complete.
        bpath = folder / f"model_replay_buffer_{steps}_steps.pkl"
        tmp = folder / f".model_replay_buffer_{steps}_steps.tmp.pkl"
        model.save_replay_buffer(tmp)  # type: ignore[attr-defined]
        _replace_durably(tmp, bpath)
    tmp = folder / f".model_{steps}_steps.tmp.zip"
    model.save(tmp)
    _replace_durably(tmp, path)
    if buffer is not None:  # a replay buffer can take hundreds of MB: keep only the newest
        for old in folder.glob("model_replay_buffer_*_steps.pkl"):
            if old.name != f"model_replay_buffer_{steps}_steps.pkl":
                old.unlink()
    return path


# --------------------------------------------------------------------------------------------
# Callbacks
# --------------------------------------------------------------------------------------------


class Checkpoints(CheckpointCallback):
    """SB3's CheckpointCallback with atomic writes and only the newest replay buffer kept."""

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0:
            save_checkpoint(self.model, Path(self.save_path))
        return True


def rollout_size(model: OnPolicyAlgorithm) -> int:
    """The steps of one rollout of an on-policy model: ``n_steps`` over all its environment copies."""
    return model.n_steps * model.n_envs


def rollout_interval(freq: int, model: OnPolicyAlgorithm) -> int:
    """``freq`` steps rounded up to a whole number of rollouts (``--checkpoint-freq 200`` with
    rollouts of 32 steps: 224)."""
    size = rollout_size(model)
    return -(-freq // size) * size


class RolloutCheckpoints(BaseCallback):
    """The checkpoints of an on-policy algorithm: at rollout boundaries only, every ``interval``
    steps (a multiple of the rollout size, :func:`rollout_interval`; None: none, the boundaries
    are only tracked).

    A checkpoint is saved as the next rollout starts, after the update on the previous one: the
    model file holds the weights trained on every one of its ``num_timesteps`` steps, and a run
    resumed from it collects the same whole rollouts as an uninterrupted run, to the same end. (A
    checkpoint from ``_on_step`` would be saved before the update, and one in the middle of a
    rollout would make the resumed run collect whole rollouts from there and overshoot
    ``--total-timesteps``.) The final checkpoint is ``Run.save_final``'s.

    :attr:`boundary` is the step count of the last boundary, where a Ctrl-C saves (:func:`learn`).
    """

    def __init__(self, interval: int | None, folder: Path) -> None:
        super().__init__()
        self.interval, self.folder = interval, folder
        self.next_at: int | None = None
        self.boundary = 0

    def _on_training_start(self) -> None:
        done = self.model.num_timesteps
        self.boundary = done
        if self.interval is not None:
            self.next_at = (done // self.interval + 1) * self.interval

    def _on_rollout_start(self) -> None:
        steps = self.model.num_timesteps
        self.boundary = steps
        if self.interval is not None and self.next_at is not None and steps >= self.next_at:
            save_checkpoint(self.model, self.folder)
            self.next_at = (steps // self.interval + 1) * self.interval

    def _on_rollout_end(self) -> None:
        # The update on this rollout starts: its steps count from here (a Ctrl-C in the update
        # saves the weights as they are, with the rollout's steps).
        self.boundary = self.model.num_timesteps

    def _on_step(self) -> bool:
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


def learn(model: M, run: Run, args: SB3Args, callbacks: Sequence[BaseCallback] = ()) -> M:
    """Train until ``model.num_timesteps`` reaches ``args.total_timesteps`` (a resumed model
    continues: ``reset_num_timesteps=False``). Ctrl-C saves a checkpoint first, then re-raises; an
    on-policy run's is at the last rollout boundary (a rollout cut short is collected again)."""
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
    ckpt = run.checkpoint_callback(model)
    if ckpt is not None:
        cbs.append(ckpt)
    # An on-policy run's Ctrl-C saves at the last rollout boundary, with --checkpoint-freq 0 too
    boundaries = ckpt if isinstance(ckpt, RolloutCheckpoints) else None
    if boundaries is None and isinstance(model, OnPolicyAlgorithm):
        boundaries = RolloutCheckpoints(None, run.checkpoints)
        cbs.append(boundaries)
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
        stopped = model.num_timesteps
        if boundaries is not None:
            # the steps of a rollout cut short were never learned from: the resumed run collects it again
            model.num_timesteps = boundaries.boundary
        path = run.save_checkpoint(model)
        print(
            f"\ninterrupted at {stopped} steps: saved {path} ({model.num_timesteps} steps); "
            "run the same command to resume"
        )
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
    run: Run, args: SB3Args, model_path: Path, name: str, logger: Logger | None = None
) -> list[EvalReport]:
    """Evaluate ``model_path`` exactly as ``r1gym eval ENV --agent sb3:PATH`` would, beside
    ``--eval-baselines``, on ``--eval-episodes`` episodes from ``--eval-seed``; print a table,
    write ``eval.json``, and log the model's figures as ``eval/*``."""
    if args.eval_episodes == 0:
        return []
    env_id, env_kwargs = eval_env_of(args)
    agent = SB3Agent.load(str(model_path))
    agent.name = name
    steps = int(getattr(agent.model, "num_timesteps", 0))
    reports = final_evaluation(
        [agent, *baselines(args.eval_baselines, seed=args.eval_seed)],
        env_id,
        env_kwargs,
        args.eval_episodes,
        args.eval_seed,
        run.dir / "eval.json",
        train_env_id=args.env_id,
        model=str(model_path),
        num_timesteps=steps,
    )
    if logger is not None:
        r = reports[0]
        for key in ("accuracy", "error_recovery", "mean_steps", "mean_reward", "truncated_rate"):
            logger.record(f"eval/{key}", getattr(r, key))
        logger.dump(steps)
    return reports
