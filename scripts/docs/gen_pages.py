"""Generate the documentation site's reference pages at build time (the ``gen-files`` plugin).

``mkdocs build`` / ``mkdocs serve`` run this script (``mkdocs.yml``: ``plugins: gen-files``); it writes,
into the site only (nothing in ``docs/`` changes):

* ``envs/<id>.md``, one page per environment id r1gym registers with Gymnasium: the observation and
  action spaces of each mode, the keyword arguments ``gym.make`` accepts with their defaults, the
  difficulty presets, a seeded example episode played by the greedy baseline, and the measured
  figures of the reference policies where a page of ``docs/`` has them;
* ``api/<module>.md``, one page per public module, rendered from the docstrings by mkdocstrings;
* ``agents.md``, a copy of ``agents/README.md`` with its links into ``docs/`` made site-relative;
* a ``SUMMARY.md`` in ``envs/`` and ``api/`` that ``literate-nav`` turns into the navigation.

It is deterministic (seeded episodes, sorted listings) and takes a few seconds. An environment whose
optional dependency or data is missing keeps its page, with what could be written without it and a
note saying what was skipped and why; nothing is downloaded.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import gymnasium as gym
import mkdocs_gen_files
from markdown.extensions.toc import slugify

import r1gym
from r1gym.baselines import GreedyAgent, normalized_entropy
from r1gym.core.env import ReasoningEnv
from r1gym.core.protocols import TASKS
from r1gym.proposers.procedural import CONFIG_FIELDS, PRESETS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SEED = 0
DIFFICULTY = "medium"

#: Where the reference policies' measured figures for an id are: (page in docs/, start of the heading
#: of the section, whether to copy the section's first table onto the id's page). Tables are copied
#: at build time, so they never drift from their page; a heading that is no longer there fails the
#: build with a message naming this table.
FIGURES: dict[str, list[tuple[str, str, bool]]] = {
    "R1Arith-v0": [("calibration.md", "R1Arith-v0", True)],
    "R1Algebra-v0": [("calibration.md", "R1Algebra-v0", True)],
    "R1Math-v0": [
        ("baselines.md", "R1Math-v0, medium", True),
        ("calibration.md", "R1Math-v0", True),
        ("results.md", "1. Baselines versus trained", False),
    ],
    "R1Physics-v0": [("physics.md", "Baselines", True)],
    "R1Code-v0": [("code.md", "The verifier", True)],
    "R1GSM8K-v0": [("gsm8k.md", "The training file, measured", False), ("results.md", "1. Baselines versus", False)],
    "R1Curriculum-v0": [("results.md", "3. Curriculum versus none", False)],
    "R1Open-v0": [("open.md", "Which families work", False)],
}

#: The page of docs/ about each id's domain, linked from its reference page.
GUIDES: dict[str, list[str]] = {
    "R1Arith-v0": ["environments.md"],
    "R1Algebra-v0": ["environments.md"],
    "R1Math-v0": ["environments.md", "baselines.md"],
    "R1Physics-v0": ["physics.md"],
    "R1Code-v0": ["code.md"],
    "R1GSM8K-v0": ["gsm8k.md"],
    "R1Curriculum-v0": ["curriculum.md"],
    "R1Open-v0": ["open.md"],
}

#: Modes whose spaces are listed (a mode whose spaces equal an earlier one's is left out).
MODES: list[tuple[str, dict[str, Any]]] = [
    ("default", {}),
    ('`obs_mode="text"`', {"obs_mode": "text"}),
    ('`action_mode="write"`', {"action_mode": "write"}),
    ('`action_mode="menu"`', {"action_mode": "menu"}),
    ('`action_mode="menu", obs_mode="text"`', {"action_mode": "menu", "obs_mode": "text"}),
]


# -- helpers ---------------------------------------------------------------------------------------
def doc_args(obj: Any) -> dict[str, str]:
    """The ``Args:`` section of a Google-style docstring: name -> description (one line)."""
    doc = inspect.getdoc(obj) or ""
    out: dict[str, str] = {}
    lines = doc.splitlines()
    try:
        start = lines.index("Args:")
    except ValueError:
        return out
    name = None
    for line in lines[start + 1 :]:
        if line.strip() and not line.startswith("    "):
            break
        m = re.match(r"^    (\*{0,2}\w+): (.*)$", line)
        if m:
            name = m.group(1).lstrip("*")
            out[name] = m.group(2).strip()
        elif name and line.startswith("        "):
            out[name] += " " + line.strip()
    return out


_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):`(~?)([^`]+)`")


def markdown(text: str) -> str:
    """A docstring's reST spellings in Markdown: ``:class:`~a.B``` -> `` `B` ``, ````x```` -> `` `x` ``."""
    text = _ROLE.sub(lambda m: "`" + (m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2)) + "`", text)
    return re.sub(r"``(.+?)``", r"`\1`", text)


