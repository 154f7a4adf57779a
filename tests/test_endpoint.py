"""The SPARQL endpoint over the real seed graph: protocol, negotiation, CORS and every bound.

The app runs in-process (Starlette's TestClient) with its real worker processes.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from rdflib import Graph
from starlette.testclient import TestClient

from kg.endpoint import create_app, negotiate, refuse_unsafe
from regiograph.errors import QueryError
from regiograph.settings import Settings
from tests.test_examples import seed_graph_settings  # noqa: F401 - a fixture

DOCS_BY_LANG = "SELECT ?l (COUNT(?d) AS ?n) WHERE { ?d a rg:Document ; dcterms:language ?l } GROUP BY ?l ORDER BY ?l"
CARTESIAN = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
COUNT_CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
REGEX_BOMB = (
    'SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . '
    'FILTER(REGEX(CONCAT(STR(?c), STR(?f)), "^(a|aa|aaa|.)*(b|bb|.)*(x|y|.)*z$", "i")) }'
)


@pytest.fixture(scope="module")
def bounded(seed_graph_settings: Settings) -> Settings:  # noqa: F811
    return replace(seed_graph_settings, row_limit=100, query_timeout_s=2.0, max_request_kb=4, rate_limit_per_min=10_000)


@pytest.fixture(scope="module")
def client(bounded: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(bounded), client=("127.0.0.1", 50000)) as c:
        yield c


def select(client: TestClient, query: str, **kw: str) -> dict:  # type: ignore[type-arg]
    r = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def langs(doc: dict) -> dict[str, int]:  # type: ignore[type-arg]
    return {b["l"]["value"]: int(b["n"]["value"]) for b in doc["results"]["bindings"]}


# --- protocol -----------------------------------------------------------------------------------

def test_get_post_and_form_give_the_same_answer(client: TestClient) -> None:
    get = client.get("/sparql", params={"query": DOCS_BY_LANG})
    post = client.post("/sparql", content=DOCS_BY_LANG, headers={"Content-Type": "application/sparql-query"})
    form = client.post("/sparql", data={"query": DOCS_BY_LANG})
    for r in (get, post, form):
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/sparql-results+json")
        assert r.headers["x-regiograph-truncated"] == "false"
        assert langs(r.json()) == {"da": 1, "en": 4}
        assert r.json()["truncated"] is False


def test_results_formats(client: TestClient) -> None:
    q = {"query": DOCS_BY_LANG}
    xml = client.get("/sparql", params=q, headers={"Accept": "application/sparql-results+xml"})
    assert xml.headers["content-type"].startswith("application/sparql-results+xml")
    assert '<variable name="l"/>' in xml.text and "<literal>da</literal>" in xml.text
    csv_r = client.get("/sparql", params=q, headers={"Accept": "text/csv"})
    assert csv_r.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(csv_r.text))) == [["l", "n"], ["da", "1"], ["en", "4"]]
    tsv = client.get("/sparql", params=q, headers={"Accept": "text/tab-separated-values"})
    lines = tsv.text.strip().split("\n")
    assert lines[0] == "?l\t?n" and lines[1].startswith('"da"\t')
    ask = client.get("/sparql", params={"query": "ASK { ?d a rg:Document }"})
    assert ask.json()["boolean"] is True


def test_results_parse_with_rdflib(client: TestClient) -> None:
    from rdflib.query import Result

    for media, fmt in (("application/sparql-results+json", "json"), ("application/sparql-results+xml", "xml"), ("text/csv", "csv")):
        r = client.get("/sparql", params={"query": DOCS_BY_LANG}, headers={"Accept": media})
        parsed = Result.parse(io.BytesIO(r.content), format=fmt)
        assert sorted(str(row[0]) for row in parsed) == ["da", "en"]  # type: ignore[index]


def test_construct_and_describe_negotiation(client: TestClient) -> None:
    q = "CONSTRUCT { ?d a rg:Document ; dcterms:language ?l } WHERE { ?d a rg:Document ; dcterms:language ?l }"
    for media, fmt in (("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "json-ld")):
        r = client.get("/sparql", params={"query": q}, headers={"Accept": media})
        assert r.status_code == 200 and r.headers["content-type"].startswith(media)
        g = Graph().parse(data=r.text, format=fmt)
        assert len(g) == 10
    described = client.get("/sparql", params={"query": "DESCRIBE ?d WHERE { ?d a rg:Document } LIMIT 1"})
    assert described.headers["content-type"].startswith("text/turtle") and len(Graph().parse(data=described.text, format="turtle")) > 3


def test_default_graph_is_the_union_and_graph_params_narrow_it(client: TestClient) -> None:
    graphs = select(client, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?d a rg:Document } }")["results"]["bindings"]
    assert len(graphs) == 5
    one = graphs[0]["g"]["value"]
    r = client.get("/sparql", params={"query": "SELECT (COUNT(?d) AS ?n) WHERE { ?d a rg:Document }", "default-graph-uri": one})
    assert r.json()["results"]["bindings"][0]["n"]["value"] == "1"


def test_service_description_and_void(client: TestClient) -> None:
    sd = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert sd.status_code == 200
    g = Graph().parse(data=sd.text, format="turtle")
    assert (None, None, None) in g and "UnionDefaultGraph" in sd.text and "SPARQL11Query" in sd.text
    assert "https://w3id.org/regiograph/ontology#similar" in sd.text  # sd:extensionFunction
    for path in ("/void", "/.well-known/void"):
        v = client.get(path)
        assert v.status_code == 200 and v.headers["content-type"].startswith("text/turtle")
        vg = Graph().parse(data=v.text, format="turtle")
        assert len(vg) > 20
        assert "void:sparqlEndpoint <http://testserver/sparql>" in v.text


def test_examples_route(client: TestClient) -> None:
    examples = client.get("/examples").json()
    assert {e["name"] for e in examples} >= {"documents_by_language", "partner_regions_of_project"}


def test_cors(client: TestClient) -> None:
    pre = client.options(
        "/sparql", headers={"Origin": "https://yasgui.triply.cc", "Access-Control-Request-Method": "POST",
                            "Access-Control-Request-Headers": "content-type"},
    )
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] in ("*", "https://yasgui.triply.cc")
    r = client.get("/sparql", params={"query": DOCS_BY_LANG}, headers={"Origin": "https://yasgui.triply.cc"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "x-regiograph-truncated" in r.headers["access-control-expose-headers"].lower()


def test_new_generation_is_picked_up(client: TestClient, bounded: Settings) -> None:
    from kg.store import DataDir

    data = DataDir(bounded.data_dir)
    number = data.current_generation()
    assert number is not None
    before = select(client, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    # Publish a copy of the current generation under a new number; the endpoint follows `current`.
    import shutil

    shutil.copytree(data.generation_dir(number), data.generation_dir(number + 1))
    data.publish(number + 1)
    after = client.get("/")
    assert after.json()["generation"] == number + 1
    assert select(client, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == before


# --- refusals and bounds ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("query", "word"),
    [
        ("INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }", "Update"),
        ("DELETE WHERE { ?s ?p ?o }", "Update"),
        ("DROP ALL", "Update"),
        ("CLEAR DEFAULT", "Update"),
        ("LOAD <http://example.org/data.ttl>", "LOAD"),
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
        ("SELECT * WHERE { SERVICE SILENT <http://127.0.0.1:1/> { ?s ?p ?o } }", "SERVICE"),
        ("SELECT * WHERE { \\u0053ERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
    ],
)
def test_updates_load_and_service_are_refused(client: TestClient, query: str, word: str) -> None:
    for r in (
        client.get("/sparql", params={"query": query}),
        client.post("/sparql", data={"query": query}),
        client.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"}),
    ):
        assert r.status_code == 400
        assert word in r.text and "refused" in r.text


def test_update_operation_is_refused(client: TestClient) -> None:
    r = client.post("/sparql", data={"update": "INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }"})
    assert r.status_code == 400 and "read-only" in r.text
    r = client.post("/sparql", content="CLEAR ALL", headers={"Content-Type": "application/sparql-update"})
    assert r.status_code == 400 and "read-only" in r.text


def test_words_inside_strings_variables_and_names_are_not_refused() -> None:
    refuse_unsafe('SELECT ?service ?load ?add WHERE { ?service rg:text ?t FILTER(CONTAINS(?t, "business support service; insert")) } # DELETE')
    with pytest.raises(QueryError):
        refuse_unsafe("PREFIX x: <http://x/> SELECT * WHERE { SERVICE x:s { ?a ?b ?c } }")


def test_calls_similar_reads_names_not_strings() -> None:
    from kg.sparql_text import calls_similar

    assert calls_similar('SELECT ?s WHERE { ?p rg:text ?t BIND(rg:similar(?t, "export support") AS ?s) }')
    assert calls_similar('PREFIX o: <https://w3id.org/regiograph/ontology#> SELECT * { BIND(o:similar (?t, "q") AS ?s) }')
    assert calls_similar('SELECT * { BIND(<https://w3id.org/regiograph/ontology#similar>(?t, "q") AS ?s) }')
    assert not calls_similar('SELECT * WHERE { ?p rg:text ?t FILTER(CONTAINS(?t, "rg:similar(x)")) } # rg:similar(?t)')
    assert not calls_similar("PREFIX ex: <http://example.org/> SELECT * { BIND(ex:similar(?a) AS ?b) }")


def test_rg_similar_without_a_search_index_says_so(client: TestClient) -> None:
    # the seed graph of these tests was ingested without its search index
    r = client.get("/sparql", params={"query": 'SELECT ?s WHERE { BIND(rg:similar("a text", "a query") AS ?s) }'})
    assert r.status_code == 400 and "search index" in r.text and "reindex" in r.text, r.text


def test_rg_similar_in_the_endpoint_scores_with_the_search_index(seed_settings: Settings) -> None:
    from search.api import load_searcher

    query = """SELECT ?p ?t ?score WHERE {
                 ?p a rg:Passage ; rg:text ?t ; dcterms:isPartOf ?d . ?d dcterms:source "004_ad09d771a50011a4.txt" .
                 BIND(rg:similar(?t, "Hvordan fik virksomhederne nye kunder i udlandet?") AS ?score)
               } ORDER BY DESC(?score) LIMIT 5"""
    with TestClient(create_app(seed_settings), client=("127.0.0.1", 50001)) as c:
        doc = select(c, query)
    rows = doc["results"]["bindings"]
    scores = [float(b["score"]["value"]) for b in rows]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True) and -1 <= scores[-1] <= scores[0] <= 1
    # the worker's scores are the searcher's own (Searcher.similarity, the same index)
    searcher = load_searcher(seed_settings)
    for b, score in zip(rows, scores, strict=True):
        assert abs(searcher.similarity(b["t"]["value"], "Hvordan fik virksomhederne nye kunder i udlandet?") - score) < 1e-5


def test_syntax_error_gives_400_with_position(client: TestClient) -> None:
    r = client.get("/sparql", params={"query": "SELECT ?s WHERE {\n  ?s ?p \n}"})
    assert r.status_code == 400
    assert "invalid SPARQL" in r.text and "error at 3:" in r.text
    assert r.headers["x-regiograph-error-line"] == "3"


def test_row_cap_flags_truncation(client: TestClient, bounded: Settings) -> None:
    r = client.get("/sparql", params={"query": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"})
    assert r.status_code == 200
    assert r.headers["x-regiograph-truncated"] == "true"
    doc = r.json()
    assert doc["truncated"] is True and doc["rowLimit"] == bounded.row_limit
    assert len(doc["results"]["bindings"]) == bounded.row_limit
    csv_r = client.get("/sparql", params={"query": "SELECT ?s WHERE { ?s ?p ?o }"}, headers={"Accept": "text/csv"})
    assert csv_r.headers["x-regiograph-truncated"] == "true"
    assert len(csv_r.text.strip().splitlines()) == bounded.row_limit + 1


def test_huge_cartesian_product_is_cut_and_the_server_answers_next(client: TestClient) -> None:
    r = client.get("/sparql", params={"query": CARTESIAN})
    assert r.status_code == 200 and r.headers["x-regiograph-truncated"] == "true"
    started = time.monotonic()
    r = client.get("/sparql", params={"query": COUNT_CARTESIAN})
    assert r.status_code == 503, r.text
    assert r.headers["x-regiograph-timeout"] == "true" and "timed out" in r.text
    assert time.monotonic() - started < 6
    assert langs(select(client, DOCS_BY_LANG)) == {"da": 1, "en": 4}


def test_regex_bomb_times_out_and_the_server_answers_next(client: TestClient) -> None:
    r = client.post("/sparql", data={"query": REGEX_BOMB})
    assert r.status_code == 503 and "timed out" in r.text
    assert r.headers["content-type"].startswith("text/plain") and "bindings" not in r.text  # an error, never an empty result
    for _ in range(3):  # both workers are back
        assert langs(select(client, DOCS_BY_LANG)) == {"da": 1, "en": 4}


def test_oversized_body_gets_413(client: TestClient) -> None:
    big = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 8000
    assert client.post("/sparql", content=big, headers={"Content-Type": "application/sparql-query"}).status_code == 413
    assert client.post("/sparql", data={"query": big}).status_code == 413
    assert client.get("/sparql", params={"query": big}).status_code == 413


def test_unsupported_media(client: TestClient) -> None:
    assert client.post("/sparql", content="x", headers={"Content-Type": "application/pdf"}).status_code == 415
    r = client.get("/sparql", params={"query": DOCS_BY_LANG}, headers={"Accept": "image/png"})
    assert r.status_code == 406


def test_rate_limit(seed_graph_settings: Settings) -> None:  # noqa: F811
    limited = replace(seed_graph_settings, rate_limit_per_min=3)
    with TestClient(create_app(limited, workers=1), client=("127.0.0.1", 50001)) as c:
        codes = [c.get("/sparql", params={"query": "ASK {}"}).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        last = c.get("/sparql", params={"query": "ASK {}"})
        assert int(last.headers["retry-after"]) >= 1
    with TestClient(create_app(limited, workers=1), client=("127.0.0.2", 50002)) as other:
        assert other.get("/sparql", params={"query": "ASK {}"}).status_code == 200


def test_negotiate() -> None:
    assert negotiate(None) == ("json", "turtle")
    assert negotiate("text/csv;q=0.5, application/sparql-results+xml") == ("xml", None)
    assert negotiate("application/n-triples, */*;q=0.1") == ("json", "ntriples")
    assert negotiate("text/html,application/xhtml+xml,*/*;q=0.8") == ("json", "turtle")
    assert json.dumps(negotiate("image/png")) == "[null, null]"
