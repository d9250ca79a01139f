"""rulesengine/quantities.py: the one reading and writing of quantities as text."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from rulesengine.quantities import (exact_text, json_number, money_text, parse_decimal,
                                    parse_quantity, quantity_text, rounded_text)


@pytest.mark.parametrize("text, expected", [
    (25, (25.0, "number")), ("25%", (25.0, "percent")), ("-2.5%", (-2.5, "percent")),
    ("£1.5m", (1.5e6, "money")), ("-£20k", (-2e4, "money")), ("£3bn", (3e9, "money")),
    ("£950", (950.0, "money")),
])
def test_parse_quantity(text, expected):
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["25 %", "£1.5M", "1.5m", "abc", True, "%"])
def test_parse_quantity_refuses(text):
    with pytest.raises(ValueError):
        parse_quantity(text)


@pytest.mark.parametrize("text, expected", [
    ("12", 12.0), (" 0.5 ", 0.5), ("-3e2", -300.0), ("1_000", None), ("٣٣", None),
    ("inf", None), ("nan", None), ("", None), ("12a", None)])
def test_parse_decimal_reads_ascii_decimal_only(text, expected):
    assert parse_decimal(text) == expected


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_exact_text_reads_back_exactly(x):
    assert float(exact_text(x)) == x
    assert exact_text(float(exact_text(x))) == exact_text(x)


def test_exact_text_writes_whole_numbers_without_a_point():
    assert exact_text(3.0) == "3" and exact_text(-0.5) == "-0.5" and exact_text(1e300) == "1e+300"


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_json_number_keeps_the_value(x):
    v = json_number(x)
    assert v == x and (isinstance(v, int) or not float(x).is_integer() or abs(x) >= 2 ** 53)


@pytest.mark.parametrize("x, expected", [
    (1.234e9, "£1.23bn"), (4.5e6, "£4.5m"), (-12_340, "-£12.3k"), (950, "£950"), (0, "£0")])
def test_money_text(x, expected):
    assert money_text(x) == expected


def test_rounded_text():
    assert rounded_text(1234.5, 1) == "1,234.5" and rounded_text(2.0, 3) == "2"
    assert not math.isnan(float(rounded_text(0.125, 2)))


@pytest.mark.parametrize("x, unit, expected", [
    (85.5, "percent", "85.5%"), (2_500_000.0, "money", "£2,500,000"), (-3.0, "money", "-£3"),
    (1 / 3, "number", "0.3333333333"), (2.6, "money", "£2.6"), (12.0, "count", "12"),
])
def test_quantity_text_writes_ten_significant_digits_in_the_unit(x, unit, expected):
    # what a failed test case shows for the value it expected and the value it got
    assert quantity_text(x, unit) == expected
