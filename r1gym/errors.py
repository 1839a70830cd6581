"""Errors r1gym raises, each saying what was wrong and how to fix it."""

from __future__ import annotations


class R1GymError(Exception):
    """Base class of r1gym's own errors."""


class DataError(R1GymError, ValueError):
    """A problem file, template or dataset line is malformed; the message names file and line."""


class InvalidActionError(R1GymError, ValueError):
    """An action the state does not allow, under ``invalid_action="raise"``."""


class EpisodeOverError(R1GymError, RuntimeError):
    """``step()`` after the episode ended (or before the first ``reset()``)."""


class UnsupportedRenderModeError(R1GymError, ValueError, TypeError):
    """A render mode the environment does not have. Also a ``TypeError``: stable-baselines3's
    ``make_vec_env`` tries ``render_mode="rgb_array"`` and retries without it on a TypeError."""


class SandboxUnavailableError(R1GymError, RuntimeError):
    """The code sandbox cannot give the full isolation untrusted code needs on this machine, and
    the weaker mode was not asked for; the message names the missing layers and what to do. The
    program was not run."""
