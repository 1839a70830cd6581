"""A bounded load test of ``r1gym serve`` over loopback (a benchmark: figures, no timing assertions).

64 concurrent WebSocket sessions (openenv's async ``GenericEnvClient``, one event loop) play seeded
random episodes of R1Math-v0 until 10,000 steps are done; the same policy then plays the same
number of steps in process (``R1Environment`` directly, no server). Asserted: zero errors, every
session closed afterwards, and the server's memory flat once the sessions close (its RSS after a
second full round within 32 MiB of its RSS after the first). Reported: steps per second over the
wire and in process, p50 / p99 step latency over the wire, the server's RSS.

Run: pytest benchmarks/test_serve_load.py --benchmark-enable -s
(In the normal test run, --benchmark-disable, it runs once at 16 sessions and 1,000 steps.)
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

pytest.importorskip("openenv", reason="r1gym serve needs openenv-core: pip install 'r1gym[serve]'")
psutil = pytest.importorskip("psutil")

from openenv.core import GenericEnvClient  # noqa: E402

from r1gym.integrations.server import R1Action, R1Environment  # noqa: E402

ENV_ID = "R1Math-v0"
FULL = {"sessions": 64, "steps": 10_000}
SMOKE = {"sessions": 16, "steps": 1_000}
MEMORY_SLACK_MB = 32


def choose(rng: random.Random, mask: list[int]) -> int:
    """A random policy: submit one time in eight (always when nothing else is allowed), else a random allowed move."""
    allowed = [a for a, m in enumerate(mask[:-1]) if m]
    if not allowed or rng.random() < 0.125:
        return len(mask) - 1
    return rng.choice(allowed)


async def session(url: str, index: int, budget: dict, latencies: list[float], errors: list[str]) -> None:
    rng = random.Random(index)
    try:
        async with GenericEnvClient(base_url=url, message_timeout_s=60) as env:
            episode = 0
            while budget["left"] > 0:
                r = await env.reset(seed=index * 1000 + episode)
                episode += 1
                while not r.done and budget["left"] > 0:
                    budget["left"] -= 1
                    t0 = time.perf_counter()
                    r = await env.step({"action": choose(rng, r.observation["action_mask"])})
                    latencies.append(time.perf_counter() - t0)
    except Exception as e:  # counted, not raised: the test asserts there are none
        errors.append(f"session {index}: {type(e).__name__}: {e}")


async def load(url: str, sessions: int, steps: int) -> tuple[list[float], list[str], float]:
    budget = {"left": steps}
    latencies: list[float] = []
    errors: list[str] = []
    t0 = time.perf_counter()
    await asyncio.gather(*(session(url, i, budget, latencies, errors) for i in range(sessions)))
    return latencies, errors, time.perf_counter() - t0


def in_process(steps: int) -> float:
    env = R1Environment(ENV_ID)
    rng = random.Random(0)
    done, episode = 0, 0
    t0 = time.perf_counter()
    while done < steps:
        obs = env.reset(seed=episode)
        episode += 1
        while not obs.done and done < steps:
            obs = env.step(R1Action(action=choose(rng, obs.action_mask)))
            done += 1
    return time.perf_counter() - t0


def active_sessions(url: str) -> int:
    with urllib.request.urlopen(url + "/sessions", timeout=10) as r:
        return json.loads(r.read())["active"]


def wait_closed(url: str) -> None:
    end = time.monotonic() + 30
    while active_sessions(url) and time.monotonic() < end:
        time.sleep(0.1)


def test_serve_load(benchmark) -> None:
    size = SMOKE if benchmark.disabled else FULL
    size = {k: int(os.environ.get(f"R1GYM_LOAD_{k.upper()}", v)) for k, v in size.items()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "r1gym.cli", "serve", ENV_ID, "--port", "0", "--max-sessions", str(size["sessions"])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        url = "http://127.0.0.1:" + line.split("http://127.0.0.1:")[1].split(" ")[0]
        server = psutil.Process(proc.pid)
        figures: dict = {}

        def run() -> None:
            # first round: warms the server up (imports, caches, thread pools); its RSS is the baseline
            _, errors, _ = asyncio.run(load(url, size["sessions"], size["steps"]))
            assert errors == [], errors[:5]
            wait_closed(url)
            rss_warm = server.memory_info().rss / 2**20
            latencies, errors, wall = asyncio.run(load(url, size["sessions"], size["steps"]))
            assert errors == [], errors[:5]
            wait_closed(url)
            assert active_sessions(url) == 0
            rss_after = server.memory_info().rss / 2**20
            local = in_process(size["steps"])
            latencies.sort()
            figures.update(
                sessions=size["sessions"],
                steps=len(latencies),
                errors=len(errors),
                wire_steps_per_s=round(len(latencies) / wall),
                in_process_steps_per_s=round(size["steps"] / local),
                p50_ms=round(latencies[len(latencies) // 2] * 1e3, 2),
                p99_ms=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3, 2),
                server_rss_mb_after_first_round=round(rss_warm, 1),
                server_rss_mb_after_second_round=round(rss_after, 1),
            )
            assert rss_after - rss_warm < MEMORY_SLACK_MB, figures

        benchmark.pedantic(run, rounds=1, iterations=1)
        benchmark.extra_info.update(figures)
        print("\nr1gym serve load:", json.dumps(figures))
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
