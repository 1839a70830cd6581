"""``python -m r1gym ...``: the ``r1gym`` command, for where only the interpreter is known."""

from r1gym.cli import main

raise SystemExit(main())