def cell(text: str) -> str:
    """Text safe in a Markdown table cell."""
    return markdown(text).replace("|", "\\|").replace("\n", " ")


def code(value: Any) -> str:
    return "`" + repr(value).replace("|", "\\|") + "`"


def env_kwargs(cls: type) -> list[tuple[str, str, str]]:
    """(name, default, description) for every keyword argument ``gym.make(id, ...)`` passes on to
    ``cls``: its own parameters, then :class:`ReasoningEnv`'s it does not redefine."""
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    docs = doc_args(ReasoningEnv)
    for owner in dict.fromkeys(c for c in cls.__mro__ if "__init__" in vars(c) and issubclass(c, ReasoningEnv)):
        own_docs = {**docs, **doc_args(owner)}
        for p in inspect.signature(owner.__init__).parameters.values():
            if p.name in ("self", "kwargs", "unknown") or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                continue
            if p.name in seen:
                continue
            seen.add(p.name)
            default = code(p.default) if p.default is not inspect.Parameter.empty else "(required)"
            if p.name == "task" and p.default is None:
                default = f"`None`: this id's task, `{cls._default_task!r}`"
            rows.append((p.name, default, own_docs.get(p.name, "")))
    return rows


def space_rows(space: gym.Space) -> list[tuple[str, str]]:
    if isinstance(space, gym.spaces.Dict):
        return [(key, repr(sub)) for key, sub in space.spaces.items()]
    return [("", repr(space))]


def make(env_id: str, **kwargs: Any) -> gym.Env:
    return gym.make(env_id, disable_env_checker=True, **kwargs)


def sections(page: str) -> list[tuple[int, str, list[str]]]:
    """The headings of a page of docs/ with the lines of their sections (code blocks skipped)."""
    out: list[tuple[int, str, list[str]]] = []
    fenced = False
    for line in (DOCS / page).read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        m = None if fenced else re.match(r"^(#{1,6}) (.+?)\s*$", line)
        if m:
            out.append((len(m.group(1)), m.group(2), []))
        elif out:
            out[-1][2].append(line)
    return out


def first_table(lines: Iterable[str]) -> list[str]:
    table: list[str] = []
    for line in lines:
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    return table


def figures(env_id: str) -> list[str]:
    out: list[str] = []
    for page, prefix, copy in FIGURES.get(env_id, []):
        found = [(title, body) for _, title, body in sections(page) if title.startswith(prefix)]
        if not found:
            raise RuntimeError(
                f"docs/{page} has no heading starting with {prefix!r} any more: update FIGURES in {__file__}"
            )
        title, body = found[0]
        anchor = slugify(title, "-")
        link = f"[{title}](../{page}#{anchor}) in [{page[:-3]}](../{page})"
        if copy and (table := first_table(body)):
            out += [f"From {link} (copied at build time):", "", *table, ""]
        else:
            out += [f"* {link}", ""]
    return out


