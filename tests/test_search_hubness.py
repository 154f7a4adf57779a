"""Hubness scores (search/hubness.py) on small constructed vector sets."""

from __future__ import annotations

import numpy as np

from search.hubness import hub_scores


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_a_passage_near_everything_scores_highest() -> None:
    rng = np.random.default_rng(1)
    centre = np.eye(1, 16)  # passages scattered around one direction; the hub lies on it
    vectors = _unit(np.vstack([centre + rng.normal(size=(200, 16)) * 0.5, centre]))
    scores = hub_scores(vectors, np.zeros(201, dtype=np.int64), k=30, sample=100)
    assert int(np.argmax(scores)) == 200


def test_scores_are_centred_per_language_and_ignore_self() -> None:
    rng = np.random.default_rng(2)
    vectors = _unit(rng.normal(size=(60, 8)))
    lang = np.repeat([0, 1, 2], 20)
    scores = hub_scores(vectors, lang, k=5, sample=60)
    for code in range(3):
        assert abs(float(scores[lang == code].mean())) < 1e-6
    twins = _unit(np.vstack([vectors, vectors[:1]]))  # a passage and its exact copy
    raw = hub_scores(twins, np.zeros(61, dtype=np.int64), k=1, sample=61)
    assert raw[0] == raw[60] and np.isfinite(raw).all()  # each sees the other, not itself


def test_tiny_corpora_get_no_correction() -> None:
    assert hub_scores(_unit(np.ones((1, 4))), np.zeros(1, dtype=np.int64)).tolist() == [0.0]
    assert hub_scores(np.zeros((0, 4), dtype=np.float32), np.zeros(0, dtype=np.int64)).tolist() == []
