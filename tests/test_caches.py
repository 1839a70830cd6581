"""Every cache the package keeps across steps and episodes has a finite bound (issue 15, Memory).

The normal test run catches a new unbounded cache here; ``benchmarks/test_memory.py`` measures the
resident memory of a long run (``--memory-steps 1000000``) and docs/speed.md has the figures.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import r1gym

ROOT = Path(r1gym.__file__).parent

#: every functools cache in the package, with its bound (entries)
CACHES = {
    "r1gym.core.problem:_compiled": 4096,
    "r1gym.core.verify:verify": 8192,
    "r1gym.judge.text:normalize": 8192,
    "r1gym.sandbox:_pidfds": 1,
    "r1gym.sandbox:sandbox_info": 1,
    "r1gym.tasks.code.data:load_humaneval": 4,
    "r1gym.tasks.code.distractors:_context_names": 1024,
    "r1gym.tasks.code.verifier:passes_tests": 8192,
    "r1gym.tasks.gsm8k.expressions:parse_expression": 1 << 16,
    "r1gym.tasks.physics.units:parse_quantity": 8192,
    "r1gym.tasks.physics.units:verify_units": 8192,
    "r1gym.tasks.physics.units:unit_table": None,  # no arguments: one entry
    "r1gym.tasks.reasoning_gym:_item": 512,
    "r1gym.tasks.reasoning_gym:_score": 4096,
    "r1gym.tasks.word_problems:_shipped_templates": 1,
    "r1gym.tasks.word_problems:load_names": 1,
}


def _decorated_caches() -> set[str]:
    """``module:function`` of every function of the package under ``@cache`` / ``@lru_cache``."""
    found = set()
    for path in ROOT.rglob("*.py"):
        module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for d in node.decorator_list:
                    target = d.func if isinstance(d, ast.Call) else d
                    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                    if name in ("cache", "lru_cache"):
                        found.add(f"{module}:{node.name}")
    return found


def test_every_functools_cache_is_listed() -> None:
    """A new ``@cache`` / ``@lru_cache`` must be added to CACHES (with its bound) to pass."""
    assert _decorated_caches() == set(CACHES)


@pytest.mark.parametrize("name", sorted(CACHES))
def test_functools_cache_is_bounded(name: str) -> None:
    module, _, attr = name.partition(":")
    fn = getattr(importlib.import_module(module), attr)
    maxsize = fn.cache_parameters()["maxsize"]
    assert maxsize == CACHES[name]
    if maxsize is None:  # unbounded only where the function takes no arguments (one entry)
        code = fn.__wrapped__.__code__
        assert code.co_argcount == 0 and code.co_kwonlyargcount == 0, name


def test_hashing_embedder_caches_are_bounded() -> None:
    from r1gym.embed.hashing import HashingEmbedder

    emb = HashingEmbedder(dim=16, cache_size=10)
    for i in range(200):
        emb.embed([f"step {i} word{i} w{i * 7}", f"other {i}"])
        assert len(emb._cache) <= 10 and len(emb._tokens) <= 40 and len(emb._pairs) <= 40
    assert HashingEmbedder().cache_size == 20_000


def test_node_hashers_are_bounded() -> None:
    from r1gym.core import env

    for seed in range(200):
        env._keyed_hasher(seed)
        assert len(env._KEYED_HASHERS) <= 64


def test_novelty_memory_is_bounded() -> None:
    from r1gym.core.reward import NoveltyMemory

    mem = NoveltyMemory(max_problems=3, max_paths=2)
    for p in range(10):
        for q in range(5):
            mem.record(f"p{p}", bytes([q]))
    assert len(mem) <= 3
    assert all(len(e) <= 2 for e in mem._memory.values())


def test_judge_derived_values_are_bounded() -> None:
    """The step judge's memo of derived values (one judge an episode) is emptied past 4,096 paths."""
    import inspect

    from r1gym.judge import judge

    src = inspect.getsource(judge)
    assert "if len(self._derived) > 4096:" in src and "self._derived.clear()" in src


def test_gsm8k_loaded_datasets_are_bounded() -> None:
    import inspect

    from r1gym.tasks.gsm8k import task

    assert "while len(_LOADED) >= 4:" in inspect.getsource(task)


def test_env_keeps_one_episode() -> None:
    """An env's tree is its episode's: reset replaces it, so nothing of an episode outlives the next reset."""
    import gymnasium as gym

    env = gym.make("R1Arith-v0")
    env.reset(seed=0)
    env.step(0)
    first = env.unwrapped.episode
    env.reset()
    assert env.unwrapped.episode is not first and len(env.unwrapped.episode.nodes) == 1
