"""r1gym as an OpenEnv server: ``r1gym serve ENV_ID`` (needs ``pip install 'r1gym[serve]'``).

Built on ``openenv-core`` (tested with 0.3.0): :class:`R1Environment` is an
``openenv.core.env_server.Environment`` whose every session is one :class:`ChatEpisode` over its
own ``gym.make`` (one isolated env per WebSocket session); openenv's ``HTTPEnvServer`` gives the
routes (``/ws`` sessions, ``/reset``, ``/step``, ``/state``, ``/health``, ``/schema``,
``/metadata``), the message protocol and the session count. r1gym adds three small ASGI layers in
front of it: an access token (required off loopback), a payload limit, and an idle timeout that
closes the socket (openenv 0.3.0's own reaper frees the slot but leaves the socket open on a closed
env, and checks every 5 s at best).

Wire format (docs/trainers.md): ``reset`` takes ``seed``, ``problem_index``, ``options`` (the env's
reset options) and ``episode_id``; ``step`` takes ``{"action": int}`` or ``{"text": str}`` (read by
:func:`r1gym.core.actions.parse_action_text`); the observation is :class:`R1Observation`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import functools
import hmac
import ipaddress
import json
import signal
import socket
from collections.abc import Mapping
from typing import Any

from openenv.core.env_server import Environment, HTTPEnvServer
from openenv.core.env_server.types import Action, ConcurrencyConfig, EnvironmentMetadata, Observation, State
from pydantic import ConfigDict, Field, StrictInt, StrictStr, model_validator
from pydantic_core import PydanticCustomError

from r1gym._version import __version__
from r1gym.errors import R1GymError
from r1gym.integrations.chat import ChatEpisode, system_message

#: Longest ``{"text": ...}`` a step takes, in characters (a longer one is a validation error frame).
MAX_TEXT_CHARS = 16_384
#: Largest WebSocket message or HTTP body, in bytes: past it the socket is closed (1009) / HTTP 413.
MAX_MESSAGE_BYTES = 1 << 20
DEFAULT_MAX_SESSIONS = 64
DEFAULT_IDLE_TIMEOUT = 300.0
#: WebSocket close code of a session closed for idleness (4000-4999: the application's own).
IDLE_CLOSE_CODE = 4408
MIN_TOKEN_CHARS = 16


class R1Action(Action):
    """One step: ``{"action": int}`` (a menu action) or ``{"text": str}`` (a protocol string), not both."""

    model_config = ConfigDict(extra="forbid", strict=True)

    action: StrictInt | None = Field(
        default=None, ge=0, description="menu action: 0..K-1 expand, K backtrack, K+1 submit"
    )
    text: StrictStr | None = Field(
        default=None, max_length=MAX_TEXT_CHARS, description="text protocol: <expand_i>, <backtrack> or <submit>"
    )

    @model_validator(mode="after")
    def _one_of(self) -> R1Action:
        if (self.action is None) == (self.text is None):
            # a PydanticCustomError, not a ValueError: openenv puts the errors in the error frame as JSON
            raise PydanticCustomError(
                "one_of", 'a step is {"action": <int>} or {"text": "<expand_i> | <backtrack> | <submit>"}, exactly one'
            )
        return self


class R1Observation(Observation):
    """What a session sees after reset and after each step (``reward`` and ``done`` are OpenEnv's)."""

    prompt: str = Field(default="", description="the state as the model reads it (the user message)")
    system: str | None = Field(default=None, description="the system message (rules and protocol); on reset only")
    context: str = ""
    candidates: list[str] = Field(default_factory=list)
    confidence: list[float] = Field(default_factory=list)
    action_mask: list[int] = Field(default_factory=list)
    tried: list[int] = Field(default_factory=list)
    progress: list[float] = Field(default_factory=list)
    num_candidates: int = 0
    terminated: bool = False
    truncated: bool = False
    answer: str | None = Field(default=None, description="on submit")
    reference: str | None = Field(default=None, description="on submit")
    is_correct: bool | None = Field(default=None, description="on submit")
    reward_terms: dict[str, float] | None = Field(default=None, description="on submit: accuracy, efficiency, novelty")
    info: dict[str, Any] = Field(default_factory=dict, description="the env's info, plus turns and invalid_replies")


class R1State(State):
    env_id: str = ""
    problem_index: int | None = None
    uid: str | None = None
    turns: int = 0
    invalid_replies: int = 0
    done: bool = True


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars and arrays, tuples and other containers as plain JSON types."""
    if isinstance(value, (str, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return jsonable(value.tolist())
    if isinstance(value, (int, float)):
        return value
    return str(value)


def observation_from(
    episode: ChatEpisode, reward: float | None, terminated: bool, truncated: bool, system: str | None = None
) -> R1Observation:
    """The :class:`R1Observation` of a chat episode's current state (the same in process and on the wire)."""
    obs, info = episode.obs, episode.info
    assert obs is not None
    submitted = "reward_terms" in info
    return R1Observation(
        prompt=episode.state,
        system=system,
        context=obs["context"],
        candidates=list(obs.get("candidates", ())),  # none in write mode with num_candidates=0
        confidence=[float(c) for c in obs.get("confidence", ())],
        action_mask=[int(m) for m in obs["action_mask"]],
        tried=[int(t) for t in obs.get("tried", ())],
        progress=[float(p) for p in obs["progress"]],
        num_candidates=episode.num_candidates,
        terminated=terminated,
        truncated=truncated,
        answer=info.get("answer") if submitted else None,
        reference=info.get("reference") if submitted else None,
        is_correct=bool(info["is_correct"]) if submitted else None,
        reward_terms={k: float(v) for k, v in info["reward_terms"].items()} if submitted else None,
        info=jsonable(info),
        reward=reward,
        done=bool(terminated or truncated),
    )


class R1Environment(Environment[R1Action, R1Observation, R1State]):
    """One session: an r1gym env (``obs_mode="text"``) played through :class:`ChatEpisode`."""

    SUPPORTS_CONCURRENT_SESSIONS = True  # every session makes its own env; nothing mutable is shared

    def __init__(self, env_id: str, env_kwargs: Mapping[str, Any] | None = None):
        super().__init__()
        self.env_id = env_id
        self.episode = ChatEpisode(env_id, on_no_action="error", **dict(env_kwargs or {}))
        self._episode_id: str | None = None

    def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        problem_index: int | None = None,
        options: Mapping[str, Any] | None = None,
        **unknown: Any,
    ) -> R1Observation:
        if unknown:
            raise ValueError(
                f"unknown reset key(s) {sorted(unknown)}: reset takes seed, problem_index, options and episode_id"
            )
        for name, value in (("seed", seed), ("problem_index", problem_index)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if options is not None and not isinstance(options, Mapping):
            raise ValueError(f"options must be an object, got {options!r}")
        if episode_id is not None and not isinstance(episode_id, str):
            raise ValueError(f"episode_id must be a string, got {episode_id!r}")
        opts = dict(options or {})
        if problem_index is not None:
            opts["problem_index"] = problem_index
        self.episode.reset(seed=seed, options=opts or None)
        self._episode_id = episode_id
        system = system_message(self.episode.num_candidates, self.episode.max_turns, self.episode.write)["content"]
        return observation_from(self.episode, None, False, False, system=system)

    def step(self, action: R1Action, timeout_s: float | None = None, **kwargs: Any) -> R1Observation:
        if action.text is not None:
            _, reward, terminated, truncated, _ = self.episode.step(action.text)
        else:
            _, reward, terminated, truncated, _ = self.episode.step_action(action.action)
        return observation_from(self.episode, reward, terminated, truncated)

    @property
    def state(self) -> R1State:
        info = self.episode.info
        return R1State(
            episode_id=self._episode_id,
            step_count=self.episode.turns,
            env_id=self.env_id,
            problem_index=info.get("problem_index"),
            uid=info.get("uid"),
            turns=self.episode.turns,
            invalid_replies=self.episode.invalid_replies,
            done=self.episode.done,
        )

    def get_metadata(self) -> EnvironmentMetadata:
        return EnvironmentMetadata(
            name=f"r1gym:{self.env_id}",
            description="Step-by-step reasoning as an MDP: expand a candidate, backtrack, or submit.",
            readme_content=system_message(self.episode.num_candidates, self.episode.max_turns, self.episode.write)[
                "content"
            ],
            version=__version__,
            documentation_url="docs/trainers.md",
        )

    def close(self) -> None:
        self.episode.close()


# -- ASGI layers in front of openenv's app --------------------------------------------------------------


async def _refuse_http(send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


class TokenGate:
    """Every HTTP request and WebSocket handshake must carry the token: ``Authorization: Bearer TOKEN``,
    or HTTP Basic with the token as the password (what a client sends for ``http://user:TOKEN@host``,
    so openenv's ``GenericEnvClient`` works unchanged)."""

    def __init__(self, app, token: str):
        self.app, self.token = app, token.encode()

    def _allowed(self, scope) -> bool:
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"")
        scheme, _, value = auth.partition(b" ")
        if scheme.lower() == b"bearer":
            return hmac.compare_digest(value.strip(), self.token)
        if scheme.lower() == b"basic":
            try:
                _, _, password = base64.b64decode(value.strip(), validate=True).partition(b":")
            except (binascii.Error, ValueError):
                return False
            return hmac.compare_digest(password, self.token)
        return False

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and not self._allowed(scope):
            if scope["type"] == "http":
                return await _refuse_http(send, 401, "an access token is required: Authorization: Bearer TOKEN")
            await receive()  # websocket.connect
            return await send({"type": "websocket.close", "code": 1008, "reason": "access token required"})
        return await self.app(scope, receive, send)


class BodyLimit:
    """An HTTP body over ``limit`` bytes is refused (413) before the app reads it."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            length = headers.get(b"content-length")
            if length is not None:
                if not length.isdigit() or int(length) > self.limit:
                    return await _refuse_http(send, 413, f"the body is over the {self.limit} bytes this server takes")
            elif scope.get("method") in ("POST", "PUT", "PATCH"):
                return await _refuse_http(send, 411, "a body needs a Content-Length")
        return await self.app(scope, receive, send)


class SessionGuard:
    """The WebSocket side: a session that sends nothing for ``idle_timeout`` seconds is closed (code
    4408) and its env freed; a close that finds the client already gone is not an error (openenv
    0.3.0 closes the socket after the client's own close and logs a traceback when it is gone)."""

    def __init__(self, app, idle_timeout: float | None, server: HTTPEnvServer | None = None):
        self.app, self.idle_timeout, self.server = app, idle_timeout, server

    async def _refuse_full(self, receive, send) -> None:
        """Past the maximum: the client's first message is answered with the refusal, then the socket
        closes (1013, try again later). openenv refuses too, but closes at once, so a client's first
        send finds the socket closed and never reads why."""
        server = self.server
        assert server is not None
        message = (
            f"server at capacity: {server.active_sessions} of {server.max_concurrent_envs} sessions are open; "
            "close one or try again later"
        )
        frame = {"type": "error", "data": {"message": message, "code": "CAPACITY_REACHED"}}
        try:
            await receive()  # websocket.connect
            await send({"type": "websocket.accept"})
            first = await asyncio.wait_for(receive(), timeout=10)
            if first["type"] != "websocket.disconnect":
                await send({"type": "websocket.send", "text": json.dumps(frame)})
                await send({"type": "websocket.close", "code": 1013, "reason": "server at capacity"})
        except Exception:  # the client gave up first
            pass

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        if self.server is not None and self.server.active_sessions >= self.server.max_concurrent_envs:
            return await self._refuse_full(receive, send)
        closed = False

        async def guarded_send(message):
            if closed:
                return
            if message["type"] == "websocket.close":
                try:
                    await send(message)
                except Exception:  # the client closed first or vanished: nothing left to tell it
                    pass
                return
            await send(message)

        async def timed_receive():
            nonlocal closed
            if closed:
                return {"type": "websocket.disconnect", "code": IDLE_CLOSE_CODE}
            if self.idle_timeout is None:
                return await receive()
            try:
                return await asyncio.wait_for(receive(), timeout=self.idle_timeout)
            except asyncio.TimeoutError:
                closed = True
                reason = f"idle for {self.idle_timeout:g} s: session closed"
                try:
                    await send({"type": "websocket.close", "code": IDLE_CLOSE_CODE, "reason": reason})
                except Exception:  # the client went away at the same moment
                    pass
                return {"type": "websocket.disconnect", "code": IDLE_CLOSE_CODE}

        return await self.app(scope, timed_receive, guarded_send)


def create_app(
    env_id: str,
    env_kwargs: Mapping[str, Any] | None = None,
    *,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    token: str | None = None,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
):
    """The ASGI app serving ``env_id``: openenv's routes for :class:`R1Environment`, behind r1gym's layers.

    Also ``GET /sessions``: ``{"active": n, "max": m}``.
    """
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    factory = functools.partial(R1Environment, env_id, dict(env_kwargs or {}))
    server = HTTPEnvServer(
        factory,
        R1Action,
        R1Observation,
        concurrency_config=ConcurrencyConfig(max_concurrent_envs=max_sessions, session_timeout=None),
    )
    app = FastAPI(title=f"r1gym {env_id} (OpenEnv)", version=__version__)
    server.register_routes(app)

    @app.get("/sessions")
    async def sessions() -> dict[str, int]:
        return {"active": server.active_sessions, "max": server.max_concurrent_envs}

    @app.exception_handler(R1GymError)
    @app.exception_handler(ValueError)
    @app.exception_handler(TypeError)
    async def _user_error(request, exc):  # the stateless HTTP /step (a fresh env) and bad reset values
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    asgi: Any = app
    asgi = SessionGuard(asgi, idle_timeout, server)
    asgi = BodyLimit(asgi, max_message_bytes)
    if token:
        asgi = TokenGate(asgi, token)
    asgi.openenv_server = server  # type: ignore[attr-defined]
    return asgi


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, allow_remote: bool, token: str | None) -> str | None:
    """Why binding ``host`` is refused, or None: off loopback needs ``--allow-remote`` and a token."""
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        return (
            f"the access token must be at least {MIN_TOKEN_CHARS} characters; make one with "
            "python -c 'import secrets; print(secrets.token_urlsafe())'"
        )
    if is_loopback(host):
        return None
    if not allow_remote or not token:
        return (
            f"refusing to listen on {host}, which is not loopback: anyone who reaches it could drive the server. "
            "Pass --allow-remote and an access token (--token-file FILE or R1GYM_SERVE_TOKEN), or use 127.0.0.1."
        )
    return None


def _quiet_server_class():
    import uvicorn

    class QuietServer(uvicorn.Server):
        """uvicorn's server, but after a graceful shutdown on SIGTERM or SIGINT it returns (exit status 0)
        instead of raising the signal again (uvicorn's default: status -15, or a KeyboardInterrupt)."""

        @contextlib.contextmanager
        def capture_signals(self):
            with super().capture_signals():
                yield
                self._captured_signals = [s for s in self._captured_signals if s not in (signal.SIGTERM, signal.SIGINT)]

    return QuietServer


def serve(
    env_id: str,
    env_kwargs: Mapping[str, Any] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    log_level: str = "warning",
    announce=print,
) -> None:
    """Serve until SIGTERM or SIGINT (uvicorn's graceful shutdown: open sessions are closed, 5 s at most).

    ``port=0`` takes a free port; ``announce`` gets one line with the address once the socket listens.
    """
    import uvicorn

    app = create_app(env_id, env_kwargs, max_sessions=max_sessions, idle_timeout=idle_timeout, token=token)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=256)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level=log_level,
        ws_max_size=MAX_MESSAGE_BYTES,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        timeout_graceful_shutdown=5,
        lifespan="on",
    )
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    announce(
        f"r1gym serve: {env_id} on http://{shown}:{bound} (WebSocket ws://{shown}:{bound}/ws), "
        f"{max_sessions} sessions at most, idle timeout {idle_timeout if idle_timeout is not None else 'none'} s"
        + (", access token required" if token else "")
    )
    _quiet_server_class()(config).run(sockets=[sock])
