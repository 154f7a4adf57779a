"""Concurrent search load (in-process API, 8 threads by default): throughput, p50/p95, errors, RSS.

    .venv/bin/python bench/search_load.py --data DIR --clients 8 --seconds 60
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUERIES = [
    "how do other regions help SMEs export?",
    "hvordan hjælper regionerne små virksomheder med eksport?",
    "Wie unterstützen Cluster die Internationalisierung von KMU?",
    "comment les régions aident-elles les PME à exporter ?",
    "matchmaking events for clusters in the Baltic Sea Region",
    "studiebesök och matchmaking för små företag",
    "innovatie workshops voor het mkb in Vlaanderen",
    "peer review of business support Donegal",
]


def run(data: Path, clients: int, seconds: float) -> dict[str, float]:
    """Run the load; returns the figures."""
    from regiograph.settings import load_settings
    from search.api import load_searcher

    searcher = load_searcher(load_settings(environ={}, data_dir=data))
    searcher.search(QUERIES[0], k=10)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        i = n
        while time.monotonic() < stop:
            q = QUERIES[i % len(QUERIES)] + ("" if i < len(QUERIES) else f" {i % 97}")
            i += clients
            started = time.perf_counter()
            try:
                hits = searcher.search(q, k=10)
                assert hits, q
            except Exception as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat = sorted(latencies)
    return {
        "requests": len(lat),
        "errors": len(errors),
        "req_per_s": len(lat) / seconds,
        "p50_ms": statistics.median(lat) if lat else float("nan"),
        "p95_ms": lat[int(0.95 * (len(lat) - 1))] if lat else float("nan"),
        "rss_before_mb": rss_before,
        "rss_after_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    figures = run(args.data, args.clients, args.seconds)
    for key, value in figures.items():
        print(f"{key:<14}{value:.1f}" if isinstance(value, float) else f"{key:<14}{value}")


if __name__ == "__main__":
    main()
