"""Graph facts that search indexes beside each passage: mentions, labels, hierarchies, operations.

``search/`` turns these rows into per-passage facet arrays (regions with their ancestors,
countries, instruments with broader ones, practice types, projects, year, budget) and into the
label dictionary used to spot entities named in a query. All SPARQL lives here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rdflib import Literal, URIRef

from kg.store import GraphStore

RG_NS = "https://w3id.org/regiograph/ontology#"
NUTS_NS = "http://data.europa.eu/nuts/code/"
ENTITY_KINDS = ("Region", "Project", "Instrument", "Organisation", "Practice")


@dataclass(frozen=True)
class Label:
    """One label of a resource: ``pref`` for skos:prefLabel, else an altLabel."""

    iri: str
    text: str
    lang: str
    pref: bool


@dataclass
class ProjectFacts:
    """What the graph says about a project (an operation or a cooperation project)."""

    iri: str
    regions: set[str] = field(default_factory=set)
    instruments: set[str] = field(default_factory=set)
    practices: set[str] = field(default_factory=set)
    year: int | None = None
    budget: float | None = None
    sources: set[str] = field(default_factory=set)


@dataclass
class PracticeFacts:
    """A practice with the text that describes it and where it belongs."""

    iri: str
    label: str = ""
    description: str = ""
    evidence: list[str] = field(default_factory=list)
    practice_types: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    projects: set[str] = field(default_factory=set)
    passages: list[str] = field(default_factory=list)


def _s(term: object) -> str:
    return "" if term is None else str(term)


def entity_mentions(store: GraphStore) -> list[tuple[str, str, str]]:
    """(passage IRI, entity IRI, kind) for every ``rg:mentionedIn`` of a typed entity."""
    rows = store.select(
        """SELECT ?p ?e ?c WHERE {
             ?e rg:mentionedIn ?p ; a ?c .
             VALUES ?c { rg:Region rg:Project rg:Instrument rg:Organisation rg:Practice }
           }"""
    )
    return [(_s(r["p"]), _s(r["e"]), _s(r["c"]).removeprefix(RG_NS)) for r in rows]


def labels(store: GraphStore) -> list[Label]:
    """Every skos:prefLabel / skos:altLabel / rdfs:label in the graph (entities and schemes)."""
    rows = store.select(
        """SELECT ?e ?k ?l WHERE {
             ?e ?k ?l . VALUES ?k { skos:prefLabel skos:altLabel rdfs:label }
             FILTER(isIRI(?e))
           }"""
    )
    out = []
    for r in rows:
        lit = r["l"]
        lang = lit.language or "" if isinstance(lit, Literal) else ""
        out.append(Label(_s(r["e"]), _s(lit), lang, _s(r["k"]).endswith("prefLabel")))
    return out


def broader_pairs(store: GraphStore) -> list[tuple[str, str]]:
    """(narrower, broader) pairs of skos:broader (instruments, regions, practice types)."""
    rows = store.select("SELECT ?a ?b WHERE { ?a skos:broader ?b FILTER(isIRI(?a) && isIRI(?b)) }")
    return [(_s(r["a"]), _s(r["b"])) for r in rows]


def region_codes(store: GraphStore) -> dict[str, tuple[str, str]]:
    """Region IRI → (NUTS code or '', ISO country code or '')."""
    rows = store.select(
        """SELECT ?r ?code ?cc WHERE {
             ?r a rg:Region . OPTIONAL { ?r rg:nutsCode ?code } OPTIONAL { ?r rg:countryCode ?cc }
           }"""
    )
    out: dict[str, tuple[str, str]] = {}
    for r in rows:
        code, cc = _s(r["code"]), _s(r["cc"])
        old = out.get(_s(r["r"]), ("", ""))
        out[_s(r["r"])] = (code or old[0], cc or old[1])
    return out


def kinds(store: GraphStore) -> dict[str, str]:
    """Entity IRI → kind (Region, Project, Instrument, Organisation, Practice)."""
    rows = store.select(
        """SELECT ?e ?c WHERE { ?e a ?c .
             VALUES ?c { rg:Region rg:Project rg:Instrument rg:Organisation rg:Practice } }"""
    )
    return {_s(r["e"]): _s(r["c"]).removeprefix(RG_NS) for r in rows}


def operation_rows(store: GraphStore) -> list[tuple[str, str, int]]:
    """(passage IRI, document source, row number) of passages that are rows of a list of operations."""
    rows = store.select(
        """SELECT ?p ?src ?n WHERE { ?p rg:row ?n ; dcterms:isPartOf ?d . ?d dcterms:source ?src }"""
    )
    return [(_s(r["p"]), _s(r["src"]), int(_s(r["n"]))) for r in rows]


def projects(store: GraphStore) -> dict[str, ProjectFacts]:
    """Every project with its regions, funds, practices, start year, budget and sources."""
    out: dict[str, ProjectFacts] = {}
    rows = store.select(
        """SELECT ?proj ?k ?o WHERE {
             ?proj a rg:Project ; ?k ?o .
             VALUES ?k { rg:locatedIn rg:partnerRegion rg:fundedBy rg:hasPractice rg:startDate
                         rg:budgetEUR rg:euFundingEUR dcterms:source }
           }"""
    )
    for r in rows:
        iri, key, value = _s(r["proj"]), _s(r["k"]), r["o"]
        facts = out.setdefault(iri, ProjectFacts(iri))
        name = key.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        if name in {"locatedIn", "partnerRegion"}:
            facts.regions.add(_s(value))
        elif name == "fundedBy":
            facts.instruments.add(_s(value))
        elif name == "hasPractice":
            facts.practices.add(_s(value))
        elif name == "startDate":
            text = _s(value)
            if len(text) >= 4 and text[:4].isdigit():
                facts.year = int(text[:4])
        elif name in {"budgetEUR", "euFundingEUR"}:
            try:
                amount = float(_s(value))
            except ValueError:
                continue
            if name == "budgetEUR" or facts.budget is None:
                facts.budget = amount
        elif name == "source":
            facts.sources.add(_s(value))
    return out


def practices(store: GraphStore) -> dict[str, PracticeFacts]:
    """Every practice with label, description, evidence, types, regions, projects, passages."""
    out: dict[str, PracticeFacts] = {}
    rows = store.select(
        """SELECT ?x ?k ?o WHERE {
             ?x a rg:Practice ; ?k ?o .
             VALUES ?k { skos:prefLabel dcterms:description rg:evidenceOfSuccess rg:transferPotential
                         rg:resourcesNeeded rg:difficulties rg:practiceType rg:locatedIn rg:mentionedIn }
           }"""
    )
    for r in rows:
        iri, key, value = _s(r["x"]), _s(r["k"]).rsplit("#", 1)[-1].rsplit("/", 1)[-1], r["o"]
        facts = out.setdefault(iri, PracticeFacts(iri))
        if key == "prefLabel":
            if not facts.label or (isinstance(value, Literal) and value.language == "en"):
                facts.label = _s(value)
        elif key == "description":
            facts.description = facts.description or _s(value)
        elif key in {"evidenceOfSuccess", "transferPotential", "resourcesNeeded", "difficulties"}:
            facts.evidence.append(_s(value))
        elif key == "practiceType":
            facts.practice_types.add(_s(value))
        elif key == "locatedIn":
            facts.regions.add(_s(value))
        elif key == "mentionedIn":
            facts.passages.append(_s(value))
    for r in store.select("SELECT ?proj ?x WHERE { ?proj rg:hasPractice ?x . ?x a rg:Practice }"):
        if _s(r["x"]) in out:
            out[_s(r["x"])].projects.add(_s(r["proj"]))
    for facts in out.values():
        facts.passages.sort()
    return out


def documents(store: GraphStore) -> list[tuple[str, str, str]]:
    """(document IRI, source file name, language) of every document."""
    rows = store.select(
        """SELECT ?d ?src ?l WHERE { ?d a rg:Document ; dcterms:source ?src .
             OPTIONAL { ?d dcterms:language ?l } }"""
    )
    return [(_s(r["d"]), _s(r["src"]), _s(r["l"])) for r in rows]


def passage_headings(store: GraphStore) -> dict[str, str]:
    """Passage IRI → its heading, where the reader found one."""
    rows = store.select("SELECT ?p ?h WHERE { ?p a rg:Passage ; rg:heading ?h }")
    return {_s(r["p"]): _s(r["h"]) for r in rows}


def passage_text(store: GraphStore, iri: str) -> str | None:
    """The text of one passage."""
    rows = store.select("SELECT ?t WHERE { ?p rg:text ?t } LIMIT 1", {"p": URIRef(iri)})
    return _s(rows[0]["t"]) if rows else None


def nuts_ancestors(code: str) -> Iterable[str]:
    """NUTS codes above a code: DK041 → DK04, DK0, DK (the country level)."""
    for cut in range(len(code) - 1, 1, -1):
        yield code[:cut]
