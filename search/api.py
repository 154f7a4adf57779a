"""Multilingual hybrid search over a generation: passages, practices, facets and ``rg:similar``.

A :class:`Searcher` is loaded once per (data directory, generation): read-only and thread-safe,
so the app can keep it in ``st.cache_resource``. A query is embedded (e5 ``query:`` role), its
language detected and removed (language centring), and ranked by three channels fused by RRF:
dense (FAISS), lexical (BM25 over the query plus the multilingual labels of entities it names)
and graph (passages linked to those entities). Filters are masks applied inside each channel.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from kg.sparql_text import SIMILAR
from kg.store import DataDir, GraphStore
from regiograph.errors import IndexMismatchError, QueryError, StoreError
from regiograph.settings import Settings
from search import answer_types, late, ranking
from search.facets import Filters, allowed_mask, counts, resolve
from search.hubness import WEIGHT as HUB_WEIGHT
from search.index import SearchIndex, load_index, norm_label
from search.lexical import STEMMERS, stem
from search.reference import aligned

if TYPE_CHECKING:
    from search.vector_cache import VectorCache

__all__ = [
    "Filters", "PracticeHit", "QueryReading", "SearchHit", "Searcher", "load_searcher", "render_hits", "render_practices", "search",
    "similar_function",
    "sparql_functions",
]

#: Channel weights and depths (measured with bench/search_eval.py, see docs/benchmarks.md).
WEIGHTS = {"dense": 1.0, "lexical": 0.02, "graph": 0.1, "reports": 1.0}
#: Calibrate dense scores exactly over all passages up to this many (see Searcher._calibrated).
CALIBRATE_EXACT = 200_000
#: Report passages (not rows of lists of operations) kept in memory for the report channel above
#: CALIBRATE_EXACT (100k: 154 MB); above it, that channel uses the ANN index with a filter.
REPORTS_IN_MEMORY = 100_000
#: Pseudo-count pulling a small language's mean score towards the global one.
CALIBRATE_SHRINK = 50.0
#: How many times the language reference's head start (search/reference.py) is taken off a
#: re-ranking candidate's MaxSim: sentences about nothing in particular measure the gap between
#: languages on tokens that match no content; a question's content words match their own
#: language's words more closely still (measured with prose distractors, docs/benchmarks.md).
HEAD_START_WEIGHT = 2.0
DEPTH = 100
#: Passages whose best sentence matches the query best join the re-ranker's pool, this many
#: (measured plateau 5–12, docs/benchmarks.md), where the sentence vectors are at most
#: SENTENCE_JOIN_MAX (one product with all of them per query: ~10 ms at 200k).
SENTENCE_JOIN = 8
SENTENCE_JOIN_MAX = 200_000
#: Query language: trust the fast detector alone above this confidence; the sharpness of the
#: embedding's vote otherwise (see Searcher.query_language).
LANG_SURE = 0.9
LANG_TEMPERATURE = 50.0
#: Kinds of entity whose labels are matched in a query after stemming (None: a SKOS concept of a
#: scheme, such as a practice type, has no kind of its own).
CONCEPT_KINDS = frozenset({None, "Instrument"})
#: A practice type the query names (its label, on stems, in any language of the scheme) that none of
#: the first CONCEPT_ABSENT_FROM fused results is linked to: CONCEPT_JOIN of its passages (the
#: closest to the query by the dense score) join the re-ranker's pool, and every candidate linked
#: to it gets CONCEPT_BONUS standard units (measured, docs/benchmarks.md, session 19). A type
#: already among the first results adds nothing: "key performance indicators cluster
#: internationalisation" names a type as the context of what it asks.
CONCEPT_BONUS = 3.0
CONCEPT_JOIN = 3
CONCEPT_ABSENT_FROM = 3
#: Filters a named entity can become, in the order they are looked for (a region is also a value of
#: "entities", which is no filter).
READING_FACETS = ("practice_types", "instruments", "regions", "projects")
#: Seconds a search waits to write the token states it computed into the vector cache while
#: another process (an ingest) writes; past it the states stay in memory (search/late.py).
STATES_CACHE_WAIT = 2.0

log = logging.getLogger(__name__)


@dataclass
class SearchHit:
    """One ranked passage, with its provenance and the entities it mentions."""

    rank: int
    score: float
    text: str
    source: str
    document: str
    passage: str
    lang: str
    offsets: tuple[int, int]
    entities: list[dict[str, str]] = field(default_factory=list)
    heading: str | None = None
    project: str | None = None
    project_label: str | None = None
    region: str | None = None
    region_label: str | None = None
    fund: str | None = None
    fund_label: str | None = None
    year: int | None = None
    budget: float | None = None
    #: The passage's sentence closest to the query, as offsets into the document like
    #: ``offsets`` (None for a passage without sentence vectors: one sentence, a record).
    sentence: tuple[int, int] | None = None

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["offsets"] = list(self.offsets)
        out["sentence"] = list(self.sentence) if self.sentence else None
        out["score"] = round(self.score, 6)
        return out


@dataclass
class QueryReading:
    """How the search read a query: the language it took it for, the entities it names (the
    ranking expands the lexical query with their labels and adds a graph channel of the
    passages linked to them) and what it asks for. ``entities``: iri, label, kind ("Region",
    "Instrument", "PracticeType", …) and ``facet``, the filter that narrows a search to it
    ("" when none)."""

    lang: str
    entities: list[dict[str, str]] = field(default_factory=list)
    #: what it asks for, when it asks how to reach someone ("a phone number", "a web address";
    #: search/answer_types.py): the passages that hold one get a bonus
    asks: list[str] = field(default_factory=list)


@dataclass
class PracticeHit:
    """One ranked rg:Practice."""

    rank: int
    score: float
    iri: str
    label: str
    description: str
    practice_type: list[str]
    project: list[str]
    regions: list[str]
    passages: list[str]

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["score"] = round(self.score, 6)
        return out


class _LRU:
    """A small thread-safe LRU cache (per query: its vectors and its language)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = make()
        with self._lock:
            self._data[key] = value
            if len(self._data) > self.size:
                self._data.popitem(last=False)
        return value


