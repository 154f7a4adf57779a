"""Lists of operations (EU cohesion-fund projects) → records, documents, passages, extractions.

Public API used by the ingest pipeline and the CLI::

    is_operations_table(path) -> bool
    inspect_table(path, mapping=None) -> TableInspection        # .render() for the CLI
    read_operations(path, mapping=None) -> OperationsTable      # .records, .summary, .to_document()
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from regiograph.errors import ConfigError, InputError, RegiographError

from .detect import (
    ColumnRole,
    RawTable,
    assign_roles,
    looks_like_operations,
    read_raw_table,
    role_book,
)
from .records import (
    Mapping,
    OperationRecord,
    ReadContext,
    Skipped,
    build_rows,
    convert,
    group_rows,
    organisation_key,
    project_key,
    read_context,
    resolve_fund,
    resolve_region,
)

if TYPE_CHECKING:
    from ingest.document import Passage, ReadDocument
    from ingest.extract.model import Extraction

__all__ = [
    "Mapping",
    "OperationRecord",
    "OperationsTable",
    "TableInspection",
    "TableSummary",
    "inspect_table",
    "is_operations_table",
    "load_mapping",
    "read_operations",
]

Detector = Callable[[str], str]
_T = TypeVar("_T")
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _default_detector() -> Detector | None:
    try:
        from ingest.language import detect
    except ImportError:
        return None
    return detect


def load_mapping(path: Path | None) -> Mapping:
    """Read a ``--mapping`` TOML file (format in docs/operations.md)."""
    if path is None:
        return Mapping()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read mapping {path}: {exc}; see docs/operations.md for the format") from exc
    table = data.get("table", {})
    known = set(role_book().kinds) | {""}
    columns = {str(k): str(v) for k, v in data.get("columns", {}).items()}
    for header, role in columns.items():
        if role not in known:
            raise ConfigError(f"mapping {path}: column {header!r} has unknown role {role!r}; "
                              f"use one of {', '.join(sorted(known - {''}))}")
    try:
        unit = Decimal(str(table["unit"])) if "unit" in table else None
        period = dt.date.fromisoformat(str(table["period"])) if "period" in table else None
        header_row = int(table["header_row"]) - 1 if "header_row" in table else None
    except (InvalidOperation, ValueError) as exc:
        raise ConfigError(f"mapping {path}: {exc}; unit is a number, period a date (2014-01-01), "
                          "header_row a line number from 1") from exc
    delimiter = table.get("delimiter")
    if delimiter in ("tab", "\\t"):
        delimiter = "\t"
    return Mapping(columns=columns, currency=table.get("currency"), unit=unit, country=table.get("country"),
                   language=table.get("language"), header_row=header_row, delimiter=delimiter,
                   encoding=table.get("encoding"), period=period)


@dataclass
class TableSummary:
    """What reading one list gave: counts, shares and what was not read."""

    source: str
    rows_read: int = 0
    projects: int = 0
    organisations: int = 0
    regions_resolved_pct: float | None = None  # of projects naming a place
    amounts_parsed_pct: float | None = None  # of non-empty amount cells
    languages: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    unparsed: dict[str, int] = field(default_factory=dict)
    country: str | None = None
    currency: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class TableInspection:
    """How a file would be read: format, encoding, dialect, language, column roles, five rows."""

    path: Path
    raw: RawTable
    roles: list[ColumnRole]
    context: ReadContext
    sample: list[OperationRecord]
    is_operations: bool

    def render(self) -> str:
        """A plain-text report for ``regiograph inspect-table``."""
        r = self.raw
        lines = [
            f"file: {self.path.name}",
            f"format: {r.format}  encoding: {r.encoding}  delimiter: {r.delimiter!r}  "
            f"header line(s): {r.header_row + 1}" + (f"-{r.header_row + r.header_lines}" if r.header_lines > 1 else ""),
            f"data rows: {len(r.rows)}  ragged rows: {len(r.ragged)}",
            f"language: {self.context.language}  country: {self.context.country or '?'}"
            + (f" (from {self.context.country_source})" if self.context.country_source else ""),
            f"currency: {self.context.currency or '?'}"
            + (f" (from {self.context.currency_source})" if self.context.currency_source else ""),
            f"list of operations: {'yes' if self.is_operations else 'no'}",
            "columns:",
        ]
        for c in self.roles:
            extra = []
            if c.unit:
                extra.append(f"unit ×{c.unit:,}")
            if c.currency:
                extra.append(c.currency)
            if c.note:
                extra.append(c.note)
            lines.append(f"  {c.index + 1:>3}. {' '.join(c.header.split())[:60]:<60} → {c.role or '-':<22}"
                         f" {c.score:.2f} {c.source}" + (f"  [{'; '.join(extra)}]" if extra else ""))
        for note in self.context.notes + self.context.amount_notes + r.notes:
            lines.append(f"note: {note}")
        lines.append("first rows:")
        for rec in self.sample:
            lines.append(f"  row {','.join(map(str, rec.rows))}: {rec.title[:60]!r} | {rec.beneficiary or '-'} | "
                         f"{rec.start or rec.year or '-'}–{rec.end or '-'} | total {rec.total_original} "
                         f"eu {rec.eu_original} {rec.currency or '?'} → {rec.total_eur}/{rec.eu_eur} EUR | "
                         f"rate {rec.cofinancing_rate} | places {rec.place_names + rec.postcodes} | fund {rec.fund}")
        return "\n".join(lines)


@dataclass
class OperationsTable:
    """The operations of one list, with its summary; :meth:`to_document` feeds the pipeline."""

    path: Path
    raw_bytes_hash: str
    media_type: str
    encoding: str | None
    records: list[OperationRecord]
    summary: TableSummary
    context: ReadContext

    def to_document(self, detector: Detector | None = None) -> tuple[ReadDocument, list[Passage], Extraction]:
        """One document whose text is every operation's "title\\n\\ndescription" block, one passage
        per operation, and an Extraction with the projects, beneficiaries, funds and regions."""
        from rdflib import Literal, URIRef

        from ingest.document import Block, Passage, ReadDocument
        from ingest.extract.model import Entity, EntityRef, Extraction
        from kg.namespaces import DCTERMS, RG, XSD

        detect = detector or _default_detector()
        pieces: list[str] = []
        spans: list[tuple[int, int]] = []
        offset = 0
        for rec in self.records:
            text = rec.text
            spans.append((offset, offset + len(text)))
            pieces.append(text)
            offset += len(text) + 2
        full = "\n\n".join(pieces)
        doc = ReadDocument(source=self.path.name, path=str(self.path), content_hash=self.raw_bytes_hash,
                           media_type=self.media_type, text=full,
                           blocks=tuple(Block(s, e, "table_row") for s, e in spans),
                           title=self.path.name, encoding=self.encoding)
        passages: list[Passage] = []
        extraction = Extraction()
        book = role_book()
        for pos, (rec, (start, end)) in enumerate(zip(self.records, spans, strict=True)):
            lang = rec.lang if rec.lang != "und" or detect is None else detect(rec.text)
            rec.lang = lang
            passages.append(Passage(doc.doc_id, pos, start, end, full[start:end], lang=lang,
                                    extra={"row": str(rec.rows[0]), "rows": ",".join(map(str, rec.rows))}))
            tag = lang if lang and lang != "und" else None
            project = Entity(EntityRef("Project", project_key(rec)), rec.title, tag, passages={pos})
            if rec.title_en and rec.title_en != rec.title:
                project.alt_labels.append((rec.title_en, "en"))
            if rec.description:
                project.add(DCTERMS.description, Literal(rec.description, lang=tag))
            for pred, value in ((RG.budgetEUR, rec.total_eur), (RG.euFundingEUR, rec.eu_eur)):
                if value is not None:
                    project.add(pred, Literal(value, datatype=XSD.decimal))
            if (rec.currency and rec.currency != "EUR") or rec.currency is None:
                for pred, value in ((RG.budgetOriginal, rec.total_original), (RG.euFundingOriginal, rec.eu_original)):
                    if value is not None:
                        project.add(pred, Literal(value, datatype=XSD.decimal))
            if rec.currency:
                project.add(RG.currency, Literal(rec.currency))
            if rec.amount_note:
                project.add(RG.amountNote, Literal(rec.amount_note, lang="en"))
            if rec.cofinancing_rate is not None:
                project.add(RG.cofinancingRate, Literal(rec.cofinancing_rate, datatype=XSD.decimal))
            if rec.start:
                project.add(RG.startDate, Literal(rec.start.isoformat(), datatype=XSD.date))
            if rec.end:
                project.add(RG.endDate, Literal(rec.end.isoformat(), datatype=XSD.date))
            for pc in rec.postcodes:
                project.add(RG.postcode, Literal(pc))
            for row in rec.rows:
                project.add(DCTERMS.source, Literal(f"{self.path.name}#row={row}"))
            if rec.intervention_code:
                project.add(RG.interventionCategory,
                            URIRef(f"https://w3id.org/regiograph/id/intervention-category/{rec.intervention_code}"))
            org_key = organisation_key(rec)
            if org_key and rec.beneficiary:
                org = Entity(EntityRef("Organisation", org_key), rec.beneficiary, tag, passages={pos})
                if rec.national_id:
                    org.add(RG.nationalId, Literal(rec.national_id))
                if rec.country:
                    org.add(RG.countryCode, Literal(rec.country))
                org = extraction.upsert(org)
                project.add(RG.leadPartner, org.ref)
            if rec.fund:
                fund_ref = resolve_fund(rec.fund, lang, book)
                if fund_ref is not None:
                    project.add(RG.fundedBy, fund_ref)
                    extraction.upsert(Entity(fund_ref, rec.fund, None, passages={pos}))
            for ref, name in zip(rec.region_refs, rec.region_names, strict=True):
                project.add(RG.locatedIn, ref)
                extraction.upsert(Entity(ref, name, tag, passages={pos}))
            extraction.upsert(project)
        return doc, passages, extraction


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _inspect(path: Path, mapping: Mapping, detector: Detector | None
             ) -> tuple[RawTable, list[ColumnRole], ReadContext]:
    book = role_book()
    raw = read_raw_table(path, encoding=mapping.encoding, delimiter=mapping.delimiter,
                         header_row=mapping.header_row, book=book)
    columns = [[r[i] if i < len(r) else None for r in raw.rows] for i in range(len(raw.headers))]
    roles = assign_roles(raw.headers, columns, overrides=mapping.columns, book=book)
    ctx = read_context(raw, roles, mapping, detector, book)
    return raw, roles, ctx


def is_operations_table(path: Path) -> bool:
    """Whether a file is a list of operations (by its content, whatever its name); never raises."""
    try:
        raw = read_raw_table(Path(path))
        columns = [[r[i] if i < len(r) else None for r in raw.rows[:300]] for i in range(len(raw.headers))]
        return looks_like_operations(assign_roles(raw.headers, columns))
    except RegiographError:
        return False
    except Exception:
        return False


def inspect_table(path: Path, mapping: Path | None = None) -> TableInspection:
    """How a file would be read, with its first five operations parsed."""
    path = Path(path)
    m = load_mapping(mapping)
    detector = _default_detector()
    raw, roles, ctx = _guard(path, lambda: _inspect(path, m, detector))
    head = RawTable(raw.format, raw.headers, raw.rows[:5], raw.encoding, raw.delimiter, raw.quotechar,
                    raw.header_row, raw.header_lines, [], [x for x in raw.ragged if x[0] <= 5])
    records, _ = build_rows(head, roles, ctx, Counter(), Counter())
    for rec in records:
        convert(rec, ctx)
    return TableInspection(path, raw, roles, ctx, records, looks_like_operations(roles))


def _guard(path: Path, fn: Callable[[], _T]) -> _T:
    try:
        return fn()
    except RegiographError:
        raise
    except RecursionError as exc:
        raise InputError(f"{path.name}: nested too deeply to read") from exc
    except (ValueError, TypeError, IndexError, KeyError, UnicodeError, OverflowError, ArithmeticError) as exc:
        raise InputError(f"{path.name}: cannot read as a list of operations ({type(exc).__name__}: {exc}); "
                         "check it with inspect-table and fix it with a --mapping file") from exc


def read_operations(path: Path, mapping: Path | None = None, detector: Detector | None = None) -> OperationsTable:
    """Read a list of operations into grouped records and a summary; raises InputError when the
    file is not one (name the columns in a --mapping file if detection is wrong)."""
    path = Path(path)
    m = load_mapping(mapping)
    detect = detector or _default_detector()
    return _guard(path, lambda: _read(path, m, detect))


def _read(path: Path, m: Mapping, detect: Detector | None) -> OperationsTable:
    raw, roles, ctx = _inspect(path, m, detect)
    if not looks_like_operations(roles):
        found = sorted({c.role for c in roles if c.role})
        raise InputError(f"{path.name} is not a list of operations: found columns {found or 'none'}; "
                         "name the title and amount columns in a --mapping file")
    unparsed: Counter[str] = Counter()
    attempted: Counter[str] = Counter()
    rows, skipped = build_rows(raw, roles, ctx, unparsed, attempted)
    records = group_rows(rows)
    # languages, regions, money
    if detect is not None:
        try:
            from ingest.language import detect_many

            langs = detect_many([r.text for r in records]) if detect is _default_detector() else [
                detect(r.text) for r in records]
        except ImportError:
            langs = [detect(r.text) for r in records]
        for rec, lang in zip(records, langs, strict=True):
            rec.lang = lang
    with_places = resolved = 0
    for rec in records:
        convert(rec, ctx)
        names = rec.place_names
        if not names and rec.postcodes:
            names = [p for p in rec.postcodes if any(ch.isdigit() for ch in p)]
        any_ok = False
        for name in names:
            ref, ok = resolve_region(name, rec.country, rec.lang if rec.lang != "und" else None)
            if ref is not None and ref not in rec.region_refs:
                rec.region_refs.append(ref)
                rec.region_names.append(name)
            any_ok = any_ok or ok
        rec.regions_resolved = any_ok
        if names:
            with_places += 1
            resolved += any_ok
    amount_roles = ("total_cost", "eu_amount")
    tried = sum(attempted[r] for r in amount_roles)
    failed = sum(unparsed[r] for r in amount_roles)
    orgs = {organisation_key(r) for r in records if r.beneficiary} - {None}
    summary = TableSummary(
        source=path.name,
        rows_read=len(raw.rows),
        projects=len(records),
        organisations=len(orgs),
        regions_resolved_pct=_pct(resolved, with_places),
        amounts_parsed_pct=_pct(tried - failed, tried),
        languages=dict(Counter(r.lang for r in records).most_common()),
        skipped=skipped,
        unparsed=dict(unparsed),
        country=ctx.country,
        currency=ctx.currency,
        notes=ctx.notes + ctx.amount_notes + [c.note for c in roles if c.note]
        + [f"{len(raw.ragged)} rows with a field count other than the header's (kept)"] * bool(raw.ragged),
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return OperationsTable(path, digest, MEDIA_TYPES.get(raw.format, "text/csv"), raw.encoding, records,
                           summary, ctx)


def render_summaries(items: list[tuple[str, TableSummary]]) -> str:
    """The end-of-ingest table per list of operations: rows, projects, regions %, amounts %…"""
    import io as _io

    from rich.console import Console
    from rich.table import Table

    table = Table(title="Lists of operations", show_lines=False)
    for col in ("file", "rows", "projects", "orgs", "regions %", "amounts %", "currency", "languages", "skipped"):
        table.add_column(col, justify="right" if col not in {"file", "languages", "currency"} else "left")
    for name, s in items:
        langs = ", ".join(f"{k} {v}" for k, v in sorted(s.languages.items(), key=lambda kv: -kv[1])[:3])
        reasons = "; ".join(sorted({sk.reason for sk in s.skipped}))[:60] if s.skipped else ""
        table.add_row(
            name, str(s.rows_read), str(s.projects), str(s.organisations),
            "–" if s.regions_resolved_pct is None else f"{s.regions_resolved_pct:.1f}",
            "–" if s.amounts_parsed_pct is None else f"{s.amounts_parsed_pct:.1f}",
            s.currency or "?", langs, f"{len(s.skipped)} {reasons}".strip(),
        )
    buf = _io.StringIO()
    Console(file=buf, width=160).print(table)
    notes = [f"  note ({name}): {n}" for name, s in items for n in s.notes[:3]]
    return buf.getvalue() + "\n".join(notes)
