"""The R1 report's experiments, one module each, for ``experiments/run.py``.

Each module (:mod:`.table`, :mod:`.weights`, :mod:`.curriculum`, :mod:`.replay`, :mod:`.pareto`)
has an ``EXPERIMENT``: the jobs it needs and the report that reads them
(:class:`.common.Experiment`). :data:`EXPERIMENTS` is the registry the command line plans from,
in the order the report sections come; a new experiment is a module here and a line below.
"""

from __future__ import annotations

from . import curriculum, pareto, replay, table, weights
from .common import Experiment

EXPERIMENTS: dict[str, Experiment] = {
    module.EXPERIMENT.name: module.EXPERIMENT for module in (table, weights, curriculum, replay, pareto)
}
