"""A final ORDER BY applied in memory gives the store's own order, and only where that is certain."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Literal
from rdflib.namespace import XSD

from kg.ordering import split_final_order
from kg.store import DataDir, GraphStore, from_ox, with_prologue

EX = "http://example.org/"
NUMERIC = {XSD.integer, XSD.decimal, XSD.double}
DATA = f"""
<{EX}a> <{EX}label> "Ærø"@da ; <{EX}n> 3 ; <{EX}when> "2021-05-01"^^<http://www.w3.org/2001/XMLSchema#date> ; <{EX}code> "DK" .
<{EX}b> <{EX}label> "zebra"@en ; <{EX}n> 2.5 ; <{EX}when> "2020-01-01"^^<http://www.w3.org/2001/XMLSchema#date> ; <{EX}code> "de" .
<{EX}c> <{EX}label> "Zebra"@de ; <{EX}n> "1e1"^^<http://www.w3.org/2001/XMLSchema#double> ; <{EX}code> "DE" .
<{EX}d> <{EX}label> "Aarhus"@da ; <{EX}n> -4 ; <{EX}code> "Éire" .
<{EX}e> <{EX}label> "aarhus"@en ; <{EX}n> 0 ; <{EX}code> <{EX}not-a-string> .
<{EX}f> <{EX}label> "Straße"@de ; <{EX}n> 7 .
<{EX}g> <{EX}label> "Strasse"@de ; <{EX}n> 11 ; <{EX}code> "SE" .
<{EX}h> <{EX}label> "b"@sv ; <{EX}n> 1 .
<{EX}i> <{EX}label> "a"@sv ; <{EX}n> 100 ; <{EX}code> "FI" .
<{EX}j> <{EX}owner> [ <{EX}name> "blank owner" ] ; <{EX}name> "plain" .
<{EX}k> <{EX}name> "Plain"@en .
<{EX}l> <{EX}n> 9007199254740993 .
<{EX}m> <{EX}n> 9007199254740992.5 .
"""

# (query, key variables compared in sequence); every one is taken in memory (asserted below).
ORDERED = [
    ("SELECT ?s ?l WHERE { ?s <http://example.org/label> ?l } ORDER BY ?l", ["l"]),
    ("SELECT ?s ?l WHERE { ?s <http://example.org/label> ?l } ORDER BY DESC(?l) LIMIT 4", ["l"]),
    ("SELECT ?s ?l WHERE { ?s <http://example.org/label> ?l } ORDER BY ?l LIMIT 3 OFFSET 2", ["l"]),
    ("SELECT ?s ?l WHERE { ?s <http://example.org/label> ?l } ORDER BY ?l OFFSET 3", ["l"]),
    ("SELECT ?s ?n WHERE { ?s <http://example.org/n> ?n } ORDER BY DESC(?n) ?s", ["n", "s"]),
    ("SELECT ?s ?n WHERE { ?s <http://example.org/n> ?n } ORDER BY ?n LIMIT 5", ["n"]),
    ("SELECT ?s ?n WHERE { ?s <http://example.org/n> ?n } ORDER BY DESC(?n) DESC(?s) LIMIT 4", ["n"]),  # beyond a double's precision
    ("SELECT ?s ?c WHERE { ?s <http://example.org/n> ?n OPTIONAL { ?s <http://example.org/code> ?c } } ORDER BY ?c ?s", ["c", "s"]),
    ("SELECT ?s ?c WHERE { ?s <http://example.org/n> ?n OPTIONAL { ?s <http://example.org/code> ?c } } ORDER BY DESC(?c) ?s", ["c", "s"]),
    ("SELECT ?s ?w WHERE { ?s <http://example.org/n> ?n OPTIONAL { ?s <http://example.org/when> ?w } } ORDER BY ?w ?s", ["w", "s"]),
    ("SELECT ?s ?l WHERE { ?s <http://example.org/label> ?l } ORDER BY STR(?l) ?s", ["l", "s"]),
    ("SELECT * WHERE { ?s <http://example.org/label> ?l } ORDER BY ?s", ["s"]),
    ("SELECT DISTINCT ?l WHERE { ?s <http://example.org/label> ?l } ORDER BY LCASE(?l) ?l", ["l"]),
    ("SELECT ?s (COUNT(?p) AS ?k) WHERE { ?s ?p ?o } GROUP BY ?s ORDER BY DESC(?k) ?s LIMIT 5", ["k", "s"]),
    ("SELECT ?s ?o WHERE { ?s <http://example.org/name> ?o } ORDER BY ?o", ["o"]),  # plain and tagged strings, blank nodes
    ("SELECT ?s ?o WHERE { ?s <http://example.org/owner> ?o } ORDER BY ?o", ["o"]),  # a blank node: the store orders it
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> GraphStore:
    data = DataDir(Path(tmp_path_factory.mktemp("ordering")))
    primary = data.open_primary()
    primary.oxigraph.load(DATA.encode(), ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(f"{EX}graph"))
    return primary


def _store_order(store: GraphStore, query: str) -> list[dict[str, object]]:
    """Oxigraph's own answer to the query as written (its ORDER BY run on the disk store)."""
    result = store.oxigraph.query(with_prologue(query), use_default_graph_as_union=True)
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    return [{name: from_ox(solution[name]) for name in names} for solution in result]


