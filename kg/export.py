"""Dumps of the dataset: TriG and N-Quads keep named graphs; Turtle and JSON-LD give the union."""

from __future__ import annotations

import io
from typing import IO

import pyoxigraph as ox

from kg.namespaces import PREFIXES
from kg.store import GraphStore
from regiograph.errors import ConfigError

FORMATS = ("trig", "nquads", "turtle", "ntriples", "jsonld")

#: A JSON-LD context that makes the output readable: contract prefixes and short keys.
JSONLD_CONTEXT: dict[str, object] = {
    **PREFIXES,
    "label": {"@id": "skos:prefLabel", "@container": "@language"},
    "altLabel": {"@id": "skos:altLabel", "@container": "@set"},
    "mentionedIn": {"@id": "rg:mentionedIn", "@type": "@id"},
    "partnerRegion": {"@id": "rg:partnerRegion", "@type": "@id"},
    "fundedBy": {"@id": "rg:fundedBy", "@type": "@id"},
    "leadPartner": {"@id": "rg:leadPartner", "@type": "@id"},
    "partner": {"@id": "rg:partner", "@type": "@id"},
    "locatedIn": {"@id": "rg:locatedIn", "@type": "@id"},
    "isPartOf": {"@id": "dcterms:isPartOf", "@type": "@id"},
    "cooperatesWith": {"@id": "rg:cooperatesWith", "@type": "@id"},
}


def export(store: GraphStore, out: IO[bytes], fmt: str) -> None:
    """Write the dataset to ``out`` in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt in ("trig", "nquads"):
        store.oxigraph.dump(out, ox.RdfFormat.TRIG if fmt == "trig" else ox.RdfFormat.N_QUADS, prefixes=PREFIXES if fmt == "trig" else None)
        return
    if fmt == "ntriples":
        _union(store, out, "nt")
        return
    _union(store, out, "turtle" if fmt == "turtle" else "json-ld")


def _union(store: GraphStore, out: IO[bytes], rdflib_format: str) -> None:
    """The union of all graphs as one rdflib Graph, serialised."""
    from rdflib import Graph

    buf = io.BytesIO()
    store.oxigraph.dump(buf, ox.RdfFormat.N_QUADS)
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    from rdflib import Dataset

    ds = Dataset()
    ds.parse(data=buf.getvalue().decode("utf-8"), format="nquads")
    for s, p, o, _ in ds.quads((None, None, None, None)):
        g.add((s, p, o))
    if rdflib_format == "json-ld":
        out.write(g.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True).encode("utf-8"))
    else:
        out.write(g.serialize(format=rdflib_format).encode("utf-8"))
