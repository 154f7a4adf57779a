"""Named SPARQL queries as functions. Parameters are bound, never pasted into query text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from rdflib import Literal, URIRef

from kg.namespaces import DERIVED_GRAPH
from kg.store import GraphStore

ENTITY_CLASSES = ("Region", "Project", "Instrument", "Organisation", "Practice")


def _int(node: object) -> int:
    """An integer literal of a result row as int."""
    return int(str(node))


def documents_by_source_path(store: GraphStore) -> dict[str, list[tuple[str, str]]]:
    """Ingested documents grouped by the path they came from: path → [(IRI, content hash)]."""
    rows = store.select(
        "SELECT ?d ?p ?h WHERE { ?d a rg:Document ; rg:sourcePath ?p ; rg:contentHash ?h }"
    )
    out: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        out.setdefault(str(row["p"]), []).append((str(row["d"]), str(row["h"])))
    return out


@dataclass(frozen=True)
class RegionPair:
    """Two regions that share projects: ``region_a`` < ``region_b`` as IRI strings."""

    region_a: str
    region_b: str
    projects: tuple[str, ...]  # sorted IRIs

    @property
    def shared_projects(self) -> int:
        return len(self.projects)


def region_pairs(partner_regions: Iterable[tuple[str, str]]) -> list[RegionPair]:
    """(project, region) rows → every unordered pair of regions sharing a project, with the projects.

    The one definition of the cooperation network: the ingest's derive step, the networkx view
    of an unmaterialised graph and the SPARQL benchmark's generator all call it.
    """
    by_project: dict[str, set[str]] = {}
    for project, region in partner_regions:
        by_project.setdefault(project, set()).add(region)
    shared: dict[tuple[str, str], list[str]] = {}
    for project, regions in by_project.items():
        for pair in combinations(sorted(regions), 2):
            shared.setdefault(pair, []).append(project)
    return [RegionPair(a, b, tuple(sorted(projects))) for (a, b), projects in sorted(shared.items())]


def practice_countries(
    practice_regions: Iterable[tuple[str, str]], region_countries: Mapping[str, Iterable[str]]
) -> dict[str, list[str]]:
    """(practice, region) rows → each practice's countries (sorted ISO codes of those regions).

    A practice's regions are those it is located in and its projects' partner regions; a region
    without a country code adds nothing.
    """
    countries: dict[str, set[str]] = {}
    for practice, region in practice_regions:
        codes = region_countries.get(region, ())
        if codes:
            countries.setdefault(practice, set()).update(codes)
    return {practice: sorted(codes) for practice, codes in sorted(countries.items())}


def practice_tallies(
    practice_types: Iterable[tuple[str, str]], countries: Mapping[str, Iterable[str]]
) -> dict[tuple[str, str | None], int]:
    """(practice, type) rows and each practice's countries → (type, country) → number of practices.

    A practice counts once for each of its types and once in each of its countries; one without
    a country counts under ``None`` — the answer of "practices by type and country" with the
    country optional.
    """
    members: dict[tuple[str, str | None], set[str]] = {}
    for practice, practice_type in practice_types:
        for code in countries.get(practice) or (None,):
            members.setdefault((practice_type, code), set()).add(practice)
    return {key: len(practices) for key, practices in sorted(members.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))}


def _triple_key(triple: Any) -> int:
    """A 64-bit hash of a triple's (or quad's) subject, predicate and object in N-Triples syntax."""
    return hash(f"{triple.subject} {triple.predicate} {triple.object}")


def derive_cooperation(store: GraphStore) -> int:
    """Rebuild the derived graph; returns the number of region pairs.

    It holds ``rg:cooperatesWith`` (symmetric), one ``rg:Cooperation`` per region pair with its
    shared projects, ``rg:practiceCountry`` for each practice, and one ``rg:PracticeTally`` per
    practice type and country: the facts whole-graph aggregations read instead of joining
    partner regions at query time (docs/sparql.md).
    """
    from kg.writer import derived_ntriples

    # Each pattern in its own subquery: Oxigraph then hash-joins whole scans (not one index
    # look-up per row); pairs and countries are then grouped here, once per ingest.
    partner_rows = store.select(
        """SELECT DISTINCT ?p ?r WHERE {
             { SELECT ?p WHERE { ?p a rg:Project } }
             { SELECT ?p ?r WHERE { ?p rg:partnerRegion ?r } }
           }"""
    )
    pairs = region_pairs((str(row["p"]), str(row["r"])) for row in partner_rows)
    practice_rows = store.select(
        """SELECT DISTINCT ?practice ?region WHERE {
             { SELECT ?practice WHERE { ?practice a rg:Practice } }
             { SELECT ?practice ?region WHERE { ?practice rg:locatedIn ?region } }
             UNION
             { SELECT ?practice ?region WHERE {
                 { SELECT ?project ?practice WHERE { ?project rg:hasPractice ?practice } }
                 { SELECT ?project ?region WHERE { ?project rg:partnerRegion ?region } }
             } }
           }"""
    )
    country_rows = store.select("SELECT DISTINCT ?region ?country WHERE { ?region rg:countryCode ?country }")
    region_countries: dict[str, list[str]] = {}
    for row in country_rows:
        region_countries.setdefault(str(row["region"]), []).append(str(row["country"]))
    countries = practice_countries(((str(r["practice"]), str(r["region"])) for r in practice_rows), region_countries)
    type_rows = store.select(
        """SELECT DISTINCT ?practice ?type WHERE {
             { SELECT ?practice WHERE { ?practice a rg:Practice } }
             { SELECT ?practice ?type WHERE { ?practice rg:practiceType ?type } }
           }"""
    )
    tallies = practice_tallies(((str(r["practice"]), str(r["type"])) for r in type_rows), countries)
    _update_derived_graph(store, "".join(derived_ntriples(pairs, countries, tallies=tallies)))
    return len(pairs)


def _update_derived_graph(store: GraphStore, ntriples: str) -> None:
    """Make the derived graph hold exactly these triples.

    On the embedded store only the triples that changed are removed and added: an ingest changes
    few pairs, while dropping and reloading a graph of 440k triples costs Oxigraph over a minute
    (docs/benchmarks.md). Triples are compared by a 64-bit hash of their N-Triples text, held
    in two numpy arrays, so a derived graph of millions of triples costs tens of MB to compare
    (sets of pyoxigraph ``Quad`` objects took 12.9 GB at 10M triples). Another kind of store gets
    the graph replaced.
    """
    import numpy as np
    import pyoxigraph as ox

    graph = URIRef(str(DERIVED_GRAPH))
    if not isinstance(store, GraphStore) or store.read_only:
        store.replace_graph(graph, ntriples)  # a remote store; a read-only one refuses here
        return
    name = ox.NamedNode(str(graph))

    def parsed() -> Iterator[ox.Triple]:
        return ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)  # type: ignore[return-value]

    def present() -> Iterator[ox.Quad]:
        return store.oxigraph.quads_for_pattern(None, None, None, name)

    wanted_keys = np.fromiter((_triple_key(t) for t in parsed()), dtype=np.int64)
    present_keys = np.fromiter((_triple_key(q) for q in present()), dtype=np.int64)
    stale = ~np.isin(present_keys, wanted_keys)
    fresh = ~np.isin(wanted_keys, present_keys)
    if stale.any():
        # 12-50 µs each; DROP GRAPH + MOVE GRAPH take ~160 µs a triple
        for quad in [q for q, old in zip(present(), stale, strict=True) if old]:
            store.oxigraph.remove(quad)
    if fresh.any():
        store.oxigraph.extend(ox.Quad(t.subject, t.predicate, t.object, name) for t, new in zip(parsed(), fresh, strict=True) if new)
    if not store.oxigraph.contains_named_graph(name):
        store.oxigraph.add_graph(name)


@dataclass
class Stats:
    documents: int = 0
    passages: int = 0
    triples: int = 0
    named_graphs: int = 0
    languages: dict[str, int] = field(default_factory=dict)  # passages per language
    document_languages: dict[str, int] = field(default_factory=dict)
    entities: dict[str, int] = field(default_factory=dict)  # entities per class
    region_links: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "documents": self.documents,
            "passages": self.passages,
            "triples": self.triples,
            "named_graphs": self.named_graphs,
            "passage_languages": self.languages,
            "document_languages": self.document_languages,
            "entities": self.entities,
            "region_links": self.region_links,
        }


def stats(store: GraphStore) -> Stats:
    """Counts of documents, passages, languages, entities per class and triples."""
    s = Stats(triples=store.triple_count(), named_graphs=len(store.named_graphs()))
    for row in store.select("SELECT ?l (COUNT(?d) AS ?n) WHERE { ?d a rg:Document ; dcterms:language ?l } GROUP BY ?l"):
        s.document_languages[str(row["l"])] = _int(row["n"])
    s.documents = sum(s.document_languages.values())
    for row in store.select("SELECT ?l (COUNT(?p) AS ?n) WHERE { ?p a rg:Passage ; dcterms:language ?l } GROUP BY ?l"):
        s.languages[str(row["l"])] = _int(row["n"])
    s.passages = sum(s.languages.values())
    for cls in ENTITY_CLASSES:
        rows = store.select(
            "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a ?c ; rg:mentionedIn|dcterms:source ?x }",
            {"c": URIRef(f"https://w3id.org/regiograph/ontology#{cls}")},
        )
        s.entities[cls] = _int(rows[0]["n"]) if rows else 0
    rows = store.select("SELECT (COUNT(?pair) AS ?n) WHERE { ?pair a rg:Cooperation }")
    s.region_links = _int(rows[0]["n"]) if rows else 0
    return s


@dataclass(frozen=True)
class PassageRow:
    """A passage as stored: what search indexes and what the app shows."""

    iri: str
    document: str
    source: str
    text: str
    lang: str
    start: int
    end: int
    position: int


def all_passages(store: GraphStore) -> list[PassageRow]:
    """Every passage with its document's source name, in document order."""
    rows = store.select(
        """SELECT ?p ?d ?src ?t ?l ?s ?e ?pos WHERE {
             ?p a rg:Passage ; dcterms:isPartOf ?d ; rg:text ?t ; dcterms:language ?l ;
                rg:startOffset ?s ; rg:endOffset ?e ; rg:position ?pos .
             ?d dcterms:source ?src .
           } ORDER BY ?d ?pos"""
    )
    return [
        PassageRow(
            str(r["p"]), str(r["d"]), str(r["src"]), str(r["t"]), str(r["l"]),
            _int(r["s"]), _int(r["e"]), _int(r["pos"]),
        )
        for r in rows
    ]


