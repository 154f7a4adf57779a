"""The search index of a generation: FAISS (dense), bm25s (lexical) and per-passage facet arrays.

Built by ``ingest.pipeline.publish`` into ``DataDir.index_dir(generation)`` and described by
``meta.json`` (model, dimension, count, generation, versions, index type, parameters). Loading
refuses an index built with another model (:class:`IndexMismatchError`).

Layout::

    meta.json       what built the index, and how
    dense.faiss     IndexFlatIP (exact) below ``exact_max`` passages, IndexHNSWFlat above
    vectors.npy     the (language-centred, normalised) passage vectors, memory-mapped: exact
                    search inside a filter, similar passages
    lang_means.npy  per-language mean vectors removed before indexing (language centring)
    lang_offsets.*  each language's offset, from the SKOS labels embedded as passages (the
                    centring); query_lang_offsets.npy: the same labels embedded as queries (the
                    vote on a query's language)
    hubness.npy     per passage, its mean similarity to its nearest neighbours (search/hubness.py)
    window_*.npy    sentence vectors inside prose passages and where each passage's sentences begin
    bm25/           bm25s index over language-aware tokens (read back without bm25s: Bm25Scores)
    stopwords.json  the stopword lists the passages were analysed with, by language
    table.npz/json  per passage: IRI, document, language, facet values (regions with ancestors,
                    countries, instruments with broader ones, practice types, projects,
                    entities), year, budget, duplicate group; entity labels and aliases
    practices.*     rg:Practice texts and vectors (practice search)
    tokens.npy      prose passages' token states for the re-ranker (search/late.py): int8, projected
                    onto token_basis.npy, times token_scale.npy; where each begins: token_start.npy
                    (a corpus over the token budget keeps token_basis.npy alone: searches compute
                    their candidates' states, search/late.py OnDemandTokenStates)
    reference*      the language reference: the token states of parallel sentences in the index's
                    languages, in the same space, for the re-ranker (search/reference.py)
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from regiograph.errors import IndexMismatchError, StoreError
from search.hubness import hub_scores
from search.late import TokenStates
from search.reference import LanguageReference

if TYPE_CHECKING:
    from ingest.pipeline import ProgressFn
    from kg.store import DataDir, GraphStore
    from regiograph.settings import Settings
    from search.embedders import Embedder

FORMAT = 1
FACETS = ("regions", "countries", "instruments", "practice_types", "projects", "entities")
NUTS_NS = "http://data.europa.eu/nuts/code/"
_ISO_OF_NUTS = {"UK": "GB", "EL": "GR"}


@dataclass(frozen=True)
class IndexParams:
    """How the index is built; recorded in meta.json (figures in docs/benchmarks.md, "Speed")."""

    exact_max: int = 200_000  # up to this many passages: exact (flat) search
    ann: str = "hnsw"  # hnsw | ivf, above exact_max
    hnsw_m: int = 32
    ef_construction: int = 64
    ef_search: int = 128  # 1M clustered vectors: recall@10 0.946 at 96, 0.974 at 128 (docs/benchmarks.md)
    ivf_nprobe: int = 24
    center_languages: bool = True  # remove each language's mean vector (see docs)
    center_shrinkage: float = 1.0  # pseudo-count pulling a small language's mean to the global one
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    #: Prose tokens whose states the re-ranker keeps (compact, search/late.py: 132 bytes each in
    #: the index, 256 in the cache; 10M ≈ 1.3 GB + 2.6 GB, ~75k report passages); a corpus with
    #: more is indexed without token-level re-ranking.
    token_states_max: int = 10_000_000


def norm_label(text: str) -> str:
    """Lower-case, accent-folded, punctuation-free form of a label (for matching names)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in folded).split())


# --- the per-passage table -------------------------------------------------------------------

@dataclass
class Facet:
    """Passage → values, as CSR arrays (``indices[indptr[i]:indptr[i+1]]`` are passage i's values)."""

    values: list[str]
    indptr: np.ndarray
    indices: np.ndarray

    @classmethod
    def from_sets(cls, sets: Sequence[Iterable[str]]) -> Facet:
        ids: dict[str, int] = {}
        indptr = np.zeros(len(sets) + 1, dtype=np.int64)
        flat: list[int] = []
        for i, values in enumerate(sets):
            for v in sorted(set(values)):
                flat.append(ids.setdefault(v, len(ids)))
            indptr[i + 1] = len(flat)
        return cls(list(ids), indptr, np.asarray(flat, dtype=np.int32))

    def of(self, row: int) -> list[str]:
        return [self.values[j] for j in self.indices[self.indptr[row] : self.indptr[row + 1]]]

    def mask(self, wanted: Iterable[str], n: int) -> np.ndarray:
        """Passages having any of the wanted values."""
        lookup = {v: j for j, v in enumerate(self.values)}
        ids = np.asarray([lookup[v] for v in wanted if v in lookup], dtype=np.int32)
        out = np.zeros(n, dtype=bool)
        if ids.size == 0:
            return out
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(self.indptr))
        out[rows[np.isin(self.indices, ids)]] = True
        return out


