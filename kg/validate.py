"""SHACL validation of the data graph against ``ontology/shapes.ttl`` (pyshacl)."""

from __future__ import annotations

import io

from rdflib import Graph

from kg.store import GraphStore
from kg.writer import ONTOLOGY_DIR


def union_graph(store: GraphStore) -> Graph:
    """All named graphs merged into one rdflib Graph (for validation and small exports)."""
    import pyoxigraph as ox

    buf = io.BytesIO()
    store.oxigraph.dump(buf, ox.RdfFormat.N_QUADS)
    from rdflib import Dataset

    ds = Dataset()
    ds.parse(data=buf.getvalue().decode("utf-8"), format="nquads")
    g = Graph()
    for s, p, o, _ in ds.quads((None, None, None, None)):
        g.add((s, p, o))
    return g


def validate(store: GraphStore) -> tuple[bool, str]:
    """(conforms, report text) for the union of the dataset's graphs."""
    from pyshacl import validate as shacl

    shapes = Graph().parse(ONTOLOGY_DIR / "shapes.ttl", format="turtle")
    conforms, _, text = shacl(union_graph(store), shacl_graph=shapes, inference="rdfs", advanced=True)
    return bool(conforms), str(text)
