"""`r1gym serve` as a real process on a free loopback port, driven by openenv's own GenericEnvClient.

Whole episodes over the wire equal the same episodes in process, byte for byte (the JSON of every
observation, reward and done); every kind of bad input gets an error frame or a closed session
while the server goes on serving the others; limits (sessions, idle time, payload, token) hold;
SIGTERM shuts down cleanly.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("openenv", reason="r1gym serve needs openenv-core: pip install 'r1gym[serve]'")

import websockets.sync.client as ws_sync  # noqa: E402  (openenv-core's dependency)
from openenv.core import GenericEnvClient  # noqa: E402
from openenv.core.env_server.serialization import serialize_observation  # noqa: E402

from r1gym.cli import main  # noqa: E402
from r1gym.integrations.server import IDLE_CLOSE_CODE, R1Action, R1Environment  # noqa: E402

ENV_ID = "R1Math-v0"
TOKEN = "a-test-token-of-32-characters-xx"


class Server:
    """``r1gym serve`` in a subprocess, on the port it picked itself (``--port 0``)."""

    def __init__(self, *args: str, env: dict | None = None, env_id: str = ENV_ID, env_kwargs: tuple[str, ...] = ()):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "r1gym.cli", "serve", env_id, *env_kwargs, "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        line = self._readline(60)
        assert "r1gym serve:" in line, line + self.proc.stderr.read()
        self.port = int(line.split("http://127.0.0.1:")[1].split(" ")[0])
        self.url = f"http://127.0.0.1:{self.port}"
        self.stderr: list[str] = []
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()

    def _readline(self, timeout: float) -> str:
        out: list[str] = []
        t = threading.Thread(target=lambda: out.append(self.proc.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        return out[0] if out else ""

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict]:
        return request(self.url + path, headers=headers)

    def sessions(self, headers: dict | None = None) -> int:
        return self.get("/sessions", headers)[1]["active"]

    def wait_sessions(self, n: int, timeout: float = 10.0, headers: dict | None = None) -> None:
        end = time.monotonic() + timeout
        while self.sessions(headers) != n:
            assert time.monotonic() < end, f"{self.sessions(headers)} sessions open, expected {n}"
            time.sleep(0.05)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(15)


def request(url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


@pytest.fixture(scope="module")
def server():
    s = Server("--max-sessions", "8", "--idle-timeout", "60")
    yield s
    assert s.stop() == 0
    assert "Traceback" not in "".join(s.stderr), "".join(s.stderr)


@pytest.fixture(scope="module")
def strict_server():
    """Two sessions at most, 1 s idle timeout, an access token."""
    s = Server("--max-sessions", "2", "--idle-timeout", "1", env={"R1GYM_SERVE_TOKEN": TOKEN})
    yield s
    assert s.stop() == 0


def client(url: str):
    return GenericEnvClient(base_url=url, message_timeout_s=20).sync()


# -- episodes over the wire = in process -------------------------------------------------------------

#: A script of steps that visits every kind: expand by number and by sloppy text, a masked backtack at
#: the root, a backtrack, then submit (the last expansion ends wherever the tree leads).
SCRIPT = [
    {"action": 4},  # backtrack at the root: masked, the env's invalid action
    {"text": "Action: <expand_0> because it is the most likely"},
    {"action": 1},
    {"text": "  <BACKTRACK>  "},
    {"text": "expand 2"},
    {"action": 0},
    {"text": "<submit>"},
]


def frame(result) -> str:
    """The JSON of what one reset/step gave: observation, reward, done."""
    return json.dumps({"observation": result["observation"], "reward": result["reward"], "done": result["done"]})


def in_process(seed: int, problem_index: int | None) -> list[str]:
    env = R1Environment(ENV_ID)
    frames = [frame(serialize_observation(env.reset(seed=seed, problem_index=problem_index)))]
    for step in SCRIPT:
        obs = env.step(R1Action(**step))
        frames.append(frame(serialize_observation(obs)))
        if obs.done:
            break
    return frames


def over_the_wire(url: str, seed: int, problem_index: int | None) -> list[str]:
    with client(url) as env:
        r = env.reset(seed=seed, problem_index=problem_index)
        frames = [frame({"observation": r.observation, "reward": r.reward, "done": r.done})]
        for step in SCRIPT:
            r = env.step(step)
            frames.append(frame({"observation": r.observation, "reward": r.reward, "done": r.done}))
            if r.done:
                break
    return frames


@pytest.mark.parametrize("seed, problem_index", [(0, None), (5, 17)])
def test_episode_over_the_wire_equals_in_process(server, seed, problem_index):
    wire = over_the_wire(server.url, seed, problem_index)
    local = in_process(seed, problem_index)
    assert wire == local  # byte for byte, as JSON
    first, last = json.loads(wire[0]), json.loads(wire[-1])
    assert first["observation"]["system"].startswith("You solve a problem step by step")
    assert json.loads(wire[1])["observation"]["info"]["invalid_action"] is True  # the masked backtrack
    assert last["done"] and last["observation"]["terminated"]
    obs = last["observation"]
    assert obs["answer"] is not None and isinstance(obs["is_correct"], bool)
    assert set(obs["reward_terms"]) == {"accuracy", "efficiency", "novelty"}


def test_observation_is_the_env_s(server):
    """prompt, candidates, confidence and action_mask over the wire are the gym env's own."""
    import gymnasium as gym

    from r1gym.integrations.chat import state_text

    env = gym.make(ENV_ID, obs_mode="text")
    obs, _ = env.reset(seed=3, options={"problem_index": 9})
    with client(server.url) as remote:
        r = remote.reset(seed=3, problem_index=9)
    o = r.observation
    assert o["prompt"] == state_text(obs)
    assert o["context"] == obs["context"] and o["candidates"] == list(obs["candidates"])
    assert o["confidence"] == [float(c) for c in obs["confidence"]]
    assert o["action_mask"] == obs["action_mask"].tolist()
    assert r.reward is None and r.done is False


