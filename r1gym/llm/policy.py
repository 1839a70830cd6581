"""A causal language model as an r1gym policy: masked logits of action tokens, and a value.

The policy reads ``format_prompt(obs)`` (the text observation: instruction, question, path so
far, candidates with their confidences, then ``Action:``) and scores the K + 2 actions by the
logits of the action tokens ``<expand_0>`` .. ``<expand_{K-1}>``, ``<backtrack>``, ``<submit>``
at the last position, the way a language model would write its choice as the next token;
actions the mask forbids get ``-inf``. A linear value head on the same last hidden state
estimates the return.

Only the last position of each prompt goes through the output layer, and the prompt's first part, the instruction that every prompt shares, can be run once and its key-value
cache reused by every later batch (``prefix_cache``). A prompt is always tokenized as
``prefix ids + suffix ids`` so that the cached and uncached paths see the same tokens.

Works with any ``transformers`` causal LM whose base model takes ``attention_mask`` and
``position_ids`` (Llama, Qwen2, GPT-2, ...): a local one by path (``LLMPolicy.from_pretrained``),
or a tiny one built from a config with the shipped tokenizer (:func:`tiny_lm`).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from r1gym.tokenizer import action_token_ids, load_tokenizer
from r1gym.wrappers.text_prompt import DEFAULT_INSTRUCTION, format_prompt

POLICY_FILE = "r1gym_policy.json"
VALUE_FILE = "value_head.pt"

#: the default tiny model: about 0.5 M parameters with the shipped 3,072-token vocabulary
TINY_CONFIG: dict[str, Any] = {
    "hidden_size": 96,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 1024,
    "tie_word_embeddings": True,
}


def tiny_lm(tokenizer: Any, seed: int = 0, **overrides: Any) -> nn.Module:
    """A small Llama built from a config (random weights, nothing downloaded) for ``tokenizer``."""
    from transformers import LlamaConfig, LlamaForCausalLM

    unknown = set(overrides) - set(TINY_CONFIG)
    if unknown:
        raise TypeError(f"tiny_lm: unknown setting(s) {sorted(unknown)}; known: {sorted(TINY_CONFIG)}")
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **{**TINY_CONFIG, **overrides},
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def _cache_kwarg(base: nn.Module) -> str:
    """``cache`` (transformers 5) or ``past_key_values`` (4.x): how the base model takes a cache."""
    params = inspect.signature(base.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


class LLMPolicy(nn.Module):
    """A causal LM and a value head, scoring the actions of an r1gym text observation.

    Args:
        lm: a ``transformers`` causal LM (``AutoModelForCausalLM``).
        tokenizer: its tokenizer; it must have r1gym's action tokens (the shipped one has;
            :func:`add_action_tokens` adds them to another and resizes the model).
        num_candidates: K of the environments it plays.
        instruction: the prompt's first paragraph (:data:`DEFAULT_INSTRUCTION`).
        show_confidence: write each candidate's confidence in the prompt.
        max_prompt_tokens: prompts are cut to their last this many tokens after the prefix (the
            candidates and ``Action:`` are at the end), so the model's position limit holds.
    """

    def __init__(
        self,
        lm: nn.Module,
        tokenizer: Any,
        num_candidates: int,
        instruction: str = DEFAULT_INSTRUCTION,
        show_confidence: bool = True,
        max_prompt_tokens: int = 768,
    ) -> None:
        super().__init__()
        self.lm = lm
        self.tokenizer = tokenizer
        self.num_candidates = int(num_candidates)
        self.instruction = instruction
        self.show_confidence = bool(show_confidence)
        self.max_prompt_tokens = int(max_prompt_tokens)
        hidden = lm.config.hidden_size if hasattr(lm.config, "hidden_size") else lm.config.n_embd
        self.value_head = nn.Linear(hidden, 1)
        nn.init.zeros_(self.value_head.weight)
        nn.init.zeros_(self.value_head.bias)
        self.register_buffer(
            "action_ids", torch.tensor(action_token_ids(tokenizer, self.num_candidates)), persistent=False
        )
        if tokenizer.pad_token_id is None:
            raise ValueError("the tokenizer needs a pad token (tokenizer.pad_token = tokenizer.eos_token works)")
        # The instruction every prompt starts with, tokenized once.
        self.prefix_text = instruction + "\n\n"
        self.prefix_ids: list[int] = tokenizer.encode(self.prefix_text, add_special_tokens=False)
        self._prefix_kv: list[tuple[torch.Tensor, torch.Tensor]] | None = None
        self._cache_kw = _cache_kwarg(self.base)

    # -- the model's parts -----------------------------------------------------------------
    @property
    def base(self) -> nn.Module:
        """The decoder without its output layer (``lm.model`` for Llama, ``lm.transformer`` for GPT-2)."""
        return self.lm.base_model

    # -- prompts -----------------------------------------------------------------------------
    def prompt(self, obs: Mapping[str, Any]) -> str:
        return format_prompt(obs, instruction=self.instruction, show_confidence=self.show_confidence)

    def encode(self, observations: Sequence[Mapping[str, Any]]) -> list[list[int]]:
        """Token ids after the shared prefix, one list per observation."""
        out = []
        for obs in observations:
            k = len(obs["action_mask"]) - 2
            if k != self.num_candidates:
                raise ValueError(f"this policy plays K = {self.num_candidates} candidates; the observation has K = {k}")
            text = self.prompt(obs)
            if not text.startswith(self.prefix_text):
                raise ValueError("the prompt does not start with the policy's instruction")
            ids = self.tokenizer.encode(text[len(self.prefix_text) :], add_special_tokens=False)
            out.append(ids[-self.max_prompt_tokens :])
        return out

    @staticmethod
    def masks(observations: Sequence[Mapping[str, Any]]) -> torch.Tensor:
        return torch.as_tensor(np.stack([np.asarray(o["action_mask"], dtype=bool) for o in observations]))

    # -- forward -----------------------------------------------------------------------------
    def forward(
        self, suffixes: Sequence[Sequence[int]], prefix_cache: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Action logits ``(B, K + 2)`` (unmasked) and values ``(B,)`` for tokenized prompts.

        ``prefix_cache=True`` reuses the key-value cache of the shared prefix (inference only:
        the cache is computed without gradients and kept until :meth:`clear_cache`).
        """
        device = self.action_ids.device
        b = len(suffixes)
        s = max(len(x) for x in suffixes)
        pad = self.tokenizer.pad_token_id
        p = len(self.prefix_ids)
        if prefix_cache:
            ids = torch.full((b, s), pad, dtype=torch.long)
            mask = torch.zeros((b, p + s), dtype=torch.long)
            mask[:, :p] = 1
            for i, x in enumerate(suffixes):
                ids[i, : len(x)] = torch.tensor(x)
                mask[i, p : p + len(x)] = 1
            positions = torch.arange(p, p + s).expand(b, s)
            lengths = torch.tensor([len(x) for x in suffixes])
            kv = self._prefix_cache(device)
            from transformers import DynamicCache

            cache = DynamicCache(ddp_cache_data=[(k.expand(b, -1, -1, -1), v.expand(b, -1, -1, -1)) for k, v in kv])
            out = self.base(
                input_ids=ids.to(device),
                attention_mask=mask.to(device),
                position_ids=positions.to(device),
                use_cache=True,
                **{self._cache_kw: cache},
            )
        else:
            ids = torch.full((b, p + s), pad, dtype=torch.long)
            mask = torch.zeros((b, p + s), dtype=torch.long)
            prefix = torch.tensor(self.prefix_ids)
            for i, x in enumerate(suffixes):
                ids[i, :p] = prefix
                ids[i, p : p + len(x)] = torch.tensor(x)
                mask[i, : p + len(x)] = 1
            positions = torch.arange(p + s).expand(b, p + s)
            lengths = torch.tensor([p + len(x) for x in suffixes])
            out = self.base(
                input_ids=ids.to(device),
                attention_mask=mask.to(device),
                position_ids=positions.to(device),
                use_cache=False,
            )
        hidden = out.last_hidden_state[torch.arange(b, device=device), (lengths - 1).to(device)]
        # Through the output layer as a module (so that ZeRO-3's parameter gathering sees it),
        # then the action columns: B x vocabulary, for the last positions only.
        logits = self.lm.get_output_embeddings()(hidden)[:, self.action_ids]
        values = self.value_head(hidden).squeeze(-1)
        return logits, values

    def _prefix_cache(self, device: torch.device) -> list[tuple[torch.Tensor, torch.Tensor]]:
        if self._prefix_kv is None:
            with torch.no_grad():
                ids = torch.tensor([self.prefix_ids], device=device)
                out = self.base(input_ids=ids, use_cache=True)
            cache = getattr(out, "cache", None) or out.past_key_values
            self._prefix_kv = [(layer.keys, layer.values) for layer in cache.layers]
        return self._prefix_kv

    def clear_cache(self) -> None:
        """Forget the prefix cache (after the weights change)."""
        self._prefix_kv = None

    def distribution(
        self, observations: Sequence[Mapping[str, Any]], prefix_cache: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Masked log-probabilities ``(B, K + 2)`` and values ``(B,)`` for observations."""
        logits, values = self(self.encode(observations), prefix_cache=prefix_cache)
        masked = logits.masked_fill(~self.masks(observations).to(logits.device), float("-inf"))
        return torch.log_softmax(masked, dim=-1), values

    # -- saving ------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        return {
            "num_candidates": self.num_candidates,
            "instruction": self.instruction,
            "show_confidence": self.show_confidence,
            "max_prompt_tokens": self.max_prompt_tokens,
        }

    def save_pretrained(self, path: str | Path) -> Path:
        """The LM and tokenizer (``save_pretrained``), the value head and the policy's settings."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.lm.save_pretrained(path)
        self.tokenizer.save_pretrained(path)
        torch.save(self.value_head.state_dict(), path / VALUE_FILE)
        (path / POLICY_FILE).write_text(json.dumps(self.settings(), indent=2) + "\n")
        return path

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | torch.device = "cpu", **overrides: Any) -> LLMPolicy:
        """Load a policy saved by :meth:`save_pretrained`, or wrap any local causal LM directory
        (its value head then starts at zero; pass ``num_candidates``). Nothing is downloaded."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(
                f"{path}: no such model directory (a policy saved by save_pretrained, or a local transformers model)"
            )
        settings: dict[str, Any] = {}
        if (path / POLICY_FILE).exists():
            try:
                settings = json.loads((path / POLICY_FILE).read_text())
            except json.JSONDecodeError as e:
                raise ValueError(f"{path / POLICY_FILE} is corrupt ({e}); save the policy again") from None
        settings.update(overrides)
        if "num_candidates" not in settings:
            raise ValueError(f"{path} is not an r1gym policy: pass num_candidates=K to wrap a plain model")
        try:
            lm = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError) as e:
            raise ValueError(f"{path}: cannot load the model or tokenizer ({e})") from None
        policy = cls(lm, tokenizer, **settings)
        if (path / VALUE_FILE).exists():
            try:
                policy.value_head.load_state_dict(torch.load(path / VALUE_FILE, map_location="cpu", weights_only=True))
            except Exception as e:  # noqa: BLE001  (torch raises several types for a bad file)
                raise ValueError(
                    f"{path / VALUE_FILE} is corrupt ({type(e).__name__}: {e}); save the policy again"
                ) from None
        return policy.to(device)


def new_policy(num_candidates: int, seed: int = 0, model: str | None = None, **tiny: Any) -> LLMPolicy:
    """A fresh policy: a local model directory ``model`` (with r1gym's action tokens added if it
    lacks them), or a tiny Llama built from a config with the shipped tokenizer."""
    if model is None:
        tokenizer = load_tokenizer()
        return LLMPolicy(tiny_lm(tokenizer, seed=seed, **tiny), tokenizer, num_candidates)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(model)
    if not path.is_dir():
        raise FileNotFoundError(
            f"--model {model}: no such directory (a local transformers model; nothing is downloaded)"
        )
    lm = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    add_action_tokens(lm, tokenizer)
    return LLMPolicy(lm, tokenizer, num_candidates)


def add_action_tokens(lm: nn.Module, tokenizer: Any) -> None:
    """Give a general model r1gym's action tokens (and a pad token), resizing its embeddings."""
    from r1gym.tokenizer import ACTION_TOKENS

    missing = [t for t in ACTION_TOKENS if t not in tokenizer.get_vocab()]
    if missing:
        tokenizer.add_tokens(missing)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if len(tokenizer) > lm.get_input_embeddings().weight.shape[0]:
        lm.resize_token_embeddings(len(tokenizer))
