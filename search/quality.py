"""Search quality against judged questions (``bench/queries_*.json``): which passages answer each
question, and MRR@10 / recall@10 overall and per language, through :meth:`Searcher.rank`.

A question names its answers by source file and a distinctive substring, so the judgements
survive a change of passage splitting. Used by ``bench/search_eval.py`` and the quality floor in
``tests/test_search_quality.py``.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from search.api import Searcher

Question = dict[str, Any]


def load_questions(paths: Sequence[Path]) -> list[Question]:
    """The questions of one file as written, or of several with ids prefixed by their file's stem."""
    out: list[Question] = []
    for path in paths:
        questions = json.loads(path.read_text(encoding="utf-8"))["queries"]
        out += questions if len(paths) == 1 else [{**q, "id": f"{path.stem}/{q['id']}"} for q in questions]
    return out


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def relevant_rows(
    searcher: Searcher, questions: Sequence[Question], on_missing: Callable[[Question, dict[str, str]], None] | None = None
) -> dict[str, set[int]]:
    """Question id → index rows of the passages that answer it; ``on_missing`` hears of each
    judged answer that no passage holds."""
    from kg.queries import all_passages

    assert searcher.store is not None, "judging needs the passages' texts: load the searcher with its store"
    row_of = {iri: i for i, iri in enumerate(searcher.index.table.iris)}
    passages = [(row_of[p.iri], p.source, _norm(p.text)) for p in all_passages(searcher.store) if p.iri in row_of]
    out: dict[str, set[int]] = {}
    for q in questions:
        rows: set[int] = set()
        for rel in q["relevant"]:
            found = {row for row, source, text in passages if source == rel["source"] and _norm(rel["contains"]) in text}
            if not found and on_missing is not None:
                on_missing(q, rel)
            rows |= found
        out[q["id"]] = rows
    return out


def reciprocal_rank(ranked: Sequence[Hashable], relevant: Collection[Hashable]) -> float:
    """1 / the rank of the first relevant item (a row, an IRI) in ``ranked``, 0 when none is there."""
    return next((1.0 / (i + 1) for i, row in enumerate(ranked) if row in relevant), 0.0)


def evaluate(searcher: Searcher, questions: Sequence[Question], relevant: dict[str, set[int]], k: int = 10) -> dict[str, Any]:
    """MRR@k overall and per language, recall@k, median latency, the questions not answered first,
    and those whose language the searcher misread (``language_misread``; none for a ranker that
    detects no language)."""
    per_lang: dict[str, list[float]] = defaultdict(list)
    recall: list[float] = []
    latencies = []
    misses = []
    for q in questions:
        started = time.perf_counter()
        ranked = [row for row, _ in searcher.rank(q["query"], k)]
        latencies.append((time.perf_counter() - started) * 1000)
        rel = relevant[q["id"]]
        rr = reciprocal_rank(ranked, rel)
        per_lang[q["lang"]].append(rr)
        recall.append(len(rel & set(ranked)) / len(rel) if rel else 0.0)
        if rr < 1.0:
            misses.append((q["id"], rr))
    all_rr = [x for v in per_lang.values() for x in v]
    return {
        "mrr@10": round(sum(all_rr) / len(all_rr), 3),
        "per_language": {lang: round(sum(v) / len(v), 3) for lang, v in sorted(per_lang.items())},
        "recall@10": round(sum(recall) / len(recall), 3),
        "queries": len(all_rr),
        "latency_ms_p50": round(sorted(latencies)[len(latencies) // 2], 1),
        "not_first": misses,
        "language_misread": _misread(searcher, questions),
    }


def _misread(searcher: Any, questions: Sequence[Question]) -> list[str]:
    """Ids of the questions whose language the searcher takes for another ([] for a ranker without detection)."""
    detect = getattr(searcher, "query_language", None)
    return [] if detect is None else [q["id"] for q in questions if detect(q["query"]) != q["lang"]]


class SimilarityRanker:
    """Every passage ranked by ``rg:similar``'s score alone (:meth:`Searcher.similarity`), for
    :func:`evaluate`: how researchers' SPARQL that orders by it fares on the judged questions."""

    def __init__(self, searcher: Searcher) -> None:
        from kg.queries import all_passages

        if searcher.store is None:
            raise ValueError("the searcher has no store to read the passages' texts from")
        self.searcher = searcher
        texts = {p.iri: p.text for p in all_passages(searcher.store)}
        self.rows = [(row, texts[iri]) for row, iri in enumerate(searcher.index.table.iris) if iri in texts]

    def rank(self, query: str, k: int = 10) -> list[tuple[int, float]]:
        """The ``k`` passages of highest similarity to ``query``, best first."""
        scored = [(row, self.searcher.similarity(text, query)) for row, text in self.rows]
        return sorted(scored, key=lambda item: -item[1])[:k]