# -- an example episode ------------------------------------------------------------------------------
def example_episode(env_id: str, extra: dict[str, Any]) -> tuple[list[str], bytes | None]:
    """A seeded episode of the greedy baseline in text observations, as text, and its last frame
    (``render_mode="rgb_array"``) as PNG bytes, or None where Pillow is missing."""
    try:
        import PIL  # noqa: F401

        render = {"render_mode": "rgb_array"}
    except ImportError:
        render = {}
    env = make(env_id, difficulty=DIFFICULTY, obs_mode="text", **render, **extra)
    base = env.unwrapped
    agent = GreedyAgent()
    obs, info = env.reset(seed=SEED)
    k = base.num_candidates
    args = ", ".join([f'difficulty="{DIFFICULTY}"', 'obs_mode="text"', *(f'{a}="{v}"' for a, v in extra.items())])
    lines = [f'env = gym.make("{env_id}", {args})   # K = {k}', f"obs, info = env.reset(seed={SEED})", ""]
    question = base.problem.question
    lines += ["Question: " + question, ""]
    if "curriculum" in info:
        cur = info["curriculum"]
        lines += [f"(curriculum stage {cur.get('stage')}, source {cur.get('source')!r})", ""]
    done = False
    reward = 0.0
    while not done:
        conf = obs.get("confidence")
        cands = obs.get("candidates", ())
        depth = info["depth"]
        shown = [i for i in range(k) if cands and cands[i]]
        if shown:
            flat = normalized_entropy(conf[: len(shown)].astype(float))
            lines.append(f"depth {depth}: {len(shown)} candidates, normalized entropy of the confidence {flat:.2f}")
            for i in shown:
                lines.append(f"  [{i}] {conf[i]:.2f}  {cands[i]}")
        else:
            lines.append(f"depth {depth}: no candidates (the path states its answer)")
        action = agent.act(obs, info)
        obs, reward, terminated, truncated, info = env.step(action)
        done = terminated or truncated
        if action < k:
            label = info.get("step_label")
            lines.append(f"  greedy: expand [{action}]" + (f"; the judge labels the step {label!r}" if label else ""))
        elif action == k:
            lines.append("  greedy: backtrack")
        else:
            lines.append("  greedy: submit")
        lines.append("")
    png = None
    if render:
        import io

        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(env.render()).save(buffer, format="PNG", optimize=True)
        png = buffer.getvalue()
    if truncated and not terminated:
        lines.append(f"truncated at the step limit after {info['steps']} actions: reward {reward:.3f}")
        return lines, png
    from r1gym.cli import explain_reward  # what `r1gym play` prints after a submit

    verdict = "correct" if info["is_correct"] else "wrong"
    lines += [
        f"submitted {info['answer']!r}, reference {info['reference']!r}: {verdict}",
        f"actions n = {info['steps']}, first wrong step (judge): {info.get('first_error')}",
    ]
    lines += explain_reward(
        info["reward_terms"],
        base.reward_weights,
        base.reward_mode,
        reward,
        steps=info["steps"],
        is_correct=info["is_correct"],
        partial_credit=base.partial_credit,
    )
    return lines, png


