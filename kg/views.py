"""The queries behind the explorer's pages, as functions with bound parameters.

Each function answers one view: a practice, a project or operation, a region, a passage in its
document, the table of operations, the labels of facet values. The app renders what these return
and never builds SPARQL itself.
"""

from __future__ import annotations

import csv
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import Literal, URIRef
from rdflib.term import Node

from kg.store import GraphStore

if TYPE_CHECKING:
    import networkx as nx  # imported where a network is built: only the network pages pay for it

CENTROIDS = Path(__file__).resolve().parent.parent / "ontology" / "gazetteer" / "centroids.csv"
NUTS_PREFIX = "http://data.europa.eu/nuts/code/"
RG_NS = "https://w3id.org/regiograph/ontology#"

#: The contract class names, as the app names its pages.
KINDS = ("Practice", "Project", "Region", "Organisation", "Instrument", "Document", "Passage")


@dataclass(frozen=True)
class Ref:
    """A linked entity: IRI and its label."""

    iri: str
    label: str


@dataclass(frozen=True)
class PassageView:
    """A passage with what the app shows next to it."""

    iri: str
    document: str
    source: str
    text: str
    lang: str
    position: int
    start: int
    end: int
    heading: str = ""
    row: int | None = None


@dataclass
class PracticeDetail:
    iri: str
    label: str
    types: list[Ref] = field(default_factory=list)
    description: str = ""
    evidence: str = ""
    resources: str = ""
    difficulties: str = ""
    transfer: str = ""
    themes: list[Ref] = field(default_factory=list)
    target_groups: list[Ref] = field(default_factory=list)
    projects: list[Ref] = field(default_factory=list)
    regions: list[Ref] = field(default_factory=list)
    passages: list[PassageView] = field(default_factory=list)


@dataclass
class ProjectDetail:
    iri: str
    label: str
    description: str = ""
    alt_labels: list[str] = field(default_factory=list)
    instruments: list[Ref] = field(default_factory=list)
    budget_eur: Decimal | None = None
    erdf_eur: Decimal | None = None
    eu_funding_eur: Decimal | None = None
    budget_original: Decimal | None = None
    eu_funding_original: Decimal | None = None
    currency: str = ""
    amount_note: str = ""
    cofinancing_rate: Decimal | None = None
    start: str = ""
    end: str = ""
    postcode: str = ""
    source: str = ""  # NAME#row=N for an operation
    lead_partner: Ref | None = None
    partners: list[Ref] = field(default_factory=list)
    partner_regions: list[RegionRef] = field(default_factory=list)
    locations: list[RegionRef] = field(default_factory=list)
    practices: list[Ref] = field(default_factory=list)
    documents: list[Ref] = field(default_factory=list)
    categories: list[Ref] = field(default_factory=list)

    @property
    def is_operation(self) -> bool:
        """True for a row of a list of operations (``dcterms:source NAME#row=N``)."""
        return "#row=" in self.source


@dataclass(frozen=True)
class RegionRef:
    iri: str
    label: str
    nuts: str = ""
    country: str = ""


@dataclass
class DocumentContext:
    """A passage inside its document: the document, and the passages around it."""

    document: str
    title: str
    source: str
    lang: str
    target: PassageView
    before: list[PassageView]
    after: list[PassageView]
    total: int


def _s(value: Node | None) -> str:
    return "" if value is None else str(value)


def _int(value: Node | None) -> int:
    return int(str(value)) if value is not None else 0