def test_async_client_grpo_group_gets_one_problem(server):
    """Four concurrent async sessions reset with one seed and problem_index: one problem and tree."""

    async def member(i: int):
        async with GenericEnvClient(base_url=server.url) as env:
            r = await env.reset(seed=11, problem_index=42)
            first = r.observation
            steps = 0
            while not r.done:
                allowed = [a for a, m in enumerate(r.observation["action_mask"][:-2]) if m]
                r = await env.step({"action": allowed[i % len(allowed)]} if allowed and steps < 6 else {"action": 5})
                steps += 1
            return first, r

    async def group():
        return await asyncio.wait_for(asyncio.gather(*(member(i) for i in range(4))), 60)

    results = asyncio.run(group())
    firsts = [json.dumps(f, sort_keys=True) for f, _ in results]
    assert len(set(firsts)) == 1
    assert all(r.done and r.observation["info"]["problem_index"] == 42 for _, r in results)


# -- bad input: an error frame, the session goes on ----------------------------------------------------

BAD_STEPS = {
    "written step without write mode": ({"text": "Elif sells 40 tickets."}, "write mode"),
    "two actions in one text": ({"text": "<expand_0> or <submit>"}, None),
    "index past K": ({"action": 6}, "outside the menu"),
    "both keys": ({"action": 1, "text": "<submit>"}, "VALIDATION_ERROR"),
    "unknown key": ({"action": 1, "foo": 2}, "VALIDATION_ERROR"),
    "no key": ({}, "VALIDATION_ERROR"),
    "string action": ({"action": "1"}, "VALIDATION_ERROR"),
    "bool action": ({"action": True}, "VALIDATION_ERROR"),
    "negative action": ({"action": -1}, "VALIDATION_ERROR"),
    "text too long": ({"text": "<submit>" + "x" * 20_000}, "VALIDATION_ERROR"),
}


def test_bad_steps_get_error_frames_and_the_session_goes_on(server):
    with client(server.url) as env:
        with pytest.raises(RuntimeError, match="call reset"):
            env.step({"action": 0})
        first = env.reset(seed=1).observation
        for name, (step, expected) in BAD_STEPS.items():
            if expected is None:  # an invalid reply: counted, not an error
                r = env.step(step)
                assert r.observation["info"]["invalid_reply"] is True, name
                assert r.observation["info"]["invalid_replies"] == 1
                assert r.reward == -0.05 and not r.done
                continue
            with pytest.raises(RuntimeError, match=expected):
                env.step(step)
        for bad_reset, expected in [
            ({"seed": -1}, "seed must be"),
            ({"seed": "1"}, "seed must be"),
            ({"sed": 1}, "unknown reset key"),
            ({"problem_index": 1.5}, "problem_index must be"),
            ({"options": [1]}, "options must be"),
        ]:
            with pytest.raises(RuntimeError, match=expected):
                env.reset(**bad_reset)
        r = env.step({"action": 5})  # the episode of reset(seed=1) is still there
        assert r.done and r.observation["context"] == first["context"]
        with pytest.raises(RuntimeError, match="episode is over"):
            env.step({"action": 5})


def raw_ws(url: str, **kwargs):
    return ws_sync.connect(url.replace("http://", "ws://") + "/ws", open_timeout=10, **kwargs)


