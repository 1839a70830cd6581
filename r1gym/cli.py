"""The ``r1gym`` command: ``list``, ``play``, ``eval``, ``demo``, ``serve``, ``export``, ``view``."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import gymnasium as gym

from r1gym._version import __version__
from r1gym.baselines import BacktrackAgent, GreedyAgent, RandomAgent
from r1gym.envs import ENV_IDS
from r1gym.errors import DataError, SandboxUnavailableError
from r1gym.evaluation import EvalReport, evaluate

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

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

#: What --reveal adds to the screen, said under PLAY_HELP.
REVEAL_HELP = """--reveal: a star (★) marks the steps and candidates that keep the path on the reference
solution; under the candidates, the oracle's move."""

#: The step judge's labels in the replay after the end: a mark and a word as well as a colour (as
#: in r1gym view), so that the replay reads the same without colour.
LABEL_MARKS = {"correct": "✓ correct", "wrong": "✗ wrong", "neutral": "○ neutral"}

#: The rich styles of the play screen; where colour is off (not a terminal, NO_COLOR) none is printed.
PLAY_STYLES = {
    "heading": "bold",
    "path": "cyan",
    "bar": "blue",
    "reveal": "bold yellow",
    "prompt": "bold magenta",
    "reason": "dim",
    "message": "yellow",
    "correct": "bold green",
    "wrong": "bold red",
    "neutral": "yellow",
}

#: The symbols of the reward formulas (r1gym.view.FORMULAS) and the term each stands for.
REWARD_SYMBOLS = (("accuracy", "A", "α"), ("efficiency", "E", "β"), ("novelty", "N", "γ"))


def play_console(out: TextIO) -> Console:
    """The console ``r1gym play`` writes through: rich decides colour from ``out`` itself, colour
    where ``out`` is a terminal (``out.isatty()``) and NO_COLOR is unset or empty; FORCE_COLOR
    (non-empty) or TTY_COMPATIBLE=1 forces it. Text is never wrapped nor cropped (the terminal
    wraps long lines, as with ``print``), numbers are not highlighted, and the problem's text is
    not read as rich markup or emoji codes: the plain output is the characters written.

    An output whose encoding cannot write the screen's marks (★ ✓ ✗ α ...: PYTHONIOENCODING=ascii,
    a legacy code page) writes ``?`` for them instead of stopping on an error."""
    from rich.console import Console

    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        "★✓✗○×·αβγ".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        if hasattr(out, "reconfigure"):
            out.reconfigure(errors="replace")
    return Console(file=out, highlight=False, markup=False, emoji=False, soft_wrap=True)


def explain_reward(
    terms: Mapping[str, float],
    weights: Sequence[float],
    mode: str,
    reward: float,
    *,
    steps: int,
    is_correct: bool,
    partial_credit: float,
) -> list[str]:
    """The reward paid on submit, explained: each term (``info["reward_terms"]``) with its value,
    its weight and what it measures, the formula of ``mode`` (``r1gym.view.FORMULAS``) and the
    same with the numbers in, ending in ``reward``, the reward the environment returned.

    ``steps`` is ``info["steps"]`` (the actions of the episode, the submit included: the ``n`` of
    the efficiency term); the count ``c`` of the novelty term is read back from its value."""
    from r1gym.view import FORMULAS

    acc, eff, nov = (float(terms[name]) for name, _, _ in REWARD_SYMBOLS)
    earlier = max(0, round(1.0 / nov**2 - 1.0)) if nov > 0 else 0
    why = {
        "accuracy": "1: the verifier accepts the answer"
        if is_correct
        else f"a wrong answer: {partial_credit:g} × its closeness to the reference",
        "efficiency": f"1 / log2(1 + n), n = {steps} action{'s' if steps != 1 else ''} (the submit included)",
        "novelty": f"1 / sqrt(1 + c), c = {earlier} earlier submission{'s' if earlier != 1 else ''} of this path",
    }
    how = {
        "gated": "gated: efficiency and novelty are paid in proportion to accuracy",
        "additive": "additive: the report's literal formula, each term paid on its own",
    }.get(mode, mode)
    lines = [f"The reward ({how}):"]
    for (name, sym, greek), value, weight in zip(REWARD_SYMBOLS, (acc, eff, nov), weights):
        lines.append(f"  {name:<10}  {sym} = {value:.3f}   weight {greek} = {weight:g}   {why[name]}")
    formula = FORMULAS.get(mode, f"R = {mode}(A, E, N)")
    numbers = formula.split("=", 1)[1]
    for (_, sym, greek), value, weight in zip(REWARD_SYMBOLS, (acc, eff, nov), weights):
        numbers = numbers.replace(greek, f"{weight:g}").replace(sym, f"{value:.3f}")
    lines += [f"  {formula}", f"    ={numbers}", f"    = {reward:.3f}"]
    return lines