def passage(store: GraphStore, iri: str) -> PassageRow | None:
    """One passage by IRI."""
    rows = store.select(
        """SELECT ?d ?src ?t ?l ?s ?e ?pos WHERE {
             ?p rg:text ?t ; dcterms:isPartOf ?d ; dcterms:language ?l ;
                rg:startOffset ?s ; rg:endOffset ?e ; rg:position ?pos .
             ?d dcterms:source ?src .
           } LIMIT 1""",
        {"p": URIRef(iri)},
    )
    if not rows:
        return None
    r = rows[0]
    return PassageRow(iri, str(r["d"]), str(r["src"]), str(r["t"]), str(r["l"]), _int(r["s"]), _int(r["e"]), _int(r["pos"]))


def document_languages(store: GraphStore) -> Counter[str]:
    return Counter({k: v for k, v in stats(store).document_languages.items()})


def label_of(store: GraphStore, iri: str, lang: str = "en") -> str:
    """The best label of a resource: prefLabel in ``lang``, then English, then any."""
    rows = store.select(
        """SELECT ?l WHERE { ?s skos:prefLabel|rdfs:label|dcterms:title ?l }""",
        {"s": URIRef(iri)},
    )
    labels = [r["l"] for r in rows if r["l"] is not None]
    for want in (lang, "en", None):
        for lab in labels:
            if isinstance(lab, Literal) and (lab.language == want or want is None):
                return str(lab)
    return iri.rsplit("/", 1)[-1]
