"""Rows of a list of operations → :class:`OperationRecord` values.

The table-wide reading (country, currency, unit, number format, language) is decided once in
:func:`read_context` and written down as notes, so that every assumption is visible to users.
A project a list repeats once per region it covers becomes one record with several places and
its budget counted once (:func:`group_rows`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from statistics import median
from typing import TYPE_CHECKING

from .detect import AMOUNT_ROLES, ColumnRole, RawTable, RoleBook, country_code, role_book
from .values import (
    Cell,
    NumberFormat,
    currency_in_text,
    currency_of_country,
    decimal_mark_for,
    fold,
    infer_monthfirst,
    infer_number_format,
    is_missing,
    parse_amount,
    parse_date,
    parse_number,
    parse_rate,
    parse_year,
    to_eur,
)

if TYPE_CHECKING:
    from ingest.extract.model import EntityRef

#: Above this median, a column whose header says "millions" is in fact in units.
MILLIONS_PLAUSIBLE_MAX = Decimal(100_000)


@dataclass(frozen=True)
class Mapping:
    """A user's overrides of what detection decides (``--mapping FILE.toml``; docs/operations.md)."""

    columns: dict[str, str] = field(default_factory=dict)  # header text or 1-based index -> role
    currency: str | None = None
    unit: Decimal | None = None
    country: str | None = None
    language: str | None = None
    header_row: int | None = None  # 1-based line of records, as a spreadsheet shows it
    delimiter: str | None = None
    encoding: str | None = None
    period: dt.date | None = None  # the day whose ECB rate converts rows without a start date


@dataclass
class OperationRecord:
    """One operation (project) of a list, as published and as read."""

    title: str
    description: str | None = None
    title_en: str | None = None
    beneficiary: str | None = None
    national_id: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    year: int | None = None  # a bare start year, when the list gives no start date
    total_original: Decimal | None = None
    eu_original: Decimal | None = None
    currency: str | None = None
    total_eur: Decimal | None = None
    eu_eur: Decimal | None = None
    cofinancing_rate: Decimal | None = None
    regions: list[str] = field(default_factory=list)
    counties: list[str] = field(default_factory=list)
    municipalities: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)  # other place columns
    postcodes: list[str] = field(default_factory=list)
    country: str | None = None
    fund: str | None = None
    intervention_code: str | None = None
    intervention_label: str | None = None
    programme: str | None = None
    project_id: str | None = None
    rows: list[int] = field(default_factory=list)  # 1-based data rows
    amount_note: str | None = None
    raw: dict[str, str] = field(default_factory=dict)  # header -> cell text that did not parse
    lang: str = "und"
    region_refs: list[EntityRef] = field(default_factory=list)
    region_names: list[str] = field(default_factory=list)  # the place string each ref came from
    regions_resolved: bool = False

    @property
    def place_names(self) -> list[str]:
        """Every place string of the record, most specific last."""
        return list(dict.fromkeys(self.regions + self.counties + self.places + self.municipalities))

    @property
    def text(self) -> str:
        """The passage text: title, a blank line, the description."""
        return f"{self.title}\n\n{self.description}" if self.description else self.title


@dataclass
class ReadContext:
    """How a table is read as a whole, and the notes that say why."""

    language: str = "und"
    country: str | None = None
    country_source: str = ""
    currency: str | None = None
    currency_source: str = ""
    formats: dict[int, NumberFormat] = field(default_factory=dict)
    units: dict[int, Decimal] = field(default_factory=dict)
    monthfirst: dict[int, bool] = field(default_factory=dict)
    percent_scale: dict[int, bool] = field(default_factory=dict)
    period: dt.date | None = None
    notes: list[str] = field(default_factory=list)
    amount_notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# region and fund resolution (owned by ingest/extract/gazetteer.py)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:80]


_REGION_CACHE: dict[tuple[str, str | None, str | None], EntityRef | None] = {}


def resolve_region(name: str, country: str | None, lang: str | None) -> tuple[EntityRef | None, bool]:
    """A place string → (region ref, resolved?): the gazetteer's answer when it knows the place,
    else a ref keyed by the normalised name (not counted as resolved)."""
    from ingest.extract.model import EntityRef

    key = (name, country, lang)
    if key not in _REGION_CACHE:
        try:
            from ingest.extract import gazetteer

            _REGION_CACHE[key] = gazetteer.resolve_region(name, country=country, lang=lang)
        except ImportError:
            _REGION_CACHE[key] = None
        except Exception:
            _REGION_CACHE[key] = None
    hit = _REGION_CACHE[key]
    if hit is not None:
        return hit, True
    slug = _slug(name)
    if not slug:
        return None, False
    # TODO: drop this fallback once ingest/extract/gazetteer.py resolves every place of the corpus
    return EntityRef("Region", f"{(country or 'xx').lower()}-{slug}"), False


