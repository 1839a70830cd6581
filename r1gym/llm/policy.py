"""A causal language model as an r1gym policy: masked scores of the actions, and a value.

The policy reads ``format_prompt(obs, style="ranked")`` (the text observation: instruction,
question, path so far, the actions, then the candidates least confident first, each line ending
with its confidence and the action token that takes it, then ``Action:``). ``<backtrack>`` and
``<submit>`` are scored by their logits as the next token after the prompt, the way a language
model would write its choice; each ``<expand_i>`` by a linear pointer head on the hidden state
at that candidate's own label token in the prompt (``action_head="pointer"``, the default), or
by its next-token logit too (``action_head="lm"``). Actions the mask forbids get ``-inf``. A
linear value head on the last hidden state estimates the return. docs/llm.md says why this
layout and head: measured, a tiny model learns them in minutes and did not learn the plain ones.

Only the last position and the label positions of each prompt go through the heads. A prompt is tokenized in
parts (the instruction every prompt shares, each line of the question and path, the candidates),
and the ids concatenated, so that a node's tokens start with its parent's: at inference
(:meth:`LLMPolicy.forward_cached`) the key-value states of the instruction and of each context
are kept and reused, and a decision runs only its newest path line and its candidates.

Works with any ``transformers`` causal LM whose base model takes ``attention_mask`` and
``position_ids`` (Llama, Qwen2, GPT-2, ...): a local one by path (``LLMPolicy.from_pretrained``),
or a tiny one built from a config with the shipped tokenizer (:func:`tiny_lm`).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from r1gym.llm.packed import Row, run_packed, sliding_window, supports_packing
from r1gym.tokenizer import action_token_ids, load_tokenizer
from r1gym.wrappers.text_prompt import DEFAULT_INSTRUCTION, PROMPT_STYLES, format_prompt, prompt_parts

POLICY_FILE = "r1gym_policy.json"
ACTION_HEADS = ("pointer", "lm")
VALUE_FILE = "value_head.pt"
POINTER_FILE = "pointer_head.pt"

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


class LLMPolicy(nn.Module):
    """A causal LM and a value head, scoring the actions of an r1gym text observation.

    Args:
        lm: a ``transformers`` causal LM (``AutoModelForCausalLM``).
        tokenizer: its tokenizer; it must have r1gym's action tokens (the shipped one has;
            :func:`add_action_tokens` adds them to another and resizes the model).
        num_candidates: K of the environments it plays.
        instruction: the prompt's first paragraph (:data:`DEFAULT_INSTRUCTION`).
        show_confidence: write each candidate's confidence in the prompt.
        prompt_style: ``"ranked"`` (candidates least confident first, each line ending with its
            action token) or ``"plain"`` (index order, numbers): see
            ``r1gym.wrappers.format_prompt``.
        cache_size: contexts whose key-value states :meth:`forward_cached` keeps (LRU).
        action_head: how expand actions are scored: ``"pointer"`` (a linear head on the hidden
            state at the candidate's own label token in the prompt, ``<expand_i>``) or ``"lm"``
            (the logit of ``<expand_i>`` as the next token after the prompt). Backtrack and
            submit are always the logits of ``<backtrack>`` and ``<submit>`` after the prompt.
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
        prompt_style: str = "ranked",
        cache_size: int = 256,
        action_head: str = "pointer",
    ) -> None:
        super().__init__()
        self.lm = lm
        self.tokenizer = tokenizer
        self.num_candidates = int(num_candidates)
        self.instruction = instruction
        self.show_confidence = bool(show_confidence)
        if prompt_style not in PROMPT_STYLES:
            raise ValueError(f"unknown prompt_style {prompt_style!r}; known: {', '.join(PROMPT_STYLES)}")
        self.prompt_style = prompt_style
        self.max_prompt_tokens = int(max_prompt_tokens)
        hidden = lm.config.hidden_size if hasattr(lm.config, "hidden_size") else lm.config.n_embd
        self.value_head = nn.Linear(hidden, 1)
        nn.init.zeros_(self.value_head.weight)
        nn.init.zeros_(self.value_head.bias)
        if action_head not in ACTION_HEADS:
            raise ValueError(f"unknown action_head {action_head!r}; known: {', '.join(ACTION_HEADS)}")
        if action_head == "pointer" and prompt_style != "ranked":
            raise ValueError(
                "action_head='pointer' reads each candidate's action token in the prompt: it needs "
                "prompt_style='ranked' (or use action_head='lm')"
            )
        self.action_head = action_head
        self.pointer_head = nn.Linear(hidden, 1)
        nn.init.zeros_(self.pointer_head.weight)
        nn.init.zeros_(self.pointer_head.bias)
        self.register_buffer(
            "action_ids", torch.tensor(action_token_ids(tokenizer, self.num_candidates)), persistent=False
        )
        if tokenizer.pad_token_id is None:
            raise ValueError("the tokenizer needs a pad token (tokenizer.pad_token = tokenizer.eos_token works)")
        # The instruction every prompt starts with, tokenized once.
        self.prefix_text = instruction + "\n\n"
        self.prefix_ids: list[int] = tokenizer.encode(self.prefix_text, add_special_tokens=False)
        self._prefix_kv: list[tuple[torch.Tensor, torch.Tensor]] | None = None
        self.cache_size = int(cache_size)
        self._kv_cache: OrderedDict[tuple, list[tuple[torch.Tensor, torch.Tensor]]] = OrderedDict()
        self._packable = supports_packing(self.base)
        self._window = sliding_window(self.base.config)

    # -- the model's parts -----------------------------------------------------------------
    @property
    def base(self) -> nn.Module:
        """The decoder without its output layer (``lm.model`` for Llama, ``lm.transformer`` for GPT-2)."""
        return self.lm.base_model

    # -- prompts -----------------------------------------------------------------------------
    def prompt(self, obs: Mapping[str, Any]) -> str:
        return format_prompt(
            obs, instruction=self.instruction, show_confidence=self.show_confidence, style=self.prompt_style
        )

    def encode_parts(self, observations: Sequence[Mapping[str, Any]]) -> list[tuple[list[list[int]], list[int]]]:
        """Each prompt after the shared prefix as ``(context lines, tail)`` token ids.

        A context line is one line of the question or path with its newline, tokenized alone, so
        that a node's context is a token prefix of its children's (what the context cache
        reuses); the tail is the candidates and ``Action:``. Every forward path concatenates the
        same ids, cached or not.
        """
        out = []
        for obs in observations:
            k = len(obs["action_mask"]) - 2
            if k != self.num_candidates:
                raise ValueError(f"this policy plays K = {self.num_candidates} candidates; the observation has K = {k}")
            _, context, tail = prompt_parts(obs, self.instruction, self.show_confidence, self.prompt_style)
            lines = context[:-1].split("\n")  # context ends with a blank line: "...\n\n"
            enc = self.tokenizer.encode
            out.append(
                (
                    [enc(line + "\n", add_special_tokens=False) for line in lines],
                    enc("\n" + tail, add_special_tokens=False),
                )
            )
        return out

    def encode(self, observations: Sequence[Mapping[str, Any]]) -> list[list[int]]:
        """Token ids after the shared prefix, one list per observation (its last
        ``max_prompt_tokens``: the candidates and ``Action:`` are at the end)."""
        return [self._joined(lines, tail) for lines, tail in self.encode_parts(observations)]

    def _joined(self, lines: list[list[int]], tail: list[int]) -> list[int]:
        """One prompt's ids from its parts, cut to its last ``max_prompt_tokens``."""
        return ([t for line in lines for t in line] + tail)[-self.max_prompt_tokens :]

    @staticmethod
    def masks(observations: Sequence[Mapping[str, Any]]) -> torch.Tensor:
        return torch.as_tensor(np.stack([np.asarray(o["action_mask"], dtype=bool) for o in observations]))

    # -- forward -----------------------------------------------------------------------------
    def forward(self, suffixes: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Action logits ``(B, K + 2)`` (unmasked) and values ``(B,)`` for tokenized prompts
        (what :meth:`encode` returns): the whole prompt is run, prefix included."""
        device = self.action_ids.device
        b = len(suffixes)
        s = max(len(x) for x in suffixes)
        p = len(self.prefix_ids)
        ids = torch.full((b, p + s), self.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((b, p + s), dtype=torch.long)
        prefix = torch.tensor(self.prefix_ids, dtype=torch.long)
        for i, x in enumerate(suffixes):
            ids[i, :p] = prefix
            ids[i, p : p + len(x)] = torch.tensor(x, dtype=torch.long)
            mask[i, : p + len(x)] = 1
        positions = torch.arange(p + s).expand(b, p + s)
        out = self.base(
            input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=positions.to(device), use_cache=False
        )
        return self._heads(out.last_hidden_state, suffixes, offset=p)

    def _label_positions(self, rows: Sequence[Sequence[int]], offsets: Sequence[int]) -> torch.Tensor:
        """``(B, K)``: where each row's candidate labels ``<expand_i>`` last appear (the row's
        last position for a candidate it does not list); row ``r`` starts at ``offsets[r]``."""
        expand = self.action_ids[: self.num_candidates].tolist()
        out = torch.empty((len(rows), self.num_candidates), dtype=torch.long)
        for r, (ids, offset) in enumerate(zip(rows, offsets)):
            where = {tok: offset + j for j, tok in enumerate(ids)}  # later occurrences win
            out[r] = torch.tensor([where.get(tok, offset + len(ids) - 1) for tok in expand])
        return out

    def _heads(
        self, hidden: torch.Tensor, rows: Sequence[Sequence[int]], offset: int | Sequence[int]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Action logits and values from the decoder's hidden states. ``offset`` an int: ``hidden``
        is ``(B, T, H)`` and row ``r``'s tokens ``rows[r]`` start at that position of its own
        sequence; a list: ``hidden`` is one packed sequence ``(1, T, H)`` and row ``r`` starts at
        ``offset[r]``."""
        b = len(rows)
        if isinstance(offset, int):
            rows_at = torch.arange(b, device=hidden.device)
            offsets: Sequence[int] = [offset] * b
        else:
            rows_at = torch.zeros(b, dtype=torch.long, device=hidden.device)
            offsets = offset
        ends = torch.tensor([o + len(ids) - 1 for ids, o in zip(rows, offsets)], device=hidden.device)
        last = hidden[rows_at, ends]
        # Through the output layer as a module (so that ZeRO-3's parameter gathering sees it),
        # then the action columns: B x vocabulary, for the last positions only.
        logits = self.lm.get_output_embeddings()(last)[:, self.action_ids]
        if self.action_head == "pointer":
            at = self._label_positions(rows, offsets).to(hidden.device)
            labels = hidden[rows_at[:, None], at]  # (B, K, H)
            k = self.num_candidates
            logits = torch.cat([self.pointer_head(labels).squeeze(-1), logits[:, k:]], dim=-1)
        return logits, self.value_head(last).squeeze(-1)

    @torch.no_grad()
    def forward_cached(self, parts: Sequence[tuple[list[list[int]], list[int]]]) -> tuple[torch.Tensor, torch.Tensor]:
        """What :meth:`forward` computes, reusing key-value caches (inference only).

        The instruction's states are computed once. Each prompt starts from the cached states of
        its longest cached context (the question and the path so far: usually its own node's,
        after a backtrack, or the parent's, one step earlier), so a decision runs only the path
        lines not yet cached and its candidates. The new tokens of the whole batch run in one
        pass, packed into one sequence without padding, each row attending to its own cache
        (``r1gym.llm.packed``); the states of each new context are kept in an LRU of
        ``cache_size`` contexts. A prompt longer than ``max_prompt_tokens`` (which
        :meth:`forward` cuts), a model that cannot run packed (one without ``transformers``'
        attention interface), or one whose sliding attention window is shorter than the
        instruction and ``max_prompt_tokens``, sends the batch through :meth:`forward`.
        """
        longest = len(self.prefix_ids) + self.max_prompt_tokens
        if (
            not self._packable
            or (self._window is not None and self._window < longest)
            or any(sum(map(len, lines)) + len(tail) > self.max_prompt_tokens for lines, tail in parts)
        ):
            return self([self._joined(lines, tail) for lines, tail in parts])
        device = self.action_ids.device
        rows, news, keys, positions = [], [], [], []
        start = 0
        for lines, tail in parts:
            key, past, j = self._longest_cached(lines, device)
            context = [tok for line in lines[j:] for tok in line]
            new = context + tail
            cached = past[0][0].shape[2]
            rows.append(Row(start, len(new), past, len(context)))
            news.append(new)
            keys.append(key)
            positions.append(torch.arange(cached, cached + len(new)))
            start += len(new)
        ids = torch.tensor([[tok for new in news for tok in new]], device=device)
        hidden = run_packed(self.base, ids, torch.cat(positions)[None].to(device), rows)
        for key, row in zip(keys, rows):  # keep the states of every context seen for the first time
            if row.keep:
                self._kv_cache[key] = row.kept
        while len(self._kv_cache) > self.cache_size:
            self._kv_cache.popitem(last=False)
        return self._heads(hidden, news, offset=[row.start for row in rows])

    @staticmethod
    def _kv_of(out: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
        cache = getattr(out, "cache", None) or out.past_key_values
        return [(layer.keys, layer.values) for layer in cache.layers]

    def _longest_cached(
        self, lines: list[list[int]], device: torch.device
    ) -> tuple[tuple, list[tuple[torch.Tensor, torch.Tensor]], int]:
        """``(key of the whole context, cached states of its longest cached prefix, number of
        lines they cover)``; the instruction's states when no line is cached."""
        keys = [tuple(map(tuple, lines[:j])) for j in range(len(lines) + 1)]
        j = len(lines)
        while j > 0 and keys[j] not in self._kv_cache:
            j -= 1
        if j == 0:
            if self._prefix_kv is None:
                ids = torch.tensor([self.prefix_ids], device=device)
                self._prefix_kv = self._kv_of(self.base(input_ids=ids, use_cache=True))
            return keys[-1], self._prefix_kv, 0
        self._kv_cache.move_to_end(keys[j])
        return keys[-1], self._kv_cache[keys[j]], j

    def clear_cache(self) -> None:
        """Forget every cached key-value state (after the weights change)."""
        self._prefix_kv = None
        self._kv_cache.clear()

    def distribution(
        self, observations: Sequence[Mapping[str, Any]], prefix_cache: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Masked log-probabilities ``(B, K + 2)`` and values ``(B,)`` for observations
        (``prefix_cache=True``: through :meth:`forward_cached`, for inference)."""
        if prefix_cache:
            logits, values = self.forward_cached(self.encode_parts(observations))
        else:
            logits, values = self(self.encode(observations))
        masked = logits.masked_fill(~self.masks(observations).to(logits.device), float("-inf"))
        return torch.log_softmax(masked, dim=-1), values

    # -- saving ------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        return {
            "num_candidates": self.num_candidates,
            "instruction": self.instruction,
            "show_confidence": self.show_confidence,
            "max_prompt_tokens": self.max_prompt_tokens,
            "prompt_style": self.prompt_style,
            "action_head": self.action_head,
        }

    def save_pretrained(self, path: str | Path) -> Path:
        """The LM and tokenizer (``save_pretrained``), the value head and the policy's settings."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.lm.save_pretrained(path)
        self.tokenizer.save_pretrained(path)
        torch.save(self.value_head.state_dict(), path / VALUE_FILE)
        torch.save(self.pointer_head.state_dict(), path / POINTER_FILE)
        (path / POLICY_FILE).write_text(json.dumps(self.settings(), indent=2) + "\n")
        return path

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | torch.device = "cpu", **overrides: Any) -> LLMPolicy:
        """Load a policy saved by :meth:`save_pretrained`, or wrap any local causal LM directory
        (pass ``num_candidates``; its value head then starts at zero and it scores candidates as
        next tokens, ``action_head="lm"``, unless told otherwise). Nothing is downloaded."""
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
        if settings:
            settings.setdefault("prompt_style", "plain")  # saved before the ranked style existed
            settings.setdefault("action_head", "lm")  # ... and the pointer head
        else:  # a plain model: no trained pointer head, so candidates are scored as next tokens
            settings["action_head"] = "lm"
        settings.update(overrides)
        if "num_candidates" not in settings:
            raise ValueError(f"{path} is not an r1gym policy: pass num_candidates=K to wrap a plain model")
        check_weight_files(path)
        try:
            lm = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError) as e:
            raise ValueError(f"{path}: cannot load the model or tokenizer ({e})") from None
        except Exception as e:  # noqa: BLE001  (safetensors and torch raise their own types for a bad file)
            raise ValueError(
                f"{path}: cannot load the model ({type(e).__name__}: {e}); "
                "copy the folder again or save the policy again"
            ) from None
        policy = cls(lm, tokenizer, **settings)
        for name, head in ((VALUE_FILE, policy.value_head), (POINTER_FILE, policy.pointer_head)):
            if not (path / name).exists():
                if name == POINTER_FILE and policy.action_head == "pointer":
                    raise FileNotFoundError(f"{path / name} is missing: the policy scores candidates with it")
                continue
            try:
                head.load_state_dict(torch.load(path / name, map_location="cpu", weights_only=True))
            except Exception as e:  # noqa: BLE001  (torch raises several types for a bad file)
                raise ValueError(f"{path / name} is corrupt ({type(e).__name__}: {e}); save the policy again") from None
        return policy.to(device)


def check_weight_files(path: Path) -> None:
    """Read the header of each ``*.safetensors`` file of the model folder ``path``: a truncated or
    corrupt one is a ValueError naming the file and what to do (transformers would raise a bare
    ``SafetensorError`` deep inside its loader)."""
    files = sorted(path.glob("*.safetensors"))
    if not files:
        return
    try:
        from safetensors import safe_open
    except ImportError:  # transformers installs it; without it there is nothing to check here
        return
    for f in files:
        try:
            with safe_open(str(f), framework="pt") as weights:
                weights.keys()
        except Exception as e:  # noqa: BLE001  (SafetensorError, OSError, ...)
            raise ValueError(
                f"{f} is damaged ({e}): the model weights are truncated or corrupt; copy the policy folder again, "
                "or save it again from a checkpoint of its training run"
            ) from None


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
