"""Packed decisions: many prompts in one forward pass, without padding, each on its own cache.

:meth:`~r1gym.llm.policy.LLMPolicy.forward_cached` runs the new tokens of every decision of a
batch (the path lines not yet cached and the candidates) as one sequence, ``(1, sum of the new
lengths)``, so the linear layers and the element-wise work see no padding. Attention is then
done row by row by :func:`packed_attention`, registered in ``transformers``' attention interface
under :data:`PACKED`: each row's queries attend to that row's cached states (its longest cached
context) and, causally, to its own new tokens, nothing else. That is what a padded batch
computes, without the padded keys and queries: on the benchmark of ``docs/llm.md`` the padded
batch ran 36 % more tokens through the layers and 85 % more attention pairs than the rows hold.

While a pass runs, the model's ``config._attn_implementation`` is :data:`PACKED` (it is put
back afterwards, also on an error), and the rows are handed to the attention function through a
thread-local :class:`Pack`. The switch is the model's, so another thread must not run the same
model during a packed pass. The model must call the attention interface with its layer's
``layer_idx`` (every ``transformers`` decoder with ``_supports_attention_backend``: Llama,
Qwen2/3, Mistral, Gemma, Phi-3, GPT-2, ...); the pass checks that every layer did.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

#: the name of the attention function in ``transformers``' ``AttentionInterface``
PACKED = "r1gym_packed"

KV = list[tuple[torch.Tensor, torch.Tensor]]


@dataclass
class Row:
    """One decision of a packed pass.

    Attributes:
        start: where its new tokens begin in the packed sequence.
        length: how many new tokens it has.
        past: the cached states it continues: one ``(keys, values)`` per layer, each
            ``(1, kv_heads, cached tokens, head_dim)``.
        keep: how many of its new tokens (the path lines, before the candidates) form a context
            whose states are kept (0: none).
        kept: filled by the pass: the states of the cached tokens and the first ``keep`` new ones,
            one ``(keys, values)`` per layer.
    """

    start: int
    length: int
    past: KV
    keep: int
    kept: KV = field(default_factory=list)


class Pack:
    """The rows of one packed pass, for :func:`packed_attention` to read."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.calls = 0
        self._masks: dict[tuple, torch.Tensor] = {}

    def mask(self, length: int, past: int, like: torch.Tensor) -> torch.Tensor:
        """``(length, past + length)``, additive: a new token sees every cached one and the new ones
        up to itself (causal, aligned to the last key), ``-inf`` elsewhere. One tensor per shape,
        shared by the layers (a boolean mask would be converted by every attention call)."""
        key = (length, past, like.dtype, like.device)
        m = self._masks.get(key)
        if m is None:
            seen = torch.ones(length, past + length, dtype=torch.bool, device=like.device).tril(past)
            m = torch.zeros(seen.shape, dtype=like.dtype, device=like.device).masked_fill_(~seen, float("-inf"))
            self._masks[key] = m
        return m


_ACTIVE = threading.local()


def packed_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """Attention of a packed pass (``query`` ``(1, heads, T, head_dim)``, ``key`` and ``value``
    the new tokens' only): row by row, over the row's cached states and its own new tokens.
    Returns ``(1, T, heads, head_dim)``, as ``transformers``' attention functions do."""
    pack: Pack | None = getattr(_ACTIVE, "pack", None)
    if pack is None:
        raise RuntimeError(f"the {PACKED!r} attention runs only inside LLMPolicy.forward_cached")
    layer = module.layer_idx
    out = query.new_empty((1, query.shape[2], query.shape[1], query.shape[3]))
    gqa = key.shape[1] != query.shape[1]
    for row in pack.rows:
        a, b = row.start, row.start + row.length
        past_k, past_v = row.past[layer]
        k = torch.cat([past_k, key[:, :, a:b]], dim=2)
        v = torch.cat([past_v, value[:, :, a:b]], dim=2)
        past = past_k.shape[2]
        att = F.scaled_dot_product_attention(
            query[:, :, a:b], k, v, attn_mask=pack.mask(row.length, past, query), scale=scaling, enable_gqa=gqa
        )
        out[:, a:b] = att.transpose(1, 2)
        if row.keep:
            n = past + row.keep
            if not row.kept:
                row.kept = [None] * len(row.past)  # type: ignore[list-item]
            row.kept[layer] = (k[:, :, :n].clone(), v[:, :, :n].clone())
    pack.calls += 1
    return out, None


def _register() -> bool:
    try:
        from transformers import AttentionInterface
    except ImportError:  # an older transformers: forward_cached falls back to the full forward
        return False
    AttentionInterface.register(PACKED, packed_attention)
    return True


REGISTERED = _register()


def sliding_window(config: Any) -> int | None:
    """The sliding attention window of a model's layers (``None`` if every layer sees the whole
    sequence): a packed pass attends to every cached token, so it is used only for prompts that
    fit in the window."""
    window = getattr(config, "sliding_window", None)
    if not window or getattr(config, "use_sliding_window", True) is False:
        return None
    types = getattr(config, "layer_types", None)
    if types is not None and "sliding_attention" not in types:
        return None
    return int(window)


def supports_packing(base: torch.nn.Module) -> bool:
    """Whether ``base`` (a ``transformers`` decoder) can run a packed pass."""
    return REGISTERED and bool(getattr(base, "_supports_attention_backend", False))


def run_packed(base: torch.nn.Module, ids: torch.Tensor, positions: torch.Tensor, rows: list[Row]) -> torch.Tensor:
    """The decoder ``base`` on the packed ``ids`` ``(1, T)`` at ``positions`` ``(1, T)``, each row
    on its own cache; returns the last hidden states ``(1, T, hidden)`` and fills each row's
    ``kept``."""
    config = base.config
    before = config._attn_implementation
    pack = Pack(rows)
    _ACTIVE.pack = pack
    config._attn_implementation = PACKED
    try:
        out = base(input_ids=ids, position_ids=positions, use_cache=False)
    finally:
        config._attn_implementation = before
        _ACTIVE.pack = None
    layers = len(rows[0].past)
    if pack.calls != layers:
        raise RuntimeError(
            f"{type(base).__name__} called the attention interface {pack.calls} times for {layers} layers: "
            "it cannot run packed decisions (use prefix_cache=False)"
        )
    return out.last_hidden_state