def _play_screen(
    u: Any, info: Mapping[str, Any], on_path: Mapping[tuple, bool], reveal: bool, oracle: bool = True
) -> Text:
    """The environment's own screen (``render_text()``: its plain text is unchanged) in colour;
    with ``reveal``, a star (★) in the first column of each step and candidate that keeps the path
    on the reference solution (``on_path``: ``info["on_path"]`` of the steps taken; a candidate's
    state for the candidates) and, with ``oracle``, a line with the oracle's move
    (``info["oracle_action"]``)."""
    from rich.text import Text

    lines = u.render_text().split("\n")
    node = u.current_node
    n, k = len(node.texts), u.num_candidates
    head = max(i for i, line in enumerate(lines) if line.startswith("Path"))  # steps and candidates follow it
    first = head + n + 3  # the path's header, its n steps, a blank line, "Candidates:"
    shown = min(len(node.candidates), k)
    screen = Text()
    for i, line in enumerate(lines):
        star = False
        text = Text(line)
        if i == 0 and line.startswith("Question:"):
            text.stylize(PLAY_STYLES["heading"], 0, len("Question:"))
        elif i == head or (i == first - 1 and line.startswith("Candidates")):
            text.stylize(PLAY_STYLES["heading"], 0, len(line.split(" ", 1)[0]))
        elif head < i <= head + n:  # step i - head of the path
            star = reveal and on_path.get(node.path[: i - head], False)
            text.stylize(PLAY_STYLES["path"], 2)
        elif first <= i < first + shown:  # candidate i - first
            star = reveal and bool(node.candidates[i - first].state.on_path)
            m = re.match(r"  (\[\d+\]) (\S+) (#*)", line)
            if m:
                text.stylize(PLAY_STYLES["heading"], *m.span(1))
                text.stylize(PLAY_STYLES["bar"], *m.span(3))
        if star:
            text = Text("★", PLAY_STYLES["reveal"]) + text[1:]
        screen.append_text(text)
        screen.append("\n")
    if reveal and oracle and "oracle_action" in info:
        screen.append_text(_oracle_line(u, node, on_path, int(info["oracle_action"])))
    else:
        screen.rstrip()
    return screen


def _oracle_line(u: Any, node: Any, on_path: Mapping[tuple, bool], action: int) -> Text:
    """--reveal: what the oracle would do here, and why."""
    from rich.text import Text

    k = u.num_candidates
    if action < k:
        say = f"the oracle would expand [{action}] (★), the next step of the reference solution"
    elif action == k:
        left = next((i for i in range(1, len(node.path) + 1) if not on_path.get(node.path[:i], True)), None)
        at = f" at step {left}" if left else ""
        say = f"the path left the reference solution{at}: the oracle would backtrack [{k}]"
    elif node.state.complete and node.state.on_path:
        say = f"the path is the reference solution: the oracle would submit [{k + 1}]"
    else:
        say = f"the oracle would submit [{k + 1}]"
    return Text.assemble(("--reveal: ", PLAY_STYLES["reveal"]), say)


