"""Helpers shared by the tests (imported as ``helpers``; conftest.py holds only fixtures)."""

from __future__ import annotations

import os
from types import SimpleNamespace

import gymnasium as gym
import pytest

import r1gym
from r1gym import sandbox
from r1gym.sandbox import UID_BASE, UID_SPAN

ENV_IDS = list(r1gym.ENV_IDS)


def play(env: gym.Env, policy, seed: int | None = None, options=None):
    """Run one episode; returns (observations, rewards, infos, terminated, truncated)."""
    obs, info = env.reset(seed=seed, options=options)
    observations, rewards, infos = [obs], [], [info]
    while True:
        obs, r, term, trunc, info = env.step(policy(obs, info))
        observations.append(obs)
        rewards.append(r)
        infos.append(info)
        if term or trunc:
            return observations, rewards, infos, term, trunc


def sandbox_processes(uids: set[int] | None = None) -> list[int]:
    """Live processes running under the given sandbox uids (any sandbox uid by default)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            uid = os.stat(f"/proc/{name}").st_uid
            with open(f"/proc/{name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        mine = uid in uids if uids is not None else UID_BASE <= uid < UID_BASE + UID_SPAN
        if mine and state not in (b"Z", b"X"):
            out.append(int(name))
    return out


class SandboxRecorder:
    """Records the uids and directories the sandbox draws during a test, so that the checks
    look only at this test's runs (other test sessions may use the sandbox at the same time)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.uids: set[int] = set()
        self.dirs: list[str] = []
        real_randbelow, real_mkdtemp = sandbox.secrets.randbelow, sandbox.tempfile.mkdtemp

        def randbelow(n: int) -> int:
            value = real_randbelow(n)
            self.uids.add(UID_BASE + value)
            return value

        def mkdtemp(*args, **kwargs) -> str:
            path = real_mkdtemp(*args, **kwargs)
            self.dirs.append(path)
            return path

        monkeypatch.setattr(sandbox, "secrets", SimpleNamespace(randbelow=randbelow))
        monkeypatch.setattr(sandbox.tempfile, "mkdtemp", mkdtemp)


def connected(server) -> bool:
    """Whether anything connected to the ``listener`` fixture's server (within its 0.2 s timeout)."""
    try:
        conn, _ = server.accept()
    except TimeoutError:
        return False
    conn.close()
    return True
