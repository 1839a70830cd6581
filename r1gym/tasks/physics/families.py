"""The twenty physics problem families: each draws numbers and writes a question and its program.

A family is a builder ``build(rng, name) -> Draft``: the question, the constants it states, the
steps (each a :class:`~r1gym.core.problem.StepSpec` whose text carries the step's unit, ``"90 km/h
is 90 / 3.6 = 25 m/s."``) and the unit of the answer. :data:`FAMILY_TABLE` files each under its
area (kinematics, forces, energy, units); :class:`~r1gym.tasks.physics.task.PhysicsTask` draws
from them and keeps a draft only when every value is clean.

**Unit conversions are steps of their own**, written ``convert(unconverted, factor)`` with the
unconverted value first and consumed by the very next step. The procedural proposer's ``skip``
distractor takes the step after next with the skipped step's first argument in place of its
result, so skipping a conversion is a *unit slip* (using 90 km/h as if it were 90 m/s) that
propagates to a wrong answer. Where a conversion is the last step, the ``premature`` distractor
(stating the value before it) is the same slip at the end; the ``operation`` distractor of a
conversion multiplies where it should divide (``90 * 3.6``): the conversion done backwards.

Gravity: the forces and energy families state the value they use in the question: ``g = 9.8
m/s^2`` for weights, ``g = 10 m/s^2`` elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from r1gym.core.problem import StepSpec
from r1gym.core.values import Number, Value, exact, format_number

#: The areas that group the families (``PhysicsTask(families=...)`` takes an area for all of its).
AREAS = ("kinematics", "forces", "energy", "units")
KMH_PER_MS = Fraction(18, 5)  # 1 m/s = 3.6 km/h
G_WEIGHT = Fraction(49, 5)  # 9.8 m/s^2, for weights
G_ROUND = 10  # 10 m/s^2, for the other forces and energy families


@dataclass(frozen=True, slots=True)
class Draft:
    """What a family builds: the question, its constants, the steps and the answer's unit."""

    question: str
    constants: dict[str, Value]
    steps: tuple[StepSpec, ...]
    unit: str


def _pick(rng: np.random.Generator, options: Sequence[Number]) -> Number:
    return options[int(rng.integers(len(options)))]


