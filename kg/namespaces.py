"""The namespaces of the ontology contract (../shared/ONTOLOGY.md), defined once."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, XSD

RG = Namespace("https://w3id.org/regiograph/ontology#")
RGID = Namespace("https://w3id.org/regiograph/id/")
ORG = Namespace("http://www.w3.org/ns/org#")
EURIO = Namespace("http://data.europa.eu/s66#")
NUTS = Namespace("http://data.europa.eu/nuts/code/")
VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")

PREFIXES: dict[str, str] = {
    "rg": str(RG),
    "rgid": str(RGID),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "org": str(ORG),
    "foaf": str(FOAF),
    "xsd": str(XSD),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "eurio": str(EURIO),
    "nuts": str(NUTS),
}

#: Named graph that holds derived facts (rg:cooperatesWith).
DERIVED_GRAPH = RGID["graph/derived"]
#: Named graph that holds the ontology and the curated SKOS schemes.
ONTOLOGY_GRAPH = RGID["graph/ontology"]


def sparql_prologue() -> str:
    """PREFIX lines for every contract prefix, to prepend to a query."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


__all__ = [
    "DCAT",
    "DCTERMS",
    "DERIVED_GRAPH",
    "EURIO",
    "FOAF",
    "NUTS",
    "ONTOLOGY_GRAPH",
    "ORG",
    "OWL",
    "PREFIXES",
    "PROV",
    "RDF",
    "RDFS",
    "RG",
    "RGID",
    "SKOS",
    "VOID",
    "XSD",
    "sparql_prologue",
]