def _dec(value: Node | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _pick_label(labels: Iterable[Node | None], lang: str = "en") -> str:
    """prefLabel in ``lang``, else English, else untagged, else any."""
    lits = [x for x in labels if isinstance(x, Literal)]
    for want in (lang, "en", None):
        for lab in lits:
            if lab.language == want:
                return str(lab)
    return str(lits[0]) if lits else ""


def _short(iri: str) -> str:
    tail = iri.rstrip("/").rsplit("/", 1)[-1]
    return tail.rsplit("#", 1)[-1]


def _refs(store: GraphStore, query: str, bindings: dict[str, Node], lang: str = "en") -> list[Ref]:
    """Rows of ``?x ?l`` as labelled refs, one per IRI, sorted by label."""
    labels: dict[str, list[Node | None]] = defaultdict(list)
    for row in store.select(query, bindings):
        if row.get("x") is None:
            continue
        labels[str(row["x"])].append(row.get("l"))
    refs = [Ref(iri, _pick_label(ls, lang) or _short(iri)) for iri, ls in labels.items()]
    return sorted(refs, key=lambda r: r.label.lower())


def _literal(store: GraphStore, iri: str, predicate: str, lang: str = "en") -> str:
    rows = store.select("SELECT ?v WHERE { ?s ?p ?v }", {"s": URIRef(iri), "p": URIRef(predicate)})
    return _pick_label([r["v"] for r in rows], lang) or next((str(r["v"]) for r in rows if r["v"] is not None), "")


def entity_kind(store: GraphStore, iri: str) -> str:
    """The contract class of an entity (Practice, Project, Region, …), or '' if unknown."""
    rows = store.select("SELECT ?c WHERE { ?s a ?c }", {"s": URIRef(iri)})
    classes = {_s(r["c"]).removeprefix(RG_NS) for r in rows}
    for kind in KINDS:
        if kind in classes:
            return kind
    return ""


def label(store: GraphStore, iri: str, lang: str = "en") -> str:
    """The best label of any resource (prefLabel, rdfs:label, dcterms:title), else its IRI's tail."""
    rows = store.select("SELECT ?l WHERE { ?s skos:prefLabel|rdfs:label|dcterms:title ?l }", {"s": URIRef(iri)})
    return _pick_label([r["l"] for r in rows], lang) or _short(iri)


def labels(store: GraphStore, iris: Iterable[str], lang: str = "en") -> dict[str, str]:
    """Labels of many resources (for facet values): IRI → label; non-IRIs map to themselves."""
    out: dict[str, str] = {}
    for iri in dict.fromkeys(iris):
        out[iri] = label(store, iri, lang) if iri.startswith(("http://", "https://")) else iri
    return out


def _passages(store: GraphStore, query: str, bindings: dict[str, Node]) -> list[PassageView]:
    rows = store.select(query, bindings)
    seen: dict[str, PassageView] = {}
    for r in rows:
        iri = _s(r["p"])
        if iri in seen:
            continue
        seen[iri] = PassageView(
            iri=iri,
            document=_s(r["d"]),
            source=_s(r["src"]),
            text=_s(r["t"]),
            lang=_s(r["lang"]),
            position=_int(r["pos"]),
            start=_int(r["s"]),
            end=_int(r["e"]),
            heading=_s(r.get("h")),
            row=_int(r["row"]) if r.get("row") is not None else None,  # type: ignore[arg-type]
        )
    return sorted(seen.values(), key=lambda p: (p.source, p.position))


_PASSAGE_FIELDS = """?p rg:text ?t ; dcterms:isPartOf ?d ; dcterms:language ?lang ; rg:position ?pos ;
                      rg:startOffset ?s ; rg:endOffset ?e .
                   ?d dcterms:source ?src .
                   OPTIONAL { ?p rg:heading ?h } OPTIONAL { ?p rg:row ?row }"""


def mention_passages(store: GraphStore, iri: str, limit: int = 50) -> list[PassageView]:
    """The passages an entity was found in (its provenance), in document order."""
    return _passages(
        store,
        f"SELECT ?p ?d ?src ?t ?lang ?pos ?s ?e ?h ?row WHERE {{ ?x rg:mentionedIn ?p . {_PASSAGE_FIELDS} }} LIMIT {int(limit)}",
        {"x": URIRef(iri)},
    )


# --- practices ---------------------------------------------------------------------------


def practice_detail(store: GraphStore, iri: str, lang: str = "en") -> PracticeDetail | None:
    """A good practice with its record fields, project, regions and source passages."""
    node = URIRef(iri)
    rows = store.select("SELECT ?l WHERE { ?x a rg:Practice . OPTIONAL { ?x skos:prefLabel ?l } }", {"x": node})
    if not rows:
        return None
    detail = PracticeDetail(iri=iri, label=_pick_label([r["l"] for r in rows], lang) or _short(iri))
    detail.description = _literal(store, iri, "http://purl.org/dc/terms/description", lang)
    detail.evidence = _literal(store, iri, RG_NS + "evidenceOfSuccess", lang)
    detail.resources = _literal(store, iri, RG_NS + "resourcesNeeded", lang)
    detail.difficulties = _literal(store, iri, RG_NS + "difficulties", lang)
    detail.transfer = _literal(store, iri, RG_NS + "transferPotential", lang)
    concept = "SELECT ?x ?l WHERE {{ ?p rg:{prop} ?x . OPTIONAL {{ ?x skos:prefLabel ?l }} }}"
    detail.types = _refs(store, concept.format(prop="practiceType"), {"p": node}, lang)
    detail.themes = _refs(store, concept.format(prop="theme"), {"p": node}, lang)
    detail.target_groups = _refs(store, concept.format(prop="targetGroup"), {"p": node}, lang)
    detail.projects = _refs(
        store, "SELECT ?x ?l WHERE { ?x rg:hasPractice ?p . OPTIONAL { ?x skos:prefLabel ?l } }", {"p": node}, lang
    )
    detail.regions = _refs(
        store,
        """SELECT ?x ?l WHERE {
             { ?p rg:locatedIn ?x } UNION { ?proj rg:hasPractice ?p ; rg:partnerRegion ?x }
             OPTIONAL { ?x skos:prefLabel ?l } }""",
        {"p": node},
        lang,
    )
    detail.passages = mention_passages(store, iri)
    return detail


def practice_regions(store: GraphStore, iri: str) -> set[str]:
    """IRIs of the regions a practice belongs to (its own, or its project's)."""
    rows = store.select(
        "SELECT DISTINCT ?r WHERE { { ?p rg:locatedIn ?r } UNION { ?proj rg:hasPractice ?p ; rg:partnerRegion ?r } }",
        {"p": URIRef(iri)},
    )
    return {_s(r["r"]) for r in rows}


def list_entities(store: GraphStore, kind: str, limit: int = 2000, lang: str = "en") -> list[Ref]:
    """Entities of one contract class that were extracted from documents, sorted by label."""
    return _refs(
        store,
        f"""SELECT ?x ?l WHERE {{
              ?x a ?c . FILTER EXISTS {{ ?x rg:mentionedIn|dcterms:source ?any }}
              OPTIONAL {{ ?x skos:prefLabel ?l }} }} LIMIT {int(limit) * 4}""",
        {"c": URIRef(RG_NS + kind)},
        lang,
    )[:limit]


# --- projects and operations -------------------------------------------------------------


def _region_refs(store: GraphStore, query: str, bindings: dict[str, Node], lang: str = "en") -> list[RegionRef]:
    rows = store.select(query, bindings)
    by: dict[str, dict[str, object]] = {}
    for r in rows:
        iri = _s(r["x"])
        entry = by.setdefault(iri, {"labels": [], "nuts": "", "cc": ""})
        entry["labels"].append(r.get("l"))  # type: ignore[attr-defined]
        entry["nuts"] = entry["nuts"] or _s(r.get("n"))
        entry["cc"] = entry["cc"] or _s(r.get("cc"))
    out = [
        RegionRef(iri, _pick_label(e["labels"], lang) or _short(iri), str(e["nuts"]), str(e["cc"]))  # type: ignore[arg-type]
        for iri, e in by.items()
    ]
    return sorted(out, key=lambda r: r.label.lower())


_REGION_FIELDS = "OPTIONAL { ?x skos:prefLabel ?l } OPTIONAL { ?x rg:nutsCode ?n } OPTIONAL { ?x rg:countryCode ?cc }"


def project_detail(store: GraphStore, iri: str, lang: str = "en") -> ProjectDetail | None:
    """A project or an operation with its money, partners, regions, practices and documents."""
    node = URIRef(iri)
    rows = store.select("SELECT ?l ?alt WHERE { ?x a rg:Project . OPTIONAL { ?x skos:prefLabel ?l } OPTIONAL { ?x skos:altLabel ?alt } }", {"x": node})
    if not rows:
        return None
    d = ProjectDetail(iri=iri, label=_pick_label([r["l"] for r in rows], lang) or _short(iri))
    d.alt_labels = sorted({_s(r["alt"]) for r in rows if r["alt"] is not None})
    d.description = _literal(store, iri, "http://purl.org/dc/terms/description", lang)
    values = store.select(
        """SELECT ?p ?v WHERE { ?x ?p ?v .
             VALUES ?p { rg:budgetEUR rg:erdfEUR rg:euFundingEUR rg:budgetOriginal rg:euFundingOriginal
                         rg:currency rg:amountNote rg:cofinancingRate rg:startDate rg:endDate rg:postcode
                         dcterms:source } }""",
        {"x": node},
    )
    by_prop: dict[str, list[Node | None]] = defaultdict(list)
    for r in values:
        by_prop[_s(r["p"]).removeprefix(RG_NS)].append(r["v"])

    def first(prop: str) -> Node | None:
        return by_prop.get(prop, [None])[0]

    d.budget_eur, d.erdf_eur, d.eu_funding_eur = _dec(first("budgetEUR")), _dec(first("erdfEUR")), _dec(first("euFundingEUR"))
    d.budget_original, d.eu_funding_original = _dec(first("budgetOriginal")), _dec(first("euFundingOriginal"))
    d.cofinancing_rate = _dec(first("cofinancingRate"))
    d.currency, d.start, d.end, d.postcode = _s(first("currency")), _s(first("startDate")), _s(first("endDate")), _s(first("postcode"))
    d.amount_note = _pick_label(by_prop.get("amountNote", []), lang)
    d.source = _s(first("http://purl.org/dc/terms/source"))
    d.instruments = _refs(store, "SELECT ?x ?l WHERE { ?p rg:fundedBy ?x . OPTIONAL { ?x skos:prefLabel ?l } }", {"p": node}, lang)
    leads = _refs(store, "SELECT ?x ?l WHERE { ?p rg:leadPartner ?x . OPTIONAL { ?x skos:prefLabel ?l } }", {"p": node}, lang)
    d.lead_partner = leads[0] if leads else None
    d.partners = [
        p
        for p in _refs(store, "SELECT ?x ?l WHERE { ?p rg:partner ?x . OPTIONAL { ?x skos:prefLabel ?l } }", {"p": node}, lang)
        if d.lead_partner is None or p.iri != d.lead_partner.iri
    ]
    d.partner_regions = _region_refs(store, f"SELECT ?x ?l ?n ?cc WHERE {{ ?p rg:partnerRegion ?x . {_REGION_FIELDS} }}", {"p": node}, lang)
    d.locations = _region_refs(store, f"SELECT ?x ?l ?n ?cc WHERE {{ ?p rg:locatedIn ?x . {_REGION_FIELDS} }}", {"p": node}, lang)
    d.practices = _refs(store, "SELECT ?x ?l WHERE { ?p rg:hasPractice ?x . OPTIONAL { ?x skos:prefLabel ?l } }", {"p": node}, lang)
    d.categories = _refs(store, "SELECT ?x ?l WHERE { ?p rg:interventionCategory ?x . OPTIONAL { ?x skos:prefLabel ?l } }", {"p": node}, lang)
    d.documents = _refs(
        store,
        "SELECT DISTINCT ?x ?l WHERE { ?p rg:mentionedIn ?psg . ?psg dcterms:isPartOf ?x . OPTIONAL { ?x dcterms:source ?l } }",
        {"p": node},
        lang,
    )
    return d


def organisation_projects(store: GraphStore, iri: str, lang: str = "en") -> list[Ref]:
    """Projects an organisation takes part in (as partner or lead)."""
    return _refs(
        store,
        "SELECT ?x ?l WHERE { ?x rg:partner|rg:leadPartner ?o . OPTIONAL { ?x skos:prefLabel ?l } }",
        {"o": URIRef(iri)},
        lang,
    )


@dataclass(frozen=True)
class Operation:
    """One row of the operations table."""

    iri: str
    name: str
    beneficiary: str
    country: str
    regions: str
    region_iris: tuple[str, ...]
    fund: str
    year: int | None
    budget_eur: float | None
    eu_eur: float | None
    currency: str
    source: str


def operations(store: GraphStore, limit: int = 50_000) -> list[Operation]:
    """Every operation from the lists of operations (projects with a ``NAME#row=N`` source)."""
    rows = store.select(
        f"""SELECT ?x (SAMPLE(?l) AS ?name) (SAMPLE(?bl) AS ?ben) (SAMPLE(?bcc) AS ?bcountry)
                  (GROUP_CONCAT(DISTINCT ?rl; separator="; ") AS ?regions)
                  (GROUP_CONCAT(DISTINCT STR(?r); separator=" ") AS ?riris)
                  (GROUP_CONCAT(DISTINCT ?rcc; separator=" ") AS ?rcountry)
                  (GROUP_CONCAT(DISTINCT ?fl; separator="; ") AS ?funds)
                  (SAMPLE(?sd) AS ?start) (SAMPLE(?b) AS ?budget) (SAMPLE(?eu) AS ?euf) (SAMPLE(?cur) AS ?currency)
                  (SAMPLE(?src) AS ?source)
           WHERE {{
             ?x a rg:Project ; dcterms:source ?src . FILTER(CONTAINS(STR(?src), "#row="))
             OPTIONAL {{ ?x skos:prefLabel ?l }}
             OPTIONAL {{ ?x rg:leadPartner ?o . OPTIONAL {{ ?o skos:prefLabel ?bl }} OPTIONAL {{ ?o rg:countryCode ?bcc }} }}
             OPTIONAL {{ ?x rg:locatedIn ?r . OPTIONAL {{ ?r skos:prefLabel ?rl FILTER(LANG(?rl) = "" || LANGMATCHES(LANG(?rl), "en")) }}
                         OPTIONAL {{ ?r rg:countryCode ?rcc }} }}
             OPTIONAL {{ ?x rg:fundedBy ?f . OPTIONAL {{ ?f skos:prefLabel ?fl FILTER(LANGMATCHES(LANG(?fl), "en")) }} }}
             OPTIONAL {{ ?x rg:startDate ?sd }}
             OPTIONAL {{ ?x rg:budgetEUR ?b }}
             OPTIONAL {{ ?x rg:euFundingEUR|rg:erdfEUR ?eu }}
             OPTIONAL {{ ?x rg:currency ?cur }}
           }} GROUP BY ?x LIMIT {int(limit)}"""
    )
    out: list[Operation] = []
    for r in rows:
        start = _s(r.get("start"))
        country = _s(r.get("bcountry")) or _s(r.get("rcountry")).split(" ")[0]
        budget, eu = _dec(r.get("budget")), _dec(r.get("euf"))
        out.append(
            Operation(
                iri=_s(r["x"]),
                name=_s(r.get("name")),
                beneficiary=_s(r.get("ben")),
                country=country,
                regions=_s(r.get("regions")),
                region_iris=tuple(x for x in _s(r.get("riris")).split(" ") if x),
                fund=_s(r.get("funds")),
                year=int(start[:4]) if start[:4].isdigit() else None,
                budget_eur=float(budget) if budget is not None else None,
                eu_eur=float(eu) if eu is not None else None,
                currency=_s(r.get("currency")),
                source=_s(r.get("source")),
            )
        )
    return sorted(out, key=lambda o: (o.source.split("#")[0], _row_number(o.source)))


def _row_number(source: str) -> int:
    tail = source.rsplit("#row=", 1)[-1]
    return int(tail) if tail.isdigit() else 0


@dataclass(frozen=True)
class OperationFilter:
    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # region IRIs
    funds: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    text: str = ""


def filter_operations(rows: Iterable[Operation], flt: OperationFilter) -> list[Operation]:
    """The operations that pass every filter (text matches name, beneficiary, region or source)."""
    needle = flt.text.strip().lower()
    out = []
    for op in rows:
        if flt.countries and op.country not in flt.countries:
            continue
        if flt.regions and not set(flt.regions) & set(op.region_iris):
            continue
        if flt.funds and not {f.strip() for f in op.fund.split(";")} & set(flt.funds):
            continue
        if flt.year_min is not None and (op.year is None or op.year < flt.year_min):
            continue
        if flt.year_max is not None and (op.year is None or op.year > flt.year_max):
            continue
        if needle and needle not in f"{op.name} {op.beneficiary} {op.regions} {op.source}".lower():
            continue
        out.append(op)
    return out


def operation_totals(rows: Iterable[Operation]) -> tuple[list[tuple[str, int, float, float]], list[tuple[int, int, float, float]]]:
    """Totals by fund and by year: (key, operations, budget EUR, EU share EUR)."""
    by_fund: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    by_year: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for op in rows:
        for bucket in (by_fund[op.fund or "(no fund stated)"], by_year[op.year or 0]):
            bucket[0] += 1
            bucket[1] += op.budget_eur or 0.0
            bucket[2] += op.eu_eur or 0.0
    funds = sorted(((k, int(v[0]), v[1], v[2]) for k, v in by_fund.items()), key=lambda t: -t[2])
    years = sorted((k, int(v[0]), v[1], v[2]) for k, v in by_year.items())
    return funds, years


# --- documents and passages --------------------------------------------------------------


def passage_view(store: GraphStore, iri: str) -> PassageView | None:
    found = _passages(store, f"SELECT ?p ?d ?src ?t ?lang ?pos ?s ?e ?h ?row WHERE {{ {_PASSAGE_FIELDS} }}", {"p": URIRef(iri)})
    return found[0] if found else None


def document_context(store: GraphStore, passage_iri: str, window: int = 3) -> DocumentContext | None:
    """A passage with the ``window`` passages before and after it in its document."""
    target = passage_view(store, passage_iri)
    if target is None:
        return None
    doc = URIRef(target.document)
    info = store.select(
        "SELECT ?title ?lang ?n WHERE { OPTIONAL { ?d dcterms:title ?title } OPTIONAL { ?d dcterms:language ?lang } OPTIONAL { ?d rg:passageCount ?n } }",
        {"d": doc},
    )
    around = _passages(
        store,
        f"""SELECT ?p ?d ?src ?t ?lang ?pos ?s ?e ?h ?row WHERE {{
              ?p dcterms:isPartOf ?d . {_PASSAGE_FIELDS}
              FILTER(?pos >= ?lo && ?pos <= ?hi) }}""",
        {"d": doc, "lo": Literal(target.position - window), "hi": Literal(target.position + window)},
    )
    first = info[0] if info else {}
    return DocumentContext(
        document=target.document,
        title=_s(first.get("title")) or target.source,
        source=target.source,
        lang=_s(first.get("lang")),
        target=target,
        before=[p for p in around if p.position < target.position],
        after=[p for p in around if p.position > target.position],
        total=_int(first["n"]) if first.get("n") is not None else 0,  # type: ignore[arg-type]
    )


def documents(store: GraphStore) -> list[dict[str, object]]:
    """Ingested documents: IRI, source, title, language, passages."""
    rows = store.select(
        """SELECT ?d ?src ?title ?lang ?n WHERE { ?d a rg:Document ; dcterms:source ?src .
             OPTIONAL { ?d dcterms:title ?title } OPTIONAL { ?d dcterms:language ?lang } OPTIONAL { ?d rg:passageCount ?n } }
           ORDER BY ?src"""
    )
    return [
        {"iri": _s(r["d"]), "source": _s(r["src"]), "title": _s(r["title"]), "lang": _s(r["lang"]), "passages": _int(r["n"]) if r["n"] is not None else 0}  # type: ignore[arg-type]
        for r in rows
    ]


def document_entities(store: GraphStore, document: str, lang: str = "en") -> dict[str, list[Ref]]:
    """What was extracted from one document, by class."""
    rows = store.select(
        """SELECT DISTINCT ?x ?c ?l WHERE { ?psg dcterms:isPartOf ?d . ?x rg:mentionedIn ?psg ; a ?c .
             OPTIONAL { ?x skos:prefLabel ?l } }""",
        {"d": URIRef(document)},
    )
    by_kind: dict[str, dict[str, list[Node | None]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        kind = _s(r["c"]).removeprefix(RG_NS)
        if kind in KINDS:
            by_kind[kind][_s(r["x"])].append(r["l"])
    return {
        kind: sorted((Ref(iri, _pick_label(ls, lang) or _short(iri)) for iri, ls in ents.items()), key=lambda r: r.label.lower())
        for kind, ents in sorted(by_kind.items())
    }


# --- regions, maps and the network ---------------------------------------------------------


def regions(store: GraphStore, lang: str = "en") -> list[RegionRef]:
    """Regions that something points to (a project, practice or organisation), sorted by label."""
    return _region_refs(
        store,
        f"SELECT ?x ?l ?n ?cc WHERE {{ ?x a rg:Region . FILTER EXISTS {{ ?any rg:partnerRegion|rg:locatedIn ?x }} {_REGION_FIELDS} }}",
        {},
        lang,
    )


def region_info(store: GraphStore, iri: str, lang: str = "en") -> RegionRef | None:
    found = _region_refs(store, f"SELECT ?x ?l ?n ?cc WHERE {{ ?x a rg:Region . {_REGION_FIELDS} }}", {"x": URIRef(iri)}, lang)
    return found[0] if found else None


def region_operations(store: GraphStore, iri: str, all_operations: Iterable[Operation] | None = None) -> list[Operation]:
    """The operations located in a region (or in a NUTS region inside it)."""
    ops = list(all_operations) if all_operations is not None else operations(store)
    code = iri.removeprefix(NUTS_PREFIX) if iri.startswith(NUTS_PREFIX) else None
    out = []
    for op in ops:
        if iri in op.region_iris or (code and any(r.startswith(NUTS_PREFIX + code) for r in op.region_iris)):
            out.append(op)
    return out


@cache
def centroids() -> dict[str, tuple[float, float, str]]:
    """NUTS code or ISO country code → (lat, lon, name), from ontology/gazetteer/centroids.csv."""
    out: dict[str, tuple[float, float, str]] = {}
    if not CENTROIDS.exists():
        return out
    with CENTROIDS.open(encoding="utf-8") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            out[row["code"].strip().upper()] = (float(row["lat"]), float(row["lon"]), row.get("name", "").strip())
    return out


def region_point(region: RegionRef | str, nuts: str = "", country: str = "") -> tuple[float, float] | None:
    """Coordinates of a region: its NUTS code (or the nearest coarser one), else its country."""
    if isinstance(region, RegionRef):
        iri, nuts, country = region.iri, region.nuts, region.country
    else:
        iri = region
    table = centroids()
    code = (nuts or (iri.removeprefix(NUTS_PREFIX) if iri.startswith(NUTS_PREFIX) else "")).upper()
    while len(code) >= 2:
        if code in table:
            return table[code][:2]
        code = code[:-1]
    slug_key = _short(iri).upper()  # macro-regions without a NUTS code: by their IRI's slug
    if slug_key in table:
        return table[slug_key][:2]
    cc = {"GB": "UK", "GR": "EL"}.get(country.upper(), country.upper())
    if cc in table:
        return table[cc][:2]
    return None


@dataclass
class NetworkView:
    graph: nx.Graph
    communities: list[set[str]]
    countries: list[str]
    instruments: list[Ref]
    projects: list[Ref]


def filter_network(
    graph: nx.Graph,
    countries: Iterable[str] = (),
    instruments: Iterable[str] = (),
    projects: Iterable[str] = (),
) -> nx.Graph:
    """The region network restricted to regions of some countries and edges of some instruments/projects."""
    import networkx as nx

    cs, ins, ps = set(countries), set(instruments), set(projects)
    g = nx.Graph()
    for node, data in graph.nodes(data=True):
        if not cs or data.get("country") in cs:
            g.add_node(node, **data)
    for a, b, data in graph.edges(data=True):
        if a not in g or b not in g:
            continue
        kept = {p: lab for p, lab in data["projects"].items() if not ps or p in ps}
        if ins and not (set(data.get("instruments", ())) & ins):
            continue
        if kept:
            g.add_edge(a, b, weight=len(kept), projects=kept, instruments=set(data.get("instruments", ())))
    g.remove_nodes_from([n for n in list(g.nodes) if g.degree(n) == 0 and (ps or ins)])
    return g


def communities(graph: nx.Graph) -> list[set[str]]:
    """Communities of the network (Louvain, seeded; greedy modularity as a fallback)."""
    import networkx as nx

    if graph.number_of_edges() == 0:
        return [{n} for n in graph.nodes]
    try:
        found = nx.community.louvain_communities(graph, weight="weight", seed=7)
    except (AttributeError, nx.NetworkXError):
        found = nx.community.greedy_modularity_communities(graph, weight="weight")
    return sorted((set(c) for c in found), key=lambda c: (-len(c), sorted(c)))


def shortest_path(graph: nx.Graph, a: str, b: str) -> list[tuple[str, str, dict[str, str]]] | None:
    """Hops of the shortest path between two regions: (from, to, projects linking them)."""
    import networkx as nx

    try:
        nodes = nx.shortest_path(graph, a, b)
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return None
    return [(x, y, dict(graph.edges[x, y]["projects"])) for x, y in itertools.pairwise(nodes)]


def network_options(graph: nx.Graph, store: GraphStore, lang: str = "en") -> tuple[list[str], list[Ref], list[Ref]]:
    """The filter choices of a network: countries, instruments and projects on its edges."""
    countries = sorted({str(d.get("country")) for _, d in graph.nodes(data=True) if d.get("country")})
    inst: Counter[str] = Counter()
    projs: dict[str, str] = {}
    for _, _, data in graph.edges(data=True):
        inst.update(data.get("instruments", ()))
        projs.update(data["projects"])
    instruments = sorted((Ref(i, label(store, i, lang)) for i in inst), key=lambda r: r.label.lower())
    projects = sorted((Ref(p, lab) for p, lab in projs.items()), key=lambda r: r.label.lower())
    return countries, instruments, projects
