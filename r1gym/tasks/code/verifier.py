"""The ``"code"`` verifier: a program passes when it passes its problem's tests in the sandbox.

:func:`verify_code` runs the submitted program, the problem's ``check`` function and
``check(<entry_point>)`` in :func:`r1gym.sandbox.run_python` (no network, a memory limit, a
time limit); it is registered as ``"code"`` when the package is imported.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from r1gym.core.verify import register_verifier
from r1gym.sandbox import run_python

#: seconds a submitted program may run with its tests (HumanEval's own harness uses 3)
TEST_TIMEOUT = 3.0
#: memory limit of a test run, MiB
TEST_MEMORY_MB = 512


def verify_code(answer: str, reference: str, problem: Any) -> bool:
    """The ``"code"`` verifier: True iff ``answer`` (a program) passes ``problem``'s tests.

    Runs ``answer``, the test code of ``problem.meta["test"]`` and
    ``check(<entry_point>)`` in :func:`r1gym.sandbox.run_python`, for at most
    ``problem.meta["timeout"]`` seconds (3 by default); the reference is not needed.
    """
    meta = getattr(problem, "meta", None)
    if not isinstance(meta, Mapping) or "test" not in meta or "entry_point" not in meta:
        raise ValueError("the 'code' verifier needs the problem, with meta['test'] and meta['entry_point']")
    return passes_tests(answer, meta["test"], meta["entry_point"], float(meta.get("timeout", TEST_TIMEOUT)))


@lru_cache(maxsize=8192)
def passes_tests(program: str, test: str, entry_point: str, timeout: float = TEST_TIMEOUT) -> bool:
    """Whether ``program`` passes ``test`` (``check(entry_point)``) in the sandbox; verdicts are
    cached by program text (the 8,192 most recent).

    A run passes when it exits with status 0 *and* prints a random token written after the
    ``check`` call, so that a program which exits early (``sys.exit(0)``) does not pass.
    """
    token = f"r1gym-tests-passed-{secrets.token_hex(8)}"
    source = f"{program}\n\n{test}\n\ncheck({entry_point})\nprint({token!r})\n"
    result = run_python(source, timeout=timeout, memory_mb=TEST_MEMORY_MB)
    return result.passed and result.stdout.rstrip().endswith(token)


register_verifier("code", verify_code)
