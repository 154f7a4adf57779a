"""Parsing rules of ingest/tables/values.py, one per quirk of published lists."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ingest.tables.values import (
    NumberFormat,
    currency_in_text,
    currency_of_country,
    infer_number_format,
    parse_amount,
    parse_date,
    parse_number,
    parse_rate,
    parse_year,
    to_eur,
    unit_in_text,
)


@pytest.mark.parametrize(
    ("cell", "fmt", "expected"),
    [
        ("15.414.794", None, Decimal("15414794")),
        ("32467,02", None, Decimal("32467.02")),
        ("2.888.913,33", None, Decimal("2888913.33")),
        ("2 855 597", None, Decimal("2855597")),
        ("2\u00a0855\u00a0597", None, Decimal("2855597")),
        ("1,234.56", None, Decimal("1234.56")),
        ("107.097", NumberFormat(","), Decimal("107097")),
        ("107.097", NumberFormat("."), Decimal("107.097")),
        ("-5", None, Decimal("-5")),
        ("(3,5)", None, Decimal("-3.5")),
        ("€ 1.234,50", None, Decimal("1234.50")),
        ("1568930487.38", None, Decimal("1568930487.38")),
        (459000, None, Decimal("459000")),
        (12.5, None, Decimal("12.5")),
    ],
)
def test_numbers_in_local_formats(cell: object, fmt: NumberFormat | None, expected: Decimal) -> None:
    assert parse_number(cell, fmt) == expected


@pytest.mark.parametrize("cell", ["", "n/a", "N/A", "-", "TBC", None, "60660 - Dobl-Zwaring", "M2/2014/Student 2014"])
def test_non_numbers_are_none(cell: object) -> None:
    assert parse_number(cell) is None


def test_column_format_decides_ambiguous_cells() -> None:
    assert infer_number_format(["107.097", "2.034.856", "125.000"]).decimal == ","
    assert infer_number_format(["3038.47", "7750"]).decimal == "."
    assert infer_number_format(["125.000"], default_decimal=",").decimal == ","


def test_currency_and_unit_inside_cells_and_headers() -> None:
    a = parse_amount("DKK 1.000.000", NumberFormat(","))
    assert a is not None and a.currency == "DKK" and a.value == Decimal(1000000)
    b = parse_amount("1,5 mio €", NumberFormat(","))
    assert b is not None and b.currency == "EUR" and b.value * b.multiplier == Decimal("1500000.0")
    assert currency_in_text("ERDF/ESF investment £m") == "GBP"
    assert unit_in_text("ERDF/ESF investment £m") == Decimal(10) ** 6
    assert unit_in_text("Budget (mio EUR)") == Decimal(10) ** 6
    assert currency_in_text("Budget (EUR)") == "EUR"
    assert currency_in_text("beviljat_belopp_sek") == "SEK"
    assert currency_in_text("Budget i kr.", "DK") == "DKK"
    assert currency_in_text("Belopp (kr)", "SE") == "SEK"
    assert currency_in_text("EU-subsidie in Euro's") == "EUR"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("27.06.2016", dt.date(2016, 6, 27)),
        ("27-06-2016", dt.date(2016, 6, 27)),
        ("27/06/2016", dt.date(2016, 6, 27)),
        ("1.3.2015", dt.date(2015, 3, 1)),
        ("2016-06-27", dt.date(2016, 6, 27)),
        ("2016-10-14 01:17:38", dt.date(2016, 10, 14)),
        ("18.03.13", dt.date(2013, 3, 18)),
        ("01. Nov 15", dt.date(2015, 11, 1)),
        ("31. Dez 18", dt.date(2018, 12, 31)),
        ("01. Okt 15", dt.date(2015, 10, 1)),
        ("Mrz 16", dt.date(2016, 3, 1)),
        ("25-Jan-2016", dt.date(2016, 1, 25)),
        ("3 czerwca 2016", dt.date(2016, 6, 3)),
        ("March 3, 2015", dt.date(2015, 3, 3)),
        (dt.datetime(2016, 5, 1, 0, 0), dt.date(2016, 5, 1)),
    ],
)
def test_dates_in_local_formats(cell: object, expected: dt.date) -> None:
    assert parse_date(cell) == expected


def test_excel_serial_dates_and_bad_dates() -> None:
    assert parse_date(42000.0, excel_serial=True) == dt.date(2014, 12, 27)
    assert parse_date(42000.0) is None
    assert parse_date("31-Nov-18") is None
    assert parse_date("31/04/2014") is None
    assert parse_date("12/31/2015", monthfirst=True) == dt.date(2015, 12, 31)
    assert parse_year("2014") == 2014 and parse_year("Cavan") is None


@pytest.mark.parametrize(
    ("cell", "scale", "expected"),
    [("50%", None, Decimal("0.5")), ("18,13 %", None, Decimal("0.1813")), ("25%*", None, Decimal("0.25")),
     ("0.5", None, Decimal("0.5")), ("40", True, Decimal("0.4")), ("150%", None, None)],
)
def test_rates_become_fractions(cell: str, scale: bool | None, expected: Decimal | None) -> None:
    assert parse_rate(cell, NumberFormat(","), scale) == expected


def test_money_converts_at_ecb_rates_without_network() -> None:
    eur = to_eur(Decimal(1000), "DKK", dt.date(2014, 4, 24))
    assert eur is not None and Decimal(130) < eur < Decimal(140)
    assert to_eur(Decimal(10), "EUR", None) == Decimal(10)
    assert to_eur(Decimal(10), "XYZ", None) is None
    assert currency_of_country("DK") == "DKK"
    assert currency_of_country("FI") == "EUR"
    assert currency_of_country("LT", dt.date(2012, 1, 1)) == "LTL"