@dataclass
class PassageTable:
    """Everything search knows about each passage except its vector and tokens."""

    iris: list[str]
    doc_idx: np.ndarray
    docs: list[tuple[str, str]]  # (document IRI, source)
    lang_idx: np.ndarray
    langs: list[str]
    facets: dict[str, Facet]
    year: np.ndarray  # int16, 0 = unknown
    budget: np.ndarray  # float64, nan = unknown
    dup: np.ndarray  # int32: first passage with the same normalised text
    offsets: np.ndarray  # int64 (n, 2)
    operation: np.ndarray  # bool: the passage is a row of a list of operations
    headings: dict[int, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # IRI → display label
    kinds: dict[str, str] = field(default_factory=dict)  # IRI → kind
    aliases: dict[str, list[str]] = field(default_factory=dict)  # norm label → IRIs
    names: dict[str, list[str]] = field(default_factory=dict)  # IRI → all labels (all languages)
    nuts: dict[str, str] = field(default_factory=dict)  # region IRI → NUTS code

    def __len__(self) -> int:
        return len(self.iris)

    def lang(self, row: int) -> str:
        return self.langs[int(self.lang_idx[row])]

    def save(self, folder: Path) -> None:
        arrays: dict[str, np.ndarray] = {
            "doc_idx": self.doc_idx, "lang_idx": self.lang_idx, "year": self.year, "budget": self.budget,
            "dup": self.dup, "offsets": self.offsets, "operation": self.operation,
        }
        for name, facet in self.facets.items():
            arrays[f"{name}_indptr"] = facet.indptr
            arrays[f"{name}_indices"] = facet.indices
        np.savez(folder / "table.npz", **arrays)  # type: ignore[arg-type]
        doc = {
            "iris": self.iris, "docs": self.docs, "langs": self.langs,
            "facet_values": {name: f.values for name, f in self.facets.items()},
            "headings": {str(k): v for k, v in self.headings.items()}, "labels": self.labels,
            "kinds": self.kinds, "aliases": self.aliases, "names": self.names, "nuts": self.nuts,
        }
        (folder / "table.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> PassageTable:
        arrays = np.load(folder / "table.npz")
        doc = json.loads((folder / "table.json").read_text(encoding="utf-8"))
        facets = {
            name: Facet(values, arrays[f"{name}_indptr"], arrays[f"{name}_indices"])
            for name, values in doc["facet_values"].items()
        }
        return cls(
            iris=doc["iris"], doc_idx=arrays["doc_idx"], docs=[tuple(d) for d in doc["docs"]],
            lang_idx=arrays["lang_idx"], langs=doc["langs"], facets=facets, year=arrays["year"],
            budget=arrays["budget"], dup=arrays["dup"], offsets=arrays["offsets"], operation=arrays["operation"],
            headings={int(k): v for k, v in doc["headings"].items()}, labels=doc["labels"],
            kinds=doc["kinds"], aliases=doc["aliases"], names=doc["names"], nuts=doc["nuts"],
        )


def duplicate_groups(texts: Sequence[str]) -> np.ndarray:
    """For each text, the index of the first text with the same normalised content."""
    first: dict[str, int] = {}
    out = np.empty(len(texts), dtype=np.int32)
    for i, t in enumerate(texts):
        out[i] = first.setdefault(" ".join(t.casefold().split()), i)
    return out


# --- dense ------------------------------------------------------------------------------------

def language_means(vectors: np.ndarray, lang_idx: np.ndarray, n_langs: int, shrinkage: float) -> np.ndarray:
    """Per-language mean vectors, shrunk towards the global mean for languages with few passages."""
    total = vectors.mean(axis=0) if len(vectors) else np.zeros(vectors.shape[1], dtype=np.float32)
    means = np.zeros((n_langs + 1, vectors.shape[1]), dtype=np.float32)
    for lang in range(n_langs):
        rows = vectors[lang_idx == lang]
        count = len(rows)
        means[lang] = (rows.sum(axis=0) + shrinkage * total) / (count + shrinkage) if count else total
    means[n_langs] = total  # languages the index has not seen
    return means


LABEL_SCHEMES = Path(__file__).resolve().parent.parent / "ontology" / "schemes"
MIN_LABELS = 30


def label_language_offsets(embedder: Embedder, data: DataDir | None, queries: bool = False) -> dict[str, np.ndarray]:
    """Each language's offset from the average language, estimated on the SKOS schemes' labels
    embedded as passages (``queries``: as queries, e5's other role).

    The schemes name the same concepts in every language, so the mean of a language's label
    vectors differs from the others by the language, not the topic (a mean over the indexed
    passages of a language is mostly the topic of its few documents). Removing the offset from
    passages and queries lets a Danish question reach an English answer. The offsets of the
    query role tell a query's language by its embedding (``Searcher.query_language``): in that
    role English's and French's offsets point elsewhere (cosine 0.12 and 0.34 to their passage
    offsets; 0.70–0.89 for the other languages).
    """
    from rdflib import Graph
    from rdflib.namespace import SKOS

    graph = Graph()
    for path in sorted(LABEL_SCHEMES.glob("*.ttl")):
        graph.parse(path, format="turtle")
    labels: dict[str, list[str]] = {}
    for _, pred, obj in graph:
        lang = getattr(obj, "language", None)
        if pred in (SKOS.prefLabel, SKOS.altLabel, SKOS.definition) and lang:
            labels.setdefault(lang.split("-")[0].lower(), []).append(str(obj))
    labels = {lang: sorted(set(texts)) for lang, texts in labels.items() if len(set(texts)) >= MIN_LABELS}
    if len(labels) < 2:
        return {}
    means = {lang: embed_passages(embedder, texts, data, queries=queries).mean(axis=0) for lang, texts in sorted(labels.items())}
    average = np.mean(list(means.values()), axis=0)
    return {lang: (mean - average).astype(np.float32) for lang, mean in means.items()}


def center(vectors: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Subtract a mean vector per row and renormalise (rows of ``means`` align with ``vectors``)."""
    out = np.asarray(vectors, dtype=np.float32) - means
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(out / norms, dtype=np.float32)


def language_directions(offsets: Mapping[str, np.ndarray], tolerance: float = 1e-3) -> np.ndarray:
    """An orthonormal basis ``(k, dim)`` of the directions in which the languages' offsets
    (:func:`label_language_offsets`) differ from one another: the span of the offsets less their
    mean, from their singular vectors (those below ``tolerance`` of the largest are dropped).
    Subtracting one offset per language moves a passage as a whole; its language still shows in
    these directions, and a cosine measured without them compares what two texts say more than
    the language they say it in (:func:`without_directions`; measured in docs/benchmarks.md).
    Empty with fewer than two languages."""
    if len(offsets) < 2:
        dim = len(next(iter(offsets.values()))) if offsets else 0
        return np.zeros((0, dim), dtype=np.float32)
    stacked = np.stack([np.asarray(offsets[code], dtype=np.float64) for code in sorted(offsets)])
    stacked -= stacked.mean(axis=0)
    _, singular, vt = np.linalg.svd(stacked, full_matrices=False)
    keep = singular > tolerance * max(float(singular[0]), 1e-12)
    return np.ascontiguousarray(vt[keep], dtype=np.float32)


def without_directions(vectors: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """``vectors`` (rows, or one vector) with their components along ``basis`` (orthonormal rows)
    removed, renormalised; unchanged when ``basis`` is empty."""
    out = np.asarray(vectors, dtype=np.float32)
    if not len(basis):
        return out
    out = out - (out @ basis.T) @ basis
    norms = np.linalg.norm(out, axis=-1, keepdims=True)
    return out / np.where(norms == 0, 1.0, norms)


def build_dense(vectors: np.ndarray, params: IndexParams) -> tuple[Any, str]:
    """A FAISS inner-product index: flat up to ``exact_max`` vectors, else HNSW or IVF."""
    import faiss

    n, dim = vectors.shape
    if n <= params.exact_max:
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index, "flat"
    if params.ann == "ivf":
        nlist = int(4 * np.sqrt(n))
        quantizer = faiss.IndexFlatIP(dim)
        ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = vectors[np.random.default_rng(0).choice(n, size=min(n, nlist * 40), replace=False)]
        ivf.train(sample)
        ivf.add(vectors)
        ivf.nprobe = params.ivf_nprobe
        return ivf, f"ivf{nlist}"
    hnsw = faiss.IndexHNSWFlat(dim, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = params.ef_construction
    hnsw.hnsw.efSearch = params.ef_search
    hnsw.add(vectors)
    return hnsw, "hnsw"


@dataclass
class DenseIndex:
    """FAISS index + the vectors it holds (memory-mapped) for exact search inside filters."""

    index: Any  # None when loaded flat: numpy searches the memory-mapped vectors
    vectors: np.ndarray
    kind: str
    params: IndexParams

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (ids, scores) among the allowed passages (a boolean mask, None = all).

        A filter is applied inside retrieval: exact over the allowed vectors when the index is
        flat or the filter is narrow, FAISS's ID selector otherwise, falling back to exact when
        the ANN search returns fewer than ``k`` allowed passages.
        """
        n = len(self.vectors)
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if allowed is None:
            if self.kind == "flat":
                return self._exact(q[0], None, k)
            scores, ids = self.index.search(q, k)
            keep = ids[0] >= 0
            return ids[0][keep], scores[0][keep]
        ids_allowed = np.flatnonzero(allowed)
        k = min(k, len(ids_allowed))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self.kind == "flat" or len(ids_allowed) <= 50_000:
            return self._exact(q[0], ids_allowed, k)
        import faiss

        fx: Any = faiss
        bitmap = np.packbits(allowed, bitorder="little")
        selector = fx.IDSelectorBitmap(n, fx.swig_ptr(bitmap))
        if self.kind == "hnsw":
            sp: Any = fx.SearchParametersHNSW(sel=selector, efSearch=max(self.params.ef_search, k))
        else:
            sp = fx.SearchParametersIVF(sel=selector, nprobe=self.params.ivf_nprobe)
        scores, ids = self.index.search(q, k, params=sp)
        keep = ids[0] >= 0
        if keep.sum() < k:
            return self._exact(q[0], ids_allowed, k)
        return ids[0][keep], scores[0][keep]

    def _exact(self, q: np.ndarray, ids: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
        if ids is None:
            scores = self.vectors @ q
            ids = np.arange(len(scores))
        else:
            scores = self.vectors[ids] @ q
        return top_k(ids, scores, k)

    def scores_of(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Exact scores of given passages."""
        return np.asarray(self.vectors[np.sort(ids)] @ query, dtype=np.float32)[np.argsort(np.argsort(ids))]


def top_k(ids: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best (ids, scores), best first."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    order = part[np.argsort(-scores[part], kind="stable")]
    return np.asarray(ids)[order], np.asarray(scores[order], dtype=np.float32)


# --- lexical ----------------------------------------------------------------------------------

@dataclass
class Bm25Scores:
    """A saved bm25s index read directly, its score arrays memory-mapped.

    bm25s keeps every token's precomputed BM25 contributions as one CSC column; a query's score
    is their sum (what ``bm25s.BM25.get_scores`` computes). Reading the files ourselves keeps
    bm25s, and the scipy it imports, out of every process that only searches (the explorer's
    cold start).
    """

    vocab_dict: dict[str, int]
    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    num_docs: int
    nonoccurrence: np.ndarray | None = None

    @classmethod
    def load(cls, folder: Path) -> Bm25Scores:
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        nonoccurrence = folder / "nonoccurrence_array.index.npy"  # BM25L / BM25+ only
        return cls(
            vocab_dict=json.loads((folder / "vocab.index.json").read_text(encoding="utf-8")),
            data=np.load(folder / "data.csc.index.npy", mmap_mode="r"),
            indices=np.load(folder / "indices.csc.index.npy", mmap_mode="r"),
            indptr=np.load(folder / "indptr.csc.index.npy", mmap_mode="r"),
            num_docs=int(params["num_docs"]),
            nonoccurrence=np.load(nonoccurrence) if nonoccurrence.exists() else None,
        )

    def _columns(self, tokens: list[str]) -> list[int]:
        """The score columns of the known tokens, repeats kept (bm25s's vocabulary also holds "",
        which has no column)."""
        columns = len(self.indptr) - 1
        return [i for t in tokens if (i := self.vocab_dict.get(t, columns)) < columns]

    def get_scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage for the tokens (unknown tokens ignored, repeats count twice)."""
        ids = self._columns(tokens)
        scores = np.zeros(self.num_docs, dtype=self.data.dtype)
        for token in ids:
            start, end = int(self.indptr[token]), int(self.indptr[token + 1])
            np.add.at(scores, self.indices[start:end], self.data[start:end])
        if self.nonoccurrence is not None and ids:
            scores += self.nonoccurrence[ids].sum()
        return scores

    def matching(self, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the passages holding at least one of the tokens: the same scores as
        :meth:`get_scores`, without an array over every passage (at 1M passages, scoring,
        masking and cutting that array cost ~5 ms a query)."""
        ids = self._columns(tokens)
        spans = [(int(self.indptr[i]), int(self.indptr[i + 1])) for i in ids]
        if not spans:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        rows = np.concatenate([self.indices[a:b] for a, b in spans])
        values = np.concatenate([self.data[a:b] for a, b in spans]).astype(np.float64)
        unique, inverse = np.unique(rows, return_inverse=True)
        scores: np.ndarray = np.bincount(inverse, weights=values, minlength=len(unique)).astype(np.float64)
        if self.nonoccurrence is not None:
            scores = scores + float(self.nonoccurrence[ids].sum())
        return unique.astype(np.int64), scores.astype(np.float32)


@dataclass
class LexicalIndex:
    """BM25 over language-aware tokens; scores computed for all passages, masked, then cut."""

    bm25: Any  # Bm25Scores when loaded, bm25s.BM25 right after building
    analyzer: Any  # search.lexical.Analyzer

    def search(self, tokens: list[str], k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        vocab = self.bm25.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if isinstance(self.bm25, Bm25Scores):
            rows, scores = self.bm25.matching(known)
            if allowed is not None:
                keep_rows = allowed[rows]
                rows, scores = rows[keep_rows], scores[keep_rows]
        else:
            scores = np.asarray(self.bm25.get_scores(known), dtype=np.float32)
            if allowed is not None:
                scores = np.where(allowed, scores, 0.0).astype(np.float32)
            rows = np.arange(len(scores))
        ids, top = top_k(rows, scores, k)
        keep = top > 0
        return ids[keep], top[keep]


def build_lexical(texts: Sequence[str], langs: Sequence[str], params: IndexParams) -> tuple[Any, list[str]]:
    """A bm25s index over the passages' tokens, and the decompounding vocabulary learnt."""
    import bm25s

    from search.lexical import Analyzer, learn_known_words

    known = learn_known_words(texts)
    analyzer = Analyzer(known)
    corpus = [analyzer.tokens(t, lang) or ["∅"] for t, lang in zip(texts, langs, strict=True)]
    bm25 = bm25s.BM25(k1=params.bm25_k1, b=params.bm25_b)
    bm25.index(corpus, show_progress=False)
    return bm25, known


# --- the whole index ------------------------------------------------------------------------

@dataclass
class PracticeEntry:
    iri: str
    label: str
    description: str
    text: str
    practice_types: list[str]
    regions: list[str]  # with ancestors
    projects: list[str]
    passages: list[str]


@dataclass
class SearchIndex:
    """A loaded, read-only index: dense + lexical + table (+ practices)."""

    folder: Path
    meta: dict[str, Any]
    dense: DenseIndex
    lexical: LexicalIndex
    table: PassageTable
    lang_means: np.ndarray | None
    practices: list[PracticeEntry] = field(default_factory=list)
    lang_offsets: dict[str, np.ndarray] = field(default_factory=dict)
    query_lang_offsets: dict[str, np.ndarray] = field(default_factory=dict)  # the same, queries' role; {} in older indexes
    practice_vectors: np.ndarray | None = None
    window_vectors: np.ndarray | None = None  # sentence windows of prose passages (search/windows.py)
    window_start: np.ndarray | None = None
    hubness: np.ndarray | None = None  # r(p) of each passage (search/hubness.py); None in older indexes
    token_states: TokenStates | None = None  # prose passages' token states (search/late.py); None in older indexes
    reference: LanguageReference | None = None  # the language reference (search/reference.py); None in older indexes
    token_basis: np.ndarray | None = None  # over the token budget: the basis searches compute states in (OnDemandTokenStates)

    @property
    def params(self) -> IndexParams:
        return self.dense.params

    @property
    def over_budget(self) -> bool:
        """Over its token budget: no stored token states, a basis for searches to compute them in."""
        return self.token_states is None and self.token_basis is not None

    @cached_property
    def language_directions(self) -> np.ndarray:
        """The directions in which the index's language offsets differ (:func:`language_directions`;
        empty for an index without them)."""
        return language_directions(self.lang_offsets)

    def center_query(self, vector: np.ndarray, lang: str) -> np.ndarray:
        """Remove the query language's mean vector (when the index was built with centring)."""
        if lang in self.lang_offsets:
            return center(vector.reshape(1, -1), self.lang_offsets[lang].reshape(1, -1))[0]
        if self.lang_means is None:
            return vector
        langs = self.table.langs
        row = langs.index(lang) if lang in langs else len(langs)
        return center(vector.reshape(1, -1), self.lang_means[row : row + 1])[0]


def _versions() -> dict[str, str]:
    import bm25s
    import faiss

    return {"faiss": faiss.__version__, "bm25s": bm25s.__version__, "numpy": np.__version__, "format": str(FORMAT)}


def write_index(
    folder: Path,
    *,
    model: str,
    generation: int,
    vectors: np.ndarray,
    texts: Sequence[str],
    table: PassageTable,
    params: IndexParams,
    practices: Sequence[PracticeEntry] = (),
    practice_vectors: np.ndarray | None = None,
    extra_meta: dict[str, Any] | None = None,
    language_offsets: dict[str, np.ndarray] | None = None,
    query_language_offsets: dict[str, np.ndarray] | None = None,
    window_vectors: np.ndarray | None = None,
    window_start: np.ndarray | None = None,
    token_states: TokenStates | None = None,
    reference: LanguageReference | None = None,
    token_basis: np.ndarray | None = None,
) -> dict[str, Any]:
    """Build and persist dense, lexical and table parts into ``folder`` (replaced atomically);
    ``reference``: the language reference for the re-ranker (search/reference.py);
    ``token_basis``: without ``token_states`` (a corpus over the token budget), the basis that
    searches compute their candidates' states in (search/late.py, OnDemandTokenStates)."""
    import faiss

    from search.lexical import stopword_lists

    started = time.perf_counter()
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    means = None
    if params.center_languages and len(vectors) and language_offsets:
        codes = sorted(language_offsets)
        zero = np.zeros((1, vectors.shape[1]), dtype=np.float32)
        offsets = np.concatenate([np.stack([language_offsets[c] for c in codes]), zero])
        rows = np.array([codes.index(lang) if lang in codes else len(codes) for lang in table.langs] + [len(codes)])
        means = offsets[rows]  # aligned with table.langs, last row: unknown language
        vectors = center(vectors, means[table.lang_idx])
        if window_vectors is not None and window_start is not None and len(window_vectors):
            owner = np.repeat(np.arange(len(table)), np.diff(window_start))
            window_vectors = center(window_vectors, means[table.lang_idx[owner]])
        np.save(tmp / "lang_means.npy", means)
        np.save(tmp / "lang_offsets.npy", offsets)
        (tmp / "lang_offsets.json").write_text(json.dumps(codes), encoding="utf-8")
        if query_language_offsets:
            as_queries = [query_language_offsets.get(c, language_offsets[c]) for c in codes]
            np.save(tmp / "query_lang_offsets.npy", np.stack(as_queries).astype(np.float32))
    elif params.center_languages and len(vectors):
        means = language_means(vectors, table.lang_idx, len(table.langs), params.center_shrinkage)
        vectors = center(vectors, means[table.lang_idx])
        if window_vectors is not None and window_start is not None and len(window_vectors):
            owner = np.repeat(np.arange(len(table)), np.diff(window_start))
            window_vectors = center(window_vectors, means[table.lang_idx[owner]])
        np.save(tmp / "lang_means.npy", means)
        if practice_vectors is not None and len(practice_vectors):
            practice_vectors = center(practice_vectors, np.repeat(means[-1:], len(practice_vectors), axis=0))
    if reference is not None:
        reference.save(tmp)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    np.save(tmp / "vectors.npy", vectors)
    t0 = time.perf_counter()
    np.save(tmp / "hubness.npy", hub_scores(vectors, table.lang_idx))
    hubness_s = time.perf_counter() - t0
    if window_vectors is not None and window_start is not None and len(window_vectors):
        np.save(tmp / "window_vectors.npy", np.ascontiguousarray(window_vectors, dtype=np.float32))
        np.save(tmp / "window_start.npy", np.asarray(window_start, dtype=np.int64))
    t0 = time.perf_counter()
    dense, kind = build_dense(vectors, params)
    faiss.write_index(dense, str(tmp / "dense.faiss"))
    dense_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    bm25, known = build_lexical(texts, [table.lang(i) for i in range(len(table))], params)
    bm25.save(str(tmp / "bm25"), show_progress=False)
    (tmp / "known_words.json").write_text(json.dumps(known, ensure_ascii=False), encoding="utf-8")
    (tmp / "stopwords.json").write_text(json.dumps(stopword_lists(), ensure_ascii=False), encoding="utf-8")
    lexical_s = time.perf_counter() - t0
    table.save(tmp)
    if token_states is not None:
        token_states.save(tmp)
    elif token_basis is not None:
        np.save(tmp / "token_basis.npy", np.asarray(token_basis, dtype=np.float32))
    if practices:
        (tmp / "practices.json").write_text(json.dumps([asdict(p) for p in practices], ensure_ascii=False), encoding="utf-8")
        np.save(tmp / "practice_vectors.npy", np.asarray(practice_vectors, dtype=np.float32))
    meta = {
        "format": FORMAT,
        "model": model,
        "dim": int(vectors.shape[1]) if vectors.ndim == 2 else 0,
        "count": len(table),
        "generation": generation,
        "index_type": kind,
        "params": asdict(params),
        "versions": _versions(),
        "languages": table.langs,
        "practices": len(practices),
        "windows": 0 if window_vectors is None else len(window_vectors),
        "token_states": 0 if token_states is None else len(token_states.tokens),
        "token_states_on_demand": token_states is None and token_basis is not None,
        "reference_languages": [] if reference is None else reference.langs,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": {"dense": round(dense_s, 3), "lexical": round(lexical_s, 3), "hubness": round(hubness_s, 3), "total": round(time.perf_counter() - started, 3)},
        **(extra_meta or {}),
    }
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    return meta


def load_index(folder: Path, model: str | None = None, generation: int | None = None) -> SearchIndex:
    """Open a persisted index (read-only, vectors and BM25 arrays memory-mapped); refuse another model or generation.

    A flat (exact) index is searched with numpy over the memory-mapped vectors, so its FAISS
    file is not read: that would be a second copy of every vector in memory (300 MB at the
    200k-passage threshold) and the import of FAISS in every searching process."""
    from search.lexical import Analyzer

    meta_path = folder / "meta.json"
    if not meta_path.exists():
        raise IndexMismatchError(f"no search index in {folder}; run `regiograph reindex`")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise IndexMismatchError(f"the search index in {folder} has format {meta.get('format')}, this version reads {FORMAT}; run `regiograph reindex`")
    if model is not None and meta["model"] != model:
        raise IndexMismatchError(
            f"the search index was built with {meta['model']!r} but the embedder is {model!r}; "
            "run `regiograph reindex` to rebuild it with the current model"
        )
    if generation is not None and meta["generation"] != generation:
        raise IndexMismatchError(f"the search index belongs to generation {meta['generation']}, not {generation}; run `regiograph reindex`")
    params = IndexParams(**meta["params"])
    vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    index: Any = None
    if meta["index_type"] != "flat":
        import faiss

        index = faiss.read_index(str(folder / "dense.faiss"))
    if meta["index_type"] == "hnsw":
        index.hnsw.efSearch = params.ef_search
    elif meta["index_type"].startswith("ivf"):
        index.nprobe = params.ivf_nprobe
    bm25 = Bm25Scores.load(folder / "bm25")
    known = json.loads((folder / "known_words.json").read_text(encoding="utf-8"))
    stop_path = folder / "stopwords.json"  # absent from indexes built before it was saved: bm25s's lists
    stop_lists = json.loads(stop_path.read_text(encoding="utf-8")) if stop_path.exists() else None
    means = np.load(folder / "lang_means.npy") if (folder / "lang_means.npy").exists() else None
    lang_offsets: dict[str, np.ndarray] = {}
    query_lang_offsets: dict[str, np.ndarray] = {}
    if (folder / "lang_offsets.json").exists():
        codes = json.loads((folder / "lang_offsets.json").read_text(encoding="utf-8"))
        stacked = np.load(folder / "lang_offsets.npy")
        lang_offsets = {code: stacked[i] for i, code in enumerate(codes)}
        if (folder / "query_lang_offsets.npy").exists():  # absent from indexes built before 3 Dec (session 11)
            as_queries = np.load(folder / "query_lang_offsets.npy")
            query_lang_offsets = {code: as_queries[i] for i, code in enumerate(codes)}
    practices: list[PracticeEntry] = []
    practice_vectors = None
    if (folder / "practices.json").exists():
        practices = [PracticeEntry(**p) for p in json.loads((folder / "practices.json").read_text(encoding="utf-8"))]
        practice_vectors = np.load(folder / "practice_vectors.npy")
    hubness = np.load(folder / "hubness.npy") if (folder / "hubness.npy").exists() else None
    window_vectors = window_start = None
    if (folder / "window_vectors.npy").exists():
        window_vectors = np.load(folder / "window_vectors.npy", mmap_mode="r")
        window_start = np.load(folder / "window_start.npy")
    token_states = TokenStates.load(folder)
    return SearchIndex(
        folder=folder,
        meta=meta,
        dense=DenseIndex(index, vectors, meta["index_type"], params),
        lexical=LexicalIndex(bm25, Analyzer(known, stop_lists)),
        table=PassageTable.load(folder),
        lang_means=means,
        lang_offsets=lang_offsets,
        query_lang_offsets=query_lang_offsets,
        practices=practices,
        practice_vectors=practice_vectors,
        window_vectors=window_vectors,
        window_start=window_start,
        hubness=hubness,
        token_states=token_states,
        reference=LanguageReference.load(folder),
        token_basis=np.load(folder / "token_basis.npy") if token_states is None and (folder / "token_basis.npy").exists() else None,
    )


# --- from the graph ---------------------------------------------------------------------------

def _closure(pairs: Iterable[tuple[str, str]]) -> Callable[[str], set[str]]:
    """A function giving a node's ancestors (transitive skos:broader), itself excluded."""
    up: dict[str, set[str]] = {}
    for a, b in pairs:
        up.setdefault(a, set()).add(b)
    memo: dict[str, set[str]] = {}

    def ancestors(node: str, seen: frozenset[str] = frozenset()) -> set[str]:
        if node in memo:
            return memo[node]
        out: set[str] = set()
        for parent in up.get(node, ()):
            if parent in seen:
                continue
            out.add(parent)
            out |= ancestors(parent, seen | {node})
        memo[node] = out
        return out

    return ancestors


def table_from_graph(store: GraphStore) -> tuple[PassageTable, list[str], list[PracticeEntry]]:
    """The passage table (and texts, practices) of a graph, from kg.queries / kg.facets rows."""
    from kg import facets as kgf
    from kg.queries import all_passages

    rows = all_passages(store)
    iris = [r.iri for r in rows]
    row_of = {iri: i for i, iri in enumerate(iris)}
    texts = [r.text for r in rows]
    docs: dict[str, int] = {}
    doc_list: list[tuple[str, str]] = []
    for r in rows:
        if r.document not in docs:
            docs[r.document] = len(doc_list)
            doc_list.append((r.document, r.source))
    langs = sorted({r.lang for r in rows})
    lang_of = {lang: i for i, lang in enumerate(langs)}

    kinds = kgf.kinds(store)
    ancestors = _closure(kgf.broader_pairs(store))
    codes = kgf.region_codes(store)

    def region_up(region: str) -> set[str]:
        out = {region} | ancestors(region)
        code = codes.get(region, ("", ""))[0] or (region[len(NUTS_NS):] if region.startswith(NUTS_NS) else "")
        if code:
            out |= {NUTS_NS + c for c in kgf.nuts_ancestors(code)}
        return out

    def countries_of(regions: Iterable[str]) -> set[str]:
        out = set()
        for region in regions:
            code, cc = codes.get(region, ("", ""))
            if not code and region.startswith(NUTS_NS):
                code = region[len(NUTS_NS):]
            if cc:
                out.add(cc.upper())
            elif len(code) >= 2:
                out.add(_ISO_OF_NUTS.get(code[:2].upper(), code[:2].upper()))
        return out

    n = len(rows)
    regions: list[set[str]] = [set() for _ in range(n)]
    instruments: list[set[str]] = [set() for _ in range(n)]
    ptypes: list[set[str]] = [set() for _ in range(n)]
    projects: list[set[str]] = [set() for _ in range(n)]
    entities: list[set[str]] = [set() for _ in range(n)]
    year = np.zeros(n, dtype=np.int16)
    budget = np.full(n, np.nan, dtype=np.float64)
    operation = np.zeros(n, dtype=bool)

    practice_facts = kgf.practices(store)
    project_facts = kgf.projects(store)
    for passage, entity, kind in kgf.entity_mentions(store):
        i = row_of.get(passage)
        if i is None:
            continue
        entities[i].add(entity)
        if kind == "Region":
            regions[i] |= region_up(entity)
        elif kind == "Instrument":
            instruments[i] |= {entity} | ancestors(entity)
        elif kind == "Project":
            projects[i].add(entity)
        elif kind == "Practice" and entity in practice_facts:
            for t in practice_facts[entity].practice_types:
                ptypes[i] |= {t} | ancestors(t)

    # Operations: one passage per row of a list; the project is linked by rg:mentionedIn or by
    # its dcterms:source "FILE#row=N".
    by_source = {src: proj for proj, facts in project_facts.items() for src in facts.sources}
    for passage, source, number in kgf.operation_rows(store):
        i = row_of.get(passage)
        if i is None:
            continue
        operation[i] = True
        linked = {p for p in entities[i] if kinds.get(p) == "Project"}
        via_row = by_source.get(f"{source}#row={number}")
        if via_row:
            linked.add(via_row)
        for proj in linked:
            facts = project_facts.get(proj)
            projects[i].add(proj)
            entities[i].add(proj)
            if facts is None:
                continue
            for region in facts.regions:
                regions[i] |= region_up(region)
                entities[i].add(region)
            for inst in facts.instruments:
                instruments[i] |= {inst} | ancestors(inst)
                entities[i].add(inst)
            if facts.year:
                year[i] = facts.year
            if facts.budget is not None:
                budget[i] = facts.budget
    countries = [countries_of(r) for r in regions]

    # Labels: display labels (English first) and aliases of every value that can be filtered on
    # or named in a query.
    wanted = set().union(*entities, *regions, *instruments, *ptypes, *projects) if n else set()
    labels: dict[str, str] = {}
    names: dict[str, list[str]] = {}
    aliases: dict[str, list[str]] = {}
    rank: dict[str, int] = {}
    for lab in kgf.labels(store):
        if lab.iri not in wanted and kinds.get(lab.iri) is None:
            continue
        score = (2 if lab.pref else 0) + (1 if lab.lang in ("en", "") else 0)
        if lab.iri not in labels or score > rank[lab.iri]:
            labels[lab.iri], rank[lab.iri] = lab.text, score
        names.setdefault(lab.iri, [])
        if lab.text not in names[lab.iri]:
            names[lab.iri].append(lab.text)
        key = norm_label(lab.text)
        if key and lab.iri not in aliases.setdefault(key, []):
            aliases[key].append(lab.iri)
    for region, (code, _) in codes.items():
        if code:
            aliases.setdefault(norm_label(code), [])
            if region not in aliases[norm_label(code)]:
                aliases[norm_label(code)].append(region)
    nuts = {r: c for r, (c, _) in codes.items() if c}

    practices: list[PracticeEntry] = []
    for pf in sorted(practice_facts.values(), key=lambda f: f.iri):
        text = ". ".join(x for x in [pf.label, pf.description, *pf.evidence] if x)
        if not text:
            continue
        project_regions = set().union(*(project_facts[p].regions for p in pf.projects if p in project_facts)) if pf.projects else set()
        practice_regions = set().union(*(region_up(r) for r in pf.regions | project_regions)) if (pf.regions or project_regions) else set()
        practices.append(PracticeEntry(
            iri=pf.iri, label=pf.label, description=pf.description, text=text,
            practice_types=sorted(pf.practice_types), regions=sorted(practice_regions),
            projects=sorted(pf.projects), passages=pf.passages,
        ))
        labels.setdefault(pf.iri, pf.label)

    headings = kgf.passage_headings(store)
    table = PassageTable(
        iris=iris,
        doc_idx=np.asarray([docs[r.document] for r in rows], dtype=np.int32),
        docs=doc_list,
        lang_idx=np.asarray([lang_of[r.lang] for r in rows], dtype=np.int16),
        langs=langs,
        facets={
            "regions": Facet.from_sets(regions), "countries": Facet.from_sets(countries),
            "instruments": Facet.from_sets(instruments), "practice_types": Facet.from_sets(ptypes),
            "projects": Facet.from_sets(projects), "entities": Facet.from_sets(entities),
        },
        year=year,
        budget=budget,
        dup=duplicate_groups(texts),
        offsets=np.asarray([[r.start, r.end] for r in rows], dtype=np.int64).reshape(-1, 2),
        operation=operation,
        headings={row_of[p]: h for p, h in headings.items() if p in row_of},
        labels=labels,
        kinds={k: v for k, v in kinds.items() if k in wanted or v == "Practice"},
        aliases=aliases,
        names={k: v for k, v in names.items() if k in wanted},
        nuts=nuts,
    )
    return table, texts, practices


def embed_passages(
    embedder: Embedder, texts: Sequence[str], data: DataDir | None, progress: Callable[[int], None] | None = None, queries: bool = False
) -> np.ndarray:
    """Passage vectors (``queries``: the texts embedded as queries), through the embedding cache
    of the data directory when there is one."""
    if data is None:
        vectors = embedder.embed_queries(list(texts)) if queries else embedder.embed_passages(list(texts), progress=progress)
        return np.asarray(vectors, dtype=np.float32)
    from search.vector_cache import VectorCache, embed_with_cache

    with VectorCache(data.cache / "vectors.sqlite") as cache:
        return np.asarray(embed_with_cache(embedder, list(texts), cache, progress, queries=queries), dtype=np.float32)


def describe_index(folder: Path | None) -> dict[str, Any] | None:
    """What a search index holds, from its ``meta.json`` and its files (None when there is no
    index): model, passages, kind of dense index, sentence vectors, practices, whether token-level
    re-ranking is on (and why not), the languages of its language reference, bytes on disk."""
    if folder is None or not (folder / "meta.json").exists():
        return None
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    tokens = int(meta.get("token_states") or 0)
    return {
        "generation": meta.get("generation"),
        "model": meta.get("model"),
        "passages": meta.get("count"),
        "dense": meta.get("index_type"),
        "languages": meta.get("languages", []),
        "sentences": int(meta.get("windows") or 0),
        "practices": int(meta.get("practices") or 0),
        "token_reranking": tokens > 0,
        "token_states": tokens,
        "token_states_on_demand": bool(meta.get("token_states_on_demand")),
        "token_states_max": (meta.get("params") or {}).get("token_states_max"),
        "note": meta.get("token_states_note", ""),
        "reference_languages": meta.get("reference_languages"),  # None: built before the language reference
        "bytes": sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()),
        "created": meta.get("created"),
    }


def token_budget_note(texts: Sequence[str], wanted: np.ndarray, max_tokens: int | None) -> str:
    """Why the wanted passages' token states are not kept (over ``max_tokens``); "" when they fit."""
    from search.late import passage_token_counts

    if max_tokens is None:
        return ""
    total = sum(passage_token_counts([texts[int(i)] for i in np.flatnonzero(wanted)]))
    if total <= max_tokens:
        return ""
    from search.late import CACHE_TOKEN_BYTES, INDEX_TOKEN_BYTES

    return (
        f"no stored token states: the prose passages hold {total:,} tokens, over the limit of {max_tokens:,}, "
        f"so each search computes its candidates' states for the re-ranking as it runs (1–2 s a search on 2 cores; "
        f"REGIOGRAPH_RERANK_ON_DEMAND=0: the best sentences alone re-rank the top results); for fast searches raise REGIOGRAPH_RERANK_TOKENS "
        f"above {total:,} where the disk allows ({total * INDEX_TOKEN_BYTES / 1e9:.1f} GB in the index, "
        f"{total * CACHE_TOKEN_BYTES / 1e9:.1f} GB in the cache) and run `regiograph reindex`"
    )


def embed_jointly(
    embedder: Embedder,
    texts: Sequence[str],
    wanted: np.ndarray,
    data: DataDir,
    progress: Callable[[int], None] | None = None,
    basis: np.ndarray | None = None,
) -> int:
    """Vectors and token states of the wanted passages that the cache holds neither of, from one
    run of the model each, into the cache (an embedder with ``embed_passages_with_states``, the
    default ONNX engine; others: nothing to do). The two separate runs, a vector's and the
    re-ranker's states', cost 1.9× as much for the same outputs (docs/benchmarks.md). Returns
    how many of the wanted rows it embedded; ``progress`` gets two steps for each (a vector
    and its states), so the caller's later cache hits must not count them again. ``basis``: the
    states are cached projected onto it (search/late.py, compact token states)."""
    joint = getattr(embedder, "embed_passages_with_states", None)
    if joint is None or not wanted.any():
        return 0
    from search.late import cache_name, project
    from search.vector_cache import CHUNK, VectorCache, text_key

    states_name = cache_name(basis)

    rows = [int(i) for i in np.flatnonzero(wanted)]
    keys = {i: text_key(texts[i]) for i in rows}
    with VectorCache(data.cache / "vectors.sqlite") as cache:
        unique = list(dict.fromkeys(keys.values()))
        known = cache.present(embedder.name, unique) | cache.present(states_name, unique)
        todo: dict[str, str] = {}
        for i in rows:
            if keys[i] not in known:
                todo.setdefault(keys[i], texts[i])
        done_keys: set[str] = set()
        items = list(todo.items())
        for start in range(0, len(items), CHUNK):  # committed a chunk at a time: a killed ingest keeps them
            chunk = items[start : start + CHUNK]
            found = joint([text for _, text in chunk])
            vectors = {key: f[0] for (key, _), f in zip(chunk, found, strict=True) if f is not None}
            cache.put_many(embedder.name, vectors.items())
            states = ((key, f[1] if basis is None else project(f[1], basis)) for (key, _), f in zip(chunk, found, strict=True) if f is not None)
            cache.put_many(states_name, states, dtype=np.float16)
            done_keys.update(vectors)
            if progress is not None:
                progress(2 * sum(1 for i in rows if keys[i] in vectors))
    return sum(1 for i in rows if keys[i] in done_keys)


def _skipping(progress: Callable[[int], None] | None, count: int) -> Callable[[int], None] | None:
    """``progress`` without its first ``count`` steps (already reported by :func:`embed_jointly`)."""
    if progress is None or count <= 0:
        return progress
    left = [count]

    def report(steps: int) -> None:
        taken = min(left[0], steps)
        left[0] -= taken
        if steps > taken:
            progress(steps - taken)

    return report


def build_reference(langs: Sequence[str], data: DataDir | None, basis: np.ndarray | None = None) -> LanguageReference | None:
    """The language reference (search/reference.py) for an index's languages: their reference
    sentences' token states (compact in the space of ``basis``, as the passages' are), through
    the cache (20 sentences a language, ~1 s for the first ingest of a language); None when no
    language of the index has sentences."""
    from search.reference import sentences_for

    codes, texts, owner = sentences_for(langs)
    if not texts:
        return None
    tokens, _ = passage_token_states(texts, np.ones(len(texts), dtype=bool), data, basis=basis)
    return None if tokens is None else LanguageReference(codes, owner, tokens)


def token_basis(data: DataDir | None) -> np.ndarray:
    """The basis of compact token states (search/late.py, :func:`~search.late.fit_basis`): fitted
    on the full-width token states of every language's reference sentences (search/reference.py;
    ~10k tokens in 25 languages, through the cache: ~10 s once per data directory, then a few
    ms), so it depends on the model and the sentences alone, never on the corpus, and cached
    states stay valid from one ingest to the next."""
    from search.late import CACHE_NAME, fit_basis
    from search.reference import all_sentences, sentences_for
    from search.vector_cache import text_key

    _, texts, _ = sentences_for(sorted(all_sentences()))
    key = text_key(CACHE_NAME + "\n" + "\n".join(texts))
    with _BASES_LOCK:
        if key not in _BASES:  # once a process: the same model and sentences give the same basis
            states, _ = passage_token_states(texts, np.ones(len(texts), dtype=bool), data)
            assert states is not None  # no budget given: never over it
            _BASES[key] = fit_basis(np.asarray(states.tokens, dtype=np.float32))
        return _BASES[key]


_BASES: dict[str, np.ndarray] = {}  # token_basis's results (a cached resource)
_BASES_LOCK = threading.Lock()


def passage_token_states(
    texts: Sequence[str],
    wanted: np.ndarray,
    data: DataDir | None,
    progress: Callable[[int], None] | None = None,
    max_tokens: int | None = None,
    basis: np.ndarray | None = None,
) -> tuple[TokenStates | None, str]:
    """Token states of the wanted passages for the re-ranker, through the data directory's
    cache, compact in the space of ``basis`` when given (search/late.py); ``(None, why)`` when
    they would hold more than ``max_tokens`` tokens."""
    from search.late import CACHE_NAME, HIDDEN, build_token_states, cache_name, project

    why = token_budget_note(texts, wanted, max_tokens)
    if why:
        if progress is not None:
            progress(int(np.count_nonzero(wanted)))
        return None, why
    if data is None:
        return build_token_states(texts, wanted, progress=progress, basis=basis), ""
    from search.vector_cache import VectorCache

    name = cache_name(basis)
    with VectorCache(data.cache / "vectors.sqlite") as cache:

        def cached(keys: list[str]) -> dict[str, np.ndarray]:
            """The states cached in ``basis``'s space, and those cached at full width (an ingest
            before compact states, the basis's own sentences) projected rather than encoded again."""
            found = cache.get_many(name, keys, dtype=np.float16)
            if basis is not None:
                for key, full in cache.get_many(CACHE_NAME, [k for k in keys if k not in found], dtype=np.float16).items():
                    found[key] = project(full.reshape(-1, HIDDEN), basis).astype(np.float16)
            return found

        return build_token_states(
            texts,
            wanted,
            cache_get=cached,
            cache_put=lambda items: cache.put_many(name, items.items(), dtype=np.float16),
            progress=progress,
            basis=basis,
        ), ""


def build_index(
    store: GraphStore,
    data: DataDir,
    settings: Settings,
    generation: int,
    progress: ProgressFn | None = None,
    params: IndexParams | None = None,
) -> None:
    """Build the search index of a generation from its store (called by ingest before publishing)."""
    from search.embedders import make_embedder

    params = params or IndexParams(token_states_max=settings.rerank_tokens_max)
    started = time.perf_counter()
    folder = data.index_dir(generation)
    if folder is None:  # pragma: no cover - a number is always given
        raise StoreError("no generation to index")
    table, texts, practices = table_from_graph(store)
    embedder = make_embedder(settings.embedder)
    done = 0
    from search.windows import build_windows

    prose = ~np.asarray(table.operation, dtype=bool)
    windows = build_windows(texts, prose)
    total = len(texts) + len(windows.texts) + int(prose.sum())

    def report(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            from ingest.pipeline import Progress

            progress(Progress("index", done, total, total, time.perf_counter() - started))

    # prose passages whose token states the index will keep: their vectors and states in one run
    over_budget = token_budget_note(texts, prose, params.token_states_max)  # counts every prose token: once
    basis = token_basis(data) if prose.any() else None  # over the budget too: searches compute states in it
    joint = 0 if over_budget else embed_jointly(embedder, texts, prose, data, report, basis)
    vectors = embed_passages(embedder, texts, data, _skipping(report, joint)) if texts else np.zeros((0, embedder.dim), dtype=np.float32)
    window_vectors = embed_passages(embedder, windows.texts, data, report) if windows.texts else None
    practice_vectors = embed_passages(embedder, [p.text for p in practices], data) if practices else None
    if over_budget:
        report(int(prose.sum()))
        token_states, token_note = None, over_budget
    else:
        token_states, token_note = passage_token_states(texts, prose, data, _skipping(report, joint), basis=basis)
    reference = build_reference(table.langs, data, basis) if basis is not None else None  # serves the token re-ranking only
    write_index(
        folder,
        model=embedder.name,
        generation=generation,
        vectors=vectors,
        texts=texts,
        table=table,
        params=params,
        practices=practices,
        practice_vectors=practice_vectors,
        language_offsets=label_language_offsets(embedder, data) if params.center_languages else None,
        query_language_offsets=label_language_offsets(embedder, data, queries=True) if params.center_languages else None,
        window_vectors=window_vectors,
        window_start=windows.start,
        token_states=token_states,
        reference=reference,
        token_basis=basis,
        extra_meta={"token_states_note": token_note} if token_note else None,
    )
