"""Concurrent load on the SPARQL endpoint, loopback only: throughput, latency, errors, server RSS.

Starts `regiograph serve` on 127.0.0.1 over an existing data directory, runs N clients for
D seconds cycling through example-style queries, and reports requests/s, p50/p95, errors and
the server's RSS (with its worker processes) before and after. Also measures the worker-process
overhead: the same small query through the endpoint vs. directly on the store.

    .venv/bin/python bench/endpoint_load.py --data DIR --clients 8 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUERIES = [
    "SELECT ?l (COUNT(?d) AS ?n) WHERE { ?d a rg:Document ; dcterms:language ?l } GROUP BY ?l",
    "SELECT ?p ?l WHERE { ?p a rg:Project ; skos:prefLabel ?l } LIMIT 100",
    "SELECT ?c (COUNT(?e) AS ?n) WHERE { ?e a ?c } GROUP BY ?c",
    'SELECT ?e ?l WHERE { ?e skos:prefLabel|skos:altLabel ?l FILTER(CONTAINS(LCASE(STR(?l)), "interreg")) } LIMIT 50',
    "SELECT ?p ?pr WHERE { ?p rg:hasPractice ?pr } LIMIT 100",
]


def rss_tree_mb(pid: int) -> float:
    """RSS of a process and its children (the query workers)."""
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)], capture_output=True, text=True).stdout
    return sum(int(x) for x in out.split()) / 1024


async def client(url: str, stop: float, latencies: list[float], errors: list[str], offset: int) -> None:
    async with httpx.AsyncClient(timeout=60, trust_env=False) as http:
        i = offset
        while time.monotonic() < stop:
            q = QUERIES[i % len(QUERIES)]
            i += 1
            t = time.perf_counter()
            try:
                r = await http.post(url, data={"query": q}, headers={"Accept": "application/sparql-results+json"})
                if r.status_code != 200:
                    errors.append(f"{r.status_code}: {r.text[:80]}")
                    continue
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
                continue
            latencies.append((time.perf_counter() - t) * 1000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env_cmd = [sys.executable, "-m", "regiograph", "--data", str(args.data), "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(env_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={"REGIOGRAPH_RATE_LIMIT": "1000000", **dict(__import__("os").environ)})
    url = f"http://127.0.0.1:{port}/sparql"
    try:
        for _ in range(100):
            try:
                httpx.get(url, timeout=1, trust_env=False)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        time.sleep(1)
        rss_before = rss_tree_mb(server.pid)
        # Overhead: one small query, sequentially, via HTTP+worker vs. in-process on the store.
        from kg.store import DataDir

        store = DataDir(args.data).open_reader()
        direct, via = [], []
        http = httpx.Client(trust_env=False)  # one keep-alive connection, as a real client would
        for _ in range(50):
            t = time.perf_counter()
            store.query(QUERIES[0])
            direct.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            http.post(url, data={"query": QUERIES[0]}).raise_for_status()
            via.append((time.perf_counter() - t) * 1000)
        store.close()
        http.close()
        latencies: list[float] = []
        errors: list[str] = []
        stop = time.monotonic() + args.seconds

        async def run_all() -> None:
            await asyncio.gather(*(client(url, stop, latencies, errors, i) for i in range(args.clients)))

        started = time.monotonic()
        asyncio.run(run_all())
        elapsed = time.monotonic() - started
        rss_after = rss_tree_mb(server.pid)
        ordered = sorted(latencies)
        print(f"overhead: direct p50 {statistics.median(direct):.2f} ms, endpoint p50 {statistics.median(via):.2f} ms "
              f"(+{statistics.median(via) - statistics.median(direct):.2f} ms per query)")
        print(f"{args.clients} clients × {elapsed:.0f} s: {len(latencies)} ok, {len(errors)} errors, "
              f"{len(latencies) / elapsed:.1f} req/s, p50 {statistics.median(ordered):.1f} ms, "
              f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:.1f} ms; server RSS {rss_before:.0f} → {rss_after:.0f} MB")
        if errors:
            print("errors:", sorted(set(errors))[:5])
    finally:
        server.terminate()
        server.wait(20)


if __name__ == "__main__":
    main()
