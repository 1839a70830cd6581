"""The ``r1gym`` command: ``list``, ``play``, ``eval``, ``demo``, ``serve``, ``export``, ``view``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import TextIO

import gymnasium as gym

from r1gym._version import __version__
from r1gym.baselines import BacktrackAgent, GreedyAgent, RandomAgent
from r1gym.envs import ENV_IDS
from r1gym.errors import DataError, SandboxUnavailableError
from r1gym.evaluation import EvalReport, evaluate

#: What a user can cause when an environment is built: a dataset that is missing (GSM8K without
#: data: FileNotFoundError or ImportError) or corrupt (DataError). Its message is the whole output.
DATA_ERRORS = (FileNotFoundError, ImportError, DataError)


def user_error(message: object) -> int:
    """Print ``message`` (one or two sentences, no traceback) on stderr; the exit status 2."""
    print(f"r1gym: {message}", file=sys.stderr)
    return 2


def check_output_path(option: str, path: str | None) -> str | None:
    """Why ``path`` cannot be written (its folder is missing or not writable), or None."""
    if path is None:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        return f"{option} {path} is a folder; give the path of a file to write"
    if not os.path.isdir(folder):
        return f"{option} {path}: the folder {folder} does not exist; create it or choose another path"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{option} {path}: the folder {folder} is not writable; choose another path"
    return None


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    width = max(len(i) for i in ENV_IDS)
    for env_id, (_, doc) in ENV_IDS.items():
        print(f"{env_id.ljust(width)}  {doc}", file=out)
    return 0


PLAY_HELP = """Actions: a candidate's number expands it; b backtracks; s submits the answer of the path;
h shows this help; q quits. The confidences are the proposer's: a flat row after a step is the
hint that the step was wrong."""


def cmd_play(args: argparse.Namespace, out: TextIO, inp: TextIO) -> int:
    try:
        env = gym.make(args.env_id, difficulty=args.difficulty, render_mode="ansi")
    except DATA_ERRORS as e:
        return user_error(e)
    options = {"problem_index": args.problem_index} if args.problem_index is not None else None
    try:
        obs, info = env.reset(seed=args.seed, options=options)
    except ValueError as e:  # --problem-index out of range (and DataError: a bad line of the data)
        return user_error(str(e).replace("problem_index", "--problem-index", 1))
    k = env.unwrapped.num_candidates
    print(PLAY_HELP, file=out)
    while True:
        print("\n" + env.render(), file=out)
        print("action> ", end="", file=out, flush=True)
        line = inp.readline()
        if not line:
            print("\n(end of input)", file=out)
            return 0
        cmd = line.strip().lower()
        if cmd in ("q", "quit", "exit"):
            return 0
        if cmd in ("h", "help", "?"):
            print(PLAY_HELP, file=out)
            continue
        action = {"b": k, "s": k + 1}.get(cmd)
        if action is None:
            try:
                action = int(cmd)
            except ValueError:
                print(f"'{cmd}' is not an action. {PLAY_HELP}", file=out)
                continue
        if action not in env.unwrapped.valid_actions():
            print(f"action {action} is not allowed here; allowed: {env.unwrapped.valid_actions()}", file=out)
            continue
        try:
            obs, reward, terminated, truncated, info = env.step(action)
        except SandboxUnavailableError as e:  # R1Code-v0's tests cannot run isolated on this machine
            return user_error(e)
        if terminated or truncated:
            print("\n" + env.render(), file=out)
            if terminated:
                verdict = "correct" if info["is_correct"] else "wrong"
                terms = ", ".join(f"{k2} {v:.2f}" for k2, v in info["reward_terms"].items())
                print(
                    f"\nYou answered {info['answer'] or '(nothing)'}; the reference is {info['reference']}: "
                    f"{verdict}. Reward {reward:.3f} ({terms}).",
                    file=out,
                )
            else:
                print("\nThe step limit ended the episode: no reward.", file=out)
            print("Reference solution:", file=out)
            for i, s in enumerate(env.unwrapped.problem.steps, 1):
                print(f"  {i}. {s}", file=out)
            return 0


#: Fewer demo episodes where every submit runs a subprocess (the code sandbox, about 30 ms).
DEMO_EPISODE_CAPS = {"R1Code-v0": 40, "R1Curriculum-v0": 100}


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    console = Console(file=out, width=None if getattr(out, "isatty", lambda: False)() else 120)
    agents = [("random", lambda: RandomAgent(args.seed)), ("greedy", GreedyAgent), ("backtrack", BacktrackAgent)]
    reports: list[EvalReport] = []
    skipped: list[str] = []
    t0 = time.perf_counter()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("demo", total=len(ENV_IDS) * len(agents))
        for env_id in ENV_IDS:
            try:
                probe = gym.make(env_id)
            except (FileNotFoundError, ImportError) as e:  # a dataset that is not on this machine
                skipped.append(f"{env_id} skipped: {str(e).split(';')[0]}")
                progress.advance(task, len(agents))
                continue
            if getattr(probe.unwrapped, "action_mode", "menu") == "write":  # R1Open-v0: no candidates to pick
                skipped.append(
                    f"{env_id} skipped: it is played in write mode (the agent writes its steps), which the menu "
                    "baselines cannot do; see docs/write.md"
                )
                progress.advance(task, len(agents))
                continue
            episodes = min(args.episodes, DEMO_EPISODE_CAPS.get(env_id, args.episodes))
            done: list[EvalReport] = []
            try:
                for name, make in agents:
                    progress.update(task, description=f"{name} on {env_id}")
                    done.append(evaluate(make(), env_id, episodes=episodes, seed=args.seed, difficulty=args.difficulty))
                    progress.advance(task)
            except SandboxUnavailableError as e:  # code is judged only where it can run isolated
                skipped.append(f"{env_id} skipped: {str(e).splitlines()[0]}")
                progress.advance(task, len(agents) - len(done))
                continue
            reports.extend(done)
    table = Table(title=f"r1gym demo: seed {args.seed}, difficulty {args.difficulty}")
    for col in ("env", "agent", "episodes", "accuracy", "mean steps", "error recovery", "mean reward", "decisions/s"):
        table.add_column(col, justify="left" if col in ("env", "agent") else "right")
    for r in reports:
        row = r.row()
        acc = f"{r.accuracy:.2f}"
        table.add_row(
            row["env"],
            row["agent"],
            row["episodes"],
            acc,
            row["mean steps"],
            row["error recovery"],
            row["mean reward"],
            row["decisions/s"],
        )
    console.print(table)
    for line in skipped:
        console.print(line, markup=False)  # a reason may hold brackets: pip install 'r1gym[open]'
    console.print(
        f"Done in {time.perf_counter() - t0:.1f} s. Greedy follows the confidence; backtrack also backs up "
        "when confidence goes flat, the sign of an earlier wrong step. Play one yourself: r1gym play R1Math-v0"
    )
    return 0


def cmd_eval(args: argparse.Namespace, out: TextIO) -> int:
    import json

    from rich.console import Console
    from rich.table import Table

    from r1gym.agent_specs import resolve_agent
    from r1gym.evaluation import plot_reports

    unknown = [e for e in args.env_ids if e not in gym.registry]
    if unknown:
        print(f"unknown environment id(s) {unknown}; registered r1gym ids: {list(ENV_IDS)}", file=sys.stderr)
        return 2
    for option, path in (("--json", args.json), ("--plot", args.plot)):
        why = check_output_path(option, path)
        if why:
            return user_error(why)
    if args.num_envs < 1:
        return user_error(f"--num-envs must be >= 1, got {args.num_envs}")
    specs = [s for group in args.agent for s in group]
    try:
        agents = [(spec, resolve_agent(spec, seed=args.seed)) for spec in specs]
    except (ValueError, ImportError, FileNotFoundError) as e:
        print(str(e), file=sys.stderr)
        return 2
    if args.samples is not None or args.k is not None:  # pass@k: bad input said before any episode runs
        from r1gym.evaluation import check_samples

        if args.samples is None:
            return user_error("--k needs --samples N (pass@k draws k of the N attempts at each problem)")
        for spec, agent in agents:
            try:
                check_samples(agent, args.samples, args.k)
            except (TypeError, ValueError) as e:
                return user_error(f"--samples {args.samples} with agent {spec!r}: {e}")
    env_kwargs = {"difficulty": args.difficulty}
    for env_id in args.env_ids:  # a dataset that is missing or corrupt: said before any episode runs
        try:
            env = gym.make(env_id, **env_kwargs)
        except DATA_ERRORS as e:
            return user_error(e)
        k = env.unwrapped.num_candidates
        env.close()
        for _, agent in agents:  # a policy trained for another K (an LLM policy) is refused here
            if hasattr(agent, "check_num_candidates"):
                try:
                    agent.check_num_candidates(k)
                except ValueError as e:
                    return user_error(f"on {env_id}: {e}")
    reports: list[EvalReport] = []
    for env_id in args.env_ids:
        for spec, agent in agents:
            try:
                rep = evaluate(
                    agent,
                    env_id,
                    episodes=args.episodes,
                    seed=args.seed,
                    progress=True,
                    samples=args.samples,
                    ks=args.k,
                    num_envs=args.num_envs,
                    **env_kwargs,
                )
            except SandboxUnavailableError as e:  # R1Code-v0's tests cannot run isolated on this machine
                return user_error(e)
            rep.agent = spec
            reports.append(rep)
    console = Console(file=out, width=None if getattr(out, "isatty", lambda: False)() else 170)
    each = f"{args.episodes} episodes" if args.samples is None else f"{args.episodes} problems x {args.samples} samples"
    table = Table(title=f"{each} each, seed {args.seed}, difficulty {args.difficulty}")
    rows = [r.row() for r in reports]
    for col in rows[0]:
        table.add_column(col, justify="left" if col in ("env", "agent") else "right", no_wrap=True)
    for row in rows:
        table.add_row(*row.values())
    console.print(table)
    if args.samples is not None:  # the whole pass@k curve: a row per k, a column per agent and environment
        passk = Table(title=f"pass@k (unbiased estimator, 95% t interval over {args.episodes} problems)")
        passk.add_column("k", justify="right")
        for r in reports:
            passk.add_column(f"{r.agent} on {r.env_id}", justify="right", no_wrap=True)
        for k in reports[0].pass_at_k:
            passk.add_row(
                str(k),
                *(f"{r.pass_at_k[k]:.3f} [{r.pass_at_k_ci[k][0]:.3f}, {r.pass_at_k_ci[k][1]:.3f}]" for r in reports),
            )
        console.print(passk)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([r.to_dict() for r in reports], f, indent=2, allow_nan=False)
        console.print(f"wrote {args.json}")
    if args.plot:
        plot_reports(reports, args.plot)
        console.print(f"wrote {args.plot}")
    return 0


def parse_env_kwargs(pairs: Sequence[str]) -> dict:
    """``KEY=VALUE`` pairs as keyword arguments of ``gym.make``: a value is read as JSON, else kept as a string."""
    import json

    kwargs = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(
                f"environment arguments are KEY=VALUE (e.g. difficulty=hard num_candidates=6), got {pair!r}"
            )
        try:
            kwargs[key] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key] = value
    return kwargs


def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    try:
        from r1gym.integrations.server import R1Environment, check_bind, serve
    except ImportError as e:
        return user_error(f"r1gym serve needs openenv-core ({e}); install it with: pip install 'r1gym[serve]'")
    if args.env_id not in gym.registry:
        return user_error(f"unknown environment id {args.env_id!r}; registered r1gym ids: {list(ENV_IDS)}")
    try:
        env_kwargs = parse_env_kwargs(args.env_kwargs)
    except ValueError as e:
        return user_error(e)
    token = os.environ.get("R1GYM_SERVE_TOKEN") or None
    if args.token_file:
        try:
            with open(args.token_file, encoding="utf-8") as f:
                token = f.read().strip() or None
        except OSError as e:
            return user_error(f"--token-file {args.token_file}: {e.strerror}")
    why = check_bind(args.host, args.allow_remote, token)
    if why:
        return user_error(why)
    if args.max_sessions < 1:
        return user_error("--max-sessions must be at least 1")
    if args.idle_timeout is not None and args.idle_timeout <= 0:
        return user_error("--idle-timeout must be more than 0 seconds")
    try:  # the env and its arguments are checked once here, so that a mistake is said before serving
        R1Environment(args.env_id, env_kwargs).close()
    except (*DATA_ERRORS, TypeError, ValueError) as e:
        return user_error(f"{args.env_id} with {env_kwargs}: {e}")
    try:
        serve(
            args.env_id,
            env_kwargs,
            host=args.host,
            port=args.port,
            token=token,
            max_sessions=args.max_sessions,
            idle_timeout=args.idle_timeout,
            log_level=args.log_level,
            announce=lambda line: print(line, file=out, flush=True),
        )
    except OSError as e:  # the port is taken, the address is not this machine's
        return user_error(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}")
    return 0


def cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from r1gym.agent_specs import resolve_agent
    from r1gym.export import DATA_FILE, FORMATS, MANIFEST_FILE, check_out_dir, export

    if args.format not in FORMATS:
        return user_error(f"unknown --format {args.format!r}; the formats are {', '.join(FORMATS)}")
    why = check_out_dir(args.out, args.overwrite)
    if why:
        return user_error(why)
    if args.env_id not in gym.registry:
        return user_error(f"unknown environment id {args.env_id!r}; registered r1gym ids: {list(ENV_IDS)}")
    try:
        env_kwargs = parse_env_kwargs(args.env_kwargs)
    except ValueError as e:
        return user_error(e)
    if args.difficulty is not None:
        env_kwargs.setdefault("difficulty", args.difficulty)
    if "reveal" in env_kwargs:
        return user_error("export sets reveal itself (on_path is recorded); leave reveal out")
    try:  # the env and its arguments, and the agent, are checked once before any episode is played
        gym.make(args.env_id, **env_kwargs).close()
    except (*DATA_ERRORS, TypeError, ValueError) as e:
        return user_error(f"{args.env_id} with {env_kwargs}: {e}")
    try:
        agent = resolve_agent(args.agent, seed=args.seed)
    except (ValueError, ImportError, FileNotFoundError) as e:
        return user_error(e)
    console = Console(file=sys.stderr)
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"{args.agent} on {args.env_id}", total=args.episodes)
            manifest = export(
                args.env_id,
                agent,
                args.episodes,
                args.format,
                args.out,
                seed=args.seed,
                overwrite=args.overwrite,
                progress=lambda: progress.advance(task),
                agent_spec=args.agent,
                **env_kwargs,
            )
    except SandboxUnavailableError as e:  # R1Code-v0's tests cannot run isolated on this machine
        return user_error(e)
    except ValueError as e:  # an agent that does not fit the env (an LLM policy trained for another K)
        return user_error(e)
    counts = manifest["label_counts"]["steps"]
    print(
        f"wrote {manifest['rows']} {args.format} rows from {args.episodes} episodes to "
        f"{os.path.join(args.out, DATA_FILE)} (manifest {MANIFEST_FILE}); steps: "
        + ", ".join(f"{k} {v}" for k, v in counts.items()),
        file=out,
    )
    return 0


def cmd_view(args: argparse.Namespace, out: TextIO) -> int:
    from r1gym.agent_specs import resolve_agent
    from r1gym.view import record_traces, traces_from_export, write_page

    why = check_output_path("--out", args.out)
    if why:
        return user_error(why)
    if args.source is not None:
        given = (("ENV_ID", args.env_id), ("--agent", args.agent), ("--reveal", args.reveal))
        live = [option for option, value in given if value]
        if live:
            return user_error(f"--from reads episodes from an export; leave out {', '.join(live)}")
        try:
            traces = traces_from_export(args.source)
        except (OSError, ValueError) as e:
            return user_error(e)
        title = f"r1gym view: {args.source}"
    else:
        if args.env_id is None or args.agent is None:
            return user_error("give ENV_ID and --agent SPEC to play episodes, or --from EXPORT to read them")
        if args.env_id not in gym.registry:
            return user_error(f"unknown environment id {args.env_id!r}; registered r1gym ids: {list(ENV_IDS)}")
        env_kwargs = {"difficulty": args.difficulty} if args.difficulty else {}
        try:  # the env and the agent are checked before any episode is played
            gym.make(args.env_id, **env_kwargs).close()
        except (*DATA_ERRORS, TypeError, ValueError) as e:
            return user_error(f"{args.env_id}: {e}")
        try:
            agent = resolve_agent(args.agent, seed=args.seed)
        except (ValueError, ImportError, FileNotFoundError) as e:
            return user_error(e)
        try:
            traces = record_traces(
                agent, args.env_id, args.episodes, args.seed, args.reveal, args.agent, env_kwargs=env_kwargs
            )
        except SandboxUnavailableError as e:  # R1Code-v0's tests cannot run isolated on this machine
            return user_error(e)
        except ValueError as e:  # an agent that does not fit the env
            return user_error(e)
        title = f"r1gym view: {args.agent} on {args.env_id}, seed {args.seed}"
    try:
        write_page(traces, args.out, title)
    except OSError as e:
        return user_error(f"--out {args.out}: {e.strerror or e}")
    finals = [t["final"] for t in traces]
    print(
        f"wrote {args.out}: {len(traces)} episode{'s' if len(traces) != 1 else ''} "
        f"({sum(f['is_correct'] for f in finals)} correct, {sum(f['backtracks'] for f in finals)} backtracks); "
        "open it in a browser, nothing is fetched",
        file=out,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="r1gym", description="Reasoning as a reinforcement-learning problem.")
    p.add_argument("--version", action="version", version=f"r1gym {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the environment ids, a line each")
    play = sub.add_parser("play", help="play an episode in the terminal")
    play.add_argument("env_id", choices=list(ENV_IDS), metavar="ENV_ID", help=f"one of {list(ENV_IDS)}")
    play.add_argument("--seed", type=int, default=None)
    play.add_argument("--difficulty", choices=["easy", "medium", "hard"], default="medium")
    play.add_argument("--problem-index", type=int, default=None)
    ev = sub.add_parser(
        "eval",
        help="evaluate agents on environments: one comparison table",
        description="SPEC: a baseline (random, greedy, backtrack, best-first, mcts, oracle), "
        "package.module:Class, sb3:PATH (a saved stable-baselines3 model) or llm:DIR.",
    )
    ev.add_argument("env_ids", nargs="+", metavar="ENV_ID")
    ev.add_argument("--agent", nargs="+", action="append", required=True, metavar="SPEC")
    ev.add_argument("--episodes", type=int, default=100)
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--difficulty", choices=["easy", "medium", "hard"], default="medium")
    ev.add_argument(
        "--samples",
        type=int,
        default=None,
        metavar="N",
        help="play each of the --episodes problems N times (a stochastic agent) and report pass@k, k = 1..N",
    )
    ev.add_argument("--k", type=int, nargs="+", default=None, metavar="K", help="the ks of pass@k (default 1..N)")
    ev.add_argument(
        "--num-envs",
        type=int,
        default=1,
        metavar="N",
        help="play N copies of the environment at once, an LLM policy deciding them in one forward pass; with "
        "--samples, N attempts at a problem side by side (same problems); without, copy i is seeded seed + i "
        "(other problems than with 1)",
    )
    ev.add_argument("--json", metavar="PATH", help="write the reports as JSON")
    ev.add_argument("--plot", metavar="PATH", help="write a PNG bar chart of accuracy")
    demo = sub.add_parser("demo", help="seeded episodes of every environment with reference policies")
    demo.add_argument("--episodes", type=int, default=200)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--difficulty", choices=["easy", "medium", "hard"], default="medium")
    srv = sub.add_parser(
        "serve",
        help="serve an environment over OpenEnv (HTTP and WebSocket); needs r1gym[serve]",
        description="One isolated environment per WebSocket session; see docs/trainers.md. KEY=VALUE pairs are "
        "arguments of gym.make (JSON values), e.g. difficulty=hard num_candidates=6.",
    )
    srv.add_argument("env_id", metavar="ENV_ID")
    srv.add_argument("env_kwargs", nargs="*", metavar="KEY=VALUE")
    srv.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1; off loopback needs --allow-remote")
    srv.add_argument("--port", type=int, default=8000, help="default 8000; 0 takes a free port")
    srv.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host (needs a token)")
    srv.add_argument("--token-file", metavar="FILE", help="the access token (or R1GYM_SERVE_TOKEN)")
    srv.add_argument("--max-sessions", type=int, default=64, help="concurrent sessions; more are refused")
    srv.add_argument("--idle-timeout", type=float, default=300.0, help="seconds before an idle session is closed")
    srv.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"], default="warning")
    exp = sub.add_parser(
        "export",
        help="play episodes with an agent and write them as a JSONL dataset (see docs/export.md)",
        description="Formats: stepwise (TRL stepwise supervision), first-error (ProcessBench), sft (chat "
        "messages in the text protocol), tree (every node visited). KEY=VALUE pairs are arguments of gym.make "
        "(JSON values), e.g. difficulty=hard num_candidates=6. Writes DIR/data.jsonl and DIR/manifest.json.",
    )
    exp.add_argument("env_id", metavar="ENV_ID")
    exp.add_argument("env_kwargs", nargs="*", metavar="KEY=VALUE")
    exp.add_argument("--agent", required=True, metavar="SPEC", help="oracle, greedy, backtrack, random, llm:DIR, ...")
    exp.add_argument("--episodes", type=int, default=100)
    exp.add_argument("--format", required=True, metavar="F", help="stepwise, first-error, sft or tree")
    exp.add_argument("--out", required=True, metavar="DIR", help="an empty or new folder")
    exp.add_argument("--seed", type=int, default=0)
    exp.add_argument("--difficulty", choices=["easy", "medium", "hard"], default=None)
    exp.add_argument("--overwrite", action="store_true", help="write into a non-empty DIR (replaces the data)")
    vw = sub.add_parser(
        "view",
        help="write one HTML page of episodes: the tree explored, the moves, the reward (see docs/view.md)",
        description="Play episodes with an agent (ENV_ID --agent SPEC) or read a tree export (--from), and write a "
        "self-contained HTML page (nothing fetched when it is opened): the tree with every candidate and its "
        "confidence, the judge's labels, the moves in order with a slider, the reward terms.",
    )
    vw.add_argument("env_id", nargs="?", default=None, metavar="ENV_ID")
    vw.add_argument("--agent", metavar="SPEC", help="oracle, greedy, backtrack, random, best-first, llm:DIR, ...")
    vw.add_argument("--episodes", type=int, default=1)
    vw.add_argument("--seed", type=int, default=0)
    vw.add_argument("--difficulty", choices=["easy", "medium", "hard"], default=None)
    vw.add_argument("--reveal", action="store_true", help="show the oracle: the reference path, every candidate judged")
    vw.add_argument("--from", dest="source", metavar="EXPORT", help="a tree export's data.jsonl (or its folder)")
    vw.add_argument("--out", required=True, metavar="FILE.html")
    return p


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, inp: TextIO | None = None) -> int:
    out = out or sys.stdout
    inp = inp or sys.stdin
    args = build_parser().parse_args(argv)
    if args.command == "list":
        return cmd_list(args, out)
    if args.command == "play":
        return cmd_play(args, out, inp)
    if args.command == "serve":
        return cmd_serve(args, out)
    if getattr(args, "episodes", 1) < 1:
        print("--episodes must be at least 1", file=sys.stderr)
        return 2
    if args.command == "eval":
        return cmd_eval(args, out)
    if args.command == "export":
        return cmd_export(args, out)
    if args.command == "view":
        return cmd_view(args, out)
    return cmd_demo(args, out)


if __name__ == "__main__":
    raise SystemExit(main())
