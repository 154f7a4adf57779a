"""Exports of the seed graph: each format parses back; a TriG dump answers the same SPARQL in rdflib."""

from __future__ import annotations

import io
import json

import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from kg.export import FORMATS, JSONLD_CONTEXT, export
from kg.namespaces import RG, VOID
from kg.store import GraphStore
from regiograph.errors import ConfigError
from tests.test_examples import EXPECTED_VARIABLES, comparable, example_text, seed_graph, seed_graph_settings  # noqa: F401


def dumped(store: GraphStore, fmt: str) -> bytes:
    buf = io.BytesIO()
    export(store, buf, fmt)
    return buf.getvalue()


def union_size(store: GraphStore) -> int:
    return int(str(store.select("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }")[0]["n"]))


@pytest.fixture(scope="module")
def trig_dataset(seed_graph: GraphStore) -> Dataset:  # noqa: F811
    ds = Dataset(default_union=True)
    ds.parse(data=dumped(seed_graph, "trig"), format="trig")
    return ds


def test_trig_keeps_every_quad_and_named_graph(seed_graph: GraphStore, trig_dataset: Dataset) -> None:  # noqa: F811
    assert len(list(trig_dataset.quads((None, None, None, None)))) == seed_graph.triple_count()
    graphs = {str(g.identifier) for g in trig_dataset.graphs()} - {"urn:x-rdflib:default"}
    assert graphs == set(seed_graph.named_graphs())


@pytest.mark.parametrize("name", sorted(EXPECTED_VARIABLES))
def test_trig_dump_answers_the_same_sparql_in_rdflib(seed_graph: GraphStore, trig_dataset: Dataset, name: str) -> None:  # noqa: F811
    """Issue #2's done-criterion: the dump is the source of truth, any SPARQL engine can read it."""
    text = example_text(name)
    ours = seed_graph.query(text)
    theirs = trig_dataset.query(text)
    variables = [str(v) for v in theirs.vars or []]
    assert variables == ours.variables
    rows: list[dict[str, Node | None]] = [dict(zip(variables, row, strict=True)) for row in theirs]  # type: ignore[arg-type]
    assert comparable(variables, rows) == comparable(ours.variables, ours.rows)


def test_nquads_turtle_ntriples(seed_graph: GraphStore) -> None:  # noqa: F811
    nquads = dumped(seed_graph, "nquads")
    assert nquads.count(b"\n") == seed_graph.triple_count()
    for fmt, rdflib_fmt in (("turtle", "turtle"), ("ntriples", "nt")):
        g = Graph().parse(data=dumped(seed_graph, fmt), format=rdflib_fmt)
        assert len(g) == union_size(seed_graph)
    assert b"@prefix rg: <https://w3id.org/regiograph/ontology#>" in dumped(seed_graph, "turtle")


def test_jsonld_is_readable_and_complete(seed_graph: GraphStore) -> None:  # noqa: F811
    data = dumped(seed_graph, "jsonld")
    doc = json.loads(data)
    assert doc["@context"]["partnerRegion"] == JSONLD_CONTEXT["partnerRegion"]
    text = data.decode("utf-8")
    assert '"mentionedIn"' in text and '"prefLabel"' in text  # short keys, not full IRIs
    g = Graph().parse(data=data, format="json-ld")
    assert len(g) == union_size(seed_graph)


def test_void_description(seed_graph: GraphStore) -> None:  # noqa: F811
    g = Graph().parse(data=dumped(seed_graph, "void"), format="turtle")
    dataset = next(g.subjects(RDF.type, VOID.Dataset))
    assert int(str(g.value(dataset, VOID.triples))) == seed_graph.triple_count()
    assert int(str(g.value(dataset, VOID.documents))) == 5
    assert URIRef(str(RG)) in set(g.objects(dataset, VOID.vocabulary))
    assert g.value(dataset, URIRef("http://purl.org/dc/terms/license")) is not None
    classes = {g.value(part, VOID["class"]): int(str(g.value(part, VOID.entities))) for part in g.objects(dataset, VOID.classPartition)}
    assert classes[RG.Document] == 5


def test_unknown_format(seed_graph: GraphStore) -> None:  # noqa: F811
    assert "void" in FORMATS
    with pytest.raises(ConfigError):
        dumped(seed_graph, "rdfa")