class Searcher:
    """Search over one generation's index (and its store, for passage texts)."""

    def __init__(
        self,
        index: SearchIndex,
        embedder: Any,
        store: GraphStore | None = None,
        on_demand: bool = True,
        states_cache: VectorCache | None = None,
    ) -> None:
        """``on_demand``: for an index over its token budget (no stored token states, a basis
        kept), compute the re-ranker's token states of each search's candidates as it runs
        (late.OnDemandTokenStates; 1–2 s a search on 2 cores for passages not seen yet), kept
        in ``states_cache`` (the data directory's vector cache) for the next process; False
        re-ranks such an index by best sentences alone."""
        from search.embedders import check_same_model

        check_same_model(index.meta["model"], embedder)
        self.index = index
        self.embedder = embedder
        self.store = store
        self.token_states: late.TokenStates | late.OnDemandTokenStates | None = index.token_states
        if index.over_budget and on_demand and store is not None:
            assert index.token_basis is not None
            prose = ~np.asarray(index.table.operation, dtype=bool)
            self.token_states = late.OnDemandTokenStates(self._passage_text, prose, index.token_basis, cache=states_cache)
        self._queries = _LRU()
        self._texts = _LRU(4096)
        self._text_rows: dict[str, int] | None = None
        self._last_sample: tuple[bytes, np.ndarray, np.ndarray] | None = None
        self._last_sentences: tuple[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        self._reports: tuple[np.ndarray, np.ndarray] | None = None
        self._reports_read = False
        self._lookups = _LRU(64)  # per index, not per query: stemmed concept labels per language, facet values, …
        self._lock = threading.Lock()
        self.answer_bonus = answer_types.BONUS  # 0 turns the answer-type bonus off
        self.concept_bonus = CONCEPT_BONUS  # 0 turns the named practice type's bonus and join off
        self.token_weight = late.WEIGHT  # 0 turns the token-level re-ranking off (bench/search_eval.py --no-rerank)
        self.own_language_share = late.OWN_LANGUAGE_SHARE  # 1 weighs own-language token matches like the others
        self.similar_across_languages = True  # False: rg:similar is the plain cosine of the centred vectors
        common: set[str] = set()
        for lang in STEMMERS:
            common |= index.lexical.analyzer.stopwords(lang)
        self._common = common

    # --- query analysis ----------------------------------------------------------------------
    def query_language(self, query: str) -> str:
        """The query's language: the fast lingua detector, and where it is unsure (top confidence
        < ``LANG_SURE``) its confidences plus the model's own view — how close the query's
        embedding lies to each language's mean direction (the index's language offsets of the
        query role). Short queries fool the fast detector ("study visits for SME
        internationalisation" → fr 0.65, en 0.34); together they err less (bench/queries_multilingual.json
        + short queries: 5 → 2 errors of 49; all 144 judged questions and 18 short ones: 17 → 8
        errors of 162 once the vote used the query role's offsets and single words were detected)."""
        return self._queries.get(("lang", query), lambda: self._detect_language(query))  # type: ignore[no-any-return]

    def _detect_language(self, query: str) -> str:
        from ingest.language import query_confidences

        confidences = query_confidences(query)
        if not confidences:
            return "en"
        top = max(confidences, key=lambda c: confidences[c])
        offsets = self.index.query_lang_offsets or self.index.lang_offsets
        if confidences[top] >= LANG_SURE or not offsets:
            return top
        codes = sorted(offsets)
        directions = np.stack([offsets[c] / (np.linalg.norm(offsets[c]) or 1.0) for c in codes])
        sims = directions @ self._raw_vector(query)
        weights = np.exp((sims - sims.max()) * LANG_TEMPERATURE)
        weights /= weights.sum()
        combined = dict(confidences)
        for code, w in zip(codes, weights, strict=True):
            combined[code] = combined.get(code, 0.0) + float(w)
        return max(combined, key=lambda c: combined[c])

    def _raw_vector(self, query: str) -> np.ndarray:
        """The query embedding before language centring, cached per query string."""
        return self._queries.get(("raw", query), lambda: self._embed_query(query)[0])  # type: ignore[no-any-return]

    def _embed_query(self, query: str) -> tuple[np.ndarray, np.ndarray | None]:
        """The query's vector and, where the embedder computes them in the same run (the default
        ONNX engine, for the re-ranker's layer), its token states for :meth:`query_tokens`: one
        model run and one session per search instead of two (the engine keeps its last queries,
        so asking again does not run the model again)."""
        joint = getattr(self.embedder, "embed_query_with_states", None)
        if joint is not None and getattr(self.embedder, "TAP", None) == late.LAYER:
            vector, states = joint(query)
            return np.asarray(vector, dtype=np.float32), states
        return np.asarray(self.embedder.embed_queries([query])[0], dtype=np.float32), None

    def query_vector(self, query: str) -> np.ndarray:
        """The (centred) query embedding, cached per query string."""
        return self._queries.get(  # type: ignore[no-any-return]
            query, lambda: self.index.center_query(self._raw_vector(query), self.query_language(query))
        )

    def warm(self) -> None:
        """Load the query-side models (embedder, query language detector) ahead of a first search."""
        self.query_vector("regional support for small businesses")
        if self.token_states is not None:
            self.query_tokens("regional support for small businesses")

    def named_entities(self, query: str) -> dict[str, float]:
        """Entities the query names → weight (1 each): names as written, and concept labels on
        their stems; cached per query string (a search page asks for them several times)."""
        return self._queries.get(("entities", query), lambda: self._match_entities(query))  # type: ignore[no-any-return]

    def _match_entities(self, query: str) -> dict[str, float]:
        words = norm_label(query).split()
        lang = self.query_language(query)
        stemmed = None
        if lang in STEMMERS:
            stemmed = ([" ".join(stem(w.split(), lang)) for w in words], self._stemmed_aliases(lang))
        matched = ranking.match_entities(query, words, self.index.table.aliases, self._common, stemmed)
        return dict.fromkeys((iri for iri, _ in matched), 1.0)

    def _stemmed_aliases(self, lang: str) -> dict[str, list[str]]:
        """The labels of the index's concepts (practice types, instruments) with each word stemmed
        in ``lang``, built once per language. Names of places, organisations and projects are
        left out: they are matched as written ("bonne" must not find Bonn)."""

        def make() -> dict[str, list[str]]:
            out: dict[str, list[str]] = {}
            for alias, concepts in self._concept_aliases():
                bucket = out.setdefault(" ".join(stem(alias.split(), lang)), [])
                bucket.extend(i for i in concepts if i not in bucket)
            return out

        return self._lookups.get(("stemmed aliases", lang), make)  # type: ignore[no-any-return]

    def _concept_aliases(self) -> list[tuple[str, list[str]]]:
        """(alias, the concepts it names) for the aliases of at least 4 characters that name a concept."""
        kinds = self.index.table.kinds

        def make() -> list[tuple[str, list[str]]]:
            pairs = ((alias, [i for i in iris if kinds.get(i) in CONCEPT_KINDS]) for alias, iris in self.index.table.aliases.items())
            return [(alias, concepts) for alias, concepts in pairs if concepts and len(alias) >= 4]

        return self._lookups.get(("concept aliases",), make)  # type: ignore[no-any-return]

    def read_query(self, query: str) -> QueryReading:
        """The query's language and the entities it names, as :meth:`rank` uses them."""
        table = self.index.table
        entities = []
        for iri in self.named_entities(query) if query.strip() else {}:
            facet = next((name for name in READING_FACETS if iri in self._facet_values(name)), "")
            kind = table.kinds.get(iri) or ("PracticeType" if facet == "practice_types" else "")
            entities.append({"iri": iri, "label": table.labels.get(iri, iri.rsplit("/", 1)[-1]), "kind": kind, "facet": facet})
        asks = answer_types.described(answer_types.asked(query)) if self.answer_bonus else []
        return QueryReading(lang=self.query_language(query) if query.strip() else "", entities=entities, asks=asks)

    def _facet_values(self, name: str) -> frozenset[str]:
        return self._lookups.get(("facet values", name), lambda: frozenset(self.index.table.facets[name].values))  # type: ignore[no-any-return]

    # --- passages ----------------------------------------------------------------------------
    def rank(self, query: str, k: int = 10, filters: Filters | None = None) -> list[tuple[int, float]]:
        """(passage row, fused score) best first; the core of :meth:`search`."""
        _check_k(k)
        index = self.index
        table = index.table
        n = len(table)
        if n == 0 or not query.strip():
            return []
        allowed = allowed_mask(table, filters)
        depth = max(DEPTH, 3 * k)
        qvec = self.query_vector(query)
        ids, calibrated = self._calibrated(qvec, depth, allowed)
        dense_ids = _top(ids, calibrated, depth)
        report_ids = self._dense_reports(qvec, depth, allowed, ids, calibrated)
        matched = self.named_entities(query)
        lang = self.query_language(query)
        tokens = index.lexical.analyzer.query_tokens(query, lang)
        for iri in matched:
            for name in table.names.get(iri, []):
                for token in index.lexical.analyzer.query_tokens(name, lang):
                    if token not in tokens:
                        tokens.append(token)
        in_lang = table.lang_idx == (table.langs.index(lang) if lang in table.langs else -1)
        lex_ids = self._lexical(query, tokens, lang, in_lang, depth, allowed)
        channels: dict[str, list[int]] = {"dense": [int(i) for i in dense_ids], "lexical": [int(i) for i in lex_ids]}
        if report_ids is not None:
            channels["reports"] = [int(i) for i in report_ids]
        linked: np.ndarray | None = None
        if matched:
            linked = np.zeros(n, dtype=bool)
            for facet in ("entities", "regions", "instruments", "projects", "practice_types"):
                linked |= table.facets[facet].mask(matched, n)
            if allowed is not None:
                linked &= allowed
            ids = np.flatnonzero(linked)
            if 0 < len(ids) <= 50_000:
                scores = index.dense.scores_of(qvec, ids)
                order = np.argsort(-scores)[:depth]
                channels["graph"] = [int(ids[j]) for j in order]
        fused = ranking.rrf(channels, WEIGHTS)
        wanted = answer_types.asked(query) if self.answer_bonus else frozenset()
        items = ranking.dedup(ranking.ranked(fused), lambda i: int(table.dup[i]))
        missing = self._missing_practice_types(matched, items)
        bonus = _summed(self._answer_bonus(wanted), self._concept_bonus(missing))
        states = self.token_states
        if states is not None and len(items) > 1:
            shown = {int(table.dup[i]) for i, _ in items[: late.head_size(items, states)]}
            best_lexical = [int(i) for i in lex_ids[:1] if int(table.dup[int(i)]) not in shown]
            joined = best_lexical + self._best_by_sentence(qvec, allowed, shown | {int(table.dup[i]) for i in best_lexical})
            joined += self._answer_holders(wanted, items, shown | {int(table.dup[i]) for i in joined})
            joined += self._concept_holders(missing, qvec, allowed, shown | {int(table.dup[i]) for i in joined})
            query_tokens = self.query_tokens(query)
            items = late.rerank(
                items, query_tokens, states, self.token_weight, extra=joined,
                sentences=lambda rows: self._best_sentences(qvec, rows), head_start=self._token_head_start(query_tokens),
                bonus=bonus, own_language=lambda rows: in_lang[np.asarray(rows, dtype=np.int64)],
                own_language_share=self.own_language_share,
            )
        elif index.window_vectors is not None and len(items) > 1 and self.token_weight:
            # no token states (prose over the rerank_tokens_max setting): the sentence term alone
            items = late.rerank(
                items, None, None, sentences=lambda rows: self._best_sentences(qvec, rows), bonus=bonus
            )
        return items[:k]

    def _holds(self, row: int, wanted: frozenset[str]) -> bool:
        """Whether the passage holds one of the answer types the question asks for."""
        return bool(wanted & answer_types.held(self._passage_text(row)))

    def _answer_bonus(self, wanted: frozenset[str]) -> Callable[[list[int]], np.ndarray] | None:
        """rows → the answer-type bonus of each (search/answer_types.py), or None when the
        question asks for no phone number, e-mail, web address or contact."""
        if not wanted:
            return None
        return lambda rows: np.array([self.answer_bonus * self._holds(r, wanted) for r in rows])

    def _missing_practice_types(self, matched: dict[str, float], items: list[tuple[int, float]]) -> np.ndarray | None:
        """Passages linked to the practice types the query names that none of the first
        ``CONCEPT_ABSENT_FROM`` fused results is linked to, as a mask over the rows; None when
        there is no such type (or the concept bonus is off).

        "study visits for SME internationalisation" names the study-visit practice type; the
        workshop report's passages on *the study* and on SME internationalisation fill the fused
        list and win the re-ranking on their tokens (three of the four words), and none of the
        booklet's study-visit passages reaches the first 20. A type that the first results
        already evidence is context, not the subject, and is left alone."""
        if not self.concept_bonus:
            return None
        facet = self.index.table.facets["practice_types"]
        n = len(self.index.table)
        head = np.asarray([r for r, _ in items[:CONCEPT_ABSENT_FROM]], dtype=np.int64)
        masks = [facet.mask([iri], n) for iri in matched if iri in self._facet_values("practice_types")]
        missing = [mask for mask in masks if not mask[head].any()]
        return np.logical_or.reduce(missing) if missing else None

    def _concept_bonus(self, linked: np.ndarray | None) -> Callable[[list[int]], np.ndarray] | None:
        """rows → ``concept_bonus`` for each row linked to a missing named practice type."""
        if linked is None:
            return None
        return lambda rows: self.concept_bonus * linked[np.asarray(rows, dtype=np.int64)].astype(np.float64)

    def _concept_holders(self, linked: np.ndarray | None, qvec: np.ndarray, allowed: np.ndarray | None, shown: set[int]) -> list[int]:
        """For the re-ranker's pool: the ``CONCEPT_JOIN`` passages (within ``allowed``) linked to
        a missing named practice type that lie closest to the query, groups not in ``shown``."""
        if linked is None:
            return []
        if allowed is not None:
            linked = linked & allowed
        ids = np.flatnonzero(linked)
        if not len(ids):
            return []
        dup = self.index.table.dup
        ids = ids[~np.isin(dup[ids], list(shown))]
        if not len(ids):
            return []
        scores = self.index.dense.scores_of(qvec, ids)
        out: dict[int, int] = {}  # group → its closest row
        for j in np.argsort(-scores, kind="stable"):
            out.setdefault(int(dup[int(ids[j])]), int(ids[j]))
            if len(out) == CONCEPT_JOIN:
                break
        return list(out.values())

    def _answer_holders(self, wanted: frozenset[str], items: list[tuple[int, float]], shown: set[int]) -> list[int]:
        """Up to ``answer_types.JOIN`` passages below the re-ranker's head, among the first
        ``late.HEAD_MAX`` fused results, that hold what the question asks for (a phone number, a
        web address): they join the re-ranking, where the answer-type bonus applies."""
        if not wanted:
            return []
        dup = self.index.table.dup
        out = [r for r, _ in items[: late.HEAD_MAX] if int(dup[r]) not in shown and self._holds(r, wanted)]
        return out[: answer_types.JOIN]

    def _best_by_sentence(self, qvec: np.ndarray, allowed: np.ndarray | None, shown: set[int]) -> list[int]:
        """For the re-ranker's pool: of the ``SENTENCE_JOIN`` passages (within ``allowed``) whose
        best sentence lies closest to the query, those whose groups are not in ``shown`` yet.

        A passage that answers in one sentence among others on other things can sit far down
        the fused list: "Which Danish business support organisations also took part in the
        workshop?" is answered by the last sentence of a Danish paragraph about company visits,
        outside the first 30. Its sentence alone is among the closest to the question; joined
        to the pool, it competes on its tokens (measured on all 144 questions, seeds / with
        the operations: 0.891 / 0.884 → 0.894 / 0.895; docs/benchmarks.md). Sentences compete
        less their language's mean (:meth:`_sentence_scores`): by raw cosines, a Swedish
        question's closest sentences were Swedish project descriptions. [] when the index has
        no sentence vectors or more than ``SENTENCE_JOIN_MAX``."""
        scored = self._sentence_scores(qvec) if SENTENCE_JOIN else None
        if scored is None:
            return []
        rows, raw, means = scored
        best = raw - means[np.asarray(self.index.table.lang_idx)[rows]]
        if allowed is not None:
            best[~allowed[rows]] = -np.inf
        dup = self.index.table.dup
        out: list[int] = []
        seen: set[int] = set()
        head = min(len(best), 4 * SENTENCE_JOIN)  # room for duplicates; a full sort took ~10 ms at 200k
        top = np.argpartition(-best, head - 1)[:head]
        for j in top[np.argsort(-best[top], kind="stable")]:
            row, group = int(rows[j]), int(dup[int(rows[j])])
            if not np.isfinite(best[j]) or len(seen) >= SENTENCE_JOIN:
                break
            if group not in seen:  # the first SENTENCE_JOIN groups; those already in the pool stay where they are
                seen.add(group)
                if group not in shown:
                    out.append(row)
        return out

    def _sentence_scores(self, qvec: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(the rows that have sentence vectors, each one's best sentence cosine with the query,
        each language's mean of those, shrunk as in :meth:`_calibrated`) for one query, kept for
        its second use in the same ranking; None without sentence vectors or above
        ``SENTENCE_JOIN_MAX`` of them (one product with all per query)."""
        index = self.index
        vectors, start = index.window_vectors, index.window_start
        if vectors is None or start is None or not 0 < len(vectors) <= SENTENCE_JOIN_MAX:
            return None
        key = qvec.tobytes()
        last = self._last_sentences
        if last is not None and last[0] == key:
            return last[1]
        rows, firsts = self._lookups.get(("rows with sentences",), lambda: _rows_with_sentences(start))
        best = np.maximum.reduceat(np.asarray(vectors @ qvec, dtype=np.float64), firsts)
        lang_idx = np.asarray(index.table.lang_idx)
        scored = (rows, best, language_means(best, lang_idx[rows], len(index.table.langs)))
        self._last_sentences = (key, scored)  # one assignment: safe to read from other threads
        return scored

    def query_tokens(self, query: str) -> np.ndarray:
        """The query's token states for the re-ranker (search/late.py), cached per query string."""
        return self._queries.get(  # type: ignore[no-any-return]
            ("tokens", query),
            lambda: late.shared_encoder().query_states(
                query, self.index.lexical.analyzer.stopwords(self.query_language(query)), states=self._embed_query(query)[1]
            ),
        )

    def _dense_reports(
        self, qvec: np.ndarray, depth: int, allowed: np.ndarray | None, ids: np.ndarray, calibrated: np.ndarray
    ) -> np.ndarray | None:
        """The dense channel over the passages of documents alone, when rows of lists of
        operations stand beside them (None otherwise); ``ids, calibrated``: the dense channel's
        own candidates and scores, reused when they cover every passage.

        A list of operations brings thousands of one-line records, and a short text lies close
        to a short query: on a keyword query ("pitchträning och institutionella ramverk") the
        dense channel filled with records and the report passage that answers it fell below
        its first 100. Ranked among the documents' passages alone, it is near the top, and the
        fusion hears both lists (measured: 12 keyword queries with the 11k operations beside
        the seeds, MRR@10 0.611 → 0.875; docs/benchmarks.md).
        """
        operation = np.asarray(self.index.table.operation, dtype=bool)
        reports = ~operation if allowed is None else (~operation & allowed)
        if not reports.any() or not (operation if allowed is None else operation & allowed).any():
            return None
        if len(ids) == len(operation):  # exact: every passage is scored already
            return _top(ids, np.where(operation[ids], -np.inf, calibrated), depth)
        held = self._report_vectors()
        if held is None:
            # more report passages than REPORTS_IN_MEMORY: the ANN index, filtered, for ``depth``
            # candidates (at 1M passages, 100k of them reports, a filtered HNSW search for 2 or
            # 10 × depth took ~40 ms, for depth ~4 ms)
            found, cosines = self.index.dense.search(qvec, depth, reports)
            return _top(*self._calibrated(qvec, depth, reports, (np.asarray(found, dtype=np.int64), cosines)), depth)
        rows, vectors = held
        cosines = vectors @ qvec
        if allowed is not None:
            cosines[~allowed[rows]] = -np.inf
        best = _top(np.arange(len(rows)), cosines, depth * 10)
        return _top(*self._calibrated(qvec, depth, reports, (rows[best], cosines[best])), depth)

    def _report_vectors(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The report passages' rows and a copy of their vectors, when there are at most
        ``REPORTS_IN_MEMORY`` of them: above ``CALIBRATE_EXACT`` passages the report channel
        ranks them exactly with one product (at 1M passages, 50k of them reports: ~2 ms) instead
        of gathering them from the memory-mapped vectors (~20 ms) or a filtered ANN search."""
        with self._lock:
            if not self._reports_read:
                rows = np.flatnonzero(~np.asarray(self.index.table.operation, dtype=bool))
                if len(rows) <= REPORTS_IN_MEMORY:
                    self._reports = (rows, np.ascontiguousarray(self.index.dense.vectors[rows], dtype=np.float32))
                self._reports_read = True
            return self._reports

    def _calibrated(
        self, qvec: np.ndarray, depth: int, allowed: np.ndarray | None, candidates: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Dense candidates and their per-language calibrated scores (-inf outside ``allowed``);
        ``candidates``: (rows, cosines) found by the caller, above ``CALIBRATE_EXACT``.

        A multilingual model gives every passage in the query's language a head start (the
        measured trap: Danish questions ranked Danish distractors above the English answer).
        Each passage's score is lowered by the mean score of its language's passages (shrunk
        towards the global mean for a language with few passages), so passages compete on how
        much better they match the query than the rest of their language do. The head start is
        a shift, and only the shift is taken off: dividing by each language's spread as well
        (z-scores, until 7 Dec) lifted the best of a language whose passages are all alike, and
        3,500 passages of Danish, Swedish and Dutch project descriptions beside the seeds then
        filled the first ten (MRR@10 of the dense channel 0.40, the raw cosines' 0.55; mean
        shift 0.68; docs/benchmarks.md). Exact over all passages up to ``CALIBRATE_EXACT``
        (every passage a candidate); above it, the means come from a sample and candidates
        from a wider approximate search.
        """
        index = self.index
        table = index.table
        n = len(table)
        lang_idx = np.asarray(table.lang_idx)
        if n <= CALIBRATE_EXACT:
            ids = np.arange(n)
            # one product over the memory-mapped vectors: gathering all rows by index copied
            # them first (23 of 38 ms a query at 100k passages)
            scores = self._passage_scores(qvec, ids, np.asarray(index.dense.vectors @ qvec))
            sample = scores
            sample_lang = lang_idx
        else:
            # the index's own inner products: the same cosines as gathering the candidates'
            # rows from the memory-mapped vectors again (~3 ms a query at 1M passages)
            ids, cosines = candidates if candidates is not None else index.dense.search(qvec, depth * 10, allowed)
            ids = np.asarray(ids, dtype=np.int64)
            scores = self._passage_scores(qvec, ids, np.asarray(cosines))
            sample, sample_lang = self._sample_scores(qvec)
        langs = int(lang_idx.max()) + 1 if len(lang_idx) else 1
        calibrated = scores - language_means(sample, sample_lang, langs)[lang_idx[ids]]
        if allowed is not None:
            calibrated[~allowed[ids]] = -np.inf
        return ids, calibrated

    def _token_head_start(self, query_tokens: np.ndarray) -> Callable[[list[int]], np.ndarray] | None:
        """For the re-ranker: rows → the query's mean MaxSim with the reference sentences of
        each row's language (search/reference.py), subtracted from the row's own MaxSim, so
        that a passage does not win on the tokens it shares with the query's language. None
        for an index without a reference (built before it, or without token states)."""
        reference = self.index.reference
        if reference is None or not len(query_tokens):
            return None
        table = self.index.table
        lang_idx = np.asarray(table.lang_idx)

        def head_start(rows: list[int]) -> np.ndarray:
            present = lang_idx[np.asarray(rows, dtype=np.int64)]
            # only the candidates' languages are scored; one without reference sentences gets
            # the mean of the others (no correction)
            measured = reference.token(query_tokens, {table.langs[i] for i in np.unique(present)})
            return HEAD_START_WEIGHT * aligned(measured, table.langs)[present]

        return head_start

    def _passage_scores(self, qvec: np.ndarray, ids: np.ndarray, dense: np.ndarray | None = None) -> np.ndarray:
        """Dense scores of passages (``dense``: their raw cosines, when already computed), each
        mixed with its best sentence window's (search/windows.py) and lowered by its hubness
        (search/hubness.py)."""
        from search.windows import mix_scores

        index = self.index
        scores = (index.dense.scores_of(qvec, ids) if dense is None else dense).astype(np.float64)
        if index.window_vectors is not None and index.window_start is not None:
            scores = mix_scores(scores, ids, index.window_vectors, index.window_start, qvec)
        if index.hubness is not None:
            scores -= HUB_WEIGHT * index.hubness[ids]
        return scores

    def _best_sentences(self, qvec: np.ndarray, rows: list[int]) -> np.ndarray:
        """Each row's best sentence cosine with the query (search/windows.py), less the mean of
        its language's (:meth:`_sentence_scores`; a Danish question's raw cosines favour Danish
        sentences, as they favour Danish passages); NaN, a neutral term for the re-ranker, for a
        row without sentence vectors (a passage of one sentence, a row of a list of operations):
        its raw cosine is not calibrated across languages either (measured: the same MRR@10 on
        all four query sets as scoring such rows by their own cosine)."""
        from search.windows import best_window_scores

        index = self.index
        if index.window_vectors is None or index.window_start is None:
            return np.full(len(rows), np.nan)
        picked = np.asarray(rows, dtype=np.int64)
        scored = self._sentence_scores(qvec)
        if scored is None:  # more sentences than one product per query takes: these rows' own, raw
            return best_window_scores(picked, index.window_vectors, index.window_start, qvec)
        with_sentences, best, means = scored  # the join's product, looked up rather than taken again
        at = np.minimum(np.searchsorted(with_sentences, picked), len(with_sentences) - 1)
        found = with_sentences[at] == picked
        return np.where(found, best[at] - means[np.asarray(index.table.lang_idx)[picked]], np.nan)

    def _sample_scores(self, qvec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The calibration sample's scores and languages for a query, kept for the query's
        second channel (the report passages' ranking uses the same statistics)."""
        key = qvec.tobytes()
        last = self._last_sample
        if last is not None and last[0] == key:
            return last[1], last[2]
        rows, sample_vectors = self._calibration_sample()
        sample = self._passage_scores(qvec, rows, sample_vectors @ qvec)
        sample_lang = np.asarray(self.index.table.lang_idx)[rows]
        self._last_sample = (key, sample, sample_lang)  # one assignment: safe to read from other threads
        return sample, sample_lang

    def _calibration_sample(self) -> tuple[np.ndarray, np.ndarray]:
        """Up to 2,000 passages per language (fixed seed), for score statistics at scale: their
        rows and a copy of their vectors in memory (gathering ~20k rows from the memory-mapped
        vectors for every query cost ~12 ms at 1M passages; a product with the copy ~1 ms)."""
        with self._lock:
            if getattr(self, "_sample", None) is None:
                rng = np.random.default_rng(0)
                lang_idx = np.asarray(self.index.table.lang_idx)
                parts = [
                    rng.choice(np.flatnonzero(lang_idx == lang), size=min(2000, int((lang_idx == lang).sum())), replace=False)
                    for lang in np.unique(lang_idx)
                ]
                rows = np.sort(np.concatenate(parts))
                self._sample = (rows, np.ascontiguousarray(self.index.dense.vectors[rows], dtype=np.float32))
            return self._sample  # type: ignore[no-any-return]

    def _lexical(
        self, query: str, tokens: list[str], lang: str, in_lang: np.ndarray, depth: int, allowed: np.ndarray | None
    ) -> np.ndarray:
        """BM25 with every query token on passages in the query's language (``in_lang``: the mask of
        them), and only the language-neutral tokens (names, acronyms, numbers, entity labels) on
        the others: a Danish word matching a Danish distractor says nothing about an English answer."""
        index = self.index
        same = in_lang if allowed is None else in_lang & allowed
        other = ~same if allowed is None else (~same & allowed)
        found = re.findall(r"[^\W_]+", query)
        neutral_words = [w for i, w in enumerate(found) if w[:1].isdigit() or (w[:1].isupper() and (i > 0 or w.isupper()))]
        neutral = index.lexical.analyzer.query_tokens(" ".join(neutral_words), lang) if neutral_words else []
        neutral += [t for t in tokens[len(index.lexical.analyzer.query_tokens(query, lang)):] if t not in neutral]
        ids_same, scores_same = index.lexical.search(tokens, depth, same) if same.any() else (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        ids_other, scores_other = index.lexical.search(neutral, depth, other) if neutral and other.any() else (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        ids = np.concatenate([ids_same, ids_other])
        scores = np.concatenate([scores_same, scores_other])
        order = np.argsort(-scores, kind="stable")[:depth]
        return ids[order]

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[SearchHit]:
        """The ``k`` best passages for a query in any language, within the filters, each with
        the sentence of it that lies closest to the query."""
        ranked = self.rank(query, k, filters)
        hits = [self._hit(row, score, rank) for rank, (row, score) in enumerate(ranked, start=1)]
        if hits:
            qvec = self.query_vector(query)
            for (row, _), hit in zip(ranked, hits, strict=True):
                span = self._closest_sentence(qvec, row, hit.text)
                if span is not None:
                    hit.sentence = (hit.offsets[0] + span[0], hit.offsets[0] + span[1])
        return hits

    def _closest_sentence(self, qvec: np.ndarray, row: int, text: str) -> tuple[int, int] | None:
        """Offsets in ``text`` (the passage's) of its sentence closest to the query vector, by
        the index's sentence vectors (search/windows.py); None without them. A question in
        Danish about an English report highlights no word of it, but its answering sentence."""
        from search.windows import sentence_span, sentence_windows

        index = self.index
        if index.window_vectors is None or index.window_start is None:
            return None
        first, last = int(index.window_start[row]), int(index.window_start[row + 1])
        if last <= first:
            return None
        sentences = sentence_windows(text)
        if len(sentences) != last - first:  # not the text the index was built from
            return None
        best = int(np.argmax(np.asarray(index.window_vectors[first:last], dtype=np.float32) @ qvec))
        return sentence_span(text, sentences[best])

    def _passage_text(self, row: int) -> str:
        table = self.index.table
        iri = table.iris[row]

        def make() -> str:
            if self.store is None:
                return ""
            from kg.facets import passage_text

            return passage_text(self.store, iri) or ""

        return self._texts.get(iri, make)  # type: ignore[no-any-return]

    def _hit(self, row: int, score: float, rank: int) -> SearchHit:
        table = self.index.table
        doc_iri, source = table.docs[int(table.doc_idx[row])]
        entities = [
            {"iri": iri, "label": table.labels.get(iri, iri.rsplit("/", 1)[-1]), "kind": table.kinds.get(iri, "")}
            for iri in table.facets["entities"].of(row)
        ]
        hit = SearchHit(
            rank=rank, score=float(score), text=self._passage_text(row), source=source, document=doc_iri,
            passage=table.iris[row], lang=table.lang(row),
            offsets=(int(table.offsets[row][0]), int(table.offsets[row][1])), entities=entities,
            heading=table.headings.get(row),
        )
        if bool(table.operation[row]):
            projects = table.facets["projects"].of(row)
            direct = set(table.facets["entities"].of(row))
            regions = [r for r in table.facets["regions"].of(row) if r in direct] or table.facets["regions"].of(row)
            funds = [f for f in table.facets["instruments"].of(row) if f in direct]
            if projects:
                hit.project, hit.project_label = projects[0], table.labels.get(projects[0])
            if regions:
                best = max(regions, key=lambda r: len(table.nuts.get(r, "")))
                hit.region, hit.region_label = best, table.labels.get(best)
            if funds:
                hit.fund, hit.fund_label = funds[0], table.labels.get(funds[0])
            hit.year = int(table.year[row]) or None
            hit.budget = None if np.isnan(table.budget[row]) else float(table.budget[row])
        return hit

    def facet_counts(self, query: str, filters: Filters | None = None, k: int = 200) -> dict[str, list[tuple[str, str, int]]]:
        """Facet → [(value IRI/code, label, count)] over the top ``k`` passages of a query."""
        rows = [row for row, _ in self.rank(query, k, filters)]
        return counts(self.index.table, rows)

    # --- practices ---------------------------------------------------------------------------
    def _practice_allowed(self, filters: Filters | None) -> np.ndarray:
        practices = self.index.practices
        ok = np.ones(len(practices), dtype=bool)
        if filters is None:
            return ok
        table = self.index.table
        if filters.regions:
            wanted = resolve(table, "regions", filters.regions)
            ok &= np.asarray([bool(wanted & set(p.regions)) for p in practices], dtype=bool)
        if filters.countries:
            codes = {c.strip().upper() for c in filters.countries}
            ok &= np.asarray([any(r.rsplit("/", 1)[-1][:2].upper() in codes for r in p.regions) for p in practices], dtype=bool)
        if filters.practice_types:
            wanted = resolve(table, "practice_types", filters.practice_types) if table.facets["practice_types"].values else set(filters.practice_types)
            ok &= np.asarray([bool(wanted & set(p.practice_types)) for p in practices], dtype=bool)
        if filters.projects:
            wanted = resolve(table, "projects", filters.projects)
            ok &= np.asarray([bool(wanted & set(p.projects)) for p in practices], dtype=bool)
        return ok

    def _practice_hit(self, i: int, score: float, rank: int) -> PracticeHit:
        p = self.index.practices[i]
        return PracticeHit(rank, float(score), p.iri, p.label, p.description, p.practice_types, p.projects, p.regions, p.passages)

    def search_practices(self, query: str, k: int = 10, filters: Filters | None = None) -> list[PracticeHit]:
        """Practices ranked by their own text (dense), by the passages that evidence them, and
        first among them those the query names or whose practice type it names."""
        _check_k(k)
        practices = self.index.practices
        if not practices or self.index.practice_vectors is None:
            return []
        ok = self._practice_allowed(filters)
        qvec = self.query_vector(query)
        scores = self.index.practice_vectors @ qvec
        scores = np.where(ok, scores, -np.inf)
        dense_order = [int(i) for i in np.argsort(-scores) if ok[i]][:DEPTH]
        passage_filters = Filters(langs=filters.langs, documents=filters.documents) if filters else None
        evidence: list[int] = []
        by_passage = self._practices_by_passage()
        table = self.index.table
        for row, _ in self.rank(query, DEPTH, passage_filters):
            for i in by_passage.get(table.iris[row], []):
                if ok[i] and i not in evidence:
                    evidence.append(i)
        # practices the query names, or of a practice type it names ("study visits for …"), by
        # their dense rank: the graph channel of the passage ranking, for practices
        named = self.named_entities(query)
        named_order = [i for i in dense_order if practices[i].iri in named or named.keys() & set(practices[i].practice_types)]
        fused = ranking.rrf(
            {"dense": dense_order, "evidence": evidence, "named": named_order}, {"dense": 1.0, "evidence": 1.0, "named": 1.0}
        )
        return [self._practice_hit(i, s, r) for r, (i, s) in enumerate(ranking.ranked(fused)[:k], start=1)]

    def _practices_by_passage(self) -> dict[str, list[int]]:
        """Passage IRI → the practices it evidences (positions in ``index.practices``), built once."""

        def make() -> dict[str, list[int]]:
            out: dict[str, list[int]] = {}
            for i, practice in enumerate(self.index.practices):
                for passage in practice.passages:
                    out.setdefault(passage, []).append(i)
            return out

        return self._lookups.get(("practices by passage",), make)  # type: ignore[no-any-return]

    def find_practice(self, name: str) -> str:
        """The IRI of the practice that ``name`` names: its IRI, or its label (case and spacing
        aside). :class:`QueryError` when none does, or when several practices share the label
        (the message lists their IRIs, one of which to pass instead)."""
        practices = self.index.practices
        wanted = " ".join(name.split()).casefold()
        if not wanted:
            raise QueryError("name a practice: its label or its IRI")
        exact = [p for p in practices if p.iri == name.strip()]
        if exact:
            return exact[0].iri
        named = [p for p in practices if " ".join(p.label.split()).casefold() == wanted]
        if len(named) == 1:
            return named[0].iri
        if not named:
            import difflib

            labels = sorted({" ".join(p.label.split()) for p in practices})
            close = difflib.get_close_matches(" ".join(name.split()), labels, n=3, cutoff=0.75)
            hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
            raise QueryError(
                f"no practice is labelled {name!r} ({len(practices)} practices in the index); {hint}"
                f"`regiograph search {name!r} --practices` ranks practices by what they do"
            )
        listed = "; ".join(f"{p.iri} ({' '.join(p.description.split())[:60]})" for p in named[:10])
        raise QueryError(f"{len(named)} practices are labelled {name!r}; pass one IRI: {listed}")

    def similar_practices(self, practice_iri: str, k: int = 10, other_regions_only: bool = True) -> list[PracticeHit]:
        """Practices like a given one, by default only from other regions: closest by their text,
        and first among them those of a practice type it shares (the graph says a study visit is
        like another study visit; by text alone a Danish "virksomhedsbesøg" found workshops and
        a trade mission before the English study visits). Each hit's score is its cosine with
        the practice (the order is the fusion of both rankings)."""
        _check_k(k)
        practices = self.index.practices
        vectors = self.index.practice_vectors
        index = next((i for i, p in enumerate(practices) if p.iri == practice_iri), None)
        if index is None or vectors is None:
            return []
        scores = vectors @ vectors[index]
        mine = _leaf_regions(practices[index].regions)
        kinds = set(practices[index].practice_types)
        by_text = [
            int(i) for i in np.argsort(-scores, kind="stable")
            if int(i) != index and not (other_regions_only and mine and (_leaf_regions(practices[int(i)].regions) & mine))
        ]
        same_kind = [i for i in by_text if kinds & set(practices[i].practice_types)]
        fused = ranking.ranked(ranking.rrf({"text": by_text, "type": same_kind}))
        return [self._practice_hit(i, float(scores[i]), r) for r, (i, _) in enumerate(fused[:k], start=1)]

    # --- rg:similar -------------------------------------------------------------------------
    def similarity(self, text: str, query: str) -> float:
        """Cosine similarity of a text (a passage's, looked up in the index, else embedded) and a
        query, measured without the directions in which the index's languages differ
        (``index.language_directions``; ``similar_across_languages`` False: the plain cosine of
        the language-centred vectors). ``rg:similar`` has no candidate list to calibrate against as
        :meth:`rank` does, so a Danish question's cosine with Danish text would otherwise stand
        above its cosine with the English passage that answers it (measured, docs/benchmarks.md)."""
        qvec = self.query_vector(query)
        with self._lock:
            if self._text_rows is None:
                self._text_rows = {}
        row = self._row_of_text(text)
        if row is not None:
            vec = np.asarray(self.index.dense.vectors[row], dtype=np.float32)
        else:
            def make() -> np.ndarray:
                from search.index import center

                raw = np.asarray(self.embedder.embed_passages([text])[0], dtype=np.float32).reshape(1, -1)
                means = self.index.lang_means
                return center(raw, means[-1:])[0] if means is not None else raw[0]

            vec = self._texts.get(("vec", text), make)
        basis = self.index.language_directions
        if not self.similar_across_languages or not len(basis):
            return float(vec @ qvec)
        from search.index import without_directions

        free = self._queries.get(("without directions", query), lambda: without_directions(qvec, basis))
        if row is None:
            return float(without_directions(vec, basis) @ free)
        # ``free`` has no component along ``basis``, so vec · free = (vec without it) · free;
        # dividing by the row's norm without it (one product over the index, once) makes it a cosine
        return float(vec @ free) / float(self._norms_without_directions()[row])

    def _norms_without_directions(self) -> np.ndarray:
        """Each passage vector's length once the languages' directions are taken out of it."""

        def make() -> np.ndarray:
            vectors = self.index.dense.vectors
            basis = self.index.language_directions
            along = np.concatenate([np.asarray(vectors[i : i + 65_536]) @ basis.T for i in range(0, len(vectors), 65_536)])
            return np.sqrt(np.maximum(1.0 - (along**2).sum(axis=1), 1e-12)).astype(np.float32)

        return self._lookups.get(("norms without directions",), make)  # type: ignore[no-any-return]

    def _row_of_text(self, text: str) -> int | None:
        with self._lock:
            if not self._text_rows and self.store is not None:
                from kg.queries import all_passages

                rows = {r.iri: r.text for r in all_passages(self.store)}
                self._text_rows = {t: i for i, iri in enumerate(self.index.table.iris) if (t := rows.get(iri)) is not None}
            return (self._text_rows or {}).get(text)


def language_means(scores: np.ndarray, langs: np.ndarray, count: int, shrink: float = CALIBRATE_SHRINK) -> np.ndarray:
    """Each of ``count`` languages' mean of ``scores`` (``langs``: each score's language index),
    pulled towards the mean of all by ``shrink`` pseudo-scores: a language with a few passages
    gets little of its own mean, one with none the global mean."""
    n = np.bincount(langs, minlength=count).astype(np.float64)
    mean = np.bincount(langs, weights=scores, minlength=count) / np.maximum(n, 1)
    weight = n / (n + shrink)
    return weight * mean + (1 - weight) * float(scores.mean())


def _rows_with_sentences(start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows that have sentence vectors, and where each one's first sentence is."""
    starts = np.asarray(start, dtype=np.int64)
    rows = np.flatnonzero(np.diff(starts) > 0)
    return rows, starts[rows]


def _summed(*bonuses: Callable[[list[int]], np.ndarray] | None) -> Callable[[list[int]], np.ndarray] | None:
    """rows → the sum of the given bonuses for each row; None when none is given."""
    given = [b for b in bonuses if b is not None]
    if not given:
        return None
    if len(given) == 1:
        return given[0]
    return lambda rows: np.sum([np.asarray(b(rows), dtype=np.float64) for b in given], axis=0)


def _check_k(k: int) -> None:
    """How many results were asked for: a count, not a slice (``-3`` listed all but the last three)."""
    if k < 0:
        raise QueryError(f"the number of results must be 0 or more, not {k}")


def _top(ids: np.ndarray, scores: np.ndarray, depth: int) -> np.ndarray:
    """The ``depth`` ids of highest finite score, best first (ties in the given order)."""
    if depth < len(scores) // 2:  # partial selection first: a full sort of 50k scores took ~3 ms
        part = np.sort(np.argpartition(-scores, depth - 1)[:depth]) if depth > 0 else np.zeros(0, dtype=np.int64)
        order = part[np.argsort(-scores[part], kind="stable")]
    else:
        order = np.argsort(-scores, kind="stable")[:depth]
    return ids[order][np.isfinite(scores[order])]


def _leaf_regions(regions: list[str]) -> set[str]:
    """The most specific regions of a set that includes ancestors (NUTS prefixes)."""
    codes = [r.rsplit("/", 1)[-1] for r in regions]
    return {r for r, c in zip(regions, codes, strict=True) if not any(o != c and o.startswith(c) for o in codes)}


def similar_function(searcher: Searcher) -> dict[str, Callable[..., Any]]:
    """``rg:similar(?text, "query")`` for GraphStore.query(custom_functions=...): the cosine of
    :meth:`Searcher.similarity` as xsd:double."""
    import pyoxigraph as ox

    double = ox.NamedNode("http://www.w3.org/2001/XMLSchema#double")

    def similar(text: Any, query: Any) -> Any:
        if not isinstance(text, ox.Literal) or not isinstance(query, ox.Literal):
            return None
        return ox.Literal(repr(round(searcher.similarity(text.value, query.value), 6)), datatype=double)

    return {SIMILAR: similar}


def sparql_functions(settings: Settings) -> dict[str, Callable[..., Any]]:
    """The custom SPARQL functions a query that calls them (``kg.sparql_text.calls_similar``)
    gets in the CLI, the endpoint and the explorer: ``rg:similar`` over the data directory's
    current index (the searcher loaded once per process). :class:`StoreError` before the first
    ingest, :class:`IndexMismatchError` for a generation without a search index."""
    return similar_function(load_searcher(settings))


# --- loading -------------------------------------------------------------------------------------

_searchers: dict[tuple[str, int, str, bool], Searcher] = {}
_searchers_lock = threading.Lock()
_loading: dict[tuple[str, int, str, bool], threading.Lock] = {}


def load_searcher(settings: Settings) -> Searcher:
    """The searcher of the current generation (cached per data directory, generation and model).

    Thread-safe: a caller arriving while another thread loads the same searcher waits for it
    (the explorer starts loading in the background before its first page asks).
    """
    data = DataDir(settings.data_dir)
    generation = data.current_generation()
    if generation is None:
        raise StoreError(f"no data in {settings.data_dir} yet: run `regiograph ingest PATH` first")
    key = (str(settings.data_dir.resolve()), generation, settings.embedder, settings.rerank_on_demand)
    with _searchers_lock:
        if key in _searchers:
            return _searchers[key]
        loading = _loading.setdefault(key, threading.Lock())
    with loading:
        with _searchers_lock:
            if key in _searchers:
                return _searchers[key]
        searcher = _load(settings, data, generation)
        with _searchers_lock:
            _searchers[key] = searcher
            _loading.pop(key, None)
    return searcher


def _load(settings: Settings, data: DataDir, generation: int) -> Searcher:
    from search.embedders import make_embedder

    folder = data.index_dir(generation)
    assert folder is not None
    if not (folder / "meta.json").exists():
        raise IndexMismatchError(f"generation {generation} in {settings.data_dir} has no search index; run `regiograph reindex`")
    embedder = make_embedder(settings.embedder)
    index = load_index(folder, model=embedder.name, generation=generation)
    cache = _states_cache(data) if settings.rerank_on_demand and index.over_budget else None
    return Searcher(index, embedder, data.open_reader(generation), on_demand=settings.rerank_on_demand, states_cache=cache)


def _states_cache(data: DataDir) -> VectorCache | None:
    """The data directory's vector cache, for the token states a search computes (None, with a
    warning, where it cannot be opened: a read-only data directory keeps them in memory)."""
    from search.vector_cache import VectorCache

    try:
        return VectorCache(data.cache / "vectors.sqlite", timeout=STATES_CACHE_WAIT)
    except StoreError as exc:
        log.warning("token states will not be kept on disk: %s", exc)
        return None


def search(settings: Settings, query: str, k: int = 10, filters: Filters | None = None) -> list[SearchHit]:
    """Search the current generation (the CLI's entry point)."""
    return load_searcher(settings).search(query, k, filters)


def _snippet(text: str, terms: list[str], width: int = 240, focus: int | None = None) -> tuple[str, int]:
    """``width`` characters of ``text`` (and where they start): from a little before ``focus``
    (the closest sentence's start) when given, else around the first query word."""
    if focus is not None:
        start = max(0, min(focus - width // 6, len(text) - width))
    else:
        lowered = text.casefold()
        positions = [lowered.find(t) for t in terms if t and lowered.find(t) >= 0]
        start = max(0, min(positions) - width // 3) if positions else 0
    if start > 0:  # from the start of a word
        start = max(text.rfind(" ", 0, start), text.rfind("\n", 0, start)) + 1
    return text[start : start + width].replace("\n", " "), start


def render_hits(hits: list[SearchHit], query: str, reading: QueryReading | None = None) -> str:
    """A readable listing: rank, score, source and language, a snippet with query words
    highlighted; first, with ``reading``, the language the query was read in and the names in it."""
    from rich.console import Console
    from rich.text import Text

    from ingest.language import language_name
    from search.lexical import stopwords, words

    terms = [w for w in words(query) if len(w) > 2 and w not in stopwords("en")]
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=100, highlight=False)
    if reading is not None and reading.lang:
        names = [f"{e['kind'] or 'name'} {e['label']!r}" for e in reading.entities]
        line = f"read as {language_name(reading.lang)}" + ("; names in it: " + ", ".join(names) if names else "")
        console.print(Text(line + ("; asks for " + " or ".join(reading.asks) if reading.asks else ""), style="dim"))
    if not hits:
        console.print(f"no passages found for {query!r}")
    for hit in hits:
        console.print(Text(f"{hit.rank:>2}. {hit.source}  [{hit.lang}]  score {hit.score:.4f}", style="bold"))
        local = (hit.sentence[0] - hit.offsets[0], hit.sentence[1] - hit.offsets[0]) if hit.sentence else None
        snippet, start = _snippet(hit.text, terms, focus=local[0] if local else None)
        text = Text("    " + snippet + ("…" if len(hit.text) > len(snippet) else ""))
        if local is not None:  # the sentence closest to the query, underlined
            text.stylize("underline", 4 + max(0, local[0] - start), 4 + max(0, min(local[1] - start, len(snippet))))
        for term in terms:
            text.highlight_words([term], style="bold yellow", case_sensitive=False)
        console.print(text)
        extras = [f"{e['kind']}: {e['label']}" for e in hit.entities[:6]]
        if hit.project:
            extras.append(f"year {hit.year}" if hit.year else "")
            extras.append(f"budget {hit.budget:,.0f} EUR" if hit.budget is not None else "")
        extras = [x for x in extras if x]
        if extras:
            console.print(Text("    " + " · ".join(extras), style="dim"))
        console.print(Text(f"    {hit.passage}", style="dim"))
    return buffer.getvalue().rstrip("\n")


def render_practices(hits: list[PracticeHit], labels: dict[str, str]) -> str:
    """A readable listing of practices: rank, label, type and project (``labels``: IRI → label),
    and the start of the description."""
    if not hits:
        return "no practices found"
    lines = []
    for hit in hits:
        kinds = ", ".join(labels.get(t, t.rsplit("/", 1)[-1]) for t in hit.practice_type)
        projects = ", ".join(labels.get(p, p.rsplit("/", 1)[-1]) for p in hit.project)
        lines.append(f"{hit.rank:>2}. {hit.label}" + (f"  [{kinds}]" if kinds else "") + (f"  · {projects}" if projects else ""))
        if hit.description:
            lines.append("    " + " ".join(hit.description.split())[:200])
        lines.append(f"    {hit.iri}")
    return "\n".join(lines)
