"""Fusion of ranked lists and graph-aware signals: pure functions, no index or model access.

Dense and lexical scores live on different scales (cosine vs BM25), so channels are fused by
reciprocal rank (RRF, weighted per channel); entities named in the query add a graph channel
(passages that mention them, ranked by the dense score) and a bonus per matched entity.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

RRF_K = 60

_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9&-]{1,9}\b")


def rrf(rankings: Mapping[str, Sequence[int]], weights: Mapping[str, float] | None = None, k: int = RRF_K) -> dict[int, float]:
    """Weighted reciprocal-rank fusion: id → Σ_channel weight / (k + rank), ranks from 1."""
    fused: dict[int, float] = {}
    for name, ranking in rankings.items():
        w = 1.0 if weights is None else weights.get(name, 1.0)
        if w == 0:
            continue
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + w / (k + rank)
    return fused


def add_bonus(scores: dict[int, float], bonus: Mapping[int, float]) -> dict[int, float]:
    """Scores plus a bonus for the ids that have one (only ids already ranked)."""
    return {i: s + bonus.get(i, 0.0) for i, s in scores.items()}


def entity_bonus(
    candidates: Iterable[int],
    entities_of: Callable[[int], set[str]],
    matched: Mapping[str, float],
    weight: float,
) -> dict[int, float]:
    """A bonus for each candidate: ``weight`` × Σ weights of the query's entities it is linked to."""
    out: dict[int, float] = {}
    if not matched:
        return out
    for c in candidates:
        linked = entities_of(c)
        total = sum(w for iri, w in matched.items() if iri in linked)
        if total:
            out[c] = weight * total
    return out


def ranked(scores: Mapping[int, float]) -> list[tuple[int, float]]:
    """(id, score) best first; ties broken by id for a stable order."""
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def dedup(items: Sequence[tuple[int, float]], group_of: Callable[[int], int]) -> list[tuple[int, float]]:
    """Keep the best item of each group of near-identical passages."""
    seen: set[int] = set()
    out = []
    for item, score in items:
        g = group_of(item)
        if g in seen:
            continue
        seen.add(g)
        out.append((item, score))
    return out


def query_ngrams(normalised_words: Sequence[str], max_len: int = 6) -> list[tuple[int, int, str]]:
    """Every n-gram (start, end, text) of up to ``max_len`` words, longest first."""
    out = []
    n = len(normalised_words)
    for size in range(min(max_len, n), 0, -1):
        for start in range(0, n - size + 1):
            out.append((start, start + size, " ".join(normalised_words[start : start + size])))
    return out


def match_entities(
    query: str,
    normalised_words: Sequence[str],
    aliases: Mapping[str, Sequence[str]],
    common_words: set[str],
    stemmed: tuple[Sequence[str], Mapping[str, Sequence[str]]] | None = None,
) -> list[tuple[str, str]]:
    """Entities named in the query: (IRI, the alias matched), longest non-overlapping matches first.

    ``stemmed``: the query's words and the aliases, both stemmed in the query's language: after
    every match as written, the words left are matched once more on their stems, so that an
    inflected label still counts ("visites d'étude" → "visite d'étude", "studiebesøget" →
    "studiebesøg").
    A short alias (≤ 3 letters) counts only when the query writes it as an acronym (``EIS``);
    an alias that is a common word of some language never counts alone.
    """
    acronyms = {a.casefold() for a in _ACRONYM.findall(query)}
    taken = [False] * len(normalised_words)
    out: list[tuple[str, str]] = []
    passes = [(list(normalised_words), aliases)] + ([(list(stemmed[0]), stemmed[1])] if stemmed is not None else [])
    for keys, table in passes:
        for start, end, key in query_ngrams(keys):
            iris = table.get(key)
            if not iris or any(taken[start:end]):
                continue
            text = " ".join(normalised_words[start:end])
            if end - start == 1 and (text in common_words or (len(text) <= 3 and text not in acronyms)):
                continue
            if len(text) < 2:
                continue
            for i in range(start, end):
                taken[i] = True
            out.extend((iri, text) for iri in iris)
    return out
