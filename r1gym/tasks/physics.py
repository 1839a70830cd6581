"""Physics word problems: kinematics, forces, work and energy, and unit changes, checked with units.

``PhysicsTask`` writes GSM8K-style questions ("A train moves at a steady 90 km/h for 12
minutes. How far does it travel, in meters?") whose solutions are programs of 2 to 5 steps, each
step carrying its unit ("90 km/h is 90 / 3.6 = 25 m/s."). Every intermediate value is clean: a
positive integer or a decimal with at most two places. The final step states the answer with its
unit ("The answer is 18000 m."), and the ``"units"`` verifier judges an answer as a physical
quantity: ``"90 km/h"`` is right where the reference is ``"25 m/s"``, ``"25 km/h"`` and a bare
``"25"`` are wrong.

**Unit conversions are steps of their own**, written ``convert(unconverted, factor)`` with the
unconverted value first and consumed by the very next step. The procedural proposer's ``skip``
distractor takes the step after next with the skipped step's first argument in place of its
result, so skipping a conversion is a *unit slip* (using 90 km/h as if it were 90 m/s) that
propagates to a wrong answer. Where a conversion is the last step, the ``premature`` distractor
(stating the value before it) is the same slip at the end; the ``operation`` distractor of a
conversion multiplies where it should divide (``90 * 3.6``): the conversion done backwards.

The module registers, at import, the operations ``sq`` (``12^2 = 144``) and ``sqrt``
(``sqrt(144) = 12``; exact roots only, otherwise :class:`ArithmeticError` and the proposer drops
the branch), with the look-alike errors ``sq_double`` (``12^2 = 24``) and ``sqrt_half``
(``sqrt(144) = 72``) as their wrong-operation siblings, and the verifier ``"units"``.

Gravity: the forces and energy families state the value they use in the question: ``g = 9.8
m/s^2`` for weights, ``g = 10 m/s^2`` elsewhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, lru_cache

import numpy as np

from r1gym.core.ops import OPS, Op, register_op
from r1gym.core.problem import Problem, Program, StepSpec, problem_from_program
from r1gym.core.values import Number, Value, exact, format_number, format_value
from r1gym.core.verify import register_similarity, register_verifier, text_similarity, verify
from r1gym.core.protocols import Task
from r1gym.tasks.word_problems import load_names

# -- operations ------------------------------------------------------------------------------


def _number(v: Value) -> Number:
    if type(v) is not int and type(v) is not Fraction:
        raise ArithmeticError("expected a number")
    return v  # type: ignore[return-value]


def _sq(x: Value) -> Number:
    x = _number(x)
    return exact(x * x)  # type: ignore[arg-type]


def _sq_double(x: Value) -> Number:
    """The classic slip: squaring written down as doubling (12^2 = 24)."""
    return exact(2 * _number(x))  # type: ignore[arg-type]


def _isqrt_exact(n: int) -> int:
    r = math.isqrt(n)
    if r * r != n:
        raise ArithmeticError(f"{n} is not a perfect square")
    return r


def _sqrt(x: Value) -> Number:
    """The exact square root; :class:`ArithmeticError` when there is none (the branch is dropped)."""
    x = _number(x)
    if x < 0:
        raise ArithmeticError("square root of a negative number")
    if type(x) is int:
        return _isqrt_exact(x)
    return exact(Fraction(_isqrt_exact(x.numerator), _isqrt_exact(x.denominator)))


def _sqrt_half(x: Value) -> Number:
    """The look-alike error: a square root taken as a half (sqrt(144) = 72)."""
    x = _number(x)
    if x < 0:
        raise ArithmeticError("square root of a negative number")
    return exact(Fraction(x) / 2)


def _render_sq(args: tuple[Value, ...], r: Value) -> str:
    return f"{format_value(args[0])}^2 = {format_value(r)}"


def _render_sqrt(args: tuple[Value, ...], r: Value) -> str:
    return f"sqrt({format_value(args[0])}) = {format_value(r)}"


def _register(op: Op) -> None:
    """Register ``op``, replacing only an earlier registration from this module (a reload)."""
    existing = OPS.get(op.name)
    mine = existing is not None and getattr(existing.fn, "__module__", None) == __name__
    register_op(op, replace=mine)


for _op in (
    Op("sq", _sq, _render_sq, ("sq_double",)),
    Op("sq_double", _sq_double, _render_sq, ("sq",)),
    Op("sqrt", _sqrt, _render_sqrt, ("sqrt_half",)),
    Op("sqrt_half", _sqrt_half, _render_sqrt, ("sqrt",)),
):
    _register(_op)


# -- the "units" verifier -------------------------------------------------------------------

#: Units the verifier reads: name -> (factor, ((sympy.physics.units name, power), ...)).
#: Symbols are case-sensitive ("mJ" is not "MJ"); names in :data:`_WORDS` match in any case.
_UNIT_SPECS: dict[str, tuple[int | Fraction, tuple[tuple[str, int], ...]]] = {}


def _add_units(names: str, factor: int | Fraction, *parts: tuple[str, int]) -> None:
    for name in names.split():
        _UNIT_SPECS[name] = (factor, parts)


_METER, _KILOGRAM, _SECOND = ("meter", 1), ("kilogram", 1), ("second", 1)
_add_units("m meter meters metre metres", 1, _METER)
_add_units("km Km KM kilometer kilometers kilometre kilometres", 1, ("kilometer", 1))
_add_units("cm centimeter centimeters centimetre centimetres", 1, ("centimeter", 1))
_add_units("mm millimeter millimeters millimetre millimetres", 1, ("millimeter", 1))
_add_units("mi mile miles", 1, ("mile", 1))
_add_units("ft foot feet", 1, ("foot", 1))
_add_units("kg Kg KG kgs kilogram kilograms kilo kilos", 1, _KILOGRAM)
_add_units("g gm gram grams", 1, ("gram", 1))
_add_units("mg milligram milligrams", 1, ("milligram", 1))
_add_units("tonne tonnes", 1, ("tonne", 1))
_add_units("s sec secs second seconds", 1, _SECOND)
_add_units("ms millisecond milliseconds", 1, ("millisecond", 1))
_add_units("min mins minute minutes", 1, ("minute", 1))
_add_units("h hr hrs hour hours", 1, ("hour", 1))
_add_units("day days", 1, ("day", 1))
_add_units("kph kmph kmh", 1, ("kilometer", 1), ("hour", -1))
_add_units("mph", 1, ("mile", 1), ("hour", -1))
_add_units("mps", 1, _METER, ("second", -1))
_add_units("N newton newtons", 1, ("newton", 1))
_add_units("kN KN kilonewton kilonewtons", 1000, ("newton", 1))
_add_units("J joule joules", 1, ("joule", 1))
_add_units("kJ KJ kilojoule kilojoules", 1000, ("joule", 1))
_add_units("MJ megajoule megajoules", 10**6, ("joule", 1))
_add_units("Wh", 1, ("watt", 1), ("hour", 1))
_add_units("kWh KWh", 1000, ("watt", 1), ("hour", 1))
_add_units("W watt watts", 1, ("watt", 1))
_add_units("kW KW kilowatt kilowatts", 1000, ("watt", 1))
_add_units("MW megawatt megawatts", 10**6, ("watt", 1))

#: Names matched in any case: the lower-case names of three letters or more, and "hr".
_WORDS = {n.lower(): n for n in _UNIT_SPECS if (len(n) >= 3 and n.islower()) or n == "hr"}

_BASE = ("meter", "kilogram", "second")
Dims = tuple[int, int, int]  # powers of (length, mass, time)


@cache
def _unit_table() -> dict[str, tuple[Fraction, Dims]]:
    """Every unit of :data:`_UNIT_SPECS` as (factor to SI, dimension), read from sympy once.

    sympy.physics.units converts each unit to meter, kilogram and second (``km/h`` ->
    ``5*meter/(18*second)``); a verdict then costs only Python arithmetic on the cached factors.
    """
    import sympy
    from sympy.physics import units
    from sympy.physics.units import convert_to

    base = [getattr(units, b) for b in _BASE]
    table: dict[str, tuple[Fraction, Dims]] = {}
    for name, (factor, parts) in _UNIT_SPECS.items():
        expr = sympy.Rational(Fraction(factor).numerator, Fraction(factor).denominator)
        for attr, power in parts:
            expr = expr * getattr(units, attr) ** power
        coeff, rest = convert_to(expr, base).as_coeff_Mul()
        powers = rest.as_powers_dict()
        if set(powers) - set(base) - {sympy.S.One} or not isinstance(coeff, sympy.Rational):
            raise RuntimeError(f"unit {name!r} does not reduce to a rational multiple of m, kg, s: {rest}")
        dims = tuple(int(powers.get(b, 0)) for b in base)
        table[name] = (Fraction(int(coeff.p), int(coeff.q)), dims)  # type: ignore[assignment]
    return table


_MAX_QUANTITY_CHARS = 120
_MAX_EXPONENT = 60
_QUANTITY = re.compile(
    r"""^\s*
    (?P<num>[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|[-+]?\.\d+)   # 25, 2.5, 30,000, .5
    (?:/(?P<den>\d+))?                                             # 5/2
    (?:[eE](?P<exp>[-+]?\d+)|\s*(?:x|\*)\s*10\s*\^\s*(?P<exp10>[-+]?\d+))?  # 2.5e4, 2.5 x 10^4
    \s*(?P<unit>.*?)\s*\.?\s*$""",
    re.VERBOSE | re.DOTALL,
)
_UNIT_TOKEN = re.compile(
    r"\s*(?:(?P<div>/|per\b)|(?P<mul>\*|\.(?=\s*[A-Za-z]))|(?P<name>[A-Za-z]+)(?:\s*\^\s*(?P<pow>[-+]?\d)|(?P<tail>[23])(?![0-9]))?)"
)


@dataclass(frozen=True, slots=True)
class Quantity:
    """A parsed quantity: ``value`` in SI units (m, kg, s) and its dimension.

    ``dims`` is the power of (length, mass, time); ``has_unit`` is False for a bare number.
    """

    value: Fraction
    dims: Dims
    has_unit: bool


def parse_unit(text: str) -> tuple[Fraction, Dims] | None:
    """Read a unit such as ``m/s``, ``km/h``, ``kg*m/s^2``, ``meters per second``; None if unknown.

    A ``/`` or ``per`` divides by the factor after it only (``m/s/s`` is ``m/s^2``); factors are
    joined by ``*``, ``.`` or a space; a power is written ``^2``, ``^-1`` or as a trailing digit
    (``s2``); ``squared`` squares the factor before it.

    >>> parse_unit("km/h")
    (Fraction(5, 18), (1, 0, -1))
    """
    table = _unit_table()
    s = text.replace("\u00b2", "^2").replace("\u00b3", "^3").replace("\u00b7", "*")
    pos, n = 0, len(s)
    scale, dims = Fraction(1), [0, 0, 0]
    sign, last = 1, None  # sign of the next factor; the last factor read (for "squared")
    expect_factor = True
    while pos < n:
        if s[pos:].strip() == "":
            break
        m = _UNIT_TOKEN.match(s, pos)
        if m is None or m.end() == pos:
            return None
        pos = m.end()
        if m.group("div"):
            if sign == -1 and expect_factor:
                return None
            sign, expect_factor = -1, True
            continue
        if m.group("mul"):
            if expect_factor:
                return None
            expect_factor = True
            continue
        word = m.group("name")
        if word.lower() == "squared" and last is not None and not expect_factor:
            f, d, p = last
            scale *= f**p
            dims = [a + b * p for a, b in zip(dims, d)]
            continue
        key = word if word in table else _WORDS.get(word.lower())
        if key is None:
            return None
        power = int(m.group("pow") or m.group("tail") or 1) * sign
        f, d = table[key]
        scale *= f**power
        dims = [a + b * power for a, b in zip(dims, d)]
        last = (f, d, power)
        sign, expect_factor = 1, False
    if expect_factor and last is not None:
        return None  # a dangling "/" or "*"
    if last is None:
        return None
    return scale, (dims[0], dims[1], dims[2])


@lru_cache(maxsize=65536)
def parse_quantity(text: str) -> Quantity | None:
    """Read ``"25 m/s"``, ``"2.5e4 J"``, ``"90 km/h"``, ``"1.5 h"``, ``"v = 25 m/s"`` as a quantity.

    Returns None when the text is not a number followed by a known unit (or by nothing).
    Nothing is handed to ``sympify``: a regular expression reads the number and a table the unit.
    """
    if not isinstance(text, str) or len(text) > _MAX_QUANTITY_CHARS:
        return None
    s = text.strip()
    if "=" in s:  # "v = 25 m/s"
        s = s.rsplit("=", 1)[1]
    m = _QUANTITY.match(s)
    if m is None:
        return None
    try:
        value = Fraction(m.group("num").replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return None
    if m.group("den") is not None:
        den = int(m.group("den"))
        if den == 0:
            return None
        value /= den
    exp = m.group("exp") or m.group("exp10")
    if exp is not None:
        e = int(exp)
        if abs(e) > _MAX_EXPONENT:
            return None
        value *= Fraction(10) ** e
    unit = m.group("unit")
    if not unit:
        return Quantity(value, (0, 0, 0), False)
    parsed = parse_unit(unit)
    if parsed is None:
        return None
    scale, dims = parsed
    return Quantity(value * scale, dims, True)


#: Relative tolerance of a match after conversion (exact comparison first).
REL_TOL = Fraction(1, 10**9)


@lru_cache(maxsize=65536)
def verify_units(answer: str, reference: str) -> bool:
    """True when ``answer`` is the same physical quantity as ``reference``.

    Rules: the answer must parse (a number and a known unit); it must have a unit when the
    reference has one (a bare ``"25"`` is wrong for ``"25 m/s"``) and the same dimension; its
    value in SI units must equal the reference's exactly or within a relative 1e-9. A reference
    that does not parse as a quantity falls back to the ``"math"`` verifier.

    >>> verify_units("90 km/h", "25 m/s"), verify_units("25 km/h", "25 m/s"), verify_units("25", "25 m/s")
    (True, False, False)
    """
    ref = parse_quantity(reference)
    if ref is None:
        return verify(answer, reference)
    ans = parse_quantity(answer)
    if ans is None or ans.has_unit != ref.has_unit or ans.dims != ref.dims:
        return False
    a, r = ans.value, ref.value
    if a == r:
        return True
    return abs(a - r) <= REL_TOL * max(abs(a), abs(r))


def units_verifier(answer: str, reference: str, problem: object = None) -> bool:
    """The ``"units"`` verifier (registered at import): :func:`verify_units`."""
    return verify_units(answer, reference)


register_verifier("units", units_verifier)


def units_similarity(answer: str, reference: str, problem: object = None) -> float:
    """Partial credit for a wrong quantity: 0 for a wrong dimension or a missing unit; otherwise
    the edit-distance similarity of the two values written in SI units (so "25 km/h" against
    "25 m/s" is compared as 125/18 against 25, not as two strings that share their number)."""
    ref, ans = parse_quantity(reference), parse_quantity(answer)
    if ref is None:
        return text_similarity(answer, reference)
    if ans is None or ans.has_unit != ref.has_unit or ans.dims != ref.dims:
        return 0.0
    return text_similarity(format_number(exact(ans.value)), format_number(exact(ref.value)))


register_similarity("units", units_similarity)


# -- problem families -----------------------------------------------------------------------

AREAS = ("kinematics", "forces", "energy", "units")
_MAX_TRIES = 500
_MAX_VALUE = 10**7
KMH_PER_MS = Fraction(18, 5)  # 1 m/s = 3.6 km/h
G_WEIGHT = Fraction(49, 5)  # 9.8 m/s^2, for weights
G_ROUND = 10  # 10 m/s^2, for the other forces and energy families


@dataclass(frozen=True, slots=True)
class _Draft:
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


def _constant_speed_distance(rng: np.random.Generator, name: str) -> _Draft:
    vehicle = VEHICLES[int(rng.integers(len(VEHICLES)))]
    v, t = _pick(rng, _grid(18, 144, 9)), _pick(rng, _grid(2, 30))
    return _Draft(
        f"A {vehicle} moves at a steady {_q(v)} km/h for {_n(t, 'minute')}. How far does it travel, in meters?",
        {"v": v, "t": t},
        (
            _S("t_s", "mul", ("t", 60), "The time in seconds is {expr} s."),
            _S("v_ms", "div", ("v", KMH_PER_MS), "The speed in m/s is {expr} m/s."),
            _S("d", "mul", ("v_ms", "t_s"), f"The {vehicle} travels {{expr}} m."),
        ),
        "m",
    )


def _average_speed(rng: np.random.Generator, name: str) -> _Draft:
    rider = "cycles" if rng.random() < 0.5 else "runs"
    v, t = _pick(rng, _grid(2, 15, Fraction(1, 2))), _pick(rng, _grid(4, 90, 2))
    d = exact(Fraction(v * t * 60, 1000))
    return _Draft(
        f"{name} {rider} {_q(d)} km in {_n(t, 'minute')}. What is {name}'s average speed in m/s?",
        {"d": d, "t": t},
        (
            _S("t_s", "mul", ("t", 60), "The time is {expr} s."),
            _S("d_m", "mul", ("d", 1000), "The distance is {expr} m."),
            _S("v", "div", ("d_m", "t_s"), "The average speed is {expr} m/s."),
        ),
        "m/s",
    )


def _final_speed(rng: np.random.Generator, name: str) -> _Draft:
    vehicle = VEHICLES[int(rng.integers(len(VEHICLES)))]
    u, a, t = _pick(rng, _grid(2, 20)), _pick(rng, _grid(Fraction(1, 2), 4, Fraction(1, 2))), _pick(rng, _grid(2, 12))
    return _Draft(
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


def _distance_accelerating(rng: np.random.Generator, name: str) -> _Draft:
    rider = RIDERS[int(rng.integers(len(RIDERS)))]
    u, a, t = _pick(rng, _grid(1, 12)), _pick(rng, _grid(Fraction(1, 2), 4, Fraction(1, 2))), _pick(rng, _grid(2, 12))
    return _Draft(
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


def _braking_distance(rng: np.random.Generator, name: str) -> _Draft:
    v, a = _pick(rng, _grid(18, 144, 9)), _pick(rng, _grid(1, 10, Fraction(1, 4)))
    return _Draft(
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


def _speed_after_distance(rng: np.random.Generator, name: str) -> _Draft:
    u = _pick(rng, _grid(1, 14))
    v = u + 2 * int(rng.integers(1, 9))  # same parity: (v^2 - u^2) / 2 is whole
    half = (v * v - u * u) // 2  # = a * s
    a = _pick(rng, [x for x in _grid(Fraction(1, 2), 5, Fraction(1, 2)) if (Fraction(half) / x * 100).denominator == 1])
    s = exact(Fraction(half) / a)
    return _Draft(
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


def _force_from_grams(rng: np.random.Generator, name: str) -> _Draft:
    thing = ("model rocket", "toy car", "drone", "hockey puck")[int(rng.integers(4))]
    m, a = _pick(rng, _grid(50, 950, 50)), _pick(rng, _grid(2, 20))
    return _Draft(
        f"{_a(m).capitalize()} {_q(m)} g {thing} accelerates at {_q(a)} m/s^2. What net force acts on it, in newtons?",
        {"m": m, "a": a},
        (
            _S("m_kg", "div", ("m", 1000), "The mass is {expr} kg."),
            _S("F", "mul", ("m_kg", "a"), "The net force is {expr} N."),
        ),
        "N",
    )


def _net_force_speed(rng: np.random.Generator, name: str) -> _Draft:
    m, a = _pick(rng, _grid(5, 60)), _pick(rng, _grid(Fraction(1, 2), 4, Fraction(1, 2)))
    f, t = _pick(rng, _grid(10, 100, 5)), _pick(rng, _grid(2, 10))
    F = exact(m * a + f)
    return _Draft(
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


def _weight_total(rng: np.random.Generator, name: str) -> _Draft:
    m1, m2 = _pick(rng, _grid(40, 95)), _pick(rng, _grid(5, 25))
    return _Draft(
        f"{name} has a mass of {_q(m1)} kg and carries a backpack of {_q(m2)} kg. Using g = 9.8 m/s^2, "
        f"what is the combined weight of {name} and the backpack, in newtons?",
        {"m1": m1, "m2": m2, "g": G_WEIGHT},
        (
            _S("m", "add", ("m1", "m2"), "The total mass is {expr} kg."),
            _S("W", "mul", ("m", "g"), "The weight is {expr} N."),
        ),
        "N",
    )


def _lift_tension(rng: np.random.Generator, name: str) -> _Draft:
    thing = ("An elevator", "A crate", "A steel beam", "A container")[int(rng.integers(4))]
    m, a = _pick(rng, _grid(300, 3000, 50)), _pick(rng, _grid(Fraction(1, 2), 4, Fraction(1, 2)))
    return _Draft(
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


def _work_power(rng: np.random.Generator, name: str) -> _Draft:
    F, d, t = _pick(rng, _grid(20, 200, 10)), _pick(rng, _grid(10, 300, 10)), _pick(rng, _grid(1, 10))
    return _Draft(
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


def _kinetic_energy_kj(rng: np.random.Generator, name: str) -> _Draft:
    vehicle = ("car", "van", "small truck", "speedboat")[int(rng.integers(4))]  # 500 to 2500 kg
    m, v = _pick(rng, _grid(500, 2500, 10)), _pick(rng, _grid(18, 144, 9))
    return _Draft(
        f"{_a(m).capitalize()} {_q(m)} kg {vehicle} travels at {_q(v)} km/h. How much kinetic energy does it have, in kJ?",
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


def _kinetic_energy_grams(rng: np.random.Generator, name: str) -> _Draft:
    thing = ("ball", "stone", "dart", "puck")[int(rng.integers(4))]
    m, v = _pick(rng, _grid(50, 600, 10)), _pick(rng, _grid(2, 30))
    return _Draft(
        f"{name} throws {_a(m)} {_q(m)} g {thing} at {_q(v)} m/s. What is the kinetic energy of the {thing}, in joules?",
        {"m": m, "v": v},
        (
            _S("v2", "sq", ("v",), "The speed squared is {expr} m^2/s^2."),
            _S("m_kg", "div", ("m", 1000), "The mass is {expr} kg."),
            _S("mv2", "mul", ("m_kg", "v2"), "The mass times the speed squared is {expr} J."),
            _S("KE", "div", ("mv2", 2), "The kinetic energy is half of that: {expr} J."),
        ),
        "J",
    )


def _climb_power(rng: np.random.Generator, name: str) -> _Draft:
    m, h, t = _pick(rng, _grid(45, 90)), _pick(rng, _grid(6, 60, 2)), _pick(rng, _grid(1, 8))
    return _Draft(
        f"{name}, who has a mass of {_q(m)} kg, climbs {_a(h)} {_q(h)} m wall in {_n(t, 'minute')}. Taking g = 10 m/s^2, "
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


def _drop_speed(rng: np.random.Generator, name: str) -> _Draft:
    thing = ("stone", "apple", "key", "coin", "tennis ball")[int(rng.integers(5))]
    place = ("a bridge", "a roof", "a cliff", "a tower", "a balcony")[int(rng.integers(5))]
    v = _pick(rng, _grid(2, 50))
    h = exact(Fraction(v * v, 2 * G_ROUND))
    return _Draft(
        f"{name} drops {'an' if thing == 'apple' else 'a'} {thing} from {place} {_q(h)} m above the ground. Ignoring air resistance and "
        "taking g = 10 m/s^2, how fast is it moving just before it lands? (Use m g h = m v^2 / 2.)",
        {"h": h, "g": G_ROUND},
        (
            _S("gh", "mul", ("g", "h"), "Each kilogram loses {expr} J of potential energy."),
            _S("v2", "mul", ("gh", 2), "So v^2 = {expr} m^2/s^2."),
            _S("v", "sqrt", ("v2",), "The speed is {expr} m/s."),
        ),
        "m/s",
    )


def _work_energy_speed(rng: np.random.Generator, name: str) -> _Draft:
    m, v = _pick(rng, _grid(2, 40)), _pick(rng, _grid(2, 20))
    energy = Fraction(m * v * v, 2)
    ds = [d for d in _grid(2, 50) if (energy / d * 100).denominator == 1 and energy / d >= 2]
    d = _pick(rng, ds) if ds else 1
    F = exact(energy / d)
    return _Draft(
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


def _speed_to_kmh(rng: np.random.Generator, name: str) -> _Draft:
    v, t = _pick(rng, _grid(3, 10, Fraction(1, 2))), _pick(rng, _grid(10, 80, 2))
    d = exact(v * t)
    return _Draft(
        f"{name} runs {_q(d)} m in {_q(t)} seconds. What is {name}'s average speed in km/h?",
        {"d": d, "t": t},
        (
            _S("v", "div", ("d", "t"), "The speed is {expr} m/s."),
            _S("v_kmh", "mul", ("v", KMH_PER_MS), "In km/h that is {expr} km/h."),
        ),
        "km/h",
    )


def _duration_seconds(rng: np.random.Generator, name: str) -> _Draft:
    thing = ("film", "bus trip", "concert", "hike")[int(rng.integers(4))]
    h, mins = _pick(rng, _grid(1, 5)), _pick(rng, _grid(1, 59))
    return _Draft(
        f"A {thing} lasts {_q(h)} h {_q(mins)} min. How many seconds long is it?",
        {"h": h, "mins": mins},
        (
            _S("h_min", "mul", ("h", 60), "The hours are {expr} minutes."),
            _S("total_min", "add", ("h_min", "mins"), "In all it lasts {expr} minutes."),
            _S("total_s", "mul", ("total_min", 60), "That is {expr} s."),
        ),
        "s",
    )


def _mass_total(rng: np.random.Generator, name: str) -> _Draft:
    n, g, k = _pick(rng, _grid(2, 12)), _pick(rng, _grid(150, 900, 50)), _pick(rng, _grid(2, 25))
    return _Draft(
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


def _battery_minutes(rng: np.random.Generator, name: str) -> _Draft:
    minutes, P = _pick(rng, _grid(5, 120, 5)), _pick(rng, _grid(20, 500, 10))
    E = exact(Fraction(minutes * 60 * P, 1000))
    return _Draft(
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


Builder = Callable[[np.random.Generator, str], _Draft]

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


def is_clean(v: Value) -> bool:
    """A positive number below 10^7 with at most two decimal places."""
    return (type(v) is int or type(v) is Fraction) and 0 < v < _MAX_VALUE and (v * 100).denominator == 1  # type: ignore[operator]


def _accept(draft: _Draft) -> Program | None:
    """The draft's program when every value is clean and no earlier step already equals the answer."""
    if not all(is_clean(v) for v in draft.constants.values()):
        return None
    program = Program(constants=draft.constants, steps=draft.steps, answer_unit=draft.unit)
    try:
        values = program.run()
    except ArithmeticError:
        return None
    if not all(is_clean(v) for v in values) or values[-1] in values[:-1]:
        return None  # an early answer ("premature") must never state the right number
    return program


class PhysicsTask(Task):
    """Physics word problems with units: kinematics, forces, work and energy, unit changes.

    Twenty families of 2 to 5 steps (``FAMILIES``; see ``docs/physics.md`` for an example of
    each), drawn uniformly from ``families``. Numbers are drawn so that every value is a positive
    integer or a decimal with at most two places; each step states its unit and the answer is a
    quantity (``"25 m/s"``) judged by the ``"units"`` verifier, which accepts any equivalent unit
    (``"90 km/h"``) and rejects a wrong unit, a value off by a conversion factor or a bare number.

    Args:
        seed: the task seed.
        families: the families to draw: family names, area names (``"kinematics"``,
            ``"forces"``, ``"energy"``, ``"units"``, each standing for all its families), or both.
    """

    domain = "physics"

    def __init__(self, seed: int = 0, families: Sequence[str] = FAMILIES) -> None:
        super().__init__(seed)
        if isinstance(families, str):
            families = (families,)
        chosen: list[str] = []
        for f in families:
            if f in FAMILY_TABLE:
                names = [f]
            elif f in AREAS:
                names = [n for n, (area, _) in FAMILY_TABLE.items() if area == f]
            else:
                raise ValueError(
                    f"unknown physics family or area {f!r}; valid families: {list(FAMILIES)}; areas: {list(AREAS)}"
                )
            chosen += [n for n in names if n not in chosen]
        if not chosen:
            raise ValueError(f"families must name at least one of {list(FAMILIES)} or {list(AREAS)}")
        self.families = tuple(chosen)
        self.names = load_names()
        _unit_table()  # read the units from sympy now (about 0.4 s, once a process), not at the first submit

    def problem(self, index: int) -> Problem:
        rng = self.rng(index)
        family = self.families[int(rng.integers(len(self.families)))]
        area, build = FAMILY_TABLE[family]
        for _ in range(_MAX_TRIES):
            name = self.names[int(rng.integers(len(self.names)))]
            draft = build(rng, name)
            program = _accept(draft)
            if program is not None:
                break
        else:  # pragma: no cover - every family's ranges are chosen to be clean
            raise RuntimeError(f"physics family {family!r}: no clean draw in {_MAX_TRIES} tries (index {index})")
        return problem_from_program(
            draft.question,
            program,
            domain=self.domain,
            uid=f"physics:{self.seed}:{index}",
            difficulty=f"{len(program.steps)} steps",
            meta={"index": index, "family": family, "area": area},
            verifier="units",
        )


def family_examples(seed: int = 0) -> Mapping[str, Problem]:
    """One problem of every family (index 0 of a task of that family alone), for docs and tests."""
    out: dict[str, Problem] = {}
    for f in FAMILIES:
        out[f] = PhysicsTask(seed=seed, families=(f,)).problem(0)
    return out


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
    "units_verifier",
    "verify_units",
]
