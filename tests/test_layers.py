"""The package's layers, enforced (docs/architecture.md).

A module of r1gym imports only from its own layer or a lower one, and no two units import each
other, however indirectly (a unit is a subpackage such as ``r1gym.tasks`` or a top-level module
such as ``r1gym.evaluation``); inside a unit, no two files import each other either. Every import
counts, those inside functions and under ``TYPE_CHECKING`` included: a lazy import is still a
dependency, only a later one. Names that a lower layer must resolve (a task, an operation, a
verifier) go through the registries of ``r1gym.core``, which the higher layers fill.

The table below is the architecture: a new module gets a row here (the test fails until it has
one) and a line in docs/architecture.md.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "r1gym"

#: Layer by layer, bottom up: the units of each.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("core: the MDP, its interfaces and registries", ("r1gym._version", "r1gym.errors", "r1gym.core")),
    (
        "plug-ins and tools: problem sources, proposers, embedders, replay, sandbox, tokenizer, statistics",
        (
            "r1gym.tasks",
            "r1gym.proposers",
            "r1gym.embed",
            "r1gym.replay",
            "r1gym.sandbox",
            "r1gym.tokenizer",
            "r1gym.pareto",
            "r1gym.stats",
            "r1gym.envs_data",
            "r1gym.judge",
        ),
    ),
    (
        "environments, wrappers and policies",
        ("r1gym.envs", "r1gym.wrappers", "r1gym.baselines", "r1gym.llm"),
    ),
    ("evaluation", ("r1gym.evaluation",)),
    ("agents from a spec", ("r1gym.agent_specs",)),
    (
        "entry points: training plumbing, integrations, the command line",
        ("r1gym.training", "r1gym.integrations", "r1gym.cli", "r1gym.export", "r1gym.view"),
    ),
    ("the package's front door (registers the ids, re-exports)", ("r1gym",)),
)
LAYER_OF = {unit: i for i, (_, units) in enumerate(LAYERS) for unit in units}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


def unit_of(module: str) -> str:
    """The longest unit of the table that ``module`` is, or lies in."""
    best = max((u for u in LAYER_OF if module == u or module.startswith(u + ".")), key=len, default=None)
    if best is None:
        pytest.fail(
            f"{module} has no layer: add its unit to LAYERS in {Path(__file__).name} and to docs/architecture.md"
        )
    return best


def imports_of(module: str) -> set[str]:
    """The r1gym modules ``module`` imports (``from pkg import sub`` counts as ``pkg.sub`` when
    ``sub`` is a module, else as ``pkg``)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "r1gym")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "r1gym":
                continue
            subs = {f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES}
            out.update(subs)
            if len(subs) < len(node.names):
                out.add(target)
    out.discard(module)
    return out


GRAPH = {m: imports_of(m) for m in MODULES}


def test_every_import_goes_down_or_sideways() -> None:
    upward = []
    for module, targets in GRAPH.items():
        if module == "r1gym":
            continue
        src = LAYER_OF[unit_of(module)]
        for target in sorted(targets):
            dst = LAYER_OF[unit_of(target)]
            if dst > src:
                upward.append(f"{module} (layer {src}) imports {target} (layer {dst})")
    assert not upward, "imports from a higher layer:\n  " + "\n  ".join(upward)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_circle_between_units() -> None:
    units: dict[str, set[str]] = defaultdict(set)
    for module, targets in GRAPH.items():
        if module == "r1gym":
            continue
        for target in targets:
            if unit_of(target) != unit_of(module):
                units[unit_of(module)].add(unit_of(target))
    assert cycles(units) == []


def test_no_two_files_import_each_other() -> None:
    assert cycles({m: {t for t in ts if t in MODULES} for m, ts in GRAPH.items()}) == []


def test_core_resolves_names_through_registries_only() -> None:
    """core imports nothing of r1gym above it, and no module by a name it builds at run time."""
    for module, path in MODULES.items():
        if unit_of(module) != "r1gym.core":
            continue
        text = path.read_text()
        assert "import_module(" not in text or module == "r1gym.core.registry", module
        assert not re.search(r"[\"']r1gym\.(tasks|proposers|embed|wrappers|llm)", text), module


def test_the_checker_sees_a_violation() -> None:
    """The walk above finds lazy imports and resolves relative ones (so it can fail)."""
    assert "r1gym.core.registry" in GRAPH["r1gym.core.ops"]
    assert "r1gym.core.vector" in GRAPH["r1gym.evaluation"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


#: Files that may touch the import path, and why. Nothing else in the repository does: agents,
#: experiments, scripts, benchmarks and tests import the installed package.
PATH_EDITS_ALLOWED = {
    # the sandbox re-points the *sandboxed child's* import path at file descriptors (isolation)
    "r1gym/sandbox.py": "sys.path[",
    # an agent spec my_agents:Mine names a module in the current folder, as python -m finds one
    "r1gym/agent_specs.py": "sys.path.insert(0, here)",
    # a hostile program run inside the sandbox, tampering with its own path
    "tests/test_sandbox.py": "sys.path.insert",
    # a --target install is imported through PYTHONPATH, the way pip documents
    "tests/test_install.py": "PYTHONPATH",
}
PATH_EDIT = re.compile(
    r"sys\.path\.(insert|append|extend)|sys\.path\[|sys\.path\s*=|spec_from_file_location|PYTHONPATH"
)


def test_no_import_path_manipulation_anywhere() -> None:
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv/", "build/")) or "/." in f"/{rel}" or rel == "tests/test_layers.py":
            continue
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            m = PATH_EDIT.search(line)
            if m and not (rel in PATH_EDITS_ALLOWED and PATH_EDITS_ALLOWED[rel] in line):
                offenders.append(f"{rel}:{lineno}: {line.strip()}")
    assert not offenders, "import-path edits:\n  " + "\n  ".join(offenders)
