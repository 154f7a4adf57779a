"""Search quality on the seeds, as a regression floor: the 117 hand-written questions of
``bench/queries_*.json`` (six languages, most asking in one language about a passage in another)
ranked by the real pipeline. docs/benchmarks.md has the figures (MRR@10 0.896 on 3 Dec); the
floor leaves room for a few rank swaps between CPUs, not for a lost signal (without the
re-ranker the same questions score 0.751)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from regiograph.settings import Settings, load_settings
from search.api import Searcher, load_searcher
from search.quality import evaluate, load_questions, relevant_rows
from tests.conftest import REPO

SETS = ("queries_multilingual", "queries_heldout", "queries_same_language", "queries_heldout_dec", "queries_danish_source", "queries_keywords")


@pytest.fixture(scope="module")
def searcher(seed_settings: Settings) -> Searcher:
    return load_searcher(seed_settings)


def test_the_117_questions_keep_their_mrr(searcher: Searcher) -> None:
    questions = load_questions([REPO / "bench" / f"{name}.json" for name in SETS])
    assert len(questions) == 117
    missing: list[str] = []
    relevant = relevant_rows(searcher, questions, lambda q, rel: missing.append(f"{q['id']}: {rel['contains']!r}"))
    assert not missing, missing  # every judged answer is held by a seed passage
    result = evaluate(searcher, questions, relevant)
    assert result["mrr@10"] >= 0.88, result
    assert min(result["per_language"].values()) >= 0.75, result["per_language"]


def test_over_the_token_budget_each_search_computes_the_states_and_the_mrr_holds(searcher: Searcher, seed_settings: Settings, tmp_path: Path) -> None:
    """A corpus over REGIOGRAPH_RERANK_TOKENS keeps no token states, only their basis; each
    search computes its candidates' states as it runs (late.OnDemandTokenStates), and the 117
    questions rank as with stored states. With REGIOGRAPH_RERANK_ON_DEMAND off, the best
    sentences alone re-rank and the same questions fall (0.759 against 0.873 on all 326,
    docs/benchmarks.md). The computed states go to the data directory's vector cache: the next
    process reads them back instead of encoding them again, and ranks the same."""
    import sqlite3

    from ingest.pipeline import reindex
    from kg.store import DataDir
    from search.late import OnDemandTokenStates, cache_name
    from search.vector_cache import VectorCache

    copy = tmp_path / "data"
    shutil.copytree(seed_settings.data_dir, copy, ignore=shutil.ignore_patterns("write.lock"))
    small = load_settings(environ={"REGIOGRAPH_RERANK_TOKENS": "1000"}, data_dir=copy)
    report = reindex(small)
    folder = DataDir(copy).index_dir(report.generation)
    assert folder is not None and not (folder / "tokens.npy").exists() and (folder / "token_basis.npy").exists()
    # a corpus that was never under the budget has no token states in its cache: take them out
    states_name = cache_name(np.load(folder / "token_basis.npy"))
    with sqlite3.connect(copy / "cache" / "vectors.sqlite") as db:
        assert db.execute("DELETE FROM vectors WHERE model = ?", (states_name,)).rowcount > 0
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    assert meta["token_states"] == 0 and meta["token_states_on_demand"] and "REGIOGRAPH_RERANK_ON_DEMAND" in meta["token_states_note"]
    lazy = load_searcher(small)
    assert isinstance(lazy.token_states, OnDemandTokenStates) and lazy.index.reference is not None
    off = Searcher(lazy.index, lazy.embedder, lazy.store, on_demand=False)
    assert off.token_states is None
    assert load_searcher(small.with_overrides(rerank_on_demand=False)).token_states is None

    questions = load_questions([REPO / "bench" / f"{name}.json" for name in SETS])
    relevant = relevant_rows(lazy, questions)
    assert relevant == relevant_rows(searcher, questions)  # the same rows in both indexes
    same = sum([r for r, _ in lazy.rank(q["query"], 10)] == [r for r, _ in searcher.rank(q["query"], 10)] for q in questions)
    assert same >= 0.85 * len(questions), same  # 110 of 117 here: the stored states come from the embedder's run, equal to ~1/127
    stored, computed, sentences = (evaluate(s, questions, relevant)["mrr@10"] for s in (searcher, lazy, off))
    assert abs(computed - stored) <= 0.01, (computed, stored)
    assert sentences <= computed - 0.05, (sentences, computed)
    assert 0 < lazy.token_states.encoded <= len(lazy.index.table)  # each passage once at most
    assert lazy.token_states.read == 0

    with VectorCache(copy / "cache" / "vectors.sqlite") as cache:
        assert cache.count(states_name) == lazy.token_states.encoded
        later = Searcher(lazy.index, lazy.embedder, lazy.store, states_cache=cache)  # the next process
        assert all([r for r, _ in later.rank(q["query"], 10)] == [r for r, _ in lazy.rank(q["query"], 10)] for q in questions)
        assert isinstance(later.token_states, OnDemandTokenStates)
        assert later.token_states.encoded == 0 and later.token_states.read > 0
