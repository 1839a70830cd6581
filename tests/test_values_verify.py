"""Exact numbers, the verifier and the edit distance."""

from __future__ import annotations

from fractions import Fraction

import pytest

from r1gym.core.values import FactoredEquation, LinearEquation, format_number, parse_number
from r1gym.core.verify import levenshtein, normalize_answer, verify


@pytest.mark.parametrize(
    "x, text",
    [
        (Fraction(42), "42"),
        (Fraction(5, 2), "2.5"),
        (Fraction(-7, 3), "-7/3"),
        (Fraction(1, 8), "0.125"),
        (Fraction(-1, 20), "-0.05"),
        (Fraction(0), "0"),
    ],
)
def test_format_number(x: Fraction, text: str) -> None:
    assert format_number(x) == text
    assert parse_number(text) == x


@pytest.mark.parametrize(
    "text, value", [("$1,200", 1200), ("x = 4", 4), (" 3.50. ", Fraction(7, 2)), ("7/3", Fraction(7, 3))]
)
def test_parse_number(text: str, value) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "abc", "3 apples", "1/0", "x + 1"])
def test_parse_number_rejects(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    "a, r, ok",
    [
        ("42", "42", True),
        ("42.00", "42", True),
        ("$42", "42", True),
        ("10/4", "2.5", True),
        ("x = 5", "5", True),
        ("41", "42", False),
        ("2*(x+1)", "2x + 2", True),
        ("x^2 - 1", "(x-1)(x+1)", True),
        ("x + 1", "x + 2", False),
        ("", "42", False),
        ("__import__('os')", "1", False),
        ("forty-two", "42", False),
    ],
)
def test_verify(a: str, r: str, ok: bool) -> None:
    assert verify(a, r) is ok


def test_normalize_answer() -> None:
    assert normalize_answer("$1,200.00") == "1200"
    assert normalize_answer("  Blue. ") == "blue"


@pytest.mark.parametrize(
    "a, b, d", [("", "", 0), ("abc", "", 3), ("kitten", "sitting", 3), ("42", "24", 2), ("12", "123", 1)]
)
def test_levenshtein(a: str, b: str, d: int) -> None:
    assert levenshtein(a, b) == d == levenshtein(b, a)


def test_equations_render() -> None:
    assert str(LinearEquation(Fraction(3), Fraction(-5), Fraction(1), Fraction(7))) == "3x - 5 = x + 7"
    assert str(LinearEquation(Fraction(1), Fraction(0), Fraction(0), Fraction(4))) == "x = 4"
    assert str(LinearEquation(Fraction(-1), Fraction(0), Fraction(0), Fraction(0))) == "-x = 0"
    assert str(FactoredEquation(Fraction(5), Fraction(-3), Fraction(10))) == "5(x - 3) = 10"