# -- the page of one id -------------------------------------------------------------------------------
def env_page(env_id: str) -> str:
    spec = gym.spec(env_id)
    module, _, name = spec.entry_point.partition(":")
    cls = getattr(__import__(module, fromlist=[name]), name)
    summary = r1gym.ENV_IDS[env_id][1]
    out = [f"# {env_id}", "", f"`{env_id}`: {summary}.", ""]
    out += [
        f"Entry point [`{spec.entry_point}`](../api/{module}.md#{module}.{name}), a "
        f"[`ReasoningEnv`](../api/r1gym.core.env.md#r1gym.core.env.ReasoningEnv) on the task "
        f"`{cls._default_task!r}`; step limit {spec.max_episode_steps} (`TimeLimit`), "
        f"registry keyword arguments `{spec.kwargs}`.",
        "",
        "```python",
        "import gymnasium as gym",
        "import r1gym",
        "",
        f'env = gym.make("{env_id}")',
        "```",
        "",
        "Guides: " + ", ".join(f"[{g[:-3]}](../{g})" for g in GUIDES.get(env_id, [])) + ".",
        "",
        "*This page is generated from the registry when the site is built (`scripts/docs/gen_pages.py`).*",
        "",
    ]
    notes: list[str] = []
    can_make = True
    missing = None  # why this build cannot make the id at all (an optional dependency is missing)
    if env_id == "R1GSM8K-v0":
        path = os.environ.get("R1GYM_GSM8K_PATH")
        if not path or not Path(path).is_file():  # never try without it: the task would go to the Hub
            can_make = False
            notes.append(
                "GSM8K is not shipped with r1gym and this build had no local copy (`R1GYM_GSM8K_PATH` "
                "unset or not a file), so the spaces below are computed with "
                "`r1gym.core.spaces.observation_space` for the defaults (K = 4, D = 64) and no episode was "
                "played. Build with `R1GYM_GSM8K_PATH=/path/to/train.jsonl mkdocs build` to include one; "
                "see [gsm8k](../gsm8k.md)."
            )

    else:
        try:
            make(env_id).close()
        except Exception as exc:  # noqa: BLE001  # e.g. R1Open-v0 without reasoning-gym: say so, keep the page
            can_make = False
            missing = f"{type(exc).__name__}: {exc}"
            notes.append(
                f"This build could not make `{env_id}` (`{cell(missing)}`): an optional dependency is missing, "
                "so its spaces are not listed and no episode was played. Install the extra the guide names and "
                "build again."
            )
    out += [f'!!! note "Partly generated"\n    {n}\n' for n in notes]
    top = len(notes)

    # spaces
    out += ["## Spaces", ""]
    if can_make:
        seen: list[tuple[str, str]] = []
        for label, kwargs in MODES:
            try:
                env = make(env_id, **kwargs)
            except Exception as exc:  # noqa: BLE001  # a mode the id refuses: say so, with its message
                out += [f"### {label}", "", f"Not available: `{type(exc).__name__}: {cell(str(exc))}`", ""]
                continue
            key = (repr(env.observation_space), repr(env.action_space))
            env.close()
            if key in seen:
                continue
            seen.append(key)
            out += [f"### {label}", "", f"Action space: `{env.action_space!r}`", "", "| key | space |", "|---|---|"]
            out += [f"| `{k}` | `{cell(v)}` |" for k, v in space_rows(env.observation_space)]
            out.append("")
    elif missing:
        out += ["Not listed: see the note at the top.", ""]
    else:
        from gymnasium import spaces

        from r1gym.core.spaces import observation_space

        k = PRESETS[DIFFICULTY].num_candidates
        for label, mode in (("default", "vector"), ('`obs_mode="text"`', "text")):
            out += [f"### {label}", "", f"Action space: `{spaces.Discrete(k + 2)!r}`", "", "| key | space |"]
            out += ["|---|---|", *(f"| `{a}` | `{cell(b)}` |" for a, b in space_rows(observation_space(mode, k, 64)))]
            out.append("")
    out += [
        "K is `num_candidates` (the difficulty preset's unless given), D is `embed_dim`. The meaning of every "
        "key is in [environments](../environments.md#observations).",
        "",
    ]

    # keyword arguments
    out += [
        "## Keyword arguments",
        "",
        f'What `gym.make("{env_id}", ...)` accepts (the constructor\'s signature; an unknown name is '
        "refused with the closest valid one):",
        "",
        "| argument | default | meaning |",
        "|---|---|---|",
    ]
    out += [f"| `{n}` | {d} | {cell(desc)} |" for n, d, desc in env_kwargs(cls)]
    out.append("")
    try:
        task_cls = TASKS.resolve(cls._default_task)
        params = [
            p
            for p in inspect.signature(task_cls).parameters.values()
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        ]
        out += [
            f"`task_kwargs` of the default task `{cls._default_task!r}` (`{task_cls.__module__}."
            f"{task_cls.__qualname__}`): "
            + ", ".join(
                f"`{p.name}={p.default!r}`" if p.default is not inspect.Parameter.empty else f"`{p.name}`"
                for p in params
            )
            + ".",
            "",
        ]
    except Exception as exc:  # noqa: BLE001  # an optional dependency is missing
        notes.append(f"The default task `{cls._default_task!r}` could not be loaded here: `{cell(str(exc))}`.")

    # presets
    out += [
        "## Difficulty presets",
        "",
        "`difficulty=` picks one of the procedural proposer's presets (`r1gym.proposers.procedural.PRESETS`); "
        '`proposer_kwargs={"boost": ...}` overrides a field. How they were chosen: '
        "[calibration](../calibration.md).",
        "",
        "| preset | " + " | ".join(CONFIG_FIELDS) + " |",
        "|---" * (len(CONFIG_FIELDS) + 1) + "|",
    ]
    for preset, cfg in PRESETS.items():
        vals = [getattr(cfg, f) for f in CONFIG_FIELDS]
        vals = [", ".join(v) if isinstance(v, tuple) else str(v) for v in vals]
        out.append(f"| {preset} | " + " | ".join(cell(v) for v in vals) + " |")
    out.append("")

    # episode
    out += ["## An example episode", ""]
    if env_id == "R1Code-v0":
        out += [
            "Not played when the site is built: the submit runs the program against HumanEval's tests in "
            "`r1gym.sandbox`, which needs full isolation (namespaces, or Landlock and seccomp) that a docs "
            "build cannot count on. `r1gym play R1Code-v0` plays one where the sandbox is available; see "
            "[code](../code.md).",
            "",
        ]
    elif not can_make:
        out += ["Not played in this build: see the note at the top.", ""]
    else:
        extra: dict[str, Any] = {}
        lead = (
            f"The greedy baseline (`r1gym.baselines.GreedyAgent`: expand the most confident candidate, "
            f"submit when none is left), `reset(seed={SEED})`, difficulty `{DIFFICULTY}`, text observations "
            "(so the step judge labels every step). Played when the site was built."
        )
        if getattr(make(env_id).unwrapped, "action_mode", "menu") == "write":
            extra = {"action_mode": "menu"}
            lead += (
                " This id is in write mode by default, where the model writes its own steps and there are no "
                'candidates to be greedy about; the episode is played with `action_mode="menu"`.'
            )
        try:
            episode, png = example_episode(env_id, extra)
        except ImportError as exc:
            out += [f"Not played: an optional dependency is missing (`{cell(str(exc))}`).", ""]
        else:
            out += [lead, "", "```text", *episode, "```", ""]
            if png is not None:
                with mkdocs_gen_files.open(f"envs/{env_id}.png", "wb") as f:
                    f.write(png)
                out += [
                    'The same episode\'s last frame, `render()` with `render_mode="rgb_array"` '
                    "([the tree as an image](../view.md#the-tree-as-an-image-render_modergb_array)):",
                    "",
                    f"![the last frame of the example episode of {env_id}]({env_id}.png)",
                    "",
                ]
            out += [
                "The normalized entropy is `H(p) / log(n)` of the confidences shown: 1 is flat. On a node "
                "off the correct path every score is drawn with the small `noise_after_error`, so the "
                "confidence goes flat there ([concepts](../concepts.md)); greedy does not look.",
                "",
            ]

    out += ["## Measured figures of the reference policies", ""]
    figs = figures(env_id)
    out += figs or ["None measured for this id yet.", ""]
    if notes[top:]:  # what was found missing after the top of the page was written
        out += ["## Notes", ""] + [f'!!! note ""\n    {n}\n' for n in notes[top:]]
    return "\n".join(out).rstrip() + "\n"


