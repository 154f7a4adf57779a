"""Is a file a list of operations, and which column is what?

Reads CSV/TSV (encoding by charset-normalizer, dialect by clevercsv validated against the
RFC 4180 reader), XLSX (python-calamine) and JSON arrays of records into a :class:`RawTable`,
finds the header row, and gives each column a role from its header in any EU language (the
synonyms are data: ``ontology/tables/header_roles.toml``) checked against what its values look
like (a column of amounts, of dates, of percentages).
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from statistics import median
from typing import Any

from regiograph.errors import ConfigError, InputError

from .values import (
    Cell,
    currency_in_text,
    fold,
    is_missing,
    parse_date,
    parse_number,
    parse_year,
    unit_in_text,
)

ROLES_FILE = Path(__file__).resolve().parents[2] / "ontology" / "tables" / "header_roles.toml"
DELIMITERS = (",", ";", "\t", "|")
MAX_BYTES = 200 * 1024 * 1024
SNIFF_CHARS = 20000
HEADER_SCAN_ROWS = 15
MIN_ROLE_SCORE = 0.6

#: Roles an operations table needs: one naming the operation, and one more fact about it.
NAMING_ROLES = ("title", "description")
FACT_ROLES = ("beneficiary", "total_cost", "eu_amount", "start_date", "end_date", "fund", "cofinancing_rate")
AMOUNT_ROLES = ("total_cost", "eu_amount")
PLACE_ROLES = ("region", "county", "municipality")


# --------------------------------------------------------------------------------------------
# role synonyms (data)


@dataclass(frozen=True, eq=False)
class RoleBook:
    """The header-role synonyms and the small value tables of ``header_roles.toml``."""

    kinds: dict[str, str]
    synonyms: dict[str, tuple[str, ...]]  # role -> folded synonyms
    fund_values: dict[str, str]
    fund_acronyms: tuple[str, ...]
    language_countries: dict[str, tuple[str, ...]]
    country_aliases: dict[str, str]

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(r for r in self.kinds if r != "ignore")


@cache
def role_book(path: Path = ROLES_FILE) -> RoleBook:
    """Load the synonyms file once."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read header roles {path}: {exc}; restore it from git") from exc
    roles = data.get("roles", {})
    return RoleBook(
        kinds={r: str(v.get("kind", "text")) for r, v in roles.items()},
        synonyms={r: tuple(dict.fromkeys(_norm_header(s) for s in v.get("synonyms", []))) for r, v in roles.items()},
        fund_values={str(k).upper(): str(v) for k, v in data.get("fund_values", {}).items()},
        fund_acronyms=tuple(str(a).upper() for a in data.get("funds", {}).get("acronyms", [])),
        language_countries={k: tuple(v) for k, v in data.get("language_countries", {}).items()},
        country_aliases={fold(k): str(v) for k, v in data.get("country_aliases", {}).items()},
    )


def _norm_header(text: str) -> str:
    text = fold(text.replace("_", " "))
    text = re.sub(r"[*:#\"]+", " ", text)
    return " ".join(text.split()).strip(" .-")


def header_parts(header: str) -> list[tuple[str, float]]:
    """The texts a header can be matched by, with a weight: the whole header, each language of a
    bilingual header (``Projektitel / Operation name``), and a parenthesised part (weighted less)."""
    parts: list[tuple[str, float]] = []
    whole = _norm_header(header)
    if not whole:
        return parts
    no_paren = _norm_header(re.sub(r"\([^)]*\)", " ", header))
    parts.append((whole, 1.0))
    if no_paren and no_paren != whole:
        parts.append((no_paren, 1.0))
    for inner in re.findall(r"\(([^)]*)\)", header):
        if _norm_header(inner):
            parts.append((_norm_header(inner), 0.75))
    pieces = re.split(r"\s+/\s*|/\s*\n\s*|\n|\s+\|\s+", header)
    if len(pieces) == 1 and header.count("/") == 1:
        a, b = header.split("/")
        if len(a.split()) >= 2 and len(b.split()) >= 2:
            pieces = [a, b]
    if len(pieces) > 1:
        for piece in pieces:
            p = _norm_header(re.sub(r"\([^)]*\)", " ", piece))
            if p:
                parts.append((p, 1.0))
    return parts


