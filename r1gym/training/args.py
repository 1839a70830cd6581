"""The training scripts' arguments: dataclasses parsed by tyro, with ``--config FILE`` defaults.

A script declares ``@dataclass class Args(SB3Args)`` (or ``Args(RunArgs)``) with its
hyperparameters, a docstring under each field, and calls :func:`parse_args`. tyro turns every
field into ``--field-name`` (``--field_name`` is accepted too: the spelling the ``deepspeed``
launcher uses for ``--local_rank``), a bool into ``--flag`` / ``--no-flag``, and the docstrings
into ``--help``. ``--config FILE`` (TOML or JSON; a path, or a name in the script's
``configs/`` folder) gives the values tyro starts from, so flags on the command line win.

Errors in what the user wrote end the program with status 2 and a message, never a traceback:
tyro reports a flag it does not know or a value it cannot read; :func:`parse_args` reports a
config file it cannot use or a value the script refuses (``validate``), on one line.
"""

from __future__ import annotations

import json
import os
import sys
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from r1gym.training.runs import check_same_arguments, holds_checkpoints

__all__ = [
    "RunArgs",
    "SB3Args",
    "env_kwargs_of",
    "eval_env_of",
    "json_object",
    "load_config",
    "net_arch",
    "parse_args",
]


@dataclass
class RunArgs:
    """The arguments every training script takes: environment, seed, run folder, final evaluation."""

    env_id: str = "R1Math-v0"
    """the environment id"""
    difficulty: str | None = None
    """the environment's difficulty preset (easy, medium, hard); the environment's default if unset"""
    env_kwargs: str = "{}"
    """more keyword arguments of gym.make, as a JSON object, e.g. '{"reward_mode": "additive"}'"""
    seed: int = 1
    """seed of the model, the environments, the sampling and the replay"""
    out: str | None = None
    """the run directory; the same --out resumes. Default: runs/<script>-<env-id>-s<seed>"""
    config: str | None = None
    """a TOML or JSON file of argument defaults (a path, or a name in agents/configs/); flags override it"""
    eval_episodes: int = 200
    """episodes of the final evaluation, the trained policy beside the baselines (0: skip it)"""
    eval_seed: int = 10_000
    """seed of the final evaluation, away from the training seeds"""
    progress_bar: bool = True
    """show a progress bar"""
    torch_threads: int = 1
    """torch CPU threads per process (small networks train fastest on one)"""

    #: fields that may change between a run and its resumption; any other difference is an error
    RESUMABLE: ClassVar[frozenset[str]] = frozenset(
        {"out", "config", "eval_episodes", "eval_seed", "progress_bar", "torch_threads"}
    )

    def validate(self) -> None:
        """Raise ValueError (or TypeError) naming the flag whose value would fail later."""
        if self.seed < 0:
            raise ValueError(f"--seed must be >= 0 (seeds are non-negative integers), got {self.seed}")
        if self.eval_episodes < 0:
            raise ValueError(f"--eval-episodes must be >= 0, got {self.eval_episodes}")
        if self.torch_threads < 1:
            raise ValueError(f"--torch-threads must be >= 1, got {self.torch_threads}")
        env_kwargs_of(self)


@dataclass
class SB3Args(RunArgs):
    """The arguments of a stable-baselines3 run: vector environments, a budget in steps,
    checkpoints, a learning curve, the evaluation environment."""

    num_candidates: int | None = None
    """K, the candidates per node; the preset's if unset"""
    n_envs: int = 4
    """environment copies stepped together"""
    vec_env: str = "dummy"
    """how the copies run: dummy (one process) or subproc (one process each)"""
    total_timesteps: int = 200_000
    """environment steps to train for, counted over all copies and across resumed runs"""
    checkpoint_freq: int = 10_000
    """save a checkpoint every this many environment steps (0: only at the end); PPO and MaskablePPO
    save at rollout boundaries only, after the rollout's update: every this many steps rounded up to a
    multiple of n_steps * n_envs"""
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
    verbose: int = 0
    """1: also print SB3's table of logged values"""

    RESUMABLE: ClassVar[frozenset[str]] = RunArgs.RESUMABLE | {
        "total_timesteps",
        "checkpoint_freq",
        "eval_baselines",
        "eval_env_id",
        "eval_env_kwargs",
        "curve_freq",
        "verbose",
        "vec_env",
    }

    def validate(self) -> None:
        super().validate()
        if self.total_timesteps < 1:
            raise ValueError(f"--total-timesteps must be >= 1, got {self.total_timesteps}")
        if self.n_envs < 1:
            raise ValueError(f"--n-envs must be >= 1, got {self.n_envs}")
        if self.checkpoint_freq < 0:
            raise ValueError(f"--checkpoint-freq must be >= 0, got {self.checkpoint_freq}")
        if self.vec_env not in ("dummy", "subproc"):
            raise ValueError(f"--vec-env must be dummy or subproc, got {self.vec_env!r}")
        if self.curve_freq < 0 or self.curve_episodes < 1:
            raise ValueError(
                f"--curve-freq must be >= 0 and --curve-episodes >= 1, got {self.curve_freq}, {self.curve_episodes}"
            )
        eval_env_of(self)


