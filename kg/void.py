"""A VoID + DCAT description of the dataset: counts, vocabularies, partitions, licence, access.

Served by the endpoint at ``/void`` (and ``/.well-known/void``) and written by
``regiograph export --format void``. It works on any store with ``select`` and ``triple_count``
(the embedded :class:`kg.store.GraphStore` or :class:`kg.remote.RemoteGraphStore`).
"""

from __future__ import annotations

from typing import Any, Protocol

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

from kg.namespaces import DCAT, PREFIXES, RG, VOID

#: What the description says about the licence unless the operator gives one (the ontology's
#: own licence is not the data's: the facts come from documents under their own terms).
LICENCE_NOT_STATED = "not stated: the licence of each source document applies"


class ReadableStore(Protocol):
    def select(self, sparql: str, bindings: Any = None) -> list[dict[str, Any]]: ...

    def triple_count(self) -> int: ...


def _count(store: ReadableStore, sparql: str) -> int:
    rows = store.select(sparql)
    return int(rows[0]["n"]) if rows and rows[0].get("n") is not None else 0


def void_graph(
    store: ReadableStore,
    base_iri: str = "https://w3id.org/regiograph/id/",
    endpoint_url: str | None = None,
    licence: str | None = None,
) -> Graph:
    """The VoID/DCAT description of what ``store`` holds, as an rdflib Graph."""
    g = Graph()
    for prefix in ("rg", "dcterms", "xsd", "rdf"):
        g.bind(prefix, PREFIXES[prefix])
    g.bind("void", str(VOID))
    g.bind("dcat", str(DCAT))
    ds = URIRef(base_iri + "dataset")
    g.add((ds, RDF.type, VOID.Dataset))
    g.add((ds, RDF.type, DCAT.Dataset))
    g.add((ds, DCTERMS.title, Literal("regiograph: European regional-policy practice", lang="en")))
    g.add((ds, DCTERMS.description, Literal(
        "Projects, regions, instruments, organisations and practices read from regional-policy documents "
        "and EU lists of operations, each fact with its source passage (one named graph per document).",
        lang="en",
    )))
    if licence and licence.startswith(("http://", "https://")):
        g.add((ds, DCTERMS.license, URIRef(licence)))
    else:
        g.add((ds, DCTERMS.license, Literal(licence or LICENCE_NOT_STATED)))
    g.add((ds, VOID.uriSpace, Literal(base_iri)))
    g.add((ds, VOID.triples, Literal(store.triple_count(), datatype=XSD.integer)))
    counts = {
        "entities": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }",
        "distinctSubjects": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }",
        "distinctObjects": "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }",
        "properties": "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s ?p ?o }",
        "classes": "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c }",
        "documents": "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a rg:Document }",
    }
    for key, sparql in counts.items():
        g.add((ds, VOID[key], Literal(_count(store, sparql), datatype=XSD.integer)))
    g.add((ds, RG.namedGraphs, Literal(_count(store, "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { } }"), datatype=XSD.integer)))

    vocabularies: set[str] = set()
    for row in store.select("SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p"):
        prop = str(row["p"])
        part = BNode()
        g.add((ds, VOID.propertyPartition, part))
        g.add((part, VOID.property, URIRef(prop)))
        g.add((part, VOID.triples, Literal(int(row["n"]), datatype=XSD.integer)))  # type: ignore[arg-type]
        vocabularies.add(_namespace(prop))
    for row in store.select("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY ?c"):
        cls = str(row["c"])
        part = BNode()
        g.add((ds, VOID.classPartition, part))
        g.add((part, VOID["class"], URIRef(cls)))
        g.add((part, VOID.entities, Literal(int(row["n"]), datatype=XSD.integer)))  # type: ignore[arg-type]
        vocabularies.add(_namespace(cls))
    known = set(PREFIXES.values())
    for ns in sorted(vocabularies):
        if ns in known or ns.startswith(("http://www.w3.org/", "http://purl.org/", "http://xmlns.com/")):
            g.add((ds, VOID.vocabulary, URIRef(ns)))
    for row in store.select("SELECT ?l (COUNT(?d) AS ?n) WHERE { ?d a rg:Document ; dcterms:language ?l } GROUP BY ?l ORDER BY ?l"):
        g.add((ds, DCTERMS.language, Literal(str(row["l"]))))

    if endpoint_url:
        g.add((ds, VOID.sparqlEndpoint, URIRef(endpoint_url)))
        dist = BNode()
        g.add((ds, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCAT.accessURL, URIRef(endpoint_url)))
        g.add((dist, DCAT.mediaType, Literal("application/sparql-results+json")))
    for fmt, media in (("trig", "application/trig"), ("nquads", "application/n-quads"), ("jsonld", "application/ld+json")):
        dist = BNode()
        g.add((ds, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCTERMS.description, Literal(f"regiograph export --format {fmt}", lang="en")))
        g.add((dist, DCAT.mediaType, Literal(media)))
    return g


def _namespace(iri: str) -> str:
    for sep in ("#", "/"):
        if sep in iri:
            return iri.rsplit(sep, 1)[0] + sep
    return iri


def void_turtle(store: ReadableStore, base_iri: str = "https://w3id.org/regiograph/id/", endpoint_url: str | None = None) -> bytes:
    """The description as Turtle."""
    return void_graph(store, base_iri, endpoint_url).serialize(format="turtle").encode("utf-8")
