"""Doors to other tools: chat messages (``r1gym.integrations.chat``) and an OpenEnv server
(``r1gym.integrations.server``, needs ``pip install 'r1gym[serve]'``). See docs/trainers.md.

Nothing is imported here, so that importing one door does not pull in another's dependencies.
"""
