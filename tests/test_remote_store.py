"""RemoteGraphStore against a real Oxigraph server on loopback: ingest, query, dump, remove."""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rdflib import URIRef

from kg.remote import RemoteGraphStore
from regiograph.errors import QueryError
from regiograph.settings import Settings, load_settings

OXIGRAPH = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "oxigraph"
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "seeds"
HAMPSHIRE = SEEDS / "000_32b61af0d91e9bab.txt"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_oxigraph(args: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    """Start `oxigraph serve` on a free loopback port; wait until it answers."""
    binary = str(OXIGRAPH) if OXIGRAPH.exists() else shutil.which("oxigraph")
    if binary is None:
        pytest.skip("the oxigraph server binary is not installed")
    port = free_port()
    proc = subprocess.Popen([binary, *args, "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/query", params={"query": "ASK {}"}, timeout=1, trust_env=False).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("oxigraph server did not start: " + (proc.stderr.read().decode() if proc.stderr else ""))


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    proc, url = start_oxigraph(["serve"])  # in memory
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def remote_settings(server: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from ingest.pipeline import ingest

    if not HAMPSHIRE.exists():
        pytest.skip("../shared/corpus/seeds is not present")
    settings = load_settings(environ={}, data_dir=tmp_path_factory.mktemp("remote-data"), store_url=server)
    report = ingest([HAMPSHIRE], settings, build_index=False)
    assert not report.failed, [f.reason for f in report.failed]
    assert report.generation is not None
    return settings


def raw_select(url: str, query: str, union: bool = True) -> list[dict[str, dict[str, str]]]:
    """Ask the server directly (never through rdflib's SPARQLUpdateStore)."""
    params = {"query": query, **({"union-default-graph": ""} if union else {})}
    r = httpx.get(url + "/query", params=params, headers={"Accept": "application/sparql-results+json"}, trust_env=False)
    r.raise_for_status()
    return r.json()["results"]["bindings"]  # type: ignore[no-any-return]


def test_ingest_through_the_remote_store_lands_on_the_server(server: str, remote_settings: Settings) -> None:
    docs = raw_select(server, "SELECT ?d ?l WHERE { ?d a <https://w3id.org/regiograph/ontology#Document> ; <http://purl.org/dc/terms/language> ?l }")
    assert [d["l"]["value"] for d in docs] == ["en"]
    passages = raw_select(server, "SELECT (COUNT(?p) AS ?n) WHERE { ?p a <https://w3id.org/regiograph/ontology#Passage> }")
    assert int(passages[0]["n"]["value"]) >= 1
    projects = raw_select(server, "SELECT ?p WHERE { ?p a <https://w3id.org/regiograph/ontology#Project> }")
    assert projects, "the Hampshire seed names the project Everywhere International SMEs"
    graphs = raw_select(server, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", union=False)
    assert len(graphs) >= 2  # the document's graph and the ontology graph


def test_remote_store_methods(remote_settings: Settings) -> None:
    from kg.store import open_store

    store = open_store(remote_settings, write=False)
    assert isinstance(store, RemoteGraphStore) and store.read_only
    try:
        rows = store.select("SELECT ?l WHERE { ?d a rg:Document ; dcterms:language ?l }")
        assert [str(r["l"]) for r in rows] == ["en"]
        eis = store.query("SELECT ?p WHERE { ?p skos:prefLabel|skos:altLabel ?l FILTER(STR(?l) = \"EIS\") }")
        assert eis.rows
        assert store.triple_count() > 100
        assert len(store.named_graphs()) >= 2
        capped = store.query("SELECT * WHERE { ?s ?p ?o }", row_limit=5)
        assert capped.truncated and len(capped.rows) == 5
        ask = store.query("ASK { ?s a rg:Passage }")
        assert ask.kind == "ask" and ask.boolean is True
        graph = store.query("CONSTRUCT WHERE { ?d a rg:Document }")
        assert graph.kind == "graph" and len(graph.triples or []) == 1
        with pytest.raises(QueryError):
            store.query("INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }")
        with pytest.raises(QueryError):
            store.query("SELECT * WHERE { ?s ?p }")
    finally:
        store.close()


def test_stats_and_export_work_on_the_remote_store(remote_settings: Settings) -> None:
    from kg.export import export
    from kg.queries import stats
    from kg.store import open_store

    store = open_store(remote_settings, write=False)
    try:
        s = stats(store)
        assert s.documents == 1 and s.passages >= 1
        for fmt in ("trig", "nquads", "void"):
            buf = io.BytesIO()
            export(store, buf, fmt)
            assert len(buf.getvalue()) > 100
        buf = io.BytesIO()
        export(store, buf, "nquads")
        assert buf.getvalue().count(b"\n") == store.triple_count()
    finally:
        store.close()


def test_replace_and_remove_graph(server: str) -> None:
    store = RemoteGraphStore(server)
    g = URIRef("https://w3id.org/regiograph/id/graph/test-remote")
    try:
        store.replace_graph(g, '<http://x/a> <http://x/b> "one" .\n<http://x/a> <http://x/b> "two" .\n')
        assert len(raw_select(server, f"SELECT * WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}", union=False)) == 2
        store.replace_graph(g, '<http://x/a> <http://x/b> "three" .\n')
        rows = raw_select(server, f"SELECT ?o WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}", union=False)
        assert [r["o"]["value"] for r in rows] == ["three"]
        store.remove_graph(g)
        assert raw_select(server, f"SELECT * WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}", union=False) == []
        store.remove_graph(g)  # removing a missing graph is fine
    finally:
        store.close()


def test_unreachable_server_says_so() -> None:
    from regiograph.errors import StoreError

    store = RemoteGraphStore(f"http://127.0.0.1:{free_port()}", timeout_s=2)
    with pytest.raises(StoreError, match="cannot reach"):
        store.select("ASK {}")
