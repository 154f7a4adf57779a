"""Named SPARQL queries as functions. Parameters are bound, never pasted into query text."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

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


def derive_cooperation(store: GraphStore) -> int:
    """Rebuild the derived graph of ``rg:cooperatesWith``; returns the number of region pairs."""
    from kg.writer import cooperation_triples, to_ntriples

    # Each pattern in its own subquery: Oxigraph then hash-joins whole scans (not one index
    # look-up per row), and the string comparison runs once per distinct pair, not per project.
    rows = store.select(
        """SELECT ?a ?b WHERE {
             { SELECT DISTINCT ?a ?b WHERE {
                 { SELECT ?p WHERE { ?p a rg:Project } }
                 { SELECT ?p ?a WHERE { ?p rg:partnerRegion ?a } }
                 { SELECT ?p ?b WHERE { ?p rg:partnerRegion ?b } }
             } }
             FILTER(STR(?a) < STR(?b))
           }"""
    )
    pairs = [(URIRef(str(r["a"])), URIRef(str(r["b"]))) for r in rows]
    store.replace_graph(URIRef(str(DERIVED_GRAPH)), to_ntriples(cooperation_triples(pairs)))
    return len(pairs)


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
    rows = store.select("SELECT (COUNT(*) AS ?n) WHERE { ?a rg:cooperatesWith ?b FILTER(STR(?a) < STR(?b)) }")
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
