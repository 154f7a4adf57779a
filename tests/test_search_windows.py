"""Sentence windows: which passages get them, and how they change a passage's dense score."""

from __future__ import annotations

import numpy as np
import pytest

from regiograph.settings import Settings
from search.api import Searcher, load_searcher
from search.windows import WINDOW_WEIGHT, best_window_scores, build_windows, mix_scores, sentence_windows


@pytest.fixture(scope="module")
def searcher(seed_settings: Settings) -> Searcher:
    return load_searcher(seed_settings)


def test_windows_of_a_prose_passage() -> None:
    text = (
        "The region runs taster sessions for small firms. Thirty-one sessions were held in 2019. "
        "Each one introduced a method of innovation management. Firms then chose a coach."
    )
    windows = sentence_windows(text)
    assert windows == [
        "The region runs taster sessions for small firms.",
        "Thirty-one sessions were held in 2019.",
        "Each one introduced a method of innovation management.",
        "Firms then chose a coach.",
    ]


def test_one_sentence_passages_get_no_windows() -> None:
    assert sentence_windows("One sentence only.") == []
    assert sentence_windows("Heading\n\nThe only sentence of the passage.") == []


def test_headings_and_list_markers_join_their_sentence() -> None:
    windows = sentence_windows("Blockers\n\n- Language and culture can be a barrier.\n- Lack of staff time for it.")
    assert windows[0].startswith("Blockers")
    assert all(len(w.split()) >= 3 for w in windows)


def test_headings_without_punctuation_are_sentences_of_their_own() -> None:
    # a web page's heading and subtitle, then the paragraph: no full stop until its end
    text = (
        "Wavecare, Danish SME participant\n\n\n\nFrom oldies to goldies\n\n"
        "Cluster support transforming the challenge of an aging society into a business opportunity\n\n"
        "Building on initial connections established in 2012 through a network, three clusters teamed up "
        "with a French cluster to turn the challenge of an aging society into a business opportunity."
    )
    windows = sentence_windows(text)
    assert windows[2] == "Cluster support transforming the challenge of an aging society into a business opportunity"
    assert len(windows) == 4 and windows[3].startswith("Building on")


def test_wrapped_lines_of_a_paragraph_stay_one_sentence() -> None:
    # PDF-to-text output: a blank line after every line, a wrapped line before a capital
    text = (
        "The main goals of the workshop were to validate the pre-final results of the study, to provide a \n\n"
        "platform for the exchange of views on related issues among the European \n\n"
        "Commission and experts and to develop recommendations for policy makers. \n\n"
        "4.1 Initiatives of the European Commission \n\n"
        "The session was started with an overview."
    )
    assert sentence_windows(text) == [
        "The main goals of the workshop were to validate the pre-final results of the study, to provide a platform "
        "for the exchange of views on related issues among the European Commission and experts and to develop "
        "recommendations for policy makers.",
        "4.1 Initiatives of the European Commission",
        "The session was started with an overview.",
    ]


def test_lettered_items_of_a_figure_are_points_of_their_own() -> None:
    text = (
        "Figure 3: Importance of various barriers \n\na. Cultural differences: understanding \n\n"
        "different needs of customers.  \n\nb.Lack of staff time for it \n\ne.g. in small firms"
    )
    assert sentence_windows(text) == [
        "Figure 3: Importance of various barriers",
        "a. Cultural differences: understanding different needs of customers.",
        "b.Lack of staff time for it e.g. in small firms",
    ]


def test_rows_of_a_table_are_not_sentences() -> None:
    table = "CALLS 2013-2015\n\n\t2013\t2014\t2015\nFunding partners\t6 partners\t8 partners\t6 partners\nTotal budget (EUR)\t1.2M\t1.5M\t1.3M"
    assert sentence_windows(table) == []


def test_only_eligible_rows_are_windowed() -> None:
    prose = "First point is made here. Second point is made here. Third point is made here."
    windows = build_windows([prose, prose, "x"], np.array([True, False, True]))
    assert list(windows.start) == [0, 3, 3, 3]
    assert len(windows.texts) == 3


def test_mix_takes_the_best_window() -> None:
    start = np.array([0, 2, 2, 5])  # row 0: windows 0-1, row 1: none, row 2: windows 2-4
    vectors = np.eye(5, 3, dtype=np.float32)
    query = np.array([0.0, 0.0, 1.0], dtype=np.float32)  # matches window 2 only
    mixed = mix_scores(np.array([0.1, 0.2, 0.3]), np.array([2, 0, 1]), vectors, start, query)
    assert np.allclose(mixed, [(1 - WINDOW_WEIGHT) * 0.1 + WINDOW_WEIGHT * 1.0, (1 - WINDOW_WEIGHT) * 0.2, 0.3])


def test_best_window_scores_are_nan_without_windows() -> None:
    start = np.array([0, 2, 2, 5])
    vectors = np.eye(5, 3, dtype=np.float32) * np.array([[0.5], [0.25], [1.0], [0.0], [0.0]], dtype=np.float32)
    query = np.array([1.0, 1.0, 1.0], dtype=np.float32)
    best = best_window_scores(np.array([2, 1, 0, 2]), vectors, start, query)
    assert np.allclose(best[[0, 2, 3]], [1.0, 0.5, 1.0]) and np.isnan(best[1])


def test_seed_index_has_windows_for_reports_only(searcher: Searcher) -> None:
    index = searcher.index
    assert index.window_vectors is not None and index.window_start is not None
    counts = np.diff(index.window_start)
    assert counts.sum() == len(index.window_vectors) > len(index.table) // 2
    assert not counts[np.asarray(index.table.operation, dtype=bool)].any()
    norms = np.linalg.norm(np.asarray(index.window_vectors[:20]), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-3)


def test_seed_index_lowers_hubs(searcher: Searcher) -> None:
    """Each passage's hubness is stored, centred within its language, and lowers its dense score."""
    from search.hubness import WEIGHT

    index = searcher.index
    assert index.hubness is not None and len(index.hubness) == len(index.table)
    for lang in np.unique(index.table.lang_idx):
        assert abs(float(index.hubness[index.table.lang_idx == lang].mean())) < 1e-4
    rows = np.arange(len(index.table))
    qvec = searcher.query_vector("support for small firms going abroad")
    with_hubs = searcher._passage_scores(qvec, rows)
    hubness, index.hubness = index.hubness, None
    try:
        without = searcher._passage_scores(qvec, rows)
    finally:
        index.hubness = hubness
    assert np.allclose(without - with_hubs, WEIGHT * hubness)