def resolve_fund(raw: str, lang: str | None, book: RoleBook | None = None) -> EntityRef | None:
    """A fund cell (``EFRO``, ``R``, ``ERDFN``, ``ESF (inc YEI)``) → an Instrument ref."""
    from ingest.extract.model import EntityRef

    book = book or role_book()
    name = expand_fund(raw, book)
    if not name:
        return None
    try:
        from ingest.extract import gazetteer

        hit = gazetteer.resolve_instrument(name, lang=lang)
        if hit is not None:
            return hit
    except ImportError:
        pass
    except Exception:
        pass
    # TODO: replaced by gazetteer.resolve_instrument (curated fund concepts in every language)
    return EntityRef("Instrument", _slug(name))


def expand_fund(raw: str, book: RoleBook) -> str:
    """Normalise a fund cell: list-specific codes (``R`` → ERDF) and strand suffixes (``ERDFN``)."""
    text = " ".join(raw.split()).strip()
    if not text:
        return ""
    up = text.upper()
    if up in book.fund_values:
        return book.fund_values[up]
    for acronym in sorted(book.fund_acronyms, key=len, reverse=True):
        if up == acronym or (up.startswith(acronym) and len(up) == len(acronym) + 1 and up[-1].isalpha()):
            return acronym
    return text


# --------------------------------------------------------------------------------------------
# table-wide reading


def _column(raw: RawTable, i: int) -> list[Cell]:
    return [r[i] if i < len(r) else None for r in raw.rows]


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return " ".join(str(cell).split())


