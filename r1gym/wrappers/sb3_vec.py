"""Stable-Baselines3's ``VecEnv`` API over a Gymnasium 1.x ``VectorEnv`` (``gym.make_vec``).

Why: SB3's algorithms take an SB3 :class:`~stable_baselines3.common.vec_env.VecEnv`, not a
Gymnasium :class:`~gymnasium.vector.VectorEnv`, and the two disagree on conventions. This
adapter lets SB3 train on ``gym.make_vec(..., vectorization_mode="sync" | "async")``, so that
Gymnasium's own vectorization (its ``SyncVectorEnv`` and its shared-memory ``AsyncVectorEnv``)
can be measured and used beside SB3's ``DummyVecEnv`` / ``SubprocVecEnv``. It needs
stable-baselines3 (the ``sb3`` extra); ``r1gym.wrappers`` does not import it.

What it translates:

* ``reset()`` returns only the observations (a dict of stacked arrays for a ``Dict`` space, an
  array otherwise); the seeds set by :meth:`seed` (seed + i for copy i) and the options set by
  ``set_options`` are used at that reset only, as in SB3. Each copy's reset info is in
  ``reset_infos[i]``.
* ``step_wait()`` returns ``(obs, rewards, dones, infos)`` with ``dones = terminated |
  truncated`` and ``infos`` a list of one plain dict per copy, rebuilt from Gymnasium's
  dict-of-arrays infos (a key is in copy i's dict only where its ``_key`` mask is true; nested
  dicts are rebuilt the same way; values come back as the batched arrays hold them, e.g. a
  Python int as ``numpy.int64``). A copy whose episode ended gets SB3's keys:
  ``terminal_observation`` (its last observation, from ``infos["final_obs"]``),
  ``TimeLimit.truncated`` (``truncated and not terminated``), and the info of its last step
  (from ``infos["final_info"]``); the observation returned for it is already the first of its
  next episode, and the info of that reset goes to ``reset_infos[i]``. This is exactly what
  ``DummyVecEnv`` does, and it needs the vector env to autoreset in the same step:
  ``vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}`` (other modes are
  refused). ``TimeLimit.truncated`` is set on every step, as ``DummyVecEnv`` does.
* Rewards are float32 and dones bool, as from ``DummyVecEnv``.
* ``get_attr`` / ``has_attr`` / ``env_method`` / ``set_attr`` go through Gymnasium's
  ``get_attr`` / ``call`` / ``set_attr``, which reach attributes through the wrappers
  (``get_wrapper_attr``). Gymnasium always calls every copy, so ``env_method`` and ``set_attr``
  on a proper subset of ``indices`` raise ``NotImplementedError`` (calling a method on every
  copy and keeping some results would have side effects on the others); ``get_attr`` reads
  every copy and keeps those asked for. ``has_attr`` uses ``has_wrapper_attr``, because in
  async mode a missing attribute raised in a worker shuts that worker down.
* ``env_is_wrapped`` is exact for a ``SyncVectorEnv`` (it walks the copies' wrappers); the copies
  of an ``AsyncVectorEnv`` live in other processes that Gymnasium gives no way to inspect, so
  there it answers ``False`` for every copy (SB3 uses it only to warn that episode statistics
  may be missing when ``Monitor`` is not found).
* ``step_async`` forwards to ``AsyncVectorEnv.step_async`` when the vector env is one (the
  copies step while the caller works); otherwise the step runs in ``step_wait``.

Limits: Gymnasium's ``reset`` takes one ``options`` dict for all copies, so different options
per copy raise ``NotImplementedError``; ``render`` / ``get_images`` are not provided. Gymnasium
types each info array from the first value it sees in a step, so an info key that is an int in one
copy and a float (or None) in another is truncated (or refused) before it reaches this adapter.

Example::

    env = SB3VecEnv.make("R1Math-v0", num_envs=2, vectorization_mode="async")
    model = PPO("MultiInputPolicy", env)
    model.learn(10_000)
    env.close()
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, VectorEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from r1gym.core.vector import info_at

__all__ = ["SB3VecEnv"]

_FINAL_KEYS = ("final_obs", "final_info")


class SB3VecEnv(VecEnv):
    """SB3's ``VecEnv`` over a Gymnasium ``VectorEnv`` that autoresets in the same step.

    Args:
        venv: a Gymnasium 1.x vector env, e.g. ``gym.make_vec(env_id, num_envs=n,
            vectorization_mode="sync" or "async", vector_kwargs={"autoreset_mode":
            gym.vector.AutoresetMode.SAME_STEP})``; :meth:`make` builds one. The adapter owns it:
            :meth:`close` closes it.

    See the module's docstring for the conventions translated and the limits.
    """

    def __init__(self, venv: VectorEnv) -> None:
        mode = venv.metadata.get("autoreset_mode")
        if mode != AutoresetMode.SAME_STEP:
            raise ValueError(
                f"SB3VecEnv needs a vector env that autoresets in the same step (SB3's convention), got "
                f"autoreset_mode={mode!r}: make it with vector_kwargs={{'autoreset_mode': "
                "gym.vector.AutoresetMode.SAME_STEP}"
            )
        self.venv = venv
        self._async = isinstance(venv, AsyncVectorEnv)  # not through wrappers: they must see the step
        self._actions: np.ndarray | None = None
        self._pending = False
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)

    @classmethod
    def make(
        cls,
        env_id: str,
        num_envs: int = 1,
        vectorization_mode: str = "sync",
        vector_kwargs: dict[str, Any] | None = None,
        **env_kwargs: Any,
    ) -> SB3VecEnv:
        """``gym.make_vec(env_id, num_envs, vectorization_mode, ...)`` in SAME_STEP autoreset, adapted."""
        kwargs = {"autoreset_mode": AutoresetMode.SAME_STEP, **(vector_kwargs or {})}
        venv = gym.make_vec(
            env_id, num_envs=num_envs, vectorization_mode=vectorization_mode, vector_kwargs=kwargs, **env_kwargs
        )
        try:
            return cls(venv)
        except BaseException:
            venv.close()
            raise

    # -- stepping ------------------------------------------------------------------------------
    def reset(self) -> VecEnvObs:
        if self._pending:  # SB3: a reset cancels a pending step (here: waits for it, then drops it)
            self._pending = False
            if self._async:
                self.venv.step_wait()  # type: ignore[attr-defined]
        seeds = list(self._seeds) if any(s is not None for s in self._seeds) else None
        options = None
        if any(self._options):
            if any(o != self._options[0] for o in self._options):
                raise NotImplementedError(
                    "Gymnasium's VectorEnv.reset takes one options dict for all copies; "
                    "set_options was given different options per copy"
                )
            options = dict(self._options[0])
        obs, infos = self.venv.reset(seed=seeds, options=options)
        self.reset_infos = [info_at(infos, i) for i in range(self.num_envs)]
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        if self._async:
            self.venv.step_async(actions)  # type: ignore[attr-defined]
        else:
            self._actions = actions
        self._pending = True

    def step_wait(self) -> VecEnvStepReturn:
        if not self._pending:
            raise RuntimeError("step_wait() without a step_async() before it")
        self._pending = False
        if self._async:
            obs, rewards, terminated, truncated, infos = self.venv.step_wait()  # type: ignore[attr-defined]
        else:
            obs, rewards, terminated, truncated, infos = self.venv.step(self._actions)
            self._actions = None
        dones = np.logical_or(terminated, truncated)
        final_obs = infos.get("final_obs")
        final_info = infos.get("final_info", {})
        out: list[dict[str, Any]] = []
        for i in range(self.num_envs):
            if dones[i]:
                info = info_at(final_info, i)
                info["terminal_observation"] = final_obs[i]  # type: ignore[index]
                self.reset_infos[i] = info_at(infos, i, skip=_FINAL_KEYS)
            else:
                info = info_at(infos, i, skip=_FINAL_KEYS)
            info["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            out.append(info)
        return obs, np.asarray(rewards, dtype=np.float32), dones.astype(bool), out

    def close(self) -> None:
        self.venv.close()

    # -- attributes and methods of the copies --------------------------------------------------
    def _indices_are_all(self, indices: VecEnvIndices, what: str) -> None:
        if sorted(self._get_indices(indices)) != list(range(self.num_envs)):
            raise NotImplementedError(
                f"{what} on some copies only: Gymnasium's VectorEnv applies it to every copy "
                f"(asked for indices {indices!r} of {self.num_envs})"
            )

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        values = self.venv.get_attr(attr_name)
        return [values[i] for i in self._get_indices(indices)]

    def has_attr(self, attr_name: str) -> bool:
        return all(self.venv.call("has_wrapper_attr", attr_name))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        self._indices_are_all(indices, f"set_attr({attr_name!r})")
        # a list or tuple would be read by Gymnasium as one value per copy: SB3 sets the same value on each
        self.venv.set_attr(attr_name, [value] * self.num_envs)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        self._indices_are_all(indices, f"env_method({method_name!r})")
        return list(self.venv.call(method_name, *method_args, **method_kwargs))

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        envs = getattr(self.venv, "envs", None)  # a SyncVectorEnv holds its copies; an AsyncVectorEnv does not
        if envs is None:
            return [False for _ in self._get_indices(indices)]
        from stable_baselines3.common.env_util import is_wrapped

        return [is_wrapped(envs[i], wrapper_class) for i in self._get_indices(indices)]
