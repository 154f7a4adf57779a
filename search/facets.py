"""Filters → the passages allowed, and facet counts, from the index's per-passage arrays.

A filter is evaluated as a boolean mask over all passages *before* retrieval, so a filtered
search ranks only allowed passages and still returns ``k`` hits when ``k`` match. Regions carry
their ancestors (NUTS prefixes, skos:broader) and instruments their broader instruments, so
asking for a region or fund includes its sub-regions and narrower instruments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from regiograph.errors import QueryError
from search.index import NUTS_NS, PassageTable, norm_label

_ISO_ALIASES = {"UK": "GB", "EL": "GR"}


@dataclass
class Filters:
    """What to narrow a search to; every list is an OR of its values, lists are ANDed. Empty = no filter."""

    regions: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    instruments: list[str] = field(default_factory=list)
    practice_types: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    year_min: int | None = None
    year_max: int | None = None
    budget_min: float | None = None
    budget_max: float | None = None

    def is_empty(self) -> bool:
        return not (
            self.regions or self.countries or self.instruments or self.practice_types or self.projects
            or self.langs or self.documents
        ) and all(v is None for v in (self.year_min, self.year_max, self.budget_min, self.budget_max))


def resolve(table: PassageTable, facet: str, wanted: Iterable[str]) -> set[str]:
    """Facet values meant by IRIs, NUTS codes, labels or acronyms (raises QueryError if none)."""
    values = set(table.facets[facet].values)
    out: set[str] = set()
    for raw in wanted:
        text = raw.strip()
        found: set[str] = set()
        if text in values:
            found.add(text)
        if facet == "regions":
            code = text.upper().replace(" ", "")
            if NUTS_NS + code in values:
                found.add(NUTS_NS + code)
            found |= {iri for iri, c in table.nuts.items() if c.upper() == code and iri in values}
        found |= {iri for iri in table.aliases.get(norm_label(text), ()) if iri in values}
        if not found:
            raise QueryError(f"no {facet.replace('_', ' ')[:-1]} {raw!r} in the index (use a name, code or IRI that appears in the graph)")
        out |= found
    return out


def allowed_mask(table: PassageTable, filters: Filters | None) -> np.ndarray | None:
    """Boolean mask of the passages a filter allows (None when nothing is filtered)."""
    if filters is None or filters.is_empty():
        return None
    n = len(table)
    mask = np.ones(n, dtype=bool)
    for facet, wanted in (
        ("regions", filters.regions), ("instruments", filters.instruments),
        ("practice_types", filters.practice_types), ("projects", filters.projects),
    ):
        if wanted:
            mask &= table.facets[facet].mask(resolve(table, facet, wanted), n)
    if filters.countries:
        codes = {_ISO_ALIASES.get(c.strip().upper(), c.strip().upper()) for c in filters.countries}
        mask &= table.facets["countries"].mask(codes, n)
    if filters.langs:
        ids = [i for i, lang in enumerate(table.langs) if lang in {x.strip().lower() for x in filters.langs}]
        mask &= np.isin(table.lang_idx, ids)
    if filters.documents:
        wanted_docs = {d.strip() for d in filters.documents}
        ids = [i for i, (iri, source) in enumerate(table.docs) if iri in wanted_docs or source in wanted_docs or source.rsplit("/", 1)[-1] in wanted_docs]
        if not ids:
            raise QueryError(f"no document {', '.join(sorted(wanted_docs))} in the index (give the file name as ingested or the document IRI)")
        mask &= np.isin(table.doc_idx, ids)
    if filters.year_min is not None:
        mask &= (table.year > 0) & (table.year >= filters.year_min)
    if filters.year_max is not None:
        mask &= (table.year > 0) & (table.year <= filters.year_max)
    if filters.budget_min is not None:
        mask &= ~np.isnan(table.budget) & (table.budget >= filters.budget_min)
    if filters.budget_max is not None:
        mask &= ~np.isnan(table.budget) & (table.budget <= filters.budget_max)
    return mask


def counts(table: PassageTable, rows: Sequence[int]) -> dict[str, list[tuple[str, str, int]]]:
    """Facet → [(value, label, count)] over the given passages, most frequent first."""
    out: dict[str, list[tuple[str, str, int]]] = {}
    for name in ("regions", "countries", "instruments", "practice_types", "projects"):
        facet = table.facets[name]
        c: Counter[str] = Counter(v for r in rows for v in facet.of(r))
        out[name] = [(v, table.labels.get(v, v), n) for v, n in c.most_common()]
    langs: Counter[str] = Counter(table.lang(r) for r in rows)
    out["langs"] = [(v, v, n) for v, n in langs.most_common()]
    docs: Counter[int] = Counter(int(table.doc_idx[r]) for r in rows)
    out["documents"] = [(table.docs[d][0], table.docs[d][1], n) for d, n in docs.most_common()]
    years: Counter[int] = Counter(int(table.year[r]) for r in rows if table.year[r] > 0)
    out["years"] = [(str(y), str(y), n) for y, n in sorted(years.items())]
    return out