def read_context(raw: RawTable, roles: Sequence[ColumnRole], mapping: Mapping,
                 detect_lang: Callable[[str], str] | None, book: RoleBook) -> ReadContext:
    """Decide language, country, currency, units and formats of a whole table."""
    ctx = ReadContext()
    by_role = {c.role: c for c in roles if c.role}
    # language: of the titles and descriptions
    if mapping.language:
        ctx.language = mapping.language
    elif detect_lang is not None:
        sample = []
        for role in ("description", "title"):
            if role in by_role:
                sample += [_text(v) for v in _column(raw, by_role[role].index)[:40] if not is_missing(v)]
        ctx.language = detect_lang(" ".join(sample)[:4000]) if sample else "und"
    # country
    if mapping.country:
        ctx.country, ctx.country_source = mapping.country.upper(), "the mapping"
    elif "country" in by_role:
        codes = Counter(country_code(_text(v), book) for v in _column(raw, by_role["country"].index)
                        if not is_missing(v))
        codes.pop(None, None)
        if codes:
            ctx.country, ctx.country_source = str(codes.most_common(1)[0][0]), "its country column"
    if ctx.country is None:
        cands = book.language_countries.get(ctx.language, ())
        if len(cands) == 1:
            ctx.country, ctx.country_source = cands[0], f"the language of its text, {ctx.language}"
    if ctx.country is None:
        country = _country_from_places(raw, roles, ctx.language)
        if country:
            ctx.country, ctx.country_source = country, "the regions it names"
    # dates: format per column, and the period of the file
    starts: list[dt.date] = []
    for c in roles:
        if c.role in ("start_date", "end_date"):
            ctx.monthfirst[c.index] = infer_monthfirst(_column(raw, c.index))
    if "start_date" in by_role:
        col = by_role["start_date"].index
        starts = [d for v in _column(raw, col)
                  if (d := parse_date(v, ctx.monthfirst.get(col, False), raw.format == "xlsx")) is not None]
        if not starts:
            years = [y for v in _column(raw, col) if (y := parse_year(v))]
            starts = [dt.date(y, 7, 1) for y in years]
    ctx.period = mapping.period or (sorted(starts)[len(starts) // 2] if starts else None)
    # numbers: one decimal mark for the amount columns unless a column says otherwise
    default_mark = decimal_mark_for(ctx.language)
    numeric_cols = [c for c in roles if c.role in (*AMOUNT_ROLES, "cofinancing_rate")]
    file_fmt = infer_number_format(
        (v for c in numeric_cols if c.role in AMOUNT_ROLES for v in _column(raw, c.index)), default_mark)
    for c in numeric_cols:
        own = infer_number_format(_column(raw, c.index), "?")
        ctx.formats[c.index] = own if own.decimal != "?" else file_fmt
        if c.role == "cofinancing_rate":
            vals = [parse_number(v, ctx.formats[c.index]) for v in _column(raw, c.index)
                    if isinstance(v, str | int | float) and "%" not in str(v)]
            ctx.percent_scale[c.index] = any(v is not None and v > 1 for v in vals)
    # units: the mapping, else the header's hint if the values agree
    for c in roles:
        if c.role not in AMOUNT_ROLES:
            continue
        if mapping.unit is not None:
            ctx.units[c.index] = mapping.unit
            if mapping.unit != 1:
                ctx.amount_notes.append(f"amounts multiplied by {mapping.unit:,} (mapping)")
            continue
        if c.unit is None or c.unit == 1:
            continue
        vals = [v for x in _column(raw, c.index) if (v := parse_number(x, ctx.formats.get(c.index))) is not None]
        nz = [abs(v) for v in vals if v]
        med = Decimal(median(nz)) if nz else Decimal(0)
        if c.unit >= 10**6 and med > MILLIONS_PLAUSIBLE_MAX:
            ctx.amount_notes.append(
                f"header {c.header.strip()!r} states millions but the values are whole amounts "
                f"(median {med:,.0f}); read as published")
        else:
            ctx.units[c.index] = c.unit
            ctx.amount_notes.append(f"{c.header.strip()!r}: values multiplied by {c.unit:,} as the header states")
    # currency: mapping, a currency column (per row), the headers, the cells, the country
    header_currencies = Counter(c.currency for c in roles if c.role in AMOUNT_ROLES and c.currency)
    if mapping.currency:
        ctx.currency, ctx.currency_source = mapping.currency.upper(), "mapping"
    elif "currency" in by_role:
        ctx.currency_source = "column"
    elif header_currencies:
        ctx.currency, ctx.currency_source = header_currencies.most_common(1)[0][0], "header"
    else:
        cell_currencies: Counter[str] = Counter()
        for c in roles:
            if c.role in AMOUNT_ROLES:
                for cell in _column(raw, c.index)[:200]:
                    a = parse_amount(cell, ctx.formats.get(c.index), ctx.country)
                    if a is not None and a.currency:
                        cell_currencies[a.currency] += 1
        if cell_currencies:
            ctx.currency, ctx.currency_source = cell_currencies.most_common(1)[0][0], "cells"
        elif ctx.country:
            ctx.currency = currency_of_country(ctx.country, ctx.period)
            ctx.currency_source = "country"
            if ctx.currency:
                ctx.amount_notes.append(
                    f"amounts assumed {ctx.currency} (country {ctx.country}, from {ctx.country_source}); "
                    "the file states no currency")
        else:
            found = {currency_of_country(cc, ctx.period) for cc in book.language_countries.get(ctx.language, ())}
            if len(found) == 1 and None not in found:
                ctx.currency = found.pop()
                ctx.currency_source = "language"
                ctx.amount_notes.append(
                    f"amounts assumed {ctx.currency} (every country writing {ctx.language} uses it); "
                    "the file states no currency")
            else:
                ctx.notes.append("currency unknown: the file states none and its country could not be "
                                 "inferred; set `currency` or `country` in a --mapping file")
    if ctx.currency and ctx.currency != "EUR" and not starts and mapping.period is None:
        ctx.amount_notes.append("converted to EUR at the latest ECB rate (the file gives no dates)")
    return ctx


def _country_from_places(raw: RawTable, roles: Sequence[ColumnRole], lang: str) -> str | None:
    from kg.namespaces import NUTS

    votes: Counter[str] = Counter()
    for c in roles:
        if c.role in ("region", "county", "municipality", "place", "postcode"):
            for v in list(dict.fromkeys(_text(x) for x in _column(raw, c.index)))[:60]:
                if not v:
                    continue
                ref, ok = resolve_region(v, None, lang)
                if ok and ref is not None and ref.iri and ref.iri.startswith(str(NUTS)):
                    code = ref.iri[len(str(NUTS)):][:2].upper()
                    votes[{"UK": "GB", "EL": "GR"}.get(code, code)] += 1
    return votes.most_common(1)[0][0] if votes else None


# --------------------------------------------------------------------------------------------
# rows


@dataclass(frozen=True)
class Skipped:
    """A data row not turned into an operation, and why."""

    row: int
    reason: str


_SPLIT_PLACES = re.compile(r"\s*[,;]\s*|\s+(?:og|och|and|und|en|et|ja|i)\s+")
_CATEGORY = re.compile(r"^\s*(\d{1,3})\s*[.\-–:)]?\s*(.*)$", re.S)


def _places(cell: Cell, split: bool) -> list[str]:
    text = _text(cell)
    if is_missing(text):
        return []
    text = re.sub(r"^\d{3,6}\s*-\s*", "", text)  # AT: "60660 - Dobl-Zwaring"
    parts = _SPLIT_PLACES.split(text) if split else [text]
    return [p.strip(" .") for p in parts if p.strip(" .") and not is_missing(p)]


def build_rows(raw: RawTable, roles: Sequence[ColumnRole], ctx: ReadContext,
               unparsed: Counter[str], attempted: Counter[str]) -> tuple[list[OperationRecord], list[Skipped]]:
    """One record per data row (before grouping), and the rows skipped with their reasons."""
    records: list[OperationRecord] = []
    skipped: list[Skipped] = []
    width = len(raw.headers)
    ragged = dict(raw.ragged)
    currency_col = next((c.index for c in roles if c.role == "currency"), None)
    is_xlsx = raw.format == "xlsx"
    for n, row in enumerate(raw.rows, start=1):
        cells = list(row) + [None] * (width - len(row))
        if all(is_missing(c) for c in cells):
            skipped.append(Skipped(n, "empty row"))
            continue
        rec = OperationRecord(title="", rows=[n], country=ctx.country, currency=ctx.currency)
        if n in ragged:
            rec.raw["_fields"] = f"{ragged[n]} fields where the header has {width}"
            extra = [_text(c) for c in row[width:] if not is_missing(c)]
            if extra:
                rec.raw["_extra"] = " | ".join(extra)
        row_currency: str | None = None
        if currency_col is not None and not is_missing(cells[currency_col]):
            row_currency = currency_in_text(_text(cells[currency_col]).upper(), ctx.country)
        for c in roles:
            cell = cells[c.index]
            if not c.role or is_missing(cell):
                continue
            text = _text(cell)
            role = c.role
            if role in ("title", "description", "title_en", "beneficiary", "programme"):
                setattr(rec, role, str(cell).strip() if role == "description" else text)
            elif role in ("national_id", "project_id"):
                setattr(rec, role, text)
            elif role in ("start_date", "end_date"):
                attempted[role] += 1
                d = parse_date(cell, ctx.monthfirst.get(c.index, False), is_xlsx)
                if d is None and role == "start_date" and (y := parse_year(cell)):
                    rec.year = y
                elif d is None:
                    unparsed[role] += 1
                    rec.raw[c.header.strip()] = text
                elif role == "start_date":
                    rec.start = d
                else:
                    rec.end = d
            elif role in AMOUNT_ROLES:
                attempted[role] += 1
                a = parse_amount(cell, ctx.formats.get(c.index), ctx.country)
                if a is None:
                    unparsed[role] += 1
                    rec.raw[c.header.strip()] = text
                    continue
                amount = a.value * a.multiplier * ctx.units.get(c.index, Decimal(1))
                if a.currency and not row_currency:
                    row_currency = a.currency
                setattr(rec, "total_original" if role == "total_cost" else "eu_original", amount)
            elif role == "cofinancing_rate":
                attempted[role] += 1
                r = parse_rate(cell, ctx.formats.get(c.index), ctx.percent_scale.get(c.index))
                if r is None:
                    unparsed[role] += 1
                    rec.raw[c.header.strip()] = text
                else:
                    rec.cofinancing_rate = r
            elif role == "postcode":
                rec.postcodes.append(text)
            elif role in ("region", "county", "municipality", "place"):
                target = {"region": rec.regions, "county": rec.counties, "municipality": rec.municipalities,
                          "place": rec.places}[role]
                target += _places(cell, split=role != "municipality" or ("," in text and len(text) > 40))
            elif role == "country":
                rec.country = country_code(text) or rec.country
            elif role == "fund":
                rec.fund = text
            elif role == "intervention_category":
                m = _CATEGORY.match(text)
                if m:
                    rec.intervention_code = m[1].zfill(3)
                    rec.intervention_label = " ".join(m[2].split()) or None
                else:
                    rec.intervention_label = text
        if row_currency:
            rec.currency = row_currency
        if not rec.title:
            rec.title = rec.title_en or _first_line(rec.description) or ""
        if not rec.title and rec.beneficiary and (rec.total_original is not None or rec.eu_original is not None):
            rec.title = rec.beneficiary
        if not rec.title:
            skipped.append(Skipped(n, "no title, description or beneficiary with an amount"))
            continue
        records.append(rec)
    return records, skipped


def _first_line(text: str | None) -> str | None:
    if not text:
        return None
    line = text.strip().splitlines()[0]
    return line[:120] if line else None


def convert(rec: OperationRecord, ctx: ReadContext) -> None:
    """Fill the EUR amounts and the amount note of a record."""
    notes = list(ctx.amount_notes)
    on = rec.start or (dt.date(rec.year, 7, 1) if rec.year else None) or ctx.period
    if rec.currency:
        if rec.currency != "EUR" and rec.start is None and on is not None:
            notes.append(f"converted to EUR at the ECB rate of {on.isoformat()} (no start date in the row)")
        if rec.total_original is not None:
            rec.total_eur = to_eur(rec.total_original, rec.currency, on)
        if rec.eu_original is not None:
            rec.eu_eur = to_eur(rec.eu_original, rec.currency, on)
        if (rec.total_original is not None and rec.total_eur is None) or (
                rec.eu_original is not None and rec.eu_eur is None):
            notes.append(f"no ECB rate for {rec.currency}: amounts not converted to EUR")
    elif rec.total_original is not None or rec.eu_original is not None:
        notes.append("currency unknown: amounts kept as published, not converted to EUR")
    rec.amount_note = "; ".join(dict.fromkeys(notes)) or None


# --------------------------------------------------------------------------------------------
# grouping


def group_key(rec: OperationRecord) -> tuple[str, ...]:
    """Rows with the same key are one project: its id, else title + beneficiary + amounts."""
    if rec.project_id:
        return ("id", fold(rec.project_id))
    return ("text", fold(rec.title), fold(rec.beneficiary or ""), str(rec.total_original), str(rec.eu_original))


def group_rows(records: list[OperationRecord]) -> list[OperationRecord]:
    """Merge rows that repeat one project (once per region it covers): places are united, the
    budget is taken once, the rows are all kept for provenance."""
    groups: dict[tuple[str, ...], OperationRecord] = {}
    for rec in records:
        key = group_key(rec)
        have = groups.get(key)
        if have is None:
            groups[key] = replace(rec, rows=list(rec.rows), regions=list(rec.regions), counties=list(rec.counties),
                                  municipalities=list(rec.municipalities), places=list(rec.places),
                                  postcodes=list(rec.postcodes), raw=dict(rec.raw))
            continue
        have.rows += rec.rows
        for attr in ("regions", "counties", "municipalities", "places", "postcodes"):
            merged = getattr(have, attr)
            merged += [p for p in getattr(rec, attr) if p not in merged]
        for attr in ("description", "beneficiary", "national_id", "start", "end", "fund", "programme",
                     "total_original", "eu_original", "cofinancing_rate", "intervention_code"):
            if getattr(have, attr) is None and getattr(rec, attr) is not None:
                setattr(have, attr, getattr(rec, attr))
    return list(groups.values())


def project_key(rec: OperationRecord) -> str:
    """A file-independent key: country + project id, else a hash of the normalised title,
    beneficiary and amounts (two different projects of one list may share title and beneficiary)."""
    cc = (rec.country or "xx").lower()
    if rec.project_id:
        return f"{cc}-{_slug(rec.project_id)}"
    basis = "|".join([fold(rec.title), fold(rec.beneficiary or ""), str(rec.total_original or ""),
                      str(rec.eu_original or "")])
    return f"{cc}-op-{hashlib.sha1(basis.encode('utf-8')).hexdigest()[:16]}"


def organisation_key(rec: OperationRecord) -> str | None:
    """The beneficiary's key: its national id where published, else its normalised name."""
    if rec.national_id and re.search(r"\d", rec.national_id):
        return f"{(rec.country or 'xx').lower()}-{_slug(rec.national_id)}"
    if rec.beneficiary:
        return _slug(rec.beneficiary) or None
    return None
