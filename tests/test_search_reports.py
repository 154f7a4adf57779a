"""Report passages among thousands of records: the dense channel over the documents' passages
alone (``Searcher._dense_reports``), on the seeds with the two real Danish lists of operations
(705 one-line records) beside them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from regiograph.settings import Settings, load_settings
from search import api, late
from search.api import Filters, Searcher, load_searcher
from search.facets import allowed_mask
from search.quality import evaluate, load_questions, relevant_rows
from tests.conftest import OPERATIONS, REPO

BENCH = REPO / "bench"


@pytest.fixture(scope="module")
def mixed(seed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    """The seeds and the Danish lists in one data directory (the seeds' vectors from their cache)."""
    from ingest.pipeline import ingest

    lists = OPERATIONS / "dk"
    if not lists.is_dir():
        pytest.skip("../shared/corpus/eu-operations is not present")
    data = tmp_path_factory.mktemp("seeds-and-dk")
    shutil.copytree(Path(seed_settings.data_dir) / "cache", data / "cache")
    settings = load_settings(environ={}, data_dir=data)
    report = ingest([REPO.parent / "shared" / "corpus" / "seeds", lists], settings)
    assert not report.failed, [f.reason for f in report.failed]
    return load_searcher(settings)


def _mrr(searcher: Searcher, names: list[str]) -> dict:  # type: ignore[type-arg]
    questions = load_questions([BENCH / f"queries_{name}.json" for name in names])
    return evaluate(searcher, questions, relevant_rows(searcher, questions))


def test_keyword_queries_find_report_passages_among_records(mixed: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three defences against records crowding the report passages out, each enough here alone:
    the report channel (the answers reach the fused list), a re-ranker that reads past records
    (search/late.py ``head_size``: the answers reach its judgement), and the passages with the
    closest sentences joining the re-ranker (``Searcher._best_by_sentence``)."""
    assert int(np.asarray(mixed.index.table.operation).sum()) > 500
    both = _mrr(mixed, ["keywords"])
    assert both["mrr@10"] >= 0.85, both  # measured 0.931

    def score(channel: float, reads_past_records: bool, joins_by_sentence: bool) -> float:
        monkeypatch.setitem(api.WEIGHTS, "reports", channel)
        if not reads_past_records:
            monkeypatch.setattr(late, "head_size", lambda items, states: min(late.DEPTH, len(items)))
        if not joins_by_sentence:
            monkeypatch.setattr(api, "SENTENCE_JOIN", 0)
        mixed._queries = api._LRU()
        result = _mrr(mixed, ["keywords"])
        monkeypatch.undo()
        return float(result["mrr@10"])

    assert score(1.0, False, False) >= 0.85  # the channel alone: measured 0.917
    assert score(0.0, True, False) >= 0.85  # the re-ranker's reading alone: measured 0.917
    assert score(0.0, False, True) >= 0.80  # the sentence join alone: measured 0.842
    # none: the records crowd the answers out of the dense channel's first 100
    assert score(0.0, False, False) <= both["mrr@10"] - 0.15  # measured 0.583


def test_every_judged_question_holds_beside_the_records(mixed: Searcher) -> None:
    # the seven sets the floor was measured on (bench/queries_phrases.json, 12 short concept
    # queries, is scored by bench/search_eval.py: French 0.17–0.25 on it pulls French below it)
    names = ["multilingual", "heldout", "same_language", "heldout_dec", "danish_source", "keywords", "web_pages"]
    result = _mrr(mixed, names)
    assert result["queries"] == 132
    # all 132 questions of the seven sets: measured 0.898 (French 0.822); the 117 before the
    # web-page set was written: 0.902 (0.828 without the channel)
    assert result["mrr@10"] >= 0.87, result
    assert min(result["per_language"].values()) >= 0.78, result["per_language"]


def test_the_channel_runs_only_where_records_and_reports_compete(mixed: Searcher, seed_settings: Settings) -> None:
    seeds = load_searcher(seed_settings)
    qvec = seeds.query_vector("taster sessions for SMEs")
    assert seeds._dense_reports(qvec, 10, None, *seeds._calibrated(qvec, 10, None)) is None  # no records at all

    table = mixed.index.table
    operation = np.asarray(table.operation, dtype=bool)
    qvec = mixed.query_vector("taster sessions for SMEs")
    found = mixed._dense_reports(qvec, 100, None, *mixed._calibrated(qvec, 100, None))
    assert found is not None and len(found) == 100 and not operation[found].any()
    # the same order as the calibrated dense channel restricted to reports
    ids, calibrated = mixed._calibrated(qvec, 100, ~operation)
    assert found.tolist() == api._top(ids, calibrated, 100).tolist()

    # a filter to one kind leaves a single list to rank: the dense channel is that list
    allowed = allowed_mask(table, Filters(langs=["da"]))
    assert allowed is not None and (operation & allowed).any() and (~operation & allowed).any()
    within = mixed._dense_reports(qvec, 100, allowed, *mixed._calibrated(qvec, 100, allowed))
    assert within is not None and set(within.tolist()) <= set(np.flatnonzero(allowed & ~operation).tolist())
    only_records = operation.copy()
    assert mixed._dense_reports(qvec, 100, only_records, *mixed._calibrated(qvec, 100, only_records)) is None
