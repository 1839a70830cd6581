"""Quantities with units: reading ``"90 km/h"`` and judging it against ``"25 m/s"``.

:func:`parse_quantity` reads a number and a unit with a regular expression and a table of units
(nothing is handed to ``sympify``); each unit's factor to SI and its dimension come from
``sympy.physics.units``, read once a process (:func:`unit_table`). Registered when the package
is imported: the ``"units"`` verifier (:func:`units_verifier`: the same physical quantity in any
unit, ``"90 km/h"`` for ``"25 m/s"``; a wrong unit or a bare number is wrong) and the ``"units"``
similarity (partial credit compares the two values in SI units).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, lru_cache

from r1gym.core.values import exact, format_number
from r1gym.core.verify import register_similarity, register_verifier, text_similarity, verify

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
def unit_table() -> dict[str, tuple[Fraction, Dims]]:
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
    table = unit_table()
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


@lru_cache(maxsize=8192)
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


@lru_cache(maxsize=8192)
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