# -- API pages ---------------------------------------------------------------------------------------
def api_modules() -> list[str]:
    """Every module of the r1gym package but the private ones and the entry points' ``__main__``."""
    names = []
    pkg = ROOT / "r1gym"
    for path in sorted(pkg.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts) or "envs_data" in parts:
            continue
        names.append(".".join(parts))
    return sorted(names)


def write_api() -> None:
    nav = mkdocs_gen_files.Nav()
    for name in api_modules():
        parts = tuple(name.split("."))
        doc = f"{name}.md"
        nav[parts] = doc
        with mkdocs_gen_files.open(f"api/{doc}", "w") as f:
            f.write(f"# `{name}`\n\n::: {name}\n")
        mkdocs_gen_files.set_edit_path(f"api/{doc}", Path("..") / Path(*parts).with_suffix(".py"))
    with mkdocs_gen_files.open("api/SUMMARY.md", "w") as f:
        f.writelines(nav.build_literate_nav())


def write_envs() -> None:
    lines = []
    for env_id in sorted(r1gym.ENV_IDS, key=list(r1gym.ENV_IDS).index):
        with mkdocs_gen_files.open(f"envs/{env_id}.md", "w") as f:
            f.write(env_page(env_id))
        lines.append(f"* [{env_id}]({env_id}.md)\n")
    with mkdocs_gen_files.open("envs/SUMMARY.md", "w") as f:
        f.writelines(lines)


def write_agents() -> None:
    text = (ROOT / "agents" / "README.md").read_text(encoding="utf-8")
    text = text.replace("](../docs/", "](")
    with mkdocs_gen_files.open("agents.md", "w") as f:
        f.write(text)
    mkdocs_gen_files.set_edit_path("agents.md", Path("..") / "agents" / "README.md")


write_envs()
write_api()
write_agents()