def test_malformed_json_is_an_error_frame(server):
    with raw_ws(server.url) as ws:
        ws.send("{not json")
        reply = json.loads(ws.recv(10))
        assert reply["type"] == "error" and reply["data"]["code"] == "INVALID_JSON"
        ws.send(json.dumps({"type": "reset", "data": {"seed": 0}}))
        assert json.loads(ws.recv(10))["type"] == "observation"
        ws.send(json.dumps({"type": "teleport"}))
        assert json.loads(ws.recv(10))["data"]["code"] == "UNKNOWN_TYPE"
        ws.send(json.dumps({"type": "step", "data": {"action": 0}, "extra": 1}))
        assert json.loads(ws.recv(10))["data"]["code"] == "VALIDATION_ERROR"
        ws.send(json.dumps({"type": "step", "data": {"action": 0}}))
        assert json.loads(ws.recv(10))["type"] == "observation"


def test_a_json_array_closes_that_session_only(server):
    with client(server.url) as other:
        other.reset(seed=2)
        with raw_ws(server.url) as ws:
            ws.send("[1, 2]")
            reply = json.loads(ws.recv(10))
            assert reply["type"] == "error" and reply["data"]["code"] == "SESSION_ERROR"
            with pytest.raises(websockets_closed()):
                ws.recv(10)
        assert not other.step({"action": 5}).observation["info"]["invalid_action"]


def websockets_closed():
    from websockets.exceptions import ConnectionClosed

    return ConnectionClosed


def test_a_1mb_payload_closes_that_session_only(server):
    with client(server.url) as other:
        other.reset(seed=2)
        with raw_ws(server.url, max_size=None) as ws:
            ws.send(json.dumps({"type": "step", "data": {"text": "x" * (1 << 20)}}))
            with pytest.raises(websockets_closed()) as e:
                ws.recv(10)
            assert e.value.rcvd is not None and e.value.rcvd.code == 1009  # message too big
        assert other.step({"action": 5}).done
    status, detail = _post_too_big(server.port, b'{"action": {"text": "' + b"x" * (1 << 20) + b'"}}')
    # 413 with the reason; or, when the server answered and reset the connection before the client
    # finished sending, no readable answer (None): refused either way, never processed
    assert (status == 413 and "bytes" in detail) or status is None, (status, detail)
    assert server.get("/health")[0] == 200  # and it goes on serving


def _post_too_big(port: int, payload: bytes) -> tuple[int | None, str]:
    """POST ``payload`` to /step; the server may answer 413 and close before the body is all sent
    (the client then sees a broken pipe), so the answer is read after a failed send too."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    cut = False
    try:
        try:
            conn.request("POST", "/step", body=payload, headers={"Content-Type": "application/json"})
        except (BrokenPipeError, ConnectionResetError):
            cut = True  # refused mid-body: its 413 is usually already in the socket
        try:
            resp = conn.getresponse()
        except (ConnectionResetError, http.client.RemoteDisconnected):
            if not cut:
                raise
            return None, "reset mid-body"
        return resp.status, json.loads(resp.read() or b"{}").get("detail", "")
    finally:
        conn.close()


def test_a_client_that_vanishes_mid_episode_frees_its_session(server):
    before = server.sessions()
    script = textwrap.dedent(f"""
        import os
        from openenv.core import GenericEnvClient
        env = GenericEnvClient(base_url="{server.url}").sync()
        env.connect()
        env.reset(seed=4)
        env.step({{"action": 0}})
        print("mid-episode", flush=True)
        os._exit(0)  # no close frame, no goodbye
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "mid-episode" in out.stdout, out.stderr
    server.wait_sessions(before)
    with client(server.url) as env:
        assert env.reset(seed=4).observation["info"]["steps"] == 0


def test_http_routes(server):
    status, body = request(server.url + "/reset", body=json.dumps({"seed": 3, "problem_index": 9}).encode())
    assert status == 200 and body["observation"]["info"]["problem_index"] == 9
    with client(server.url) as env:
        assert env.reset(seed=3, problem_index=9).observation == body["observation"]
    status, body = request(server.url + "/step", body=json.dumps({"action": {"action": 0}}).encode())
    assert status == 400 and "reset" in body["detail"]  # openenv's HTTP /step is stateless: use /ws
    status, body = request(server.url + "/reset", body=json.dumps({"seed": 3, "nope": 1}).encode())
    assert status == 400 and "unknown reset key" in body["detail"]
    assert server.get("/health") == (200, {"status": "healthy"})
    assert server.get("/metadata")[1]["name"] == f"r1gym:{ENV_ID}"


# -- limits and security -------------------------------------------------------------------------------

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def token_url(s: Server) -> str:
    return f"http://r1gym:{TOKEN}@127.0.0.1:{s.port}"  # HTTP Basic from the URL: GenericEnvClient unchanged


