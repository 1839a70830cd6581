"""The bottom layer: the reasoning MDP and the interfaces the rest of r1gym plugs into.

* :mod:`~r1gym.core.env`: ``ReasoningEnv``, its ``Episode`` state and ``Snapshot``;
* :mod:`~r1gym.core.problem`, :mod:`~r1gym.core.tree`, :mod:`~r1gym.core.values`,
  :mod:`~r1gym.core.ops`: problems, their programs and the tree of partial solutions;
* :mod:`~r1gym.core.verify`, :mod:`~r1gym.core.reward`, :mod:`~r1gym.core.spaces`: answers, the
  reward, the observation spaces;
* :mod:`~r1gym.core.protocols` and :mod:`~r1gym.core.registry`: ``Task``, ``Proposer``,
  ``Embedder``, ``Agent`` and the registries that name their implementations;
* :mod:`~r1gym.core.actions`: the text protocol of actions; :mod:`~r1gym.core.text`,
  :mod:`~r1gym.core.vector`, :mod:`~r1gym.core.draws`: helpers every layer shares.

Nothing here imports r1gym above ``core`` (docs/architecture.md, tests/test_layers.py).
"""
