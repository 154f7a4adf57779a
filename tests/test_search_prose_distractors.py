"""Prose in the question's language beside the seeds: the real project descriptions of the Danish
2014–2020 and the Swedish lists of operations, written out as 60 text documents
(bench/prose_distractors.py; 173 Danish and 476 Swedish passages with sentence vectors and token
states, beside the seeds' 241). The measured trap of a multilingual model in its hardest form: a
Danish or Swedish question meets paragraphs in its own language about regional business support."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from regiograph.settings import Settings, load_settings
from search import api
from search.api import Searcher, load_searcher
from search.quality import SimilarityRanker, evaluate, load_questions, relevant_rows
from tests.conftest import OPERATIONS, REPO, SEEDS

BENCH = REPO / "bench"
#: The judged sets the figures below were measured on (75 Danish and Swedish questions).
SETS = [
    "multilingual", "heldout", "same_language", "heldout_dec", "danish_source", "keywords", "web_pages", "phrases",
    "session12", "session13", "session13b", "answer_types",
]


@pytest.fixture(scope="module")
def prose(seed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    """The seeds beside the Danish and Swedish descriptions as documents (the seeds' vectors from their cache)."""
    from ingest.pipeline import ingest

    if not (OPERATIONS / "dk").is_dir() or not (OPERATIONS / "se").is_dir():
        pytest.skip("../shared/corpus/eu-operations is not present")
    sys.path.insert(0, str(BENCH))
    from prose_distractors import write_documents

    documents = tmp_path_factory.mktemp("prose-documents")
    written = write_documents(OPERATIONS / "dk" / "ERDF_Denmark_2014-2020.csv", documents)
    written += write_documents(OPERATIONS / "se", documents)
    assert len(written) == 60
    data = tmp_path_factory.mktemp("seeds-and-prose")
    shutil.copytree(Path(seed_settings.data_dir) / "cache", data / "cache")
    settings = load_settings(environ={}, data_dir=data)
    report = ingest([SEEDS, documents], settings)
    assert not report.failed, [f.reason for f in report.failed]
    return load_searcher(settings)


def _danish_and_swedish(searcher: Searcher) -> dict:  # type: ignore[type-arg]
    questions = [q for q in load_questions([BENCH / f"queries_{name}.json" for name in SETS]) if q["lang"] in ("da", "sv")]
    searcher._queries = api._LRU()
    return evaluate(searcher, questions, relevant_rows(searcher, questions))


def test_danish_and_swedish_questions_hold_beside_prose_in_their_language(prose: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    table = prose.index.table
    langs = [table.lang(i) for i in range(len(table))]
    assert langs.count("sv") > 400 and langs.count("da") > 150
    result = _danish_and_swedish(prose)
    assert result["queries"] == 75
    # measured 0.831 (da 0.886, sv 0.772); the code before the dense channel's mean shift, the
    # calibrated sentences and the doubled head start: 0.702 (da 0.744, sv 0.656)
    assert result["mrr@10"] >= 0.80, result
    # every candidate's token term at full weight, as before the own-language share: measured 0.797
    monkeypatch.setattr(prose, "own_language_share", 1.0)
    full_weight = _danish_and_swedish(prose)
    assert full_weight["mrr@10"] <= result["mrr@10"] - 0.02, (full_weight, result)
    # and the language reference's head start taken off once, as before session 16: measured 0.765
    monkeypatch.setattr(api, "HEAD_START_WEIGHT", 1.0)
    once = _danish_and_swedish(prose)
    assert once["mrr@10"] <= full_weight["mrr@10"] - 0.015, (once, full_weight)


def test_the_dense_calibration_shifts_each_language_and_keeps_its_spread(prose: Searcher) -> None:
    """Only each language's mean is taken off: a language whose passages are all alike (many
    project descriptions of one list) keeps its narrow spread, and its best passage is not lifted
    over a better answer in another language as a z-score lifts it."""
    qvec = prose.query_vector("Hvordan hjælper regioner små virksomheder med at eksportere?")
    ids, calibrated = prose._calibrated(qvec, 100, None)
    index = prose.index
    raw = prose._passage_scores(qvec, ids, np.asarray(index.dense.vectors @ qvec))
    lang_idx = np.asarray(index.table.lang_idx)[ids]
    for code in ("da", "sv", "en"):
        mine = lang_idx == index.table.langs.index(code)
        shift = raw[mine] - calibrated[mine]
        assert np.allclose(shift, shift[0])  # one shift for the whole language
        assert np.isclose(calibrated[mine].std(), raw[mine].std())
        # the shift is the language's mean, pulled a little towards the global one
        assert abs(shift[0] - raw[mine].mean()) < abs(raw[mine].mean() - raw.mean()) + 1e-9
    assert abs(float(calibrated[lang_idx == index.table.langs.index("sv")].mean())) < 0.02


def test_sentences_compete_less_their_languages_mean(prose: Searcher) -> None:
    """The passages whose best sentence lies closest to a Swedish question, joined to the
    re-ranker, are not all Swedish project descriptions, as by raw cosines they are."""
    qvec = prose.query_vector("Vilka vägar finns för små företag att flytta forskning och utveckling utomlands?")
    scored = prose._sentence_scores(qvec)
    assert scored is not None
    rows, best, means = scored
    table = prose.index.table
    lang_idx = np.asarray(table.lang_idx)
    sv = table.langs.index("sv")
    raw_top = rows[np.argsort(-best)[: api.SENTENCE_JOIN]]
    assert all(lang_idx[r] == sv for r in raw_top)  # the trap, measured
    joined = prose._best_by_sentence(qvec, None, set())
    assert len(joined) == api.SENTENCE_JOIN
    assert sum(lang_idx[r] != sv for r in joined) >= 3, [table.lang(r) for r in joined]  # measured 4 of 8: en, da
    assert means[sv] > means[table.langs.index("en")]  # Swedish sentences lie closer to a Swedish question on the whole


def test_rg_similar_compares_across_languages_without_their_directions(prose: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """rg:similar has no candidates to calibrate against: its cosine is measured without the
    directions in which the languages' offsets differ, so Danish and Swedish questions reach
    their English answers past prose in their own language more often."""
    questions = [q for q in load_questions([BENCH / f"queries_{name}.json" for name in SETS]) if q["lang"] in ("da", "sv")]
    relevant = relevant_rows(prose, questions)
    assert prose.index.language_directions.shape[0] >= 5  # the labels' ten languages span nine
    across = evaluate(SimilarityRanker(prose), questions, relevant)["mrr@10"]
    monkeypatch.setattr(prose, "similar_across_languages", False)
    plain = evaluate(SimilarityRanker(prose), questions, relevant)["mrr@10"]
    # measured 0.501 against 0.477 for the plain cosine of the centred vectors
    assert across >= plain + 0.015, (across, plain)