def test_the_token_is_required(strict_server):
    assert strict_server.get("/health")[0] == 401
    assert strict_server.get("/health", {"Authorization": "Bearer wrong"})[0] == 401
    assert strict_server.get("/health", AUTH) == (200, {"status": "healthy"})
    with pytest.raises(ConnectionError):
        client(strict_server.url).connect()
    with client(token_url(strict_server)) as env:
        assert not env.reset(seed=0).done


def test_sessions_past_the_maximum_are_refused(strict_server):
    strict_server.wait_sessions(0, headers=AUTH)
    with client(token_url(strict_server)) as a, client(token_url(strict_server)) as b:
        a.reset(seed=0)
        b.reset(seed=0)
        with client(token_url(strict_server)) as c, pytest.raises(RuntimeError, match="capacity.*CAPACITY_REACHED"):
            c.reset(seed=0)
    strict_server.wait_sessions(0, headers=AUTH)
    with client(token_url(strict_server)) as d:
        assert not d.reset(seed=0).done


def test_an_idle_session_is_closed(strict_server):
    with client(token_url(strict_server)) as env:
        env.reset(seed=0)
        time.sleep(1.6)
        strict_server.wait_sessions(0, headers=AUTH)
        with pytest.raises(websockets_closed()) as e:
            env.step({"action": 0})
        assert e.value.rcvd.code == IDLE_CLOSE_CODE and "idle" in e.value.rcvd.reason


def test_sigterm_shuts_down_cleanly_mid_episode():
    s = Server("--max-sessions", "2")
    with client(s.url) as env:
        env.reset(seed=0)
        env.step({"action": 0})
        t0 = time.monotonic()
        assert s.stop() == 0
        assert time.monotonic() - t0 < 10
    time.sleep(0.2)
    assert "Traceback" not in "".join(s.stderr), "".join(s.stderr)


# -- the command line: user mistakes are two sentences and exit status 2 -----------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--host", "0.0.0.0"], "not loopback"),
        (["--host", "0.0.0.0", "--allow-remote"], "access token"),
        (["num_candidates=abc"], "num_candidates"),
        (["difficulty"], "KEY=VALUE"),
        (["obs_mode=vector"], "obs_mode"),
        (["--max-sessions", "0"], "--max-sessions"),
        (["--token-file", "/nonexistent/token"], "--token-file"),
    ],
)
def test_cli_mistakes(argv, message, capsys):
    assert main(["serve", ENV_ID, *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") <= 2


def test_cli_unknown_env_and_short_token(capsys, monkeypatch):
    assert main(["serve", "R1Nope-v0"]) == 2
    assert "unknown environment id" in capsys.readouterr().err
    monkeypatch.setenv("R1GYM_SERVE_TOKEN", "short")
    assert main(["serve", ENV_ID, "--host", "0.0.0.0", "--allow-remote"]) == 2
    assert "at least 16 characters" in capsys.readouterr().err


def test_the_example_client_runs(server):
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "openenv_client.py"
    out = subprocess.run(
        [sys.executable, str(example), "--url", server.url, "--seed", "1"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "reward terms:" in out.stdout and "GRPO group on problem 7" in out.stdout


def test_write_mode_over_the_wire_judges_written_steps():
    """``r1gym serve ENV action_mode=write num_candidates=0``: a ``{"text": ...}`` that names no action
    is the model's step, judged, and the episode equals the in-process chat episode."""
    from r1gym.integrations.chat import ChatEpisode

    kwargs = ("action_mode=write", "num_candidates=0", "reveal=true")
    s = Server("--max-sessions", "2", env_id="R1Arith-v0", env_kwargs=kwargs)
    try:
        replies = ["42 ÷ 3 = 14", "14 + 12 = 27", "<backtrack>", "14 + 12 = 26", "Action: submit"]
        with client(s.url) as env:
            r = env.reset(seed=3)
            wire = [r.observation["prompt"]]
            labels = []
            for reply in replies:
                r = env.step({"text": reply})
                wire.append(r.observation["prompt"] if not r.done else r.observation["answer"])
                labels.append(r.observation["info"].get("step_label"))
        chat = ChatEpisode("R1Arith-v0", action_mode="write", num_candidates=0, reveal=True)
        chat.reset(seed=3)
        local = [chat.state]
        for reply in replies:
            _, _, done, _, info = chat.step(reply)
            local.append(chat.state if not done else info["answer"])
        assert wire == local
        assert labels[:2] == ["correct", "wrong"] and labels[3] == "correct" and r.done
    finally:
        assert s.stop() == 0
