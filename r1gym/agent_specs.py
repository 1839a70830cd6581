"""Agents from a command-line spec: ``greedy``, ``sb3:model.zip``, ``llm:DIR``, ``pkg.mod:Class``.

``r1gym eval --agent SPEC``, the training scripts' final evaluation and the experiments all turn a
string into an agent here. The forms are listed in :data:`AGENT_SPEC_FORMS`; an unknown spec's
error lists them all. This module sits above :mod:`r1gym.evaluation` (it knows every kind of
agent: the baselines, saved stable-baselines3 models, saved LLM policies), so evaluation itself
plays any object with ``act(obs, info)`` and imports none of them.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from r1gym.baselines import BASELINES, make_baseline

AGENT_SPEC_FORMS = (
    "a baseline name: " + ", ".join(["random", "greedy", "backtrack", "best-first", "mcts", "oracle"]),
    "an import path: package.module:Class (instantiated without arguments) or package.module:factory",
    "sb3:PATH for a saved stable-baselines3 / sb3-contrib model (.zip)",
    "llm:DIR for an LLM policy saved by agents/llm_policy.py (llm:DIR?int8 for int8 inference, llm:DIR?sample to "
    "sample its actions, llm:DIR?int8,sample for both)",
)


def resolve_agent(spec: str, seed: int = 0) -> Any:
    """An agent from a command-line SPEC (see ``AGENT_SPEC_FORMS``); errors list the valid forms."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(_spec_error(spec, "empty"))
    if spec in BASELINES:
        return make_baseline(spec, seed=seed) if spec in ("random", "mcts") else make_baseline(spec)
    if spec.startswith("sb3:"):
        return SB3Agent.load(spec[4:])
    if spec.startswith("llm:"):
        path, _, option = spec[4:].partition("?")
        options = [o for o in option.split(",") if o]
        unknown = [o for o in options if o not in ("int8", "sample")]
        if unknown:
            raise ValueError(_spec_error(spec, f"unknown option {unknown[0]!r} (the options are ?int8 and ?sample)"))
        try:
            from r1gym.llm.agent import LLMAgent
        except ImportError as e:
            raise ImportError(f"agent {spec!r} needs torch and transformers: pip install 'r1gym[llm]' ({e})") from e
        return LLMAgent(path, quantize="int8" if "int8" in options else None, sample="sample" in options, seed=seed)
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            obj = getattr(_import_module(module_name), attr)
        except (ImportError, AttributeError) as e:
            raise ValueError(_spec_error(spec, f"cannot import it ({e})")) from None
        if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "act")):
            try:
                agent = obj()
            except TypeError as e:
                raise ValueError(_spec_error(spec, f"calling it without arguments failed: {e}")) from None
        else:
            agent = obj
        if not hasattr(agent, "act"):
            raise ValueError(_spec_error(spec, f"{type(agent).__name__} has no act(obs, info) method"))
        return agent
    hint = difflib.get_close_matches(spec, list(BASELINES), n=1)
    reason = f"unknown name; did you mean {hint[0]!r}?" if hint else "unknown name"
    raise ValueError(_spec_error(spec, reason))


def _import_module(name: str) -> Any:
    """``importlib.import_module(name)``; a module not found is looked for in the current folder
    too, as ``python -m`` and ``uvicorn module:app`` do (the ``r1gym`` command's ``sys.path``
    starts with its own folder, not the one it was run from)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        here = os.getcwd()
        if e.name != name.partition(".")[0] or here in sys.path or "" in sys.path:
            raise
        sys.path.insert(0, here)
        return importlib.import_module(name)


def _spec_error(spec: object, reason: str) -> str:
    forms = "\n  ".join(AGENT_SPEC_FORMS)
    return f"agent spec {spec!r} does not resolve ({reason}). Valid forms:\n  {forms}"


class SB3Agent:
    """A saved stable-baselines3 / sb3-contrib model as an r1gym agent (vector observations).

    The algorithm class is read from the policy the file names: a maskable policy loads with
    sb3-contrib's MaskablePPO (and gets the action mask at every decision), a Q-network with
    DQN, anything else with PPO (prediction only needs the policy).
    """

    def __init__(self, model: Any, maskable: bool, name: str = "sb3") -> None:
        self.model, self.maskable, self.name = model, maskable, name

    @classmethod
    def load(cls, path: str) -> SB3Agent:
        p = Path(path)
        if not p.exists() and p.with_suffix(".zip").exists():
            p = p.with_suffix(".zip")
        if not p.exists():
            raise FileNotFoundError(f"sb3 model {path!r} does not exist (expected a .zip saved by model.save())")
        try:
            with zipfile.ZipFile(p) as z:
                data = json.loads(z.read("data"))
        except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as e:
            raise ValueError(f"{p} is not a stable-baselines3 model file ({e})") from None
        policy = str(data.get("policy_class", {}).get(":serialized:", "")) + str(data.get("policy_class", ""))
        try:
            if "Maskable" in policy or "maskable" in policy:
                from sb3_contrib import MaskablePPO as Algo

                maskable = True
            elif "QNetwork" in policy or "DQNPolicy" in policy or "dqn" in policy:
                from stable_baselines3 import DQN as Algo

                maskable = False
            else:
                from stable_baselines3 import PPO as Algo

                maskable = False
        except ImportError as e:
            raise ImportError("sb3: agents need stable-baselines3 (and sb3-contrib): pip install 'r1gym[sb3]'") from e
        model = Algo.load(str(p), device="cpu")
        return cls(model, maskable, name=f"sb3:{p.name}")

    def reset(self) -> None:
        pass

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> int:
        kwargs = {"action_masks": np.asarray(obs["action_mask"], dtype=bool)} if self.maskable else {}
        action, _ = self.model.predict(obs, deterministic=True, **kwargs)
        return int(np.asarray(action).reshape(-1)[0])