@dataclass
class PPOArgs(SB3Args):
    """PPO's hyperparameters (stable-baselines3's names) and the run's (:class:`SB3Args`): the
    arguments of ``agents/ppo.py`` and ``agents/ppo_mask.py``, which differ only in the mask."""

    learning_rate: float = 3e-4
    """Adam step size"""
    n_steps: int = 256
    """steps per environment copy in each rollout (a rollout is n_steps * n_envs transitions)"""
    batch_size: int = 256
    """minibatch size of each gradient step"""
    n_epochs: int = 10
    """passes over each rollout"""
    gamma: float = 0.99
    """discount factor"""
    gae_lambda: float = 0.95
    """lambda of generalized advantage estimation"""
    clip_range: float = 0.2
    """PPO's clipping of the probability ratio"""
    ent_coef: float = 0.01
    """entropy bonus: keeps the policy exploring (backtracking pays only after a few tries)"""
    vf_coef: float = 0.5
    """weight of the value loss"""
    max_grad_norm: float = 0.5
    """gradient norm clip"""
    net_arch: str = "128,128"
    """hidden layers of the policy and value networks, comma-separated"""

    def validate(self) -> None:
        super().validate()
        net_arch(self.net_arch)

    def model_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``PPO(...)`` / ``MaskablePPO(...)`` after the policy and env."""
        return {
            "learning_rate": self.learning_rate,
            "n_steps": self.n_steps,
            "batch_size": self.batch_size,
            "n_epochs": self.n_epochs,
            "gamma": self.gamma,
            "gae_lambda": self.gae_lambda,
            "clip_range": self.clip_range,
            "ent_coef": self.ent_coef,
            "vf_coef": self.vf_coef,
            "max_grad_norm": self.max_grad_norm,
            "policy_kwargs": {"net_arch": net_arch(self.net_arch)},
            "seed": self.seed,
            "device": "cpu",
        }


def json_object(text: str, flag: str) -> dict[str, Any]:
    """A flag's JSON object (``'{"reward_mode": "additive"}'``), or an error naming the flag."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{flag} must be a JSON object, got {text!r} ({e})") from None
    if not isinstance(value, dict):
        raise TypeError(f"{flag} must be a JSON object, got {text!r}")
    return value


def env_kwargs_of(args: RunArgs) -> dict[str, Any]:
    """gym.make keyword arguments: ``--env-kwargs`` JSON, then ``--difficulty`` and (an
    :class:`SB3Args`) ``--num-candidates``."""
    kwargs = json_object(args.env_kwargs, "--env-kwargs")
    if "reveal" in kwargs:
        raise ValueError("--env-kwargs: reveal would show the agent the answer key; it is set by evaluation only")
    if args.difficulty is not None:
        kwargs["difficulty"] = args.difficulty
    if getattr(args, "num_candidates", None) is not None:
        kwargs["num_candidates"] = args.num_candidates  # type: ignore[attr-defined]
    return kwargs


def eval_env_of(args: SB3Args) -> tuple[str, dict[str, Any]]:
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
# Parsing
# --------------------------------------------------------------------------------------------

A = TypeVar("A", bound=RunArgs)


