"""Quantities as text, both ways: the one place that reads `95%` and `£1.5m` and writes numbers
back, so policies, parameters given on the command line, test cases, data files, provenance
and explanations read and show a value alike."""

from __future__ import annotations

import math
import re

_PERCENT = re.compile(r"^(-?[0-9]+(?:\.[0-9]+)?)%$")
_MONEY = re.compile(r"^(-?)£([0-9]+(?:\.[0-9]+)?)(bn|[km])?$")
_MONEY_SCALE = {None: 1.0, "k": 1e3, "m": 1e6, "bn": 1e9}


def parse_quantity(value) -> tuple[float, str]:
    """A value as (number, unit): 25 -> (25, number), "25%" -> (25, percent),
    "£1.5m" -> (1.5e6, money). Raises ValueError for anything else."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value), "number"
    m = _PERCENT.match(str(value))
    if m:
        return float(m.group(1)), "percent"
    m = _MONEY.match(str(value))
    if m:
        sign = -1.0 if m.group(1) else 1.0
        return sign * float(m.group(2)) * _MONEY_SCALE[m.group(3)], "money"
    raise ValueError(f"not a quantity: {value!r}")


def parse_decimal(text: str) -> float | None:
    """A number as data files write it: ASCII decimal, finite; None for anything else.
    (Python's float() also reads "1_000", other scripts' digits and "inf".)"""
    s = text.strip()
    if not s or "_" in s or not s.isascii():
        return None
    try:
        v = float(s)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def exact_text(v: float) -> str:
    """A number written exactly and shortest: 3.0 -> "3", 0.1 -> "0.1", NaN -> "nan"."""
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def json_number(x: float) -> int | float:
    """A number for JSON or YAML output: whole numbers as integers (exactly representable
    ones only), others as floats."""
    return int(x) if float(x).is_integer() and abs(x) < 2 ** 53 else float(x)


def rounded_text(x: float, digits: int) -> str:
    text = f"{x:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def money_text(x: float) -> str:
    """An amount of money as a reader takes it in: £1.23bn, £4.5m, £12.3k, £950."""
    a = abs(x)
    if a >= 1e9:
        return _money(x, f"{rounded_text(a / 1e9, 2)}bn")
    if a >= 1e6:
        return _money(x, f"{rounded_text(a / 1e6, 2)}m")
    if a >= 1e3:
        return _money(x, f"{rounded_text(a / 1e3, 1)}k")
    return _money(x, rounded_text(a, 0))


def quantity_text(x: float, unit: str, digits: int = 10) -> str:
    """A quantity in its unit to `digits` significant digits, close enough to tell apart
    what a test case expected from what it got: 85.5 percent -> "85.5%", 2500000 money ->
    "£2,500,000", -3 money -> "-£3", 1/3 -> "0.3333333333"."""
    if unit == "money":
        return _money(x, f"{abs(x):,.{digits}g}")
    text = f"{x:.{digits}g}"
    return text + "%" if unit == "percent" else text


def _money(x: float, amount: str) -> str:
    """How money is written: the sign before the pound sign (-£3, not £-3)."""
    return ("-£" if x < 0 else "£") + amount