def _key(value: object) -> object:
    """What ORDER BY compares: a number's value, a literal's text (two languages may tie), an IRI's text."""
    if isinstance(value, Literal) and value.datatype is not None and value.datatype in NUMERIC:
        return Decimal(str(value))
    if isinstance(value, BNode):
        return "_:"  # blank nodes have no order among themselves
    return None if value is None else str(value)


@pytest.mark.parametrize(("query", "keys"), ORDERED)
def test_in_memory_order_is_the_stores_order(store: GraphStore, query: str, keys: list[str]) -> None:
    assert split_final_order(with_prologue(query)) is not None
    expected = _store_order(store, query)
    got = store.query(query).rows
    assert expected, "the fixture must answer every query"
    assert [[_key(row[k]) for k in keys] for row in got] == [[_key(row[k]) for k in keys] for row in expected]
    if "LIMIT" not in query and "OFFSET" not in query:
        assert sorted(map(repr, got)) == sorted(map(repr, expected))


def test_row_limit_truncates_the_ordered_rows(store: GraphStore) -> None:
    query = ORDERED[0][0]
    result = store.query(query, row_limit=4)
    assert result.truncated and [r["l"] for r in result.rows] == [r["l"] for r in _store_order(store, query)][:4]


@pytest.mark.parametrize("query", [
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 2",
    "SELECT ?s WHERE { ?s ?p ?l } ORDER BY ?l",  # not projected: the order needs a variable the rows lack
    "SELECT ?s (COUNT(?o) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s ORDER BY DESC(COUNT(?o))",  # an aggregate
    "SELECT ?s WHERE { { SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 2 } }",  # ORDER BY only inside
    "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 2 VALUES ?s { <a:b> }",  # trailing VALUES
    "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s # a comment\nLIMIT 2",
    'SELECT ?s WHERE { ?s ?p "} ORDER BY ?s" }',  # the words only in a string
    "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ex:f(?o)",  # a function the in-memory store lacks
    "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?o LIMIT ?x",
    "SELECT ?s ?o WHERE { ?s ?p ?o }",
])
def test_queries_left_to_the_store(query: str) -> None:
    assert split_final_order(query) is None


def test_split_keeps_group_by_and_having_in_the_stores_part() -> None:
    final = split_final_order(
        "SELECT ?s (COUNT(?o) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s HAVING (COUNT(?o) > 1) ORDER BY DESC(?n) ?s LIMIT 10 OFFSET 5"
    )
    assert final is not None
    assert final.unordered.rstrip().endswith("HAVING (COUNT(?o) > 1)")
    assert (final.conditions, final.slice) == ("DESC(?n) ?s", "LIMIT 10 OFFSET 5")


def test_a_timeout_while_reading_rows_is_explicit(store: GraphStore) -> None:
    from regiograph.errors import QueryError

    query = "SELECT ?a ?b ?c WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z } ORDER BY ?c"
    assert split_final_order(query) is not None
    with pytest.raises(QueryError, match="timed out"):
        store.query(query, timeout_s=1e-9)
