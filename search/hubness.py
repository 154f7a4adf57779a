"""Hubness: passages that lie close to everything, and the correction for them.

In a large corpus mixing languages and genres, some passages, typically short records such as
the one-line title of a funded project, are among the nearest neighbours of almost any query in
any language: the "hubness" of high-dimensional embeddings. Measured here: with the 11k operations
ingested beside the seeds, French questions about an English report found Dutch operation
titles first (French MRR@10 0.45; docs/benchmarks.md).

CSLS (cross-domain similarity local scaling, Conneau et al. 2018, made for cross-lingual
retrieval) ranks by ``2·cos(q, p) − r(q) − r(p)``, where ``r(p)`` is p's mean similarity to its
``k`` nearest neighbours; for one query that orders passages as ``cos(q, p) − ½·r(p)``. Here
``r(p)`` is measured against a fixed random sample of the corpus's own passages (``p`` itself
excluded) and centred within each passage language, since the search compares scores within a
language anyway (search/api.py).
"""

from __future__ import annotations

import numpy as np

#: Neighbours averaged per passage, passages in the reference sample, and the weight of r(p).
K = 30
SAMPLE = 2000
WEIGHT = 0.5


def hub_scores(vectors: np.ndarray, lang_idx: np.ndarray, k: int = K, sample: int = SAMPLE, seed: int = 0, chunk: int = 8192) -> np.ndarray:
    """r(p) for every row of ``vectors`` (unit length), centred per language; zeros for tiny corpora."""
    n = len(vectors)
    out = np.zeros(n, dtype=np.float32)
    m = min(sample, n)
    k = min(k, m - 1)
    if k < 1:
        return out
    ref_rows = np.sort(np.random.default_rng(seed).choice(n, size=m, replace=False))
    ref = np.ascontiguousarray(vectors[ref_rows], dtype=np.float32)
    position = np.full(n, -1, dtype=np.int64)
    position[ref_rows] = np.arange(m)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        sims = np.asarray(vectors[start:stop], dtype=np.float32) @ ref.T
        own = position[start:stop]
        mine = np.flatnonzero(own >= 0)
        sims[mine, own[mine]] = -np.inf  # a passage is not its own neighbour
        out[start:stop] = np.partition(sims, m - k, axis=1)[:, m - k :].mean(axis=1)
    lang_idx = np.asarray(lang_idx)
    for lang in np.unique(lang_idx):
        mask = lang_idx == lang
        out[mask] -= out[mask].mean()
    return out