def _grid(lo: Number, hi: Number, step: Number = 1) -> tuple[Number, ...]:
    """``lo, lo + step, ..., hi`` as exact numbers."""
    lo_f, step_f = Fraction(lo), Fraction(step)
    n = int((Fraction(hi) - lo_f) // step_f)
    return tuple(exact(lo_f + i * step_f) for i in range(n + 1))


def _q(v: Number) -> str:
    return format_number(v)


def _n(v: Number, word: str) -> str:
    """``"1 minute"``, ``"9 minutes"``."""
    return f"{_q(v)} {word}" if v == 1 else f"{_q(v)} {word}s"


def _a(v: Number) -> str:
    """The article before a number read aloud: "an 8 kg sack", "an 18 m wall", "a 9 kg sack"."""
    digits = _q(v).split(".")[0]
    eleven_or_eighteen = digits[:2] in ("11", "18") and len(digits) in (2, 5)
    return "an" if digits.startswith("8") or eleven_or_eighteen else "a"


VEHICLES = ("car", "bus", "train", "truck", "motorbike", "tram")
RIDERS = ("cyclist", "skater", "runner", "rower", "scooter rider")
_S = StepSpec


# Kinematics ----------------------------------------------------------------------------------


def _constant_speed_distance(rng: np.random.Generator, name: str) -> Draft:
    vehicle = VEHICLES[int(rng.integers(len(VEHICLES)))]
    v, t = _pick(rng, _grid(18, 144, 9)), _pick(rng, _grid(2, 30))
    return Draft(
        f"A {vehicle} moves at a steady {_q(v)} km/h for {_n(t, 'minute')}. How far does it travel, in meters?",
        {"v": v, "t": t},
        (
            _S("t_s", "mul", ("t", 60), "The time in seconds is {expr} s."),
            _S("v_ms", "div", ("v", KMH_PER_MS), "The speed in m/s is {expr} m/s."),
            _S("d", "mul", ("v_ms", "t_s"), f"The {vehicle} travels {{expr}} m."),
        ),
        "m",
    )


def _average_speed(rng: np.random.Generator, name: str) -> Draft:
    rider = "cycles" if rng.random() < 0.5 else "runs"
    v, t = _pick(rng, _grid(2, 15, Fraction(1, 2))), _pick(rng, _grid(4, 90, 2))
    d = exact(Fraction(v * t * 60, 1000))
    return Draft(
        f"{name} {rider} {_q(d)} km in {_n(t, 'minute')}. What is {name}'s average speed in m/s?",
        {"d": d, "t": t},
        (
            _S("t_s", "mul", ("t", 60), "The time is {expr} s."),
            _S("d_m", "mul", ("d", 1000), "The distance is {expr} m."),
            _S("v", "div", ("d_m", "t_s"), "The average speed is {expr} m/s."),
        ),
        "m/s",
    )


def _final_speed(rng: np.random.Generator, name: str) -> Draft:
    vehicle = VEHICLES[int(rng.integers(len(VEHICLES)))]
    u, a, t = _pick(rng, _grid(2, 20)), _pick(rng, _grid(Fraction(1, 2), 4, Fraction(1, 2))), _pick(rng, _grid(2, 12))
    return Draft(
        f"A {vehicle} moving at {_q(u)} m/s speeds up at {_q(a)} m/s^2 for {_n(t, 'second')}. "
        "What is its final speed in km/h?",
        {"u": u, "a": a, "t": t},
        (
            _S("dv", "mul", ("a", "t"), "The speed goes up by {expr} m/s."),
            _S("v", "add", ("u", "dv"), "The final speed is {expr} m/s."),
            _S("v_kmh", "mul", ("v", KMH_PER_MS), "In km/h that is {expr} km/h."),
        ),
        "km/h",
    )


def _distance_accelerating(rng: np.random.Generator, name: str) -> Draft:
    rider = RIDERS[int(rng.integers(len(RIDERS)))]
    u, a, t = _pick(rng, _grid(1, 12)), _pick(rng, _grid(Fraction(1, 2), 4, Fraction(1, 2))), _pick(rng, _grid(2, 12))
    return Draft(
        f"A {rider} going at {_q(u)} m/s speeds up at {_q(a)} m/s^2 for {_q(t)} seconds. "
        "How many meters does the " + rider + " cover in that time? (Use s = u t + a t^2 / 2.)",
        {"u": u, "a": a, "t": t},
        (
            _S("ut", "mul", ("u", "t"), "At the starting speed alone the distance is {expr} m."),
            _S("t2", "sq", ("t",), "The time squared is {expr} s^2."),
            _S("at2", "mul", ("a", "t2"), "The acceleration times the time squared is {expr} m."),
            _S("half", "div", ("at2", 2), "Half of that is {expr} m."),
            _S("s", "add", ("ut", "half"), "The total distance is {expr} m."),
        ),
        "m",
    )


def _braking_distance(rng: np.random.Generator, name: str) -> Draft:
    v, a = _pick(rng, _grid(18, 144, 9)), _pick(rng, _grid(1, 10, Fraction(1, 4)))
    return Draft(
        f"{name} is driving at {_q(v)} km/h and brakes, slowing down at {_q(a)} m/s^2 until the car stops. "
        "How many meters does the car travel while braking? (Use v^2 = 2 a s.)",
        {"v": v, "a": a},
        (
            _S("v_ms", "div", ("v", KMH_PER_MS), "The speed in m/s is {expr} m/s."),
            _S("v2", "sq", ("v_ms",), "The speed squared is {expr} m^2/s^2."),
            _S("two_a", "mul", ("a", 2), "Twice the deceleration is {expr} m/s^2."),
            _S("s", "div", ("v2", "two_a"), "The braking distance is {expr} m."),
        ),
        "m",
    )


def _speed_after_distance(rng: np.random.Generator, name: str) -> Draft:
    u = _pick(rng, _grid(1, 14))
    v = u + 2 * int(rng.integers(1, 9))  # same parity: (v^2 - u^2) / 2 is whole
    half = (v * v - u * u) // 2  # = a * s
    a = _pick(rng, [x for x in _grid(Fraction(1, 2), 5, Fraction(1, 2)) if (Fraction(half) / x * 100).denominator == 1])
    s = exact(Fraction(half) / a)
    return Draft(
        f"A skateboarder rolling at {_q(u)} m/s goes down a ramp, speeding up at {_q(a)} m/s^2 over {_q(s)} m. "
        "How fast is the skateboarder going at the bottom? (Use v^2 = u^2 + 2 a s.)",
        {"u": u, "a": a, "s": s},
        (
            _S("u2", "sq", ("u",), "The starting speed squared is {expr} m^2/s^2."),
            _S("as_", "mul", ("a", "s"), "The acceleration times the distance is {expr} m^2/s^2."),
            _S("two_as", "mul", ("as_", 2), "Twice that is {expr} m^2/s^2."),
            _S("v2", "add", ("u2", "two_as"), "So v^2 = {expr} m^2/s^2."),
            _S("v", "sqrt", ("v2",), "The final speed is {expr} m/s."),
        ),
        "m/s",
    )


# Forces ---------------------------------------------------------------------------------------


def _force_from_grams(rng: np.random.Generator, name: str) -> Draft:
    thing = ("model rocket", "toy car", "drone", "hockey puck")[int(rng.integers(4))]
    m, a = _pick(rng, _grid(50, 950, 50)), _pick(rng, _grid(2, 20))
    return Draft(
        f"{_a(m).capitalize()} {_q(m)} g {thing} accelerates at {_q(a)} m/s^2. What net force acts on it, in newtons?",
        {"m": m, "a": a},
        (
            _S("m_kg", "div", ("m", 1000), "The mass is {expr} kg."),
            _S("F", "mul", ("m_kg", "a"), "The net force is {expr} N."),
        ),
        "N",
    )


def _net_force_speed(rng: np.random.Generator, name: str) -> Draft:
    m, a = _pick(rng, _grid(5, 60)), _pick(rng, _grid(Fraction(1, 2), 4, Fraction(1, 2)))
    f, t = _pick(rng, _grid(10, 100, 5)), _pick(rng, _grid(2, 10))
    F = exact(m * a + f)
    return Draft(
        f"{name} pushes {_a(m)} {_q(m)} kg sled, starting from rest, with a force of {_q(F)} N while friction "
        f"holds it back with {_q(f)} N. How fast is the sled moving after {_q(t)} seconds?",
        {"m": m, "F": F, "f": f, "t": t},
        (
            _S("F_net", "sub", ("F", "f"), "The net force is {expr} N."),
            _S("a", "div", ("F_net", "m"), "The acceleration is {expr} m/s^2."),
            _S("v", "mul", ("a", "t"), "The speed after that time is {expr} m/s."),
        ),
        "m/s",
    )


def _weight_total(rng: np.random.Generator, name: str) -> Draft:
    m1, m2 = _pick(rng, _grid(40, 95)), _pick(rng, _grid(5, 25))
    return Draft(
        f"{name} has a mass of {_q(m1)} kg and carries a backpack of {_q(m2)} kg. Using g = 9.8 m/s^2, "
        f"what is the combined weight of {name} and the backpack, in newtons?",
        {"m1": m1, "m2": m2, "g": G_WEIGHT},
        (
            _S("m", "add", ("m1", "m2"), "The total mass is {expr} kg."),
            _S("W", "mul", ("m", "g"), "The weight is {expr} N."),
        ),
        "N",
    )


def _lift_tension(rng: np.random.Generator, name: str) -> Draft:
    thing = ("An elevator", "A crate", "A steel beam", "A container")[int(rng.integers(4))]
    m, a = _pick(rng, _grid(300, 3000, 50)), _pick(rng, _grid(Fraction(1, 2), 4, Fraction(1, 2)))
    return Draft(
        f"{thing} of mass {_q(m)} kg is pulled upward by a cable and accelerates upward at {_q(a)} m/s^2. "
        "Taking g = 10 m/s^2, what is the tension in the cable, in kN?",
        {"m": m, "a": a, "g": G_ROUND},
        (
            _S("ga", "add", ("g", "a"), "Each kilogram needs {expr} N."),
            _S("T", "mul", ("m", "ga"), "The tension is {expr} N."),
            _S("T_kn", "div", ("T", 1000), "In kilonewtons that is {expr} kN."),
        ),
        "kN",
    )


# Work and energy ------------------------------------------------------------------------------


def _work_power(rng: np.random.Generator, name: str) -> Draft:
    F, d, t = _pick(rng, _grid(20, 200, 10)), _pick(rng, _grid(10, 300, 10)), _pick(rng, _grid(1, 10))
    return Draft(
        f"{name} pushes a cart with a force of {_q(F)} N over {_q(d)} m, which takes {_n(t, 'minute')}. "
        f"What is {name}'s average power, in watts?",
        {"F": F, "d": d, "t": t},
        (
            _S("W", "mul", ("F", "d"), "The work done is {expr} J."),
            _S("t_s", "mul", ("t", 60), "The time is {expr} s."),
            _S("P", "div", ("W", "t_s"), "The average power is {expr} W."),
        ),
        "W",
    )


def _kinetic_energy_kj(rng: np.random.Generator, name: str) -> Draft:
    vehicle = ("car", "van", "small truck", "speedboat")[int(rng.integers(4))]  # 500 to 2500 kg
    m, v = _pick(rng, _grid(500, 2500, 10)), _pick(rng, _grid(18, 144, 9))
    return Draft(
        f"{_a(m).capitalize()} {_q(m)} kg {vehicle} travels at {_q(v)} km/h. "
        "How much kinetic energy does it have, in kJ?",
        {"m": m, "v": v},
        (
            _S("v_ms", "div", ("v", KMH_PER_MS), "The speed in m/s is {expr} m/s."),
            _S("v2", "sq", ("v_ms",), "The speed squared is {expr} m^2/s^2."),
            _S("mv2", "mul", ("m", "v2"), "The mass times the speed squared is {expr} J."),
            _S("KE", "div", ("mv2", 2), "Half of that is the kinetic energy: {expr} J."),
            _S("KE_kj", "div", ("KE", 1000), "In kilojoules that is {expr} kJ."),
        ),
        "kJ",
    )


def _kinetic_energy_grams(rng: np.random.Generator, name: str) -> Draft:
    thing = ("ball", "stone", "dart", "puck")[int(rng.integers(4))]
    m, v = _pick(rng, _grid(50, 600, 10)), _pick(rng, _grid(2, 30))
    return Draft(
        f"{name} throws {_a(m)} {_q(m)} g {thing} at {_q(v)} m/s. "
        f"What is the kinetic energy of the {thing}, in joules?",
        {"m": m, "v": v},
        (
            _S("v2", "sq", ("v",), "The speed squared is {expr} m^2/s^2."),
            _S("m_kg", "div", ("m", 1000), "The mass is {expr} kg."),
            _S("mv2", "mul", ("m_kg", "v2"), "The mass times the speed squared is {expr} J."),
            _S("KE", "div", ("mv2", 2), "The kinetic energy is half of that: {expr} J."),
        ),
        "J",
    )


def _climb_power(rng: np.random.Generator, name: str) -> Draft:
    m, h, t = _pick(rng, _grid(45, 90)), _pick(rng, _grid(6, 60, 2)), _pick(rng, _grid(1, 8))
    return Draft(
        f"{name}, who has a mass of {_q(m)} kg, climbs {_a(h)} {_q(h)} m wall in {_n(t, 'minute')}. "
        "Taking g = 10 m/s^2, "
        f"what is {name}'s average power output, in watts?",
        {"m": m, "h": h, "t": t, "g": G_ROUND},
        (
            _S("W", "mul", ("m", "g"), "The weight is {expr} N."),
            _S("PE", "mul", ("W", "h"), "The potential energy gained is {expr} J."),
            _S("t_s", "mul", ("t", 60), "The time is {expr} s."),
            _S("P", "div", ("PE", "t_s"), "The average power is {expr} W."),
        ),
        "W",
    )


def _drop_speed(rng: np.random.Generator, name: str) -> Draft:
    thing = ("stone", "apple", "key", "coin", "tennis ball")[int(rng.integers(5))]
    place = ("a bridge", "a roof", "a cliff", "a tower", "a balcony")[int(rng.integers(5))]
    v = _pick(rng, _grid(2, 50))
    h = exact(Fraction(v * v, 2 * G_ROUND))
    article = "an" if thing == "apple" else "a"
    return Draft(
        f"{name} drops {article} {thing} from {place} {_q(h)} m above the ground. Ignoring air resistance and "
        "taking g = 10 m/s^2, how fast is it moving just before it lands? (Use m g h = m v^2 / 2.)",
        {"h": h, "g": G_ROUND},
        (
            _S("gh", "mul", ("g", "h"), "Each kilogram loses {expr} J of potential energy."),
            _S("v2", "mul", ("gh", 2), "So v^2 = {expr} m^2/s^2."),
            _S("v", "sqrt", ("v2",), "The speed is {expr} m/s."),
        ),
        "m/s",
    )


def _work_energy_speed(rng: np.random.Generator, name: str) -> Draft:
    m, v = _pick(rng, _grid(2, 40)), _pick(rng, _grid(2, 20))
    energy = Fraction(m * v * v, 2)
    ds = [d for d in _grid(2, 50) if (energy / d * 100).denominator == 1 and energy / d >= 2]
    d = _pick(rng, ds) if ds else 1
    F = exact(energy / d)
    return Draft(
        f"A constant net force of {_q(F)} N pushes {_a(m)} {_q(m)} kg cart from rest over {_q(d)} m. "
        "What speed does the cart reach? (The work done becomes kinetic energy.)",
        {"F": F, "m": m, "d": d},
        (
            _S("W", "mul", ("F", "d"), "The work done on the cart is {expr} J."),
            _S("W2", "mul", ("W", 2), "Twice the work is {expr} J."),
            _S("v2", "div", ("W2", "m"), "So v^2 = {expr} m^2/s^2."),
            _S("v", "sqrt", ("v2",), "The speed is {expr} m/s."),
        ),
        "m/s",
    )


# Unit changes ---------------------------------------------------------------------------------


def _speed_to_kmh(rng: np.random.Generator, name: str) -> Draft:
    v, t = _pick(rng, _grid(3, 10, Fraction(1, 2))), _pick(rng, _grid(10, 80, 2))
    d = exact(v * t)
    return Draft(
        f"{name} runs {_q(d)} m in {_q(t)} seconds. What is {name}'s average speed in km/h?",
        {"d": d, "t": t},
        (
            _S("v", "div", ("d", "t"), "The speed is {expr} m/s."),
            _S("v_kmh", "mul", ("v", KMH_PER_MS), "In km/h that is {expr} km/h."),
        ),
        "km/h",
    )


def _duration_seconds(rng: np.random.Generator, name: str) -> Draft:
    thing = ("film", "bus trip", "concert", "hike")[int(rng.integers(4))]
    h, mins = _pick(rng, _grid(1, 5)), _pick(rng, _grid(1, 59))
    return Draft(
        f"A {thing} lasts {_q(h)} h {_q(mins)} min. How many seconds long is it?",
        {"h": h, "mins": mins},
        (
            _S("h_min", "mul", ("h", 60), "The hours are {expr} minutes."),
            _S("total_min", "add", ("h_min", "mins"), "In all it lasts {expr} minutes."),
            _S("total_s", "mul", ("total_min", 60), "That is {expr} s."),
        ),
        "s",
    )


def _mass_total(rng: np.random.Generator, name: str) -> Draft:
    n, g, k = _pick(rng, _grid(2, 12)), _pick(rng, _grid(150, 900, 50)), _pick(rng, _grid(2, 25))
    return Draft(
        f"{name} packs {_q(n)} bags of flour of {_q(g)} g each and {_a(k)} {_q(k)} kg sack of rice into a box. "
        "What is the total mass in the box, in kg?",
        {"n": n, "g": g, "k": k},
        (
            _S("flour_g", "mul", ("n", "g"), "The flour has a mass of {expr} g."),
            _S("flour_kg", "div", ("flour_g", 1000), "That is {expr} kg."),
            _S("total", "add", ("flour_kg", "k"), "The total mass is {expr} kg."),
        ),
        "kg",
    )


def _battery_minutes(rng: np.random.Generator, name: str) -> Draft:
    minutes, P = _pick(rng, _grid(5, 120, 5)), _pick(rng, _grid(20, 500, 10))
    E = exact(Fraction(minutes * 60 * P, 1000))
    return Draft(
        f"A battery stores {_q(E)} kJ of energy. A motor draws {_q(P)} W from it. "
        "For how many minutes can the motor run?",
        {"E": E, "P": P},
        (
            _S("E_j", "mul", ("E", 1000), "The energy is {expr} J."),
            _S("t_s", "div", ("E_j", "P"), "The motor runs for {expr} s."),
            _S("t_min", "div", ("t_s", 60), "That is {expr} minutes."),
        ),
        "min",
    )


Builder = Callable[[np.random.Generator, str], Draft]

#: Family name -> (area, builder). The area groups families for ``PhysicsTask(families=...)``.
FAMILY_TABLE: dict[str, tuple[str, Builder]] = {
    "constant_speed_distance": ("kinematics", _constant_speed_distance),
    "average_speed": ("kinematics", _average_speed),
    "final_speed": ("kinematics", _final_speed),
    "distance_accelerating": ("kinematics", _distance_accelerating),
    "braking_distance": ("kinematics", _braking_distance),
    "speed_after_distance": ("kinematics", _speed_after_distance),
    "force_from_grams": ("forces", _force_from_grams),
    "net_force_speed": ("forces", _net_force_speed),
    "weight_total": ("forces", _weight_total),
    "lift_tension": ("forces", _lift_tension),
    "work_power": ("energy", _work_power),
    "kinetic_energy_kj": ("energy", _kinetic_energy_kj),
    "kinetic_energy_grams": ("energy", _kinetic_energy_grams),
    "climb_power": ("energy", _climb_power),
    "drop_speed": ("energy", _drop_speed),
    "work_energy_speed": ("energy", _work_energy_speed),
    "speed_to_kmh": ("units", _speed_to_kmh),
    "duration_seconds": ("units", _duration_seconds),
    "mass_total": ("units", _mass_total),
    "battery_minutes": ("units", _battery_minutes),
}
FAMILIES = tuple(FAMILY_TABLE)
