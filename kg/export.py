"""Dumps of the dataset and its description.

TriG and N-Quads keep the named graphs (one per document, so provenance survives a round
trip); Turtle, N-Triples and JSON-LD give the union graph; ``void`` writes the VoID/DCAT
description (:mod:`kg.void`) as Turtle. Works on the embedded store and on a remote one.
"""

from __future__ import annotations

import io
from typing import IO, Any

import pyoxigraph as ox

from kg.namespaces import PREFIXES
from regiograph.errors import ConfigError

FORMATS = ("trig", "nquads", "turtle", "ntriples", "jsonld", "void")

#: A JSON-LD context that makes the output readable: contract prefixes and short keys for
#: the contract's properties (IRIs as plain strings where the range is a resource).
JSONLD_CONTEXT: dict[str, object] = {
    **PREFIXES,
    "type": "@type",
    "id": "@id",
    "prefLabel": {"@id": "skos:prefLabel"},
    "altLabel": {"@id": "skos:altLabel"},
    "mentionedIn": {"@id": "rg:mentionedIn", "@type": "@id"},
    "partnerRegion": {"@id": "rg:partnerRegion", "@type": "@id"},
    "fundedBy": {"@id": "rg:fundedBy", "@type": "@id"},
    "leadPartner": {"@id": "rg:leadPartner", "@type": "@id"},
    "partner": {"@id": "rg:partner", "@type": "@id"},
    "locatedIn": {"@id": "rg:locatedIn", "@type": "@id"},
    "hasPractice": {"@id": "rg:hasPractice", "@type": "@id"},
    "practiceType": {"@id": "rg:practiceType", "@type": "@id"},
    "isPartOf": {"@id": "dcterms:isPartOf", "@type": "@id"},
    "cooperatesWith": {"@id": "rg:cooperatesWith", "@type": "@id"},
    "region": {"@id": "rg:region", "@type": "@id"},
    "viaProject": {"@id": "rg:viaProject", "@type": "@id"},
    "sharedProjects": {"@id": "rg:sharedProjects"},
    "practiceCountry": {"@id": "rg:practiceCountry"},
    "PracticeTally": {"@id": "rg:PracticeTally"},
    "tallyType": {"@id": "rg:tallyType", "@type": "@id"},
    "tallyCountry": {"@id": "rg:tallyCountry"},
    "practiceCount": {"@id": "rg:practiceCount"},
    "broader": {"@id": "skos:broader", "@type": "@id"},
    "inScheme": {"@id": "skos:inScheme", "@type": "@id"},
    "wasDerivedFrom": {"@id": "prov:wasDerivedFrom", "@type": "@id"},
    "text": {"@id": "rg:text"},
    "description": {"@id": "dcterms:description"},
    "language": {"@id": "dcterms:language"},
    "source": {"@id": "dcterms:source"},
    "countryCode": {"@id": "rg:countryCode"},
    "nutsCode": {"@id": "rg:nutsCode"},
}


def export(store: Any, out: IO[bytes], fmt: str, *, endpoint_url: str | None = None, base_iri: str | None = None) -> None:
    """Write the dataset to ``out`` in ``fmt`` (one of :data:`FORMATS`).

    ``store`` is a :class:`kg.store.GraphStore` or a :class:`kg.remote.RemoteGraphStore`.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "void":
        from kg.void import void_turtle

        out.write(void_turtle(store, base_iri or PREFIXES["rgid"], endpoint_url))
        return
    if fmt in ("trig", "nquads"):
        oxstore = getattr(store, "oxigraph", None)
        if isinstance(oxstore, ox.Store):
            oxstore.dump(out, ox.RdfFormat.TRIG if fmt == "trig" else ox.RdfFormat.N_QUADS, prefixes=PREFIXES if fmt == "trig" else None)
        else:
            store.dump(out, fmt)
        return
    _union(store, out, {"ntriples": "nt", "turtle": "turtle", "jsonld": "json-ld"}[fmt])


def _nquads(store: Any) -> bytes:
    buf = io.BytesIO()
    oxstore = getattr(store, "oxigraph", None)
    if isinstance(oxstore, ox.Store):
        oxstore.dump(buf, ox.RdfFormat.N_QUADS)
    else:
        store.dump(buf, "nquads")
    return buf.getvalue()


def _union(store: Any, out: IO[bytes], rdflib_format: str) -> None:
    """The union of all graphs as one graph, serialised."""
    quads = ox.parse(_nquads(store), format=ox.RdfFormat.N_QUADS)
    triples = {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
    if rdflib_format == "nt":
        out.write(ox.serialize(sorted(triples, key=str), format=ox.RdfFormat.N_TRIPLES) or b"")
        return
    if rdflib_format == "turtle":
        prefixes = {k: v for k, v in PREFIXES.items() if k not in ("rgid", "nuts")}
        out.write(ox.serialize(sorted(triples, key=str), format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b"")
        return
    from rdflib import Graph

    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    g.parse(data=ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES) or b"", format="nt")
    out.write(g.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True).encode("utf-8"))
