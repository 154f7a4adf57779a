"""The store: bound parameters, read-only guard, generations, readers beside a writer."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from kg.store import DataDir, bind_values, check_read_only, from_ox
from regiograph.errors import QueryError, StoreError

HOSTILE = [
    'quote " and } and # comment',
    'triple """ quotes \\" and \n newline',
    "} . ?s ?p ?o } INSERT DATA { <a:b> <a:c> <a:d> } SELECT * WHERE {",
    "SELECT DELETE WHERE FILTER",
]


@pytest.mark.parametrize("query", [
    "INSERT DATA { <a:b> <a:c> <a:d> }",
    "DELETE WHERE { ?s ?p ?o }",
    "LOAD <http://example.org/x>",
    "CLEAR ALL",
    "DROP GRAPH <a:g>",
    "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "select * where { service <http://x> { ?s ?p ?o } }",
    "SELECT * WHERE { \\u0053ERVICE <http://x> { ?s ?p ?o } }",
])
def test_updates_and_service_are_refused(query: str) -> None:
    with pytest.raises(QueryError):
        check_read_only(query)


def test_keywords_inside_strings_iris_and_comments_are_fine() -> None:
    check_read_only('SELECT ?s WHERE { ?s ?p "INSERT DATA" . ?s ?q <http://x/SERVICE> } # DROP ALL')
    check_read_only("SELECT ?service ?with $load WHERE { ?s ex:load ?o ; :drop ?x ; service:add ?y }")


def _writer_store(tmp_path: Path):  # type: ignore[no-untyped-def]
    data = DataDir(tmp_path / "data")
    data.root.mkdir(parents=True)
    return data, data.open_primary()


def test_bound_values_never_change_the_query(tmp_path: Path) -> None:
    _data, store = _writer_store(tmp_path)
    from rdflib import Graph
    from rdflib.namespace import SKOS

    g = Graph()
    for i, label in enumerate(HOSTILE):
        g.add((URIRef(f"https://x.org/e{i}"), SKOS.prefLabel, Literal(label)))
    store.replace_graph(URIRef("https://x.org/g"), g.serialize(format="nt"))
    for i, label in enumerate(HOSTILE):
        rows = store.select("SELECT ?e WHERE { ?e skos:prefLabel ?l }", {"l": Literal(label)})
        assert [str(r["e"]) for r in rows] == [f"https://x.org/e{i}"]
    assert store.triple_count() == len(HOSTILE)  # nothing was inserted by a hostile value


def test_invalid_iri_parameter_is_refused() -> None:
    with pytest.raises(QueryError):
        bind_values("SELECT ?s WHERE { ?s ?p ?o }", {"s": URIRef("http://x/a> } INSERT")})


def test_generations_publish_and_readers_are_read_only(tmp_path: Path) -> None:
    data, store = _writer_store(tmp_path)
    assert data.current_generation() is None
    with pytest.raises(StoreError, match="regiograph ingest"):
        data.open_reader()
    store.replace_graph(URIRef("https://x.org/g"), "<https://x.org/a> <https://x.org/p> \"1\" .\n")
    first = data.snapshot(store)
    data.publish(first)
    reader = data.open_reader()
    # The writer goes on; the reader keeps seeing the published generation.
    store.replace_graph(URIRef("https://x.org/g"), "<https://x.org/a> <https://x.org/p> \"2\" .\n")
    assert [str(r["o"]) for r in reader.select("SELECT ?o WHERE { ?s ?p ?o }")] == ["1"]
    with pytest.raises(StoreError):
        reader.replace_graph(URIRef("https://x.org/g"), "")
    second = data.snapshot(store)
    data.publish(second)
    assert [str(r["o"]) for r in data.open_reader().select("SELECT ?o WHERE { ?s ?p ?o }")] == ["2"]


def test_replace_graph_with_bad_data_keeps_the_old_graph(tmp_path: Path) -> None:
    _, store = _writer_store(tmp_path)
    g = URIRef("https://x.org/g")
    store.replace_graph(g, "<https://x.org/a> <https://x.org/p> \"1\" .\n")
    with pytest.raises(StoreError):
        store.replace_graph(g, "this is not n-triples")
    assert store.triple_count() == 1


def test_new_graph_with_bad_data_writes_nothing(tmp_path: Path) -> None:
    """A new graph is loaded straight into place, in one transaction: an error on its last line
    leaves no triple of the lines before it, and no graph."""
    _, store = _writer_store(tmp_path)
    g = URIRef("https://x.org/new")
    good = "".join(f"<https://x.org/a{i}> <https://x.org/p> \"{i}\" .\n" for i in range(1000))
    with pytest.raises(StoreError, match="could not load graph"):
        store.replace_graph(g, good + "<https://x.org/broken\n")
    assert store.triple_count() == 0 and str(g) not in set(store.named_graphs())
    store.replace_graph(g, good)  # then loaded, and replaced whole
    store.replace_graph(g, good[: good.index("\n") + 1])
    assert store.triple_count() == 1
    store.replace_graph(URIRef("https://x.org/empty"), "")
    assert "https://x.org/empty" in set(store.named_graphs())


def test_query_row_limit_sets_truncated(tmp_path: Path) -> None:
    _, store = _writer_store(tmp_path)
    nt = "".join(f"<https://x.org/a{i}> <https://x.org/p> \"{i}\" .\n" for i in range(50))
    store.replace_graph(URIRef("https://x.org/g"), nt)
    result = store.query("SELECT * WHERE { ?s ?p ?o }", row_limit=10)
    assert len(result.rows) == 10 and result.truncated
    with pytest.raises(QueryError, match="invalid SPARQL"):
        store.query("SELECT WHERE {")


def test_write_lock_times_out_with_a_clear_message(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    data = DataDir(tmp_path / "data")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys,time; from pathlib import Path; from kg.store import DataDir\n"
         f"d=DataDir(Path({str(data.root)!r}))\n"
         "with d.write_lock():\n  print('locked', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        from regiograph.errors import LockedError

        with pytest.raises(LockedError, match="locked by another writer"), data.write_lock(timeout_s=0.5):
            pass
        assert time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait()


def test_literals_keep_value_type_and_language_when_converted_repeatedly() -> None:
    """The literal conversion is cached: equal lexical forms with another type or language stay apart."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    cases = [
        (ox.Literal("1", datatype=ox.NamedNode(xsd + "integer")), Literal("1", datatype=XSD.integer)),
        (ox.Literal("1", datatype=ox.NamedNode(xsd + "decimal")), Literal("1", datatype=XSD.decimal)),
        (ox.Literal("1"), Literal("1")),
        (ox.Literal("1", language="da"), Literal("1", lang="da")),
        (ox.Literal("1", language="en"), Literal("1", lang="en")),
    ]
    for _ in range(2):
        for ox_term, expected in cases:
            got = from_ox(ox_term)
            assert got == expected and got.datatype == expected.datatype and got.language == expected.language
    assert from_ox(cases[0][0]).toPython() == 1
