"""Search quality on the seeds, as a regression floor: the 117 hand-written questions of
``bench/queries_*.json`` (six languages, most asking in one language about a passage in another)
ranked by the real pipeline. docs/benchmarks.md has the figures (MRR@10 0.896 on 3 Dec); the
floor leaves room for a few rank swaps between CPUs, not for a lost signal (without the
re-ranker the same questions score 0.751)."""

from __future__ import annotations

import pytest

from regiograph.settings import Settings
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
