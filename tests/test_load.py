"""Short, bounded load: 8 concurrent clients on the search API and on a real endpoint (loopback).

The figures of the long form (60 s) are in docs/benchmarks.md; here we assert what must hold
under load: no errors, every answer complete, the server still up, memory not running away.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from regiograph.settings import Settings
from tests.conftest import REPO


def test_concurrent_search_has_no_errors(seed_settings: Settings) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    from search_load import run

    figures = run(seed_settings.data_dir, clients=8, seconds=5)
    assert figures["errors"] == 0
    assert figures["requests"] >= 8
    assert figures["rss_after_mb"] < figures["rss_before_mb"] + 500


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def server(seed_settings: Settings):  # type: ignore[no-untyped-def]
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "regiograph", "--data", str(seed_settings.data_dir), "serve", "--port", str(port), "--timeout", "5"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "REGIOGRAPH_RATE_LIMIT": "1000000"},  # all loopback clients share one address
    )
    url = f"http://127.0.0.1:{port}/sparql"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_concurrent_endpoint_clients_and_a_hostile_one(server: str) -> None:
    queries = [
        "SELECT ?l (COUNT(?d) AS ?n) WHERE { ?d a rg:Document ; dcterms:language ?l } GROUP BY ?l",
        "SELECT ?p ?l WHERE { ?p a rg:Project ; skos:prefLabel ?l } LIMIT 100",
        "SELECT ?a ?b WHERE { ?a rg:cooperatesWith ?b } LIMIT 100",
    ]
    statuses: list[int] = []
    errors: list[str] = []
    stop = time.monotonic() + 5
    lock = threading.Lock()

    def client(n: int) -> None:
        with httpx.Client(timeout=30) as http:
            i = n
            while time.monotonic() < stop:
                try:
                    r = http.get(server, params={"query": queries[i % len(queries)]}, headers={"Accept": "application/sparql-results+json"})
                    with lock:
                        statuses.append(r.status_code)
                    assert r.status_code == 200, (r.status_code, r.text[:200])
                    assert r.json()["results"]["bindings"] is not None
                except Exception as exc:
                    with lock:
                        errors.append(repr(exc))
                i += 1

    def hostile() -> None:
        with httpx.Client(timeout=30) as http:
            r = http.get(server, params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"})
            with lock:
                statuses.append(r.status_code)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)] + [threading.Thread(target=hostile)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert statuses.count(200) >= 8
    assert set(statuses) <= {200, 503}  # 503 only for the hostile query's timeout
    after = httpx.get(server, params={"query": queries[0]}, headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert after.status_code == 200
