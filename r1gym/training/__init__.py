"""What the training scripts of ``agents/`` share: the plumbing around each algorithm.

The scripts (``agents/ppo.py``, ``ppo_mask.py``, ``dqn_per.py``, ``llm_policy.py``) keep their
algorithm in their own file, read top to bottom as CleanRL's are, and import the rest from here:

* :mod:`r1gym.training.args`: the ``Args`` dataclasses every script extends (their attribute
  docstrings are the ``--help``), parsed by tyro; ``--config FILE`` (TOML or JSON) supplies the
  defaults that flags override.
* :mod:`r1gym.training.runs`: the run folder (``args.json``, the check that a resumed run has
  the arguments it started with) and JSON that strict parsers read.
* :mod:`r1gym.training.evaluation`: the final held-out evaluation beside the baselines
  (``eval.json``).
* :mod:`r1gym.training.sb3`: the stable-baselines3 run: environments, checkpoints and resume,
  logs, callbacks (episode statistics, learning curve) and the training loop the SB3 scripts
  call with their algorithm.
* :mod:`r1gym.training.logs`: a CSV-and-TensorBoard log and a progress bar for hand-written
  training loops.
* :mod:`r1gym.training.distributed`: one process or one rank of the ``deepspeed`` launcher:
  DeepSpeed setup, gradient steps, the check that the ranks agree.
* :mod:`r1gym.training.seeding`: seeds derived with ``SeedSequence``: each rank's own streams.
* :mod:`r1gym.training.checkpoints`: the checkpoints of a hand-written loop (model, optimizer,
  every rank's replay and generators), resumable after a crash.
* :mod:`r1gym.training.cold_start`: the LLM policy's supervised cold start: a noisy teacher's
  decisions, and their loss.

Nothing here is imported by ``import r1gym``; torch and stable-baselines3 load only with the
modules that need them.
"""
