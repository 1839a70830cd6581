"""Physics word problems: kinematics, forces, work and energy, and unit changes, checked with units.

``PhysicsTask`` writes GSM8K-style questions ("A train moves at a steady 90 km/h for 12
minutes. How far does it travel, in meters?") whose solutions are programs of 2 to 5 steps, each
step carrying its unit ("90 km/h is 90 / 3.6 = 25 m/s."). Every intermediate value is clean: a
positive integer or a decimal with at most two places. The final step states the answer with its
unit ("The answer is 18000 m."), and the ``"units"`` verifier judges an answer as a physical
quantity: ``"90 km/h"`` is right where the reference is ``"25 m/s"``, ``"25 km/h"`` and a bare
``"25"`` are wrong.

One concern a file:

* :mod:`~r1gym.tasks.physics.ops`: the operations ``sq`` and ``sqrt`` and their look-alike errors;
* :mod:`~r1gym.tasks.physics.units`: reading quantities with units, the ``"units"`` verifier and
  similarity;
* :mod:`~r1gym.tasks.physics.families`: the twenty problem families, by area;
* :mod:`~r1gym.tasks.physics.task`: :class:`PhysicsTask`, which draws them.

Importing the package registers the operations, the verifier and the similarity (once: each in
the module of its concern), so a problem unpickled in a fresh process resolves them
(``r1gym.tasks`` names this package as their provider).
"""

from __future__ import annotations

from r1gym.tasks.physics import ops  # noqa: F401  (registers sq, sqrt and their slips)
from r1gym.tasks.physics.families import AREAS, FAMILIES, FAMILY_TABLE
from r1gym.tasks.physics.task import PhysicsTask, family_examples, is_clean
from r1gym.tasks.physics.units import (
    Quantity,
    parse_quantity,
    parse_unit,
    units_similarity,
    units_verifier,
    verify_units,
)

__all__ = [
    "AREAS",
    "FAMILIES",
    "FAMILY_TABLE",
    "PhysicsTask",
    "Quantity",
    "family_examples",
    "is_clean",
    "parse_quantity",
    "parse_unit",
    "units_similarity",
    "units_verifier",
    "verify_units",
]
