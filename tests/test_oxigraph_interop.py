"""Interoperability: the real Oxigraph server, loaded with regiograph's TriG dump, gives the same
answers to the example queries as regiograph's own endpoint (both over HTTP on loopback)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kg.export import export
from regiograph.settings import Settings
from tests.test_examples import EXPECTED_VARIABLES, comparable, example_text, json_rows, seed_graph_settings  # noqa: F401
from tests.test_remote_store import OXIGRAPH, free_port, start_oxigraph

REPO = Path(__file__).resolve().parent.parent


def wait_for(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + (proc.stderr.read().decode() if proc.stderr else ""))
        try:
            if httpx.get(url, timeout=1, trust_env=False).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


@pytest.fixture(scope="module")
def oxigraph_url(seed_graph_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # noqa: F811
    from kg.store import DataDir

    if not OXIGRAPH.exists():
        pytest.skip("the oxigraph server binary is not installed")
    folder = tmp_path_factory.mktemp("oxigraph")
    dump = folder / "dump.trig"
    store = DataDir(seed_graph_settings.data_dir).open_reader()
    try:
        with dump.open("wb") as fh:
            export(store, fh, "trig")
    finally:
        store.close()
    location = folder / "db"
    subprocess.run([str(OXIGRAPH), "load", "--location", str(location), "--file", str(dump)], check=True, capture_output=True)
    proc, url = start_oxigraph(["serve", "--location", str(location), "--union-default-graph"])
    yield url + "/query"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def regiograph_url(seed_graph_settings: Settings) -> Iterator[str]:  # noqa: F811
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "regiograph", "--data", str(seed_graph_settings.data_dir), "serve", "--port", str(port)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/sparql"
    try:
        wait_for(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(20)


def ask(url: str, query: str) -> tuple[list[str], list[dict]]:  # type: ignore[type-arg]
    r = httpx.post(url, content=query.encode(), headers={"Content-Type": "application/sparql-query",
                   "Accept": "application/sparql-results+json"}, timeout=60, trust_env=False)
    assert r.status_code == 200, r.text
    doc = r.json()
    return doc["head"]["vars"], json_rows(doc)


@pytest.mark.parametrize("name", sorted(EXPECTED_VARIABLES))
def test_same_answers_as_oxigraph_server(oxigraph_url: str, regiograph_url: str, name: str) -> None:
    query = example_text(name)
    our_vars, ours = ask(regiograph_url, query)
    their_vars, theirs = ask(oxigraph_url, query)
    assert our_vars == their_vars == EXPECTED_VARIABLES[name]
    assert comparable(our_vars, ours) == comparable(their_vars, theirs)
    if name in ("documents_by_language", "entity_counts_per_class", "label_lookup"):
        assert ours  # answers the seeds certainly hold


def test_triple_counts_match(oxigraph_url: str, regiograph_url: str) -> None:
    q = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert comparable(["n"], ask(regiograph_url, q)[1]) == comparable(["n"], ask(oxigraph_url, q)[1])
