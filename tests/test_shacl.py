"""The seed dataset conforms to the SHACL shapes; a broken node is caught."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF

from kg.namespaces import RG
from kg.validate import union_graph, validate
from kg.writer import ONTOLOGY_DIR


def test_seed_dataset_conforms(seed_store) -> None:  # type: ignore[no-untyped-def]
    conforms, report = validate(seed_store)
    assert conforms, report[:3000]


def test_shapes_catch_a_passage_without_text(seed_store) -> None:  # type: ignore[no-untyped-def]
    from pyshacl import validate as shacl

    data = union_graph(seed_store)
    bad = URIRef("https://w3id.org/regiograph/id/passage/broken-0")
    data.add((bad, RDF.type, RG.Passage))
    data.add((bad, RG.startOffset, Literal(-1)))
    shapes = Graph().parse(ONTOLOGY_DIR / "shapes.ttl")
    conforms, _, text = shacl(data, shacl_graph=shapes, inference="none")
    assert not conforms and "broken-0" in text