def parse_args(
    cls: type[A],
    argv: Sequence[str] | None = None,
    *,
    run_name: str | Callable[[A], str],
    configs: Path | None = None,
) -> A:
    """An instance of the ``Args`` dataclass ``cls`` from the command line (``argv``; sys.argv if None).

    Args:
        cls: a dataclass extending :class:`RunArgs`, a docstring under every field.
        argv: the arguments, without the program name.
        run_name: names the default ``--out``, ``runs/<run_name>-<env-id>-s<seed>``; a function
            of the parsed arguments where the name depends on them.
        configs: the folder where ``--config NAME`` finds ``NAME``, ``NAME.toml`` or ``NAME.json``
            when NAME is not a path (the script's ``configs/``).

    A config file's values are the defaults, flags override them. When ``--out`` holds a run's
    checkpoints (the command resumes it), the arguments must be those it started with, except
    ``cls.RESUMABLE``. An error in the file, in a value, in the combination (``cls.validate``) or
    against the run being resumed ends the program with status 2 and one line on stderr, as tyro
    does for a bad flag.
    """
    import tyro

    argv = list(sys.argv[1:] if argv is None else argv)
    module = sys.modules.get(cls.__module__)
    prog = Path(getattr(module, "__file__", None) or sys.argv[0] or "train.py").name
    description = (getattr(module, "__doc__", None) or "").strip().split("\n\n")[0] or None
    try:
        path = _config_flag(argv)
        default = cls(**config_values(cls, path, configs)) if path is not None else cls()
    except (OSError, ImportError, ValueError, TypeError) as e:
        _exit(prog, e)
    args = tyro.cli(cls, args=argv, default=default, prog=prog, description=description)
    if args.out is None:
        name = run_name(args) if callable(run_name) else run_name
        args.out = os.path.join("runs", f"{name}-{args.env_id}-s{args.seed}")
    try:
        args.validate()
        if holds_checkpoints(Path(args.out)):
            check_same_arguments(Path(args.out), asdict(args), args.RESUMABLE)
    except (ValueError, TypeError) as e:
        _exit(prog, e)
    return args


def _exit(prog: str, error: BaseException) -> typing.NoReturn:
    print(f"{prog}: error: {error}", file=sys.stderr)
    raise SystemExit(2)


def _config_flag(argv: Sequence[str]) -> str | None:
    """The value of the last ``--config X`` / ``--config=X`` in ``argv`` (tyro parses it again)."""
    found = None
    for i, token in enumerate(argv):
        if token == "--config" and i + 1 < len(argv):
            found = argv[i + 1]
        elif token.startswith("--config="):
            found = token.partition("=")[2]
    return found


def load_config(path: str, configs: Path | None = None) -> tuple[Path, dict[str, Any]]:
    """The file ``path`` names (a path, or a name in ``configs``) and its table of values, keys
    with ``_`` for ``-``."""
    p = Path(path)
    if not p.is_file() and configs is not None:
        p = next((c for c in (configs / path, configs / f"{path}.toml", configs / f"{path}.json") if c.is_file()), p)
    if not p.is_file():
        known = ", ".join(sorted(c.name for c in configs.glob("*.*"))) if configs and configs.is_dir() else "none"
        where = f" or in {configs}" if configs else ""
        raise FileNotFoundError(f"--config {path}: no such file (as a path{where}; there: {known})")
    text = p.read_text()
    if p.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"config {p}: not valid JSON ({e})") from None
    elif p.suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:
            try:
                import tomli as tomllib
            except ImportError:
                raise ImportError(f"{p}: TOML configs need Python 3.11+ or `pip install tomli`; or use JSON") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"config {p}: not valid TOML ({e})") from None
    else:
        raise ValueError(f"config {p}: expected a .toml or .json file")
    if not isinstance(data, dict):
        raise TypeError(f"config {p}: expected a table of argument values, got {type(data).__name__}")
    return p, {k.replace("-", "_"): v for k, v in data.items()}


def config_values(cls: type, path: str, configs: Path | None = None) -> dict[str, Any]:
    """The values of the config file ``path`` for the fields of ``cls``, each of its field's type.

    A number may be written as a string (``"1e-4"``), as on the command line; a table for a
    string field (``env_kwargs = { reward_mode = "additive" }``) becomes its JSON. Unknown keys,
    and values that are not of their field's type, are errors naming the file and the key.
    """
    p, data = load_config(path, configs)
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ValueError(f"config {p}: unknown argument(s) {unknown}; valid: {sorted(names)}")
    return {key: _convert(value, hints[key], f"config {p}: {key}") for key, value in data.items()}


_KIND = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def _convert(value: Any, tp: Any, where: str) -> Any:
    """``value`` as type ``tp`` (int, float, str, bool, or one of them | None)."""
    optional = False
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(options) < len(typing.get_args(tp))
        if len(options) != 1:
            raise TypeError(f"unsupported argument type {tp}")
        tp = options[0]
    if tp not in _KIND:
        raise TypeError(f"unsupported argument type {tp}: use int, float, str or bool (or X | None)")
    if value is None and optional:
        return None
    if tp is str and isinstance(value, dict):
        return json.dumps(value)
    if tp is bool or isinstance(value, bool):  # a bool is an int to Python, not to a config
        if tp is bool and isinstance(value, bool):
            return value
        raise ValueError(f"{where} must be {_KIND[tp]}, got {value!r}")
    if value is None or isinstance(value, (dict, list)):
        raise ValueError(f"{where} must be {_KIND[tp]}, got {value!r}")
    try:
        return tp(str(value))
    except ValueError:
        raise ValueError(f"{where} must be {_KIND[tp]}, got {value!r}") from None