def _replay_path(
    console: Console,
    texts: Sequence[str],
    path: tuple,
    seen: Mapping[tuple, Mapping[str, Any]],
    on_path: Mapping[tuple, bool],
    first_error: int | None,
) -> None:
    """After the end: each step of the final path with the step judge's label and reason (as
    ``info`` gave them when the step was taken; ``seen`` maps a path to them) and the first wrong
    step; with --reveal (``on_path`` filled), a star on the steps of the reference solution."""
    from rich.text import Text

    console.print()
    console.print("Your path, step by step, as the step judge labels it:", style=PLAY_STYLES["heading"])
    if not texts:
        console.print("  (empty: the path never left the question)")
    width = max(len(m) for m in LABEL_MARKS.values())
    for i, step in enumerate(texts, 1):
        rec = seen.get(path[:i], {})
        label = rec.get("label")
        star = "★" if on_path.get(path[:i]) else " "
        head = f" {i}. "
        line = Text.assemble(
            (star, PLAY_STYLES["reveal"]),
            head,
            (f"{LABEL_MARKS.get(label, f'· {label}'):<{width}}", PLAY_STYLES.get(str(label), "")),
            f"  {step}",
        )
        console.print(line)
        if rec.get("reason"):
            indent = " " * (1 + len(head) + width + 2)
            console.print(Text(f"{indent}judge: {rec['reason']}", PLAY_STYLES["reason"]))
    if first_error is not None and first_error >= 0:
        console.print(f"The first wrong step is step {first_error + 1}.")
    elif texts:
        console.print("No step is labelled wrong.")


def _allowed_text(u: Any) -> str:
    """The allowed actions as the player types them."""
    k = u.num_candidates
    valid = u.valid_actions()
    words = [str(a) for a in valid if a < k]
    words += ["b (backtrack)"] * (k in valid) + ["s (submit)"] * (k + 1 in valid)
    return ", ".join(words)


def _not_allowed(u: Any, cmd: str, action: int) -> str:
    """Why a typed action the state does not allow is refused, and what is allowed."""
    k, node = u.num_candidates, u.current_node
    if action == k:
        why = "b (backtrack) is not allowed at the question: there is no step to take back"
    elif 0 <= action < k and node.state.complete:
        why = f"candidate {action} is not allowed here: the path states its answer, submit or backtrack"
    elif 0 <= action < k:
        why = f"candidate {action} is not allowed here: this node has {len(node.candidates)} candidates"
    else:
        why = f"action {cmd} is not allowed here"
    return f"{why}; allowed: {_allowed_text(u)}"


def cmd_play(args: argparse.Namespace, out: TextIO, inp: TextIO) -> int:
    if args.seed is not None and args.seed < 0:
        return user_error(f"--seed must be 0 or more, got {args.seed}")
    try:
        # step_labels: the judge labels each step as it is taken (shown only after the end);
        # reveal: the oracle's keys in info (on_path, oracle_action), shown only with --reveal
        env = gym.make(
            args.env_id, difficulty=args.difficulty, render_mode="ansi", step_labels=True, reveal=args.reveal
        )
    except DATA_ERRORS as e:
        return user_error(e)
    if env.unwrapped.action_mode == "write":  # R1Open-v0: no menu of candidates to type a number from
        env.close()
        return user_error(
            f"{args.env_id} is played in write mode (the player writes each step), and r1gym play offers the "
            "menu only; play it from Python (docs/write.md)"
        )
    options = {"problem_index": args.problem_index} if args.problem_index is not None else None
    try:
        obs, info = env.reset(seed=args.seed, options=options)
    except ValueError as e:  # --problem-index out of range (and DataError: a bad line of the data)
        return user_error(str(e).replace("problem_index", "--problem-index", 1))
    console = play_console(out)
    try:
        return _play(env, info, console, inp, args.reveal)
    except KeyboardInterrupt:  # Ctrl-C in a classroom: a line, not a traceback
        console.print("\n(interrupted)")
        return 130
    except SandboxUnavailableError as e:  # R1Code-v0's tests cannot run isolated on this machine
        return user_error(e)
    finally:
        env.close()


