"""One environment copy's observation and info out of a Gymnasium vector env's batch.

Gymnasium batches a ``Dict`` observation as a dict of arrays (a ``Tuple`` of texts, the text
mode's candidates, as a tuple of per-element batches) and the infos as a dict of arrays, each
key ``k`` with a boolean mask ``_k`` saying which copies have it. Evaluation, the LLM agent, the
SB3 adapter and the LLM trainer all take copy ``i`` apart with these two functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def obs_at(obs: Mapping[str, Any], i: int) -> dict[str, Any]:
    """Copy ``i``'s observation. A Tuple space batches as a tuple of per-element batches:
    element j of copy i is ``v[j][i]``."""
    return {
        k: tuple(x[i] for x in v) if isinstance(v, tuple) and v and isinstance(v[0], tuple) else v[i]
        for k, v in obs.items()
    }


def info_at(infos: Mapping[str, Any], i: int, skip: Iterable[str] = ()) -> dict[str, Any]:
    """Copy ``i``'s info: the keys whose mask ``_key`` is true for it (a key without a mask is
    taken for every copy), nested dicts rebuilt recursively; keys in ``skip`` left out."""
    skip = frozenset(skip)
    out: dict[str, Any] = {}
    for key, value in infos.items():
        if key.startswith("_") or key in skip:
            continue
        mask = infos.get(f"_{key}")
        if mask is None or mask[i]:
            out[key] = info_at(value, i) if isinstance(value, Mapping) else value[i]
    return out
