"""Language-model policies for r1gym's text observations (needs ``pip install 'r1gym[llm]'``).

* :mod:`r1gym.llm.policy`: :class:`~r1gym.llm.policy.LLMPolicy`, a causal LM that scores the
  K + 2 actions by the logits of action tokens, with a value head; save and load.
* :mod:`r1gym.llm.agent`: :class:`~r1gym.llm.agent.LLMAgent`, the policy as an agent for
  ``r1gym.evaluate`` and ``r1gym eval --agent llm:DIR``, with the inference levers (batched
  decisions, the shared prefix's key-value cache, int8 dynamic quantization).
"""