def _play(env: gym.Env, info: dict[str, Any], console: Console, inp: TextIO, reveal: bool) -> int:
    """The game loop of ``r1gym play``: a screen, a typed action, until a submit, the step limit,
    q or the end of the input."""
    from rich.text import Text

    u = env.unwrapped
    k = u.num_candidates
    seen: dict[tuple, dict[str, Any]] = {}  # path -> what info said of its node when it was entered
    on_path: dict[tuple, bool] = {}  # with reveal: path -> info["on_path"] there

    def note(info: Mapping[str, Any]) -> None:
        path = tuple(info["path"])
        seen.setdefault(path, {"label": info.get("step_label"), "reason": info.get("step_reason") or ""})
        if reveal:
            on_path[path] = bool(info["on_path"])

    def say(message: str) -> None:
        console.print(message, style=PLAY_STYLES["message"])

    note(info)
    console.print(PLAY_HELP)
    if reveal:
        console.print(REVEAL_HELP)
    while True:
        console.print()
        console.print(_play_screen(u, info, on_path, reveal))
        console.print(Text("action> ", PLAY_STYLES["prompt"]), end="")
        console.file.flush()
        line = inp.readline()
        if not line:
            console.print("\n(end of input)")
            return 0
        cmd = line.strip().lower()
        if cmd in ("q", "quit", "exit"):
            return 0
        if cmd in ("h", "help", "?"):
            console.print(PLAY_HELP)
            if reveal:
                console.print(REVEAL_HELP)
            continue
        if not cmd:
            say("Type an action: a candidate's number, b, s, h (help) or q (quit).")
            continue
        action = {"b": k, "s": k + 1}.get(cmd)
        if action is None:
            try:
                action = int(cmd)
            except ValueError:
                say(f"'{cmd}' is not an action. {PLAY_HELP}")
                continue
        if action not in u.valid_actions():
            say(_not_allowed(u, cmd, action))
            continue
        obs, reward, terminated, truncated, info = env.step(action)
        note(info)
        if terminated or truncated:
            break
    console.print()
    console.print(_play_screen(u, info, on_path, reveal, oracle=False))
    if terminated:
        correct = bool(info["is_correct"])
        terms = ", ".join(f"{name} {v:.2f}" for name, v in info["reward_terms"].items())
        console.print(
            Text.assemble(
                f"\nYou answered {info['answer'] or '(nothing)'}; the reference is {info['reference']}: ",
                ("correct" if correct else "wrong", PLAY_STYLES["correct" if correct else "wrong"]),
                f". Reward {reward:.3f} ({terms}).",
            )
        )
    else:
        console.print("\nThe step limit ended the episode: no reward.")
    _replay_path(console, u.current_node.texts, tuple(info["path"]), seen, on_path, info.get("first_error"))
    console.print("Reference solution:", style=PLAY_STYLES["heading"])
    for i, s in enumerate(u.problem.steps, 1):
        console.print(f"  {i}. {s}")
    if terminated:
        lines = explain_reward(
            info["reward_terms"],
            u.reward_weights,
            u.reward_mode,
            reward,
            steps=int(info["steps"]),
            is_correct=bool(info["is_correct"]),
            partial_credit=u.partial_credit,
        )
        console.print()
        console.print(lines[0], style=PLAY_STYLES["heading"])
        for line in lines[1:-1]:
            console.print(line)
        console.print(lines[-1], style=PLAY_STYLES["heading"])
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
    play = sub.add_parser(
        "play",
        help="play an episode in the terminal",
        description="Play one episode: type a candidate's number to expand it, b to backtrack, s to submit, "
        "h for help, q to quit. After the end: your path replayed with the step judge's label of each step, the "
        "reference solution, and the reward explained term by term (each term, its weight, the formula with the "
        "numbers in). Colour where the output is a terminal; NO_COLOR=1 turns it off, FORCE_COLOR=1 forces it. "
        "See README.md, 'r1gym play, for a classroom'.",
    )
    play.add_argument("env_id", choices=list(ENV_IDS), metavar="ENV_ID", help=f"one of {list(ENV_IDS)}")
    play.add_argument("--seed", type=int, default=None, help="0 or more: the same seed, the same episode")
    play.add_argument("--difficulty", choices=["easy", "medium", "hard"], default="medium")
    play.add_argument("--problem-index", type=int, default=None, help="play this problem of the task")
    play.add_argument(
        "--reveal",
        action="store_true",
        help="show the oracle while playing (for a teacher): a star marks the steps and candidates that keep the "
        "path on the reference solution, and each screen says the oracle's move. Off by default: then nothing of "
        "the reference is shown before the end.",
    )
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