def _phrase_in(needle: str, hay: str) -> bool:
    start = hay.find(needle)
    while start >= 0:
        end = start + len(needle)
        if (start == 0 or not hay[start - 1].isalnum()) and (end == len(hay) or not hay[end].isalnum()):
            return True
        start = hay.find(needle, start + 1)
    return False


def _synonym_score(part: str, synonym: str) -> float:
    if part == synonym:
        return 1.0
    if len(synonym) >= 4 and _phrase_in(synonym, part):
        return 0.5 + 0.5 * len(synonym) / len(part)
    if len(synonym) >= 6 and abs(len(synonym) - len(part)) <= max(3, len(synonym) // 5):
        sm = difflib.SequenceMatcher(None, part, synonym)
        if sm.real_quick_ratio() >= 0.85 and sm.quick_ratio() >= 0.85:
            ratio = sm.ratio()
            if ratio >= 0.85:
                return 0.95 * ratio
    return 0.0


def header_scores(header: str, book: RoleBook | None = None) -> dict[str, float]:
    """How well a header names each role (0–1), ``ignore`` included; roles scoring 0 are left out."""
    return dict(_header_scores(header, book or role_book()))


@cache
def _header_scores(header: str, book: RoleBook) -> tuple[tuple[str, float], ...]:
    scores: dict[str, float] = {}
    for part, weight in header_parts(header):
        for role, synonyms in book.synonyms.items():
            best = max((_synonym_score(part, s) for s in synonyms), default=0.0) * weight
            if best > scores.get(role, 0.0):
                scores[role] = best
    return tuple((r, s) for r, s in scores.items() if s > 0)


# --------------------------------------------------------------------------------------------
# reading the raw table


@dataclass
class RawTable:
    """A file's cells before interpretation: header texts and data rows (1-based numbers)."""

    format: str  # csv | json | xlsx
    headers: list[str]
    rows: list[list[Cell]]
    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str | None = None
    header_row: int = 0  # 0-based record index of the (first) header line
    header_lines: int = 1
    notes: list[str] = field(default_factory=list)
    ragged: list[tuple[int, int]] = field(default_factory=list)  # (data row number, field count)


def decode_bytes(raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Text and encoding name: a BOM wins, then strict UTF-8, then charset-normalizer's guess;
    undecodable bytes become U+FFFD rather than an error."""
    if encoding:
        try:
            return raw.decode(encoding, errors="replace"), encoding
        except LookupError as exc:
            raise ConfigError(f"unknown encoding {encoding!r} in the mapping; use e.g. utf-8 or cp1250") from exc
    for bom, name in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            return raw.decode(name, errors="replace"), name
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    proposed = [m.encoding for m in from_bytes(raw[:500_000])]
    candidates = list(dict.fromkeys([*proposed[:4], "cp1250", "cp1252", "iso8859_2"]))
    best_name, best_penalty = "cp1252", None
    for name in candidates:
        try:
            text = raw.decode(name, errors="replace")
        except LookupError:
            continue
        penalty = _mojibake_penalty(text)
        if best_penalty is None or penalty < best_penalty:
            best_name, best_penalty = name, penalty
    return raw.decode(best_name, errors="replace"), best_name


_COMMON_SYMBOLS = frozenset("–—’‘“”„«»°§€£\u00a0\u202f…•·")


def _mojibake_penalty(text: str) -> int:
    """Symbols stuck inside words (``Tytu³``, ``Ã¤``) and replacement characters: the signs of a
    wrong single-byte code page, which charset-normalizer cannot tell apart on short files."""
    penalty = text.count("\ufffd") * 3
    sample = text[:200_000]
    for i, ch in enumerate(sample):
        if ord(ch) < 128 or ch in _COMMON_SYMBOLS:
            continue
        cat = unicodedata.category(ch)
        if (not cat.startswith("L") and (
            (i > 0 and sample[i - 1].isalpha()) or (i + 1 < len(sample) and sample[i + 1].isalpha())
        )) or ch in "ÃÂÅ":
            penalty += 1
    return penalty


def _consistency(rows: Sequence[Sequence[str]]) -> tuple[float, int]:
    """Share of non-blank records with the modal field count, and that count."""
    counts = Counter(len(r) for r in rows if any(c.strip() for c in r))
    if not counts:
        return 0.0, 0
    width, n = counts.most_common(1)[0]
    return n / sum(counts.values()), width


def _read_csv(text: str, delimiter: str, quotechar: str = '"') -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar or '"',
                        doublequote=True, strict=False)
    return [row for row in reader]


def parse_delimited(text: str, delimiter: str | None = None) -> tuple[list[list[str]], str, str, list[str]]:
    """Records of a delimited text with the dialect that explains it best.

    clevercsv proposes a dialect from a sample; each candidate (its proposal and the usual
    delimiters read by the RFC 4180 reader) is scored by how consistent the field counts are,
    so quoted multi-line fields cannot fool the choice.
    """
    text = text.replace("\x00", "")
    notes: list[str] = []
    candidates: list[tuple[str, str]] = []
    if delimiter:
        candidates.append((delimiter, '"'))
    else:
        try:
            import clevercsv

            found = clevercsv.Detector().detect(text[:SNIFF_CHARS], delimiters=list(DELIMITERS))
            if found is not None and found.delimiter:
                candidates.append((found.delimiter, found.quotechar or '"'))
                notes.append(f"clevercsv proposed delimiter {found.delimiter!r}")
        except Exception:
            notes.append("clevercsv could not sniff a dialect")
        candidates += [(d, '"') for d in DELIMITERS]
    best: tuple[float, list[list[str]], str, str] | None = None
    for delim, quote in dict.fromkeys(candidates):
        try:
            rows = _read_csv(text, delim, quote)
        except csv.Error:
            continue
        share, width = _consistency(rows)
        score = 0.0 if width < 2 else share * (1 + min(width, 40) / 40)
        if best is None or score > best[0] + 1e-9:
            best = (score, rows, delim, quote)
    if best is None or best[0] == 0.0:
        raise InputError("no delimited table found (tried , ; tab |); set `delimiter` in a --mapping file")
    return best[1], best[2], best[3], notes


def _cell_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _looks_like_header_cell(cell: Cell) -> bool:
    if not isinstance(cell, str) or not cell.strip():
        return False
    s = cell.strip()
    return len(s) <= 150 and parse_number(s) is None and parse_date(s) is None


def _row_header_score(row: Sequence[Cell], book: RoleBook) -> float:
    score = 0.0
    for cell in row:
        if _looks_like_header_cell(cell):
            s = header_scores(str(cell), book)
            score += max(s.values(), default=0.0) if max(s.values(), default=0.0) >= MIN_ROLE_SCORE else 0.0
    return score


def find_header(records: list[list[Cell]], book: RoleBook, header_row: int | None = None) -> tuple[int, int]:
    """(index, number of lines) of the header: the early record whose cells best name roles; a
    header broken over two records is joined when the join names more roles."""
    if header_row is not None:
        return header_row, 1
    best_i, best_score, lines = 0, -1.0, 1
    scores = [_row_header_score(row, book) for row in records[:HEADER_SCAN_ROWS]]
    for i, score in enumerate(scores):
        if score > best_score + 1e-9:
            best_i, best_score = i, score
    single = best_score
    for i in range(min(len(records) - 1, HEADER_SCAN_ROWS)):
        top, below = records[i], records[i + 1]
        if not below or not all(is_missing(c) or _looks_like_header_cell(c) for c in below + top):
            continue
        joined = [f"{_cell_text(a)} {_cell_text(b)}".strip() for a, b in zip(top, below, strict=False)]
        score = _row_header_score(joined, book)
        if score > max(single + 0.5, best_score + 1e-9) and score > max(scores[i], scores[i + 1]) + 0.5:
            best_i, best_score, lines = i, score, 2
    return best_i, lines


def _records_to_table(fmt: str, records: list[list[Cell]], header_row: int | None, book: RoleBook) -> RawTable:
    records = [r for r in records if any(not is_missing(c) for c in r) or len(r) > 1]
    if not records:
        raise InputError("the table is empty")
    h, lines = find_header(records, book, header_row)
    if h >= len(records):
        raise InputError(f"header row {h + 1} is past the end of the table ({len(records)} records)")
    header = [_cell_text(c) for c in records[h]]
    if lines == 2:
        header = [f"{a} {_cell_text(b)}".strip() for a, b in zip(header, records[h + 1], strict=False)] + header[
            len(records[h + 1]):
        ]
    data = records[h + lines:]
    width = len(header)
    table = RawTable(fmt, header, [], header_row=h, header_lines=lines)
    for n, row in enumerate(data, start=1):
        if len(row) != width:
            table.ragged.append((n, len(row)))
        table.rows.append(list(row))
    return table


def _json_records(obj: Any) -> list[dict[str, Any]] | None:
    if isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj[:50]):
        return [x for x in obj if isinstance(x, dict)]
    if isinstance(obj, dict):
        lists = [v for v in obj.values() if isinstance(v, list)]
        found = [r for r in (_json_records(v) for v in lists) if r]
        if found:
            return max(found, key=len)
    return None


def _json_cell(value: Any) -> Cell:
    if isinstance(value, dict | list):
        if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            return ", ".join(str(v) for v in value)
        return json.dumps(value, ensure_ascii=False)
    return value  # type: ignore[no-any-return]


def read_raw_table(path: Path, *, encoding: str | None = None, delimiter: str | None = None,
                   header_row: int | None = None, book: RoleBook | None = None) -> RawTable:
    """Read a file's cells: CSV/TSV/TXT, XLSX/XLS/ODS or JSON. ``header_row`` is 0-based."""
    book = book or role_book()
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(f"{path.name}: {size} bytes is larger than the {MAX_BYTES} bytes a table may have")
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise InputError(f"{path.name} is empty")
    if raw[:4] == b"PK\x03\x04" or raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return _read_workbook(path, header_row, book)
    text, enc = decode_bytes(raw, encoding)
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("[", "{"):
        try:
            obj = json.loads(stripped)
        except (json.JSONDecodeError, RecursionError):
            obj = None
        if obj is not None:
            recs = _json_records(obj)
            if not recs:
                raise InputError(f"{path.name}: JSON without an array of records")
            keys = list(dict.fromkeys(k for r in recs for k in r))
            table = RawTable("json", [str(k) for k in keys], [[_json_cell(r.get(k)) for k in keys] for r in recs],
                             encoding=enc, header_row=0)
            return table
    if "\x00" in text[:2000] and encoding is None:
        raise InputError(f"{path.name} looks binary, not a table; give its `encoding` in a --mapping file")
    records, delim, quote, notes = parse_delimited(text, delimiter)
    table = _records_to_table("csv", [list[Cell](r) for r in records], header_row, book)
    table.encoding, table.delimiter, table.quotechar = enc, delim, quote
    table.notes += notes
    return table


def _read_workbook(path: Path, header_row: int | None, book: RoleBook) -> RawTable:
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        sheets = [(name, wb.get_sheet_by_name(name).to_python(skip_empty_area=True)) for name in wb.sheet_names]
    except Exception as exc:
        raise InputError(f"{path.name}: not a readable spreadsheet ({exc})") from exc
    best: RawTable | None = None
    best_score = -1.0
    for name, cells in sheets:
        records: list[list[Cell]] = [list[Cell](r) for r in cells]
        if not records:
            continue
        try:
            table = _records_to_table("xlsx", records, header_row, book)
        except InputError:
            continue
        score = _row_header_score(table.headers, book)
        if score > best_score:
            best, best_score = table, score
            table.notes.append(f"sheet {name!r}")
    if best is None:
        raise InputError(f"{path.name}: no sheet holds a table")
    return best


# --------------------------------------------------------------------------------------------
# column roles


@dataclass(frozen=True)
class ColumnProfile:
    """What a column's values look like (shares of non-empty values)."""

    filled: int
    numeric: float
    date: float
    year: float
    percent: float
    small: float  # numbers between 0 and 100
    large: float  # numbers above 1000
    postcode: float
    avg_len: float
    distinct: int
    code: float  # short upper-case tokens (EFRO, ESF, R)
    nonzero: float  # numbers other than 0


_POSTCODE = re.compile(r"^(?:[A-Z]{1,2}-?)?\d{3,5}(?:\s?[A-Z]{2})?$|^[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}$|^\d{2}-\d{3}$")


def profile_column(values: Sequence[Cell]) -> ColumnProfile:
    """Profile up to 300 non-empty values of a column."""
    vals = [v for v in values if not is_missing(v)][:300]
    n = len(vals) or 1
    nums = [parse_number(v) for v in vals]
    texts = [_cell_text(v).strip() for v in vals]
    return ColumnProfile(
        filled=len(vals),
        numeric=sum(x is not None and parse_date(v) is None for x, v in zip(nums, vals, strict=True)) / n,
        date=sum(parse_date(v) is not None for v in vals) / n,
        year=sum(parse_year(v) is not None for v in vals) / n,
        percent=sum("%" in t for t in texts) / n,
        small=sum(x is not None and 0 <= x <= 100 for x in nums) / n,
        large=sum(x is not None and abs(x) > 1000 for x in nums) / n,
        postcode=sum(bool(_POSTCODE.match(t.upper())) for t in texts) / n,
        avg_len=sum(len(t) for t in texts) / n,
        distinct=len(set(texts)),
        nonzero=sum(x is not None and x != 0 for x in nums) / n,
        code=sum(bool(re.fullmatch(r"[A-ZÄÖÜ+]{1,8}(\s*[\[(].*)?", t)) for t in texts) / n,
    )


def kind_fit(kind: str, p: ColumnProfile) -> float:
    """How well a column's values fit a role kind (0.2–1); empty columns fit nothing well."""
    if p.filled == 0:
        return 0.5
    textual = (1 - max(p.numeric, p.date)) * (1 - 0.5 * p.postcode)
    fits = {
        "text": 0.3 + 0.7 * textual,
        "longtext": (0.3 + 0.7 * textual) * (1.0 if p.avg_len >= 60 else 0.75),
        "amount": 0.2 + 0.8 * p.numeric * (0.6 + 0.4 * (1 - p.year)) * (0.6 + 0.4 * p.nonzero),
        "date": 0.2 + 0.8 * max(p.date, p.year),
        "rate": 0.2 + 0.8 * max(p.percent, p.small * p.numeric),
        "postcode": 0.4 + 0.6 * max(p.postcode, 0.0),
        "code": 0.5 + 0.5 * max(p.code, textual),
        "country": 0.3 + 0.7 * textual,
        "currency": 0.3 + 0.7 * p.code,
        "id": 0.6 + 0.4 * (1 if p.distinct > 1 else 0),
        "any": 1.0,
    }
    return fits.get(kind, 1.0)


@dataclass(frozen=True)
class ColumnRole:
    """A column's role and the evidence for it."""

    index: int
    header: str
    role: str  # a role of header_roles.toml, or "" when unassigned
    score: float
    source: str = "header"  # header | values | mapping
    unit: Decimal | None = None  # a multiplier the header states (£m → 1e6)
    currency: str | None = None  # a currency the header states
    note: str = ""


def assign_roles(headers: Sequence[str], columns: Sequence[Sequence[Cell]], *,
                 overrides: dict[str, str] | None = None, book: RoleBook | None = None) -> list[ColumnRole]:
    """Give each column at most one role and each role at most one column: best scores first,
    header evidence weighted by how well the values fit; then a few value-based corrections."""
    book = book or role_book()
    overrides = {fold(k): v for k, v in (overrides or {}).items()}
    profiles = [profile_column(col) for col in columns]
    fixed: dict[int, str] = {}
    for i, h in enumerate(headers):
        for key in (fold(h), str(i + 1)):
            if key in overrides:
                fixed[i] = overrides[key]
    candidates: list[tuple[float, int, str]] = []
    for i, h in enumerate(headers):
        if i in fixed:
            continue
        for role, s in header_scores(h, book).items():
            if s < MIN_ROLE_SCORE:
                continue
            candidates.append((s * kind_fit(book.kinds.get(role, "text"), profiles[i]), i, role))
    taken_roles = {r for r in fixed.values() if r not in ("ignore", "")}
    chosen: dict[int, tuple[str, float]] = {i: (r, 1.0) for i, r in fixed.items()}
    for score, i, role in sorted(candidates, key=lambda c: (-c[0], c[1])):
        if i in chosen or score < MIN_ROLE_SCORE * 0.8:
            continue
        if role != "ignore" and role in taken_roles:
            continue
        chosen[i] = (role, score)
        if role != "ignore":
            taken_roles.add(role)
    result: list[ColumnRole] = []
    for i, h in enumerate(headers):
        role, score = chosen.get(i, ("", 0.0))
        source = "mapping" if i in fixed else "header"
        note = ""
        p = profiles[i]
        if source == "header" and role == "cofinancing_rate" and p.numeric > 0.6 and p.percent < 0.2 and p.large > 0.5:
            new = "eu_amount" if "eu_amount" not in taken_roles else "total_cost"
            if new not in taken_roles:
                note = f"header says a rate but the values are amounts: read as {new}"
                taken_roles.discard(role)
                role, source = new, "values"
                taken_roles.add(new)
        if source == "header" and role == "country" and p.filled and _country_share(columns[i], book) < 0.5:
            new = next((r for r in ("municipality", "region") if r not in taken_roles), "")
            note = f"header says country but the values are places: read as {new or 'nothing'}"
            taken_roles.discard(role)
            role, source = new, "values"
            if new:
                taken_roles.add(new)
        if source == "header" and role in ("start_date", "end_date") and p.date < 0.3 and p.year < 0.3:
            note = f"header says {role} but the values are not dates: left unassigned"
            taken_roles.discard(role)
            role = ""
        if not role and source == "header":
            best_place = max(((s, r) for s, j, r in candidates if j == i and r in PLACE_ROLES), default=None)
            if best_place and best_place[0] >= MIN_ROLE_SCORE:
                role, score, note = "place", best_place[0], f"another {best_place[1]} column: read as a place"
        result.append(ColumnRole(i, h, role if role != "ignore" else "", round(score, 3), source,
                                 unit_in_text(h), currency_in_text(h), note))
    return result


def country_code(name: str, book: RoleBook | None = None) -> str | None:
    """ISO 3166-1 alpha-2 code of a country name or code (``Denmark``, ``AUSTRIA``, ``England``, ``DK``)."""
    book = book or role_book()
    key = fold(name).strip(" .")
    if not key:
        return None
    if key in book.country_aliases:
        return book.country_aliases[key]
    import pycountry

    try:
        if len(key) == 2:
            hit = pycountry.countries.get(alpha_2=key.upper())
            return hit.alpha_2 if hit else ({"el": "GR", "uk": "GB"}.get(key))
        return str(pycountry.countries.lookup(key).alpha_2)
    except LookupError:
        return None


def _country_share(values: Sequence[Cell], book: RoleBook) -> float:
    vals = [_cell_text(v) for v in values if not is_missing(v)][:200]
    if not vals:
        return 0.0
    return sum(country_code(v, book) is not None for v in vals) / len(vals)


def median_amount(values: Sequence[Decimal]) -> Decimal | None:
    """Median of the non-zero amounts of a column (plausibility checks on unit hints)."""
    nz = [abs(v) for v in values if v]
    return Decimal(median(nz)) if nz else None


def roles_found(roles: Sequence[ColumnRole]) -> set[str]:
    """The roles a table's columns carry."""
    return {r.role for r in roles if r.role}


def looks_like_operations(roles: Sequence[ColumnRole]) -> bool:
    """A list of operations names its operations and says one more thing about them."""
    found = roles_found(roles)
    return bool(found & set(NAMING_ROLES)) and len(found & set(FACT_ROLES)) >= 1 and len(found) >= 3
